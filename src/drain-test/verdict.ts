/**
 * The drain test's verdict: from what was seen between the stop signal and the exit, the outcome of
 * every request and connection, whether the app drains, the suggested drainTimeout, the notes and
 * the props to paste.
 */
import { IdleConnection, PendingInFlight } from './clients';
import { DrainTestResult, DrainVerdict, IdleResult, InFlightResult, NewConnectionsResult, round } from './model';

/** One GET on a new connection after the server started (`at`: performance.now() when sent). */
export interface NewConnectionAttempt {
  readonly at: number;
  readonly status?: number;
  readonly error?: string;
}

/** What the test saw, in performance.now() times. */
export interface Observations {
  /** When the stop signal was sent. */
  readonly signalAt: number;
  /** When the process exited (or was killed). */
  readonly exitAt: number;
  readonly exit: { readonly code: number | null; readonly signal: NodeJS.Signals | null };
  /** True when the process outlived the kill bound and was killed. */
  readonly killed: boolean;
  /** Every in-flight request, each ended (its result set). */
  readonly inflight: readonly PendingInFlight[];
  readonly idle: readonly IdleConnection[];
  readonly newConnections: readonly NewConnectionAttempt[];
}

/** The run's facts that the result repeats. */
export interface RunFacts extends Pick<DrainTestResult, 'command' | 'host' | 'port' | 'stopSignal' | 'pid' | 'startupSeconds'> {
  /** The longest of the test's own in-flight requests. */
  readonly measuredLongestSeconds: number;
  /** The user's longest request (--longest-request), when given. */
  readonly longestRequestSeconds?: number;
  readonly killAfterSeconds: number;
  readonly serverOutput: string;
}

/** The result of a drain test that ran to the exit. */
export function judge(facts: RunFacts, seen: Observations): DrainTestResult {
  const rel = (t: number) => round((t - seen.signalAt) / 1000);
  const inFlight = inFlightResults(seen, rel);
  const idleResults = idleConnectionResults(seen, rel);
  const newConnections = newConnectionsResult(seen, rel);
  const { killed, exitAt } = seen;
  const stopSignal = facts.stopSignal;

  const allCompleted = inFlight.every((r) => r.outcome === 'completed');
  const verdict: DrainVerdict = killed ? 'ignores' : allCompleted ? 'drains' : 'cuts';
  const exitSeconds = rel(exitAt);
  const lastCompletion = Math.max(0, ...inFlight.filter((r) => r.outcome === 'completed').map((r) => r.endedAtSeconds));
  const longest = facts.longestRequestSeconds ?? facts.measuredLongestSeconds;
  // Draining: the longest request plus what the app needed after its last request to exit.
  const overhead = verdict === 'drains' ? Math.max(0, exitSeconds - lastCompletion) : 0;
  const suggestedDrainTimeoutSeconds = Math.max(1, Math.ceil(longest + overhead + 1));
  const notes = buildNotes(verdict, stopSignal, idleResults, newConnections, facts.killAfterSeconds);
  const lingered = verdict === 'drains' && exitSeconds - lastCompletion > 1
    && inFlight.some((r) => r.outcome === 'completed' && (r.connectionClosedAtSeconds === undefined || r.connectionClosedAtSeconds - r.endedAtSeconds > 1));
  if (lingered) {
    notes.push(`The process exited ${round(exitSeconds - lastCompletion)} s after the last in-flight response: it kept that keep-alive connection `
      + 'open after answering (a load balancer keeps its connections open too) until its own keep-alive timeout. The suggested drainTimeout '
      + 'includes that time; to exit sooner, close idle connections again once requests finish (Node: server.closeIdleConnections()).');
  }
  const props = formatProps(verdict === 'drains', suggestedDrainTimeoutSeconds, stopSignal);
  return {
    command: facts.command,
    host: facts.host,
    port: facts.port,
    stopSignal,
    pid: facts.pid,
    startupSeconds: facts.startupSeconds,
    verdict,
    inFlight,
    idle: idleResults,
    newConnections,
    exitSeconds,
    exitedByItself: !killed,
    exitCode: seen.exit.code,
    exitSignal: seen.exit.signal,
    drainSeconds: verdict === 'drains' ? exitSeconds : undefined,
    longestRequestSeconds: round(longest),
    suggestedDrainTimeoutSeconds,
    props,
    notes,
    serverOutput: facts.serverOutput,
  };
}

function inFlightResults(seen: Observations, rel: (t: number) => number): InFlightResult[] {
  return seen.inflight.map((p) => {
    const { endedAt, ...r } = p.result!;
    // Closed with the process (within 50 ms of the exit) counts as open until the exit.
    const closedBefore = p.connectionClosedAt !== undefined && p.connectionClosedAt < seen.exitAt - 50;
    return { ...r, endedAtSeconds: rel(endedAt), ...(closedBefore ? { connectionClosedAtSeconds: rel(p.connectionClosedAt!) } : {}) };
  });
}

function idleConnectionResults(seen: Observations, rel: (t: number) => number): IdleResult[] {
  const exitAt = seen.exitAt;
  return seen.idle.map((c) => {
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
}

function newConnectionsResult(seen: Observations, rel: (t: number) => number): NewConnectionsResult {
  const after = seen.newConnections.filter((n) => n.at >= seen.signalAt);
  const statuses: { [status: string]: number } = {};
  for (const n of after) if (n.status !== undefined) statuses[String(n.status)] = (statuses[String(n.status)] ?? 0) + 1;
  const answeredAfter = after.filter((n) => n.status !== undefined);
  const refusedAfter = after.filter((n) => n.error === 'ECONNREFUSED');
  return {
    attempts: after.length,
    answered: answeredAfter.length,
    refused: refusedAfter.length,
    dropped: after.length - answeredAfter.length - refusedAfter.length,
    lastAnsweredAtSeconds: answeredAfter.length > 0 ? rel(Math.max(...answeredAfter.map((n) => n.at))) : undefined,
    firstRefusedAtSeconds: refusedAfter.length > 0 ? rel(Math.min(...refusedAfter.map((n) => n.at))) : undefined,
    statuses,
  };
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
