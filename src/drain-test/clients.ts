/**
 * The drain test's client side: the requests it keeps in flight across the signal, the idle
 * keep-alive connections it watches, and single GETs (start-up, calibration, new connections).
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { DrainTestError, InFlightResult } from './model';

/** One HTTP GET, any status counts as an answer. Resolves undefined on connection errors. */
export function getOnce(host: string, port: number, urlPath: string, timeoutMs: number): Promise<{ status: number } | { error: string }> {
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

export interface PendingInFlight {
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
export function startRequest(kind: 'download' | 'slow', host: string, port: number, urlPath: string, bytesPerSecond: number): PendingInFlight {
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

export interface IdleConnection {
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
export function openIdleConnection(host: string, port: number, urlPath: string): IdleConnection {
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
