// The CLI side of the lag meter: `lag-meter manifest` writes the construct's objects; `measure`
// against a meter on this machine (a --restart command calls its /prestop, as a kubelet would),
// against something that is not a meter, and against nothing. Exit statuses and the JSON shape.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Chart, Duration, Testing } from 'cdk8s';
import * as yaml from 'js-yaml';
import { LagMeter, LoadBalancer } from '../../src';
import { preStopWait } from '../../src/check/prestop-wait';
import { main } from '../../src/cli/gws';
import { METER_SERVER_FILE } from '../../src/lag-meter';
import { analyze, MeterSample, percentile } from '../../src/measure/analysis';
import { formatReport } from '../../src/measure/measure';
import { lagMeterManifest } from '../../src/measure/meter-manifest';
import { freePort } from '../../src/process/procs';
import { LbProfileId } from '../../src/rehearse/lb-profiles';
import { KubeObject, only, validateObjects } from '../util';

async function cli(args: string[]): Promise<{ code: number | undefined; out: string; err: string }> {
  let out = '';
  let err = '';
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    await main(['node', 'gws', ...args], { out: (t) => { out += t; }, err: (t) => { err += t; } });
    return { code: process.exitCode as number | undefined, out, err };
  } finally {
    process.exitCode = before;
  }
}

test('lag-meter manifest writes the LagMeter construct\'s objects for the provider', async () => {
  const { code, out } = await cli(['lag-meter', 'manifest', '--provider', 'gke-ingress', '--host', 'meter.example.com', '--wait', '120']);
  expect(code ?? 0).toBe(0);
  const objects = yaml.loadAll(out) as KubeObject[];
  validateObjects(objects);
  const chart = new Chart(Testing.app(), 'x');
  new LagMeter(chart, 'meter', { loadBalancer: LoadBalancer.gkeIngress(), host: 'meter.example.com', wait: Duration.seconds(120) });
  const expected = Testing.synth(chart) as KubeObject[];
  for (const kind of ['Ingress', 'Service', 'BackendConfig', 'ConfigMap']) expect(only(objects, kind)).toEqual(only(expected, kind));
  const c = only(objects, 'Deployment').spec.template.spec.containers[0];
  expect(c.lifecycle.preStop.httpGet).toEqual({ path: '/prestop', port: 8080 });
  expect(c.env.find((e: any) => e.name === 'METER_WAIT_SECONDS').value).toBe('120');
});

test.each(['alibaba-alb', 'tencent-clb', 'aws-alb', 'gke-ingress'])('check finds nothing wrong with the %s meter manifest (it knows the meter\'s hook)', async (provider) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-meter-check-'));
  try {
    const file = path.join(dir, 'meter.k8s.yaml');
    fs.writeFileSync(file, lagMeterManifest({ provider: provider as LbProfileId }));
    const { code, out } = await cli(['check', file]);
    expect(out).toContain('0 errors, 0 warnings, 0 info');
    expect(code ?? 0).toBe(0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('check recognises the meter\'s wait only in a container that runs the meter', () => {
  const hook = { lifecycle: { preStop: { httpGet: { path: '/prestop', port: 8080 } } }, env: [{ name: 'METER_WAIT_SECONDS', value: '180' }] };
  expect(preStopWait({ ...hook, command: ['node', '/lag-meter/meter-server.js'] })).toMatchObject({ seconds: 180, runsUnknown: false });
  expect(preStopWait({ ...hook, command: ['node', 'app.js'] })).toMatchObject({ seconds: 0, runsUnknown: true });
});

function startMeter(wait: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [METER_SERVER_FILE, '--port', '0', '--host', '127.0.0.1', '--wait', String(wait), '--name', 'local-meter'], { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (line) resolve({ child, port: JSON.parse(line).port });
    });
  });
}

test('measure: a pod still answering when its wait ended is reported as D >= the wait; --json has the stable shape; exit 0', async () => {
  const meter = await startMeter(1);
  try {
    const url = `http://127.0.0.1:${meter.port}/`;
    const hook = `${JSON.stringify(process.execPath)} -e "require('http').get('${url}prestop', (r) => r.resume())"`;
    const { code, out } = await cli(['measure', url, '--rate', '50', '--warmup', '0.5', '--restart', hook, '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(out);
    expect(Object.keys(report)).toEqual(['deregistration', 'registration', 'suggested']);
    expect(Object.keys(report.deregistration)).toEqual(['observed', 'maxSeconds', 'p50Seconds', 'p95Seconds', 'resolutionSeconds', 'pods']);
    expect(report.deregistration.observed).toBe(1);
    expect(report.deregistration.pods[0]).toMatchObject({ pod: 'local-meter', atLeastWait: true });
    expect(report.deregistration.maxSeconds).toBeGreaterThan(0.8);
    expect(report.registration.observed).toBe(0); // no readiness probe ever reached it
    expect(Object.keys(report.suggested)).toEqual(['deregistrationDelaySeconds', 'safetyMarginSeconds', 'minReadySeconds', 'readinessGate']);
  } finally {
    meter.child.kill('SIGKILL');
  }
});

test('measure exits 1 when the load balancer drops requests meanwhile (here a proxy answering every 10th with 502), still reporting', async () => {
  const meter = await startMeter(0.5);
  let n = 0;
  const proxy = http.createServer((req, res) => {
    if (++n % 10 === 0) {
      res.writeHead(502).end();
      return;
    }
    http.get({ host: '127.0.0.1', port: meter.port, path: req.url, agent: false }, (up) => {
      res.writeHead(up.statusCode ?? 500, up.headers);
      up.pipe(res);
    }).on('error', () => res.writeHead(502).end());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/`;
    const hook = `${JSON.stringify(process.execPath)} -e "require('http').get('http://127.0.0.1:${meter.port}/prestop', (r) => r.resume())"`;
    const { code, out } = await cli(['measure', url, '--rate', '40', '--warmup', '0.5', '--restart', hook]);
    expect(code).toBe(1);
    expect(out).toMatch(/the load balancer dropped \d+ of \d+ requests during the measurement/);
    expect(out).toContain('deregistration: 1 observed');
  } finally {
    proxy.close();
    meter.child.kill('SIGKILL');
  }
});

test('measure --rehearse refuses a manifest that is not a meter, naming where its Deployment is', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-not-meter-'));
  try {
    const file = path.join(dir, 'web.k8s.yaml');
    const text = lagMeterManifest({ provider: 'aws-alb' }).replace(/httpGet:\n(\s+)path: \/prestop\n\s+port: 8080/, 'sleep:\n$1seconds: 10');
    expect(text).not.toContain('path: /prestop');
    fs.writeFileSync(file, text);
    const { code, err } = await cli(['measure', '--rehearse', '--lb', 'aws-alb', file]);
    expect(code).toBe(2);
    expect(err).toMatch(new RegExp(`${file}:\\d+:\\d+: Deployment lag-meter is not a lag meter`));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('measure exits 2 when fewer terminations than asked were seen', async () => {
  const meter = await startMeter(5);
  try {
    const { code, out } = await cli(['measure', `http://127.0.0.1:${meter.port}/`, '--rate', '20', '--warmup', '0.3', '--max-duration', '1.5', '--terminations', '1']);
    expect(code).toBe(2);
    expect(out).toContain('could not measure: 0 pod termination(s) seen, fewer than the 1 asked for');
  } finally {
    meter.child.kill('SIGKILL');
  }
});

test('measure exits 2 when the answers are not the meter\'s, and when nothing answers', async () => {
  const server = http.createServer((_req, res) => res.end('hello\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    const foreign = await cli(['measure', `http://127.0.0.1:${port}/`, '--rate', '20', '--warmup', '0.3', '--max-duration', '1.5']);
    expect(foreign.code).toBe(2);
    expect(foreign.out).toContain('without the lag meter\'s headers');
  } finally {
    server.close();
  }
  const closed = await freePort();
  const none = await cli(['measure', `http://127.0.0.1:${closed}/`, '--rate', '20', '--warmup', '0.3', '--max-duration', '1.5', '-q']);
  expect(none.code).toBe(2);
  expect(none.out).toContain('nothing answered');
});

describe('analysis', () => {
  const sample = (t: number, pod: string, extra: Partial<MeterSample> = {}): MeterSample => ({ t, pod, waitMs: 60_000, ...extra });

  test('D is the largest since-prestop per pod; registration the since-ready of the first request after readiness; resolution from the gaps', () => {
    const samples: MeterSample[] = [];
    for (let t = 0; t < 10_000; t += 100) samples.push(sample(t, 'a', t >= 5000 ? { sincePrestopMs: t - 5000 + 3 } : {}));
    for (let t = 50; t < 10_000; t += 100) samples.push(sample(t, 'b', t >= 2050 ? { sinceReadyMs: t - 2000 } : {}));
    const report = analyze(samples, { msPerSecond: 1000, provider: 'aws-alb' });
    expect(report.deregistration.pods).toEqual([{ pod: 'a', seconds: 4.903, atLeastWait: false }]);
    expect(report.registration.pods).toEqual([{ pod: 'b', seconds: 0.05, atLeastWait: false }]);
    expect(report.deregistration.resolutionSeconds).toBeCloseTo(0.1 * Math.log(1000), 3);
    expect(report.suggested).toEqual({ deregistrationDelaySeconds: Math.ceil(4.903 + 0.691), safetyMarginSeconds: 5, minReadySeconds: 1, readinessGate: 'target-health.elbv2.k8s.aws' });
  });

  test('a time scale turns real ms into model seconds', () => {
    const samples = [sample(0, 'a'), sample(10, 'a', { sincePrestopMs: 300, waitMs: 5000 })];
    expect(analyze(samples, { msPerSecond: 100 }).deregistration.maxSeconds).toBe(3);
  });

  test('the text report warns when the max D exceeds the library\'s default for the provider, and states both limits', () => {
    const samples: MeterSample[] = [];
    for (let t = 0; t < 80_000; t += 100) samples.push(sample(t, 'slow', t >= 5000 ? { sincePrestopMs: t - 5000, waitMs: 180_000 } : { waitMs: 180_000 }));
    const report = analyze(samples, { msPerSecond: 1000, provider: 'aws-alb' });
    const summary = { total: 800, ok: 800, failed: 0 } as any;
    const text = formatReport({ report, summary, foreign: 0, waitSeconds: 180 }, 'aws-alb');
    expect(report.deregistration.maxSeconds).toBeCloseTo(74.9, 1);
    expect(text).toContain(`WARNING: the measured max D 74.90 s exceeds the library's default for aws-alb (${LoadBalancer.awsAlb().defaultDeregistrationDelay.toSeconds()} s)`);
    expect(text).toContain('D is measured from the preStop hook, not from the deletion');
    expect(text).toContain('would only show D >= the wait; none did');
    const short = analyze(samples.filter((s) => s.t < 45_000), { msPerSecond: 1000, provider: 'aws-alb' });
    expect(formatReport({ report: short, summary, foreign: 0, waitSeconds: 180 }, 'aws-alb')).not.toContain('WARNING');
  });

  test('nearest-rank percentiles', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 95)).toBe(4);
    expect(percentile([], 50)).toBeNull();
  });
});
