import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { startDemoApp } from '../../src/demo-app/demo-app';
import { DeploymentSpec, parseManifest } from '../../src/manifests/deployment-spec';
import { ProcessTracker } from '../../src/process/procs';
import { findHaproxy, Haproxy } from '../../src/rehearse/haproxy';
import { parseDelay } from '../../src/rehearse/lb-profiles';
import { runRehearsal } from '../../src/rehearse/rehearse';

const derived = parseManifest(fs.readFileSync(path.join(__dirname, 'fixtures', 'alb-derived.k8s.yaml'), 'utf8'));

describe('the launch race', () => {
  // One replica; the LB routes to a new pod 1 s (reconcile) + 2 s x 2 (health checks) = 5 model s
  // after its readiness probe passed, and lets the old pod go 2 model s after its deletion. The
  // shutdown side is safe (preStop 10 s > lag 2 s), so every failure is the launch's.
  const options = {
    timeScale: 0.1,
    rate: 200,
    lag: parseDelay('2'),
    registrationReconcile: parseDelay('1'),
    healthCheck: { intervalSeconds: 2, healthyThreshold: 2 },
    seed: 1,
    appMode: 'drain' as const,
    maxWallSeconds: 90,
    appLatency: { minMs: 0, maxMs: 200 },
  };
  const oneReplica = (minReadySeconds: number): DeploymentSpec => ({ ...derived, replicas: 1, minReadySeconds });

  test('naive launch (minReadySeconds 0, no gate): the old pod leaves the LB before the new one is in it', async () => {
    const result = await runRehearsal({ manifest: oneReplica(0), ...options, readinessGate: 'off' });
    expect(result.summary.failed).toBeGreaterThan(0);
    expect(result.summary.byError.http_5xx).toBeGreaterThan(0); // HAProxy: no server available
    const fresh = result.pods.find((p) => p.revision === 1)!;
    const old = result.pods.find((p) => p.revision === 0)!;
    expect(old.deregistered!).toBeLessThan(fresh.inLoadBalancer!);
  }, 120_000);

  test('minReadySeconds covering the registration: no request fails', async () => {
    const result = await runRehearsal({ manifest: oneReplica(8), ...options, readinessGate: 'off' });
    expect(result.summary.total).toBeGreaterThan(100);
    expect(result.summary.failed).toBe(0);
    const fresh = result.pods.find((p) => p.revision === 1)!;
    const old = result.pods.find((p) => p.revision === 0)!;
    expect(fresh.inLoadBalancer!).toBeLessThanOrEqual(old.deleted! + 0.5);
  }, 120_000);

  test('a readiness gate holds the new pod un-Ready until the LB routes to it: no request fails', async () => {
    const result = await runRehearsal({ manifest: oneReplica(0), ...options, readinessGate: 'on' });
    expect(result.summary.failed).toBe(0);
    const fresh = result.pods.find((p) => p.revision === 1)!;
    expect(fresh.ready!).toBeGreaterThanOrEqual(fresh.inLoadBalancer! - 0.01);
    expect(fresh.ready! - fresh.containersReady!).toBeGreaterThanOrEqual(4.5); // 1 + 2 x 2 model s
  }, 120_000);
});

describe('keep-alive like a real LB', () => {
  // A real HAProxy reusing its connections to one demo app for 1.5 s; requests every 0-100 ms. The
  // app closes idle connections after `appIdleMs`, and its close reaches HAProxy 5 ms later (the
  // network between LB and pod): a request HAProxy sends on that connection meanwhile fails.
  async function run(appIdleMs: number): Promise<{ failed: number; total: number; serverConnections: number }> {
    const tracker = new ProcessTracker();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-ka-'));
    const server = await startDemoApp({
      port: 0,
      host: '127.0.0.1',
      latency: { minMs: 0, maxMs: 5 },
      readinessPath: '/healthz',
      onSigterm: 'drain',
      keepAliveTimeoutMs: appIdleMs,
      name: 'ka',
      networkDelayMs: 5,
      log: () => undefined, // its event lines are for rehearse, not for the test output
    });
    let serverConnections = 0;
    server.on('connection', () => serverConnections++);
    const haproxy = await Haproxy.start({ binary: findHaproxy(), dir, tracker, idleTimeoutMs: 1500 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    let failed = 0;
    const total = 300;
    try {
      await haproxy.register('pod', '127.0.0.1', (server.address() as { port: number }).port);
      for (let i = 0; i < total; i++) {
        await new Promise((r) => setTimeout(r, Math.random() * 100));
        await new Promise<void>((resolve) => {
          http.get({ host: '127.0.0.1', port: haproxy.port, path: '/', agent }, (res) => {
            res.resume();
            res.on('end', () => { if (res.statusCode !== 200) failed++; resolve(); });
          }).on('error', () => { failed++; resolve(); });
        });
      }
    } finally {
      agent.destroy();
      server.closeAllConnections();
      server.close();
      await tracker.killAll();
      tracker.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    return { failed, total, serverConnections };
  }

  test('app idle timeout shorter than the LB\'s: the idle-close race drops requests', async () => {
    const r = await run(50);
    expect(r.failed).toBeGreaterThan(0);
    expect(r.serverConnections).toBeGreaterThan(10); // the app kept closing connections the LB wanted to reuse
  }, 120_000);

  test('app idle timeout longer than the LB\'s: the LB closes first, nothing fails', async () => {
    const r = await run(5000);
    expect(r.failed).toBe(0);
    expect(r.serverConnections).toBeLessThan(r.total / 10); // connections were reused
  }, 120_000);
});
