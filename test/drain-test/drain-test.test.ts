// drain-test against real servers nobody here wrote (Debian's nginx, Python's http.server) and
// small Node servers for the error paths. Assertions are on verdicts and outcomes, never timings.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/gws';
import type { DrainTestResult } from '../../src/drain-test/drain-test';
import { formatProps } from '../../src/drain-test/drain-test';

const SERVERS = path.join(__dirname, '..', '..', 'assets', 'servers');
const NGINX = '/usr/sbin/nginx';
const PYTHON = '/usr/bin/python3';

interface Run {
  readonly code: number | undefined;
  readonly out: string;
  readonly err: string;
}

async function drainTest(args: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    await main(['node', 'gws', 'drain-test', ...args], { out: (t) => { out += t; }, err: (t) => { err += t; } });
    return { code: process.exitCode as number | undefined, out, err };
  } finally {
    process.exitCode = before;
  }
}

async function drainTestJson(args: string[]): Promise<{ code: number | undefined; result: DrainTestResult; err: string }> {
  const run = await drainTest([...args, '--json']);
  if (run.out.trim() === '') throw new Error(`drain-test printed no result (exit ${run.code}): ${run.err}`);
  return { code: run.code, result: JSON.parse(run.out) as DrainTestResult, err: run.err };
}

let tmp: string;
beforeAll(() => {
  // Fail loudly, never skip: these tests claim something about real servers.
  for (const [bin, pkg] of [[NGINX, 'nginx'], [PYTHON, 'python3']]) {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: install it with apt-get install -y ${pkg} (.ci/run does)`);
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-drain-test-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function template(name: string, text: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return file;
}

const nginx = ['--app-command', `${NGINX} -e stderr -p {dir} -c {dir}/nginx.conf`, '--app-template', path.join(SERVERS, 'nginx.conf.tmpl')];

describe('drain-test on Debian nginx', () => {
  test('SIGQUIT (graceful shutdown) drains: exit 0, every in-flight download completes, the process exits by itself', async () => {
    const { code, result } = await drainTestJson([...nginx, '--stop-signal', 'QUIT', '--kill-after', '60']);
    expect(result.verdict).toBe('drains');
    expect(code).toBe(0);
    expect(result.stopSignal).toBe('SIGQUIT');
    expect(result.inFlight).toHaveLength(2);
    expect(result.inFlight.every((r) => r.outcome === 'completed' && r.bytes === r.expectedBytes)).toBe(true);
    expect(result.exitedByItself).toBe(true);
    expect(result.exitCode).toBe(0);
    // nginx keeps connections alive, and closes idle ones cleanly (never a reset).
    expect(result.idle.every((i) => i.outcome === 'closed' || i.outcome === 'open-at-exit')).toBe(true);
    expect(result.drainSeconds).toBeDefined();
    expect(result.suggestedDrainTimeoutSeconds).toBeGreaterThanOrEqual(5);
    expect(result.props).toBe(`shutdown: { stopSignal: StopSignal.SIGQUIT, drainsOnStopSignal: true, drainTimeout: Duration.seconds(${result.suggestedDrainTimeoutSeconds}) }`);
  });

  test('SIGTERM (fast shutdown) cuts: exit 1, the summary says so and suggests drainsOnStopSignal: false', async () => {
    const run = await drainTest([...nginx, '--stop-signal', 'SIGTERM']);
    expect(run.code).toBe(1);
    expect(run.out).toContain('Verdict: DOES NOT DRAIN on SIGTERM: in-flight requests were cut');
    expect(run.out).toMatch(/in-flight {9}0 of 2 completed; 2 cut/);
    expect(run.out).toMatch(/shutdown: \{ stopSignal: StopSignal\.SIGTERM, drainsOnStopSignal: false, drainTimeout: Duration\.seconds\(\d+\) \}/);
    expect(run.err).toContain('drain-test: t=0.00s  sent SIGTERM to pid');
  });
});

describe('drain-test on Python http.server', () => {
  const python = ['--app-command', `${PYTHON} -m http.server --bind {host} --directory {dir} {port}`];

  test('SIGTERM kills it: in-flight downloads are cut, and it keeps no connection alive', async () => {
    const { code, result } = await drainTestJson([...python, '--stop-signal', 'TERM']);
    expect(result.verdict).toBe('cuts');
    expect(code).toBe(1);
    expect(result.inFlight.every((r) => r.outcome === 'cut')).toBe(true);
    expect(result.idle.every((i) => i.outcome === 'not-kept-alive')).toBe(true);
    expect(result.exitSignal).toBe('SIGTERM');
  });

  test('a download path the server does not serve is a clear error, exit 2', async () => {
    const run = await drainTest([...python, '--download-path', '/nope.bin']);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/GET \/nope\.bin ended before the stop signal: failed with status 404: the server does not serve \{dir\}/);
  });
});

describe('drain-test on Node servers (slow path)', () => {
  const server = (onSigterm: string) => template(`server-${onSigterm.length}.js.tmpl`, `
const http = require('node:http');
const server = http.createServer((req, res) => {
  if (req.url === '/slow') setTimeout(() => res.end('slow\\n'), 3000);
  else if (req.url === '/fast-slow') res.end('not slow\\n');
  else res.end('ok\\n');
}).listen(Number(process.env.PORT), process.env.HOST);
${onSigterm}
`);

  test('a server that answers every path with a short page (not {dir}) is told to give --slow-path, exit 2', async () => {
    const file = server('process.on("SIGTERM", () => server.close());');
    const run = await drainTest(['--app-command', `${process.execPath} {dir}/${path.basename(file, '.tmpl')}`, '--app-template', file]);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/ended before the stop signal: it answered 3 bytes, not the \d+-byte file written into \{dir\}: the server does not serve \{dir\}; give --slow-path/);
    expect(run.err).not.toMatch(/larger --download-size/);
  });

  test('server.close() on SIGTERM drains the slow requests', async () => {
    const file = server('process.on("SIGTERM", () => server.close());');
    const { code, result } = await drainTestJson(['--app-command', `${process.execPath} {dir}/${path.basename(file, '.tmpl')}`,
      '--app-template', file, '--slow-path', '/slow']);
    expect(result.verdict).toBe('drains');
    expect(code).toBe(0);
    expect(result.inFlight.map((r) => r.kind)).toEqual(['slow', 'slow']);
    expect(result.newConnections.refused).toBeGreaterThan(0); // the listener is closed during the drain
    // The in-flight requests keep their connections alive, as a load balancer does: close() ended only
    // the connections idle at the signal, so these stay open until Node's keep-alive timeout (5 s)
    // and the exit comes that much after the last response; the suggested drainTimeout includes it.
    const last = Math.max(...result.inFlight.map((r) => r.endedAtSeconds));
    expect(result.inFlight.every((r) => r.connectionClosedAtSeconds === undefined || r.connectionClosedAtSeconds - r.endedAtSeconds > 3)).toBe(true);
    expect(result.exitSeconds - last).toBeGreaterThan(3);
    expect(result.suggestedDrainTimeoutSeconds).toBeGreaterThanOrEqual(Math.ceil(result.exitSeconds));
    expect(result.notes.join(' ')).toMatch(/exited [\d.]+ s after the last in-flight response: it kept that keep-alive connection open/);
  });

  test('server.close() plus closing idle connections once requests finish: the exit follows the last response', async () => {
    const file = server('process.on("SIGTERM", () => { server.close(); setInterval(() => server.closeIdleConnections(), 100).unref(); });');
    const { result } = await drainTestJson(['--app-command', `${process.execPath} {dir}/${path.basename(file, '.tmpl')}`,
      '--app-template', file, '--slow-path', '/slow']);
    expect(result.verdict).toBe('drains');
    const last = Math.max(...result.inFlight.map((r) => r.endedAtSeconds));
    expect(result.exitSeconds - last).toBeLessThan(1);
    expect(result.notes.join(' ')).not.toMatch(/after the last in-flight response/);
  });

  test('a server that ignores the signal is killed after --kill-after and reported as such', async () => {
    const file = server('process.on("SIGTERM", () => undefined);');
    const run = await drainTest(['--app-command', `${process.execPath} {dir}/${path.basename(file, '.tmpl')}`,
      '--app-template', file, '--slow-path', '/slow', '--kill-after', '5']);
    expect(run.code).toBe(1);
    expect(run.out).toContain('Verdict: DOES NOT DRAIN on SIGTERM: the process ignored it and was killed after');
    expect(run.out).toContain('drainsOnStopSignal: false');
    expect(run.err).toContain('still running 5 s after SIGTERM: SIGKILL');
  });

  test('a slow path that is not slow is refused before any signal', async () => {
    const file = server('');
    const run = await drainTest(['--app-command', `${process.execPath} {dir}/${path.basename(file, '.tmpl')}`,
      '--app-template', file, '--slow-path', '/fast-slow']);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/GET \/fast-slow took [\d.]+ s: too short/);
  });
});

describe('drain-test: servers that cannot be tested', () => {
  test('never answers', async () => {
    const run = await drainTest(['--app-command', 'sleep 60', '--start-timeout', '2']);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/never answered GET \/ on 127\.0\.0\.1:\d+ within 2 s/);
  });

  test('exits at once, with its output', async () => {
    const run = await drainTest(['--app-command', 'sh -c "echo no config here >&2; exit 3"']);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/the server exited \(exit code 3\) .* before it answered/);
    expect(run.err).toContain('no config here');
  });

  test('a command that does not exist', async () => {
    const run = await drainTest(['--app-command', '/nonexistent/server --port {port}']);
    expect(run.code).toBe(2);
    expect(run.err).toContain('command not found: /nonexistent/server');
  });

  test('bad flags', async () => {
    expect((await drainTest(['--app-command', 'x', '--stop-signal', 'KILL'])).err).toMatch(/SIGKILL cannot be caught/);
    expect((await drainTest(['--app-command', 'x', '--host', '10.0.0.1'])).err).toMatch(/loopback/);
    expect((await drainTest(['--app-command', 'nginx; rm -rf /'])).err).toMatch(/shell operator ;/);
    expect((await drainTest([])).err).toMatch(/--app-command/);
  });
});

test('--templates-dir prints the folder of the shipped server templates and exits 0, without --app-command', async () => {
  const run = await drainTest(['--templates-dir']);
  expect(run.code).toBe(0);
  expect(run.err).toBe('');
  expect(run.out.endsWith('\n')).toBe(true);
  const dir = run.out.trim();
  expect(fs.realpathSync(dir)).toBe(fs.realpathSync(SERVERS));
  expect(fs.existsSync(path.join(dir, 'nginx.conf.tmpl'))).toBe(true);
});

test('props name custom signals through StopSignal.of', () => {
  expect(formatProps(true, 7, 'SIGRTMIN+3' as NodeJS.Signals))
    .toBe('shutdown: { stopSignal: StopSignal.of(\'SIGRTMIN+3\'), drainsOnStopSignal: true, drainTimeout: Duration.seconds(7) }');
  expect(formatProps(false, 5, 'SIGWINCH')).toContain('StopSignal.SIGWINCH, drainsOnStopSignal: false');
});
