import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { resolveDockerEndpoint, type EndpointEnv } from './docker-endpoint.ts';

function fakeEnv(files: Record<string, string>, env: NodeJS.ProcessEnv = {}, platform: NodeJS.Platform = 'linux'): EndpointEnv {
  return {
    env,
    home: '/home/ada',
    platform,
    exists: (p) => p in files,
    readFile: (p) => {
      const f = files[p];
      if (f === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return f;
    },
  };
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('finding the Docker engine', () => {
  it('DOCKER_HOST wins over everything', () => {
    const e = resolveDockerEndpoint(fakeEnv({ '/home/ada/.docker/run/docker.sock': '' }, { DOCKER_HOST: 'unix:///tmp/x.sock' }));
    expect(e).toMatchObject({ socketPath: '/tmp/x.sock', source: 'DOCKER_HOST' });
  });

  it('tcp DOCKER_HOST with TLS verification uses https on the given port', () => {
    const e = resolveDockerEndpoint(fakeEnv({}, { DOCKER_HOST: 'tcp://10.0.0.5:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs' }));
    expect(e).toMatchObject({ host: '10.0.0.5', port: 2376, protocol: 'https', tlsDir: '/certs' });
  });

  it('the current Docker context from config.json (as `docker context use colima` leaves it)', () => {
    const meta = `/home/ada/.docker/contexts/meta/${sha('colima')}/meta.json`;
    const e = resolveDockerEndpoint(
      fakeEnv({
        '/home/ada/.docker/config.json': JSON.stringify({ auths: {}, currentContext: 'colima' }),
        [meta]: JSON.stringify({ Name: 'colima', Endpoints: { docker: { Host: 'unix:///home/ada/.colima/default/docker.sock', SkipTLSVerify: false } } }),
        '/var/run/docker.sock': '',
      }),
    );
    expect(e).toMatchObject({ socketPath: '/home/ada/.colima/default/docker.sock', source: 'docker context "colima"' });
  });

  it('DOCKER_CONTEXT overrides config.json; the default context falls through to sockets', () => {
    const meta = `/home/ada/.docker/contexts/meta/${sha('remote')}/meta.json`;
    const files = {
      '/home/ada/.docker/config.json': JSON.stringify({ currentContext: 'default' }),
      [meta]: JSON.stringify({ Endpoints: { docker: { Host: 'ssh://ada@build' } } }),
      '/home/ada/.rd/docker.sock': '',
    };
    expect(resolveDockerEndpoint(fakeEnv(files, { DOCKER_CONTEXT: 'remote' }))).toMatchObject({ protocol: 'ssh', host: 'build', port: 22 });
    expect(resolveDockerEndpoint(fakeEnv(files))).toMatchObject({ socketPath: '/home/ada/.rd/docker.sock', source: 'Rancher Desktop socket' });
  });

  it('a broken config.json does not stop the search', () => {
    const e = resolveDockerEndpoint(fakeEnv({ '/home/ada/.docker/config.json': '{nope', '/home/ada/.docker/run/docker.sock': '' }));
    expect(e.source).toBe('Docker Desktop socket');
  });

  it('Podman rootless socket under XDG_RUNTIME_DIR, then the default socket', () => {
    expect(resolveDockerEndpoint(fakeEnv({ '/run/user/1000/podman/podman.sock': '' }, { XDG_RUNTIME_DIR: '/run/user/1000' }))).toMatchObject({
      source: 'Podman socket',
    });
    expect(resolveDockerEndpoint(fakeEnv({}))).toMatchObject({ url: 'unix:///var/run/docker.sock', source: 'default socket' });
    expect(resolveDockerEndpoint(fakeEnv({}, {}, 'win32')).url).toBe('npipe:////./pipe/docker_engine');
  });
});
