/**
 * `check` on the real-world corpus (issue 16): manifests written by others (test/check/corpus/,
 * sources in SOURCES.md) against what an experienced SRE expects of them (expected.json).
 *
 * The gate: no app crashes the reader or the audit; no error that the SRE does not expect; every
 * error the SRE expects is found. Where check is known to be wrong today, KNOWN_GAPS says so, and
 * the test fails as soon as an entry is no longer true, so the list only shrinks as fixes land.
 * Warnings are scored by `npm run bench:check-corpus` (precision and recall per rule), not gated here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { AppOutcome, CORPUS_DIR, corpusApps, findingKey, readExpected, scoreApp, scoreCorpus } from '../../bench/check-corpus';

type GapKind = 'false-error' | 'missed-error';

interface KnownGap {
  readonly app: string;
  readonly kind: GapKind;
  readonly rule: string;
  /** `Kind/name` */
  readonly object: string;
  readonly reason: string;
}

/** Where check is wrong on the corpus today: nothing, since classes 8 and 9 of issue 16 were fixed. */
const KNOWN_GAPS: readonly KnownGap[] = [
];

const expected = readExpected();
const apps = corpusApps();
const outcomes = new Map<string, AppOutcome>(apps.map((app) => [app, scoreApp(app, expected[app])]));

const severityOf = (key: string) => key.split('|')[1];
const gapKeys = (app: string, kind: GapKind) => KNOWN_GAPS.filter((g) => g.app === app && g.kind === kind)
  .map((g) => findingKey({ rule: g.rule, severity: 'error', object: g.object })).sort();

/** `Kind/name` of every object in an app's files (parsed independently of check, with the `yaml` package). */
function objectsOf(app: string): Set<string> {
  const names = new Set<string>();
  for (const file of fs.readdirSync(path.join(CORPUS_DIR, app))) {
    for (const doc of parseAllDocuments(fs.readFileSync(path.join(CORPUS_DIR, app, file), 'utf8'))) {
      const o = doc.toJS();
      if (o?.kind !== undefined) names.add(`${o.kind}/${o.metadata?.name}`);
    }
  }
  return names;
}

describe('the corpus itself', () => {
  test('at least 30 apps, each with expectations and a source in SOURCES.md', () => {
    expect(apps.length).toBeGreaterThanOrEqual(30);
    expect(Object.keys(expected).sort()).toEqual(apps);
    const sources = fs.readFileSync(path.join(CORPUS_DIR, 'SOURCES.md'), 'utf8');
    for (const app of apps) expect(sources).toMatch(new RegExp(`^\\| ${app} \\| .*\\| \`[0-9a-f]{40}\` \\| (Apache-2\\.0|MIT|MIT-0) \\|$`, 'm'));
  });

  test.each(apps)('%s: every expected or allowed finding names an object of the app, with a reason', (app) => {
    const objects = objectsOf(app);
    expect(expected[app].reason.length).toBeGreaterThan(0);
    for (const f of [...expected[app].expect, ...(expected[app].allow ?? [])]) {
      if (f.object !== undefined) expect(objects).toContain(f.object);
      expect(f.why.length).toBeGreaterThan(0);
    }
  });

  test('every known gap names an app and an expectation that exist', () => {
    for (const gap of KNOWN_GAPS) {
      expect(apps).toContain(gap.app);
      const expectedError = expected[gap.app].expect.some((f) => f.rule === gap.rule && f.object === gap.object && f.severity === 'error');
      expect([gap.app, gap.rule, gap.object, expectedError]).toEqual([gap.app, gap.rule, gap.object, gap.kind === 'missed-error']);
    }
  });
});

describe.each(apps)('check on %s', (app) => {
  const outcome = outcomes.get(app)!;

  test('reads and audits the app without crashing', () => {
    expect(outcome.crash).toBeUndefined();
  });

  test('reports no error the SRE does not expect (beyond the known gaps)', () => {
    expect(outcome.falsePositives.filter((k) => severityOf(k) === 'error')).toEqual(gapKeys(app, 'false-error'));
  });

  test('finds every error the SRE expects (beyond the known gaps)', () => {
    expect(outcome.falseNegatives.filter((k) => severityOf(k) === 'error')).toEqual(gapKeys(app, 'missed-error'));
  });
});

describe('the scoring', () => {
  test('apps the SRE expects clean get no error at all', () => {
    const clean = apps.filter((app) => expected[app].expect.length === 0);
    expect(clean.length).toBeGreaterThanOrEqual(4);
    for (const app of clean) expect([app, outcomes.get(app)!.findings.filter((f) => f.severity === 'error')]).toEqual([app, []]);
  });

  test('can fail: an expectation check does not meet is a miss, a finding nobody expects is a false positive', () => {
    const app = 'aws-2048';
    const altered = scoreApp(app, {
      ...expected[app],
      expect: [...expected[app].expect.filter((f) => f.rule !== 'readiness-probe-missing'),
        { rule: 'recreate-strategy', severity: 'error', object: 'Deployment/deployment-2048', why: 'planted' }],
    });
    expect(altered.falseNegatives).toContain('recreate-strategy|error|Deployment/deployment-2048');
    expect(altered.falsePositives).toContain('readiness-probe-missing|warning|Deployment/deployment-2048');
  });

  test('scoreCorpus covers every app folder', () => {
    expect(scoreCorpus().map((o) => o.app)).toEqual(apps);
  });
});
