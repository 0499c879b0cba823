// The lag meter's server, started from the very file the ConfigMap carries, with plain node.
// Assertions are on headers and ordering, with generous margins; never on exact timings.
import { ChildProcess, spawn } from 'node:child_process';
import * as http from 'node:http';
import { METER_HEADERS, METER_SERVER_FILE } from '../../src/lag-meter';

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

function get(port: number, path: string, headers: http.OutgoingHttpHeaders = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

interface Meter {
  readonly child: ChildProcess;
  readonly port: number;
  readonly exited: Promise<number | null>;
}

function startMeter(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Meter> {
  const child = spawn(process.execPath, [METER_SERVER_FILE, '--port', '0', '--host', '127.0.0.1', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'], env: { PATH: process.env.PATH, ...env },
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (line) {
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve({ child, port: JSON.parse(line).port, exited });
      }
    });
    void exited.then((code) => reject(new Error(`meter exited at start (${code}): ${out}`)));
  });
}

const H = METER_HEADERS;
const kubeProbe = { 'user-agent': 'kube-probe/1.31' };

test('headers: pod name and wait always, since-ready after the readiness probe passed, since-prestop while terminating; /prestop held for the wait', async () => {
  const meter = await startMeter(['--wait', '1.5', '--name', 'meter-abc', '--readiness-path', '/healthz']);
  try {
    const before = await get(meter.port, '/anything');
    expect(before.status).toBe(200);
    expect(before.headers[H.pod]).toBe('meter-abc');
    expect(before.headers[H.waitMs]).toBe('1500');
    expect(before.headers[H.sinceReadyMs]).toBeUndefined();
    expect(before.headers[H.sincePrestopMs]).toBeUndefined();
    expect(JSON.parse(before.body)).toEqual({ pod: 'meter-abc', sincePrestopMs: null, sinceReadyMs: null });

    expect((await get(meter.port, '/healthz', kubeProbe)).status).toBe(200);
    const ready = await get(meter.port, '/');
    expect(Number(ready.headers[H.sinceReadyMs])).toBeGreaterThanOrEqual(0);
    expect(ready.headers[H.sincePrestopMs]).toBeUndefined();

    const hookSent = Date.now();
    let hookAnsweredAt = 0;
    const hook = get(meter.port, '/prestop').then((r) => { hookAnsweredAt = Date.now(); return r; });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const during = await get(meter.port, '/');
    const sincePrestop = Number(during.headers[H.sincePrestopMs]);
    expect(sincePrestop).toBeGreaterThan(0);
    expect(sincePrestop).toBeLessThan(Date.now() - hookSent + 50);
    expect(hookAnsweredAt).toBe(0); // still held
    expect(Number(during.headers[H.sinceReadyMs])).toBeGreaterThan(Number(ready.headers[H.sinceReadyMs]));

    expect((await hook).status).toBe(200);
    expect(hookAnsweredAt - hookSent).toBeGreaterThanOrEqual(1400);
    // Still answering after the wait: the since-prestop header then exceeds the wait.
    const after = await get(meter.port, '/');
    expect(Number(after.headers[H.sincePrestopMs])).toBeGreaterThanOrEqual(1500);

    meter.child.kill('SIGTERM');
    expect(await meter.exited).toBe(0);
  } finally {
    meter.child.kill('SIGKILL');
  }
});

test('readiness counts the kubelet\'s probes only, ready-after of them; settings from the environment', async () => {
  const meter = await startMeter([], { METER_READY_AFTER: '2', METER_POD_NAME: 'from-env', METER_WAIT_SECONDS: '7' });
  try {
    expect((await get(meter.port, '/ready', kubeProbe)).status).toBe(200);
    // A load balancer's health check (not kube-probe) does not count once the kubelet's were seen.
    await get(meter.port, '/ready', { 'user-agent': 'ELB-HealthChecker/2.0' });
    const one = await get(meter.port, '/');
    expect(one.headers[H.pod]).toBe('from-env');
    expect(one.headers[H.waitMs]).toBe('7000');
    expect(one.headers[H.sinceReadyMs]).toBeUndefined();
    await get(meter.port, '/ready', kubeProbe);
    expect(Number((await get(meter.port, '/')).headers[H.sinceReadyMs])).toBeGreaterThanOrEqual(0);
  } finally {
    meter.child.kill('SIGKILL');
  }
});

test('a bad setting is refused at start', async () => {
  await expect(startMeter(['--wait', 'soon'])).rejects.toThrow(/exited at start/);
});
