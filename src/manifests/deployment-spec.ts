import { AlibabaAlb } from '../alibaba-alb';
import {
  DEREGISTRATION_DELAY_ANNOTATION, DRAIN_TIMEOUT_ANNOTATION, DRAINS_ON_STOP_SIGNAL_ANNOTATION, STOP_SIGNAL_ANNOTATION,
  LEGACY_DRAINS_ON_SIGTERM_ANNOTATION, SAFETY_MARGIN_ANNOTATION,
} from '../budget-annotations';
import { TencentClb } from '../tencent-clb';
import { loadManifests } from './topology';

/** The annotation the GracefulWebService construct puts on its Deployment. */
export { DEREGISTRATION_DELAY_ANNOTATION };

/** Default deregistration delays per default ingress class (seconds), as the providers define them. */
export const INGRESS_CLASS_DEREGISTRATION_DELAY: Record<string, number> = {
  alb: AlibabaAlb.DOCUMENTED_DEREGISTRATION_DELAY.toSeconds(),
  qcloud: TencentClb.DOCUMENTED_DEREGISTRATION_DELAY.toSeconds(),
};

/** How the preStop hook of the first container looks. */
export type PreStopHook =
  | { readonly kind: 'exec'; readonly command: string[] }
  | { readonly kind: 'sleep'; readonly seconds: number }
  | PreStopHttpGet;

/** An `httpGet` preStop hook: the kubelet requests the container's own port and waits for the answer. */
export interface PreStopHttpGet {
  readonly kind: 'httpGet';
  readonly path: string;
  /** A number, or the name of one of the container's ports. */
  readonly port: number | string;
  /** `httpGet.host`, when set (the pod's IP otherwise). */
  readonly host?: string;
  readonly scheme: string;
}

export interface ReadinessProbeSpec {
  readonly path: string;
  readonly port?: number | string;
  readonly initialDelaySeconds: number;
  readonly periodSeconds: number;
  readonly successThreshold: number;
  readonly failureThreshold: number;
}

export interface RolloutStrategy {
  readonly type: 'RollingUpdate' | 'Recreate';
  /** As written in the manifest (int or percent string); default 25%. */
  readonly maxSurge: number | string;
  /** As written in the manifest (int or percent string); default 25%. */
  readonly maxUnavailable: number | string;
}

/** Where the deregistration delay came from. */
export type DeregistrationSource = 'annotation' | 'ingress-class' | 'none';

/** Where the app's drain behaviour came from. */
export interface DrainDeclaration {
  readonly drains: boolean;
  readonly annotation: string;
}

/** Everything `gws rehearse` needs from a synthesized manifest. */
export interface DeploymentSpec {
  readonly name: string;
  readonly replicas: number;
  readonly strategy: RolloutStrategy;
  readonly minReadySeconds: number;
  readonly terminationGracePeriodSeconds: number;
  readonly containerName: string;
  readonly preStop?: PreStopHook;
  readonly readinessProbe?: ReadinessProbeSpec;
  /** Deregistration delay in seconds, if the manifest says (annotation or ingress class). */
  readonly deregistrationDelaySeconds?: number;
  readonly deregistrationSource: DeregistrationSource;
  /** Budget annotations: drain timeout S and safety margin M (seconds), when present. */
  readonly drainTimeoutSeconds?: number;
  readonly safetyMarginSeconds?: number;
  /** `drains-on-stop-signal` (or the legacy `drains-on-sigterm`) annotation, when present. */
  readonly drainDeclaration?: DrainDeclaration;
  /** `lifecycle.stopSignal` of the container (Kubernetes 1.33 alpha), when present. */
  readonly stopSignal?: string;
  /** The `stop-signal` budget annotation: the signal the image's STOPSIGNAL sends, as the author declared it. */
  readonly declaredStopSignal?: string;
  /** The pod template's spec, as written (readiness gates, ...). */
  readonly podSpec: Obj;
}

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

import type { KubeObject } from './topology';
export type { KubeObject };
type Obj = Record<string, any>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown, what: string, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  throw new ManifestError(`${what} must be a non-negative number, got ${JSON.stringify(v)}`);
}

function intOrPercent(v: unknown, what: string): number | string {
  if (v === undefined || v === null) return '25%';
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === 'string' && /^\d+%$/.test(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  throw new ManifestError(`${what} must be an integer or a percentage, got ${JSON.stringify(v)}`);
}

/**
 * Resolve an int-or-percent against a replica count, the way the Deployment controller does
 * (`intstr.GetScaledValueFromIntOrPercent`): surge rounds up, unavailable rounds down.
 */
export function scaleIntOrPercent(value: number | string, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const pct = Number(value.slice(0, -1));
  const exact = (pct * total) / 100;
  // Avoid 0.1+0.2 style surprises before rounding.
  const fixed = Math.round(exact * 1e9) / 1e9;
  return roundUp ? Math.ceil(fixed) : Math.floor(fixed);
}

/**
 * maxSurge / maxUnavailable as absolute pod counts (Kubernetes `ResolveFenceposts`):
 * if both resolve to 0, maxUnavailable becomes 1 so the rollout can make progress.
 */
export function resolveFenceposts(strategy: RolloutStrategy, replicas: number): { maxSurge: number; maxUnavailable: number } {
  const maxSurge = scaleIntOrPercent(strategy.maxSurge, replicas, true);
  let maxUnavailable = scaleIntOrPercent(strategy.maxUnavailable, replicas, false);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

function parsePreStop(container: Obj): PreStopHook | undefined {
  const preStop = container.lifecycle?.preStop;
  if (!isObj(preStop)) return undefined;
  if (isObj(preStop.exec)) {
    const command = preStop.exec.command;
    if (!Array.isArray(command) || command.length === 0 || !command.every((c) => typeof c === 'string')) {
      throw new ManifestError('lifecycle.preStop.exec.command must be a non-empty array of strings');
    }
    return { kind: 'exec', command: [...command] };
  }
  if (isObj(preStop.sleep)) {
    return { kind: 'sleep', seconds: num(preStop.sleep.seconds, 'lifecycle.preStop.sleep.seconds', 0) };
  }
  if (isObj(preStop.httpGet)) {
    const get = preStop.httpGet;
    if (typeof get.port !== 'number' && typeof get.port !== 'string') {
      throw new ManifestError('lifecycle.preStop.httpGet.port must be a port number or name');
    }
    return {
      kind: 'httpGet',
      path: typeof get.path === 'string' ? get.path : '/',
      port: get.port,
      host: typeof get.host === 'string' && get.host !== '' ? get.host : undefined,
      scheme: typeof get.scheme === 'string' ? get.scheme.toUpperCase() : 'HTTP',
    };
  }
  return undefined;
}

function parseReadiness(container: Obj): ReadinessProbeSpec | undefined {
  const probe = container.readinessProbe;
  if (!isObj(probe)) return undefined;
  if (!isObj(probe.httpGet)) {
    throw new ManifestError('only httpGet readiness probes are supported by gws rehearse');
  }
  return {
    path: typeof probe.httpGet.path === 'string' ? probe.httpGet.path : '/',
    port: probe.httpGet.port,
    initialDelaySeconds: num(probe.initialDelaySeconds, 'readinessProbe.initialDelaySeconds', 0),
    periodSeconds: num(probe.periodSeconds, 'readinessProbe.periodSeconds', 10),
    successThreshold: num(probe.successThreshold, 'readinessProbe.successThreshold', 1),
    failureThreshold: num(probe.failureThreshold, 'readinessProbe.failureThreshold', 3),
  };
}

/** Deregistration delay implied by an Ingress object, if its class is one we know. */
export function ingressDeregistrationDelay(ingress: Obj): number | undefined {
  const className = ingress.spec?.ingressClassName;
  const legacy = ingress.metadata?.annotations?.['kubernetes.io/ingress.class'];
  for (const c of [className, legacy]) {
    if (typeof c === 'string' && c in INGRESS_CLASS_DEREGISTRATION_DELAY) return INGRESS_CLASS_DEREGISTRATION_DELAY[c];
  }
  return undefined;
}

/** Every object of a (multi-document) manifest (through the shared topology loader). */
export function parseObjects(text: string, file = '<manifest>'): KubeObject[] {
  return loadManifests([{ file, text }]).map((o) => o.object);
}

/** The apps/v1 Deployments of a manifest. */
export function deploymentsOf(objects: readonly KubeObject[]): KubeObject[] {
  return objects.filter((o) => o.apiVersion === 'apps/v1' && o.kind === 'Deployment');
}

/**
 * Pick one Deployment: the one named `name`, or the only one. Several without a name is an
 * error that lists them (a rehearsal of the wrong Deployment proves nothing).
 */
export function chooseDeployment(objects: readonly KubeObject[], name?: string): KubeObject {
  const deployments = deploymentsOf(objects);
  if (deployments.length === 0) throw new ManifestError('manifest has no apps/v1 Deployment');
  const names = deployments.map((d) => String(d.metadata?.name ?? '?'));
  if (name !== undefined) {
    const found = deployments.find((d) => d.metadata?.name === name);
    if (!found) throw new ManifestError(`no Deployment named ${name}; the manifest has: ${names.join(', ')}`);
    return found;
  }
  if (deployments.length > 1) throw new ManifestError(`the manifest has ${deployments.length} Deployments (${names.join(', ')}): choose one with --deployment NAME`);
  return deployments[0];
}

function optionalSeconds(annotations: Obj, key: string): number | undefined {
  const v = annotations[key];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new ManifestError(`annotation ${key} must be a number of seconds, got ${JSON.stringify(v)}`);
  return n;
}

function drainDeclaration(annotations: Obj): DrainDeclaration | undefined {
  for (const key of [DRAINS_ON_STOP_SIGNAL_ANNOTATION, LEGACY_DRAINS_ON_SIGTERM_ANNOTATION]) {
    const v = annotations[key];
    if (v === undefined) continue;
    if (v !== 'true' && v !== 'false' && v !== true && v !== false) {
      throw new ManifestError(`annotation ${key} must be "true" or "false", got ${JSON.stringify(v)}`);
    }
    return { drains: v === 'true' || v === true, annotation: key };
  }
  return undefined;
}

/** Parse a (multi-document) manifest and extract one apps/v1 Deployment (`name`, or the only one). */
export function parseManifest(text: string, name?: string): DeploymentSpec {
  const objects = parseObjects(text);
  return deploymentSpec(chooseDeployment(objects, name), objects);
}

/** What a rehearsal needs from one Deployment (`objects`: the whole manifest, for the Ingress class fallback). */
export function deploymentSpec(deployment: KubeObject, objects: readonly KubeObject[]): DeploymentSpec {
  const name = String(deployment.metadata?.name ?? 'deployment');
  const spec: Obj = isObj(deployment.spec) ? deployment.spec : {};
  const podSpec: Obj = isObj(spec.template?.spec) ? spec.template.spec : {};
  const containers = podSpec.containers;
  if (!Array.isArray(containers) || containers.length === 0 || !isObj(containers[0])) {
    throw new ManifestError(`Deployment ${name} has no containers`);
  }
  const container: Obj = containers[0];

  const strategyType = spec.strategy?.type ?? 'RollingUpdate';
  if (strategyType !== 'RollingUpdate' && strategyType !== 'Recreate') {
    throw new ManifestError(`unknown Deployment strategy type ${JSON.stringify(strategyType)}`);
  }
  const ru: Obj = isObj(spec.strategy?.rollingUpdate) ? spec.strategy.rollingUpdate : {};
  const strategy: RolloutStrategy = {
    type: strategyType,
    maxSurge: intOrPercent(ru.maxSurge, 'spec.strategy.rollingUpdate.maxSurge'),
    maxUnavailable: intOrPercent(ru.maxUnavailable, 'spec.strategy.rollingUpdate.maxUnavailable'),
  };
  const replicas = num(spec.replicas, 'spec.replicas', 1);
  const rawZero = (v: number | string) => v === 0 || v === '0%';
  if (strategy.type === 'RollingUpdate' && rawZero(strategy.maxSurge) && rawZero(strategy.maxUnavailable)) {
    // Same rule as the API server's Deployment validation.
    throw new ManifestError('spec.strategy.rollingUpdate: maxSurge and maxUnavailable cannot both be 0');
  }

  const annotations: Obj = isObj(deployment.metadata?.annotations) ? deployment.metadata.annotations : {};
  let deregistrationDelaySeconds = optionalSeconds(annotations, DEREGISTRATION_DELAY_ANNOTATION);
  let deregistrationSource: DeregistrationSource = deregistrationDelaySeconds !== undefined ? 'annotation' : 'none';
  if (deregistrationDelaySeconds === undefined) {
    for (const o of objects) {
      if (o.kind !== 'Ingress') continue;
      const d = ingressDeregistrationDelay(o);
      if (d !== undefined) {
        deregistrationDelaySeconds = d;
        deregistrationSource = 'ingress-class';
        break;
      }
    }
  }
  const stopSignal = container.lifecycle?.stopSignal;

  return {
    name,
    replicas,
    strategy,
    minReadySeconds: num(spec.minReadySeconds, 'spec.minReadySeconds', 0),
    terminationGracePeriodSeconds: num(podSpec.terminationGracePeriodSeconds, 'terminationGracePeriodSeconds', 30),
    containerName: String(container.name ?? 'app'),
    preStop: parsePreStop(container),
    readinessProbe: parseReadiness(container),
    deregistrationDelaySeconds,
    deregistrationSource,
    drainTimeoutSeconds: optionalSeconds(annotations, DRAIN_TIMEOUT_ANNOTATION),
    safetyMarginSeconds: optionalSeconds(annotations, SAFETY_MARGIN_ANNOTATION),
    drainDeclaration: drainDeclaration(annotations),
    stopSignal: typeof stopSignal === 'string' ? stopSignal : undefined,
    declaredStopSignal: annotations[STOP_SIGNAL_ANNOTATION] !== undefined ? String(annotations[STOP_SIGNAL_ANNOTATION]) : undefined,
    podSpec,
  };
}
