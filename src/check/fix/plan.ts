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

/** The edits to one object. */
export interface ObjectEdits {
  readonly target: LoadedObject;
  readonly edits: FieldEdit[];
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

/** Why a rule is not fixed automatically. Rules not listed here and not in AUTOMATIC are manual too. */
const MANUAL_REASONS: { readonly [rule: string]: string } = {
  'readiness-probe-missing': 'a probe path cannot be known from the manifest; a wrong one keeps every new pod unready',
  'pdb-missing': 'it needs a new object',
  'alb-readiness-gate-without-direct-access': 'it needs a decision: pod targets (and the networking they need) or no readiness gate',
  'tencent-grace-shutdown-without-direct-access': 'direct access needs VPC-CNI networking or GlobalRouteDirectAccess on the cluster',
  'provider-unknown': 'the load balancer must be named (--provider or --deregistration-delay)',
  'broken-reference': 'the input is incomplete or a name is wrong',
};

const AUTOMATIC = new Set([
  'prestop-wait-missing', 'prestop-wait-too-short', 'prestop-wait-no-headroom', 'prestop-wait-unrecognised',
  'grace-period-too-short', 'sleep-action-exceeds-grace', 'recreate-strategy', 'max-unavailable-drops-capacity',
  'progress-deadline-too-short', 'alibaba-connection-drain-too-short', 'aws-deregistration-delay-too-short',
  'gke-draining-timeout-too-short', 'gke-gateway-no-connection-draining', 'ingress-class-conflict', 'pdb-blocks-drain',
  'health-check-mismatch',
]);

const PRESTOP = /^(spec\.template\.spec\.(?:containers|initContainers)\[[^\]]*\])\.lifecycle\.preStop$/;

export function locationKey(location: SourceLocation): string {
  return `${location.file}\u0000${location.line}\u0000${location.column}`;
}

/** The edits of one finding, or the reason there are none. */
function findingEdits(finding: Finding, object: KubeObject, options: FixPlanOptions): FieldEdit[] | string {
  if (!AUTOMATIC.has(finding.rule)) return MANUAL_REASONS[finding.rule] ?? 'no automatic fix for this rule';
  const set = finding.fix.set;
  if (set === undefined || Object.keys(set).length === 0) return 'the finding names no field to set';
  const edits: FieldEdit[] = [];
  for (const [field, value] of Object.entries(set)) {
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
  return edits;
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
  const planned = new Map<LoadedObject, ObjectEdits>();
  const manual: ManualFix[] = [];
  for (const finding of findings) {
    const target = byLocation.get(locationKey(finding.location));
    if (target === undefined) {
      manual.push({ finding, reason: 'the object was not found in the input' });
      continue;
    }
    const edits = findingEdits(finding, target.object, options);
    if (typeof edits === 'string') {
      manual.push({ finding, reason: edits });
      continue;
    }
    let entry = planned.get(target);
    if (entry === undefined) {
      entry = { target, edits: [], rules: [] };
      planned.set(target, entry);
    }
    for (const edit of edits) merge(entry.edits, edit);
    if (!entry.rules.includes(finding.rule)) entry.rules.push(finding.rule);
  }
  return { objects: [...planned.values()], manual };
}
