import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readmeHeadroomNow, readmeKeepAlive, readmeSummary, report } from '../../bench/rollout';
import { BenchConfig, Row, runScenario, scenarios, synthesizeExamples } from '../../bench/rollout-runner';
import { replaceMarked, replaceSection } from '../../bench/sections';

// A reduced `npm run bench:rollout`: one example synthesized from the current commit, the lag at
// exactly its declared D (where a wait of D alone would tie with the LB) and at twice D (beyond
// the wait D + M). The full benchmark has the same shape with more
// fractions, both app kinds, every example and at least 10,000 requests per row.
const config: BenchConfig = {
  scale: 0.1,
  rate: 30,
  minRequests: 0,
  fractions: [1.0, 2.0],
  naiveFractions: [1.0],
  apps: ['drain'],
  launch: false,
  keepAlive: false,
  keepAliveRate: 20,
  keepAliveMinRequests: 0,
  keepAliveShortSeconds: 0.3,
  keepAliveNetworkDelayMs: 20,
};

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-bench-shape-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('reduced rollout benchmark: derived 0 at lag = D, naive > 0, derived > 0 once lag > D + M', async () => {
  const examples = synthesizeExamples(dir, ['alibaba-alb-tea']);
  expect(examples).toHaveLength(1);
  expect(examples[0]).toMatchObject({ provider: 'alibaba-alb', d: 15 });
  expect(examples[0].sha256).toMatch(/^[0-9a-f]{64}$/);
  const rows: Row[] = [];
  for (const [i, sc] of scenarios(examples, config).entries()) rows.push(await runScenario(sc, config, 100 + i));
  const find = (variant: string, f: number) => rows.find((r) => r.variant === variant && r.lagFraction === f)!;
  expect(rows).toHaveLength(3);
  expect(examples[0]).toMatchObject({ m: 5 });
  expect(find('derived', 1.0).requests).toBeGreaterThan(100);
  expect(find('derived', 1.0).failed).toBe(0);
  expect(find('naive', 1.0).failed).toBeGreaterThan(0);
  // Lag 30 s against a wait of D + M = 20 s.
  expect(find('derived', 2.0).failed).toBeGreaterThan(0);
  const text = report(rows, {
    command: 'test',
    commit: 'abc',
    dirty: false,
    date: '2026-01-01',
    totalMinutes: 1,
    config,
    examples: examples.map((e) => ({ name: e.name, provider: e.provider, sha256: e.sha256, d: e.d, s: e.s, m: e.m, drains: e.drains })),
    nproc: '2',
    node: 'v20',
    haproxy: 'HAProxy',
  });
  expect(text).toContain(examples[0].sha256);
  expect(text).toMatch(/^<!-- bench:rollout:start -->[\s\S]*<!-- bench:rollout:end -->$/);
  const doc = replaceSection('# Benchmarks\n\n<!-- bench:other:start -->x<!-- bench:other:end -->\n\n<!-- bench:rollout:start -->STALE-SECTION<!-- bench:rollout:end -->\n', text,
    '<!-- bench:rollout:start -->', '<!-- bench:rollout:end -->');
  expect(doc).toContain('<!-- bench:other:start -->x<!-- bench:other:end -->');
  expect(doc).not.toContain('STALE-SECTION');
}, 240_000);

test('the README sections are computed from the rows, and only between their markers', () => {
  const base: Omit<Row, 'series'> = {
    kind: 'sensitivity',
    example: 'alibaba-alb-tea',
    provider: 'alibaba-alb',
    app: 'drain',
    variant: 'derived',
    manifestSha256: 'x',
    d: 10,
    lagFraction: 1,
    lag: '',
    preStop: '',
    grace: 50,
    replicas: 3,
    minReadySeconds: 0,
    readinessGate: null,
    appKeepAliveSeconds: 620,
    lbIdleTimeoutSeconds: 15,
    rollouts: 1,
    requests: 10_000,
    failed: 0,
    failurePercent: 0,
    byError: {},
    podsGoneBeforeDeregistration: 0,
    podsTerminated: 3,
    sigkills: 0,
    wallSeconds: 1,
    timeScale: 0.1,
    rolloutStarts: [0],
  };

  const rows = [
    { ...base, lagFraction: 1.1, requests: 12_000 },
    { ...base, lagFraction: 2, failed: 500, failurePercent: 5 }, // beyond 1.1 D: not in the headline's zero
    { ...base, variant: 'naive', failed: 1_000, failurePercent: 10 },
    { ...base, kind: 'launch' as const, variant: 'naive launch', failed: 2_000, failurePercent: 20 },
    { ...base, kind: 'launch' as const, variant: 'naive launch', failed: 4_000, failurePercent: 40 },
    { ...base, kind: 'launch' as const },
    { ...base, kind: 'keep-alive' as const, appKeepAliveSeconds: 0.3, failed: 42, requests: 3_000 },
    { ...base, kind: 'keep-alive' as const, appKeepAliveSeconds: 20, requests: 3_100 },
  ];
  const info = {
    command: 'test',
    commit: 'abcdef123',
    dirty: false,
    date: '2026-01-01',
    totalMinutes: 16.2,
    nproc: '2',
    node: 'v20',
    haproxy: 'HAProxy',
    config: { ...config, fractions: [0.5, 2] },
    examples: [],
  };

  const summary = readmeSummary(rows, info);
  expect(summary).toContain('16 minutes for 1 examples, 8 rows');
  expect(summary).toContain('commit `abcdef1`');
  expect(summary).toContain('fixed LB lags of 0.5-2 x');
  expect(summary).toContain('the derived manifests failed 0 of\n12,000 requests (1 rows of at least 12,000)');
  expect(summary).toContain('the naive ones failed\n1,000 of 10,000 at lag = D');
  expect(summary).toContain('failed 20-40 % of requests; the derived launches none');
  const now = readmeHeadroomNow(rows, info);
  expect(now).toContain('**0 of 12,000 requests at lags up to 1.1 D** (1 rows of 12,000 or more;\n0 of 0 up to D)');
  expect(now).toContain('- alibaba-alb-tea, app drains: 0 failures up to 1.1 D; first failures at 2 D (500 of 10,000, 5.00 %)');
  expect(now).toContain('failed 10.00-10.00 % at lag = D');
  const keepAlive = readmeKeepAlive(rows);
  expect(keepAlive).toContain('shorter than the LB\'s failed\n42 of 3,000 requests (alibaba-alb 42 of 3,000); longer than the LB\'s,\n0 of 3,100');

  const doc = 'a\n<!-- bench:rollout:readme:start -->\nOLD\n<!-- bench:rollout:readme:end -->\nb';
  expect(replaceMarked(doc, 'bench:rollout:readme', 'NEW')).toBe('a\n<!-- bench:rollout:readme:start -->\nNEW\n<!-- bench:rollout:readme:end -->\nb');
  expect(() => replaceMarked('no markers', 'bench:rollout:keepalive', 'x')).toThrow('README.md has no <!-- bench:rollout:keepalive:start -->');
});
