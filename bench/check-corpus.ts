// bench:check-corpus — how right `check` is on manifests written by others (issue 16).
//
// test/check/corpus/ holds one folder per app (vendor samples, public projects, rendered Helm and
// Kustomize output; sources in SOURCES.md) and expected.json, what an experienced SRE expects of
// each app: the findings that must appear (rule, severity, object) and the debatable ones that count
// neither way. This runs `check` (read the folder as the CLI does, parse, audit) over every app and
// counts, per rule: a true positive for each expected finding reported, a false negative for each one
// missing, a false positive for each finding reported that is neither expected nor allowed. A finding
// is one (rule, severity, object) per app; a reported warning where an error is expected counts as
// one miss and one false positive. The result goes into docs/benchmarks.md between the
// bench:check-corpus markers, with the commit.
//
//   npm run bench:check-corpus [-- --no-write] [-- --json]
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeSection } from './sections';
import { audit, CheckOptions, Finding } from '../src/check/audit';
import { readInputs } from '../src/manifests/inputs';
import { loadManifests } from '../src/manifests/topology';

const ROOT = path.join(__dirname, '..');
export const CORPUS_DIR = path.join(ROOT, 'test', 'check', 'corpus');
const START = '<!-- bench:check-corpus:start -->';
const END = '<!-- bench:check-corpus:end -->';

/** One finding the SRE expects: rule, severity and the object (`Kind/name`). */
export interface ExpectedFinding {
  readonly rule: string;
  readonly severity: 'error' | 'warning';
  readonly object: string;
  readonly why: string;
}

/** A debatable finding: counts neither way. Without `object`, any object of the app. */
export interface AllowedFinding {
  readonly rule: string;
  readonly object?: string;
  readonly why: string;
}

export interface ExpectedApp {
  readonly provider: string;
  readonly reason: string;
  readonly expect: readonly ExpectedFinding[];
  readonly allow?: readonly AllowedFinding[];
  readonly options?: CheckOptions;
}

export function readExpected(): { [app: string]: ExpectedApp } {
  return JSON.parse(fs.readFileSync(path.join(CORPUS_DIR, 'expected.json'), 'utf8')).apps;
}

/** The app folders, sorted. */
export function corpusApps(): string[] {
  return fs.readdirSync(CORPUS_DIR, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

/** `rule|severity|Kind/name`: the unit the benchmark counts. */
export function findingKey(f: { rule: string; severity: string; object: string }): string {
  return `${f.rule}|${f.severity}|${f.object}`;
}

export interface AppOutcome {
  readonly app: string;
  /** Set when reading or auditing the app threw: a crash, not a finding. */
  readonly crash?: string;
  readonly findings: readonly Finding[];
  /** Reported, as keys, without duplicates. */
  readonly reported: readonly string[];
  readonly truePositives: readonly string[];
  readonly falseNegatives: readonly string[];
  readonly falsePositives: readonly string[];
  readonly allowed: readonly string[];
}

/** Runs check over one app folder the way the CLI reads a directory, and scores it. */
export function scoreApp(app: string, expected: ExpectedApp): AppOutcome {
  let findings: Finding[] = [];
  let crash: string | undefined;
  try {
    const inputs = readInputs([path.join(CORPUS_DIR, app)], () => '');
    findings = audit(loadManifests(inputs), expected.options ?? {}).findings;
  } catch (e) {
    crash = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  const reported = [...new Set(findings.map((f) => findingKey({ rule: f.rule, severity: f.severity, object: `${f.object.kind}/${f.object.name}` })))].sort();
  const expectedKeys = new Set(expected.expect.map(findingKey));
  const isAllowed = (key: string) => {
    const [rule, , object] = key.split('|');
    return (expected.allow ?? []).some((a) => a.rule === rule && (a.object === undefined || a.object === object));
  };
  return {
    app,
    crash,
    findings,
    reported,
    truePositives: reported.filter((k) => expectedKeys.has(k)),
    falseNegatives: [...expectedKeys].filter((k) => !reported.includes(k)).sort(),
    falsePositives: reported.filter((k) => !expectedKeys.has(k) && !isAllowed(k)),
    allowed: reported.filter((k) => !expectedKeys.has(k) && isAllowed(k)),
  };
}

export function scoreCorpus(): AppOutcome[] {
  const expected = readExpected();
  const apps = corpusApps();
  const unlisted = apps.filter((a) => expected[a] === undefined);
  const missing = Object.keys(expected).filter((a) => !apps.includes(a));
  if (unlisted.length > 0 || missing.length > 0) {
    throw new Error(`expected.json and the app folders disagree: no expectations for ${unlisted.join(', ') || '-'}; no folder for ${missing.join(', ') || '-'}`);
  }
  return apps.map((app) => scoreApp(app, expected[app]));
}

export interface RuleScore {
  readonly rule: string;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
}

export function perRule(outcomes: readonly AppOutcome[]): RuleScore[] {
  const counts = new Map<string, { tp: number; fp: number; fn: number }>();
  const add = (key: string, field: 'tp' | 'fp' | 'fn') => {
    const rule = key.split('|')[0];
    const c = counts.get(rule) ?? { tp: 0, fp: 0, fn: 0 };
    c[field]++;
    counts.set(rule, c);
  };
  for (const o of outcomes) {
    o.truePositives.forEach((k) => add(k, 'tp'));
    o.falsePositives.forEach((k) => add(k, 'fp'));
    o.falseNegatives.forEach((k) => add(k, 'fn'));
  }
  return [...counts.entries()].map(([rule, c]) => ({ rule, ...c })).sort((a, b) => a.rule.localeCompare(b.rule));
}

/** A key as table text: no `|`, which would split a Markdown table cell. */
const show = (key: string) => { const [rule, severity, object] = key.split('|'); return `${rule} (${severity}) ${object}`; };

const ratio = (num: number, den: number) => (den === 0 ? '–' : `${Math.round((100 * num) / den)} %`);

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', cwd: ROOT }).trim();
  } catch (e) {
    return `(${cmd} failed: ${(e as Error).message.split('\n')[0]})`;
  }
}

function section(outcomes: readonly AppOutcome[]): string {
  const rules = perRule(outcomes);
  const sum = (f: (r: RuleScore) => number) => rules.reduce((n, r) => n + f(r), 0);
  const bySeverity = (keys: (o: AppOutcome) => readonly string[], severity: string) =>
    outcomes.reduce((n, o) => n + keys(o).filter((k) => k.split('|')[1] === severity).length, 0);
  const tp = sum((r) => r.tp);
  const fp = sum((r) => r.fp);
  const fn = sum((r) => r.fn);
  const crashes = outcomes.filter((o) => o.crash !== undefined);
  const dirty = sh('git', ['status', '--porcelain', '--', 'src', 'test/check/corpus', 'bench']) !== '' ? ' (with uncommitted changes)' : '';
  const lines = [
    START,
    '## check on manifests written by others',
    '',
    `\`check\` over the ${outcomes.length} apps of test/check/corpus/ (sources in its SOURCES.md), scored against what an experienced SRE `
      + 'expects of each (its expected.json): one unit is one (rule, severity, object) per app.',
    `Precision **${ratio(tp, tp + fp)}** (${tp} of ${tp + fp} findings right), recall **${ratio(tp, tp + fn)}** (${tp} of ${tp + fn} expected findings found); `
      + `false errors: ${bySeverity((o) => o.falsePositives, 'error')}; expected errors missed: ${bySeverity((o) => o.falseNegatives, 'error')}; `
      + `crashes: ${crashes.length}${crashes.length > 0 ? ` (${crashes.map((o) => o.app).join(', ')})` : ''}.`,
    '',
    '| rule | right | wrong (false positive) | missed (false negative) | precision | recall |',
    '|---|---:|---:|---:|---:|---:|',
    ...rules.map((r) => `| \`${r.rule}\` | ${r.tp} | ${r.fp} | ${r.fn} | ${ratio(r.tp, r.tp + r.fp)} | ${ratio(r.tp, r.tp + r.fn)} |`),
    `| **total** | ${tp} | ${fp} | ${fn} | ${ratio(tp, tp + fp)} | ${ratio(tp, tp + fn)} |`,
    '',
    '| app | wrong | missed |',
    '|---|---|---|',
    ...outcomes.filter((o) => o.falsePositives.length + o.falseNegatives.length > 0 || o.crash !== undefined)
      .map((o) => `| ${o.app} | ${o.crash ?? o.falsePositives.map(show).join('; ')} | ${o.falseNegatives.map(show).join('; ')} |`),
    '',
    '| | |',
    '|---|---|',
    '| command | `npx ts-node --project tsconfig.dev.json bench/check-corpus.ts` (`npm run bench:check-corpus`) |',
    `| commit | ${sh('git', ['rev-parse', '--short', 'HEAD'])}${dirty} |`,
    `| date | ${new Date().toISOString().slice(0, 10)} |`,
    END,
  ];
  return lines.join('\n');
}

function main(): void {
  const args = process.argv.slice(2);
  const outcomes = scoreCorpus();
  if (args.includes('--json')) {
    process.stdout.write(JSON.stringify({ rules: perRule(outcomes), apps: outcomes.map(({ findings, ...rest }) => rest) }, null, 2) + '\n');
    return;
  }
  const text = section(outcomes);
  process.stdout.write(text + '\n');
  if (!args.includes('--no-write')) writeSection(text, START, END);
}

if (require.main === module) main();
