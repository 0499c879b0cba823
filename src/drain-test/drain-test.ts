/**
 * `drain-test`: what does a real server do when it is told to stop?
 *
 * The test starts the user's server command (see server-command.ts for the placeholders), waits
 * until it answers, then puts requests in flight (slow-reading downloads of a large file and/or a
 * user-given slow path), opens idle keep-alive connections, and sends the stop signal. It observes
 * whether the in-flight requests complete or are cut, how the idle connections are closed, whether
 * new connections are refused, accepted or answered, and when the process exits. From that it
 * answers the budget's two questions for that signal: does the app drain (`drainsOnStopSignal`),
 * and how long does it need (`drainTimeout`)?
 */
import { performance } from 'node:perf_hooks';
import { getOnce, IdleConnection, openIdleConnection, PendingInFlight, startRequest } from './clients';
import { describeExit, DrainTestError, DrainTestOptions, DrainTestResult, MIB, round, sleep, waitAtMost } from './model';
import { ServerUnderTest } from './server';
import { judge, NewConnectionAttempt, Observations } from './verdict';
import { freePort } from '../process/procs';

export { DOWNLOAD_FILE, DrainTestError, MIB } from './model';
export type { DrainTestOptions, DrainTestResult, DrainVerdict, IdleResult, InFlightResult, NewConnectionsResult } from './model';
export { formatProps } from './verdict';
export { formatDrainTestSummary } from './report';

/** The options with their defaults applied. */
interface Settings {
  readonly log: (line: string) => void;
  readonly stopSignal: NodeJS.Signals;
  readonly host: string;
  readonly port: number;
  readonly probePath: string;
  readonly clients: number;
  readonly idleCount: number;
  readonly stopAfterMs: number;
  readonly startTimeoutMs: number;
  readonly killAfterMs: number;
}

async function settingsOf(options: DrainTestOptions): Promise<Settings> {
  const host = options.host ?? '127.0.0.1';
  const settings: Settings = {
    log: options.log ?? (() => undefined),
    stopSignal: options.stopSignal ?? 'SIGTERM',
    host,
    port: options.port ?? await freePort(host),
    probePath: options.path ?? '/',
    clients: options.clients ?? 2,
    idleCount: options.idle ?? 2,
    stopAfterMs: (options.stopAfterSeconds ?? 1) * 1000,
    startTimeoutMs: (options.startTimeoutSeconds ?? 30) * 1000,
    killAfterMs: (options.killAfterSeconds ?? 60) * 1000,
  };
  if (options.download === undefined && options.slowPath === undefined) {
    throw new DrainTestError('nothing to put in flight: give a download or a slow path');
  }
  return settings;
}

/** Runs the drain test. Throws DrainTestError when the test cannot run; the verdict is in the result. */
export async function runDrainTest(options: DrainTestOptions): Promise<DrainTestResult> {
  const s = await settingsOf(options);
  const server = ServerUnderTest.prepare(options, s.host, s.port);
  const idle: IdleConnection[] = [];
  const inflight: PendingInFlight[] = [];
  try {
    s.log(`starting: ${server.argv.join(' ')}  (listening on ${s.host}:${s.port}, dir ${server.dir})`);
    server.start();
    // 1. Wait until it answers.
    const startupSeconds = await server.waitUntilAnswering(s.probePath, s.startTimeoutMs, s.log, options.signal);
    // 2. Calibrate: the in-flight paths must answer 2xx, and take long enough to still be in flight at the signal.
    const measuredLongestSeconds = await calibrate(options, s, server);
    // 3. Idle keep-alive connections.
    for (let i = 0; i < s.idleCount; i++) idle.push(openIdleConnection(s.host, s.port, s.probePath));
    const keptAlive = await Promise.all(idle.map((c) => c.ready));
    const keptAliveCount = keptAlive.filter(Boolean).length;
    // 4. In-flight requests.
    inflight.push(...startInFlight(options, s));
    s.log(`${inflight.length} request(s) in flight (${describeInFlight(options, s.clients)}), `
      + `${keptAliveCount} idle keep-alive connection(s) open${keptAliveCount < s.idleCount ? ` (${s.idleCount - keptAliveCount} closed by the server after the first response)` : ''}`);
    await sleep(s.stopAfterMs);
    refuseEarlyEnds(options, inflight, server);
    // 5. The stop signal, and what follows until the exit.
    const seen = await signalAndObserve(s, server, inflight, idle, options.signal);
    // 6. Results.
    return judge({
      command: server.argv,
      host: s.host,
      port: s.port,
      stopSignal: s.stopSignal,
      pid: server.pid,
      startupSeconds,
      measuredLongestSeconds,
      longestRequestSeconds: options.longestRequestSeconds,
      killAfterSeconds: s.killAfterMs / 1000,
      serverOutput: server.serverOutput,
    }, seen);
  } finally {
    for (const c of idle) c.socket.destroy();
    for (const p of inflight) p.agent.destroy();
    await server.dispose();
  }
}

/**
 * Times one request to the slow path, which must answer 2xx and take long enough to be in flight
 * at the signal. Returns the longest of the test's own requests, in seconds.
 */
async function calibrate(options: DrainTestOptions, s: Settings, server: ServerUnderTest): Promise<number> {
  let longestRequestSeconds = 0;
  if (options.download !== undefined) longestRequestSeconds = options.download.seconds;
  if (options.slowPath !== undefined) {
    s.log(`timing one request to ${options.slowPath}`);
    const t = performance.now();
    const r = await getOnce(s.host, s.port, options.slowPath, 120_000);
    const slowSeconds = (performance.now() - t) / 1000;
    if ('error' in r) throw new DrainTestError(`GET ${options.slowPath} failed before any signal: ${r.error}${server.tail()}`);
    if (r.status < 200 || r.status >= 300) throw new DrainTestError(`GET ${options.slowPath} answered ${r.status} before any signal; the slow path must answer 2xx`);
    if (slowSeconds * 1000 < s.stopAfterMs * 1.5) {
      throw new DrainTestError(`GET ${options.slowPath} took ${round(slowSeconds)} s: too short to be in flight ${s.stopAfterMs / 1000} s after it started; `
        + 'use a slower path (at least 2 s) or a shorter --stop-after');
    }
    s.log(`${options.slowPath} takes ${round(slowSeconds)} s`);
    longestRequestSeconds = Math.max(longestRequestSeconds, slowSeconds);
  }
  return longestRequestSeconds;
}

/** Starts `clients` downloads (read slowly) and `clients` slow-path requests. */
function startInFlight(options: DrainTestOptions, s: Settings): PendingInFlight[] {
  const started: PendingInFlight[] = [];
  if (options.download !== undefined) {
    const rate = options.download.bytes / options.download.seconds;
    for (let i = 0; i < s.clients; i++) started.push(startRequest('download', s.host, s.port, options.download.path, rate));
  }
  if (options.slowPath !== undefined) {
    for (let i = 0; i < s.clients; i++) started.push(startRequest('slow', s.host, s.port, options.slowPath, Infinity));
  }
  return started;
}

/** A request that ended before the signal, or a server that exited, makes the test meaningless: says why and what to change. */
function refuseEarlyEnds(options: DrainTestOptions, inflight: readonly PendingInFlight[], server: ServerUnderTest): void {
  const early = inflight.filter((p) => p.result !== undefined);
  if (early.length > 0) {
    const first = early[0].result!;
    const why = first.outcome === 'completed'
      ? (first.kind !== 'download'
        ? 'use a slower --slow-path'
        : options.download !== undefined && first.bytes < options.download.bytes
          // A short answer is some other page (a catch-all route), not the file written into {dir}.
          ? `it answered ${first.bytes} bytes, not the ${options.download.bytes}-byte file written into {dir}: the server does not serve {dir}; give --slow-path <a path it answers slowly>`
          : `it was served in full: give a larger --download-size (now ${first.bytes} bytes)`)
      : `${first.outcome}${first.status !== undefined ? ` with status ${first.status}` : ''}${first.error !== undefined ? ` (${first.error})` : ''}`
        + (first.kind === 'download' && first.status === 404 ? `: the server does not serve {dir} at ${first.path}; serve {dir} or give --slow-path` : '');
    throw new DrainTestError(`GET ${first.path} ended before the stop signal: ${why}${server.tail()}`);
  }
  const exit = server.exitRecord();
  if (exit !== undefined) throw new DrainTestError(`the server exited (${describeExit(exit)}) before the stop signal${server.tail()}`);
}

/**
 * Sends the stop signal, logs each request and idle connection as it ends, tries a new connection
 * every 200 ms, and waits for the exit (killing the process group after the kill bound).
 */
async function signalAndObserve(s: Settings, server: ServerUnderTest, inflight: readonly PendingInFlight[],
  idle: readonly IdleConnection[], abort: AbortSignal | undefined): Promise<Observations> {
  const { log, stopSignal, killAfterMs } = s;
  const t0 = performance.now();
  const rel = (t: number) => round((t - t0) / 1000);
  server.signal(stopSignal);
  log(`t=0.00s  sent ${stopSignal} to pid ${server.pid}`);
  logEnds(inflight, idle, rel, log);
  const fresh = tryNewConnections(s, rel);

  let killed = false;
  const killTimer = setTimeout(() => {
    killed = true;
    log(`t=${rel(performance.now()).toFixed(2)}s  still running ${killAfterMs / 1000} s after ${stopSignal}: SIGKILL`);
    server.killGroup('SIGKILL');
  }, killAfterMs);
  const onAbort = () => server.killGroup('SIGKILL');
  abort?.addEventListener('abort', onAbort);
  await server.exited;
  clearTimeout(killTimer);
  fresh.stop();
  abort?.removeEventListener('abort', onAbort);
  if (abort?.aborted) throw new DrainTestError('interrupted');
  const exitAt = server.exitRecord()?.at ?? performance.now();
  const info = server.exitRecord() ?? { code: null, signal: null, at: exitAt };
  log(`t=${rel(exitAt).toFixed(2)}s  process ${killed ? 'killed' : `exited (${describeExit(info)})`}`);
  // Leftover children (workers) of the group go too; they would die with the pod.
  server.killGroup('SIGKILL');
  await waitAtMost(Promise.all(inflight.map((p) => p.done)), 5000);
  await waitAtMost(Promise.all(fresh.waits), 4000);
  for (const p of inflight) {
    if (p.result === undefined) p.result = { kind: p.kind, path: p.path, outcome: 'cut', bytes: p.bytes, endedAt: performance.now(), error: 'no end 5 s after the exit' };
  }
  return { signalAt: t0, exitAt, exit: info, killed, inflight, idle, newConnections: fresh.attempts };
}

/** Logs each in-flight request as it ends and each kept-alive idle connection as the server closes it. */
function logEnds(inflight: readonly PendingInFlight[], idle: readonly IdleConnection[], rel: (t: number) => number,
  log: (line: string) => void): void {
  for (const [i, p] of inflight.entries()) {
    void p.done.then(() => log(`t=${rel(p.result!.endedAt).toFixed(2)}s  ${p.kind} ${i + 1} ${p.result!.outcome}`
      + `${p.result!.error !== undefined ? ` (${p.result!.error})` : ''}, ${p.result!.bytes} bytes`));
  }
  for (const [i, c] of idle.entries()) {
    if (c.keptAlive !== true) continue;
    const announce = () => {
      if (c.closedAt !== undefined) log(`t=${rel(c.closedAt).toFixed(2)}s  idle connection ${i + 1} ${c.how === 'reset' ? 'reset (RST)' : 'closed (FIN)'} by the server`);
    };
    c.socket.once('close', announce);
  }
}

/** New connections, every 200 ms until stopped; logs each change of state (answered, refused, dropped). */
function tryNewConnections(s: Settings, rel: (t: number) => number): { attempts: NewConnectionAttempt[]; waits: Promise<void>[]; stop: () => void } {
  const attempts: NewConnectionAttempt[] = [];
  const waits: Promise<void>[] = [];
  let lastState = '';
  const tryNew = () => {
    const at = performance.now();
    waits.push(getOnce(s.host, s.port, s.probePath, 3000).then((r) => {
      attempts.push({ at, ...r });
      const state = 'status' in r ? 'answered' : r.error === 'ECONNREFUSED' ? 'refused' : `dropped (${r.error})`;
      if (state !== lastState) s.log(`t=${rel(at).toFixed(2)}s  new connections: ${state}`);
      lastState = state;
    }));
  };
  tryNew();
  const timer = setInterval(tryNew, 200);
  return { attempts, waits, stop: () => clearInterval(timer) };
}

function describeInFlight(options: DrainTestOptions, clients: number): string {
  const parts: string[] = [];
  if (options.download !== undefined) {
    parts.push(`${clients} x GET ${options.download.path} (${formatBytes(options.download.bytes)}, read slowly over ${options.download.seconds} s)`);
  }
  if (options.slowPath !== undefined) parts.push(`${clients} x GET ${options.slowPath}`);
  return parts.join(', ');
}

function formatBytes(n: number): string {
  return n >= MIB ? `${round(n / MIB, 1)} MiB` : `${n} bytes`;
}
