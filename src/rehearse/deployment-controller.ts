/**
 * The Deployment controller's rolling update, as a pure function: the pods as they are in, the
 * pods to create and to delete out. One call is one sync of the controller; the caller applies the
 * decision and calls again (as the controller re-syncs when its ReplicaSets report back) until the
 * decision is empty.
 *
 * As in Kubernetes (`rolloutRolling`): the new ReplicaSet grows first, within replicas + maxSurge
 * pods; otherwise old pods are deleted while at least replicas - maxUnavailable pods stay
 * available (Ready for minReadySeconds). Terminating pods count for neither. Victims: not-available
 * pods first, then the most recently Ready. Recreate deletes every old pod and creates the new ones
 * once the old ones are gone.
 */

export interface ControllerPod {
  readonly name: string;
  /** Template revision the pod was created from. */
  readonly revision: number;
  /** Ready for minReadySeconds. */
  readonly available: boolean;
  /** Deleted (terminating or gone): counts for nothing. */
  readonly terminating: boolean;
  /** Terminating and its process still running (Recreate waits for these). */
  readonly running: boolean;
  /** When the pod turned Ready (any clock), for victim ranking. */
  readonly readySince?: number;
}

export interface ControllerInput {
  readonly replicas: number;
  readonly strategy: 'RollingUpdate' | 'Recreate';
  /** Absolute pod counts (resolved fenceposts). */
  readonly maxSurge: number;
  readonly maxUnavailable: number;
  /** The current template revision. */
  readonly revision: number;
  readonly pods: readonly ControllerPod[];
}

export interface ControllerDecision {
  /** New pods of the current revision to create. */
  readonly create: number;
  /** Names of pods to delete. */
  readonly delete: readonly string[];
}

const NOTHING: ControllerDecision = { create: 0, delete: [] };

/** One controller sync. */
export function syncDeployment(input: ControllerInput): ControllerDecision {
  const live = input.pods.filter((p) => !p.terminating);
  const oldPods = live.filter((p) => p.revision !== input.revision);
  const newPods = live.filter((p) => p.revision === input.revision);
  const n = input.replicas;

  if (input.strategy === 'Recreate') {
    if (oldPods.length > 0) return { create: 0, delete: oldPods.map((p) => p.name) };
    const stillRunning = input.pods.some((p) => p.revision !== input.revision && p.running);
    if (stillRunning || newPods.length >= n) return NOTHING;
    return { create: n - newPods.length, delete: [] };
  }

  const toCreate = Math.min(n - newPods.length, n + input.maxSurge - live.length);
  if (toCreate > 0) return { create: toCreate, delete: [] };

  const minAvailable = n - input.maxUnavailable;
  const available = live.filter((p) => p.available).length;
  const newUnavailable = newPods.filter((p) => !p.available).length;
  const maxScaledDown = live.length - minAvailable - newUnavailable;
  // Unavailable old pods can go at any time (they do not count towards minAvailable); available
  // ones only while more than minAvailable pods are available.
  const unavailableOld = oldPods.filter((p) => !p.available);
  const availableOld = oldPods.filter((p) => p.available).sort((a, b) => (b.readySince ?? 0) - (a.readySince ?? 0));
  const budget = Math.max(0, maxScaledDown);
  const victims = unavailableOld.slice(0, budget);
  const moreAvailable = Math.max(0, Math.min(budget - victims.length, available - minAvailable));
  victims.push(...availableOld.slice(0, moreAvailable));
  if (victims.length === 0) return NOTHING;
  return { create: 0, delete: victims.map((p) => p.name) };
}

/** True when the rollout is complete: exactly `replicas` pods of the current revision, all available, no old pod left. */
export function rolloutComplete(input: ControllerInput): boolean {
  const live = input.pods.filter((p) => !p.terminating);
  return live.length === input.replicas && live.every((p) => p.revision === input.revision && p.available);
}
