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
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort, ProcessTracker } from '../process/procs';
import { renderServerCommand, ServerCommandSpec } from '../process/server-command';

/** Name of the file written into `{dir}` for the download in-flight requests. */
export const DOWNLOAD_FILE = 'gws-drain-test.bin';

export interface DrainTestOptions {
  /** The server command and its templates. */
  readonly server: ServerCommandSpec;
  /** The signal the container runtime will send (the image's STOPSIGNAL). @default SIGTERM */
  readonly stopSignal?: NodeJS.Signals;
  /** Loopback address the server must listen on. @default 127.0.0.1 */
  readonly host?: string;
  /** Port the server must listen on. @default a free port */
  readonly port?: number;
  /** Path requested to see whether the server answers, and on the idle and new connections. @default / */
  readonly path?: string;
  /**
   * Downloads: a file of `downloadBytes` is written into `{dir}` as `gws-drain-test.bin` and each
   * download client reads `downloadPath` slowly, taking `downloadSeconds`. Undefined: no downloads.
   */
  readonly download?: { readonly path: string; readonly bytes: number; readonly seconds: number };
  /** A path the server takes a while to answer (for example `/slow?seconds=3`). */
  readonly slowPath?: string;
  /** In-flight clients per kind (downloads, slow path). @default 2 */
  readonly clients?: number;
  /** Idle keep-alive connections. @default 2 */
  readonly idle?: number;
  /** Seconds between starting the in-flight requests and the stop signal. @default 1 */
  readonly stopAfterSeconds?: number;
  /** Seconds to wait for the server to answer at start. @default 30 */
  readonly startTimeoutSeconds?: number;
  /** Seconds after the signal before the server is killed (SIGKILL) as ignoring it. @default 60 */
  readonly killAfterSeconds?: number;
  /** The app's longest request in production, for the suggested drainTimeout. @default - the test's own in-flight requests */
  readonly longestRequestSeconds?: number;
  /** Progress lines (no trailing newline). */
  readonly log?: (line: string) => void;
  readonly signal?: AbortSignal;
}

export type DrainVerdict = 'drains' | 'cuts' | 'ignores';

export interface InFlightResult {
  readonly kind: 'download' | 'slow';
  readonly path: string;
  /** completed: full 2xx response; cut: the connection ended early; failed: an error status. */
  readonly outcome: 'completed' | 'cut' | 'failed';
  readonly status?: number;
  readonly bytes: number;
  readonly expectedBytes?: number;
  /** Seconds after the signal at which it ended. */
  readonly endedAtSeconds: number;
  readonly error?: string;
  /**
   * Seconds after the signal at which the server closed this keep-alive connection (the request
   * asked to keep it, as a load balancer does); absent when it was still open at the process exit.
   */
  readonly connectionClosedAtSeconds?: number;
}

export interface IdleResult {
  /**
   * closed: the server closed it (FIN) while idle; reset: RST; open-at-exit: still open when the
   * process exited (closed with it); not-kept-alive: the server closed it after the first response.
   */
  readonly outcome: 'closed' | 'reset' | 'open-at-exit' | 'not-kept-alive';
  /** Seconds after the signal (closed, reset). */
  readonly closedAtSeconds?: number;
  /** Seconds between this close and the process exit (negative: before the exit). */
  readonly relativeToExitSeconds?: number;
}

export interface NewConnectionsResult {
  readonly attempts: number;
  /** Answered with an HTTP response after the signal. */
  readonly answered: number;
  /** Refused at connect (nothing listening). */
  readonly refused: number;
  /** Connected, then closed or reset without a response. */
  readonly dropped: number;
  readonly lastAnsweredAtSeconds?: number;
  readonly firstRefusedAtSeconds?: number;
  readonly statuses: { [status: string]: number };
}

export interface DrainTestResult {
  readonly command: string[];
  readonly host: string;
  readonly port: number;
  readonly stopSignal: NodeJS.Signals;
  readonly pid: number;
  readonly startupSeconds: number;
  readonly verdict: DrainVerdict;
  readonly inFlight: InFlightResult[];
  readonly idle: IdleResult[];
  readonly newConnections: NewConnectionsResult;
  /** Seconds from the signal to the process exit (or to the SIGKILL). */
  readonly exitSeconds: number;
  readonly exitedByItself: boolean;
  readonly exitCode: number | null;
  readonly exitSignal: string | null;
  /** Exit time when the app drains, else undefined. */
  readonly drainSeconds?: number;
  /** The longest request the suggestion is sized for. */
  readonly longestRequestSeconds: number;
  readonly suggestedDrainTimeoutSeconds: number;
  /** The shutdown props to paste into a GracefulWebService. */
  readonly props: string;
  readonly notes: string[];
  /** Last lines of the server's stdout/stderr. */
  readonly serverOutput: string;
}

/** A drain test that could not run (the server never answered, exited at once, ...). */
export class DrainTestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DrainTestError';
  }
}

const OUTPUT_TAIL_BYTES = 4096;
/** Bytes in a MiB. */
export const MIB = 1024 * 1024;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits for `promise`, at most `ms` (the timer does not outlive the wait). */
async function waitAtMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); })]);
  clearTimeout(timer);
}

function round(seconds: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(seconds * f) / f;
}

/** One HTTP GET, any status counts as an answer. Resolves undefined on connection errors. */
function getOnce(host: string, port: number, urlPath: string, timeoutMs: number): Promise<{ status: number } | { error: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: urlPath, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
  });
}

interface PendingInFlight {
  readonly kind: 'download' | 'slow';
  readonly path: string;
  /** Set once the request has ended. */
  result?: Omit<InFlightResult, 'endedAtSeconds'> & { endedAt: number };
  readonly done: Promise<void>;
  /** Response headers received. */
  headers: boolean;
  bytes: number;
  /** Its own keep-alive agent: the connection stays open after the response, as a load balancer's does. */
  readonly agent: http.Agent;
  /** When the server closed the connection. */
  connectionClosedAt?: number;
}

/**
 * A GET that reads its body at most `bytesPerSecond` (Infinity: as fast as it comes), so a large
 * response stays in flight on the server for a known time.
 */
function startRequest(kind: 'download' | 'slow', host: string, port: number, urlPath: string, bytesPerSecond: number): PendingInFlight {
  // A keep-alive connection of its own, kept open after the response like a load balancer's pooled
  // connection: a server that only closes the connections idle at the signal lingers until its
  // keep-alive timeout ends this one, and the exit time shows it.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const pending: Partial<PendingInFlight> & { headers: boolean; bytes: number } = { kind, path: urlPath, headers: false, bytes: 0, agent };
  (pending as { done: Promise<void> }).done = new Promise<void>((resolve) => {
    const finish = (outcome: InFlightResult['outcome'], status: number | undefined, expectedBytes: number | undefined, error?: string) => {
      if (pending.result !== undefined) return;
      pending.result = { kind, path: urlPath, outcome, status, bytes: pending.bytes, expectedBytes, endedAt: performance.now(), error };
      resolve();
    };
    const req = http.get({ host, port, path: urlPath, agent }, (res) => {
      pending.headers = true;
      const status = res.statusCode ?? 0;
      const expected = res.headers['content-length'] !== undefined ? Number(res.headers['content-length']) : undefined;
      const started = performance.now();
      let resumeTimer: NodeJS.Timeout | undefined;
      res.on('data', (chunk: Buffer) => {
        pending.bytes += chunk.length;
        if (!Number.isFinite(bytesPerSecond)) return;
        const allowed = bytesPerSecond * (performance.now() - started) / 1000;
        if (pending.bytes > allowed) {
          res.pause();
          clearTimeout(resumeTimer);
          resumeTimer = setTimeout(() => res.resume(), ((pending.bytes - allowed) / bytesPerSecond) * 1000);
        }
      });
      res.on('end', () => {
        clearTimeout(resumeTimer);
        const complete = res.complete && (expected === undefined || pending.bytes === expected);
        if (!complete) finish('cut', status, expected, 'response ended early');
        else finish(status >= 200 && status < 300 ? 'completed' : 'failed', status, expected);
      });
      res.on('close', () => {
        clearTimeout(resumeTimer);
        if (!res.complete) finish('cut', status, expected, 'connection closed before the response was complete');
      });
      res.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(resumeTimer);
        finish('cut', status, expected, e.code ?? e.message);
      });
    });
    req.on('socket', (socket) => socket.once('close', () => { pending.connectionClosedAt ??= performance.now(); }));
    req.on('error', (e: NodeJS.ErrnoException) => finish('cut', undefined, undefined, e.code ?? e.message));
  });
  return pending as PendingInFlight;
}

interface IdleConnection {
  /** Resolves when the first response has been read (true: the connection stays open). */
  readonly ready: Promise<boolean>;
  closedAt?: number;
  how?: 'closed' | 'reset';
  keptAlive?: boolean;
  readonly socket: net.Socket;
}

/**
 * A raw keep-alive connection: one GET, read the whole response, then stay idle and record when
 * and how the server closes it.
 */
function openIdleConnection(host: string, port: number, urlPath: string): IdleConnection {
  const socket = net.connect({ host, port });
  const conn: { -readonly [K in keyof IdleConnection]?: IdleConnection[K] } = { socket };
  conn.ready = new Promise<boolean>((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    let responded = false;
    const onClose = (how: 'closed' | 'reset') => {
      if (conn.closedAt !== undefined) return;
      conn.closedAt = performance.now();
      conn.how = how;
      if (!responded) {reject(new DrainTestError(`an idle keep-alive connection was ${how} before its first response to GET ${urlPath}`));} else if (conn.keptAlive === undefined) {
        conn.keptAlive = false;
        resolve(false);
      }
    };
    socket.on('connect', () => {
      socket.write(`GET ${urlPath} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: keep-alive\r\nUser-Agent: gws-drain-test\r\n\r\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      if (conn.keptAlive !== undefined) return; // data while idle: ignore (should not happen)
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      responded = true;
      const head = buffer.subarray(0, end).toString('latin1');
      const body = buffer.subarray(end + 4);
      const [statusLine, ...lines] = head.split('\r\n');
      const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim().toLowerCase()]));
      const http10 = statusLine.startsWith('HTTP/1.0');
      const connection = headers.get('connection') ?? '';
      const keepAlive = http10 ? connection.includes('keep-alive') : !connection.includes('close');
      const length = headers.get('content-length');
      const chunked = (headers.get('transfer-encoding') ?? '').includes('chunked');
      let complete: boolean;
      if (length !== undefined) complete = body.length >= Number(length);
      else if (chunked) complete = body.includes('0\r\n\r\n');
      else complete = false; // ends with the connection
      if (!keepAlive || (!complete && length === undefined && !chunked)) {
        // The server closes after this response: wait for the close (onClose resolves false).
        conn.keptAlive = undefined;
        return;
      }
      if (complete) {
        conn.keptAlive = true;
        resolve(true);
      }
    });
    socket.on('end', () => onClose('closed'));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') reject(new DrainTestError(`an idle keep-alive connection to ${host}:${port} was refused`));
      onClose('reset');
    });
    socket.on('close', () => onClose('closed'));
  });
  return conn as IdleConnection;
}

/** Runs the drain test. Throws DrainTestError when the test cannot run; the verdict is in the result. */
export async function runDrainTest(options: DrainTestOptions): Promise<DrainTestResult> {
  const log = options.log ?? (() => undefined);
  const stopSignal = options.stopSignal ?? 'SIGTERM';
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? await freePort(host);
  const probePath = options.path ?? '/';
  const clients = options.clients ?? 2;
  const idleCount = options.idle ?? 2;
  const stopAfterMs = (options.stopAfterSeconds ?? 1) * 1000;
  const startTimeoutMs = (options.startTimeoutSeconds ?? 30) * 1000;
  const killAfterMs = (options.killAfterSeconds ?? 60) * 1000;
  if (options.download === undefined && options.slowPath === undefined) {
    throw new DrainTestError('nothing to put in flight: give a download or a slow path');
  }

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-drain-'));
  // Servers that drop privileges (nginx and Apache workers started as root) must read {dir}.
  fs.chmodSync(dir, 0o755);
  const rendered = renderServerCommand(options.server, { host, port, dir });
  if (options.download !== undefined) {
    const file = path.join(dir, DOWNLOAD_FILE);
    fs.writeFileSync(file, '');
    fs.truncateSync(file, options.download.bytes); // sparse: instant, reads as zeros
    fs.chmodSync(file, 0o644);
  }

  const tracker = new ProcessTracker();
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
  };
  const tail = () => (output.trim() === '' ? '' : `\n--- last output of the server ---\n${output.trim().split('\n').slice(-15).join('\n')}`);
  const commandText = rendered.argv.join(' ');
  const idle: IdleConnection[] = [];
  const inflight: PendingInFlight[] = [];
  try {
    log(`starting: ${commandText}  (listening on ${host}:${port}, dir ${dir})`);
    const { child, exited } = tracker.spawn(rendered.argv[0], rendered.argv.slice(1), {
      env: { ...process.env, ...rendered.env },
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let spawnFailure: string | undefined;
    child.once('error', (e: NodeJS.ErrnoException) => {
      spawnFailure = e.code === 'ENOENT' ? `command not found: ${rendered.argv[0]}` : `cannot run ${rendered.argv[0]}: ${e.message}`;
    });
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    type ExitRecord = { code: number | null; signal: NodeJS.Signals | null; at: number };
    let exitInfo: ExitRecord | undefined;
    // Read through a function: TypeScript would keep the narrowing of the checks below across awaits.
    const exitRecord = (): ExitRecord | undefined => exitInfo;
    void exited.then((info) => {
      exitInfo = { ...info, at: performance.now() };
    });

    // 1. Wait until it answers.
    const startedAt = performance.now();
    let answered: { status: number } | undefined;
    while (answered === undefined) {
      if (options.signal?.aborted) throw new DrainTestError('interrupted');
      await sleep(100);
      if (spawnFailure !== undefined) throw new DrainTestError(spawnFailure);
      if (exitInfo !== undefined) {
        throw new DrainTestError(`the server exited (${describeExit(exitInfo)}) ${round((exitInfo.at - startedAt) / 1000, 1)} s after it started, `
          + `before it answered on ${host}:${port}${tail()}`);
      }
      if (performance.now() - startedAt > startTimeoutMs) {
        throw new DrainTestError(`the server never answered GET ${probePath} on ${host}:${port} within ${startTimeoutMs / 1000} s; `
          + `does the command listen on {host}:{port} (or $HOST/$PORT)?${tail()}`);
      }
      const r = await getOnce(host, port, probePath, 2000);
      if ('status' in r) answered = r;
    }
    const startupSeconds = round((performance.now() - startedAt) / 1000);
    log(`answering after ${startupSeconds} s (GET ${probePath} -> ${answered.status})`);
    await sleep(200);
    if (exitInfo !== undefined) {
      throw new DrainTestError(`the command exited (${describeExit(exitInfo)}) right after it started although ${host}:${port} answers: `
        + 'it probably went to the background. Run it in the foreground (nginx: -g \'daemon off;\', Apache: -DFOREGROUND); '
        + `a background copy may still be listening on ${host}:${port}${tail()}`);
    }

    // 2. Calibrate: the in-flight paths must answer 2xx, and take long enough to still be in flight at the signal.
    let longestRequestSeconds = 0;
    if (options.download !== undefined) longestRequestSeconds = options.download.seconds;
    let slowSeconds: number | undefined;
    if (options.slowPath !== undefined) {
      log(`timing one request to ${options.slowPath}`);
      const t = performance.now();
      const r = await getOnce(host, port, options.slowPath, 120_000);
      slowSeconds = (performance.now() - t) / 1000;
      if ('error' in r) throw new DrainTestError(`GET ${options.slowPath} failed before any signal: ${r.error}${tail()}`);
      if (r.status < 200 || r.status >= 300) throw new DrainTestError(`GET ${options.slowPath} answered ${r.status} before any signal; the slow path must answer 2xx`);
      if (slowSeconds * 1000 < stopAfterMs * 1.5) {
        throw new DrainTestError(`GET ${options.slowPath} took ${round(slowSeconds)} s: too short to be in flight ${stopAfterMs / 1000} s after it started; `
          + 'use a slower path (at least 2 s) or a shorter --stop-after');
      }
      log(`${options.slowPath} takes ${round(slowSeconds)} s`);
      longestRequestSeconds = Math.max(longestRequestSeconds, slowSeconds);
    }

    // 3. Idle keep-alive connections.
    for (let i = 0; i < idleCount; i++) idle.push(openIdleConnection(host, port, probePath));
    const keptAlive = await Promise.all(idle.map((c) => c.ready));
    const keptAliveCount = keptAlive.filter(Boolean).length;

    // 4. In-flight requests.
    if (options.download !== undefined) {
      const rate = options.download.bytes / options.download.seconds;
      for (let i = 0; i < clients; i++) inflight.push(startRequest('download', host, port, options.download.path, rate));
    }
    if (options.slowPath !== undefined) {
      for (let i = 0; i < clients; i++) inflight.push(startRequest('slow', host, port, options.slowPath, Infinity));
    }
    log(`${inflight.length} request(s) in flight (${describeInFlight(options, clients)}), `
      + `${keptAliveCount} idle keep-alive connection(s) open${keptAliveCount < idleCount ? ` (${idleCount - keptAliveCount} closed by the server after the first response)` : ''}`);
    await sleep(stopAfterMs);
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
      throw new DrainTestError(`GET ${first.path} ended before the stop signal: ${why}${tail()}`);
    }
    if (exitInfo !== undefined) throw new DrainTestError(`the server exited (${describeExit(exitInfo)}) before the stop signal${tail()}`);

    // 5. The stop signal.
    const t0 = performance.now();
    const rel = (t: number) => round((t - t0) / 1000);
    process.kill(child.pid!, stopSignal);
    log(`t=0.00s  sent ${stopSignal} to pid ${child.pid}`);

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

    // New connections, every 200 ms until the process exits.
    const newConn: { at: number; status?: number; error?: string }[] = [];
    const newConnWaits: Promise<void>[] = [];
    let lastNewState = '';
    const tryNew = () => {
      const at = performance.now();
      newConnWaits.push(getOnce(host, port, probePath, 3000).then((r) => {
        newConn.push({ at, ...r });
        const state = 'status' in r ? 'answered' : r.error === 'ECONNREFUSED' ? 'refused' : `dropped (${r.error})`;
        if (state !== lastNewState) log(`t=${rel(at).toFixed(2)}s  new connections: ${state}`);
        lastNewState = state;
      }));
    };
    tryNew();
    const newTimer = setInterval(tryNew, 200);

    // 6. Wait for the exit, or kill after the bound.
    let killed = false;
    const killTimer = setTimeout(() => {
      killed = true;
      log(`t=${rel(performance.now()).toFixed(2)}s  still running ${killAfterMs / 1000} s after ${stopSignal}: SIGKILL`);
      tracker.killGroup(child.pid!, 'SIGKILL');
    }, killAfterMs);
    const onAbort = () => tracker.killGroup(child.pid!, 'SIGKILL');
    options.signal?.addEventListener('abort', onAbort);
    await exited;
    clearTimeout(killTimer);
    clearInterval(newTimer);
    options.signal?.removeEventListener('abort', onAbort);
    if (options.signal?.aborted) throw new DrainTestError('interrupted');
    const exitAt = exitRecord()?.at ?? performance.now();
    const info = exitRecord() ?? { code: null, signal: null, at: exitAt };
    log(`t=${rel(exitAt).toFixed(2)}s  process ${killed ? 'killed' : `exited (${describeExit(info)})`}`);
    // Leftover children (workers) of the group go too; they would die with the pod.
    tracker.killGroup(child.pid!, 'SIGKILL');
    await waitAtMost(Promise.all(inflight.map((p) => p.done)), 5000);
    await waitAtMost(Promise.all(newConnWaits), 4000);
    for (const p of inflight) {
      if (p.result === undefined) p.result = { kind: p.kind, path: p.path, outcome: 'cut', bytes: p.bytes, endedAt: performance.now(), error: 'no end 5 s after the exit' };
    }

    // 7. Results.
    const inFlight: InFlightResult[] = inflight.map((p) => {
      const { endedAt, ...r } = p.result!;
      // Closed with the process (within 50 ms of the exit) counts as open until the exit.
      const closedBefore = p.connectionClosedAt !== undefined && p.connectionClosedAt < exitAt - 50;
      return { ...r, endedAtSeconds: rel(endedAt), ...(closedBefore ? { connectionClosedAtSeconds: rel(p.connectionClosedAt!) } : {}) };
    });
    const idleResults: IdleResult[] = idle.map((c) => {
      if (c.keptAlive !== true) return { outcome: 'not-kept-alive' };
      if (c.closedAt === undefined || c.closedAt >= exitAt - 50) {
        // Closed with the process (within 50 ms of the exit, or not seen yet): the kernel closes its sockets at exit.
        if (c.closedAt === undefined || c.how !== 'reset') {
          return { outcome: 'open-at-exit', closedAtSeconds: c.closedAt !== undefined ? rel(c.closedAt) : undefined };
        }
      }
      return {
        outcome: c.how ?? 'closed',
        closedAtSeconds: rel(c.closedAt!),
        relativeToExitSeconds: round((c.closedAt! - exitAt) / 1000),
      };
    });
    const after = newConn.filter((n) => n.at >= t0);
    const statuses: { [status: string]: number } = {};
    for (const n of after) if (n.status !== undefined) statuses[String(n.status)] = (statuses[String(n.status)] ?? 0) + 1;
    const answeredAfter = after.filter((n) => n.status !== undefined);
    const refusedAfter = after.filter((n) => n.error === 'ECONNREFUSED');
    const newConnections: NewConnectionsResult = {
      attempts: after.length,
      answered: answeredAfter.length,
      refused: refusedAfter.length,
      dropped: after.length - answeredAfter.length - refusedAfter.length,
      lastAnsweredAtSeconds: answeredAfter.length > 0 ? rel(Math.max(...answeredAfter.map((n) => n.at))) : undefined,
      firstRefusedAtSeconds: refusedAfter.length > 0 ? rel(Math.min(...refusedAfter.map((n) => n.at))) : undefined,
      statuses,
    };

    const allCompleted = inFlight.every((r) => r.outcome === 'completed');
    const verdict: DrainVerdict = killed ? 'ignores' : allCompleted ? 'drains' : 'cuts';
    const exitSeconds = rel(exitAt);
    const lastCompletion = Math.max(0, ...inFlight.filter((r) => r.outcome === 'completed').map((r) => r.endedAtSeconds));
    const longest = options.longestRequestSeconds ?? longestRequestSeconds;
    // Draining: the longest request plus what the app needed after its last request to exit.
    const overhead = verdict === 'drains' ? Math.max(0, exitSeconds - lastCompletion) : 0;
    const suggestedDrainTimeoutSeconds = Math.max(1, Math.ceil(longest + overhead + 1));
    const notes = buildNotes(verdict, stopSignal, idleResults, newConnections, killAfterMs / 1000);
    const lingered = verdict === 'drains' && exitSeconds - lastCompletion > 1
      && inFlight.some((r) => r.outcome === 'completed' && (r.connectionClosedAtSeconds === undefined || r.connectionClosedAtSeconds - r.endedAtSeconds > 1));
    if (lingered) {
      notes.push(`The process exited ${round(exitSeconds - lastCompletion)} s after the last in-flight response: it kept that keep-alive connection `
        + 'open after answering (a load balancer keeps its connections open too) until its own keep-alive timeout. The suggested drainTimeout '
        + 'includes that time; to exit sooner, close idle connections again once requests finish (Node: server.closeIdleConnections()).');
    }
    const props = formatProps(verdict === 'drains', suggestedDrainTimeoutSeconds, stopSignal);
    return {
      command: rendered.argv,
      host,
      port,
      stopSignal,
      pid: child.pid!,
      startupSeconds,
      verdict,
      inFlight,
      idle: idleResults,
      newConnections,
      exitSeconds,
      exitedByItself: !killed,
      exitCode: info.code,
      exitSignal: info.signal,
      drainSeconds: verdict === 'drains' ? exitSeconds : undefined,
      longestRequestSeconds: round(longest),
      suggestedDrainTimeoutSeconds,
      props,
      notes,
      serverOutput: output,
    };
  } finally {
    for (const c of idle) c.socket.destroy();
    for (const p of inflight) p.agent.destroy();
    await tracker.killAll();
    tracker.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function describeExit(info: { code: number | null; signal: NodeJS.Signals | null }): string {
  if (info.signal !== null) return `killed by ${info.signal}`;
  return `exit code ${info.code}`;
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

/** The `shutdown` props for a GracefulWebService, as TypeScript to paste. */
export function formatProps(drains: boolean, drainTimeoutSeconds: number, stopSignal: NodeJS.Signals): string {
  const named = ['SIGTERM', 'SIGQUIT', 'SIGWINCH', 'SIGINT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'].includes(stopSignal);
  const signal = named ? `StopSignal.${stopSignal}` : `StopSignal.of('${stopSignal}')`;
  return `shutdown: { stopSignal: ${signal}, drainsOnStopSignal: ${drains}, drainTimeout: Duration.seconds(${drainTimeoutSeconds}) }`;
}

function buildNotes(verdict: DrainVerdict, stopSignal: string, idle: IdleResult[], fresh: NewConnectionsResult, killAfterSeconds: number): string[] {
  const notes: string[] = [];
  if (verdict === 'ignores') {
    notes.push(`The process was still running ${killAfterSeconds} s after ${stopSignal} and was killed: Kubernetes would wait out the whole `
      + 'grace period and then SIGKILL it. With drainsOnStopSignal: false the preStop wait covers the drain, so nothing is cut, '
      + 'but every pod takes the full grace period to go; better make the image\'s STOPSIGNAL one the app handles.');
  } else if (verdict === 'cuts') {
    notes.push(`${stopSignal} cut requests in flight: declare drainsOnStopSignal: false (the preStop wait then covers the drain before the signal), `
      + 'or find the signal this server drains on and make it the image\'s STOPSIGNAL.');
  }
  if (idle.some((i) => i.outcome === 'reset')) {
    notes.push('Idle keep-alive connections were reset (RST), not closed: a load balancer reusing one at that moment sees an error.');
  }
  if (verdict === 'drains' && fresh.answered > 0) {
    notes.push(`New connections were still answered during the drain (last at ${fresh.lastAnsweredAtSeconds} s); harmless once the load balancer has `
      + 'deregistered the pod, which the preStop wait ensures.');
  }
  if (verdict === 'drains' && fresh.dropped > 0) {
    notes.push(`${fresh.dropped} new connection(s) were accepted during the drain but never answered: the listener stayed open. `
      + 'Harmless only if the load balancer sends nothing new after deregistration (the preStop wait).');
  }
  return notes;
}

/** The human summary. */
export function formatDrainTestSummary(r: DrainTestResult): string {
  const lines: string[] = [];
  lines.push(`Drain test: ${r.command.join(' ')}`);
  lines.push(`  started           answered after ${r.startupSeconds} s on ${r.host}:${r.port}`);
  lines.push(`  stop signal       ${r.stopSignal}, sent to pid ${r.pid} with ${r.inFlight.length} request(s) in flight`);
  const completed = r.inFlight.filter((i) => i.outcome === 'completed');
  const lastDone = completed.length > 0 ? Math.max(...completed.map((i) => i.endedAtSeconds)) : undefined;
  const bad = r.inFlight.filter((i) => i.outcome !== 'completed');
  lines.push(`  in-flight         ${completed.length} of ${r.inFlight.length} completed${lastDone !== undefined ? ` (last at ${lastDone} s)` : ''}`
    + (bad.length > 0 ? `; ${bad.length} ${bad.map((b) => `${b.outcome} at ${b.endedAtSeconds} s${b.error !== undefined ? ` (${b.error})` : ''}`).slice(0, 3).join(', ')}` : ''));
  if (completed.length > 0) {
    const closed = completed.filter((c) => c.connectionClosedAtSeconds !== undefined);
    lines.push(`  their connections ${closed.length === completed.length
      ? `closed by the server after the response (last at ${Math.max(...closed.map((c) => c.connectionClosedAtSeconds!))} s)`
      : `${completed.length - closed.length} of ${completed.length} kept open after the response until the exit`}`);
  }
  const kept = r.idle.filter((i) => i.outcome !== 'not-kept-alive');
  if (r.idle.length === 0) {
    lines.push('  idle keep-alive   none opened');
  } else if (kept.length === 0) {
    lines.push('  idle keep-alive   none: the server closes every connection after its response');
  } else {
    const parts = kept.map((i) => (i.outcome === 'open-at-exit' ? 'open until the process exited'
      : `${i.outcome === 'reset' ? 'reset (RST)' : 'closed (FIN)'} at ${i.closedAtSeconds} s`));
    lines.push(`  idle keep-alive   ${summarizeList(parts)}`);
  }
  const n = r.newConnections;
  const newParts: string[] = [];
  if (n.answered > 0) newParts.push(`${n.answered} answered (last at ${n.lastAnsweredAtSeconds} s)`);
  if (n.refused > 0) newParts.push(`${n.refused} refused (from ${n.firstRefusedAtSeconds} s)`);
  if (n.dropped > 0) newParts.push(`${n.dropped} accepted but dropped unanswered`);
  lines.push(`  new connections   ${newParts.length > 0 ? newParts.join(', ') : 'none tried'}`);
  lines.push(`  process           ${r.exitedByItself ? `exited at ${r.exitSeconds} s (${describeExit({ code: r.exitCode, signal: r.exitSignal as NodeJS.Signals | null })})`
    : `ignored ${r.stopSignal}: still running at ${r.exitSeconds} s, killed`}`);
  lines.push('');
  const verdictText = r.verdict === 'drains'
    ? `DRAINS on ${r.stopSignal}: in-flight requests completed and the process exited ${r.drainSeconds} s after the signal`
    : r.verdict === 'cuts'
      ? `DOES NOT DRAIN on ${r.stopSignal}: in-flight requests were cut; the process exited ${r.exitSeconds} s after the signal`
      : `DOES NOT DRAIN on ${r.stopSignal}: the process ignored it and was killed after ${r.exitSeconds} s`;
  lines.push(`Verdict: ${verdictText}`);
  lines.push(`Suggested drainTimeout: ${r.suggestedDrainTimeoutSeconds} s (longest request ${r.longestRequestSeconds} s`
    + `${r.verdict === 'drains' ? ` + exit after the last request ${round(Math.max(0, r.exitSeconds - (lastDone ?? 0)))} s` : ''} + 1 s, rounded up; `
    + 'pass --longest-request with your slowest real request)');
  lines.push(`Props to paste (valid only if the container is stopped with ${r.stopSignal}: the image's STOPSIGNAL, SIGTERM if it declares none):`);
  lines.push(`  ${r.props}`);
  for (const note of r.notes) lines.push(`Note: ${note}`);
  return lines.join('\n');
}

function summarizeList(parts: string[]): string {
  const counts = new Map<string, number>();
  for (const p of parts) counts.set(p, (counts.get(p) ?? 0) + 1);
  return [...counts].map(([p, c]) => (c > 1 ? `${c} x ${p}` : p)).join(', ');
}
