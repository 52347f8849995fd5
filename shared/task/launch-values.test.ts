import { describe, expect, it } from 'vitest';
import { applyLaunchValues, parseAssignments, parseEnvFile, pyFloatRepr, REDACTED, redactSecrets } from './launch-values.ts';
import { parseTask } from './parse.ts';
import { prepareTask } from './validate.ts';

const envsOf = (yamlValues: string[]): string[] => {
  const text = `envs:\n${yamlValues.map((v, i) => `  V${i}: ${v}`).join('\n')}\nrun: x`;
  const { task, errors } = parseTask(text);
  expect(errors).toEqual([]);
  return yamlValues.map((_, i) => task?.envs[`V${i}`] ?? '<missing>');
};

describe('env values as SkyPilot converts them (str() of what PyYAML 1.1 reads)', () => {
  it('booleans in all YAML 1.1 spellings', () => {
    expect(envsOf(['yes', 'Yes', 'YES', 'on', 'true', 'True', 'no', 'off', 'Off', 'false', 'FALSE', 'y', 'n'])).toEqual([
      'True', 'True', 'True', 'True', 'True', 'True', 'False', 'False', 'False', 'False', 'False', 'y', 'n',
    ]);
  });
  it('ints in every base PyYAML reads, underscores dropped; 0o and e-without-dot stay text', () => {
    expect(envsOf(['42', '+7', '-0', '0x10', '0b101', '010', '1_000', '1:30', '0o17', '1e3'])).toEqual(['42', '7', '0', '16', '5', '8', '1000', '90', '0o17', '1e3']);
  });
  it('floats as Python repr writes them', () => {
    expect(envsOf(['1.0', '1.', '.5', '1.5e+3', '1.0e-5', '0.0001', '.inf', '-.Inf', '.NaN', '1e+16'])).toEqual([
      '1.0', '1.0', '0.5', '1500.0', '1e-05', '0.0001', 'inf', '-inf', 'nan', '1e+16',
    ]);
    expect(pyFloatRepr(1e16)).toBe('1e+16');
    expect(pyFloatRepr(123456789012345.6)).toBe('123456789012345.6');
    expect(pyFloatRepr(-2.5e-7)).toBe('-2.5e-07');
  });
  it('quoted and block values are text as written', () => {
    expect(envsOf(['"yes"', "'0x10'", 'hello world', '2024-01-02'])).toEqual(['yes', '0x10', 'hello world', '2024-01-02']);
  });
});

describe('launch values', () => {
  it('fill nulls, override values, add new names; what stays null stays required', () => {
    const task = parseTask('envs:\n  A: a\n  HF_TOKEN:\n  OTHER:\nsecrets:\n  KEY:\nrun: x').task;
    if (!task) throw new Error('no task');
    const r = applyLaunchValues(task, { envs: { A: 'b', HF_TOKEN: 't', NEW: 'n' }, secrets: { KEY: 's3cret' } });
    expect(r.errors).toEqual([]);
    expect(r.task.envs).toEqual({ A: 'b', HF_TOKEN: 't', NEW: 'n' });
    expect(r.task.secrets).toEqual({ KEY: 's3cret' });
    expect(r.task.requiredAtLaunch).toEqual({ envs: ['OTHER'], secrets: [] });
  });
  it('a launch still missing a value is refused on the field', () => {
    const p = prepareTask('envs:\n  HF_TOKEN:\nrun: x', { launch: { envs: {} } });
    expect(p.ok && p.task.requiredAtLaunch).toEqual({ envs: ['HF_TOKEN'], secrets: [] });
    const bad = prepareTask('run: x', { launch: { envs: { 'A-B': 'x' }, secrets: { A: '1' } } });
    expect(bad.ok && bad.errors.map((e) => e.path)).toEqual(['envs.A-B']);
  });
  it('a name given as env and secret is an error on the secret', () => {
    const task = parseTask('run: x').task;
    if (!task) throw new Error('no task');
    expect(applyLaunchValues(task, { envs: { A: '1' }, secrets: { A: '2' } }).errors.map((e) => e.path)).toEqual(['secrets.A']);
  });
  it('--env K=V and env files', () => {
    expect(parseAssignments(['A=1', 'B=x=y', 'C='], '--env')).toEqual({ values: { A: '1', B: 'x=y', C: '' }, errors: [] });
    expect(parseAssignments(['A'], '--env').errors[0]).toContain('NAME=value');
    expect(parseEnvFile('# c\n\nexport A="q v"\nB=\'1\'\nLR=1e-4\n')).toEqual({ values: { A: 'q v', B: '1', LR: '1e-4' }, errors: [] });
  });
});

describe('redactSecrets', () => {
  it('replaces every secret value, in YAML and JSON, and leaves the rest', () => {
    const yaml = 'envs:\n  A: visible\nsecrets:\n  K: topsecret\n  Q: "quoted secret"\n  B: |\n    block secret\n  N:\nrun: echo hi\n';
    const out = redactSecrets(yaml);
    expect(out).not.toMatch(/topsecret|quoted secret|block secret/);
    expect(out).toContain('A: visible');
    expect(parseTask(out).task?.secrets).toEqual({ K: '<redacted>', Q: '<redacted>', B: '<redacted>' });
    expect(parseTask(out).task?.requiredAtLaunch).toEqual({ envs: [], secrets: ['N'] });
    const json = JSON.stringify({ secrets: { K: 'topsecret' }, run: 'x' });
    expect(JSON.parse(redactSecrets(json))).toEqual({ secrets: { K: REDACTED.slice(1, -1) }, run: 'x' });
  });
  it('in every document of a pipeline; text without secrets is unchanged', () => {
    expect(redactSecrets('secrets: {A: one}\nrun: x\n---\nsecrets: {B: two}\nrun: y\n')).not.toMatch(/one|two/);
    expect(redactSecrets('run: x # secrets: y\n')).toBe('run: x # secrets: y\n');
  });
});
