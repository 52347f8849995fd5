// The testbed's certificates, made with the `openssl` CLI (no npm dependency):
// one CA per testbed, an API server certificate for 127.0.0.1/localhost that
// every cluster's stand-in serves, and an admin client certificate
// (CN=kubernetes-admin, O=system:masters, as kind's) for the kubeconfigs.
// EC P-256 keys: generated in milliseconds, and accepted by Go (kubectl) and
// Node (@kubernetes/client-node) alike.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PKI_FILES } from './standin/protocol.ts';
import { run } from './proc.ts';

export interface Pki {
  dir: string;
  caCertPath: string;
  caKeyPath: string;
  serverCertPath: string;
  serverKeyPath: string;
  clientCertPath: string;
  clientKeyPath: string;
}

const DAYS = '3650';
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

export function pkiPaths(dir: string): Pki {
  return {
    dir,
    caCertPath: join(dir, PKI_FILES.caCert),
    caKeyPath: join(dir, PKI_FILES.caKey),
    serverCertPath: join(dir, PKI_FILES.serverCert),
    serverKeyPath: join(dir, PKI_FILES.serverKey),
    clientCertPath: join(dir, PKI_FILES.clientCert),
    clientKeyPath: join(dir, PKI_FILES.clientKey),
  };
}

/** Creates a self-signed CA (`cert`, `key`) with common name `cn`. */
export async function createCa(certPath: string, keyPath: string, cn: string): Promise<void> {
  await run('openssl', ['req', '-x509', ...EC, '-keyout', keyPath, '-out', certPath, '-days', DAYS, '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']);
}

/** Issues a leaf certificate signed by the CA: a server one (with SANs) or a client one. */
export async function issueCert(opts: {
  caCertPath: string;
  caKeyPath: string;
  certPath: string;
  keyPath: string;
  subject: string;
  usage: 'server' | 'client';
  sans?: string[];
}): Promise<void> {
  const csrPath = `${opts.certPath}.csr`;
  const extPath = `${opts.certPath}.ext`;
  const ext = [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${opts.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
    ...(opts.sans?.length ? [`subjectAltName=${opts.sans.join(',')}`] : []),
  ];
  writeFileSync(extPath, `${ext.join('\n')}\n`);
  try {
    await run('openssl', ['req', '-new', ...EC, '-keyout', opts.keyPath, '-out', csrPath, '-subj', opts.subject]);
    // A random positive serial: Go rejects negative ones, and reusing one confuses caches.
    const serial = `0x1${randomBytes(15).toString('hex')}`;
    await run('openssl', ['x509', '-req', '-in', csrPath, '-CA', opts.caCertPath, '-CAkey', opts.caKeyPath, '-set_serial', serial,
      '-days', DAYS, '-extfile', extPath, '-out', opts.certPath]);
  } finally {
    rmSync(csrPath, { force: true });
    rmSync(extPath, { force: true });
  }
}

const making = new Map<string, Promise<Pki>>();

/**
 * Makes the testbed's CA, server and admin client certificates in `dir`,
 * unless they are there already. Concurrent calls in one process share the
 * work (clusters created in parallel must not write the same files at once).
 */
export function ensurePki(dir: string): Promise<Pki> {
  const pki = pkiPaths(dir);
  if ([pki.caCertPath, pki.serverCertPath, pki.clientCertPath].every((p) => existsSync(p))) return Promise.resolve(pki);
  let pending = making.get(dir);
  if (!pending) {
    pending = makePki(pki).finally(() => making.delete(dir));
    making.set(dir, pending);
  }
  return pending;
}

async function makePki(pki: Pki): Promise<Pki> {
  const { dir } = pki;
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  await createCa(pki.caCertPath, pki.caKeyPath, 'kubernetes');
  await Promise.all([
    issueCert({ caCertPath: pki.caCertPath, caKeyPath: pki.caKeyPath, certPath: pki.serverCertPath, keyPath: pki.serverKeyPath,
      subject: '/CN=kube-apiserver', usage: 'server',
      sans: ['IP:127.0.0.1', 'DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', 'IP:10.96.0.1'] }),
    issueCert({ caCertPath: pki.caCertPath, caKeyPath: pki.caKeyPath, certPath: pki.clientCertPath, keyPath: pki.clientKeyPath,
      subject: '/O=system:masters/CN=kubernetes-admin', usage: 'client' }),
  ]);
  return pki;
}

/**
 * A client certificate from a CA the clusters do not trust, for tests of
 * authentication failures (the API answers 401). Written to `dir`.
 */
export async function makeForeignClientCert(dir: string): Promise<{ certPath: string; keyPath: string; certData: string; keyData: string }> {
  mkdirSync(dir, { recursive: true });
  const ca = { cert: join(dir, 'foreign-ca.crt'), key: join(dir, 'foreign-ca.key') };
  await createCa(ca.cert, ca.key, 'not-the-cluster-ca');
  const certPath = join(dir, 'foreign-client.crt');
  const keyPath = join(dir, 'foreign-client.key');
  await issueCert({ caCertPath: ca.cert, caKeyPath: ca.key, certPath, keyPath, subject: '/O=system:masters/CN=intruder', usage: 'client' });
  return { certPath, keyPath, certData: readFileSync(certPath, 'utf8'), keyData: readFileSync(keyPath, 'utf8') };
}
