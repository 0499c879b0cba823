/**
 * The kubelet's termination sequence for one pod: the preStop hook (modelled waits, an httpGet to
 * the pod itself, or commands run for real with `--allow-exec`), then the stop signal, then SIGKILL
 * when the grace period is up.
 * The grace period counts from deletion, preStop included; a hook still running at its end is
 * abandoned with a one-off 2 s before SIGKILL.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { PreStopPlan } from './prestop-plan';
import { ProcessTracker } from '../process/procs';

/** Kubelet: after a preStop hook that ran `elapsed` seconds, the container gets max(grace - whole seconds elapsed, 2) more. */
export function kubeletRemainingGrace(graceSeconds: number, preStopElapsedSeconds: number): number {
  return Math.max(graceSeconds - Math.floor(preStopElapsedSeconds), 2);
}

/**
 * Write a `sleep` shim that sleeps for its argument (GNU suffixes s/m/h/d allowed) times `scale`,
 * so a preStop command run with `--allow-exec` that calls `sleep` from PATH takes model time.
 */
export function writeSleepShim(dir: string, scale: number): string {
  fs.mkdirSync(dir, { recursive: true });
  const shim = path.join(dir, 'sleep');
  const body = [
    `#!${process.execPath}`,
    '// gws rehearse: time-scaled sleep',
    'const u = { s: 1, m: 60, h: 3600, d: 86400 };',
    'const t = process.argv.slice(2).reduce((s, a) => s + parseFloat(a) * (u[a.slice(-1)] || 1), 0);',
    `setTimeout(() => {}, t * ${scale} * 1000);`,
    '',
  ];
  fs.writeFileSync(shim, body.join('\n'), { mode: 0o755 });
  return shim;
}

/** What the kubelet reports, in real times (performance.now()). */
export interface TerminationEvents {
  preStopStarted?: (at: number) => void;
  preStopEnded?: (at: number) => void;
  stopSignalSent?: (at: number, signal: NodeJS.Signals, sigkillInSeconds: number) => void;
  sigkill?: (at: number) => void;
  graceExpiredDuringPreStop?: (at: number) => void;
  preStopPid?: (pid: number) => void;
}

export interface TerminateOptions {
  readonly pid: number;
  /** The pod's address and port (where an httpGet hook goes). */
  readonly address: string;
  readonly port: number;
  readonly plan: PreStopPlan;
  readonly graceSeconds: number;
  readonly stopSignal: NodeJS.Signals;
  readonly tracker: ProcessTracker;
  readonly toRealMs: (modelSeconds: number) => number;
  readonly now: () => number;
  readonly scale: number;
  /** Directory holding the scaled `sleep` shim (for exec steps). */
  readonly shimDir: string;
  /** Whether the pod's process is gone already. */
  readonly gone: () => boolean;
  readonly timers: NodeJS.Timeout[];
  readonly events: TerminationEvents;
}

/** Start terminating a pod (call at deletion). */
export function terminatePod(o: TerminateOptions): void {
  const t0 = o.now();
  let signalled = false;
  let hookRunning = false;
  let hookPid: number | undefined;
  let hookRequest: http.ClientRequest | undefined;
  const sendStopSignal = (remainingSeconds: number) => {
    if (signalled || o.gone()) return;
    signalled = true;
    o.events.stopSignalSent?.(o.now(), o.stopSignal, remainingSeconds);
    try {
      process.kill(o.pid, o.stopSignal);
    } catch {
      // already gone
    }
    o.timers.push(setTimeout(() => {
      if (o.gone()) return;
      o.events.sigkill?.(o.now());
      o.tracker.killGroup(o.pid, 'SIGKILL');
    }, o.toRealMs(remainingSeconds)));
  };
  const hookDone = () => {
    if (!hookRunning) return;
    hookRunning = false;
    const endedAt = o.now();
    o.events.preStopEnded?.(endedAt);
    sendStopSignal(kubeletRemainingGrace(o.graceSeconds, (endedAt - t0) / 1000 / o.scale));
  };
  if (o.plan.steps.length === 0 || o.graceSeconds <= 0) {
    sendStopSignal(Math.max(o.graceSeconds, 2));
    return;
  }
  hookRunning = true;
  o.events.preStopStarted?.(t0);
  const runStep = (i: number) => {
    if (!hookRunning) return;
    if (i >= o.plan.steps.length) return hookDone();
    const step = o.plan.steps[i];
    if (step.kind === 'wait') {
      o.timers.push(setTimeout(() => runStep(i + 1), o.toRealMs(step.seconds)));
      return;
    }
    if (step.kind === 'httpGet') {
      // The kubelet waits for the answer; a failed hook is reported, and termination goes on.
      hookRequest = httpHook(o.address, o.port, step.path, () => runStep(i + 1));
      return;
    }
    const { child, exited } = o.tracker.spawn(step.argv[0], step.argv.slice(1), {
      stdio: 'ignore',
      env: { ...process.env, PATH: `${o.shimDir}${path.delimiter}${process.env.PATH ?? ''}`, GWS_TIME_SCALE: String(o.scale) },
    });
    if (child.pid !== undefined) {
      hookPid = child.pid;
      o.events.preStopPid?.(child.pid);
    }
    // A failing command does not end the hook early in the construct's wrapper (";"), so go on.
    void exited.then(() => runStep(i + 1));
  };
  runStep(0);
  // Grace period over while the hook still runs: the kubelet abandons the hook, sends the stop
  // signal and grants the one-off 2 s before SIGKILL.
  o.timers.push(setTimeout(() => {
    if (!hookRunning) return;
    hookRunning = false;
    if (hookPid !== undefined) o.tracker.killGroup(hookPid, 'SIGKILL');
    hookRequest?.destroy();
    o.events.graceExpiredDuringPreStop?.(o.now());
    sendStopSignal(2);
  }, o.toRealMs(o.graceSeconds)));
}

/** GET `path` on the pod; `done` once the answer has been read, or the request failed. */
function httpHook(address: string, port: number, urlPath: string, done: () => void): http.ClientRequest {
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    done();
  };
  const req = http.get({ host: address, port, path: urlPath, agent: false, headers: { 'user-agent': 'gws-rehearse (kubelet preStop hook)' } }, (res) => {
    res.on('end', finish);
    res.on('error', finish);
    res.resume();
  });
  req.on('error', finish);
  return req;
}
