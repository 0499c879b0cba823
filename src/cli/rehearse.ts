/**
 * `rehearse`: rolling restarts of a synthesized Deployment on one machine. The orchestrator wires
 * the parts together:
 *
 * - pods: real processes (the demo app, or the user's server with `--app-command`), each on its own
 *   loopback address (pod-process.ts);
 * - the cloud load balancer: HAProxy as data plane, driven by a control plane whose delays come
 *   from a provider profile, never from the manifest under test (lb-profiles.ts, lb-driver.ts);
 * - the Deployment controller, a pure function (deployment-controller.ts);
 * - the kubelet: readiness probe, preStop (safe by default, prestop-plan.ts), stop signal, SIGKILL
 *   at the grace period (kubelet.ts);
 * - the probe sending load through HAProxy, and the record (timeline.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LatencyRange, SigtermMode } from './demo-app';
import { ControllerPod, rolloutComplete, syncDeployment } from './deployment-controller';
import { findHaproxy, Haproxy } from './haproxy';
import { terminatePod, writeSleepShim } from './kubelet';
import { LbDriver } from './lb-driver';
import {
  DelayDistribution, describeDelay, fixedDelay, healthCheckTiming, HealthCheckTiming, LB_PROFILES, LbContext, LbProfileId,
  readinessGateOf, sampleDelay,
} from './lb-profiles';
import { DeploymentSpec, resolveFenceposts } from './manifest';
import { PodApp, PodProcess, probeReadiness, startPodProcess } from './pod-process';
import { planPreStop, PreStopPlan } from './prestop-plan';
import { Arrivals, defaultConcurrency, formatProgress, ProbeProgress, ProbeRecord, ProbeSummary, runProbe, summarize } from './probe';
import { ExitInfo, ProcessTracker } from './procs';
import { ServerCommandSpec } from './server-command';
import { Assumptions, PodTimeline, round3, SeriesPoint, toSeries } from './timeline';

export { kubeletRemainingGrace, writeSleepShim } from './kubelet';
export { formatTimeline, toSeries } from './timeline';
export type { PodTimeline, SeriesPoint } from './timeline';

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
  /** The stop signal; default the manifest's lifecycle.stopSignal, else SIGTERM. */
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
}

export interface RehearsalResult {
  readonly assumptions: Assumptions;
  readonly deployment: {
    readonly name: string;
    readonly replicas: number;
    readonly strategy: string;
    readonly maxSurge: number;
    readonly maxUnavailable: number;
    readonly minReadySeconds: number;
    readonly terminationGracePeriodSeconds: number;
    readonly declaredDeregistrationDelaySeconds: number | null;
  };
  readonly params: {
    readonly provider: LbProfileId | null;
    readonly timeScale: number;
    readonly lag: DelayDistribution;
    readonly registrationReconcile: DelayDistribution;
    readonly healthCheck: HealthCheckTiming;
    readonly readinessGate: string | null;
    readonly lbIdleTimeoutSeconds: number;
    readonly appKeepAliveSeconds: number | null;
    readonly appLatencyMs: LatencyRange;
    readonly app: string;
    readonly stopSignal: string;
    readonly rate: number;
    readonly arrivals: Arrivals;
    readonly concurrency: number;
    readonly probeTimeoutSeconds: number;
    readonly seed: number;
  };
  readonly summary: ProbeSummary;
  readonly pods: PodTimeline[];
  readonly series: SeriesPoint[];
  /** Model time at which each rollout started (the first is 0). */
  readonly rolloutStarts: number[];
  /** Model seconds from the first rollout's start until the last old pod exited. */
  readonly rolloutSeconds: number;
  readonly wallSeconds: number;
  /** Every process the rehearsal started (all gone when it returns). */
  readonly pids: { readonly haproxy: number; readonly apps: number[]; readonly preStop: number[] };
  readonly records?: ProbeRecord[];
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

interface Pod {
  readonly name: string;
  readonly revision: number;
  readonly address: string;
  process?: PodProcess;
  containersReady: boolean;
  inLb: boolean;
  ready: boolean;
  available: boolean;
  deleting: boolean;
  gone: boolean;
  timers: NodeJS.Timeout[];
  exitedPromise?: Promise<ExitInfo>;
  deregisteredPromise?: Promise<void>;
  started: number;
  containersReadyAt?: number;
  inLbAt?: number;
  readyAt?: number;
  availableAt?: number;
  deletedAt?: number;
  lag?: number;
  registrationDelay?: number;
  deregisteredAt?: number;
  preStopStartedAt?: number;
  preStopEndedAt?: number;
  stopSignalAt?: number;
  sigkillAt?: number;
  exitedAt?: number;
  exit?: ExitInfo;
  cleanedUp: boolean;
}

/** Everything resolved from options + manifest before anything starts. */
interface Resolved {
  readonly scale: number;
  readonly lag: DelayDistribution;
  readonly lagText: string;
  readonly reconcile: DelayDistribution;
  readonly healthCheck: HealthCheckTiming;
  readonly gate: string | undefined;
  readonly idleTimeout: number;
  readonly app: PodApp;
  readonly appText: string;
  readonly stopSignal: NodeJS.Signals;
  readonly stopSignalText: string;
  readonly plan: PreStopPlan;
  readonly rate: number;
  readonly assumptions: Assumptions;
}

/** Resolve what the run assumes (exported for tests and `--dry-run`): throws on anything refused or unknown. */
export function resolveRehearsal(options: RehearseOptions): Resolved {
  const spec = options.manifest;
  if (options.probePath !== undefined && !options.probePath.startsWith('/')) throw new RehearsalError(`probe path must start with /, got ${options.probePath}`);
  const scale = options.timeScale ?? 1;
  if (!(scale > 0)) throw new RehearsalError('time scale must be > 0');
  const profile = options.provider !== undefined ? LB_PROFILES[options.provider] : undefined;
  const context: LbContext = options.context ?? { ingresses: [], services: [], objects: [] };
  const declared = spec.deregistrationDelaySeconds;

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

  const reconcile = options.registrationReconcile ?? profile?.registrationReconcile ?? fixedDelay(0);
  const baseHealthCheck: HealthCheckTiming = profile !== undefined
    ? healthCheckTiming(profile, context)
    : { intervalSeconds: 0, healthyThreshold: 0, source: 'none (no provider profile)' };
  const healthCheck: HealthCheckTiming = options.healthCheck !== undefined
    ? { ...options.healthCheck, source: 'given' }
    : baseHealthCheck;
  const detectedGate = profile !== undefined ? readinessGateOf(profile, spec.podSpec, context) : undefined;
  const gate = options.readinessGate === 'on' ? (detectedGate ?? 'forced on (--readiness-gate on)')
    : options.readinessGate === 'off' ? undefined : detectedGate;
  const idleTimeout = options.lbIdleTimeoutSeconds ?? profile?.idleTimeoutSeconds ?? 600;

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

  let stopSignal: NodeJS.Signals = 'SIGTERM';
  let stopSignalText = 'SIGTERM (default)';
  if (options.stopSignal !== undefined) {
    stopSignal = options.stopSignal;
    stopSignalText = `${stopSignal} (given)`;
  } else if (spec.stopSignal !== undefined) {
    const name = spec.stopSignal.toUpperCase().startsWith('SIG') ? spec.stopSignal.toUpperCase() : `SIG${spec.stopSignal.toUpperCase()}`;
    if (!(name in os.constants.signals)) throw new RehearsalError(`lifecycle.stopSignal ${spec.stopSignal} is not a signal this machine knows`);
    stopSignal = name as NodeJS.Signals;
    stopSignalText = `${stopSignal} (the manifest's lifecycle.stopSignal)`;
  }

  const plan = planPreStop(spec, { allowExec: options.allowExec, timeScale: scale });
  const rate = options.rate ?? 50;
  const registration = `${describeDelay(reconcile)} reconcile + health check ${healthCheck.intervalSeconds} s x ${healthCheck.healthyThreshold} (${healthCheck.source})`;
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
  return { scale, lag, lagText, reconcile, healthCheck, gate, idleTimeout, app, appText, stopSignal, stopSignalText, plan, rate, assumptions };
}

function fenceposts(spec: DeploymentSpec): { maxSurge: number; maxUnavailable: number } {
  return spec.strategy.type === 'RollingUpdate'
    ? resolveFenceposts(spec.strategy, spec.replicas)
    : { maxSurge: 0, maxUnavailable: spec.replicas };
}

/**
 * Rehearse rolling restarts of `options.manifest` on this machine and report every request's fate.
 */
export async function runRehearsal(options: RehearseOptions): Promise<RehearsalResult & { records: ProbeRecord[] }> {
  const spec = options.manifest;
  const r = resolveRehearsal(options);
  options.onAssumptions?.(r.assumptions);
  const scale = r.scale;
  const toRealMs = (modelSeconds: number) => modelSeconds * 1000 * scale;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = seededRandom(seed);
  const probeTimeoutMs = toRealMs(options.probeTimeoutSeconds ?? 10);
  const realRate = r.rate / scale;
  const concurrency = options.concurrency ?? defaultConcurrency(realRate, probeTimeoutMs);
  const rollouts = options.rollouts ?? 1;
  const log = options.log ?? (() => undefined);
  const { maxSurge, maxUnavailable } = fenceposts(spec);
  const readinessPath = spec.readinessProbe?.path ?? '/healthz';
  const grace = spec.terminationGracePeriodSeconds;
  const registrationSeconds = () => sampleDelay(r.reconcile, random) + r.healthCheck.intervalSeconds * r.healthCheck.healthyThreshold;

  const haproxyBinary = findHaproxy(options.haproxyPath);
  const wallStart = performance.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-rehearse-'));
  const tracker = new ProcessTracker();
  const pods: Pod[] = [];
  const preStopPids: number[] = [];
  const rolloutStarts: number[] = [];
  let sentSoFar = 0;
  let rolloutStart = Infinity;
  const model = (real: number) => (real - rolloutStart) / 1000 / scale;
  const clock = (real: number) => (rolloutStart === Infinity ? '   -  ' : model(real).toFixed(2).padStart(7));
  const event = (pod: Pod, what: string) => log(`t=${clock(performance.now())}s ${pod.name.padEnd(14)} ${what}`);

  let fail: (e: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => { fail = reject; });
  failed.catch(() => undefined);
  let finished = false;
  const probeStop = new AbortController();
  let interrupted = false;
  const onAbort = () => {
    interrupted = true;
    fail(new RehearsalError('interrupted'));
  };
  options.signal?.addEventListener('abort', onAbort);
  const maxWall = options.maxWallSeconds ?? 900;
  const wallTimer = setTimeout(() => fail(new RehearsalError(`rehearsal did not finish within ${maxWall} s`)), maxWall * 1000);
  let probe: ReturnType<typeof runProbe> | undefined;
  let probeStart = 0;
  let lbDriver: LbDriver | undefined;
  let haproxy: Haproxy | undefined;

  const timelines = (): PodTimeline[] => {
    const mm = (x: number | undefined) => (x === undefined ? undefined : round3(model(x)));
    return pods.map((p): PodTimeline => ({
      name: p.name,
      revision: p.revision,
      address: p.address,
      port: p.process?.port,
      pid: p.process?.pid,
      started: round3(model(p.started)),
      containersReady: mm(p.containersReadyAt),
      inLoadBalancer: mm(p.inLbAt),
      ready: mm(p.readyAt),
      available: mm(p.availableAt),
      deleted: mm(p.deletedAt),
      deregistrationLag: p.lag === undefined ? undefined : round3(p.lag),
      registrationDelay: p.registrationDelay === undefined ? undefined : round3(p.registrationDelay),
      deregistered: mm(p.deregisteredAt),
      preStopStarted: mm(p.preStopStartedAt),
      preStopEnded: mm(p.preStopEndedAt),
      stopSignalSent: mm(p.stopSignalAt),
      stopSignal: p.stopSignalAt === undefined ? undefined : r.stopSignal,
      sigkill: mm(p.sigkillAt),
      exited: p.cleanedUp ? undefined : mm(p.exitedAt),
      exitCode: p.cleanedUp ? undefined : p.exit?.code,
      exitSignal: p.cleanedUp ? undefined : p.exit?.signal,
      terminationSeconds: !p.cleanedUp && p.deletedAt !== undefined && p.exitedAt !== undefined
        ? round3((p.exitedAt - p.deletedAt) / 1000 / scale) : undefined,
      cleanedUp: p.cleanedUp,
    }));
  };

  try {
    const shimDir = path.join(dir, 'bin');
    writeSleepShim(shimDir, scale);
    haproxy = await Haproxy.start({ binary: haproxyBinary, dir, tracker, idleTimeoutMs: toRealMs(r.idleTimeout) });
    const lb = haproxy;
    void lb.exited.then((e) => { if (!finished) fail(new RehearsalError(`haproxy exited unexpectedly (${e.code ?? e.signal})`)); });
    log(`haproxy ${haproxyBinary} listening on 127.0.0.1:${lb.port} (pid ${lb.pid})`);
    const driver = new LbDriver(lb, toRealMs, (e) => fail(e));
    lbDriver = driver;

    // Each pod gets its own loopback address, like its own pod IP.
    const subnet = 100 + Math.floor(Math.random() * 100);
    let podCounter = 0;
    let revision = 0;
    let rolloutDone: () => void = () => undefined;

    const controllerView = (): ControllerPod[] => pods.map((p) => ({
      name: p.name,
      revision: p.revision,
      available: p.available,
      terminating: p.deleting || p.gone,
      running: !p.gone,
      readySince: p.readyAt,
    }));
    const controllerInput = () => ({
      replicas: spec.replicas, strategy: spec.strategy.type, maxSurge, maxUnavailable, revision, pods: controllerView(),
    });
    const reconcile = () => {
      if (finished) return;
      for (let i = 0; i < 1000; i++) {
        const decision = syncDeployment(controllerInput());
        if (decision.create === 0 && decision.delete.length === 0) break;
        for (let k = 0; k < decision.create; k++) startPod(revision);
        for (const name of decision.delete) deletePod(pods.find((p) => p.name === name)!);
      }
      const done = rolloutComplete(controllerInput());
      if (done && pods.filter((p) => !p.deleting && !p.gone).every((p) => p.inLb)) rolloutDone();
    };

    const becomeReady = (pod: Pod) => {
      if (pod.ready || pod.deleting || pod.gone) return;
      pod.ready = true;
      pod.readyAt = performance.now();
      pod.timers.push(setTimeout(() => {
        if (pod.deleting || pod.gone) return;
        pod.available = true;
        pod.availableAt = performance.now();
        if (spec.minReadySeconds > 0) event(pod, `available (minReadySeconds ${spec.minReadySeconds})`);
        reconcile();
      }, toRealMs(spec.minReadySeconds)));
      reconcile();
    };

    const onContainersReady = (pod: Pod) => {
      if (pod.containersReady || pod.deleting || pod.gone) return;
      pod.containersReady = true;
      pod.containersReadyAt = performance.now();
      pod.registrationDelay = registrationSeconds();
      event(pod, `readiness probe passed; the LB routes to it in ${pod.registrationDelay.toFixed(2)}s${r.gate ? ' (readiness gate holds it un-Ready until then)' : ''}`);
      void driver.registerAfter(pod.name, pod.address, pod.process!.port, pod.registrationDelay).then(() => {
        if (pod.deleting || pod.gone) {
          // Deleted while being registered: the controller removes the target again.
          void driver.deregisterAfter(pod.name, 0);
          return;
        }
        pod.inLb = true;
        pod.inLbAt = performance.now();
        event(pod, 'in the LB (registered and healthy)');
        if (r.gate) becomeReady(pod);
        else reconcile();
      });
      if (!r.gate) becomeReady(pod);
    };

    const startPod = (rev: number) => {
      podCounter++;
      const pod: Pod = {
        name: `${spec.name.slice(0, 8)}-r${rev}-${podCounter}`,
        revision: rev,
        address: `127.${subnet}.${Math.floor(podCounter / 250)}.${(podCounter % 250) + 1}`,
        containersReady: false,
        inLb: false,
        ready: false,
        available: false,
        deleting: false,
        gone: false,
        timers: [],
        started: performance.now(),
        cleanedUp: false,
      };
      pods.push(pod);
      startPodProcess({ tracker, app: r.app, name: pod.name, address: pod.address, dir, timeScale: scale, readinessPath, stopSignal: r.stopSignal })
        .then((proc) => {
          pod.process = proc;
          pod.exitedPromise = proc.exited;
          event(pod, `started pid ${proc.pid} on ${pod.address}:${proc.port}`);
          void proc.exited.then((info) => onPodExit(pod, info));
          probeReadiness({
            address: pod.address,
            port: proc.port,
            path: readinessPath,
            probe: spec.readinessProbe,
            toRealMs,
            stopped: () => pod.deleting || pod.gone || finished,
            onReady: () => onContainersReady(pod),
            timers: pod.timers,
          });
        })
        .catch((e: Error) => { if (!finished) fail(e); });
    };

    const onPodExit = (pod: Pod, info: ExitInfo) => {
      pod.exitedAt = performance.now();
      pod.exit = info;
      pod.gone = true;
      pod.timers.forEach(clearTimeout);
      if (finished) return;
      event(pod, `exited (${info.signal ?? `code ${info.code}`})`);
      if (!pod.deleting) fail(new RehearsalError(`pod ${pod.name} exited before it was deleted (${info.signal ?? `code ${info.code}`}): ${pod.process?.stderrTail() ?? ''}`));
      reconcile();
    };

    // Deletion: the endpoint controller drops the pod at once, the cloud LB stops routing one lag
    // later; the kubelet starts terminating it at the same moment.
    const deletePod = (pod: Pod) => {
      pod.deleting = true;
      pod.deletedAt = performance.now();
      pod.lag = sampleDelay(r.lag, random);
      event(pod, `deleted (the LB stops routing to it in ${pod.lag.toFixed(2)}s)`);
      if (pod.inLb) {
        pod.deregisteredPromise = driver.deregisterAfter(pod.name, pod.lag).then(() => {
          pod.deregisteredAt = performance.now();
          if (!finished) event(pod, 'deregistered from the LB');
        });
      }
      if (!pod.process) return;
      terminatePod({
        pid: pod.process.pid,
        plan: r.plan,
        graceSeconds: grace,
        stopSignal: r.stopSignal,
        tracker,
        toRealMs,
        now: () => performance.now(),
        scale,
        shimDir,
        gone: () => pod.gone,
        timers: pod.timers,
        events: {
          preStopStarted: (at) => { pod.preStopStartedAt = at; event(pod, `preStop: ${r.plan.description}`); },
          preStopEnded: (at) => { pod.preStopEndedAt = at; event(pod, 'preStop finished'); },
          stopSignalSent: (at, sig, rest) => { pod.stopSignalAt = at; event(pod, `${sig} (SIGKILL in ${rest}s)`); },
          sigkill: (at) => { pod.sigkillAt = at; event(pod, 'SIGKILL'); },
          graceExpiredDuringPreStop: () => event(pod, 'grace period expired during preStop'),
          preStopPid: (pid) => preStopPids.push(pid),
        },
      });
    };

    log(`starting ${spec.replicas} pod(s) of ${spec.name}`);
    await Promise.race([failed, new Promise<void>((resolve) => {
      rolloutDone = resolve;
      reconcile();
    })]);

    probeStart = performance.now();
    const progress = (p: ProbeProgress) => {
      sentSoFar = p.totalSent;
      log(formatProgress(p));
    };
    probe = runProbe({
      url: `http://127.0.0.1:${lb.port}${options.probePath ?? '/'}`,
      rate: realRate,
      arrivals: options.arrivals,
      random: seededRandom(seed + 1), // its own stream: the lags drawn do not depend on the arrivals

      concurrency,
      timeoutMs: probeTimeoutMs,
      signal: probeStop.signal,
      out: options.out,
      onProgress: progress,
      timeOrigin: probeStart,
    });
    probe.catch(() => undefined);
    await Promise.race([failed, new Promise((res) => setTimeout(res, toRealMs(options.warmupSeconds ?? 2)))]);

    rolloutStart = performance.now();
    const minRequests = options.minRequests ?? 0;
    for (let i = 0; i < rollouts || sentSoFar < minRequests; i++) {
      revision++;
      rolloutStarts.push(performance.now());
      log(`t=${clock(performance.now())}s rollout ${i + 1}: revision ${revision}`);
      await Promise.race([failed, new Promise<void>((resolve) => {
        rolloutDone = resolve;
        reconcile();
      })]);
      rolloutDone = () => undefined;
      log(`t=${clock(performance.now())}s rollout ${i + 1} complete, waiting for old pods to exit`);
      const old = pods.filter((p) => p.revision < revision);
      const gone = old.flatMap((p) => [p.exitedPromise ?? Promise.resolve(), p.deregisteredPromise ?? Promise.resolve()]);
      await Promise.race([failed, Promise.all(gone)]);
    }
    const lastExit = Math.max(...pods.filter((p) => p.revision < revision).map((p) => p.exitedAt ?? 0), rolloutStart);
    await Promise.race([failed, new Promise((res) => setTimeout(res, toRealMs(options.settleSeconds ?? 2)))]);
    probeStop.abort();
    const { summary, records } = await Promise.race([failed, probe]);
    finished = true;

    pods.filter((p) => !p.gone).forEach((p) => { p.cleanedUp = true; });
    const podTimelines = timelines();
    await cleanup();
    return {
      assumptions: r.assumptions,
      deployment: {
        name: spec.name,
        replicas: spec.replicas,
        strategy: spec.strategy.type,
        maxSurge,
        maxUnavailable,
        minReadySeconds: spec.minReadySeconds,
        terminationGracePeriodSeconds: grace,
        declaredDeregistrationDelaySeconds: spec.deregistrationDelaySeconds ?? null,
      },
      params: {
        provider: options.provider ?? null,
        timeScale: scale,
        lag: r.lag,
        registrationReconcile: r.reconcile,
        healthCheck: r.healthCheck,
        readinessGate: r.gate ?? null,
        lbIdleTimeoutSeconds: r.idleTimeout,
        appKeepAliveSeconds: r.app.kind === 'demo' ? r.app.keepAliveSeconds : null,
        appLatencyMs: options.appLatency ?? { minMs: 0, maxMs: 2000 },
        app: r.appText,
        stopSignal: r.stopSignal,
        rate: r.rate,
        arrivals: options.arrivals ?? 'fixed',
        concurrency,
        probeTimeoutSeconds: options.probeTimeoutSeconds ?? 10,
        seed,
      },
      summary,
      pods: podTimelines,
      series: toSeries(records, (probeStart - rolloutStart) / 1000 / scale, scale),
      rolloutStarts: rolloutStarts.map((x) => round3(model(x))),
      rolloutSeconds: round3(model(lastExit)),
      wallSeconds: round3((performance.now() - wallStart) / 1000),
      pids: { haproxy: lb.pid, apps: pods.map((p) => p.process?.pid).filter((x): x is number => x !== undefined), preStop: preStopPids },
      records,
    };
  } catch (e) {
    if (interrupted) {
      finished = true;
      probeStop.abort();
      const partialRecords = probe ? (await probe.catch(() => undefined))?.records ?? [] : [];
      pods.filter((p) => !p.gone).forEach((p) => { p.cleanedUp = true; });
      const partial = { summary: summarize(partialRecords), pods: timelines(), assumptions: r.assumptions };
      throw new RehearsalInterruptedError(partial);
    }
    throw e;
  } finally {
    await cleanup();
  }

  async function cleanup(): Promise<void> {
    finished = true;
    probeStop.abort();
    clearTimeout(wallTimer);
    options.signal?.removeEventListener('abort', onAbort);
    for (const p of pods) p.timers.forEach(clearTimeout);
    lbDriver?.close();
    await tracker.killAll();
    tracker.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
