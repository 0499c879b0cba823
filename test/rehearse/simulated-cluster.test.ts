import { performance } from 'node:perf_hooks';
import * as fc from 'fast-check';
import { ExitInfo } from '../../src/process/procs';
import { TerminationEvents } from '../../src/rehearse/kubelet';
import { RehearsalError } from '../../src/rehearse/rehearse-plan';
import {
  ClusterDeployment, ClusterEnvironment, LoadBalancerControl, PodProcessHandle, PodState, podBaseName, SimulatedCluster,
} from '../../src/rehearse/simulated-cluster';

/**
 * A world of fake pods: each "process" passes its readiness probe on the next turn of the event
 * loop and exits as soon as the kubelet terminates it. It records what a test asserts on: how many
 * processes ran at once, what was terminated, what the LB routed to, failures.
 */
class FakeWorld implements ClusterEnvironment {
  public readonly running = new Set<string>();
  public maxRunning = 0;
  public readonly started: string[] = [];
  public readonly terminated: string[] = [];
  public readonly inLoadBalancer = new Set<string>();
  public readonly failures: Error[] = [];
  public readonly log: string[] = [];
  /** Available, non-deleted pods at each deletion (the controller's floor). */
  public readonly availableAtDeletion: number[] = [];
  public cluster?: SimulatedCluster;
  public readonly lb: LoadBalancerControl = {
    registerAfter: async (name, _address, _port, delaySeconds) => {
      await sleep(this.toRealMs(delaySeconds));
      this.inLoadBalancer.add(name);
    },
    deregisterAfter: async (name, lagSeconds) => {
      await sleep(this.toRealMs(lagSeconds));
      this.inLoadBalancer.delete(name);
    },
  };
  private readonly exits = new Map<string, (info: ExitInfo) => void>();
  private nextPid = 1000;

  constructor(private readonly registrationDelaySeconds = 0, private readonly lagSeconds = 0) {}

  public now(): number {
    return performance.now();
  }

  /** One model second is one real millisecond. */
  public toRealMs(modelSeconds: number): number {
    return modelSeconds;
  }

  public startProcess(pod: PodState): Promise<PodProcessHandle> {
    const exited = new Promise<ExitInfo>((resolve) => this.exits.set(pod.name, resolve));
    this.started.push(pod.name);
    this.running.add(pod.name);
    this.maxRunning = Math.max(this.maxRunning, this.running.size);
    return Promise.resolve({ pid: this.nextPid++, port: 8080, exited, stderrTail: () => `${pod.name} said goodbye` });
  }

  public probeReadiness(_pod: PodState, _process: PodProcessHandle, stopped: () => boolean, onReady: () => void): void {
    setImmediate(() => { if (!stopped()) onReady(); });
  }

  public sampleRegistrationDelay(): number {
    return this.registrationDelaySeconds;
  }

  public sampleDeregistrationLag(): number {
    return this.lagSeconds;
  }

  public terminate(pod: PodState, _process: PodProcessHandle, events: TerminationEvents): void {
    this.terminated.push(pod.name);
    this.availableAtDeletion.push(this.cluster!.pods.filter((p) => p.available && !p.leaving).length);
    events.stopSignalSent?.(this.now(), 'SIGTERM', 30);
    this.exit(pod.name, { code: 0, signal: null });
  }

  public onEvent(pod: PodState, what: string): void {
    this.log.push(`${pod.name} ${what}`);
  }

  public onFailure(error: Error): void {
    this.failures.push(error);
  }

  /** The process stops running now; the cluster hears of it on a later turn, as from a real child. */
  public exit(name: string, info: ExitInfo): void {
    this.running.delete(name);
    this.exits.get(name)!(info);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function deployment(overrides: Partial<ClusterDeployment> = {}): ClusterDeployment {
  return {
    name: 'web',
    replicas: 3,
    strategy: 'RollingUpdate',
    maxSurge: 1,
    maxUnavailable: 0,
    minReadySeconds: 0,
    preStopDescription: 'wait 5 s',
    ...overrides,
  };
}

function clusterIn(world: FakeWorld, spec: ClusterDeployment): SimulatedCluster {
  const cluster = new SimulatedCluster(spec, world, { subnet: 150 });
  world.cluster = cluster;
  return cluster;
}

async function rollOut(cluster: SimulatedCluster): Promise<void> {
  cluster.nextRevision();
  await cluster.converge();
  await cluster.oldPodsGone();
}

describe('SimulatedCluster (fake pods)', () => {
  test('a rolling update of 3 replicas, maxSurge 1, maxUnavailable 0 replaces every pod within the fenceposts', async () => {
    const world = new FakeWorld(2, 1);
    const cluster = clusterIn(world, deployment({ minReadySeconds: 10 }));
    await cluster.converge();
    const initial = cluster.pods.map((p) => p.name);
    expect(initial).toEqual(['web-r0-1', 'web-r0-2', 'web-r0-3']);
    expect(cluster.pods.map((p) => p.address)).toEqual(['127.150.0.2', '127.150.0.3', '127.150.0.4']);

    await rollOut(cluster);
    cluster.stop();

    expect(world.failures).toEqual([]);
    expect(world.terminated.sort()).toEqual(initial);
    const current = cluster.pods.filter((p) => !p.gone);
    expect(current).toHaveLength(3);
    expect(current.every((p) => p.revision === 1 && p.available && p.inLb)).toBe(true);
    expect([...world.running].sort()).toEqual(current.map((p) => p.name).sort());
    expect([...world.inLoadBalancer].sort()).toEqual(current.map((p) => p.name).sort());
    // The fenceposts, as the fake processes saw them: never more than replicas + maxSurge running,
    // and an old pod deleted only while replicas - maxUnavailable others stay available.
    expect(world.maxRunning).toBe(4);
    expect(Math.min(...world.availableAtDeletion)).toBeGreaterThanOrEqual(3);
    for (const pod of cluster.pods) {
      // Available is Ready plus minReadySeconds (10 model s = 10 real ms here; Node's timers may
      // fire up to a millisecond early against performance.now()).
      expect(pod.availableAt! - pod.readyAt!).toBeGreaterThanOrEqual(8);
    }
    expect(world.log.filter((line) => line.endsWith('available (minReadySeconds 10)'))).toHaveLength(6);
    for (const name of initial) {
      const pod = cluster.pods.find((p) => p.name === name)!;
      expect(pod.deleting && pod.gone && pod.lag === 1 && pod.deregisteredAt !== undefined && pod.stopSignalAt !== undefined).toBe(true);
    }
  }, 10_000);

  test('back-to-back rollouts keep the same bounds', async () => {
    const world = new FakeWorld();
    const cluster = clusterIn(world, deployment({ replicas: 4, maxSurge: 2, maxUnavailable: 1 }));
    await cluster.converge();
    for (let i = 0; i < 3; i++) await rollOut(cluster);
    cluster.stop();
    expect(world.failures).toEqual([]);
    expect(world.started).toHaveLength(16);
    expect(world.terminated).toHaveLength(12);
    expect(world.maxRunning).toBeLessThanOrEqual(6);
    expect(Math.min(...world.availableAtDeletion)).toBeGreaterThanOrEqual(3);
  }, 10_000);

  test('Recreate: every old pod is gone before a new one starts', async () => {
    const world = new FakeWorld();
    const cluster = clusterIn(world, deployment({ strategy: 'Recreate', maxSurge: 0, maxUnavailable: 3 }));
    await cluster.converge();
    await rollOut(cluster);
    cluster.stop();
    expect(world.failures).toEqual([]);
    expect(world.maxRunning).toBe(3);
    const firstNew = Math.min(...cluster.pods.filter((p) => p.revision === 1).map((p) => p.started));
    const lastOldExit = Math.max(...cluster.pods.filter((p) => p.revision === 0).map((p) => p.exitedAt!));
    expect(firstNew).toBeGreaterThanOrEqual(lastOldExit);
  }, 10_000);

  test('a readiness gate holds a pod un-Ready until the LB routes to it; without one it is Ready first', async () => {
    for (const gate of ['a readiness gate', undefined]) {
      const world = new FakeWorld(5);
      const cluster = clusterIn(world, deployment({ replicas: 2, readinessGate: gate }));
      await cluster.converge();
      cluster.stop();
      for (const pod of cluster.pods) {
        if (gate) expect(pod.readyAt!).toBeGreaterThanOrEqual(pod.inLbAt!);
        else expect(pod.readyAt!).toBeLessThan(pod.inLbAt!);
      }
      expect(world.log.some((line) => line.includes('readiness gate holds it un-Ready'))).toBe(gate !== undefined);
    }
  }, 10_000);

  test('a pod that exits before it was deleted is reported as a failure, and replaced', async () => {
    const world = new FakeWorld();
    const cluster = clusterIn(world, deployment({ replicas: 2 }));
    await cluster.converge();
    world.exit('web-r0-1', { code: 1, signal: null });
    await sleep(20);
    expect(world.failures).toHaveLength(1);
    expect(world.failures[0]).toBeInstanceOf(RehearsalError);
    expect(world.failures[0].message).toBe('pod web-r0-1 exited before it was deleted (code 1): web-r0-1 said goodbye');
    expect(world.started).toContain('web-r0-3');
    cluster.stop();
  }, 10_000);

  test('after stop(), exits are recorded but not reported, and nothing is reconciled', async () => {
    const world = new FakeWorld();
    const cluster = clusterIn(world, deployment({ replicas: 2 }));
    await cluster.converge();
    cluster.stop();
    cluster.markRunningAsCleanedUp();
    world.exit('web-r0-2', { code: null, signal: 'SIGKILL' });
    await sleep(20);
    expect(world.failures).toEqual([]);
    expect(world.started).toHaveLength(2);
    const pod = cluster.pods.find((p) => p.name === 'web-r0-2')!;
    expect(pod.gone && pod.cleanedUp && pod.exit?.signal === 'SIGKILL').toBe(true);
  }, 10_000);

  test('a failure to start a pod goes to the failure channel', async () => {
    const world = new FakeWorld();
    world.startProcess = () => Promise.reject(new Error('no such binary'));
    const cluster = clusterIn(world, deployment({ replicas: 1 }));
    void cluster.converge();
    await sleep(20);
    cluster.stop();
    expect(world.failures.map((e) => e.message)).toEqual(['no such binary']);
  }, 10_000);
});

describe('pod names', () => {
  test('readable for long generated names, unchanged for short ones', () => {
    expect(podBaseName('tea')).toBe('tea');
    expect(podBaseName('aws-alb-checkout-checkout-deployment-c86cc6f1')).toBe('alb-checkout-checkout');
    expect(podBaseName('gke-storefront-storefront-deployment-0a1b2c3d')).toBe('storefront-storefront');
    expect(podBaseName('deployment')).toBe('deployment');
    expect(podBaseName('a-very-long-single-word-deployment-name-x')).toBe('word-deployment-name-x');
    expect(podBaseName('averyveryveryverylongsinglewordname')).toHaveLength(24);
    fc.assert(fc.property(fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/), (name) => {
      const base = podBaseName(name);
      expect(base.length).toBeGreaterThan(0);
      expect(base.length).toBeLessThanOrEqual(24);
      expect(name).toContain(base.replace(/-deployment$/, ''));
    }));
  });
});
