// kind's cluster config file (apiVersion kind.x-k8s.io/v1alpha4, kind
// Cluster), read and checked the way kind does (pkg/internal/apis/config:
// encoding.Parse with strict fields, SetDefaultsCluster, Validate), with
// kind's own error wording, so a product shows the same errors against the
// testbed as against the real kind.

import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Node as YamlNode } from 'yaml';
import { KindError } from './output.ts';

/** kind v0.27's default node image: its Kubernetes version is what the stand-in reports. */
export const DEFAULT_NODE_IMAGE = 'kindest/node:v1.32.2@sha256:f226345927d7e348497136874b6d207e0b32cc52154ad8323129352923a3142f';
/** kind's constants.DefaultClusterName (main.ts spells it too, to start without loading this module). */
export const DEFAULT_CLUSTER_NAME = 'kind';

export interface PortMapping {
  containerPort: number;
  hostPort: number;
  listenAddress: string;
  protocol: string;
}

export interface NodeConfig {
  role: string;
  image: string;
  labels: Record<string, string>;
  extraPortMappings: PortMapping[];
}

export interface ClusterConfig {
  name: string;
  nodes: NodeConfig[];
  networking: {
    ipFamily: string;
    apiServerPort: number;
    apiServerAddress: string;
    podSubnet: string;
    serviceSubnet: string;
    disableDefaultCNI: boolean;
    kubeProxyMode: string;
  };
}

type FieldType = 'string' | 'int32' | 'bool' | 'strings' | 'stringMap' | 'boolMap' | { list: string } | { struct: string };

/** The v1alpha4 types' yaml fields (pkg/apis/config/v1alpha4/types.go), for strict decoding. */
const TYPES: Record<string, Record<string, FieldType>> = {
  Cluster: {
    kind: 'string', apiVersion: 'string', name: 'string', nodes: { list: 'Node' }, networking: { struct: 'Networking' },
    featureGates: 'boolMap', runtimeConfig: 'stringMap', kubeadmConfigPatches: 'strings',
    kubeadmConfigPatchesJSON6902: { list: 'PatchJSON6902' }, containerdConfigPatches: 'strings', containerdConfigPatchesJSON6902: 'strings',
  },
  Node: {
    role: 'string', image: 'string', labels: 'stringMap', extraMounts: { list: 'Mount' }, extraPortMappings: { list: 'PortMapping' },
    kubeadmConfigPatches: 'strings', kubeadmConfigPatchesJSON6902: { list: 'PatchJSON6902' },
  },
  Networking: {
    ipFamily: 'string', apiServerPort: 'int32', apiServerAddress: 'string', podSubnet: 'string', serviceSubnet: 'string',
    disableDefaultCNI: 'bool', kubeProxyMode: 'string', dnsSearch: 'strings',
  },
  PortMapping: { containerPort: 'int32', hostPort: 'int32', listenAddress: 'string', protocol: 'string' },
  Mount: { containerPath: 'string', hostPath: 'string', readOnly: 'bool', selinuxRelabel: 'bool', propagation: 'string' },
  PatchJSON6902: { group: 'string', version: 'string', kind: 'string', patch: 'string' },
};

/** Strict decoding as go-yaml v3 reports it: "yaml: unmarshal errors:\n  line N: field X not found in type v1alpha4.T". */
function strictCheck(root: YamlNode, lines: LineCounter): string[] {
  const errors: string[] = [];
  const lineOf = (n: YamlNode | null | undefined) => (n?.range ? lines.linePos(n.range[0]).line : 0);
  const scalarCheck = (n: YamlNode, type: 'string' | 'int32' | 'bool') => {
    if (!isScalar(n)) {
      errors.push(`line ${lineOf(n)}: cannot unmarshal !!${isSeq(n) ? 'seq' : 'map'} into ${type === 'int32' ? 'int32' : type}`);
      return;
    }
    const v = n.value;
    const shown = `\`${String(n.source ?? v)}\``;
    if (type === 'int32' && !(typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < 2 ** 31)) errors.push(`line ${lineOf(n)}: cannot unmarshal !!${typeof v === 'number' ? 'float' : 'str'} ${shown} into int32`);
    if (type === 'bool' && typeof v !== 'boolean') errors.push(`line ${lineOf(n)}: cannot unmarshal !!${typeof v === 'number' ? 'int' : 'str'} ${shown} into bool`);
    if (type === 'string' && (typeof v === 'object' && v !== null)) errors.push(`line ${lineOf(n)}: cannot unmarshal into string`);
  };
  const check = (n: YamlNode | null | undefined, type: FieldType): void => {
    if (!n || (isScalar(n) && n.value === null)) return;
    if (type === 'string' || type === 'int32' || type === 'bool') return scalarCheck(n, type);
    if (type === 'strings' || (typeof type === 'object' && 'list' in type)) {
      if (!isSeq(n)) return void errors.push(`line ${lineOf(n)}: cannot unmarshal !!${isMap(n) ? 'map' : 'str'} into []${typeof type === 'object' ? `v1alpha4.${type.list}` : 'string'}`);
      for (const item of n.items) check(item as YamlNode, typeof type === 'object' ? { struct: type.list } : 'string');
      return;
    }
    if (type === 'stringMap' || type === 'boolMap') {
      if (!isMap(n)) return void errors.push(`line ${lineOf(n)}: cannot unmarshal into map[string]${type === 'boolMap' ? 'bool' : 'string'}`);
      for (const pair of n.items) check(pair.value as YamlNode, type === 'boolMap' ? 'bool' : 'string');
      return;
    }
    const fields = TYPES[type.struct] ?? {};
    if (!isMap(n)) return void errors.push(`line ${lineOf(n)}: cannot unmarshal !!${isSeq(n) ? 'seq' : 'str'} into v1alpha4.${type.struct}`);
    for (const pair of n.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      const fieldType = fields[key];
      if (!fieldType) errors.push(`line ${lineOf(pair.key as YamlNode)}: field ${key} not found in type v1alpha4.${type.struct}`);
      else check(pair.value as YamlNode, fieldType);
    }
  };
  check(root, { struct: 'Cluster' });
  return errors;
}

interface RawCluster {
  kind?: string; apiVersion?: string; name?: string;
  nodes?: { role?: string; image?: string; labels?: Record<string, string>; extraPortMappings?: Partial<PortMapping>[] }[];
  networking?: Partial<ClusterConfig['networking']>;
}

/** encoding.Parse: type meta first, then strict decoding of v1alpha4.Cluster. */
export function parseConfig(raw: string): ClusterConfig {
  const lines = new LineCounter();
  const doc = parseDocument(raw, { lineCounter: lines, uniqueKeys: false });
  if (doc.errors.length) throw new KindError(`could not determine kind / apiVersion for config: yaml: ${doc.errors[0]?.message.split('\n')[0] ?? 'invalid YAML'}`);
  const meta = (doc.toJS() ?? {}) as RawCluster;
  if (meta.apiVersion !== 'kind.x-k8s.io/v1alpha4') throw new KindError(`unknown apiVersion: ${meta.apiVersion ?? ''}`);
  if (meta.kind !== 'Cluster') throw new KindError(`unknown kind ${meta.kind ?? ''} for apiVersion: ${meta.apiVersion}`);
  const errors = doc.contents ? strictCheck(doc.contents as YamlNode, lines) : [];
  if (errors.length) throw new KindError(`unable to decode config: yaml: unmarshal errors:\n  ${errors.join('\n  ')}`);
  return withDefaults(meta);
}

/** SetDefaultsCluster (v1alpha4 and internal). */
export function withDefaults(raw: RawCluster): ClusterConfig {
  const ipFamily = raw.networking?.ipFamily || 'ipv4';
  const v6 = ipFamily === 'ipv6';
  const dual = ipFamily === 'dual';
  const nodes = raw.nodes?.length ? raw.nodes : [{}];
  return {
    name: raw.name || DEFAULT_CLUSTER_NAME,
    nodes: nodes.map((n) => ({
      role: n.role || 'control-plane',
      image: n.image || DEFAULT_NODE_IMAGE,
      labels: n.labels ?? {},
      extraPortMappings: (n.extraPortMappings ?? []).map((m) => ({
        containerPort: m.containerPort ?? 0, hostPort: m.hostPort ?? 0, listenAddress: m.listenAddress ?? '', protocol: m.protocol || 'TCP',
      })),
    })),
    networking: {
      ipFamily,
      apiServerPort: raw.networking?.apiServerPort ?? 0,
      apiServerAddress: raw.networking?.apiServerAddress || (v6 ? '::1' : '127.0.0.1'),
      podSubnet: raw.networking?.podSubnet || (v6 ? 'fd00:10:244::/56' : dual ? '10.244.0.0/16,fd00:10:244::/56' : '10.244.0.0/16'),
      serviceSubnet: raw.networking?.serviceSubnet || (v6 ? 'fd00:10:96::/112' : dual ? '10.96.0.0/16,fd00:10:96::/112' : '10.96.0.0/16'),
      disableDefaultCNI: raw.networking?.disableDefaultCNI ?? false,
      kubeProxyMode: raw.networking?.kubeProxyMode || 'iptables',
    },
  };
}

/** Go's net.ParseCIDR, enough for kind's subnet checks: the IP family of a valid CIDR, else undefined. */
function cidrFamily(cidr: string): 4 | 6 | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  if (!m?.[1] || !m[2]) return undefined;
  const bits = Number(m[2]);
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(m[1]) && m[1].split('.').every((o) => Number(o) <= 255)) return bits <= 32 ? 4 : undefined;
  if (m[1].includes(':') && /^[0-9a-fA-F:]+$/.test(m[1])) return bits <= 128 ? 6 : undefined;
  return undefined;
}

function subnetErrors(subnets: string, ipFamily: string): string | undefined {
  const families: (4 | 6)[] = [];
  for (const s of subnets.split(',')) {
    const f = cidrFamily(s);
    if (!f) return `failed to parse cidr value:"${s}" with error: invalid CIDR address: ${s}`;
    families.push(f);
  }
  const dual = ipFamily === 'dual';
  if (dual && (families.length > 2 || (families.length === 2 && families[0] === families[1]))) return 'expected one (IPv4 or IPv6) CIDR or two CIDRs from each family for dual-stack networking';
  if (!dual && families.length > 1) return 'only one CIDR allowed for single-stack networking';
  if (ipFamily === 'ipv4' && families[0] !== 4) return 'expected IPv4 CIDR for IPv4 family';
  if (ipFamily === 'ipv6' && families[0] !== 6) return 'expected IPv6 CIDR for IPv6 family';
  return undefined;
}

/** k8s' aggregate error text: one error as is, several as "[a, b]". */
const aggregate = (errs: string[]): string => (errs.length === 1 ? (errs[0] ?? '') : `[${errs.join(', ')}]`);

/** Cluster.Validate, with kind's messages. */
export function validateConfig(c: ClusterConfig): void {
  const errs: string[] = [];
  const nameRe = '^[a-z0-9.-]+$';
  if (!new RegExp(nameRe).test(c.name)) errs.push(`'${c.name}' is not a valid cluster name, cluster names must match \`${nameRe}\``);
  const badPort = (p: number) => p < -1 || p > 65535;
  if (c.networking.apiServerPort !== 0 && badPort(c.networking.apiServerPort)) errs.push(`invalid apiServerPort: invalid port number: ${c.networking.apiServerPort}`);
  if (!['ipv4', 'ipv6', 'dual'].includes(c.networking.ipFamily)) errs.push(`invalid ipFamily: ${c.networking.ipFamily}`);
  const pod = subnetErrors(c.networking.podSubnet, c.networking.ipFamily);
  if (pod) errs.push(`invalid pod subnet ${pod}`);
  const svc = subnetErrors(c.networking.serviceSubnet, c.networking.ipFamily);
  if (svc) errs.push(`invalid service subnet ${svc}`);
  if (!['iptables', 'ipvs', 'none', 'nftables'].includes(c.networking.kubeProxyMode)) errs.push(`invalid kubeProxyMode: ${c.networking.kubeProxyMode}`);
  c.nodes.forEach((n, i) => {
    const nodeErrs: string[] = [];
    if (n.role !== 'control-plane' && n.role !== 'worker') nodeErrs.push(`"${n.role}" is not a valid node role`);
    if (!n.image) nodeErrs.push('image is a required field');
    for (const m of n.extraPortMappings) {
      if (badPort(m.hostPort)) nodeErrs.push(`invalid hostPort: invalid port number: ${m.hostPort}`);
      if (badPort(m.containerPort)) nodeErrs.push(`invalid containerPort: invalid port number: ${m.containerPort}`);
    }
    const dup = duplicateMapping(n.extraPortMappings);
    if (dup) nodeErrs.push(`invalid portMapping: ${dup}`);
    if (nodeErrs.length) errs.push(`invalid configuration for node ${i}: ${aggregate(nodeErrs)}`);
  });
  if (!c.nodes.some((n) => n.role === 'control-plane')) errs.push('must have at least one control-plane node');
  if (errs.length) throw new KindError(aggregate(errs));
}

/** validatePortMappings: the same listen address (or a wildcard), host port and protocol twice. */
function duplicateMapping(mappings: PortMapping[]): string | undefined {
  const seen = new Map<string, Set<string>>();
  for (const m of mappings) {
    if (m.hostPort === -1 || m.hostPort === 0) continue;
    let addr = m.listenAddress || '0.0.0.0';
    if (!/^[\d.]+$|:/.test(addr)) return `invalid listen address: ${m.listenAddress}`;
    const key = `${m.hostPort}/${m.protocol}`;
    const err = `port mapping with same listen address, port and protocol already configured: ${addr}:${key}`;
    if (addr === '::') addr = '0.0.0.0';
    const addrs = seen.get(key);
    if (addrs) {
      if (addr === '0.0.0.0' && addrs.size > 0) return err;
      if (addrs.has(addr) || addrs.has('0.0.0.0')) return err;
    } else {
      seen.set(key, new Set());
    }
    seen.get(key)?.add(addr);
  }
  return undefined;
}

/** "kindest/node:v1.31.0@sha256:…" -> "v1.31.0" (the stand-in reports it); undefined without a version tag. */
export function kubernetesVersionOf(image: string): string | undefined {
  const ref = image.split('@')[0] ?? '';
  const tag = ref.slice(ref.lastIndexOf('/') + 1).split(':')[1];
  return tag && /^v\d+\.\d+\.\d+/.test(tag) ? tag : undefined;
}
