import * as fs from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fc from 'fast-check';
import { main } from '../../src/cli/gws';
import {
  classifyError, classifyStatus, defaultConcurrency, formatSummary, nextGapMs, ProbeRecord, runProbe, summarize,
} from '../../src/probe/probe';
import { seededRandom } from '../../src/rehearse/rehearse';

function rec(seq: number, t: number, error: ProbeRecord['error'], status: number | null = error === null ? 200 : 502, latencyMs = 10): ProbeRecord {
  return { seq, t, status, latencyMs, error };
}

describe('summarize', () => {
  test('counts, availability and the longest run of consecutive failures', () => {
    const records = [
      rec(0, 0, null),
      rec(1, 100, 'http_5xx', 503, 5), // run of 1
      rec(2, 200, null),
      rec(3, 300, 'refused', null, 1), // run of 3: 300 .. 520
      rec(4, 400, 'http_5xx', 502, 20),
      rec(5, 500, 'reset', null, 20),
      rec(6, 600, null),
      rec(7, 700, 'timeout', null, 1000),
    ];
    // Order of arrival must not matter: runs are in send order.
    const s = summarize([...records].reverse(), 800);
    expect(s.total).toBe(8);
    expect(s.ok).toBe(3);
    expect(s.failed).toBe(5);
    expect(s.availabilityPercent).toBeCloseTo(37.5, 10);
    expect(s.byStatus).toEqual({ 200: 3, 502: 1, 503: 1, none: 3 });
    expect(s.byError).toEqual({ refused: 1, reset: 1, timeout: 1, http_5xx: 2, other: 0 });
    expect(s.longestFailureRun).toEqual({ count: 3, durationMs: 220, startMs: 300 });
    expect(s.maxLatencyMs).toBe(1000);
    expect(s.durationMs).toBe(800);
  });

  test('a run that ends the probe, and ties keep the first run', () => {
    const s = summarize([rec(0, 0, 'reset', null, 50), rec(1, 10, null), rec(2, 20, 'refused', null, 5), rec(3, 30, 'refused', null, 5)]);
    expect(s.longestFailureRun).toEqual({ count: 2, durationMs: 15, startMs: 20 });
    const tie = summarize([rec(0, 0, 'reset', null, 50), rec(1, 10, null), rec(2, 20, 'refused', null, 5)]);
    expect(tie.longestFailureRun).toEqual({ count: 1, durationMs: 50, startMs: 0 });
  });

  test('no requests and no failures', () => {
    expect(summarize([])).toMatchObject({ total: 0, failed: 0, availabilityPercent: 100, longestFailureRun: { count: 0, durationMs: 0 } });
    const s = summarize([rec(0, 0, null), rec(1, 10, null)]);
    expect(s.failed).toBe(0);
    expect(formatSummary(s)).toContain('availability: 100%');
  });

  test('availability is never rounded up to 100% while a request failed', () => {
    const records = Array.from({ length: 300_000 }, (_, i) => rec(i, i, i === 7 ? 'reset' : null));
    const text = formatSummary(summarize(records));
    expect(text).toContain('availability: 99.999%');
    expect(text).toContain('failed:       1');
  });
});

describe('arrivals', () => {
  test('fixed gaps are the mean; poisson gaps are exponential with that mean', () => {
    fc.assert(fc.property(fc.double({ min: 0.01, max: 1e4, noNaN: true }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (mean, u) => {
      expect(nextGapMs('fixed', mean, () => u)).toBe(mean);
      const gap = nextGapMs('poisson', mean, () => u);
      expect(gap).toBeGreaterThanOrEqual(0);
      expect(gap).toBeCloseTo(-Math.log(1 - u) * mean, 6); // the inverse of the exponential CDF at u
    }));
    const random = seededRandom(1);
    const gaps = Array.from({ length: 20_000 }, () => nextGapMs('poisson', 10, random));
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    expect(mean).toBeGreaterThan(9.6);
    expect(mean).toBeLessThan(10.4);
    // Memoryless: about e^-1 of the gaps exceed the mean.
    expect(gaps.filter((g) => g > 10).length / gaps.length).toBeCloseTo(Math.exp(-1), 1);
  });
});

describe('classification', () => {
  test('errors', () => {
    const err = (code: string, message = code) => Object.assign(new Error(message), { code });
    expect(classifyError(err('ECONNREFUSED'))).toBe('refused');
    expect(classifyError(err('ECONNRESET'))).toBe('reset');
    expect(classifyError(err('EPIPE'))).toBe('reset');
    expect(classifyError(new Error('socket hang up'))).toBe('reset');
    expect(classifyError(err('GWS_TIMEOUT'))).toBe('timeout');
    expect(classifyError(err('ENOTFOUND'))).toBe('other');
  });

  test('statuses', () => {
    expect(classifyStatus(200)).toBeNull();
    expect(classifyStatus(302)).toBeNull();
    expect(classifyStatus(404)).toBe('other');
    expect(classifyStatus(502)).toBe('http_5xx');
  });

  test('default concurrency covers every request that may still be in flight', () => {
    expect(defaultConcurrency(10, 10_000)).toBe(100);
    expect(defaultConcurrency(0.5, 1000)).toBe(1);
    expect(defaultConcurrency(10_000, 10_000)).toBe(1024);
  });
});

describe('runProbe against a local server', () => {
  let server: http.Server;
  let port: number;
  let count = 0;
  const hosts: string[] = [];
  const sockets = new Set<unknown>();
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-probe-test-'));
    server = http.createServer((req, res) => {
      count++;
      hosts.push(req.headers.host ?? '');
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 400);
      if (req.url === '/reset') return void req.socket.destroy();
      res.statusCode = count % 5 === 0 ? 500 : 200;
      res.end('x');
    });
    server.on('connection', (s) => sockets.add(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('fixed rate over keep-alive connections, 5xx counted, records written as JSON lines', async () => {
    count = 0;
    sockets.clear();
    const out = path.join(dir, 'run.jsonl');
    const progress: number[] = [];
    const { summary, records } = await runProbe({
      url: `http://127.0.0.1:${port}/`, rate: 40, durationMs: 1500, host: 'demo.ingress.top', out, onProgress: (p) => progress.push(p.sent),
    });
    expect(summary.total).toBe(60); // 40 req/s for 1.5 s, open loop: exactly on schedule
    expect(summary.failed).toBe(12); // every 5th answered 500
    expect(summary.byError.http_5xx).toBe(12);
    expect(summary.byStatus).toEqual({ 200: 48, 500: 12 });
    expect(records.map((r) => r.seq)).toEqual([...Array(60).keys()]);
    expect(records[59].t).toBeGreaterThanOrEqual(59 * 25 - 1);
    expect(hosts.every((h) => h === 'demo.ingress.top')).toBe(true);
    expect(sockets.size).toBeLessThan(10); // connections are reused
    expect(progress[0]).toBeGreaterThanOrEqual(35);
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(60);
    expect(lines.filter((l) => l.error === 'http_5xx')).toHaveLength(12);
  });

  test('poisson arrivals: the same mean rate with irregular gaps, reproducible from the random source', async () => {
    const gapsOf = (records: ProbeRecord[]) => records.slice(1).map((r, i) => r.t - records[i].t);
    const spread = (gaps: number[]) => {
      const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
      return Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length) / mean; // coefficient of variation
    };
    const poisson = await runProbe({ url: `http://127.0.0.1:${port}/`, rate: 200, durationMs: 2000, arrivals: 'poisson', random: seededRandom(7) });
    const fixed = await runProbe({ url: `http://127.0.0.1:${port}/`, rate: 200, durationMs: 2000 });
    expect(fixed.summary.total).toBe(400);
    // 400 expected; a Poisson count has a standard deviation of 20.
    expect(poisson.summary.total).toBeGreaterThan(320);
    expect(poisson.summary.total).toBeLessThan(480);
    expect(spread(gapsOf(poisson.records))).toBeGreaterThan(0.7); // exponential gaps: 1
    expect(spread(gapsOf(fixed.records))).toBeLessThan(0.5);
  });

  test('timeouts, resets and refused connections; CSV output', async () => {
    const out = path.join(dir, 'errors.csv');
    const slow = await runProbe({ url: `http://127.0.0.1:${port}/slow`, rate: 20, durationMs: 200, timeoutMs: 100, out });
    expect(slow.summary.total).toBe(4);
    expect(slow.summary.byError.timeout).toBe(4);
    expect(slow.records.every((r) => r.latencyMs >= 99 && r.latencyMs < 390)).toBe(true);
    const csv = fs.readFileSync(out, 'utf8').trim().split('\n');
    expect(csv[0]).toBe('seq,t_ms,status,latency_ms,error');
    expect(csv).toHaveLength(5);
    expect(csv[1]).toMatch(/^0,[\d.]+,,[\d.]+,timeout$/);

    const reset = await runProbe({ url: `http://127.0.0.1:${port}/reset`, rate: 20, durationMs: 200 });
    expect(reset.summary.byError.reset).toBe(4);

    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await runProbe({ url: `http://127.0.0.1:${closedPort}/`, rate: 20, durationMs: 200 });
    expect(refused.summary).toMatchObject({ total: 4, failed: 4, longestFailureRun: { count: 4 } });
    expect(refused.summary.byError.refused).toBe(4);
  });

  test('stops when the signal aborts', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const { summary } = await runProbe({ url: `http://127.0.0.1:${port}/`, rate: 20, signal: ac.signal });
    expect(summary.total).toBeGreaterThanOrEqual(5);
    expect(summary.total).toBeLessThanOrEqual(8);
  });

  test('gws probe exits 1 when a request failed, 0 otherwise, and prints the summary', async () => {
    const out: string[] = [];
    const io = { out: (t: string) => void out.push(t), err: () => undefined };
    const saved = process.exitCode;
    try {
      count = 0;
      await main(['node', 'gws', 'probe', `http://127.0.0.1:${port}/`, '--rate', '20', '--duration', '0.5'], io);
      expect(process.exitCode).toBe(1); // request 5 and 10 answered 500
      expect(out.join('')).toMatch(/failed: +2\n/);

      out.length = 0;
      count = 0;
      await main(['node', 'gws', 'probe', `http://127.0.0.1:${port}/`, '--rate', '10', '--duration', '0.4', '--json'], io);
      expect(process.exitCode).toBe(0);
      expect(JSON.parse(out.join(''))).toMatchObject({ total: 4, failed: 0 });

      await main(['node', 'gws', 'probe', `http://127.0.0.1:${port}/`, '--rate', 'fast'], io);
      expect(process.exitCode).toBe(2);
    } finally {
      process.exitCode = saved;
    }
  });
});
