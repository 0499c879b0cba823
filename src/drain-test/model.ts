/** The drain test's options, results and errors, and the small helpers every step shares. */
import type { ServerCommandSpec } from '../process/server-command';

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

/** Bytes in a MiB. */
export const MIB = 1024 * 1024;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits for `promise`, at most `ms` (the timer does not outlive the wait). */
export async function waitAtMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); })]);
  clearTimeout(timer);
}

export function round(seconds: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(seconds * f) / f;
}

export function describeExit(info: { code: number | null; signal: NodeJS.Signals | null }): string {
  if (info.signal !== null) return `killed by ${info.signal}`;
  return `exit code ${info.code}`;
}
