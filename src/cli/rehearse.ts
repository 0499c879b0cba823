/**
 * `gws rehearse`: rolling restarts of a synthesized Deployment on one machine.
 *
 * - Pods are demo-app processes, each on its own loopback address (a stand-in for a pod IP).
 * - The cloud load balancer is HAProxy (see haproxy.ts); pods join it through the runtime API once their
 *   readiness probe passes and leave it one deregistration lag (fixed, or uniform in [D - jitter, D])
 *   after their deletion: the endpoint controller marks the pod not-ready at once, the cloud LB acts later.
 * - The Deployment controller is modelled as in Kubernetes: the new ReplicaSet grows within maxSurge, the
 *   old one shrinks while replicas - maxUnavailable pods are available; terminating pods do not count.
 * - The kubelet runs the preStop hook for real, then sends SIGTERM, then SIGKILL when the grace period
 *   (counted from deletion, preStop included) is up, with its minimum 2 s after an overrunning hook.
 * - Time scale: every model duration is multiplied by the scale. The exec preStop command runs unchanged,
 *   but with a `sleep` shim first on its PATH (and replacing a literal `sleep` argv[0]) that sleeps for its
 *   argument times the scale; so `/bin/sh -c "sleep 10"` really runs a shell and a sleep, for 10 model
 *   seconds. Rewriting the command string instead would break on quoting and on commands that call
 *   `sleep` indirectly; the shim does not. Other commands in a hook run at real speed.
 */
import { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LatencyRange, SigtermMode } from './demo-app';
import { findHaproxy, Haproxy } from './haproxy';
import { DeploymentSpec, PreStopHook, resolveFenceposts } from './manifest';
import { defaultConcurrency, formatProgress, ProbeProgress, ProbeRecord, ProbeSummary, runProbe } from './probe';
import { ExitInfo, ProcessTracker } from './procs';

export interface RehearseOptions {
  readonly manifest: DeploymentSpec;
  /**
   * Deregistration lag D in model seconds: how long after a pod's deletion the LB stops sending it
   * new requests. Default: the manifest's (annotation or ingress class); required otherwise.
   */
  readonly deregistrationLagSeconds?: number;
  /** Each pod's lag is drawn uniformly from [D - jitter, D] (D is the provider's upper bound). Default 0. */
  readonly jitterSeconds?: number;
  /** Multiplies every model duration. 0.1 makes a 45 s grace period take 4.5 s. Default 1. */
  readonly timeScale?: number;
  /** Demo app response time, model ms. Default 0-2000. */
  readonly appLatency?: LatencyRange;
  readonly appMode?: SigtermMode;
  /** Probe rate in real requests per second. Default 50. */
  readonly rate?: number;
  readonly concurrency?: number;
  /** Probe timeout, model seconds. Default 10. */
  readonly probeTimeoutSeconds?: number;
  /** Rolling restarts to run back to back (each after the previous one's old pods exited). Default 1. */
  readonly rollouts?: number;
  /** Keep starting rollouts until the probe has sent at least this many requests. Default 0. */
  readonly minRequests?: number;
  /** Probe time before the first rollout starts, model seconds. Default 2. */
  readonly warmupSeconds?: number;
  /** Probe time after the last old pod exited, model seconds. Default 2. */
  readonly settleSeconds?: number;
  readonly haproxyPath?: string;
  /** Seed of the jitter RNG (reproducible lags). Default: random. */
  readonly seed?: number;
  /** Write every probe record here (.jsonl or .csv). */
  readonly out?: string;
  /** Abort the rehearsal (SIGINT in the CLI). Everything is cleaned up and the promise rejects. */
  readonly signal?: AbortSignal;
  /** Give up (and clean up) after this many real seconds. Default 900. */
  readonly maxWallSeconds?: number;
  /** Live log (timeline events and probe progress). */
  readonly log?: (line: string) => void;
}

/** Per-pod timeline, model seconds since the first rollout started (initial pods start before 0). */
export interface PodTimeline {
  readonly name: string;
  readonly revision: number;
  readonly address: string;
  readonly port?: number;
  readonly pid?: number;
  readonly started: number;
  readonly ready?: number;
  readonly available?: number;
  readonly deleted?: number;
  /** Drawn deregistration lag for this pod (model s). */
  readonly deregistrationLag?: number;
  readonly deregistered?: number;
  readonly preStopStarted?: number;
  readonly preStopEnded?: number;
  readonly sigterm?: number;
  readonly sigkill?: number;
  readonly exited?: number;
  readonly exitCode?: number | null;
  readonly exitSignal?: string | null;
  /** exited - deleted (model s). */
  readonly terminationSeconds?: number;
  /** Still running when the rehearsal ended (pods of the last revision): killed by the rig's cleanup. */
  readonly cleanedUp: boolean;
}

export interface SeriesPoint {
  /** Model second since the first rollout started (bin start). */
  readonly t: number;
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
}

export interface RehearsalResult {
  readonly deployment: {
    readonly name: string;
    readonly replicas: number;
    readonly strategy: string;
    readonly maxSurge: number;
    readonly maxUnavailable: number;
    readonly minReadySeconds: number;
    readonly terminationGracePeriodSeconds: number;
    readonly preStop: PreStopHook | null;
    readonly readinessPath: string | null;
    readonly deregistrationDelaySeconds: number | null;
    readonly deregistrationSource: string;
  };
  readonly params: {
    readonly timeScale: number;
    readonly deregistrationLagSeconds: number;
    readonly jitterSeconds: number;
    readonly appLatencyMs: LatencyRange;
    readonly appMode: SigtermMode;
    readonly rate: number;
    readonly concurrency: number;
    readonly probeTimeoutSeconds: number;
    readonly rollouts: number;
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
  /** Only when requested by `keepRecords`. */
  readonly records?: ProbeRecord[];
}

export class RehearsalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RehearsalError';
  }
}

/** Seeded PRNG (Park-Miller minimal standard): reproducible jitter, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = (Math.abs(Math.floor(seed)) % 2147483646) + 1;
  const next = () => {
    state = (state * 16807) % 2147483647;
    return (state - 1) / 2147483646;
  };
  // The first outputs of small seeds are small too: skip them.
  for (let i = 0; i < 8; i++) next();
  return next;
}

/** Kubelet: after a preStop hook that ran `elapsed` seconds, the container gets max(grace - whole seconds elapsed, 2) more. */
export function kubeletRemainingGrace(graceSeconds: number, preStopElapsedSeconds: number): number {
  return Math.max(graceSeconds - Math.floor(preStopElapsedSeconds), 2);
}

/**
 * Write a `sleep` shim that sleeps for its argument (GNU suffixes s/m/h/d allowed) times `scale`,
 * so a preStop `sh -c "sleep 10"` really runs, but takes 10 model seconds.
 */
export function writeSleepShim(dir: string, scale: number): string {
  fs.mkdirSync(dir, { recursive: true });
  const shim = path.join(dir, 'sleep');
  const realSleep = ['/usr/bin/sleep', '/bin/sleep'].find((p) => fs.existsSync(p)) ?? 'sleep';
  const awk = ['/usr/bin/awk', '/bin/awk'].find((p) => fs.existsSync(p));
  const body = awk
    ? [
      '#!/bin/sh',
      `# gws rehearse: time-scaled sleep (x${scale})`,
      `secs=$(${awk} -v scale=${scale} 'BEGIN { t = 0; for (i = 1; i < ARGC; i++) { a = ARGV[i]; m = 1;`
        + ' if (a ~ /s$/) sub(/s$/, "", a); else if (a ~ /m$/) { m = 60; sub(/m$/, "", a) }'
        + ' else if (a ~ /h$/) { m = 3600; sub(/h$/, "", a) } else if (a ~ /d$/) { m = 86400; sub(/d$/, "", a) }'
        + ' t += a * m } printf "%.6f", t * scale }\' "$@")',
      `exec ${realSleep} "$secs"`,
      '',
    ]
    : [
      `#!${process.execPath}`,
      'const u = { s: 1, m: 60, h: 3600, d: 86400 };',
      'const t = process.argv.slice(2).reduce((s, a) => s + parseFloat(a) * (u[a.slice(-1)] || 1), 0);',
      `setTimeout(() => {}, t * ${scale} * 1000);`,
      '',
    ];
  fs.writeFileSync(shim, body.join('\n'), { mode: 0o755 });
  return shim;
}

/** The preStop exec argv with a leading `sleep` pointed at the shim (`sh -c "sleep N"` finds it on PATH). */
export function scaledPreStopCommand(command: readonly string[], shim: string): string[] {
  const [head, ...rest] = command;
  return head === 'sleep' || head.endsWith('/sleep') ? [shim, ...rest] : [...command];
}

function nodeModulesDir(): string | undefined {
  try {
    const req = createRequire(__filename);
    let dir = path.dirname(req.resolve('commander'));
    while (path.basename(dir) !== 'node_modules' && path.dirname(dir) !== dir) dir = path.dirname(dir);
    return path.basename(dir) === 'node_modules' ? dir : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How to start a pod: the compiled demo app next to this file; when running from TypeScript sources
 * (ts-node / ts-jest) transpile `demo-app.ts` once into `dir` and run that with plain node, so each pod
 * starts as fast as it would from the published package.
 */
export function demoAppCommand(dir: string): { argv: string[]; env: NodeJS.ProcessEnv } {
  const js = path.join(__dirname, 'demo-app.js');
  if (fs.existsSync(js)) return { argv: [process.execPath, js], env: {} };
  const ts = path.join(__dirname, 'demo-app.ts');
  if (!fs.existsSync(ts)) throw new RehearsalError(`cannot find the demo app next to ${__filename}`);
  const typescript = createRequire(__filename)('typescript');
  const out = typescript.transpileModule(fs.readFileSync(ts, 'utf8'), {
    compilerOptions: { module: typescript.ModuleKind.CommonJS, target: typescript.ScriptTarget.ES2022, esModuleInterop: true },
  });
  const file = path.join(dir, 'demo-app.js');
  fs.writeFileSync(file, out.outputText);
  const nm = nodeModulesDir();
  return { argv: [process.execPath, file], env: nm ? { NODE_PATH: nm } : {} };
}

interface Pod {
  name: string;
  revision: number;
  address: string;
  port?: number;
  child?: ChildProcess;
  exitedPromise?: Promise<ExitInfo>;
  deregisteredPromise?: Promise<void>;
  ready: boolean;
  available: boolean;
  inLb: boolean;
  deleting: boolean;
  gone: boolean;
  preStopRunning: boolean;
  preStopPid?: number;
  timers: NodeJS.Timeout[];
  // Real times (performance.now()).
  started: number;
  readyAt?: number;
  availableAt?: number;
  deletedAt?: number;
  lag?: number;
  deregisteredAt?: number;
  preStopStartedAt?: number;
  preStopEndedAt?: number;
  sigtermAt?: number;
  sigkillAt?: number;
  exitedAt?: number;
  exit?: ExitInfo;
  cleanedUp: boolean;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * Rehearse rolling restarts of `options.manifest` on this machine: pods are demo-app processes,
 * the load balancer is HAProxy, the Deployment controller, endpoint controller + cloud LB
 * deregistration and the kubelet's termination sequence are modelled in this process,
 * and a probe sends load through HAProxy throughout.
 */
export async function runRehearsal(options: RehearseOptions): Promise<RehearsalResult & { records: ProbeRecord[] }> {
  const spec = options.manifest;
  const scale = options.timeScale ?? 1;
  if (!(scale > 0)) throw new RehearsalError('time scale must be > 0');
  const lag = options.deregistrationLagSeconds ?? spec.deregistrationDelaySeconds;
  if (lag === undefined) {
    throw new RehearsalError('the manifest does not say how long the load balancer takes to deregister a pod: pass --deregistration-lag <seconds>');
  }
  const jitter = options.jitterSeconds ?? 0;
  if (jitter < 0 || jitter > lag) throw new RehearsalError(`jitter must be between 0 and the deregistration lag (${lag} s)`);
  const appLatency = options.appLatency ?? { minMs: 0, maxMs: 2000 };
  const appMode = options.appMode ?? 'drain';
  const rate = options.rate ?? 50;
  const probeTimeoutMs = (options.probeTimeoutSeconds ?? 10) * 1000 * scale;
  const concurrency = options.concurrency ?? defaultConcurrency(rate, probeTimeoutMs);
  const rollouts = options.rollouts ?? 1;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = seededRandom(seed);
  const log = options.log ?? (() => undefined);
  const { maxSurge, maxUnavailable } = spec.strategy.type === 'RollingUpdate'
    ? resolveFenceposts(spec.strategy, spec.replicas)
    : { maxSurge: 0, maxUnavailable: spec.replicas };
  const readiness = spec.readinessProbe;
  const readinessPath = readiness?.path ?? '/healthz';
  const grace = spec.terminationGracePeriodSeconds;
  const s = (modelSeconds: number) => modelSeconds * 1000 * scale; // model seconds -> real ms

  const haproxyBinary = findHaproxy(options.haproxyPath);
  const wallStart = performance.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-rehearse-'));
  const tracker = new ProcessTracker();
  const pods: Pod[] = [];
  const preStopPids: number[] = [];
  const lbTimers: NodeJS.Timeout[] = [];
  const rolloutStarts: number[] = [];
  let sentSoFar = 0;
  let rolloutStart = Infinity;
  const m = (real: number) => (real - rolloutStart) / 1000 / scale; // real -> model seconds
  const fmt = (real: number) => (rolloutStart === Infinity ? '   -  ' : m(real).toFixed(2).padStart(7));
  const event = (pod: Pod, what: string) => log(`t=${fmt(performance.now())}s ${pod.name.padEnd(14)} ${what}`);

  // One place where a fatal condition ends the run (pod crashed, HAProxy died, abort, timeout).
  let fail: (e: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => { fail = reject; });
  failed.catch(() => undefined);
  let finished = false;
  const probeStop = new AbortController();
  const onAbort = () => fail(new RehearsalError('interrupted'));
  options.signal?.addEventListener('abort', onAbort);
  const wallTimer = setTimeout(() => fail(new RehearsalError(`rehearsal did not finish within ${options.maxWallSeconds ?? 900} s`)), (options.maxWallSeconds ?? 900) * 1000);

  let haproxy: Haproxy | undefined;
  try {
    const app = demoAppCommand(dir);
    const shimDir = path.join(dir, 'bin');
    const shim = writeSleepShim(shimDir, scale);
    haproxy = await Haproxy.start({ binary: haproxyBinary, dir, tracker });
    const lb = haproxy;
    void lb.exited.then((e) => { if (!finished) fail(new RehearsalError(`haproxy exited unexpectedly (${e.code ?? e.signal})`)); });
    log(`haproxy ${haproxyBinary} listening on 127.0.0.1:${lb.port} (pid ${lb.pid})`);

    // Each pod gets its own loopback address, like its own pod IP: a new pod can never take over an
    // address:port the LB still routes to on behalf of a deleted pod.
    const net2 = 100 + Math.floor(Math.random() * 100);
    let podCounter = 0;
    let revision = 0;
    let reconcile: () => void = () => undefined;

    const startPod = (rev: number): Pod => {
      podCounter++;
      const pod: Pod = {
        name: `${spec.name.slice(0, 8)}-r${rev}-${podCounter}`,
        revision: rev,
        address: `127.${net2}.${Math.floor(podCounter / 250)}.${(podCounter % 250) + 1}`,
        ready: false,
        available: false,
        inLb: false,
        deleting: false,
        gone: false,
        preStopRunning: false,
        timers: [],
        started: performance.now(),
        cleanedUp: false,
      };
      pods.push(pod);
      const argv = [...app.argv.slice(1), '--port', '0', '--host', pod.address,
        '--latency', `${appLatency.minMs * scale}-${appLatency.maxMs * scale}`,
        '--readiness-path', readinessPath, '--on-sigterm', appMode, '--name', pod.name];
      const { child, exited } = tracker.spawn(app.argv[0], argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...app.env } });
      pod.child = child;
      pod.exitedPromise = exited;
      let stdout = '';
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); });
      child.stdout?.on('data', (d: Buffer) => {
        if (pod.port !== undefined) return;
        stdout += d.toString();
        const line = stdout.split('\n').find((l) => l.includes('"listening"'));
        if (!line) return;
        pod.port = JSON.parse(line).port;
        event(pod, `started pid ${child.pid} on ${pod.address}:${pod.port}`);
        beginReadiness(pod);
      });
      void exited.then((info) => onPodExit(pod, info, stderr));
      return pod;
    };

    const onPodExit = (pod: Pod, info: ExitInfo, stderr: string) => {
      pod.exitedAt = performance.now();
      pod.exit = info;
      pod.gone = true;
      pod.timers.forEach(clearTimeout);
      if (pod.preStopPid !== undefined) tracker.killGroup(pod.preStopPid, 'SIGKILL'); // the container is gone, so is its hook
      if (finished) return;
      event(pod, `exited (${info.signal ?? `code ${info.code}`})`);
      if (!pod.deleting) fail(new RehearsalError(`pod ${pod.name} exited before it was deleted (${info.signal ?? info.code}): ${stderr.trim()}`));
      reconcile();
    };

    const beginReadiness = (pod: Pod) => {
      const becomeReady = () => {
        if (pod.deleting || pod.gone) return;
        pod.ready = true;
        pod.readyAt = performance.now();
        lb.register(pod.name, pod.address, pod.port!).then(async () => {
          if (pod.deleting) {
            // Deleted while its registration was in flight: take it straight out again.
            await lb.deregister(pod.name);
            pod.deregisteredAt = performance.now();
            return;
          }
          pod.inLb = true;
          event(pod, 'ready, registered with the LB');
          pod.timers.push(setTimeout(() => {
            pod.available = true;
            pod.availableAt = performance.now();
            if (spec.minReadySeconds > 0) event(pod, 'available (minReadySeconds)');
            reconcile();
          }, s(spec.minReadySeconds)));
        }).catch((e: Error) => fail(e));
      };
      if (!readiness) return becomeReady();
      let successes = 0;
      const probeOnce = () => {
        if (pod.deleting || pod.gone) return;
        const req = http.get({ host: pod.address, port: pod.port, path: readinessPath, agent: false, headers: { 'user-agent': 'kube-probe/1.30 (gws rehearse)' }, timeout: Math.max(1000, s(1)) }, (res) => {
          res.resume();
          if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 400) successes++;
          else successes = 0;
          if (successes >= readiness.successThreshold) becomeReady();
          else pod.timers.push(setTimeout(probeOnce, s(readiness.periodSeconds)));
        });
        req.on('timeout', () => req.destroy());
        req.on('error', () => {
          successes = 0;
          pod.timers.push(setTimeout(probeOnce, s(readiness.periodSeconds)));
        });
      };
      pod.timers.push(setTimeout(probeOnce, s(readiness.initialDelaySeconds)));
    };

    // Kubelet: preStop (exec for real, or native sleep), then SIGTERM, SIGKILL when the grace period is up.
    const terminate = (pod: Pod) => {
      const t0 = performance.now();
      let sigtermSent = false;
      const sendSigterm = (remainingSeconds: number) => {
        if (sigtermSent || pod.gone) return;
        sigtermSent = true;
        pod.sigtermAt = performance.now();
        event(pod, `SIGTERM (SIGKILL in ${remainingSeconds}s)`);
        try {
          process.kill(pod.child!.pid!, 'SIGTERM');
        } catch {
          // already gone
        }
        pod.timers.push(setTimeout(() => {
          if (pod.gone) return;
          pod.sigkillAt = performance.now();
          event(pod, 'SIGKILL');
          tracker.killGroup(pod.child!.pid!, 'SIGKILL');
        }, s(remainingSeconds)));
      };
      const preStopDone = () => {
        if (!pod.preStopRunning) return;
        pod.preStopRunning = false;
        const endedAt = performance.now();
        pod.preStopEndedAt = endedAt;
        event(pod, 'preStop finished');
        sendSigterm(kubeletRemainingGrace(grace, (endedAt - t0) / 1000 / scale));
      };
      const hook = spec.preStop;
      if (!hook || grace <= 0) return sendSigterm(Math.max(grace, 2));
      pod.preStopRunning = true;
      pod.preStopStartedAt = t0;
      if (hook.kind === 'sleep') {
        event(pod, `preStop sleep ${hook.seconds}s`);
        pod.timers.push(setTimeout(preStopDone, s(hook.seconds)));
      } else {
        const argv = scaledPreStopCommand(hook.command, shim);
        event(pod, `preStop exec ${JSON.stringify(hook.command)}`);
        const { child, exited } = tracker.spawn(argv[0], argv.slice(1), {
          stdio: 'ignore',
          env: { ...process.env, PATH: `${shimDir}${path.delimiter}${process.env.PATH ?? ''}`, GWS_TIME_SCALE: String(scale) },
        });
        if (child.pid !== undefined) {
          pod.preStopPid = child.pid;
          preStopPids.push(child.pid);
        }
        void exited.then(preStopDone);
      }
      // Grace period over while the hook still runs: the kubelet abandons the hook, sends SIGTERM
      // and grants the minimum 2 s before SIGKILL.
      pod.timers.push(setTimeout(() => {
        if (!pod.preStopRunning) return;
        event(pod, 'grace period expired during preStop');
        pod.preStopRunning = false;
        sendSigterm(2);
      }, s(grace)));
    };

    // Endpoint controller + cloud LB: the pod leaves the LB `lag` after deletion (jittered);
    // the kubelet starts terminating it at the same moment.
    const deletePod = (pod: Pod) => {
      pod.deleting = true;
      pod.deletedAt = performance.now();
      pod.lag = lag - random() * jitter;
      event(pod, `deleted (LB deregisters in ${pod.lag.toFixed(2)}s)`);
      if (pod.inLb) {
        pod.deregisteredPromise = new Promise<void>((resolve) => {
          lbTimers.push(setTimeout(() => {
            // The model event is the moment the rig tells the LB (HAProxy acts on it within its next loop).
            pod.deregisteredAt = performance.now();
            lb.deregister(pod.name).then(() => {
              event(pod, 'deregistered from the LB');
              resolve();
            }).catch((e: Error) => { if (!finished) fail(e); });
          }, s(pod.lag!)));
        });
      }
      terminate(pod);
    };

    // Deployment controller (rolling update): scale the new ReplicaSet up within maxSurge, scale the
    // old one down while keeping replicas - maxUnavailable pods available; terminating pods do not count.
    let rolloutDone: () => void = () => undefined;
    // One controller sync; returns true when it created or deleted a pod (then sync again, as the
    // controller does when the ReplicaSets it just scaled report back).
    const syncOnce = (): boolean => {
      const live = pods.filter((p) => !p.deleting && !p.gone);
      const oldPods = live.filter((p) => p.revision < revision);
      const newPods = live.filter((p) => p.revision === revision);
      const n = spec.replicas;
      if (spec.strategy.type === 'Recreate') {
        if (oldPods.length > 0) {
          oldPods.forEach(deletePod);
          return true;
        }
        const terminating = pods.some((p) => p.revision < revision && !p.gone);
        if (terminating || newPods.length >= n) return false;
        for (let i = newPods.length; i < n; i++) startPod(revision);
        return true;
      }
      const toCreate = Math.min(n - newPods.length, n + maxSurge - (oldPods.length + newPods.length));
      if (toCreate > 0) {
        for (let i = 0; i < toCreate; i++) startPod(revision);
        return true;
      }
      const minAvailable = n - maxUnavailable;
      const available = live.filter((p) => p.available).length;
      const newUnavailable = newPods.filter((p) => !p.available).length;
      const maxScaledDown = oldPods.length + newPods.length - minAvailable - newUnavailable;
      const scaleDown = Math.max(0, Math.min(oldPods.length, maxScaledDown, available - minAvailable));
      if (scaleDown === 0) return false;
      // ReplicaSet victim ranking: not-available first, then the most recently ready.
      const victims = [...oldPods].sort((a, b) => Number(a.available) - Number(b.available) || (b.readyAt ?? 0) - (a.readyAt ?? 0));
      victims.slice(0, scaleDown).forEach(deletePod);
      return true;
    };
    reconcile = () => {
      if (finished) return;
      for (let i = 0; i < 1000 && syncOnce(); i++);
      const live = pods.filter((p) => !p.deleting && !p.gone);
      const stillOld = live.some((p) => p.revision < revision);
      const newPods = live.filter((p) => p.revision === revision);
      if (!stillOld && newPods.length === spec.replicas && newPods.every((p) => p.available)) rolloutDone();
    };

    // Initial ReplicaSet.
    log(`starting ${spec.replicas} pod(s) of ${spec.name} (maxSurge ${maxSurge}, maxUnavailable ${maxUnavailable}, grace ${grace}s, `
      + `preStop ${hook2str(spec.preStop)}, deregistration lag ${lag}s - jitter ${jitter}s, time scale ${scale})`);
    await Promise.race([failed, new Promise<void>((resolve) => {
      rolloutDone = resolve;
      reconcile();
    })]);

    // Load through the LB from here on.
    const probeStart = performance.now();
    const progress = (p: ProbeProgress) => {
      sentSoFar = p.totalSent;
      log(formatProgress(p));
    };
    const probe = runProbe({
      url: `http://127.0.0.1:${lb.port}/`,
      rate,
      concurrency,
      timeoutMs: probeTimeoutMs,
      signal: probeStop.signal,
      out: options.out,
      onProgress: progress,
      timeOrigin: probeStart,
    });
    probe.catch(() => undefined);
    await Promise.race([failed, new Promise((r) => setTimeout(r, s(options.warmupSeconds ?? 2)))]);

    rolloutStart = performance.now();
    // Rollouts back to back: each one starts once the previous one is complete and all of its old
    // pods have exited and left the LB, so every rollout is a clean replica of a real one.
    const minRequests = options.minRequests ?? 0;
    for (let r = 0; r < rollouts || sentSoFar < minRequests; r++) {
      revision++;
      rolloutStarts.push(performance.now());
      log(`t=${fmt(performance.now())}s rollout ${r + 1}: revision ${revision}`);
      await Promise.race([failed, new Promise<void>((resolve) => {
        rolloutDone = resolve;
        reconcile();
      })]);
      rolloutDone = () => undefined;
      log(`t=${fmt(performance.now())}s rollout ${r + 1} complete, waiting for old pods to exit`);
      const old = pods.filter((p) => p.revision < revision);
      await Promise.race([failed, Promise.all(old.flatMap((p) => [p.exitedPromise!, p.deregisteredPromise ?? Promise.resolve()]))]);
    }
    const lastExit = Math.max(...pods.filter((p) => p.revision < revision).map((p) => p.exitedAt ?? 0), rolloutStart);
    await Promise.race([failed, new Promise((r) => setTimeout(r, s(options.settleSeconds ?? 2)))]);
    probeStop.abort();
    const { summary, records } = await Promise.race([failed, probe]);
    finished = true;

    const series = toSeries(records, (probeStart - rolloutStart) / 1000 / scale, scale);
    const mm = (x: number | undefined) => (x === undefined ? undefined : round3(m(x)));
    const result: RehearsalResult & { records: ProbeRecord[] } = {
      deployment: {
        name: spec.name,
        replicas: spec.replicas,
        strategy: spec.strategy.type,
        maxSurge,
        maxUnavailable,
        minReadySeconds: spec.minReadySeconds,
        terminationGracePeriodSeconds: grace,
        preStop: spec.preStop ?? null,
        readinessPath: readiness?.path ?? null,
        deregistrationDelaySeconds: spec.deregistrationDelaySeconds ?? null,
        deregistrationSource: spec.deregistrationSource,
      },
      params: {
        timeScale: scale,
        deregistrationLagSeconds: lag,
        jitterSeconds: jitter,
        appLatencyMs: appLatency,
        appMode,
        rate,
        concurrency,
        probeTimeoutSeconds: probeTimeoutMs / 1000 / scale,
        rollouts,
        seed,
      },
      summary,
      pods: [],
      series,
      rolloutStarts: rolloutStarts.map((x) => round3(m(x))),
      rolloutSeconds: round3(m(lastExit)),
      wallSeconds: 0,
      pids: { haproxy: lb.pid, apps: [], preStop: preStopPids },
      records,
    };
    // Pods of the last revision are still serving: the rig's cleanup kills them.
    pods.filter((p) => !p.gone).forEach((p) => { p.cleanedUp = true; });
    await cleanup();
    result.pods.push(...pods.map((p): PodTimeline => ({
      name: p.name,
      revision: p.revision,
      address: p.address,
      port: p.port,
      pid: p.child?.pid,
      started: round3(m(p.started)),
      ready: mm(p.readyAt),
      available: mm(p.availableAt),
      deleted: mm(p.deletedAt),
      deregistrationLag: p.lag === undefined ? undefined : round3(p.lag),
      deregistered: mm(p.deregisteredAt),
      preStopStarted: mm(p.preStopStartedAt),
      preStopEnded: mm(p.preStopEndedAt),
      sigterm: mm(p.sigtermAt),
      sigkill: mm(p.sigkillAt),
      exited: p.cleanedUp ? undefined : mm(p.exitedAt),
      exitCode: p.cleanedUp ? undefined : p.exit?.code,
      exitSignal: p.cleanedUp ? undefined : p.exit?.signal,
      terminationSeconds: !p.cleanedUp && p.deletedAt !== undefined && p.exitedAt !== undefined
        ? round3((p.exitedAt - p.deletedAt) / 1000 / scale) : undefined,
      cleanedUp: p.cleanedUp,
    })));
    result.pids.apps.push(...pods.map((p) => p.child?.pid).filter((x): x is number => x !== undefined));
    (result as { wallSeconds: number }).wallSeconds = round3((performance.now() - wallStart) / 1000);
    return result;
  } finally {
    await cleanup();
  }

  async function cleanup(): Promise<void> {
    finished = true;
    probeStop.abort();
    clearTimeout(wallTimer);
    options.signal?.removeEventListener('abort', onAbort);
    for (const p of pods) p.timers.forEach(clearTimeout);
    lbTimers.forEach(clearTimeout);
    await tracker.killAll();
    tracker.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function hook2str(h: PreStopHook | undefined): string {
  if (!h) return 'none';
  return h.kind === 'sleep' ? `sleep ${h.seconds}s` : JSON.stringify(h.command);
}

/** Bin records by model second since the rollout start (`offset` = model time of the probe origin). */
export function toSeries(records: readonly ProbeRecord[], offset: number, scale: number): SeriesPoint[] {
  const bins = new Map<number, { sent: number; ok: number; failed: number }>();
  for (const r of records) {
    const t = Math.floor(offset + r.t / 1000 / scale);
    const b = bins.get(t) ?? { sent: 0, ok: 0, failed: 0 };
    b.sent++;
    if (r.error === null) b.ok++;
    else b.failed++;
    bins.set(t, b);
  }
  return [...bins.entries()].sort(([a], [b]) => a - b).map(([t, b]) => ({ t, ...b }));
}

/** Human-readable per-pod timeline. */
export function formatTimeline(result: RehearsalResult): string {
  const f = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(2));
  const header = ['pod', 'rev', 'started', 'ready', 'deleted', 'lag', 'deregistered', 'preStop end', 'SIGTERM', 'exited', 'SIGKILL', 'termination'];
  const rows = result.pods.map((p) => [
    p.name, String(p.revision), f(p.started), f(p.ready), f(p.deleted), f(p.deregistrationLag), f(p.deregistered),
    f(p.preStopEnded), f(p.sigterm), p.cleanedUp ? '(running)' : `${f(p.exited)}${p.exitSignal ? ` ${p.exitSignal}` : p.exitCode !== undefined && p.exitCode !== null ? ` code ${p.exitCode}` : ''}`,
    f(p.sigkill), f(p.terminationSeconds),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [
    'per-pod timeline (model seconds since the rollout started; termination = exited - deleted):',
    line(header),
    ...rows.map(line),
  ].join('\n');
}
