/**
 * What a running rehearsal shows while it runs: one clock for every log line (model seconds since
 * the first rollout started, `setup` before it), and a status snapshot (rollout step, pods,
 * requests, failures, time left) that the CLI renders as one live line on a terminal.
 */
import type { PodState } from './simulated-cluster';
import type { ProbeProgress } from '../probe/probe';

/** Width of the clock column: `t=  12.34s` or `     setup`. */
const CLOCK_WIDTH = 10;

/** The clock column of a log line: model seconds since the first rollout, or `setup` before it. */
export function formatClock(modelSeconds: number | undefined): string {
  if (modelSeconds === undefined) return 'setup'.padStart(CLOCK_WIDTH);
  return `t=${modelSeconds.toFixed(2).padStart(CLOCK_WIDTH - 3)}s`;
}

/** A probe progress line of the rehearsal log, on the rehearsal's clock. */
export function formatRehearsalProgress(clock: string, p: ProbeProgress): string {
  return `${clock} requests: ${p.sent} sent, ${p.failed} failed in the last second | ${p.totalSent} sent, ${p.totalFailed} failed in all`;
}

/** A snapshot of the run, once per second. */
export interface RehearsalStatus {
  /** The rollout in progress, 1-based; 0 during setup and warmup. */
  readonly rollout: number;
  readonly rollouts: number;
  readonly replicas: number;
  /** Pods of the newest revision that are available (the rollout's progress). */
  readonly newAvailable: number;
  /** Pods of the newest revision that exist (started, not yet available included). */
  readonly newPods: number;
  /** Pods of older revisions that are still serving (not deleted). */
  readonly oldServing: number;
  /** Pods deleted and not yet exited (preStop, draining). */
  readonly terminating: number;
  readonly sent: number;
  readonly failed: number;
  /** Model seconds since the first rollout started; undefined before. */
  readonly modelSeconds?: number;
  /** Estimated wall seconds until the rehearsal ends; undefined while there is nothing to go on. */
  readonly wallSecondsLeft?: number;
}

/** What `rehearsalStatus` needs to know beyond the pods. */
export interface StatusInputs {
  readonly pods: readonly PodState[];
  readonly revision: number;
  readonly rollout: number;
  readonly rollouts: number;
  readonly replicas: number;
  readonly sent: number;
  readonly failed: number;
  /** Model seconds since the current rollout started, and since the first one; undefined before. */
  readonly rolloutSeconds?: number;
  readonly modelSeconds?: number;
  /** Model seconds an old pod may take to exit after deletion (the grace period) and the settle time. */
  readonly graceSeconds: number;
  readonly settleSeconds: number;
  /** Wall seconds per model second. */
  readonly scale: number;
}

/**
 * The snapshot, with a time-left estimate from the pace so far: each new pod has taken
 * (rollout time / new pods available) on average; the rest of this rollout, the remaining
 * rollouts, the last old pod's grace period and the settle time follow.
 */
export function rehearsalStatus(i: StatusInputs): RehearsalStatus {
  const current = i.pods.filter((p) => p.revision === i.revision && !p.leaving);
  const newAvailable = i.rollout === 0 ? 0 : current.filter((p) => p.available).length;
  const oldServing = i.pods.filter((p) => p.revision !== i.revision && !p.leaving).length;
  const terminating = i.pods.filter((p) => p.deleting && !p.gone).length;
  let wallSecondsLeft: number | undefined;
  if (i.rollout > 0 && newAvailable > 0 && i.rolloutSeconds !== undefined) {
    const perPod = i.rolloutSeconds / newAvailable;
    const thisRollout = Math.max(0, i.replicas - newAvailable) * perPod;
    const laterRollouts = (i.rollouts - i.rollout) * (i.replicas * perPod + i.graceSeconds);
    wallSecondsLeft = (thisRollout + laterRollouts + i.graceSeconds + i.settleSeconds) * i.scale;
  }
  return {
    rollout: i.rollout,
    rollouts: i.rollouts,
    replicas: i.replicas,
    newAvailable,
    newPods: i.rollout === 0 ? 0 : current.length,
    oldServing: i.rollout === 0 ? current.length : oldServing,
    terminating,
    sent: i.sent,
    failed: i.failed,
    modelSeconds: i.modelSeconds,
    wallSecondsLeft,
  };
}

/** The live status line: `rollout 1/1: 2/3 new pods available | pods 1 old, 3 new, 1 terminating | ...`. */
export function formatStatusLine(s: RehearsalStatus): string {
  const step = s.rollout === 0
    ? 'warmup'
    : `rollout ${s.rollout}/${s.rollouts}: ${s.newAvailable}/${s.replicas} new pods available`;
  const pods = `pods ${s.oldServing} old, ${s.newPods} new, ${s.terminating} terminating`;
  const requests = `requests ${s.sent}, failed ${s.failed}`;
  const left = s.rollout === 0 ? '' : s.wallSecondsLeft === undefined ? ' | time left: estimating' : ` | about ${Math.ceil(s.wallSecondsLeft)} s left`;
  const clock = s.modelSeconds === undefined ? 'setup' : `t=${s.modelSeconds.toFixed(1)}s`;
  return `${clock} | ${step} | ${pods} | ${requests}${left}`;
}

/**
 * One line rewritten in place on a terminal (carriage return, erase line). `clear` removes it so
 * that the summary that follows starts on a clean line.
 */
export class StatusLine {
  private shown = false;

  public constructor(private readonly write: (text: string) => void, private readonly columns: () => number | undefined = () => undefined) {}

  public update(text: string): void {
    const width = this.columns();
    const fitted = width !== undefined && width > 1 && text.length >= width ? `${text.slice(0, width - 2)}…` : text;
    this.write(`\r\x1b[2K${fitted}`);
    this.shown = true;
  }

  public clear(): void {
    if (this.shown) this.write('\r\x1b[2K');
    this.shown = false;
  }
}
