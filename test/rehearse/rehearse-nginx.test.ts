// A scaled-down rehearsal against Debian's nginx (the benchmark's template, assets/servers): every
// pod is the real nginx, the probe requests its 5 s `/slow` route (nginx's own limit_rate), so
// requests are in flight whenever a pod gets its stop signal. One manifest, synthesized here from a
// GracefulWebService that says nginx drains on its stop signal, rehearsed twice at once: with
// SIGQUIT (what the official nginx images declare: graceful shutdown) nothing fails; with SIGTERM
// (an image without that STOPSIGNAL line: fast shutdown) the same manifest loses requests.
// Assertions are on request outcomes and exits, never on timings.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Chart, Duration } from 'cdk8s';
import { PercentOrAbsolute } from 'cdk8s-plus-27';
import { GracefulWebService, LoadBalancer, StopSignal } from '../../src';
import { parseManifest } from '../../src/manifests/deployment-spec';
import { isAlive } from '../../src/process/procs';
import { serverCommandSpec } from '../../src/process/server-command';
import { parseDelay } from '../../src/rehearse/lb-profiles';
import { runRehearsal } from '../../src/rehearse/rehearse';

const NGINX = '/usr/sbin/nginx';
const TEMPLATE = path.join(__dirname, '..', '..', 'assets', 'servers', 'nginx.conf.tmpl');

/**
 * D = 2 s, S = 6 s, no safety margin (it would pad the preStop wait and blur what the answer
 * protects). A GKE Ingress (its readiness gate makes minReadySeconds 0) and a health check every
 * second keep the launch side, which is not under test here, short.
 */
function synthesize(dir: string): string {
  const app = new App({ outdir: dir });
  const chart = new Chart(app, 'nginx');
  new GracefulWebService(chart, 'web', {
    image: 'nginx:1.27', // the official image declares STOPSIGNAL SIGQUIT
    port: 8080,
    replicas: 2,
    maxSurge: PercentOrAbsolute.percent(100),
    host: 'web.example.com',
    loadBalancer: LoadBalancer.gkeIngress(),
    healthCheckPath: '/healthz',
    healthCheck: { interval: Duration.seconds(1), timeout: Duration.seconds(1), healthyThreshold: 1 },
    shutdown: {
      stopSignal: StopSignal.of('SIGQUIT'),
      drainsOnStopSignal: true,
      deregistrationDelay: Duration.seconds(2),
      drainTimeout: Duration.seconds(8),
      safetyMargin: Duration.seconds(0),
    },
  });
  app.synth();
  return fs.readFileSync(path.join(dir, 'nginx.k8s.yaml'), 'utf8');
}

type Result = Awaited<ReturnType<typeof runRehearsal>>;
let tmp: string;
let manifest: ReturnType<typeof parseManifest>;
let quit: Result;
let term: Result;

beforeAll(async () => {
  // Fail loudly, never skip: this test claims something about the real nginx.
  if (!fs.existsSync(NGINX)) throw new Error(`${NGINX} is missing: install it with apt-get install -y nginx (.ci/run does)`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-rehearse-nginx-'));
  manifest = parseManifest(synthesize(tmp));
  const options = {
    manifest,
    appCommand: serverCommandSpec(`${NGINX} -e stderr -p {dir} -c {dir}/nginx.conf`, [TEMPLATE]),
    timeScale: 1, // nginx's own timing (the 5 s route, its drain) is real
    probePath: '/slow',
    rate: 10,
    lag: parseDelay('0.5-1.5'), // the LB stops routing well within the declared D = 2 s
    registrationReconcile: parseDelay('0'),
    healthCheck: { intervalSeconds: 0, healthyThreshold: 0 },
    warmupSeconds: 1,
    seed: 8,
    maxWallSeconds: 60,
  };
  // Both at once (separate LBs, pods and probes): each waits on nginx, not on the CPU.
  [quit, term] = await Promise.all([
    runRehearsal({ ...options, stopSignal: 'SIGQUIT' }),
    runRehearsal({ ...options, stopSignal: 'SIGTERM' }),
  ]);
}, 90_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('the synthesized manifest signals at D (it says nginx drains) and kills at D + S', () => {
  expect(manifest.minReadySeconds).toBe(0);
  expect(manifest.terminationGracePeriodSeconds).toBe(10);
  expect(quit.assumptions.preStop).toMatch(/wait 2 s/);
});

test('SIGQUIT (the official image\'s STOPSIGNAL): nginx drains its in-flight /slow requests; nothing fails', () => {
  expect(quit.summary.total).toBeGreaterThan(50);
  expect(quit.summary.failed).toBe(0);
  const old = quit.pods.filter((p) => p.revision === 0);
  expect(old).toHaveLength(2);
  for (const p of old) {
    expect(p.stopSignal).toBe('SIGQUIT');
    expect(p.sigkill).toBeUndefined(); // exited by itself, never SIGKILLed
    expect(p.exitCode).toBe(0);
  }
  expect(quit.pids.apps.filter(isAlive)).toEqual([]);
});

test('SIGTERM (an image without that STOPSIGNAL), same manifest: nginx cuts the requests in flight', () => {
  expect(term.summary.total).toBeGreaterThan(50);
  expect(term.summary.failed).toBeGreaterThan(0);
  for (const p of term.pods.filter((q) => q.revision === 0)) expect(p.stopSignal).toBe('SIGTERM');
  expect(term.pids.apps.filter(isAlive)).toEqual([]);
});
