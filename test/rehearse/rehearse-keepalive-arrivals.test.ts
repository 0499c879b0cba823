import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseManifest } from '../../src/manifests/deployment-spec';
import { parseDelay } from '../../src/rehearse/lb-profiles';
import { runRehearsal } from '../../src/rehearse/rehearse';

// The idle-close race through the whole rehearsal (three pods, HAProxy reusing its connections, the
// demo app's idle close reaching HAProxy 20 model ms late), as the benchmark's keep-alive rows run
// it. The shutdown side is safe (lag 2 s < preStop 10 s), so every failure is a keep-alive one.
const derived = parseManifest(fs.readFileSync(path.join(__dirname, 'fixtures', 'alb-derived.k8s.yaml'), 'utf8'));
const options = {
  manifest: derived,
  timeScale: 0.1,
  rate: 20,
  lag: parseDelay('2'),
  registrationReconcile: parseDelay('0'),
  healthCheck: { intervalSeconds: 0, healthyThreshold: 0 },
  lbIdleTimeoutSeconds: 15,
  networkDelayMs: 20,
  appLatency: { minMs: 0, maxMs: 100 },
  appMode: 'drain' as const,
  minRequests: 1500,
  seed: 5,
  maxWallSeconds: 120,
};

test('Poisson arrivals, app idle 0.3 s < LB 15 s: the app closes connections the LB reuses, and requests fail', async () => {
  const result = await runRehearsal({ ...options, arrivals: 'poisson', appKeepAliveSeconds: 0.3 });
  expect(result.params.arrivals).toBe('poisson');
  expect(result.summary.total).toBeGreaterThanOrEqual(1500);
  expect(result.summary.failed).toBeGreaterThan(0);
  // Failures are the race's (a reset or HAProxy's 502 on the dead connection), never timeouts or refusals.
  expect(result.summary.byError.reset + result.summary.byError.http_5xx).toBe(result.summary.failed);
}, 150_000);

test('the same traffic with the app idle 20 s > LB 15 s: nothing fails', async () => {
  const result = await runRehearsal({ ...options, arrivals: 'poisson', appKeepAliveSeconds: 20 });
  expect(result.summary.total).toBeGreaterThanOrEqual(1500);
  expect(result.summary.failed).toBe(0);
}, 150_000);
