import { describe, expect, it } from 'vitest';
import { parseTask } from './parse.ts';

const DESIGN_EXAMPLE = `name: web-demo
resources:
  infra: k8s/kind-dev        # which context; default: the only/active KinD cluster
  cpus: 1                    # number or "N+"
  memory: 2                  # GiB, number or "N+"
  ports: [8080, "9000-9002"] # int, "N", "A-B", or a list of these; 1..65535, A<=B
  image_id: docker:python:3.12-slim
envs:
  GREETING: hello
setup: pip install flask
run: python -m http.server 8080
`;

/** The only error of a parse, for tests about one thing. */
function onlyError(text: string) {
  const { errors, task } = parseTask(text);
  expect(task).toBeUndefined();
  expect(errors).toHaveLength(1);
  return errors[0];
}

describe('a valid task', () => {
  it("the design's example becomes a normalized TaskSpec", () => {
    const result = parseTask(DESIGN_EXAMPLE);
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.task).toEqual({
      name: 'web-demo',
      resources: {
        context: 'kind-dev',
        cpus: { amount: 1, orMore: false },
        memory: { amount: 2, orMore: false },
        ports: [8080, 9000, 9001, 9002],
        image: 'python:3.12-slim',
      },
      envs: { GREETING: 'hello' },
      setup: 'pip install flask',
      run: 'python -m http.server 8080',
      numNodes: 1,
    });
    expect(result.positions['resources.infra']).toEqual({ line: 3, column: 10 });
  });

  it('JSON is YAML too, tabs and all', () => {
    const json = '{\n\t"name": "web",\n\t"resources": {"ports": 8080, "cpus": "2+"},\n\t"run": "serve"\n}';
    const { task, errors } = parseTask(json);
    expect(errors).toEqual([]);
    expect(task?.resources).toEqual({ ports: [8080], cpus: { amount: 2, orMore: true } });
  });

  it('name is optional, and so is everything but run (which only warns)', () => {
    expect(parseTask('run: echo hi').task).toEqual({ resources: { ports: [] }, envs: {}, run: 'echo hi', numNodes: 1 });
    const noRun = parseTask('name: idle');
    expect(noRun.task).toBeDefined();
    expect(noRun.warnings).toEqual([{ path: 'run', message: 'the task has no run command: nothing will run' }]);
  });

  it('infra may be bare k8s or kubernetes, or name a context after the first slash', () => {
    expect(parseTask('resources: {infra: k8s}\nrun: x').task?.resources.context).toBeUndefined();
    expect(parseTask('resources: {infra: Kubernetes/kind-dev}\nrun: x').task?.resources.context).toBe('kind-dev');
    const arn = 'arn:aws:eks:us-west-2:123456789012:cluster/prod';
    expect(parseTask(`resources: {infra: "k8s/${arn}"}\nrun: x`).task?.resources.context).toBe(arn);
  });

  it('env values become the text SkyPilot makes of them (str() of PyYAML 1.1); quoted ones stay as written; `key:` with nothing is not given', () => {
    const { task, errors } = parseTask('envs:\n  A: 1.0\n  B: true\n  C: 0x10\n  D: "x"\n  E: yes\n  F: "yes"\nsetup:\nrun: x');
    expect(errors).toEqual([]);
    expect(task?.envs).toEqual({ A: '1.0', B: 'True', C: '16', D: 'x', E: 'True', F: 'yes' });
    expect(task?.setup).toBeUndefined();
  });

  it('an env var named __proto__ stays an env var', () => {
    const { task } = parseTask('envs:\n  __proto__: polluted\nrun: x');
    expect(Object.keys(task?.envs ?? {})).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('image_id: docker:IMAGE as SkyPilot writes it, or a plain reference', () => {
    expect(parseTask('resources: {image_id: "docker:ghcr.io/org/app:1.0"}\nrun: x').task?.resources.image).toBe('ghcr.io/org/app:1.0');
    expect(parseTask('resources: {image_id: "localhost:5000/app"}\nrun: x').task?.resources.image).toBe('localhost:5000/app');
  });

  it('aliases are read as the values they name', () => {
    const { task, errors } = parseTask('x-port: &p 8080\nresources: {ports: [*p]}\nrun: x');
    // x-port itself is an unknown field, but the alias was resolved.
    expect(errors.map((e) => e.path)).toEqual(['x-port']);
    expect(task).toBeUndefined();
    expect(parseTask('envs: &e {A: "1"}\nrun: x').task?.envs).toEqual({ A: '1' });
  });
});

describe('names: as SkyPilot allows them, or exactly what is wrong and a fixed name', () => {
  it('SkyPilot names are accepted as written: capitals, dots, underscores, doubled separators', () => {
    for (const name of ['minGPT-ddp', 'train.v2', 'my_job', 'some__name--here', 'a', '2024']) {
      expect(parseTask(`name: "${name}"\nrun: x`).task?.name).toBe(name);
    }
  });

  it.each([
    ['_web', 'it starts with "_"', 'web'],
    ['web-', 'it ends with "-"', 'web'],
    ['my task', 'it has spaces', 'my-task'],
    ['this---job', 'three or more', 'this--job'],
  ])('%s', (name, what, fixed) => {
    const e = onlyError(`name: "${name}"\nrun: x`);
    expect(e?.path).toBe('name');
    expect(e?.message).toContain(what);
    expect(e?.message).toContain(`try "${fixed}"`);
    expect(e?.line).toBe(1);
  });

  it('a name longer than 253 characters says so', () => {
    expect(onlyError(`name: ${'a'.repeat(260)}\nrun: x`)?.message).toContain('it is 260 characters long');
  });

  it('a number is not a name', () => {
    expect(onlyError('name: 2024\nrun: x')?.message).toBe('name must be text, not the number 2024: write a name like "web-demo"');
  });
});

describe('unknown fields are errors with their path, never dropped', () => {
  it('near misses get a "did you mean", at the line of the key', () => {
    const { errors } = parseTask('name: web\nresource:\n  cpus: 1\nrun: x\n');
    expect(errors).toEqual([
      { path: 'resource', message: 'unknown field "resource": did you mean "resources"?', line: 2, column: 1 },
    ]);
    expect(onlyError('resources:\n  port: 8080\nrun: x')).toEqual({
      path: 'resources.port',
      message: 'unknown field "port": did you mean "ports"?',
      line: 2,
      column: 3,
    });
  });

  it('a resources field at the top level says where it belongs', () => {
    expect(onlyError('ports: 8080\nrun: x')?.message).toBe(
      'unknown field "ports": did you mean resources.ports? (ports belongs under resources)',
    );
    expect(onlyError('resources:\n  run: x')?.message).toContain('did you mean run at the top level of the task?');
  });

  it('synonyms and other spellings are recognized', () => {
    expect(onlyError('env: {A: b}\nrun: x')?.message).toContain('did you mean "envs"?');
    expect(onlyError('resources: {image: python}\nrun: x')?.message).toContain('did you mean "image_id"?');
    expect(onlyError('Name: web\nrun: x')?.message).toContain('did you mean "name"?');
    expect(onlyError('num-nodes: 1\nrun: x')?.message).toContain('did you mean "num_nodes"?');
  });

  it('a field with no near miss lists the fields people write', () => {
    expect(onlyError('favourite_colour: blue\nrun: x')?.message).toBe(
      'unknown field "favourite_colour": a task has name, resources, envs, setup, run, workdir and num_nodes, among others',
    );
  });

  it('SkyPilot fields are never unknown: accelerators parse, empty file_mounts ask for nothing', () => {
    expect(parseTask('resources: {accelerators: "A100:1"}\nrun: x').task?.resources.accelerators).toEqual([{ name: 'A100', count: 1 }]);
    expect(parseTask('file_mounts: {}\nrun: x')).toMatchObject({ errors: [], warnings: [] });
  });
});

describe('field values', () => {
  it('infra naming a cloud is valid SkyPilot (the cluster check says where to run); a bare context name is not', () => {
    expect(parseTask('resources: {infra: aws/us-east-1}\nrun: x').task?.resources.cloud).toBe('aws/us-east-1');
    expect(onlyError('resources: {infra: kind-dev}\nrun: x')?.message).toContain('write "k8s/kind-dev"');
    expect(onlyError('resources: {infra: "k8s/"}\nrun: x')?.message).toContain('names no context');
  });

  it('cpus and memory: a number > 0 or "N+"', () => {
    expect(parseTask('resources: {cpus: 0.5, memory: "4+"}\nrun: x').task?.resources).toMatchObject({
      cpus: { amount: 0.5, orMore: false },
      memory: { amount: 4, orMore: true },
    });
    expect(onlyError('resources: {cpus: 0}\nrun: x')).toMatchObject({ path: 'resources.cpus', message: expect.stringContaining('more than 0') });
    expect(onlyError('resources: {cpus: two}\nrun: x')?.message).toContain('cpus "two" is not a number');
    expect(parseTask('resources: {memory: 512Mi}\nrun: x').task?.resources.memory).toEqual({ amount: 0.5, orMore: false });
    expect(parseTask('resources: {memory: 8GB+}\nrun: x').task?.resources.memory).toEqual({ amount: 8, orMore: true });
  });

  it('num_nodes: a whole number from 1; more than 1 runs one Pod a node, without a warning', () => {
    const four = parseTask('num_nodes: 4\nrun: x');
    expect(four.task?.numNodes).toBe(4);
    expect(four.warnings).toEqual([]);
    expect(onlyError('num_nodes: 0\nrun: x')?.path).toBe('num_nodes');
    expect(parseTask('num_nodes: 1\nrun: x').errors).toEqual([]);
  });

  it('envs: valid names; one left null is required at launch, not an error', () => {
    const { errors } = parseTask('envs:\n  MY-VAR: x\n  TOKEN:\n  LIST: [1]\nrun: x');
    expect(errors.map((e) => [e.path, e.line])).toEqual([
      ['envs.MY-VAR', 2],
      ['envs.LIST', 4],
    ]);
    expect(parseTask('envs:\n  TOKEN:\nrun: x').task?.requiredAtLaunch).toEqual({ envs: ['TOKEN'], secrets: [] });
    expect(errors[0]?.message).toContain('e.g. "MY_VAR"');
  });

  it('an env name that is not a plain word gets a bracketed path', () => {
    expect(onlyError('envs:\n  "a.b": x\nrun: x')?.path).toBe('envs["a.b"]');
  });

  it('image references are checked', () => {
    expect(onlyError('resources: {image_id: "docker:Python:3"}\nrun: x')?.message).toContain('repository names are lower-case');
    expect(onlyError('resources: {image_id: "docker:"}\nrun: x')?.message).toContain('names no image');
  });

  it('run must be text', () => {
    expect(onlyError('run: [a, b]')).toMatchObject({ path: 'run', message: expect.stringContaining('run must be text, not a list') });
  });

  it('port errors point at the item in the text', () => {
    const { errors } = parseTask('resources:\n  ports:\n    - 8080\n    - 0\nrun: x');
    expect(errors).toEqual([{ path: 'resources.ports[1]', message: 'port 0 is out of range: ports are 1 to 65535', line: 4, column: 7 }]);
  });
});

describe('text that is not a task', () => {
  it('malformed YAML answers with line and column', () => {
    const e = onlyError('name: web\nresources:\n  cpus: [1\nrun: x\n');
    expect(e?.path).toBe('');
    expect(e?.message).toMatch(/^YAML syntax: /);
    expect(e?.line).toBe(4);
    expect(e?.column).toBe(1);
    expect(onlyError('name: a\nname: b\nrun: x\n')).toEqual({ path: 'name', message: '"name" is written twice in the same mapping', line: 2, column: 1 });
  });

  it('malformed JSON answers with line and column', () => {
    const e = onlyError('{\n  "name": "web",\n  "run": "x",,\n}');
    expect(e?.line).toBe(3);
  });

  it('an empty document, a list or a string is not a task', () => {
    expect(onlyError('')?.message).toContain('the task is empty');
    expect(onlyError('- run: x')?.message).toContain('a task is a mapping of fields');
    expect(onlyError('hello')?.message).toContain('not "hello"');
  });

  it('two documents are a pipeline, as in SkyPilot: both checked, the first is the task, the launch runs them in order', () => {
    const r = parseTask('name: flow\n---\nrun: a\n---\nrun: b\n');
    expect(r.errors).toEqual([]);
    expect(r.pipeline).toEqual({ name: 'flow', tasks: [expect.objectContaining({ run: 'a' }), expect.objectContaining({ run: 'b' })] });
    expect(r.task?.run).toBe('a');
    expect(r.warnings).toEqual([]);
    expect(parseTask('run: a\n---\nresources: {cpus: 0}\nrun: b\n').errors).toEqual([
      expect.objectContaining({ path: 'resources.cpus', line: 3, message: expect.stringContaining('task 2 of 2: cpus must be more than 0') }),
    ]);
  });
});

describe('limits: the parser is not pathological', () => {
  const fast = <T>(work: () => T): T => {
    const t0 = performance.now();
    const out = work();
    expect(performance.now() - t0).toBeLessThan(500);
    return out;
  };

  it('a document over 64 KiB is refused before parsing', () => {
    const big = `run: |\n${'  echo 0123456789012345678901234567890123456789\n'.repeat(1600)}`;
    expect(big.length).toBeGreaterThan(64 * 1024);
    const e = fast(() => onlyError(big));
    expect(e?.message).toMatch(/^the task is 7\d\.\d KiB: at most 64 KiB is accepted$/);
  });

  it('a 64 KiB task parses fast', () => {
    const script = `  echo ${'x'.repeat(60)}\n`;
    const text = `name: big\nrun: |\n${script.repeat(Math.floor((64 * 1024 - 20) / script.length))}`;
    expect(text.length).toBeLessThanOrEqual(64 * 1024);
    expect(text.length).toBeGreaterThan(63 * 1024);
    expect(fast(() => parseTask(text)).task?.name).toBe('big');
  });

  it('64 KiB of keys is refused fast, before the YAML parser runs', () => {
    const text = Array.from({ length: 7000 }, (_, i) => `k${i}: v`).join('\n').slice(0, 64 * 1024 - 10);
    expect(fast(() => onlyError(text))).toEqual({
      path: '',
      message: 'the task has more than 2,000 fields and list items: a task needs far fewer',
      line: 2001,
      column: 6,
    });
    const ports = `resources:\n  ports: [${Array(16_000).fill('"1-100"').join(',')}]`.slice(0, 64 * 1024);
    expect(fast(() => onlyError(ports))?.message).toContain('more than 2,000 fields and list items');
  });

  it('many errors are listed up to 50, and the rest counted', () => {
    const text = Array.from({ length: 1500 }, (_, i) => `k${i}: v`).join('\n');
    const { errors } = fast(() => parseTask(text));
    expect(errors).toHaveLength(51);
    expect(errors[49]?.path).toBe('k49');
    expect(errors[50]).toEqual({ path: '', message: '… and 1450 more errors' });
  });

  it('64 KiB of nested brackets answers fast with an error, not a stack overflow', () => {
    const deep = `${'['.repeat(32 * 1024)}${']'.repeat(32 * 1024)}`;
    expect(fast(() => onlyError(deep))).toEqual({ path: '', message: 'the task is nested more than 32 levels deep', line: 1, column: 33 });
    const dashes = `${'- '.repeat(32 * 1024 - 1)}x`;
    expect(fast(() => onlyError(dashes))?.message).toBe('the task is nested more than 32 levels deep');
  });

  it('a "billion laughs" alias bomb answers fast with an error', () => {
    const bomb = [
      'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
      ...'bcdefghi'.split('').map((k, i) => {
        const prev = 'abcdefghi'[i];
        return `${k}: &${k} [${Array(9).fill(`*${prev}`).join(',')}]`;
      }),
      'run: x',
    ].join('\n');
    const e = fast(() => onlyError(bomb));
    expect(e?.message).toContain('aliases in this document expand to');
    expect(e?.message).toContain('billion laughs');
  });

  it('too many aliases, an alias to nothing, and an alias loop are refused', () => {
    const many = `a: &a 1\nb: [${Array(101).fill('*a').join(', ')}]`;
    expect(onlyError(many)?.message).toBe('the task uses more than 100 aliases (*name): write the values out');
    expect(onlyError('run: *nothing')?.message).toMatch(/YAML syntax|names no anchor/);
    expect(onlyError('envs: &e {A: *e}\nrun: x')?.message).toBe('alias *e is inside the value it names: a loop');
  });
});
