// The rehearsal's kubelet runs httpGet preStop hooks: a GET to the pod's own address and port,
// the hook lasting until the answer, bounded by the grace period. Nothing runs on the host.
// The pod is the lag meter's real server (it holds /prestop for its wait). Margins, not timings.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { METER_SERVER_FILE } from '../../src/lag-meter';
import { parseManifest } from '../../src/manifests/deployment-spec';
import { ProcessTracker } from '../../src/process/procs';
import { terminatePod } from '../../src/rehearse/kubelet';
import { planPreStop, PreStopRefusedError } from '../../src/rehearse/prestop-plan';

function manifest(httpGet: object, ports: object[] = [{ containerPort: 8080, name: 'http' }]): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'meter' },
    spec: {
      replicas: 1,
      template: { spec: { terminationGracePeriodSeconds: 30, containers: [{ name: 'web', ports, lifecycle: { preStop: { httpGet } } }] } },
    },
  });
}

async function startMeter(tracker: ProcessTracker, wait: number): Promise<{ pid: number; port: number; exited: Promise<unknown> }> {
  const { child, exited } = tracker.spawn(process.execPath, [METER_SERVER_FILE, '--port', '0', '--host', '127.0.0.1', '--wait', String(wait)], { stdio: ['ignore', 'pipe', 'ignore'] });
  const port = await new Promise<number>((resolve) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (line) resolve(JSON.parse(line).port);
    });
  });
  return { pid: child.pid!, port, exited };
}

interface Events { preStopStarted?: number; preStopEnded?: number; stopSignal?: number; sigkillIn?: number; graceExpired?: number }

function terminate(
  tracker: ProcessTracker, pod: { pid: number; port: number }, grace: number, text: string,
): { events: Events; timers: NodeJS.Timeout[] } {
  const events: Events = {};
  const timers: NodeJS.Timeout[] = [];
  terminatePod({
    pid: pod.pid,
    address: '127.0.0.1',
    port: pod.port,
    plan: planPreStop(parseManifest(text)),
    graceSeconds: grace,
    stopSignal: 'SIGTERM',
    tracker,
    toRealMs: (s) => s * 1000,
    now: () => performance.now(),
    scale: 1,
    shimDir: fs.mkdtempSync(path.join(os.tmpdir(), 'gws-kubelet-')),
    gone: () => false, // the test clears the pod's timers once it exited
    timers,
    events: {
      preStopStarted: (at) => { events.preStopStarted = at; },
      preStopEnded: (at) => { events.preStopEnded = at; },
      stopSignalSent: (at, _s, sigkillIn) => { events.stopSignal = at; events.sigkillIn = sigkillIn; },
      graceExpiredDuringPreStop: (at) => { events.graceExpired = at; },
      preStopPid: () => { throw new Error('an httpGet hook must run no process'); },
    },
  });
  return { events, timers };
}

test('the hook GETs the pod\'s own /prestop and lasts until the answer; then the stop signal; the meter exits on it', async () => {
  const tracker = new ProcessTracker();
  try {
    const pod = await startMeter(tracker, 0.8);
    const { events, timers } = terminate(tracker, pod, 30, manifest({ path: '/prestop', port: 'http' }));
    await pod.exited;
    timers.forEach(clearTimeout);
    expect(events.preStopEnded! - events.preStopStarted!).toBeGreaterThanOrEqual(700);
    expect(events.stopSignal).toBeGreaterThanOrEqual(events.preStopEnded!);
    expect(events.graceExpired).toBeUndefined();
    // Grace minus the whole seconds the hook took.
    expect(events.sigkillIn).toBe(30 - Math.floor((events.preStopEnded! - events.preStopStarted!) / 1000));
  } finally {
    await tracker.killAll();
    tracker.dispose();
  }
});

test('a hook longer than the grace period is abandoned at its end: stop signal with the one-off 2 s', async () => {
  const tracker = new ProcessTracker();
  try {
    const pod = await startMeter(tracker, 60);
    const { events, timers } = terminate(tracker, pod, 1, manifest({ path: '/prestop', port: 8080 }));
    await pod.exited;
    timers.forEach(clearTimeout);
    expect(events.graceExpired).toBeDefined();
    expect(events.preStopEnded).toBeUndefined();
    expect(events.sigkillIn).toBe(2);
    expect(events.graceExpired! - events.preStopStarted!).toBeGreaterThanOrEqual(900);
  } finally {
    await tracker.killAll();
    tracker.dispose();
  }
});

test('hooks aimed elsewhere are refused, nothing of the hook runs on the host', () => {
  const plan = planPreStop(parseManifest(manifest({ path: '/prestop', port: 8080 })));
  expect(plan.steps).toEqual([{ kind: 'httpGet', path: '/prestop' }]);
  expect(plan.description).toContain('httpGet /prestop');
  expect(() => planPreStop(parseManifest(manifest({ path: '/x', port: 8080, host: 'example.com' })))).toThrow(PreStopRefusedError);
  expect(() => planPreStop(parseManifest(manifest({ path: '/x', port: 8080, scheme: 'HTTPS' })))).toThrow(/scheme HTTPS/);
  expect(() => planPreStop(parseManifest(manifest({ path: '/x', port: 'admin' })))).toThrow(/port admin is not a named port of container web/);
});
