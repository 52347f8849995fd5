import { describe, expect, it } from 'vitest';
import { describePorts, formatPorts, parsePorts, toRanges } from './ports.ts';

const errorsOf = (value: unknown) => parsePorts(value).errors;

describe('resources.ports: what is accepted', () => {
  it('an int, "N", "A-B", or a list of these → sorted ranges and ports', () => {
    expect(parsePorts(8080)).toEqual({ ranges: [{ from: 8080, to: 8080 }], ports: [8080], errors: [] });
    expect(parsePorts('8080').ports).toEqual([8080]);
    expect(parsePorts('9000-9002').ports).toEqual([9000, 9001, 9002]);
    const list = parsePorts([9000, '8080', '7000-7001']);
    expect(list.errors).toEqual([]);
    expect(list.ranges).toEqual([
      { from: 7000, to: 7001 },
      { from: 8080, to: 8080 },
      { from: 9000, to: 9000 },
    ]);
    expect(list.ports).toEqual([7000, 7001, 8080, 9000]);
  });

  it('adjacent ports join into one range', () => {
    expect(parsePorts([8080, 8081, '8082-8083']).ranges).toEqual([{ from: 8080, to: 8083 }]);
  });

  it('the edges 1 and 65535 are ports; a one-port range is a port', () => {
    expect(errorsOf([1, 65535, '70-70'])).toEqual([]);
  });

  it('no ports (null or an empty list) is fine', () => {
    expect(parsePorts(null)).toEqual({ ranges: [], ports: [], errors: [] });
    expect(parsePorts([])).toEqual({ ranges: [], ports: [], errors: [] });
  });
});

describe('resources.ports: what is refused, each error with its path', () => {
  it('port 0 and port 65536 are out of range', () => {
    expect(errorsOf([0, 65536])).toEqual([
      { path: 'resources.ports[0]', message: 'port 0 is out of range: ports are 1 to 65535' },
      { path: 'resources.ports[1]', message: 'port 65536 is out of range: ports are 1 to 65535' },
    ]);
    expect(errorsOf(0)).toEqual([{ path: 'resources.ports', message: 'port 0 is out of range: ports are 1 to 65535' }]);
    expect(errorsOf('0-80')[0]?.message).toContain('port 0 is out of range');
  });

  it('"80-70" is backwards, and says what to write', () => {
    expect(errorsOf(['80-70'])).toEqual([{ path: 'resources.ports[0]', message: '"80-70" is backwards: write "70-80"' }]);
  });

  it('"abc" is not a port', () => {
    expect(errorsOf([8080, 'abc'])).toEqual([
      { path: 'resources.ports[1]', message: '"abc" is not a port: write a number like 8080, or a range like "9000-9002"' },
    ]);
  });

  it('non-integers, booleans, nested lists and protocols are refused', () => {
    expect(errorsOf([80.5])[0]?.message).toBe('80.5 is not a whole number: a port is a whole number from 1 to 65535');
    expect(errorsOf(['80.5'])[0]?.message).toContain('is not a whole number');
    expect(errorsOf([true])[0]?.message).toContain('true is not a port');
    expect(errorsOf([[80]])[0]?.message).toContain('a list is not a port');
    expect(errorsOf(['8080/tcp'])[0]?.message).toContain('write the port without a protocol');
    expect(errorsOf([-1])[0]?.message).toContain('out of range');
  });

  it('a 10,000-port range is refused with the limit', () => {
    expect(errorsOf(['10000-19999'])).toEqual([
      { path: 'resources.ports[0]', message: '"10000-19999" is 10000 ports: a task may ask for at most 100 ports in all' },
    ]);
  });

  it('many small items adding up past the limit are refused on the list', () => {
    expect(errorsOf(['1000-1060', '2000-2060'])).toEqual([
      { path: 'resources.ports', message: 'the task asks for 122 ports in all: at most 100' },
    ]);
    expect(parsePorts(['1000-1060', '2000-2060'], { maxPorts: 200 }).errors).toEqual([]);
  });

  it('a duplicate names both places', () => {
    expect(errorsOf([8080, 9000, 8080])).toEqual([
      { path: 'resources.ports[2]', message: 'port 8080 is listed twice: at resources.ports[0] and resources.ports[2]' },
    ]);
  });

  it('overlapping ranges name both and what they share', () => {
    expect(errorsOf(['9000-9010', 22, '9005-9020'])).toEqual([
      {
        path: 'resources.ports[2]',
        message: '"9005-9020" overlaps "9000-9010" at resources.ports[0]: both include 9005-9010',
      },
    ]);
  });

  it('a port inside a range, either order, names both', () => {
    expect(errorsOf(['9000-9010', 9005])).toEqual([
      { path: 'resources.ports[1]', message: 'port 9005 is already in "9000-9010" at resources.ports[0]' },
    ]);
    expect(errorsOf([9005, '9000-9010'])).toEqual([
      { path: 'resources.ports[1]', message: '"9000-9010" includes port 9005, already listed at resources.ports[0]' },
    ]);
  });
});

describe('formatPorts is the inverse of parsePorts', () => {
  it('ranges → the value to write, and back', () => {
    const ranges = [
      { from: 8080, to: 8080 },
      { from: 9000, to: 9002 },
    ];
    expect(formatPorts(ranges)).toEqual([8080, '9000-9002']);
    expect(parsePorts(formatPorts(ranges)).ranges).toEqual(ranges);
  });

  it('ports → ranges → text for messages', () => {
    expect(toRanges([9002, 8080, 9000, 9001])).toEqual([
      { from: 8080, to: 8080 },
      { from: 9000, to: 9002 },
    ]);
    expect(describePorts([9002, 8080, 9000, 9001])).toBe('8080, 9000-9002');
  });
});
