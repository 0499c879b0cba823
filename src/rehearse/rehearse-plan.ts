/**
 * Everything a rehearsal decides before anything starts: the options, and the plan resolved from
 * them and the manifest (lag, registration, readiness gate, app, stop signal, preStop, rate, and
 * the assumptions printed before the run). Refuses what it cannot honour with a RehearsalError.
 */
import * as os from 'node:os';
import {
  DelayDistribution, describeDelay, fixedDelay, healthCheckTiming, HealthCheckTiming, LB_PROFILES, LbContext, LbProfile, LbProfileId,
  readinessGateOf,
} from './lb-profiles';
import { PodApp } from './pod-process';
import { planPreStop, PreStopPlan } from './prestop-plan';
import type { RehearsalStatus } from './status';
import { Assumptions, PodTimeline, round3 } from './timeline';
import { STOP_SIGNAL_ANNOTATION } from '../budget-annotations';
import { LatencyRange, SigtermMode } from '../demo-app/demo-app';
import { DeploymentSpec, resolveFenceposts } from '../manifests/deployment-spec';
import { Arrivals, ProbeSummary } from '../probe/probe';
import { ServerCommandSpec } from '../process/server-command';

/** The default app keep-alive idle timeout: longer than every profile's LB idle timeout (GKE: 600 s). */
export const DEFAULT_APP_KEEP_ALIVE_SECONDS = 620;
/** Default one-way LB-to-pod delay (model ms): a round trip inside a cloud zone is about 0.5-1 ms. */
export const DEFAULT_NETWORK_DELAY_MS = 0.5;

export interface RehearseOptions {
  readonly manifest: DeploymentSpec;
  /** Ingresses, Services and other objects around the Deployment (health checks, readiness gates). */
  readonly context?: LbContext;
  /** Provider profile: lag, registration, health check, idle timeout. */
  readonly provider?: LbProfileId;
  /** Deregistration lag distribution (model s); overrides the profile's. */
  readonly lag?: DelayDistribution;
  /** Fixed lag as a fraction of the manifest's declared D (sensitivity runs); overrides `lag`. */
  readonly lagFractionOfDeclared?: number;
  /** Controller reconcile delay before the LB starts health-checking a new pod; overrides the profile's. */
  readonly registrationReconcile?: DelayDistribution;
  /** The LB's health check for new targets; default: profile default, or the manifest's settings. */
  readonly healthCheck?: { readonly intervalSeconds: number; readonly healthyThreshold: number };
  /** Readiness gate: from the manifest/provider (auto), forced on, or off. */
  readonly readinessGate?: 'auto' | 'on' | 'off';
  /** LB idle timeout for LB-to-pod keep-alive connections (model s); default: the profile's. */
  readonly lbIdleTimeoutSeconds?: number;
  /** Demo app keep-alive idle timeout (model s). Default 620. */
  readonly appKeepAliveSeconds?: number;
  /** One-way LB-to-pod network delay (model ms) for the demo app's idle closes. Default 1. */
  readonly networkDelayMs?: number;
  /** Demo app behaviour on the stop signal; default from the manifest's drains-on-stop-signal annotation, else drain. */
  readonly appMode?: SigtermMode;
  /** Run this real server in each pod instead of the demo app. */
  readonly appCommand?: ServerCommandSpec;
  /** The stop signal; default the manifest's lifecycle.stopSignal, else its stop-signal budget annotation, else SIGTERM. */
  readonly stopSignal?: NodeJS.Signals;
  /** Run preStop commands that are not recognised waits. */
  readonly allowExec?: boolean;
  /** Multiplies every model duration. Default 1. */
  readonly timeScale?: number;
  /** Demo app response time, model ms. Default 0-2000. */
  readonly appLatency?: LatencyRange;
  /** Probe rate in requests per model second. Default 50. */
  readonly rate?: number;
  /** Probe request spacing: fixed intervals or Poisson arrivals (drawn from the seed). Default fixed. */
  readonly arrivals?: Arrivals;
  /** Path the probe requests through the LB (a real server's slow route, for example). Default `/`. */
  readonly probePath?: string;
  /** Keep these response headers in each probe record (`measure --rehearse` reads the lag meter's). */
  readonly captureHeaders?: readonly string[];
  readonly concurrency?: number;
  /** Probe timeout, model seconds. Default 10. */
  readonly probeTimeoutSeconds?: number;
  /** Rolling restarts to run back to back. Default 1. */
  readonly rollouts?: number;
  /** Keep starting rollouts until the probe has sent at least this many requests. */
  readonly minRequests?: number;
  /** Probe time before the first rollout, model seconds. Default 2. */
  readonly warmupSeconds?: number;
  /** Probe time after the last old pod exited, model seconds. Default 2. */
  readonly settleSeconds?: number;
  readonly haproxyPath?: string;
  /** Seed of the delay RNG. Default: random. */
  readonly seed?: number;
  readonly out?: string;
  /** Abort (SIGINT in the CLI): cleans up, rejects with RehearsalInterruptedError carrying the partial result. */
  readonly signal?: AbortSignal;
  /** Give up after this many real seconds. Default 900. */
  readonly maxWallSeconds?: number;
  /** Live log. */
  readonly log?: (line: string) => void;
  /** Called with the assumptions before anything starts. */
  readonly onAssumptions?: (a: Assumptions) => void;
  /** Called once per second while load runs, with the rollout step, pods, requests and time left. */
  readonly onStatus?: (status: RehearsalStatus) => void;
}

export class RehearsalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RehearsalError';
  }
}

/** Thrown when a rehearsal is aborted; carries what was measured until then. */
export class RehearsalInterruptedError extends RehearsalError {
  constructor(public readonly partial: { summary: ProbeSummary; pods: PodTimeline[]; assumptions: Assumptions }) {
    super('interrupted');
    this.name = 'RehearsalInterruptedError';
  }
}

/** Seeded PRNG (Park-Miller minimal standard): reproducible delays, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = (Math.abs(Math.floor(seed)) % 2147483646) + 1;
  const next = () => {
    state = (state * 16807) % 2147483647;
    return (state - 1) / 2147483646;
  };
  for (let i = 0; i < 8; i++) next();
  return next;
}

/** Everything resolved from options + manifest before anything starts. */
export interface RehearsalPlan {
  readonly scale: number;
  readonly lag: DelayDistribution;
  readonly lagText: string;
  readonly reconcile: DelayDistribution;
  readonly healthCheck: HealthCheckTiming;
  /** Model seconds of health checks a new target needs before the LB sends it requests. */
  readonly registrationHealthCheckSeconds: number;
  readonly gate: string | undefined;
  readonly idleTimeout: number;
  readonly app: PodApp;
  readonly appText: string;
  readonly stopSignal: NodeJS.Signals;
  readonly stopSignalText: string;
  readonly plan: PreStopPlan;
  readonly rate: number;
  /** Absolute pod counts (resolved fenceposts; Recreate: 0 and replicas). */
  readonly maxSurge: number;
  readonly maxUnavailable: number;
  readonly assumptions: Assumptions;
}

/** Resolve what the run assumes (exported for tests and `--dry-run`): throws on anything refused or unknown. */
export function resolveRehearsal(options: RehearseOptions): RehearsalPlan {
  const spec = options.manifest;
  if (options.probePath !== undefined && !options.probePath.startsWith('/')) throw new RehearsalError(`probe path must start with /, got ${options.probePath}`);
  const scale = options.timeScale ?? 1;
  if (!(scale > 0)) throw new RehearsalError('time scale must be > 0');
  const profile = options.provider !== undefined ? LB_PROFILES[options.provider] : undefined;
  const context: LbContext = options.context ?? { ingresses: [], services: [], objects: [] };
  const declared = spec.deregistrationDelaySeconds;

  const { lag, lagText } = resolveLag(options, profile, declared);

  const reconcile = options.registrationReconcile ?? profile?.registrationReconcile ?? fixedDelay(0);
  const baseHealthCheck: HealthCheckTiming = profile !== undefined
    ? healthCheckTiming(profile, context, spec.podSpec)
    : { intervalSeconds: 0, healthyThreshold: 0, source: 'none (no provider profile)' };
  const healthCheck: HealthCheckTiming = options.healthCheck !== undefined
    ? { ...options.healthCheck, source: 'given' }
    : baseHealthCheck;
  const detectedGate = profile !== undefined ? readinessGateOf(profile, spec.podSpec, context) : undefined;
  const gate = options.readinessGate === 'on' ? (detectedGate ?? 'forced on (--readiness-gate on)')
    : options.readinessGate === 'off' ? undefined : detectedGate;
  const idleTimeout = options.lbIdleTimeoutSeconds ?? profile?.idleTimeoutSeconds ?? 600;

  const { app, appText, keepAlive } = resolveApp(options, spec);
  const { stopSignal, stopSignalText } = resolveStopSignal(options, spec);
  const plan = planPreStop(spec, { allowExec: options.allowExec, timeScale: scale });
  const rate = options.rate ?? 50;
  const { registrationHealthCheckSeconds, registration } = resolveRegistration(options, profile, healthCheck, reconcile);
  const { maxSurge, maxUnavailable } = fenceposts(spec);
  const assumptions: Assumptions = {
    deployment: `${spec.name}: ${spec.replicas} replicas, ${spec.strategy.type} (maxSurge ${maxSurge}, maxUnavailable ${maxUnavailable})`,
    provider: profile !== undefined ? `${profile.id} (${profile.title})` : 'none (explicit flags)',
    deregistrationLag: lagText,
    declaredDeregistrationDelay: declared === undefined ? 'not declared' : `${declared} s (${spec.deregistrationSource})`,
    registration,
    readinessGate: gate ?? 'none: a new pod is Ready when its readiness probe passes, before the LB routes to it',
    minReadySeconds: spec.minReadySeconds,
    lbIdleTimeoutSeconds: idleTimeout,
    app: appText,
    appKeepAliveSeconds: app.kind === 'demo' ? keepAlive : null,
    stopSignal: stopSignalText,
    preStop: plan.description,
    terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
    timeScale: scale,
    rate: `${rate} requests per model second (${round3(rate / scale)} per real second), ${options.arrivals === 'poisson' ? 'Poisson arrivals' : 'fixed intervals'}, GET ${options.probePath ?? '/'}`,
    warnings: [
      ...plan.warnings,
      ...(options.appCommand !== undefined && scale !== 1
        ? [`time scale ${scale}: the real server's own timing (request and drain durations) is not scaled, so each of its real seconds counts as ${round3(1 / scale)} model seconds; rehearse real servers at --time-scale 1 to judge their budget`]
        : []),
    ],
  };
  return {
    scale,
    lag,
    lagText,
    reconcile,
    healthCheck,
    registrationHealthCheckSeconds,
    gate,
    idleTimeout,
    app,
    appText,
    stopSignal,
    stopSignalText,
    plan,
    rate,
    maxSurge,
    maxUnavailable,
    assumptions,
  };
}

/** The deregistration lag: a fraction of the declared D, given, or the profile's; never the manifest's own D. */
function resolveLag(
  options: RehearseOptions, profile: LbProfile | undefined, declared: number | undefined,
): { lag: DelayDistribution; lagText: string } {
  let lag: DelayDistribution;
  let lagText: string;
  if (options.lagFractionOfDeclared !== undefined) {
    if (declared === undefined) throw new RehearsalError('a lag as a fraction of D needs the manifest to declare D (the deregistration-delay annotation)');
    lag = fixedDelay(options.lagFractionOfDeclared * declared);
    lagText = `fixed ${round3(options.lagFractionOfDeclared * declared)} s = ${options.lagFractionOfDeclared} x the declared D (sensitivity run)`;
  } else if (options.lag !== undefined) {
    lag = options.lag;
    lagText = `${describeDelay(lag)} (given)`;
  } else if (profile !== undefined) {
    lag = profile.deregistrationLag;
    lagText = `${describeDelay(lag)} (${profile.id} profile)`;
  } else {
    throw new RehearsalError('no deregistration lag: pass --lb <provider> or --lag <seconds> (the manifest\'s own D is never used as the lag: that would test D against itself)');
  }

  return { lag, lagText };
}

/** The pods' process: the user's real server, or the demo app in the mode the manifest declares. */
function resolveApp(options: RehearseOptions, spec: DeploymentSpec): { app: PodApp; appText: string; keepAlive: number } {
  const manifestDrains = spec.drainDeclaration;
  const appMode: SigtermMode = options.appMode ?? (manifestDrains ? (manifestDrains.drains ? 'drain' : 'abrupt') : 'drain');
  const appModeSource = options.appMode !== undefined ? 'given' : manifestDrains ? `from ${manifestDrains.annotation}` : 'default: the manifest does not say';
  const keepAlive = options.appKeepAliveSeconds ?? DEFAULT_APP_KEEP_ALIVE_SECONDS;
  const latency = options.appLatency ?? { minMs: 0, maxMs: 2000 };
  const app: PodApp = options.appCommand !== undefined
    ? { kind: 'command', spec: options.appCommand }
    : { kind: 'demo', mode: appMode, latency, keepAliveSeconds: keepAlive, networkDelayMs: options.networkDelayMs ?? DEFAULT_NETWORK_DELAY_MS };
  const appText = options.appCommand !== undefined
    ? `real server ${JSON.stringify(options.appCommand.argv)}`
    : `demo app, ${appMode === 'drain' ? 'drains' : appMode === 'abrupt' ? 'exits at once' : 'ignores the signal'} on the stop signal (${appModeSource}), requests ${latency.minMs}-${latency.maxMs} ms`;

  return { app, appText, keepAlive };
}

/** The stop signal: given, the manifest's lifecycle.stopSignal, its declared STOPSIGNAL, or SIGTERM. */
function resolveStopSignal(options: RehearseOptions, spec: DeploymentSpec): { stopSignal: NodeJS.Signals; stopSignalText: string } {
  let stopSignal: NodeJS.Signals = 'SIGTERM';
  let stopSignalText = 'SIGTERM (default: the manifest names no signal)';
  const known = (signal: string, where: string): NodeJS.Signals => {
    const upper = signal.trim().toUpperCase();
    const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    if (!(name in os.constants.signals)) throw new RehearsalError(`${where} ${signal} is not a signal this machine knows`);
    return name as NodeJS.Signals;
  };
  if (options.stopSignal !== undefined) {
    stopSignal = options.stopSignal;
    stopSignalText = `${stopSignal} (given)`;
  } else if (spec.stopSignal !== undefined) {
    stopSignal = known(spec.stopSignal, 'lifecycle.stopSignal');
    stopSignalText = `${stopSignal} (the manifest's lifecycle.stopSignal)`;
  } else if (spec.declaredStopSignal !== undefined) {
    // The image's STOPSIGNAL, as the manifest's author declared it (shutdown.stopSignal).
    stopSignal = known(spec.declaredStopSignal, `the ${STOP_SIGNAL_ANNOTATION} annotation`);
    stopSignalText = `${stopSignal} (the manifest's ${STOP_SIGNAL_ANNOTATION} annotation: the image's STOPSIGNAL)`;
  }

  return { stopSignal, stopSignalText };
}

/** How long a new target's health checks take before the LB sends it requests, and its description. */
function resolveRegistration(
  options: RehearseOptions, profile: LbProfile | undefined, healthCheck: HealthCheckTiming, reconcile: DelayDistribution,
): { registrationHealthCheckSeconds: number; registration: string } {
  // A given --health-check is taken as it is; otherwise a provider may document fewer passing checks for a new target.
  const newTargetChecks = options.healthCheck === undefined && profile?.newTargetPassingChecks !== undefined
    ? profile.newTargetPassingChecks
    : healthCheck.healthyThreshold;
  const registrationHealthCheckSeconds = healthCheck.intervalSeconds * newTargetChecks;
  const registration = newTargetChecks === healthCheck.healthyThreshold
    ? `${describeDelay(reconcile)} reconcile + health check ${healthCheck.intervalSeconds} s x ${healthCheck.healthyThreshold} (${healthCheck.source})`
    : `${describeDelay(reconcile)} reconcile + health check ${healthCheck.intervalSeconds} s x ${newTargetChecks} (${healthCheck.source}; `
      + `a new target needs ${newTargetChecks} passing check, not the healthy threshold ${healthCheck.healthyThreshold})`;
  return { registrationHealthCheckSeconds, registration };
}

function fenceposts(spec: DeploymentSpec): { maxSurge: number; maxUnavailable: number } {
  return spec.strategy.type === 'RollingUpdate'
    ? resolveFenceposts(spec.strategy, spec.replicas)
    : { maxSurge: 0, maxUnavailable: spec.replicas };
}
