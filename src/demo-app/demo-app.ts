#!/usr/bin/env node
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { Command, InvalidArgumentError, Option } from 'commander';

/** What the app does on SIGTERM. */
export type SigtermMode = 'drain' | 'abrupt' | 'ignore';

export const SIGTERM_MODES: readonly SigtermMode[] = ['drain', 'abrupt', 'ignore'];

export interface LatencyRange {
  readonly minMs: number;
  readonly maxMs: number;
}

export interface DemoAppOptions {
  /** 0 picks a free port; the chosen port is printed as the first stdout line. */
  readonly port: number;
  readonly host: string;
  readonly latency: LatencyRange;
  readonly readinessPath: string;
  readonly onSigterm: SigtermMode;
  /** Idle keep-alive timeout; keep it above the load balancer's, as you would in production. */
  readonly keepAliveTimeoutMs: number;
  /** Shown in responses, handy to see which pod answered. */
  readonly name: string;
  /** The signal the app treats as "stop" (the container runtime's stop signal). Default SIGTERM. */
  readonly stopSignal?: NodeJS.Signals;
  /**
   * One-way network delay between the load balancer and this pod, in ms (default 0: loopback). The
   * app closes an idle keep-alive connection at its timeout, but the peer learns it only this much
   * later: a request the LB sends on that connection in between arrives at a closed socket and is
   * reset, the race behind the classic 502 of an app whose idle timeout is shorter than the LB's.
   */
  readonly networkDelayMs?: number;
  /** Where the JSON event lines go (`listening`, `stop-signal`, `drained`). Default: stdout, which `rehearse` reads. */
  readonly log?: (line: string) => void;
}

/** Parse `150` (fixed) or `0-2000` (uniform random) milliseconds. */
export function parseLatency(text: string): LatencyRange {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:-\s*(\d+(?:\.\d+)?))?\s*(?:ms)?\s*$/.exec(text);
  if (!m) throw new InvalidArgumentError(`expected milliseconds like "150" or "0-2000", got "${text}"`);
  const minMs = Number(m[1]);
  const maxMs = m[2] !== undefined ? Number(m[2]) : minMs;
  if (maxMs < minMs) throw new InvalidArgumentError(`latency range "${text}" has max < min`);
  return { minMs, maxMs };
}

function stdoutLine(line: string): void {
  process.stdout.write(line + '\n');
}

/**
 * Start the demo pod app in this process. `/` answers after the configured latency, the readiness
 * path answers 200 (503 once draining). SIGTERM handling follows `onSigterm`:
 * - `drain`: stop accepting connections, close idle keep-alive connections, finish in-flight requests
 *   (answering them with `Connection: close`), then exit 0;
 * - `abrupt`: the default signal disposition, the process dies at once and cuts in-flight requests;
 * - `ignore`: keep serving until SIGKILL.
 */
export function startDemoApp(options: DemoAppOptions): Promise<http.Server> {
  const log = (event: string, fields: Record<string, unknown> = {}) =>
    (options.log ?? stdoutLine)(JSON.stringify({ event, pid: process.pid, ...fields }));
  let draining = false;
  let inFlight = 0;
  const closing = new WeakSet<object>();
  const idleTimers = new WeakMap<object, { stop: () => void; arm: () => void }>();
  const server = http.createServer((req, res) => {
    if (closing.has(req.socket)) {
      // This request crossed our FIN on the wire: the socket is already closed on our side.
      req.socket.resetAndDestroy();
      return;
    }
    const idle = idleTimers.get(req.socket);
    if (idle) {
      idle.stop();
      res.once('finish', idle.arm);
    }
    // A readiness probe is a request for the readiness path; when that path is `/` (as for many
    // web servers) only the kubelet's own probes (User-Agent kube-probe/...) are answered at once.
    const isProbe = req.url === options.readinessPath && (options.readinessPath !== '/' || /^kube-probe\//.test(req.headers['user-agent'] ?? ''));
    if (isProbe) {
      res.statusCode = draining ? 503 : 200;
      res.end(draining ? 'draining\n' : 'ready\n');
      return;
    }
    inFlight++;
    const { minMs, maxMs } = options.latency;
    const delay = minMs + Math.random() * (maxMs - minMs);
    setTimeout(() => {
      if (draining) res.shouldKeepAlive = false; // ask the peer not to reuse this connection
      res.setHeader('content-type', 'text/plain');
      res.end(`ok ${options.name} ${delay.toFixed(0)}ms\n`, () => { inFlight--; });
    }, delay);
  });
  const networkDelay = options.networkDelayMs ?? 0;
  if (networkDelay > 0) {
    // Idle keep-alive timeout handled here so that the close can travel for networkDelay ms.
    server.keepAliveTimeout = 0;
    server.on('connection', (socket) => {
      let idle: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(idle);
        idle = setTimeout(() => {
          closing.add(socket);
          setTimeout(() => socket.destroy(), networkDelay);
        }, options.keepAliveTimeoutMs);
      };
      idleTimers.set(socket, { stop: () => clearTimeout(idle), arm });
      arm();
      socket.once('close', () => clearTimeout(idle));
    });
  } else {
    server.keepAliveTimeout = options.keepAliveTimeoutMs;
  }
  server.headersTimeout = options.keepAliveTimeoutMs + 1000;
  server.requestTimeout = 0;

  const stopSignal = options.stopSignal ?? 'SIGTERM';
  if (options.onSigterm === 'drain') {
    process.on(stopSignal, () => {
      if (draining) return;
      draining = true;
      log('stop-signal', { signal: stopSignal, mode: 'drain', inFlight });
      // close() stops accepting and calls back once every connection has closed;
      // idle keep-alive connections are closed now, busy ones after their response.
      server.close(() => {
        log('drained');
        process.exit(0);
      });
      server.closeIdleConnections();
    });
  } else if (options.onSigterm === 'ignore') {
    process.on(stopSignal, () => log('stop-signal', { signal: stopSignal, mode: 'ignore', inFlight }));
  }
  // 'abrupt': no handler, so the signal's default action (terminate) ends the process immediately.

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      const port = (server.address() as AddressInfo).port;
      log('listening', { port, host: options.host, mode: options.onSigterm });
      resolve(server);
    });
  });
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0-65535');
  return n;
}

function parseMode(v: string): SigtermMode {
  if (!(SIGTERM_MODES as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${SIGTERM_MODES.join(', ')}`);
  return v as SigtermMode;
}

// Kept here, not imported from ./cli-args: the demo app runs on its own (a rehearsal running from the
// TypeScript sources transpiles this one file and starts it with node), so it imports only packages.
function parseNonNegative(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a non-negative number');
  return n;
}

interface DemoAppCliOptions {
  port: number;
  host: string;
  latency: LatencyRange;
  readinessPath: string;
  onSigterm: SigtermMode;
  keepAliveTimeout: number;
  name: string;
  stopSignal: string;
  networkDelay: number;
}

/** Add the demo-app options and action to a commander command (used by `gws demo-app` and this file's main). */
export function configureDemoAppCommand(cmd: Command): Command {
  return cmd
    .description('Run the demo pod app: answers / after a latency, a readiness path, and handles SIGTERM by draining or dying')
    .option('-p, --port <port>', 'port to listen on (0 = any free port, printed on stdout)', parsePort, 8080)
    .option('--host <address>', 'address to bind', '127.0.0.1')
    .addOption(new Option('-l, --latency <ms>', 'response latency in ms: fixed ("150") or uniform random range ("0-2000")')
      .argParser(parseLatency).default({ minMs: 0, maxMs: 0 }, '0'))
    .option('-r, --readiness-path <path>', 'readiness path, answered at once (if it is "/", only for User-Agent kube-probe/...)', '/healthz')
    .option('-m, --on-sigterm <mode>', `SIGTERM behaviour: ${SIGTERM_MODES.join(' | ')}`, parseMode, 'drain' as SigtermMode)
    .option('--keep-alive-timeout <ms>', 'idle keep-alive timeout in ms', parseNonNegative, 120_000)
    .option('--name <name>', 'name shown in responses', 'demo-app')
    .option('--stop-signal <signal>', 'the signal handled as "stop" (drain / abrupt / ignore applies to it)', 'SIGTERM')
    .option('--network-delay <ms>', 'one-way LB-to-pod network delay: an idle close reaches the peer this much later', parseNonNegative, 0)
    .action(async (opts: DemoAppCliOptions) => {
      await startDemoApp({
        port: opts.port,
        host: opts.host,
        latency: opts.latency,
        readinessPath: opts.readinessPath,
        onSigterm: opts.onSigterm,
        keepAliveTimeoutMs: opts.keepAliveTimeout,
        name: opts.name,
        networkDelayMs: opts.networkDelay,
        stopSignal: (opts.stopSignal.toUpperCase().startsWith('SIG') ? opts.stopSignal.toUpperCase() : `SIG${opts.stopSignal.toUpperCase()}`) as NodeJS.Signals,
      });
    });
}

if (require.main === module) {
  configureDemoAppCommand(new Command('demo-app')).parseAsync(process.argv).catch((err: Error) => {
    process.stderr.write(`demo-app: ${err.message}\n`);
    process.exit(1);
  });
}
