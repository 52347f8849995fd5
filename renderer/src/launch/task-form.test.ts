// The Launch form and its YAML stay in sync: what the form shows is what the
// text says, and a form edit changes that one field and nothing else.

import { describe, expect, it } from 'vitest';
import { parseTask } from '../../../shared/task/index.ts';
import { exampleTask, issueBelongsTo, readForm, writeField } from './task-form.ts';

const write = (text: string, field: Parameters<typeof writeField>[1], value: string): string => {
  const r = writeField(text, field, value);
  if ('error' in r) throw new Error(r.error);
  return r.text;
};

describe('YAML → form', () => {
  it('reads the example into the form, and the example is a valid task', () => {
    const text = exampleTask();
    expect(readForm(text)).toEqual({
      values: { name: 'web-demo', infra: '', cpus: '1', memory: '1', ports: '8080', image: 'docker:python:3.12-slim', run: 'python -m http.server 8080' },
      editable: true,
      complex: [],
    });
    expect(parseTask(text).errors).toEqual([]);
  });

  it('shows a list of ports as "8080, 9000-9002" and a single port as itself', () => {
    expect(readForm('resources:\n  ports: [8080, "9000-9002"]\n').values.ports).toBe('8080, 9000-9002');
    expect(readForm('resources:\n  ports: 8080\n').values.ports).toBe('8080');
  });

  it('starts empty from an empty text, and stays editable', () => {
    const r = readForm('');
    expect(r.editable).toBe(true);
    expect(r.values.name).toBe('');
  });

  it('is not editable while the YAML does not parse, and says why', () => {
    const r = readForm('name: [unclosed\n');
    expect(r.editable).toBe(false);
    expect(r.why).toMatch(/syntax error/);
    expect(writeField('name: [unclosed\n', 'name', 'x')).toEqual({ error: r.why });
  });

  it('a pipeline (several documents) is no syntax error: the form says it edits one task, and leaves the text alone', () => {
    const text = 'name: flow\n---\nrun: a\n---\nrun: b\n';
    const r = readForm(text);
    expect(r.editable).toBe(false);
    expect(r.why).toBe('the file holds 3 YAML documents (a pipeline, run in order): the form edits a single task, so edit the pipeline in the editor');
    expect(writeField(text, 'name', 'x')).toEqual({ error: r.why });
  });

  it('is not editable when the task or its resources is not a mapping', () => {
    expect(readForm('- a\n- b\n').editable).toBe(false);
    expect(readForm('resources: 3\n').editable).toBe(false);
  });

  it('marks a field it cannot show (a mapping where a value belongs) rather than hiding it', () => {
    const r = readForm('resources:\n  ports: { a: 1 }\n');
    expect(r.complex).toEqual(['ports']);
  });
});

describe('form → YAML', () => {
  it('changes one field and keeps comments, envs and setup as written', () => {
    const before = exampleTask();
    const after = write(before, 'name', 'api-demo');
    expect(after).toContain('name: api-demo');
    expect(after).toContain('# SkyPilot-style task');
    expect(after).toContain('memory: 1        # GiB');
    expect(after).toContain('GREETING: hello');
    expect(after).toContain('setup: echo "$GREETING from setup"');
    expect(after.replace('name: api-demo', 'name: web-demo')).toBe(before);
  });

  it('writes numbers as numbers and "2+" as text, both valid for parseTask', () => {
    const two = write(exampleTask(), 'cpus', '2');
    expect(two).toMatch(/cpus: 2\n/);
    const atLeast = write(exampleTask(), 'cpus', '2+');
    expect(readForm(atLeast).values.cpus).toBe('2+');
    expect(parseTask(atLeast).task?.resources.cpus).toEqual({ amount: 2, orMore: true });
    expect(parseTask(two).task?.resources.cpus).toEqual({ amount: 2, orMore: false });
  });

  it('writes ports as a list, ranges included, that round-trips and parses', () => {
    const text = write(exampleTask(), 'ports', '8080, 9000-9002');
    expect(readForm(text).values.ports).toBe('8080, 9000-9002');
    expect(parseTask(text).task?.resources.ports).toEqual([8080, 9000, 9001, 9002]);
    expect(text).toContain('# reachable here');
  });

  it('adds the infra under resources, and removes it when set back to the default', () => {
    const withInfra = write(exampleTask(), 'infra', 'k8s/kind-dev');
    expect(parseTask(withInfra).task?.resources.context).toBe('kind-dev');
    const back = write(withInfra, 'infra', '');
    expect(readForm(back).values.infra).toBe('');
    expect(parseTask(back).task?.resources.context).toBeUndefined();
  });

  it('creates resources when there is none, and drops it once its last field is cleared', () => {
    const text = write('run: echo hi\n', 'memory', '2');
    expect(text).toBe('run: echo hi\nresources:\n  memory: 2\n');
    expect(write(text, 'memory', '')).toBe('run: echo hi\n');
  });

  it('adds and removes a key in place, leaving every other line as written', () => {
    const before = exampleTask();
    const added = write(before, 'infra', 'k8s/kind-dev');
    expect(added).toContain('  image_id: docker:python:3.12-slim\n  infra: k8s/kind-dev\nenvs:');
    expect(added.replace('  infra: k8s/kind-dev\n', '')).toBe(before);
    expect(write(added, 'infra', '')).toBe(before);
    const noPorts = write(before, 'ports', '');
    expect(noPorts).toBe(before.replace(/ {2}ports: .*\n/, ''));
  });

  it('fills an empty text', () => {
    expect(write('', 'run', 'echo hi')).toBe('run: echo hi\n');
  });

  it('writes a multi-line run as a literal block that reads back the same', () => {
    const text = write(exampleTask(), 'run', 'echo one\necho two');
    expect(text).toContain('run: |-\n  echo one\n  echo two');
    expect(readForm(text).values.run).toBe('echo one\necho two');
    expect(parseTask(text).task?.run).toBe('echo one\necho two');
  });

  it('quotes what YAML would otherwise read as another type', () => {
    const text = write('run: x\n', 'name', '123');
    expect(readForm(text).values.name).toBe('123');
    expect(parseTask(text).errors.map((e) => e.path)).toEqual([]);
  });
});

describe('issues at their field', () => {
  it('puts an item of a list at its list, and nothing else', () => {
    expect(issueBelongsTo('resources.ports[1]', 'ports')).toBe(true);
    expect(issueBelongsTo('resources.ports', 'ports')).toBe(true);
    expect(issueBelongsTo('resources', 'ports')).toBe(false);
    expect(issueBelongsTo('name', 'run')).toBe(false);
  });
});
