/**
 * Issue 16, the input side of `check`: what it is given, before any rule runs.
 * Class 7 (nothing to read), class 4 (an unparsable file), class 8b (a Helm chart), class 5
 * (duplicate objects) and class 6 (input that must not crash it).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCheck } from '../../src/cli/check-command';
import { main } from '../../src/cli/gws';

const FIXTURES = path.join(__dirname, 'input-fixtures');
const REPO_WITH_CHART = path.join(FIXTURES, 'repo-with-chart');
const RENDERED = path.join(REPO_WITH_CHART, 'rendered');
const CHART = path.join(REPO_WITH_CHART, 'charts', 'shop');
const EMPTY_FILES = path.join(FIXTURES, 'empty-files');
const REPO = path.join(__dirname, '..', '..');

const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-check-input-'));
  tempDirs.push(dir);
  return dir;
}

/** Runs `gws check` in-process; returns the exit code and what it printed. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const previous = process.exitCode;
  process.exitCode = 0;
  try {
    await main(['node', 'gws', 'check', ...args], { out: (t) => { out += t; }, err: (t) => { err += t; } });
    return { code: Number(process.exitCode ?? 0), out, err };
  } finally {
    process.exitCode = previous;
  }
}

/** Runs the CLI in a real process (through ts-node) with `input` on stdin. */
function cliProcess(args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['-r', 'ts-node/register', path.join(REPO, 'src', 'cli', 'gws.ts'), 'check', ...args], {
    cwd: REPO,
    input,
    encoding: 'utf8',
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', TS_NODE_PROJECT: path.join(REPO, 'tsconfig.dev.json') },
    timeout: 60_000,
  });
}

describe('class 7: no Kubernetes objects in the whole input is unusable input', () => {
  test('empty standard input (helm template failed): exit 2 with one line saying so', () => {
    for (const stdin of ['', '\n\n', '# Source: nothing\n---\n']) {
      expect(() => runCheck(['-'], {}, () => stdin)).toThrow(
        /^no Kubernetes objects in the input: standard input (is empty|holds no object with a kind) \(did the command that renders the manifests fail\?\)$/);
    }
    const run = cliProcess(['-', '--format', 'sarif'], '');
    expect([run.status, run.stdout]).toEqual([2, '']);
    expect(run.stderr).toMatch(/^[\w-]+: no Kubernetes objects in the input: standard input is empty \(did the command that renders the manifests fail\?\)\n$/);
  });

  test('only empty files and comments: exit 2 naming them', async () => {
    const run = await cli([EMPTY_FILES, '--format', 'json']);
    expect(run.code).toBe(2);
    expect(run.out).toBe('');
    expect(run.err).toBe('gws: no Kubernetes objects in the input: the 2 files read hold no object with a kind\n');
    const one = await cli([path.join(EMPTY_FILES, 'a.yaml')]);
    expect([one.code, one.err]).toEqual([2, `gws: no Kubernetes objects in the input: ${path.join(EMPTY_FILES, 'a.yaml')} is empty\n`]);
  });

  test('check --fix on nothing is refused the same way', async () => {
    const run = await cli([EMPTY_FILES, '--fix', '--dry-run']);
    expect([run.code, run.out]).toEqual([2, '']);
    expect(run.err).toBe('gws: no Kubernetes objects in the input: the 2 files read hold no object with a kind\n');
  });

  test('an empty file among others is fine: the others are audited', async () => {
    const run = await cli([path.join(EMPTY_FILES, 'a.yaml'), path.join(RENDERED, 'shop.yaml'), '--format', 'json']);
    expect(run.code).toBe(1);
    const json = JSON.parse(run.out);
    expect(json.summary).toMatchObject({ objects: 3, deployments: 1, unparsable: 0 });
    expect(json.findings.map((f: any) => f.rule)).toContain('prestop-wait-missing');
  });
});

describe('class 4: an unparsable file is a finding, and everything else is still audited', () => {
  const brokenFile = path.join(RENDERED, 'broken.yaml');

  test('text: the parse error with file:line:col, the other files\' findings, exit 2 whatever --fail-on says', async () => {
    for (const failOn of ['error', 'none']) {
      const run = await cli([RENDERED, '--fail-on', failOn]);
      expect(run.code).toBe(2);
      expect(run.err).toBe('');
      expect(run.out).toMatch(new RegExp(`^${escape(brokenFile)}:10:\\d+\\n  error   manifest-syntax-error: cannot be parsed \\(`, 'm'));
      expect(run.out).toMatch(/error   prestop-wait-missing: container web has no preStop wait/);
      expect(run.out).toMatch(/\n1 document could not be parsed: unusable input \(exit 2\)\n$/);
    }
  });

  test('json and sarif carry the parse error too, with its line and column; the valid document of the same file is read', async () => {
    const json = await cli([RENDERED, '--format', 'json']);
    expect(json.code).toBe(2);
    const doc = JSON.parse(json.out);
    const parse = doc.findings.filter((f: any) => f.rule === 'manifest-syntax-error');
    expect(parse).toHaveLength(1);
    expect(parse[0]).toMatchObject({ severity: 'error', location: { file: brokenFile, line: 10 } });
    expect(parse[0].location.column).toBeGreaterThan(1);
    expect(doc.summary).toMatchObject({ unparsable: 1, objects: 4, deployments: 1 }); // 3 of shop.yaml + ConfigMap settings
    expect(doc.findings.some((f: any) => f.rule === 'prestop-wait-missing')).toBe(true);

    const sarif = await cli([RENDERED, '--format', 'sarif']);
    expect(sarif.code).toBe(2);
    const results = JSON.parse(sarif.out).runs[0].results;
    const result = results.find((r: any) => r.ruleId === 'manifest-syntax-error');
    expect(result.level).toBe('error');
    expect(result.locations[0].physicalLocation.region.startLine).toBe(10);
    expect(result.locations[0].logicalLocations).toBeUndefined();
    expect(results.some((r: any) => r.ruleId === 'prestop-wait-missing')).toBe(true);
  });

  test('Helm templates of a chart below a directory are skipped with a note; its plain files are read', async () => {
    const run = await cli([REPO_WITH_CHART, '--format', 'json']);
    expect(run.code).toBe(2); // broken.yaml
    const doc = JSON.parse(run.out);
    const notes = doc.findings.filter((f: any) => f.rule === 'helm-template-skipped');
    expect(notes.map((f: any) => [f.severity, f.location.file])).toEqual([['info', path.join(CHART, 'templates', 'deployment.yaml')]]);
    expect(notes[0].message).toMatch(/Helm template of the chart in .*shop, not YAML: not audited/);
    // The Namespace (no template action) is read; the template is not: still one Deployment. Chart.yaml
    // and values.yaml configure the chart and are not read: 3 objects of shop.yaml, a ConfigMap, the Namespace.
    expect(doc.summary).toMatchObject({ deployments: 1, objects: 5 });
    const text = await cli([path.join(CHART, 'templates')]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/info    helm-template-skipped: /);
  });

  test('a chart\'s templates alone: nothing to audit, and the message says to render them', async () => {
    const run = await cli([path.join(CHART, 'templates', 'deployment.yaml')]);
    expect(run.code).toBe(2);
    expect(run.err).toBe('gws: no Kubernetes objects in the input: nothing was read; 1 Helm template was skipped: render the chart with `helm template` first\n');
  });
});

describe('class 8b: a Helm chart directory is not manifests', () => {
  test('check <chart> says to render it with helm template first, exit 2', async () => {
    const run = await cli([CHART]);
    expect(run.code).toBe(2);
    expect(run.out).toBe('');
    expect(run.err).toBe(`gws: ${CHART}: a Helm chart (Chart.yaml and templates/), not manifests: render it with \`helm template\` first (helm template ${CHART} | check -)\n`);
  });

  test('a real process: exit 2 and the one line on stderr', () => {
    const run = cliProcess([CHART, '--format', 'sarif']);
    expect([run.status, run.stdout]).toEqual([2, '']);
    expect(run.stderr).toMatch(/render it with `helm template` first/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('class 5: the same object twice is a finding, never a silent overwrite', () => {
  const TWO_APPS = path.join(FIXTURES, 'two-apps');
  const shop = path.join(TWO_APPS, 'a-shop.yaml');
  const blog = path.join(TWO_APPS, 'b-blog.yaml');

  test('same kind/namespace/name across files: an error when they differ, a warning when identical; each counted once', async () => {
    const run = await cli([TWO_APPS, '--format', 'json']);
    expect(run.code).toBe(1);
    const doc = JSON.parse(run.out);
    const dups = doc.findings.filter((f: any) => f.rule === 'duplicate-object')
      .map((f: any) => [f.severity, `${f.object.kind}/${f.object.name}`, f.location.file, f.location.line]);
    expect(dups).toEqual([
      ['error', 'Service/web', blog, 19],
      ['error', 'IngressClass/alb', blog, 27],
      ['warning', 'ConfigMap/shared-settings', blog, 35],
    ]);
    const service = doc.findings.find((f: any) => f.rule === 'duplicate-object' && f.object.kind === 'Service');
    expect(service.message).toBe(`Service web is also defined at ${shop}:20:1, differently: applied together, this definition replaces that one, so only this one is audited`);
    const ingressClass = doc.findings.find((f: any) => f.rule === 'duplicate-object' && f.object.kind === 'IngressClass');
    expect(ingressClass.message).toMatch(/cluster-scoped: one IngressClass of this name per cluster, whatever the namespace/);
    expect(doc.summary.objects).toBe(9 - 3);
  });

  test('the later definition is the one audited, as kubectl apply leaves it: the IngressClass and the Service of b-blog.yaml', async () => {
    const doc = JSON.parse((await cli([TWO_APPS, '--format', 'json'])).out);
    // Service web now selects the blog pods; the Ingress's class alb is Alibaba's (b-blog.yaml's IngressClass).
    expect(doc.summary.deployments).toBe(1);
    const missing = doc.findings.find((f: any) => f.rule === 'prestop-wait-missing');
    expect(missing.object.name).toBe('blog');
    expect(missing.fix.budget.deregistrationDelaySeconds).toBe(10); // Alibaba's documented D, not AWS's 60 s for ip targets
    expect(doc.findings.some((f: any) => f.rule === 'provider-unknown')).toBe(false);
  });

  test('no namespace and namespace: default are the same namespace; --namespace moves only the objects without one', async () => {
    const other = JSON.parse((await cli([TWO_APPS, '--format', 'json', '--namespace', 'other'])).out);
    expect(other.findings.filter((f: any) => f.rule === 'duplicate-object').map((f: any) => `${f.object.kind}/${f.object.name}`))
      .toEqual(['IngressClass/alb', 'ConfigMap/shared-settings']);
    expect(other.summary.objects).toBe(9 - 2);
  });

  test('the same file given twice, or inside a directory given too, is read once: no duplicates, nothing counted twice', async () => {
    const once = JSON.parse((await cli([shop, '--format', 'json'])).out);
    const twice = JSON.parse((await cli([shop, shop, TWO_APPS, '--format', 'json'])).out);
    expect(once.findings.some((f: any) => f.rule === 'duplicate-object')).toBe(false);
    expect(once.summary.objects).toBe(5);
    expect(twice.summary.objects).toBe(9 - 3);
  });

  test('an Ingress without a class gets the default IngressClass, as Kubernetes gives it; two defaults give it none', async () => {
    const dir = tempDir();
    // The shop app's Ingress with no class and no vendor annotation: only an IngressClass can tell.
    const classless = fs.readFileSync(path.join(TWO_APPS, 'a-shop.yaml'), 'utf8').replace('  ingressClassName: alb\n', '')
      .replace('  annotations:\n    alb.ingress.kubernetes.io/target-type: ip\n', '');
    const defaultClass = (name: string, controller: string) => `---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: ${name}\n`
      + `  annotations: { ingressclass.kubernetes.io/is-default-class: "true" }\nspec: { controller: ${controller} }\n`;
    fs.writeFileSync(path.join(dir, 'one.yaml'), classless.replace(/---\napiVersion: networking.k8s.io\/v1\nkind: IngressClass[^]*?(?=---)/, '') + defaultClass('cloud', 'ingress.k8s.aws/alb'));
    const one = runCheck([path.join(dir, 'one.yaml')], {}).findings;
    expect(one.some((f) => f.rule === 'provider-unknown')).toBe(false);
    expect(one.find((f) => f.rule === 'prestop-wait-missing')!.fix.budget!.deregistrationDelaySeconds).toBe(90); // AWS, instance targets
    fs.writeFileSync(path.join(dir, 'two.yaml'), fs.readFileSync(path.join(dir, 'one.yaml'), 'utf8') + defaultClass('other', 'ingress.k8s.alibabacloud/alb'));
    const two = runCheck([path.join(dir, 'two.yaml')], {}).findings;
    expect(two.find((f) => f.rule === 'provider-unknown')!.message).toMatch(/the Ingress names no class/);
  });

  test('an object present twice in one file is audited and counted once', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'twice.yaml');
    const text = fs.readFileSync(shop, 'utf8');
    fs.writeFileSync(file, `${text}---\n${text}`);
    const doc = JSON.parse((await cli([file, '--format', 'json'])).out);
    expect(doc.summary).toMatchObject({ objects: 5, deployments: 1 });
    expect(doc.findings.filter((f: any) => f.rule === 'duplicate-object').map((f: any) => f.severity)).toEqual(Array(5).fill('warning'));
    expect(doc.findings.filter((f: any) => f.rule === 'prestop-wait-missing')).toHaveLength(1);
  });
});

describe('class 6: no input crashes it', () => {
  const app = () => fs.readFileSync(path.join(RENDERED, 'shop.yaml'), 'utf8');

  test('200,000 tiny objects in one file (more than the 168,000 that crashed it): read, audited once each, reported', async () => {
    const file = path.join(tempDir(), 'many.yaml');
    const parts = [app()];
    for (let i = 0; i < 200_000; i++) parts.push(`---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: c${i} }\n`);
    fs.writeFileSync(file, parts.join(''));
    const run = await cli([file, '--format', 'json']);
    expect(run.err).toBe('');
    expect(run.code).toBe(1);
    const doc = JSON.parse(run.out);
    expect(doc.summary).toMatchObject({ objects: 200_003, deployments: 1, unparsable: 0 });
    expect(doc.findings.map((f: any) => f.rule)).toContain('prestop-wait-missing');
  });

  test('a kind: List of 100,000 items as kubectl prints it (the fast path) and one of 20,000 in flow style (the full parser): no crash', async () => {
    const dir = tempDir();
    const block = Array.from({ length: 100_000 }, (_, i) => `- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c${i % 50_000}\n`);
    fs.writeFileSync(path.join(dir, 'block.yaml'), `${app()}---\napiVersion: v1\nitems:\n${block.join('')}kind: List\n`);
    const run = await cli([path.join(dir, 'block.yaml'), '--format', 'sarif']);
    expect(run.code).toBe(1);
    const results = JSON.parse(run.out).runs[0].results;
    const duplicates = results.filter((r: any) => r.ruleId === 'duplicate-object');
    expect(duplicates).toHaveLength(50_000);
    // Each item located where it starts: c0's copy is item 50,000, at line 5 + 4 x 50,000 of the List document.
    const c0 = duplicates.find((r: any) => r.locations[0].logicalLocations[0].name === 'c0');
    expect(c0.locations[0].physicalLocation.region).toEqual({ startLine: app().split('\n').length + 3 + 4 * 50_000, startColumn: 3 });

    const flow = Array.from({ length: 20_000 }, (_, i) => `{ apiVersion: v1, kind: ConfigMap, metadata: { name: f${i} } }`);
    fs.writeFileSync(path.join(dir, 'flow.yaml'), `${app()}---\napiVersion: v1\nkind: List\nitems: [${flow.join(', ')}]\n`);
    const json = JSON.parse((await cli([path.join(dir, 'flow.yaml'), '--format', 'json'])).out);
    expect(json.summary).toMatchObject({ objects: 20_003, deployments: 1 });
  });

  test('10,000 levels of nesting (flow, block, JSON): no crash; the rest is audited', async () => {
    const dir = tempDir();
    fs.copyFileSync(path.join(RENDERED, 'shop.yaml'), path.join(dir, 'shop.yaml'));
    fs.writeFileSync(path.join(dir, 'flow.yaml'), `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: flow }\nspec: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`);
    fs.writeFileSync(path.join(dir, 'block.yaml'), `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: block }\nspec:\n${'- '.repeat(10_000)}x\n`);
    fs.writeFileSync(path.join(dir, 'deep.json'), `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "json"}, "spec": ${'{"a": '.repeat(10_000)}1${'}'.repeat(10_000)}}\n`);
    const run = await cli([dir, '--format', 'json']);
    expect(run.err).toBe('');
    const doc = JSON.parse(run.out);
    expect(run.code).toBe(2);
    expect(doc.summary).toMatchObject({ objects: 3, deployments: 1, unparsable: 3 });
    expect(doc.findings.filter((f: any) => f.rule === 'manifest-syntax-error').map((f: any) => [path.basename(f.location.file), f.message])).toEqual(
      ['block.yaml', 'deep.json', 'flow.yaml'].map((file) => [file,
        'cannot be parsed (nested too deeply to read (the parser ran out of stack)); this document is not audited, the rest of the input is']));
    expect(doc.findings.some((f: any) => f.rule === 'prestop-wait-missing')).toBe(true);
  });
});

describe('class 8a: a Service of type LoadBalancer in front of a Deployment is audited like an Ingress', () => {
  const LB = path.join(FIXTURES, 'lb-services.yaml');

  test('AWS NLB (IP targets): D 120 s from #2366; GKE L4: no figure, a minimum wait; Tencent CLB with direct access: 5 s', async () => {
    const run = await cli([LB, '--format', 'json']);
    expect(run.code).toBe(1);
    const doc = JSON.parse(run.out);
    expect(doc.summary.deployments).toBe(4);
    const byObject = (name: string) => doc.findings.filter((f: any) => f.object.name === name).map((f: any) => `${f.severity} ${f.rule}`).sort();
    expect(byObject('api')).toEqual(['error prestop-wait-too-short']); // grace 60 covers the 30 s wait + S as written; the fix raises both
    const tooShort = doc.findings.find((f: any) => f.rule === 'prestop-wait-too-short' && f.object.name === 'api');
    expect(tooShort.fix.budget.deregistrationDelaySeconds).toBe(120);
    expect(tooShort.message).toBe('container api waits 30 s in preStop (exec ["sleep","30"]), shorter than D = 120 s');
    // Node targets on a known cloud: kube-proxy's race, judged against the minimum wait, no unknown-delay warning.
    expect(byObject('web')).toEqual(['error prestop-wait-missing']);
    expect(doc.findings.find((f: any) => f.object.name === 'web').message).toMatch(/every load balancer learns of a deleted pod asynchronously \(Service web of type LoadBalancer: gcp-l4 \(networking\.gke\.io\/load-balancer-type\); it reaches the pods through the nodes/);
    // No known cloud: the minimum wait, and a warning that the exact delay is not known.
    expect(byObject('docs')).toEqual(['warning load-balancer-service-delay-unknown', 'warning prestop-wait-too-short']);
    const unknown = doc.findings.find((f: any) => f.rule === 'load-balancer-service-delay-unknown');
    expect([unknown.object.kind, unknown.message]).toEqual(['Service',
      'the delay of this L4 load balancer is not known (Service docs of type LoadBalancer: an L4 load balancer of unknown make (no vendor annotation or load balancer class); '
      + 'whether it reaches the pods directly or through the nodes, and how late it stops, depend on the cloud), so the preStop wait and grace period of Deployment docs are checked only against a minimum wait of 5 s']);
    expect(byObject('chat')).toEqual([]);
  });

  test('behind an Ingress of a known provider too, the Ingress\'s D rules and the L4 path adds no unknown-delay warning', async () => {
    const file = path.join(tempDir(), 'shop.yaml');
    const text = fs.readFileSync(path.join(FIXTURES, 'two-apps', 'a-shop.yaml'), 'utf8');
    fs.writeFileSync(file, text.replace('  selector: { app: shop }\n', '  type: LoadBalancer\n  selector: { app: shop }\n'));
    const findings = JSON.parse((await cli([file, '--format', 'json'])).out).findings;
    expect(findings.some((f: any) => f.rule === 'load-balancer-service-delay-unknown' || f.rule === 'provider-unknown')).toBe(false);
    expect(findings.find((f: any) => f.rule === 'prestop-wait-missing').fix.budget.deregistrationDelaySeconds).toBe(60); // AWS ALB, ip targets
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

