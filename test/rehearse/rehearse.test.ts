import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseManifest } from '../../src/manifests/deployment-spec';
import { isAlive } from '../../src/process/procs';
import { parseDelay } from '../../src/rehearse/lb-profiles';
import { RehearsalInterruptedError, RehearsalResult, runRehearsal } from '../../src/rehearse/rehearse';

// Scaled-down rolling restarts (3 replicas, maxSurge 1) through a real HAProxy at time scale 0.1,
// so each run takes a few seconds. 10 requests per model second (100 real req/s) over 3 pods puts a request on every pod about every
// 30 ms. The lags are drawn from 7-10 model s.
// Naive: each old pod gets SIGTERM and stops listening at deletion while the LB keeps routing to it
// for 0.7-0.9 s (real), so failures are certain. Derived: the pod keeps serving until its 10 s preStop
// (run for real through the scaled sleep shim) has ended, at least 1 model s (100 ms real) after the
// LB let go of it. (The benchmark covers random lags up to D itself.)
const load = (name: string) => parseManifest(fs.readFileSync(path.join(__dirname, 'fixtures', name), 'utf8'));

// The lag is given explicitly (7-10 s), independent of the manifests; no registration delay, so
// these tests are about the shutdown side only (the launch side has its own tests).
const options = {
  timeScale: 0.1,
  rate: 10,
  lag: parseDelay('7-10'),
  registrationReconcile: parseDelay('0'),
  healthCheck: { intervalSeconds: 0, healthyThreshold: 0 },
  seed: 1,
  appMode: 'drain' as const,
  maxWallSeconds: 60,
};

function expectNothingLeftRunning(result: RehearsalResult): void {
  const pids = [result.pids.haproxy, ...result.pids.apps, ...result.pids.preStop];
  expect(pids.length).toBeGreaterThanOrEqual(1 + 6);
  expect(pids.filter(isAlive)).toEqual([]);
}

test('derived manifest: a rolling restart drops no request', async () => {
  const started = Date.now();
  const result = await runRehearsal({ manifest: load('alb-derived.k8s.yaml'), ...options });
  expect(Date.now() - started).toBeLessThan(60_000);

  expect(result.summary.total).toBeGreaterThan(100);
  expect(result.summary.failed).toBe(0);
  expect(result.summary.availabilityPercent).toBe(100);

  const old = result.pods.filter((p) => p.revision === 0);
  expect(old).toHaveLength(3);
  for (const p of old) {
    // preStop (10 s) outlasts the deregistration lag (<= 10 s): SIGTERM only after the LB let go.
    expect(p.deregistered!).toBeLessThanOrEqual(p.stopSignalSent! + 0.5); // margin: a loaded machine delays timers
    // 10 model seconds, measured on real timers at a time scale: allow their millisecond jitter.
    expect(p.stopSignalSent! - p.deleted!).toBeGreaterThanOrEqual(9.9);
    expect(p.sigkill).toBeUndefined();
    expect(p.exitCode).toBe(0);
    expect(p.terminationSeconds!).toBeLessThan(45);
  }
  // maxSurge 25% of 3 = 1, maxUnavailable 0: one new pod at a time, each ready before an old one goes.
  expect(result.deployment).toMatchObject({ maxSurge: 1, maxUnavailable: 0 });
  const fresh = result.pods.filter((p) => p.revision === 1).sort((a, b) => a.ready! - b.ready!);
  const deletions = old.map((p) => p.deleted!).sort((a, b) => a - b);
  fresh.forEach((p, i) => expect(p.ready!).toBeLessThanOrEqual(deletions[i] + 0.5));
  expectNothingLeftRunning(result);
});

test('naive manifest (no preStop, grace 30): the same restart drops requests', async () => {
  const started = Date.now();
  const result = await runRehearsal({ manifest: load('alb-naive.k8s.yaml'), ...options });
  expect(Date.now() - started).toBeLessThan(60_000);

  expect(result.summary.failed).toBeGreaterThan(0);
  expect(result.summary.availabilityPercent).toBeLessThan(100);
  expect(result.summary.byError.http_5xx).toBeGreaterThan(0); // the LB still routed to pods that had stopped listening
  const old = result.pods.filter((p) => p.revision === 0);
  for (const p of old) {
    expect(p.stopSignalSent!).toBeCloseTo(p.deleted!, 1); // no preStop: SIGTERM at once
    expect(p.stopSignalSent!).toBeLessThan(p.deregistered!); // told to stop while the LB still routed to it
  }
  expect(result.series.some((b) => b.failed > 0)).toBe(true);
  expectNothingLeftRunning(result);
});

test('aborting a rehearsal cleans everything up', async () => {
  const ac = new AbortController();
  const lines: string[] = [];
  const run = runRehearsal({
    manifest: load('alb-derived.k8s.yaml'),
    ...options,
    signal: ac.signal,
    log: (l) => {
      lines.push(l);
      if (/preStop:/.test(l)) ac.abort(); // mid-rollout, with a preStop wait running
    },
  });
  await expect(run).rejects.toThrow('interrupted');
  const error = await run.catch((e: RehearsalInterruptedError) => e);
  expect(error).toBeInstanceOf(RehearsalInterruptedError);
  expect((error as RehearsalInterruptedError).partial.summary.total).toBeGreaterThan(0); // the partial summary survives
  const pids = lines.flatMap((l) => [...l.matchAll(/pid (\d+)/g)].map((m) => Number(m[1])));
  expect(pids.length).toBeGreaterThanOrEqual(4); // haproxy + 3 pods at least
  expect(pids.filter(isAlive)).toEqual([]);
});
