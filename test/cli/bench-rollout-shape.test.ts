import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { replaceSection, report } from '../../bench/rollout';
import { BenchConfig, Row, runScenario, scenarios, synthesizeExamples } from '../../bench/rollout-runner';

// A reduced `npm run bench:rollout`: one example synthesized from the current commit, the lag at
// half and one and a half times its declared D. The full benchmark has the same shape with more
// fractions, both app kinds, every example and at least 10,000 requests per row.
const config: BenchConfig = {
  scale: 0.1,
  rate: 30,
  minRequests: 0,
  fractions: [0.5, 1.5],
  naiveFractions: [0.5],
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

test('reduced rollout benchmark: derived 0 at lag <= D, naive > 0, derived > 0 once lag > D', async () => {
  const examples = synthesizeExamples(dir, ['alibaba-alb-tea']);
  expect(examples).toHaveLength(1);
  expect(examples[0]).toMatchObject({ provider: 'alibaba-alb', d: 10 });
  expect(examples[0].sha256).toMatch(/^[0-9a-f]{64}$/);
  const rows: Row[] = [];
  for (const [i, sc] of scenarios(examples, config).entries()) rows.push(await runScenario(sc, config, 100 + i));
  const find = (variant: string, f: number) => rows.find((r) => r.variant === variant && r.lagFraction === f)!;
  expect(rows).toHaveLength(3);
  expect(find('derived', 0.5).requests).toBeGreaterThan(100);
  expect(find('derived', 0.5).failed).toBe(0);
  expect(find('naive', 0.5).failed).toBeGreaterThan(0);
  expect(find('derived', 1.5).failed).toBeGreaterThan(0);
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
  const doc = replaceSection('# Benchmarks\n\n<!-- bench:other:start -->x<!-- bench:other:end -->\n\n<!-- bench:rollout:start -->STALE-SECTION<!-- bench:rollout:end -->\n', text);
  expect(doc).toContain('<!-- bench:other:start -->x<!-- bench:other:end -->');
  expect(doc).not.toContain('STALE-SECTION');
}, 240_000);
