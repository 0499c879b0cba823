import * as fc from 'fast-check';
import { ControllerPod, rolloutComplete, syncDeployment } from '../../src/rehearse/deployment-controller';

interface SimPod extends ControllerPod {
  name: string;
  revision: number;
  available: boolean;
  terminating: boolean;
  running: boolean;
}

/**
 * Drive the controller through a rollout: after each sync, a random event happens (a new pod
 * becomes available, a terminating pod exits). Checks the invariants after every step.
 */
function simulate(replicas: number, maxSurge: number, maxUnavailable: number, choices: number[]): { steps: number; done: boolean } {
  let counter = 0;
  const pods: SimPod[] = Array.from({ length: replicas }, () => ({ name: `p${counter++}`, revision: 0, available: true, terminating: false, running: true }));
  const input = () => ({ replicas, strategy: 'RollingUpdate' as const, maxSurge, maxUnavailable, revision: 1, pods });
  let c = 0;
  for (let step = 0; step < 500; step++) {
    for (let i = 0; i < 100; i++) {
      const d = syncDeployment(input());
      if (d.create === 0 && d.delete.length === 0) break;
      for (let k = 0; k < d.create; k++) pods.push({ name: `p${counter++}`, revision: 1, available: false, terminating: false, running: true });
      for (const name of d.delete) {
        const pod = pods.find((p) => p.name === name)!;
        expect(pod.terminating).toBe(false); // never deletes a pod twice
        pod.terminating = true;
      }
      const live = pods.filter((p) => !p.terminating);
      expect(live.length).toBeLessThanOrEqual(replicas + maxSurge);
      expect(live.filter((p) => p.available).length).toBeGreaterThanOrEqual(replicas - maxUnavailable);
    }
    if (rolloutComplete(input())) return { steps: step, done: true };
    // One event: make an unavailable new pod available, or let a terminating pod exit.
    const waiting = pods.filter((p) => !p.terminating && !p.available);
    const exiting = pods.filter((p) => p.terminating && p.running);
    const options = [...waiting.map((p) => () => { p.available = true; }), ...exiting.map((p) => () => { p.running = false; })];
    if (options.length === 0) return { steps: step, done: false };
    options[choices[c++ % choices.length] % options.length]();
  }
  return { steps: 500, done: false };
}

describe('Deployment controller (pure)', () => {
  test('property: never more than replicas + maxSurge pods, never fewer than replicas - maxUnavailable available, always converges', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }),
      fc.array(fc.nat(1000), { minLength: 1, maxLength: 50 }),
      (replicas, maxSurge, rawUnavailable, choices) => {
        // The API server refuses maxSurge = maxUnavailable = 0 (resolveFenceposts makes it 1).
        const maxUnavailable = Math.min(replicas, maxSurge === 0 && rawUnavailable === 0 ? 1 : rawUnavailable);
        const { done } = simulate(replicas, maxSurge, maxUnavailable, choices);
        expect(done).toBe(true);
      },
    ), { numRuns: 300 });
  });

  test('maxSurge 1, maxUnavailable 0: one new pod first, an old pod goes only once it is available', () => {
    const old = (name: string): ControllerPod => ({ name, revision: 0, available: true, terminating: false, running: true, readySince: 1 });
    const pods = [old('a'), old('b'), old('c')];
    const base = { replicas: 3, strategy: 'RollingUpdate' as const, maxSurge: 1, maxUnavailable: 0, revision: 1 };
    expect(syncDeployment({ ...base, pods })).toEqual({ create: 1, delete: [] });
    const withNew = [...pods, { name: 'n1', revision: 1, available: false, terminating: false, running: true }];
    expect(syncDeployment({ ...base, pods: withNew })).toEqual({ create: 0, delete: [] });
    const newAvailable = [...pods, { name: 'n1', revision: 1, available: true, terminating: false, running: true }];
    expect(syncDeployment({ ...base, pods: newAvailable }).delete).toHaveLength(1);
  });

  test('Recreate: deletes every old pod, creates new ones only once the old processes are gone', () => {
    const base = { replicas: 2, strategy: 'Recreate' as const, maxSurge: 0, maxUnavailable: 2, revision: 1 };
    const pods: ControllerPod[] = [
      { name: 'a', revision: 0, available: true, terminating: false, running: true },
      { name: 'b', revision: 0, available: true, terminating: false, running: true },
    ];
    expect(syncDeployment({ ...base, pods })).toEqual({ create: 0, delete: ['a', 'b'] });
    const terminating = pods.map((p) => ({ ...p, terminating: true }));
    expect(syncDeployment({ ...base, pods: terminating })).toEqual({ create: 0, delete: [] });
    expect(syncDeployment({ ...base, pods: terminating.map((p) => ({ ...p, running: false })) })).toEqual({ create: 2, delete: [] });
  });
});
