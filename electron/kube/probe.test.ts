// The pure parts of a probe.
import { describe, expect, it } from 'vitest';
import { parseQuantity } from './probe.ts';

describe('quantities', () => {
  it('parses Kubernetes resource quantities', () => {
    expect(parseQuantity('4')).toBe(4);
    expect(parseQuantity('500m')).toBe(0.5);
    expect(parseQuantity('8Gi')).toBe(8 * 2 ** 30);
    expect(parseQuantity('16318536Ki')).toBe(16318536 * 1024);
    expect(parseQuantity('2G')).toBe(2e9);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity('lots')).toBeUndefined();
    expect(parseQuantity(undefined)).toBeUndefined();
  });
});
