/**
 * Objects defined more than once in the input (issue 16 class 5). A directory of manifests is one
 * cluster's worth of objects: two definitions of the same kind, namespace and name are one object,
 * and `kubectl apply` leaves the later one in place. The audit sees each object once (the later
 * definition) and reports every duplicate, so nothing is overwritten, or counted twice, silently.
 */
import type { Severity } from './rules';
import { Map3 } from '../manifests/nested-map';
import { KubeObject, LoadedObject, namespaceOf } from '../manifests/topology';

/**
 * Built-in kinds that are cluster-scoped: their identity has no namespace, so two IngressClasses
 * (or Namespaces, ClusterRoles...) of one name are the same object wherever they say they are.
 * From the Kubernetes API reference (kubectl api-resources --namespaced=false).
 */
const CLUSTER_SCOPED_KINDS = new Set([
  'APIService', 'CertificateSigningRequest', 'ClusterRole', 'ClusterRoleBinding', 'ComponentStatus', 'CSIDriver', 'CSINode',
  'CustomResourceDefinition', 'FlowSchema', 'GatewayClass', 'IngressClass', 'MutatingWebhookConfiguration', 'Namespace', 'Node',
  'PersistentVolume', 'PriorityClass', 'PriorityLevelConfiguration', 'RuntimeClass', 'StorageClass', 'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding', 'ValidatingWebhookConfiguration', 'VolumeAttachment',
]);

/** Whether a kind is cluster-scoped (built-in kinds only; custom resources are taken as namespaced). */
export function isClusterScoped(kind: string): boolean {
  return CLUSTER_SCOPED_KINDS.has(kind);
}

/** One later definition of an object already defined earlier in the input. */
export interface DuplicateObject {
  /** The later definition: the one the audit keeps (what `kubectl apply` leaves in place). */
  readonly object: LoadedObject;
  /** The earlier definition it replaces. */
  readonly earlier: LoadedObject;
  /** Whether both say exactly the same. */
  readonly identical: boolean;
}

/** An object's identity: kind, namespace (none when cluster-scoped) and name; undefined without a name. */
function identity(object: KubeObject, defaultNamespace: string): [kind: string, namespace: string, name: string] | undefined {
  const kind = object.kind;
  const name = object.metadata?.name;
  if (typeof kind !== 'string' || typeof name !== 'string' || name === '') return undefined;
  return [kind, isClusterScoped(kind) ? '' : namespaceOf(object, defaultNamespace), name];
}

/**
 * Deep equality of two parsed values, without recursion (input may be nested deeply). Key order
 * does not matter, as for the API server.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  const pending: [unknown, unknown][] = [[a, b]];
  while (pending.length > 0) {
    const [x, y] = pending.pop()!;
    if (x === y) continue;
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) {
      if (Number.isNaN(x) && Number.isNaN(y)) continue;
      return false;
    }
    if (Array.isArray(x) !== Array.isArray(y)) return false;
    const xs = x as { [key: string]: unknown };
    const ys = y as { [key: string]: unknown };
    const keys = Object.keys(xs);
    if (keys.length !== Object.keys(ys).length) return false;
    for (const key of keys) {
      if (!Object.prototype.hasOwnProperty.call(ys, key)) return false;
      pending.push([xs[key], ys[key]]);
    }
  }
  return true;
}

/**
 * The objects with each identity once (the later definition, at the position of the first), and
 * the duplicates found. Objects without a kind or name are all kept.
 */
export function distinctObjects(objects: readonly LoadedObject[], defaultNamespace: string): {
  readonly objects: LoadedObject[]; readonly duplicates: DuplicateObject[];
} {
  const kept: LoadedObject[] = [];
  const index = new Map3<number>();
  const duplicates: DuplicateObject[] = [];
  for (const o of objects) {
    const key = identity(o.object, defaultNamespace);
    const at = key === undefined ? undefined : index.get(...key);
    if (at === undefined) {
      if (key !== undefined) index.set(...key, kept.length);
      kept.push(o);
      continue;
    }
    const earlier = kept[at];
    duplicates.push({ object: o, earlier, identical: sameValue(earlier.object, o.object) });
    kept[at] = o;
  }
  return { objects: kept, duplicates };
}

/** The finding a duplicate deserves: a warning for an identical copy, an error when they differ. */
export function describeDuplicate(d: DuplicateObject): { message: string; description: string; severity: Severity } {
  const o = d.object.object;
  const where = `${d.earlier.source.file}:${d.earlier.source.line}:${d.earlier.source.column}`;
  const scope = isClusterScoped(String(o.kind)) ? ` (cluster-scoped: one ${o.kind} of this name per cluster, whatever the namespace)` : '';
  if (d.identical) {
    return {
      message: `${o.kind} ${o.metadata.name} is also defined, identically, at ${where}${scope}; it is audited once`,
      description: 'remove one of the copies (or give check each app\'s files separately)',
      severity: 'warning',
    };
  }
  return {
    message: `${o.kind} ${o.metadata.name} is also defined at ${where}, differently${scope}: applied together, this definition replaces that one, `
      + 'so only this one is audited',
    description: 'rename one of them, put them in different namespaces, or give check each app\'s files separately',
    severity: 'error',
  };
}
