import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/gws';
import { parseLatency, startDemoApp } from '../../src/demo-app/demo-app';
import { parseManifest } from '../../src/manifests/deployment-spec';
import { isAlive } from '../../src/process/procs';
import { findHaproxy, haproxyConfig, HaproxyNotFoundError } from '../../src/rehearse/haproxy';
import { demoAppCommand } from '../../src/rehearse/pod-process';
import { kubeletRemainingGrace, runRehearsal, seededRandom, toSeries, writeSleepShim } from '../../src/rehearse/rehearse';

const fixtures = path.join(__dirname, 'fixtures');
let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-parts-test-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('kubelet model', () => {
  test('grace left after preStop: whole seconds elapsed are subtracted, never less than 2 s', () => {
    expect(kubeletRemainingGrace(45, 10.3)).toBe(35); // P = D = 10, G = 45: SIGKILL 45 s after deletion
    expect(kubeletRemainingGrace(45, 40.9)).toBe(5); // P = D + S = 40
    expect(kubeletRemainingGrace(30, 29.5)).toBe(2);
    expect(kubeletRemainingGrace(30, 31)).toBe(2); // hook outlived the grace period: the one-off 2 s
  });
});

describe('time-scaled preStop', () => {
  test('the sleep shim scales its argument (suffixes too) and sh -c "sleep N" finds it on PATH', () => {
    const shim = writeSleepShim(path.join(dir, 'bin'), 0.01);
    const env = { ...process.env, PATH: `${path.dirname(shim)}:${process.env.PATH}` };
    const time = (argv: string[]) => {
      const t = Date.now();
      execFileSync(argv[0], argv.slice(1), { env });
      return Date.now() - t;
    };
    const ten = time(['/bin/sh', '-c', 'sleep 10']);
    expect(ten).toBeGreaterThanOrEqual(95);
    expect(ten).toBeLessThan(1000);
    const minute = time([shim, '1m']); // 60 s x 0.01
    expect(minute).toBeGreaterThanOrEqual(590);
    expect(minute).toBeLessThan(2000);
  });

});

describe('helpers', () => {
  test('seeded jitter is reproducible and uniform-ish in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 2000 }, () => a());
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });

  test('series bins records by model second since the rollout start', () => {
    const recs = [
      { seq: 0, t: 0, status: 200, latencyMs: 1, error: null },
      { seq: 1, t: 150, status: 503, latencyMs: 1, error: 'http_5xx' as const },
      { seq: 2, t: 250, status: 200, latencyMs: 1, error: null },
    ];
    // scale 0.1: 100 ms real = 1 model s; the probe started 2 model s before the rollout.
    expect(toSeries(recs, -2, 0.1)).toEqual([
      { t: -2, sent: 1, ok: 1, failed: 0 },
      { t: -1, sent: 1, ok: 0, failed: 1 },
      { t: 0, sent: 1, ok: 1, failed: 0 },
    ]);
  });

  test('HAProxy config never retries or redispatches', () => {
    const cfg = haproxyConfig({ port: 1234, socket: '/tmp/x.sock', backend: 'pods' });
    expect(cfg).toContain('retries 0');
    expect(cfg).toContain('retry-on none');
    expect(cfg).not.toContain('redispatch');
    expect(cfg).toContain('bind 127.0.0.1:1234');
    expect(cfg).toContain('stats socket /tmp/x.sock mode 600 level admin');
  });
});

describe('errors', () => {
  const manifest = parseManifest(fs.readFileSync(path.join(fixtures, 'alb-derived.k8s.yaml'), 'utf8'));

  test('haproxy missing: explicit path, or nothing on the search path', async () => {
    expect(() => findHaproxy(undefined, [path.join(dir, 'nothing-here')])).toThrow(new HaproxyNotFoundError(''));
    expect(() => findHaproxy(undefined, [path.join(dir, 'nothing-here')])).toThrow('haproxy not found: install it (apt-get install haproxy)');
    await expect(runRehearsal({ manifest, provider: 'alibaba-alb', haproxyPath: '/nonexistent/haproxy' }))
      .rejects.toThrow('haproxy not found at /nonexistent/haproxy: install it (apt-get install haproxy)');
  });

  test('no provider profile and no explicit lag: refused, never the manifest\'s own D', async () => {
    await expect(runRehearsal({ manifest })).rejects.toThrow(/pass --lb <provider> or --lag <seconds>/);
    const noLag = { ...manifest, deregistrationDelaySeconds: undefined, deregistrationSource: 'none' as const };
    await expect(runRehearsal({ manifest: noLag, lagFractionOfDeclared: 1 })).rejects.toThrow(/needs the manifest to declare D/);
  });

  test('gws rehearse reports errors and exits 2', async () => {
    const err: string[] = [];
    const io = { out: () => undefined, err: (t: string) => void err.push(t) };
    const saved = process.exitCode;
    try {
      await main(['node', 'gws', 'rehearse', path.join(fixtures, 'alb-derived.k8s.yaml'), '--lb', 'alibaba-alb', '--haproxy', '/nonexistent/haproxy'], io);
      expect(process.exitCode).toBe(2);
      expect(err.join('')).toContain('gws: haproxy not found at /nonexistent/haproxy: install it (apt-get install haproxy)');

      err.length = 0;
      const svc = path.join(dir, 'service-only.yaml');
      fs.writeFileSync(svc, 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n');
      await main(['node', 'gws', 'rehearse', svc], io);
      expect(process.exitCode).toBe(2);
      expect(err.join('')).toContain('gws: the manifest has no apps/v1 Deployment');

      err.length = 0;
      await main(['node', 'gws', 'rehearse', svc, '--app-mode', 'graceful'], io);
      expect(process.exitCode).toBe(2);
      expect(err.join('')).toMatch(/Allowed choices are drain, abrupt, ignore/);
    } finally {
      process.exitCode = saved;
    }
  });
});

describe('demo app', () => {
  test('latency: fixed or range, in ms', () => {
    expect(parseLatency('150')).toEqual({ minMs: 150, maxMs: 150 });
    expect(parseLatency('0-2000')).toEqual({ minMs: 0, maxMs: 2000 });
    expect(parseLatency(' 5 - 7.5 ms')).toEqual({ minMs: 5, maxMs: 7.5 });
    expect(() => parseLatency('2000-0')).toThrow(/max < min/);
    expect(() => parseLatency('soon')).toThrow(/expected milliseconds/);
  });

  test('answers / after its latency; on a / readiness path only kube-probe requests skip it', async () => {
    const server = await startDemoApp({
      port: 0, host: '127.0.0.1', latency: { minMs: 150, maxMs: 150 }, readinessPath: '/', onSigterm: 'abrupt', keepAliveTimeoutMs: 1000, name: 'unit', log: () => undefined,
    });
    const port = (server.address() as { port: number }).port;
    const timed = (ua: string) => new Promise<{ status?: number; body: string; ms: number }>((resolve, reject) => {
      const t = Date.now();
      http.get({ host: '127.0.0.1', port, path: '/', agent: false, headers: { 'user-agent': ua } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => { body += d.toString(); });
        res.on('end', () => resolve({ status: res.statusCode, body, ms: Date.now() - t }));
      }).on('error', reject);
    });
    try {
      const probe = await timed('kube-probe/1.30');
      expect(probe).toMatchObject({ status: 200, body: 'ready\n' });
      expect(probe.ms).toBeLessThan(140);
      const normal = await timed('curl/8');
      expect(normal.status).toBe(200);
      expect(normal.body).toMatch(/^ok unit 150ms/);
      expect(normal.ms).toBeGreaterThanOrEqual(145);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('demo app SIGTERM behaviour', () => {
  async function start(mode: string) {
    const cmd = demoAppCommand(dir);
    const child = spawn(cmd.argv[0], [...cmd.argv.slice(1), '--port', '0', '--latency', '400', '--on-sigterm', mode],
      { env: { ...process.env, ...cmd.env }, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const port = await new Promise<number>((resolve) => {
      let buf = '';
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        const m = /"listening".*"port":(\d+)/.exec(buf);
        if (m) resolve(Number(m[1]));
      });
    });
    return { child, exited, port };
  }
  const get = (port: number, p = '/') => new Promise<{ status?: number; error?: string; ms: number }>((resolve) => {
    const t = Date.now();
    http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: Date.now() - t }));
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message, ms: Date.now() - t }));
    }).on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message, ms: Date.now() - t }));
  });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  test('drain: finishes the in-flight request, refuses new connections, exits 0', async () => {
    const app = await start('drain');
    expect(await get(app.port, '/healthz')).toMatchObject({ status: 200 });
    const inFlight = get(app.port);
    await sleep(100);
    app.child.kill('SIGTERM');
    await sleep(50);
    expect((await get(app.port)).error).toBe('ECONNREFUSED');
    expect(await inFlight).toMatchObject({ status: 200 });
    expect(await app.exited).toEqual({ code: 0, signal: null });
  });

  test('abrupt: the in-flight request is cut', async () => {
    const app = await start('abrupt');
    const inFlight = get(app.port);
    await sleep(100);
    app.child.kill('SIGTERM');
    expect((await inFlight).error).toMatch(/ECONNRESET|socket hang up/);
    expect(await app.exited).toEqual({ code: null, signal: 'SIGTERM' });
  });

  test('ignore: keeps serving after SIGTERM until SIGKILL', async () => {
    const app = await start('ignore');
    app.child.kill('SIGTERM');
    await sleep(50);
    expect(await get(app.port)).toMatchObject({ status: 200 });
    app.child.kill('SIGKILL');
    expect(await app.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(isAlive(app.child.pid!)).toBe(false);
  });
});
