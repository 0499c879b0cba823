import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseManifest } from '../../src/manifests/deployment-spec';
import { isAlive } from '../../src/process/procs';
import { serverCommandSpec } from '../../src/process/server-command';
import { parseDelay } from '../../src/rehearse/lb-profiles';
import { runRehearsal } from '../../src/rehearse/rehearse';

// Each pod runs a real server nobody here wrote: Python's http.server, which dies on SIGTERM (no
// handler) and answers the fixture's readiness path `/` with a directory listing.
const load = (name: string) => parseManifest(fs.readFileSync(path.join(__dirname, 'fixtures', name), 'utf8'));
const python = serverCommandSpec('python3 -m http.server --bind {host} {port}');
const options = {
  timeScale: 0.1,
  rate: 10,
  lag: parseDelay('3-8'),
  registrationReconcile: parseDelay('0'),
  healthCheck: { intervalSeconds: 0, healthyThreshold: 0 },
  seed: 3,
  maxWallSeconds: 90,
  appCommand: python,
};

test('--app-command: the derived manifest keeps a real server in the LB until it is let go; nothing fails', async () => {
  const result = await runRehearsal({ manifest: load('alb-derived.k8s.yaml'), ...options, stopSignal: 'SIGINT' });
  expect(result.assumptions.app).toContain('real server ["python3","-m","http.server","--bind","{host}","{port}"]');
  expect(result.assumptions.stopSignal).toBe('SIGINT (given)');
  expect(result.summary.total).toBeGreaterThan(50);
  expect(result.summary.failed).toBe(0);
  const old = result.pods.filter((p) => p.revision === 0);
  expect(old).toHaveLength(3);
  for (const p of old) {
    expect(p.stopSignal).toBe('SIGINT');
    expect(p.stopSignalSent! - p.deleted!).toBeGreaterThanOrEqual(10 - 0.2); // preStop sleep 10, modelled
  }
  expect(result.pids.apps.filter(isAlive)).toEqual([]);
}, 120_000);

test('--app-command: the naive manifest signals the real server at once and requests fail', async () => {
  const result = await runRehearsal({ manifest: load('alb-naive.k8s.yaml'), ...options });
  expect(result.summary.failed).toBeGreaterThan(0);
  const old = result.pods.filter((p) => p.revision === 0);
  expect(old.every((p) => p.exitSignal === 'SIGTERM' || p.exitCode !== undefined)).toBe(true);
}, 120_000);
