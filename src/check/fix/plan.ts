/**
 * From findings to edits: the structured `fix.set` of each finding (field paths and values),
 * resolved against the object it is about. Only rules whose fix is safe to apply unasked are
 * applied; the others are listed with the reason (a fix that needs a decision, another object).
 */
import { KubeObject, LoadedObject, SourceLocation } from '../../manifests/topology';
import type { Finding } from '../audit';
import { parseFieldPath, resolvePath } from './paths';
import { FixPreStopAction, preStopEdit } from './prestop';

/** One change to one object: a value at a path, or `null` to remove the field. */
export interface FieldEdit {
  readonly path: (string | number)[];
  readonly value: unknown;
}

/** The edits to one object, and the objects to add after it. */
export interface ObjectEdits {
  readonly target: LoadedObject;
  readonly edits: FieldEdit[];
  /** New objects (a PodDisruptionBudget for a Deployment), written next to the target. */
  readonly added: KubeObject[];
  /** The rules these edits fix. */
  readonly rules: string[];
}

/** A finding `--fix` leaves to a person, and why. */
export interface ManualFix {
  readonly finding: Finding;
  readonly reason: string;
}

export interface FixPlan {
  readonly objects: ObjectEdits[];
  readonly manual: ManualFix[];
}

export interface FixPlanOptions {
  /** How a missing preStop wait is written. @default 'exec-sleep' */
  readonly preStopAction?: FixPreStopAction;
}

/** Rules whose fix needs a decision the manifest cannot make: never applied, with the reason. */
const NEEDS_A_DECISION: { readonly [rule: string]: string } = {
  'readiness-probe-missing': 'a probe path cannot be known from the manifest; a wrong one keeps every new pod unready',
  'alb-readiness-gate-without-direct-access': 'it needs a decision: pod targets (and the networking they need) or no readiness gate',
  'tencent-grace-shutdown-without-direct-access': 'direct access needs VPC-CNI networking or GlobalRouteDirectAccess on the cluster',
};

/** Why a finding without fields to set has no automatic fix. */
const NO_FIELDS: { readonly [rule: string]: string } = {
  'provider-unknown': 'the load balancer must be named (--provider or --deregistration-delay)',
  'broken-reference': 'the input is incomplete or a name is wrong',
};

const PRESTOP = /^(spec\.template\.spec\.(?:containers|initContainers)\[[^\]]*\])\.lifecycle\.preStop$/;

export function locationKey(location: SourceLocation): string {
  return `${location.file}\u0000${location.line}\u0000${location.column}`;
}

/** Whether an object of that kind, namespace and name is in the input. */
type Taken = (kind: string, ns: string, name: string) => boolean;

/** The API versions of the objects a fix may add (`Kind.spec` in `fix.set`). */
const NEW_OBJECT_API_VERSIONS: { readonly [kind: string]: string } = {
  PodDisruptionBudget: 'policy/v1',
};

/**
 * A new object from a `Kind.spec` field of a fix, named after the object the finding is about
 * (with `-<kind>` when that name is taken), in its namespace.
 */
function newObject(kind: string, spec: unknown, about: KubeObject, taken: Taken): KubeObject | undefined {
  const apiVersion = NEW_OBJECT_API_VERSIONS[kind];
  if (apiVersion === undefined || spec === null || typeof spec !== 'object') return undefined;
  const namespace = typeof about.metadata?.namespace === 'string' ? about.metadata.namespace : undefined;
  const base = String(about.metadata?.name ?? 'app');
  const name = taken(kind, namespace ?? '', base) ? `${base}-${kind.toLowerCase()}` : base;
  return { apiVersion, kind, metadata: { name, ...(namespace !== undefined ? { namespace } : {}) }, spec };
}

/** The edits of one finding, or the reason there are none. */
function findingEdits(
  finding: Finding, object: KubeObject, options: FixPlanOptions, taken: Taken,
): { edits: FieldEdit[]; added: KubeObject[] } | string {
  const decision = NEEDS_A_DECISION[finding.rule];
  if (decision !== undefined) return decision;
  const set = finding.fix.set;
  if (set === undefined || Object.keys(set).length === 0) return NO_FIELDS[finding.rule] ?? 'the finding names no field to set';
  const edits: FieldEdit[] = [];
  const added: KubeObject[] = [];
  for (const [field, value] of Object.entries(set)) {
    const other = /^([A-Z]\w*)\.spec$/.exec(field);
    if (other !== null) {
      const created = newObject(other[1], value, object, taken);
      if (created === undefined) return `${field} would need a new ${other[1]}`;
      added.push(created);
      continue;
    }
    const preStop = PRESTOP.exec(field);
    const steps = parseFieldPath(preStop !== null ? preStop[1] : field);
    const path = steps === undefined ? undefined : resolvePath(object, steps);
    // A path that leaves the object (another object's fields, `[]` over many) is not an edit of it.
    if (path === undefined || /^[A-Z]/.test(String(path[0]))) return `${field} cannot be set on ${object.kind} ${object.metadata?.name}`;
    if (preStop !== null) {
      const seconds = finding.fix.budget?.preStopSleepSeconds;
      if (seconds === undefined) return 'the finding gives no preStop wait';
      const container = path.reduce((o: any, k) => o?.[k], object);
      const edit = preStopEdit(container ?? {}, seconds, options.preStopAction ?? 'exec-sleep');
      if ('manual' in edit) return edit.manual;
      edits.push({ path: [...path, ...edit.path], value: edit.value });
    } else {
      edits.push({ path, value });
    }
  }
  if (finding.rule === 'gke-gateway-no-connection-draining' && object.kind !== 'GCPBackendPolicy') {
    return 'no GCPBackendPolicy targets the Service: add one with spec.default.connectionDraining.drainingTimeoutSec';
  }
  return { edits, added };
}

/** A numeric field set by several findings takes the largest value (a longer grace covers both). */
function merge(into: FieldEdit[], edit: FieldEdit): void {
  const key = JSON.stringify(edit.path);
  const existing = into.findIndex((e) => JSON.stringify(e.path) === key);
  if (existing < 0) {
    into.push(edit);
  } else if (typeof into[existing].value === 'number' && typeof edit.value === 'number') {
    into[existing] = { path: edit.path, value: Math.max(into[existing].value as number, edit.value) };
  } else {
    into[existing] = edit;
  }
}

/** Plans the edits for `findings` over `objects` (the objects the audit read). */
export function planFixes(findings: readonly Finding[], objects: readonly LoadedObject[], options: FixPlanOptions = {}): FixPlan {
  const byLocation = new Map(objects.map((o) => [locationKey(o.source), o]));
  const names = new Set(objects.map((o) => `${o.object.kind}\u0000${o.object.metadata?.namespace ?? ''}\u0000${o.object.metadata?.name}`));
  const taken: Taken = (kind, ns, name) => names.has(`${kind}\u0000${ns}\u0000${name}`);
  const planned = new Map<LoadedObject, ObjectEdits>();
  const manual: ManualFix[] = [];
  for (const finding of findings) {
    const target = byLocation.get(locationKey(finding.location));
    if (target === undefined) {
      manual.push({ finding, reason: 'the object was not found in the input' });
      continue;
    }
    const found = findingEdits(finding, target.object, options, taken);
    if (typeof found === 'string') {
      manual.push({ finding, reason: found });
      continue;
    }
    let entry = planned.get(target);
    if (entry === undefined) {
      entry = { target, edits: [], added: [], rules: [] };
      planned.set(target, entry);
    }
    for (const edit of found.edits) merge(entry.edits, edit);
    for (const o of found.added) {
      const key = `${o.kind}\u0000${o.metadata.namespace ?? ''}\u0000${o.metadata.name}`;
      if (names.has(key)) continue;
      names.add(key);
      entry.added.push(o);
    }
    if (!entry.rules.includes(finding.rule)) entry.rules.push(finding.rule);
  }
  return { objects: [...planned.values()], manual };
}
