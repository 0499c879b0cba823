import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

/** Why a request failed. `null` in a record means it succeeded (2xx/3xx). */
export type ErrorKind = 'refused' | 'reset' | 'timeout' | 'http_5xx' | 'other';

export const ERROR_KINDS: readonly ErrorKind[] = ['refused', 'reset', 'timeout', 'http_5xx', 'other'];

/** One request, as the client saw it. */
export interface ProbeRecord {
  /** Send order, 0-based. */
  readonly seq: number;
  /** When the request was sent, in ms since the probe's time origin. */
  readonly t: number;
  /** HTTP status, or null when no response arrived. */
  readonly status: number | null;
  /** Time from send until the response body ended (or the error), ms. */
  readonly latencyMs: number;
  readonly error: ErrorKind | null;
  /** The response headers named in `captureHeaders` that the response carried (lower-case names). */
  readonly headers?: { readonly [name: string]: string };
}

export interface FailureRun {
  /** Number of consecutive failed requests (in send order). */
  readonly count: number;
  /** From the first failed request's send to the last failed request's end, ms. */
  readonly durationMs: number;
  /** Send time of the first failed request of the run, ms since the time origin. */
  readonly startMs: number;
}

export interface ProbeSummary {
  readonly total: number;
  readonly ok: number;
  readonly failed: number;
  /** ok / total in percent (100 when nothing was sent). */
  readonly availabilityPercent: number;
  /** Count per HTTP status ("200", "502", ...) plus "none" for requests without a response. */
  readonly byStatus: Record<string, number>;
  readonly byError: Record<ErrorKind, number>;
  readonly longestFailureRun: FailureRun;
  /** Wall time the probe was sending, ms. */
  readonly durationMs: number;
  readonly maxLatencyMs: number;
}

export interface ProbeProgress {
  /** Seconds since the probe started. */
  readonly second: number;
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  readonly totalSent: number;
  readonly totalOk: number;
  readonly totalFailed: number;
}

export interface ProbeOptions {
  readonly url: string;
  /** Requests per second (open loop: sent on schedule whether or not earlier ones finished). */
  readonly rate: number;
  /**
   * Maximum requests in flight = keep-alive connections. Requests beyond it wait for a connection
   * (their latency includes the wait). Default: enough that only requests which would time out anyway wait.
   */
  readonly concurrency?: number;
  /** Host header to send (e.g. the Ingress host when probing an LB address). */
  readonly host?: string;
  /** Per-request timeout in ms, counted from send. Default 10 000. */
  readonly timeoutMs?: number;
  /** Stop sending after this many ms. Default: until `signal` aborts. */
  readonly durationMs?: number;
  /** Stop sending when aborted (SIGINT in the CLI, end of rollout in `gws rehearse`). */
  readonly signal?: AbortSignal;
  /** Write every record to this file: `.csv` gives CSV, anything else JSON lines. */
  readonly out?: string;
  /** Called once per second with the counts of the last second. */
  readonly onProgress?: (p: ProbeProgress) => void;
  /** `performance.now()` value that record times are relative to. Default: the start of the probe. */
  readonly timeOrigin?: number;
  /** Close idle keep-alive connections after this many ms. Default 4000 (below common 5 s server idle timeouts). */
  readonly idleTimeoutMs?: number;
  /**
   * How requests are spaced. `fixed`: exactly 1/rate apart. `poisson`: independent arrivals at the
   * same mean rate (exponential gaps), like many users; only irregular gaps let an app's idle close
   * meet a reused connection. Default `fixed`.
   */
  readonly arrivals?: Arrivals;
  /** Random source in [0, 1) for `poisson` arrivals (seed it for reproducible runs). Default Math.random. */
  readonly random?: () => number;
  /** https:// only: CA certificates (PEM) to trust instead of the system's roots (curl's `--cacert`). */
  readonly ca?: string | Buffer;
  /** https:// only: do not verify the server's certificate (curl's `--insecure`), for self-signed test endpoints. */
  readonly insecure?: boolean;
  /** Keep these response headers (lower-case names) in each record (`measure` reads the lag meter's). */
  readonly captureHeaders?: readonly string[];
  /** Called with each record as its request ends. */
  readonly onRecord?: (record: ProbeRecord) => void;
}

/** Request spacing: fixed intervals, or a Poisson process with the same mean rate. */
export type Arrivals = 'fixed' | 'poisson';
export const ARRIVALS: readonly Arrivals[] = ['fixed', 'poisson'];

/** The gap before the next request (ms): fixed, or exponential with the same mean. */
export function nextGapMs(arrivals: Arrivals, meanMs: number, random: () => number): number {
  return arrivals === 'poisson' ? -Math.log(1 - random()) * meanMs : meanMs;
}

export interface ProbeResult {
  readonly summary: ProbeSummary;
  /** All records, in send order. */
  readonly records: ProbeRecord[];
  /**
   * The first TLS failure (an untrusted or mismatched certificate), when a request had one: such
   * requests count as `other` errors, and this says why.
   */
  readonly tlsError?: string;
}

/** Whether a request error is a TLS failure (certificate verification, handshake). */
export function isTlsError(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException | undefined;
  return /CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME/.test(e?.code ?? '') || /certificate|SSL routines/i.test(e?.message ?? '');
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/** Default concurrency: connections for every request that could still be in flight before it times out. */
export function defaultConcurrency(rate: number, timeoutMs: number): number {
  return Math.min(1024, Math.max(1, Math.ceil((rate * timeoutMs) / 1000)));
}

/** Map a Node socket/HTTP error to an error kind. */
export function classifyError(err: unknown): ErrorKind {
  const e = err as NodeJS.ErrnoException | undefined;
  const code = e?.code;
  if (code === 'GWS_TIMEOUT' || code === 'ETIMEDOUT') return 'timeout';
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED' || /socket hang up|aborted/i.test(e?.message ?? '')) return 'reset';
  return 'other';
}

/** Map an HTTP status to an error kind (null = success). */
export function classifyStatus(status: number): ErrorKind | null {
  if (status >= 200 && status < 400) return null;
  if (status >= 500) return 'http_5xx';
  return 'other';
}

/** Aggregate records into a summary. Records may be in any order; runs are computed in send order. */
export function summarize(records: readonly ProbeRecord[], durationMs?: number): ProbeSummary {
  const sorted = [...records].sort((a, b) => a.seq - b.seq);
  const byStatus: Record<string, number> = {};
  const byError = Object.fromEntries(ERROR_KINDS.map((k) => [k, 0])) as Record<ErrorKind, number>;
  let ok = 0;
  let maxLatencyMs = 0;
  let longest: FailureRun = { count: 0, durationMs: 0, startMs: 0 };
  let runCount = 0;
  let runStart = 0;
  let runEnd = 0;
  for (const r of sorted) {
    const key = r.status === null ? 'none' : String(r.status);
    byStatus[key] = (byStatus[key] ?? 0) + 1;
    maxLatencyMs = Math.max(maxLatencyMs, r.latencyMs);
    if (r.error === null) {
      ok++;
      runCount = 0;
      continue;
    }
    byError[r.error]++;
    if (runCount === 0) {
      runStart = r.t;
      runEnd = r.t + r.latencyMs;
    }
    runCount++;
    runEnd = Math.max(runEnd, r.t + r.latencyMs);
    if (runCount > longest.count) longest = { count: runCount, durationMs: runEnd - runStart, startMs: runStart };
  }
  const total = sorted.length;
  const span = sorted.length > 0 ? sorted[sorted.length - 1].t - sorted[0].t : 0;
  return {
    total,
    ok,
    failed: total - ok,
    availabilityPercent: total === 0 ? 100 : (ok / total) * 100,
    byStatus,
    byError,
    longestFailureRun: longest,
    durationMs: durationMs ?? span,
    maxLatencyMs,
  };
}

function fmtPct(p: number): string {
  if (p === 100) return '100%';
  // Never round a failure away: 99.9996% must not print as 100.000%.
  return `${(Math.floor(p * 1000) / 1000).toFixed(3)}%`;
}

/** Human-readable multi-line summary. */
export function formatSummary(s: ProbeSummary): string {
  const statuses = Object.entries(s.byStatus).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(' ');
  const errors = ERROR_KINDS.filter((k) => s.byError[k] > 0).map((k) => `${k}=${s.byError[k]}`).join(' ');
  const run = s.longestFailureRun;
  return [
    `requests:     ${s.total} in ${(s.durationMs / 1000).toFixed(1)} s`,
    `failed:       ${s.failed}`,
    `availability: ${fmtPct(s.availabilityPercent)}`,
    `by status:    ${statuses || '-'}`,
    `by error:     ${errors || '-'}`,
    `longest failure run: ${run.count} request(s) over ${(run.durationMs / 1000).toFixed(3)} s`,
    `max latency:  ${(s.maxLatencyMs / 1000).toFixed(3)} s`,
  ].join('\n');
}

export function formatProgress(p: ProbeProgress): string {
  return `[${String(p.second).padStart(4)}s] sent ${p.sent} ok ${p.ok} failed ${p.failed} | total sent ${p.totalSent} ok ${p.totalOk} failed ${p.totalFailed}`;
}

interface RecordSink {
  write(r: ProbeRecord): void;
  close(): Promise<void>;
}

function openSink(file: string): RecordSink {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const stream = fs.createWriteStream(file);
  const csv = file.toLowerCase().endsWith('.csv');
  if (csv) stream.write('seq,t_ms,status,latency_ms,error\n');
  return {
    write(r) {
      if (csv) stream.write(`${r.seq},${r.t.toFixed(1)},${r.status ?? ''},${r.latencyMs.toFixed(1)},${r.error ?? ''}\n`);
      else stream.write(JSON.stringify({ ...r, t: Math.round(r.t * 10) / 10, latencyMs: Math.round(r.latencyMs * 10) / 10 }) + '\n');
    },
    close: () => new Promise<void>((resolve, reject) => {
      stream.once('error', reject);
      stream.end(() => resolve());
    }),
  };
}

/** The probe's connections: a keep-alive agent for http:// or https:// and how to request with it. */
interface Transport {
  readonly agent: http.Agent;
  readonly request: typeof http.request;
  readonly defaultPort: number;
  /** TLS server name (SNI) and name the certificate must match, when it differs from the URL's host. */
  readonly servername?: string;
}

/** The agent for the URL's scheme; `https:` trusts `ca` (or the system roots) unless `insecure`. */
function createTransport(url: URL, options: ProbeOptions, concurrency: number): Transport {
  const agentOptions = {
    keepAlive: true,
    maxSockets: concurrency,
    maxFreeSockets: concurrency,
    timeout: options.idleTimeoutMs ?? 4000,
  };
  if (url.protocol === 'http:') {
    if (options.ca !== undefined || options.insecure) throw new Error(`ca and insecure apply to https:// URLs only, got ${options.url}`);
    return { agent: new http.Agent(agentOptions), request: http.request, defaultPort: 80 };
  }
  if (url.protocol !== 'https:') throw new Error(`only http:// and https:// URLs are supported, got ${options.url}`);
  const agent = new https.Agent({ ...agentOptions, ca: options.ca, rejectUnauthorized: !options.insecure });
  // With a Host header (probing an LB address for a virtual host), the certificate is that host's.
  const hostName = options.host?.replace(/:\d+$/, '');
  const servername = hostName !== undefined && !net.isIP(hostName) ? hostName : undefined;
  return { agent, request: https.request, defaultPort: 443, servername };
}

/** The per-second counters behind `onProgress`. */
class ProgressCounter {
  private second = 0;
  private sent = 0;
  private ok = 0;
  private failed = 0;
  private totalOk = 0;
  private totalFailed = 0;

  public onSent(): void {
    this.sent++;
  }

  public onFinished(rec: ProbeRecord): void {
    if (rec.error === null) {
      this.ok++; this.totalOk++;
    } else {
      this.failed++; this.totalFailed++;
    }
  }

  /** The last second's counts; starts the next second. */
  public tick(totalSent: number): ProbeProgress {
    this.second++;
    const { second, sent, ok, failed, totalOk, totalFailed } = this;
    const p = { second, sent, ok, failed, totalSent, totalOk, totalFailed };
    this.sent = this.ok = this.failed = 0;
    return p;
  }
}

/** One probe run's requests: sends them, records each outcome, and tells when all have finished. */
class RequestSender {
  public readonly records: ProbeRecord[] = [];
  public readonly progress = new ProgressCounter();
  public sent = 0;
  /** The first TLS failure's message. */
  public tlsError?: string;
  private inFlight = 0;
  private onIdle?: () => void;

  public constructor(
    private readonly url: URL,
    private readonly transport: Transport,
    private readonly options: ProbeOptions,
    private readonly timeoutMs: number,
    private readonly origin: number,
    private readonly sink?: RecordSink,
  ) {}

  /** Sends one GET request and records its outcome when it ends. */
  public fire(): void {
    const seq = this.sent++;
    const sentAt = performance.now();
    this.inFlight++;
    this.progress.onSent();
    let done = false;
    let headers: { [name: string]: string } | undefined;
    const settle = (status: number | null, error: ErrorKind | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const rec: ProbeRecord = { seq, t: sentAt - this.origin, status, latencyMs: performance.now() - sentAt, error };
      this.finish(headers === undefined ? rec : { ...rec, headers });
    };
    const req = this.send((res) => {
      const status = res.statusCode ?? 0;
      headers = captured(res.headers, this.options.captureHeaders);
      res.on('error', (err) => settle(status, classifyError(err)));
      res.on('aborted', () => settle(status, 'reset'));
      res.on('end', () => settle(status, classifyStatus(status)));
      res.resume();
    });
    const timer = setTimeout(() => {
      const err: NodeJS.ErrnoException = new Error(`timeout after ${this.timeoutMs} ms`);
      err.code = 'GWS_TIMEOUT';
      settle(null, 'timeout');
      req.destroy(err);
    }, this.timeoutMs);
    req.on('error', (err) => {
      if (this.tlsError === undefined && isTlsError(err)) this.tlsError = `${(err as NodeJS.ErrnoException).code ?? 'TLS'}: ${err.message}`;
      settle(null, classifyError(err));
    });
    req.end();
  }

  /** Resolves once no request is in flight. */
  public async idle(): Promise<void> {
    if (this.inFlight > 0) await new Promise<void>((resolve) => { this.onIdle = resolve; });
  }

  private send(onResponse: (res: http.IncomingMessage) => void): http.ClientRequest {
    const headers: http.OutgoingHttpHeaders = { 'user-agent': 'gws-probe' };
    if (this.options.host) headers.host = this.options.host;
    const { agent, request, defaultPort, servername } = this.transport;
    return request({
      agent,
      hostname: this.url.hostname,
      port: this.url.port || defaultPort,
      path: this.url.pathname + this.url.search,
      method: 'GET',
      headers,
      ...(servername === undefined ? {} : { servername }),
    }, onResponse);
  }

  private finish(rec: ProbeRecord): void {
    this.records.push(rec);
    this.sink?.write(rec);
    this.options.onRecord?.(rec);
    this.progress.onFinished(rec);
    this.inFlight--;
    if (this.inFlight === 0) this.onIdle?.();
  }
}

/** The named headers a response carried, or undefined when none is asked for. */
function captured(all: http.IncomingHttpHeaders, names: readonly string[] | undefined): { [name: string]: string } | undefined {
  if (names === undefined) return undefined;
  const kept: { [name: string]: string } = {};
  for (const name of names) {
    const v = all[name];
    if (v !== undefined) kept[name] = Array.isArray(v) ? v.join(', ') : v;
  }
  return kept;
}

/**
 * Fires requests on the open-loop schedule until the duration ends or the signal aborts: each
 * request is due one gap after the previous one was due; after a stall, it catches up at once
 * (never silently skipping requests the schedule owed).
 */
function sendOnSchedule(options: ProbeOptions, sender: RequestSender, start: number): Promise<void> {
  const interval = 1000 / options.rate;
  const arrivals = options.arrivals ?? 'fixed';
  const random = options.random ?? Math.random;
  const deadline = options.durationMs !== undefined ? start + options.durationMs : Infinity;
  let nextAt = start;
  let stopped = false;
  return new Promise<void>((resolve) => {
    let tickTimer: NodeJS.Timeout | undefined;
    let endTimer: NodeJS.Timeout | undefined;
    const progressTimer = setInterval(() => options.onProgress?.(sender.progress.tick(sender.sent)), 1000);
    const stop = () => {
      if (stopped) return;
      stopped = true;
      clearTimeout(tickTimer);
      clearTimeout(endTimer);
      clearInterval(progressTimer);
      options.signal?.removeEventListener('abort', stop);
      resolve();
    };
    if (options.signal?.aborted) return stop();
    options.signal?.addEventListener('abort', stop);
    if (options.durationMs !== undefined) endTimer = setTimeout(stop, options.durationMs);
    const tick = () => {
      const now = performance.now();
      while (!stopped && nextAt <= now && nextAt < deadline) {
        sender.fire();
        nextAt += nextGapMs(arrivals, interval, random);
      }
      if (!stopped) tickTimer = setTimeout(tick, Math.max(0, nextAt - performance.now()));
    };
    tick();
  });
}

/**
 * Send GET requests to `url` (http:// or https://) at a rate (fixed intervals or Poisson
 * arrivals) over keep-alive connections and record every outcome.
 * Resolves when sending has stopped (duration or signal) and every request sent has finished.
 */
export async function runProbe(options: ProbeOptions): Promise<ProbeResult> {
  const url = new URL(options.url);
  if (!(options.rate > 0)) throw new Error('rate must be > 0');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const concurrency = options.concurrency ?? defaultConcurrency(options.rate, timeoutMs);
  if (!(concurrency >= 1)) throw new Error('concurrency must be >= 1');
  const transport = createTransport(url, options, concurrency);
  const sink = options.out ? openSink(options.out) : undefined;
  const start = performance.now();
  const sender = new RequestSender(url, transport, options, timeoutMs, options.timeOrigin ?? start, sink);
  await sendOnSchedule(options, sender, start);
  const sendingMs = performance.now() - start;
  await sender.idle();
  transport.agent.destroy();
  await sink?.close();
  const records = [...sender.records].sort((a, b) => a.seq - b.seq);
  const tls = sender.tlsError === undefined ? {} : { tlsError: sender.tlsError };
  return { summary: summarize(records, sendingMs), records, ...tls };
}
