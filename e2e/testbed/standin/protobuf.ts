// Decodes the few protobuf request bodies kubectl sends. Its typed commands
// (`kubectl create namespace`, `kubectl create service nodeport`, …) post
// `application/vnd.kubernetes.protobuf`, not JSON: the "k8s\0" magic, then a
// runtime.Unknown { typeMeta = 1 { apiVersion = 1, kind = 2 }, raw = 2 }, raw
// being the object in k8s.io/api's generated.proto numbering. Only Namespace
// and Service are decoded (field numbers checked against kubectl 1.32's own
// bodies); anything else is refused with 415 by the caller.

type Field = { wire: number; num: bigint; bytes: Buffer };

/** A message as field number → values in order (wire types 0 and 2 only; others are skipped). */
function parse(buf: Buffer): Map<number, Field[]> {
  const fields = new Map<number, Field[]>();
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated varint');
      const byte = buf[pos++] ?? 0;
      result |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    let value: Field;
    if (wire === 0) value = { wire, num: varint(), bytes: Buffer.alloc(0) };
    else if (wire === 2) {
      const len = Number(varint());
      value = { wire, num: 0n, bytes: buf.subarray(pos, pos + len) };
      pos += len;
    } else if (wire === 1) {
      pos += 8;
      continue;
    } else if (wire === 5) {
      pos += 4;
      continue;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
    const list = fields.get(field) ?? [];
    list.push(value);
    fields.set(field, list);
  }
  return fields;
}

const str = (m: Map<number, Field[]>, n: number): string | undefined => {
  const f = m.get(n)?.at(-1);
  return f ? f.bytes.toString('utf8') : undefined;
};
const int = (m: Map<number, Field[]>, n: number): number | undefined => {
  const f = m.get(n)?.at(-1);
  return f ? Number(BigInt.asIntN(64, f.num)) : undefined;
};
const msg = (m: Map<number, Field[]>, n: number): Map<number, Field[]> | undefined => {
  const f = m.get(n)?.at(-1);
  return f ? parse(f.bytes) : undefined;
};
const msgs = (m: Map<number, Field[]>, n: number): Map<number, Field[]>[] => (m.get(n) ?? []).map((f) => parse(f.bytes));
/** map<string,string>: repeated entries { key = 1, value = 2 }. */
const strMap = (m: Map<number, Field[]>, n: number): Record<string, string> | undefined => {
  const entries = msgs(m, n);
  return entries.length ? Object.fromEntries(entries.map((e) => [str(e, 1) ?? '', str(e, 2) ?? ''])) : undefined;
};
/** Drops empty strings and undefined: proto3 sends "" for unset strings. */
const clean = (o: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== ''));

function objectMeta(m: Map<number, Field[]> | undefined): Record<string, unknown> {
  if (!m) return {};
  return clean({ name: str(m, 1), generateName: str(m, 2), namespace: str(m, 3), labels: strMap(m, 11), annotations: strMap(m, 12) });
}

function serviceSpec(m: Map<number, Field[]> | undefined): Record<string, unknown> {
  if (!m) return {};
  const ports = msgs(m, 1).map((p) => {
    const target = msg(p, 4);
    // IntOrString { type = 1 (0 int, 1 string), intVal = 2, strVal = 3 }
    const targetPort = target ? (int(target, 1) === 1 ? str(target, 3) : int(target, 2)) : undefined;
    return clean({ name: str(p, 1), protocol: str(p, 2), port: int(p, 3), targetPort: targetPort === 0 ? undefined : targetPort, nodePort: int(p, 5) || undefined });
  });
  return clean({
    ports, selector: strMap(m, 2), clusterIP: str(m, 3), type: str(m, 4), sessionAffinity: str(m, 7),
    externalTrafficPolicy: str(m, 11),
  });
}

/** The JSON equivalent of a protobuf request body, or undefined for a kind this stand-in cannot decode. */
export function decodeProtobufBody(body: Buffer): Record<string, unknown> | undefined {
  if (body.length < 4 || body.subarray(0, 4).toString('latin1') !== 'k8s\0') throw new Error('not a Kubernetes protobuf body (no k8s magic)');
  const unknown = parse(body.subarray(4));
  const typeMeta = msg(unknown, 1);
  const apiVersion = typeMeta ? str(typeMeta, 1) : undefined;
  const kind = typeMeta ? str(typeMeta, 2) : undefined;
  const raw = unknown.get(2)?.at(-1)?.bytes;
  if (!raw || apiVersion !== 'v1') return undefined;
  const object = parse(raw);
  switch (kind) {
    case 'Namespace':
      return { apiVersion, kind, metadata: objectMeta(msg(object, 1)) };
    case 'Service':
      return { apiVersion, kind, metadata: objectMeta(msg(object, 1)), spec: serviceSpec(msg(object, 2)) };
    default:
      return undefined;
  }
}

/** The kind a protobuf body carries, for error messages. */
export function protobufKind(body: Buffer): string {
  try {
    const typeMeta = msg(parse(body.subarray(4)), 1);
    return (typeMeta && str(typeMeta, 2)) || 'unknown';
  } catch {
    return 'unknown';
  }
}
