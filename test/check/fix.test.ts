import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import * as fc from 'fast-check';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { audit } from '../../src/check/audit';
import { fixManifests } from '../../src/check/fix/engine';
import { strategicMergeDiff } from '../../src/check/fix/kustomize';
import { diffLines, unifiedDiff } from '../../src/check/fix/line-diff';
import { parseFieldPath, resolvePath } from '../../src/check/fix/paths';
import { looksShellLess, preStopEdit } from '../../src/check/fix/prestop';
import { preStopWait } from '../../src/check/prestop-wait';
import { configureCheckCommand } from '../../src/cli/check-command';
import { KubeObject, loadManifests } from '../../src/manifests/topology';
import { synthAllExamples, validateObjects } from '../util';

const FIXTURE = path.join(__dirname, 'fix-fixtures', 'alibaba-web.yaml');

const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-fix-'));
  tempDirs.push(dir);
  return dir;
}

/** A copy of the fixture in a fresh directory. */
function copyFixture(): string {
  const file = path.join(tempDir(), 'app.yaml');
  fs.copyFileSync(FIXTURE, file);
  return file;
}

/** Runs `gws check` in-process with `stdin` as standard input; returns the exit code and what it printed. */
async function cli(args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const previous = process.exitCode;
  process.exitCode = 0;
  const io = { out: (t: string) => { out += t; }, err: (t: string) => { err += t; }, readStdin: () => stdin };
  const program = new Command('gws').exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err });
  configureCheckCommand(program.command('check'), io);
  try {
    await program.parseAsync(['node', 'gws', 'check', ...args]);
    return { code: Number(process.exitCode ?? 0), out, err };
  } catch (e) {
    // As gws's main: unusable input and usage errors exit 2 with one line.
    if (!String((e as { code?: string }).code).startsWith('commander.')) err += `${(e as Error).message}\n`;
    return { code: 2, out, err };
  } finally {
    process.exitCode = previous;
  }
}

function objectsOf(text: string): any[] {
  return loadManifests([{ file: 'x.yaml', text }]).map((o) => o.object);
}

const ALIBABA = ['--provider', 'alibaba-alb'];

describe('check --fix on a plain YAML file', () => {
  test('fixes the errors in place, keeps comments, order and the untouched documents byte for byte', async () => {
    const file = copyFixture();
    const before = fs.readFileSync(file, 'utf8');
    const broken = await cli([file, ...ALIBABA]);
    expect(broken.code).toBe(1);

    const run = await cli(['--fix', file, ...ALIBABA]);
    expect(run.err).toMatch(/^fix: .*prestop-wait-missing/m);
    expect(run.code).toBe(0);
    const after = fs.readFileSync(file, 'utf8');
    expect(after).not.toBe(before);
    // Every comment line and every line of the Service and the Ingress survive unchanged.
    for (const line of before.split('\n').filter((l) => l.includes('#'))) expect(after.split('\n')).toContain(line);
    // The Deployment's document gains its fields and is followed by the new PodDisruptionBudget.
    const services = (t: string) => t.slice(t.indexOf('---\napiVersion: v1\nkind: Service'));
    expect(services(before).length).toBeGreaterThan(100);
    expect(services(after)).toBe(services(before));
    // Key order of the Deployment is kept; the fields it adds come last.
    const keys = (t: string) => Object.keys(parse(t.slice(0, t.indexOf('---'))).spec);
    expect(keys(after).slice(0, keys(before).length)).toEqual(keys(before));

    const pdb = objectsOf(after).find((o) => o.kind === 'PodDisruptionBudget');
    expect(pdb).toEqual({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } } });
    const deployment = objectsOf(after).find((o) => o.kind === 'Deployment')!;
    const pod = deployment.spec.template.spec;
    expect(pod.containers[0].lifecycle.preStop).toEqual({ exec: { command: ['/bin/sh', '-c', 'sleep 25'] } });
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(25 + 30);
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } });

    // The fixed file passes check (no errors) and the Kubernetes schema checks.
    const recheck = await cli([file, ...ALIBABA, '--format', 'json']);
    expect(recheck.code).toBe(0);
    expect(JSON.parse(recheck.out).findings).toEqual([]);
    validateObjects(objectsOf(after));
  });

  test('a second --fix changes nothing: same bytes, same mtime', async () => {
    const file = copyFixture();
    await cli(['--fix', file, ...ALIBABA]);
    const past = new Date(Date.now() - 60_000);
    fs.utimesSync(file, past, past);
    const bytes = fs.readFileSync(file);
    const mtime = fs.statSync(file).mtimeMs;
    const again = await cli(['--fix', file, ...ALIBABA]);
    expect(again.err).toMatch(/^fix: nothing to fix automatically/m);
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
    expect(fs.statSync(file).mtimeMs).toBe(mtime);
  });

  test('--dry-run prints a unified diff that patch(1) applies, and touches no file', async () => {
    const file = copyFixture();
    const past = new Date(Date.now() - 60_000);
    fs.utimesSync(file, past, past);
    const bytes = fs.readFileSync(file);
    const mtime = fs.statSync(file).mtimeMs;
    const dry = await cli(['--fix', '--dry-run', file, ...ALIBABA]);
    expect(dry.code).toBe(1); // the file on disk still has its errors
    expect(dry.out.split('\n').slice(0, 2)).toEqual([`--- ${file}`, `+++ ${file}`]);
    expect(dry.out).toMatch(/^\+ {14}command: \[\/bin\/sh, -c, sleep 25\]$/m);
    expect(dry.err).toMatch(/prestop-wait-missing/); // the report goes to stderr
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
    expect(fs.statSync(file).mtimeMs).toBe(mtime);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['app.yaml']);

    // The diff is the fix: patch(1) applied to a copy gives what --fix writes.
    const copy = path.join(tempDir(), 'copy.yaml');
    fs.copyFileSync(FIXTURE, copy);
    const patched = spawnSync('patch', [copy], { input: dry.out, encoding: 'utf8' });
    expect(patched.stderr).toBe('');
    expect(patched.status).toBe(0);
    await cli(['--fix', file, ...ALIBABA]);
    expect(fs.readFileSync(copy, 'utf8')).toBe(fs.readFileSync(file, 'utf8'));
  });

  test('refuses standard input and JSON in place (exit 2, one line), and fix options without --fix', async () => {
    const stdin = await cli(['--fix', '-'], fs.readFileSync(FIXTURE, 'utf8'));
    expect(stdin.code).toBe(2);
    expect(stdin.err).toMatch(/standard input cannot be fixed in place: use --fix-format kustomize --fix-out <dir>/);
    const json = path.join(tempDir(), 'app.json');
    fs.writeFileSync(json, JSON.stringify(objectsOf(fs.readFileSync(FIXTURE, 'utf8'))[0]));
    expect((await cli(['--fix', json])).err).toMatch(/app\.json: only YAML files are fixed in place/);
    expect((await cli(['--dry-run', FIXTURE])).err).toMatch(/only apply with --fix/);
  });

  test('a finding it cannot fix is named, with the reason, and the file is left as it is', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'app.yaml');
    const text = fs.readFileSync(FIXTURE, 'utf8').replace('image: "nginx:1.27"', 'image: gcr.io/distroless/static:nonroot');
    fs.writeFileSync(file, text);
    const run = await cli(['--fix', file, ...ALIBABA]);
    expect(run.err).toMatch(/left to you: prestop-wait-missing .*looks shell-less.*--prestop-action sleep-action/);
    expect(run.code).toBe(1);
    // With the native sleep action, nothing is needed in the image.
    const native = await cli(['--fix', file, ...ALIBABA, '--prestop-action', 'sleep-action']);
    expect(native.code).toBe(0);
    const pod = objectsOf(fs.readFileSync(file, 'utf8')).find((o) => o.kind === 'Deployment')!.spec.template.spec;
    expect(pod.containers[0].lifecycle.preStop).toEqual({ sleep: { seconds: 25 } });
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(25);
  });
});

describe('the preStop wait --fix writes', () => {
  const container = (preStop?: unknown, image = 'example/web:1') => ({ name: 'web', image, ...(preStop ? { lifecycle: { preStop } } : {}) });
  test.each([
    ['no hook', container(), { path: ['lifecycle', 'preStop'], value: { exec: { command: ['/bin/sh', '-c', 'sleep 25'] } } }],
    ['the native sleep', container({ sleep: { seconds: 5 } }), { path: ['lifecycle', 'preStop', 'sleep', 'seconds'], value: 25 }],
    ['["sleep", "5s"]', container({ exec: { command: ['sleep', '5s'] } }), { path: ['lifecycle', 'preStop', 'exec', 'command'], value: ['sleep', '25'] }],
    ['sh -c "sleep 5"', container({ exec: { command: ['sh', '-c', 'sleep 5'] } }), { path: ['lifecycle', 'preStop', 'exec', 'command'], value: ['sh', '-c', 'sleep 25'] }],
    ['the library\'s wrapper', container({ exec: { command: ['/bin/sh', '-c', '"$@"; sleep 5', 'prestop', '/drain'] } }),
      { path: ['lifecycle', 'preStop', 'exec', 'command'], value: ['/bin/sh', '-c', '"$@"; sleep 25', 'prestop', '/drain'] }],
    ['another command', container({ exec: { command: ['/app/drain', '--quick'] } }),
      { path: ['lifecycle', 'preStop', 'exec', 'command'], value: ['/bin/sh', '-c', '"$@"; sleep 25', 'prestop', '/app/drain', '--quick'] }],
  ])('%s', (_name, c, expected) => {
    const edit = preStopEdit(c, 25, 'exec-sleep');
    expect(edit).toEqual(expected);
    // What it writes is recognised as a wait of at least 25 s.
    const fixed = JSON.parse(JSON.stringify(c));
    const path_ = (edit as { path: string[] }).path;
    let holder: any = fixed;
    for (const key of path_.slice(0, -1)) holder = holder[key] ??= {};
    holder[path_[path_.length - 1]] = (edit as { value: unknown }).value;
    expect(preStopWait(fixed).seconds).toBeGreaterThanOrEqual(25);
  });

  test.each([
    ['no hook', undefined],
    ['["sleep", "5"]', { exec: { command: ['sleep', '5'] } }],
    ['sh -c "sleep 5"', { exec: { command: ['sh', '-c', 'sleep 5'] } }],
    ['another command', { exec: { command: ['/app/drain', '--quick'] } }],
    ['the native sleep', { sleep: { seconds: 5 } }],
  ])('check\'s finding and --fix give one answer: %s', (_name, preStop) => {
    const docs = parseAllDocuments(fs.readFileSync(FIXTURE, 'utf8')).map((d) => d.toJS());
    const deployed = docs.find((d) => d.kind === 'Deployment').spec.template.spec.containers[0];
    if (preStop === undefined) delete deployed.lifecycle; else deployed.lifecycle = { preStop };
    const text = docs.map((d) => stringify(d)).join('---\n');
    const finding = audit(loadManifests([{ file: 'app.yaml', text }]), { provider: 'alibaba-alb' }).findings.find((f) => /^prestop-wait-/.test(f.rule))!;
    const suggested = Object.entries(finding.fix.set ?? {}).find(([key]) => key.endsWith('lifecycle.preStop'))![1];
    const after = fixManifests([{ file: 'app.yaml', text }], { provider: 'alibaba-alb' }).after[0].text;
    const written = parseAllDocuments(after).map((d) => d.toJS()).find((d) => d.kind === 'Deployment').spec.template.spec.containers[0].lifecycle.preStop;
    expect(suggested).toEqual(written);
  });

  test('an HTTP hook and a shell-less image are left to a person', () => {
    expect(preStopEdit(container({ httpGet: { path: '/drain', port: 80 } }), 25, 'exec-sleep')).toEqual({ manual: expect.stringMatching(/HTTP call.*exactly one action/) });
    expect(preStopEdit(container(undefined, 'gcr.io/distroless/base-debian12'), 25, 'exec-sleep')).toEqual({ manual: expect.stringMatching(/shell-less/) });
    expect(looksShellLess('cgr.dev/chainguard/nginx:latest')).toBe(true);
    expect(looksShellLess('cgr.dev/chainguard/nginx:latest-dev')).toBe(false);
    expect(looksShellLess('nginx:1.27')).toBe(false);
  });
});

describe('field paths of a fix', () => {
  test('container by name, annotation keys with dots, list elements by a field', () => {
    const object = { spec: { template: { spec: { containers: [{ name: 'side' }, { name: 'web' }] } } }, x: { list: [{ key: 'a.b', value: '1' }] } };
    expect(resolvePath(object, parseFieldPath('spec.template.spec.containers[web].lifecycle')!)).toEqual(['spec', 'template', 'spec', 'containers', 1, 'lifecycle']);
    expect(resolvePath({}, parseFieldPath('metadata.annotations["alb.ingress.kubernetes.io/x"]')!)).toEqual(['metadata', 'annotations', 'alb.ingress.kubernetes.io/x']);
    expect(resolvePath(object, parseFieldPath('x.list[key=a.b].value')!)).toEqual(['x', 'list', 0, 'value']);
    expect(resolvePath(object, parseFieldPath('x.list[].value')!)).toBeUndefined();
    expect(resolvePath(object, parseFieldPath('spec.template.spec.containers[nope]')!)).toBeUndefined();
  });
});

describe('line diffs', () => {
  test('the edit script rebuilds both sides (property)', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom('a', 'b', 'c')), fc.array(fc.constantFrom('a', 'b', 'c')), (a, b) => {
      const ops = diffLines(a, b);
      expect(ops.filter((o) => o.op !== '+').map((o) => a[o.a])).toEqual(a);
      expect(ops.filter((o) => o.op !== '-').map((o) => (o.op === '=' ? a[o.a] : b[o.b]))).toEqual(b);
      expect(ops.filter((o) => o.op === '=').every((o) => a[o.a] === b[o.b])).toBe(true);
    }), { numRuns: 500 });
  });

  test('patch(1) applies the unified diff of random texts', () => {
    const dir = tempDir();
    fc.assert(fc.property(fc.array(fc.constantFrom('x', 'y', 'z', ''), { maxLength: 30 }), fc.array(fc.constantFrom('x', 'y', 'w'), { maxLength: 30 }), (a, b) => {
      const textA = a.join('\n') + '\n';
      const textB = b.join('\n') + '\n';
      const file = path.join(dir, 'f.txt');
      fs.writeFileSync(file, textA);
      const diff = unifiedDiff('a/f.txt', 'b/f.txt', textA, textB);
      if (diff === '') return textA === textB;
      const run = spawnSync('patch', ['--quiet', file], { input: diff, encoding: 'utf8' });
      return run.status === 0 && fs.readFileSync(file, 'utf8') === textB;
    }), { numRuns: 60 });
  });
});

/** A Deployment of random shape behind an Alibaba ALB Ingress, as YAML. */
const deploymentArb = fc.record({
  replicas: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
  grace: fc.option(fc.integer({ min: 0, max: 120 }), { nil: undefined }),
  preStop: fc.constantFrom<unknown>(undefined, { exec: { command: ['sleep', '3'] } }, { exec: { command: ['sh', '-c', 'sleep 40'] } },
    { exec: { command: ['/app/drain'] } }, { sleep: { seconds: 2 } }),
  strategy: fc.constantFrom<unknown>(undefined, { type: 'Recreate' }, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '50%', maxSurge: 0 } }),
  deadline: fc.option(fc.integer({ min: 10, max: 900 }), { nil: undefined }),
  delay: fc.integer({ min: 0, max: 90 }),
});

function appYaml(d: { replicas?: number; grace?: number; preStop: unknown; strategy: unknown; deadline?: number; delay: number }): string {
  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', annotations: { 'graceful-web-service.cdk8s.io/deregistration-delay-seconds': String(d.delay) } },
    spec: {
      ...(d.replicas !== undefined ? { replicas: d.replicas } : {}),
      ...(d.strategy !== undefined ? { strategy: d.strategy } : {}),
      ...(d.deadline !== undefined ? { progressDeadlineSeconds: d.deadline } : {}),
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          ...(d.grace !== undefined ? { terminationGracePeriodSeconds: d.grace } : {}),
          containers: [{
            name: 'web',
            image: 'example/web:1',
            ports: [{ containerPort: 8080 }],
            readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
            ...(d.preStop !== undefined ? { lifecycle: { preStop: d.preStop } } : {}),
          }],
        },
      },
    },
  };
  const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } };
  const ingress = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web' },
    spec: { ingressClassName: 'alb', rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
  };
  return [deployment, service, ingress].map((o) => stringify(o)).join('---\n');
}

describe('check --fix on Deployments of every shape (property)', () => {
  test('no error is left, the schema holds, and fixing again changes nothing', () => {
    fc.assert(fc.property(deploymentArb, (d) => {
      const text = appYaml(d);
      const first = fixManifests([{ file: 'app.yaml', text }], { provider: 'alibaba-alb' });
      const errors = first.result.findings.filter((f) => f.severity === 'error').map((f) => `${f.rule}: ${f.message}`);
      expect(errors).toEqual([]);
      validateObjects(objectsOf(first.after[0].text));
      const second = fixManifests(first.after, { provider: 'alibaba-alb' });
      expect(second.after[0].text).toBe(first.after[0].text);
      expect(second.rounds).toBe(0);
    }), { numRuns: 60 });
  });
});

describe('--fix-format kustomize', () => {
  test('strategic-merge diffs: containers by name, removed fields as null, other lists whole', () => {
    expect(strategicMergeDiff(
      { spec: { containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }], minAvailable: 1, list: [1, 2] } },
      { spec: { containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'z' }], list: [1, 3] } },
    )).toEqual({ spec: { containers: [{ name: 'b', image: 'z' }], minAvailable: null, list: [1, 3] } });
    expect(strategicMergeDiff({ a: 1 }, { a: 1 })).toBeUndefined();
  });

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });

  test('patches from standard input, applied by kubectl kustomize, pass check and the schema checks', async () => {
    expect(kubectl.error).toBeUndefined(); // kubectl (with kustomize) is installed by .ci/run
    const out = tempDir();
    const input = fs.readFileSync(FIXTURE, 'utf8');
    const run = await cli(['--fix', '--fix-format', 'kustomize', '--fix-out', out, '-', ...ALIBABA], input);
    expect(run.code).toBe(1); // the input itself is unchanged and still has its errors
    expect(fs.readdirSync(out).sort()).toEqual(['deployment-web.yaml', 'kustomization.yaml', 'poddisruptionbudget-web.yaml', 'post-renderer.sh', 'rendered.yaml']);
    const patch = parse(fs.readFileSync(path.join(out, 'deployment-web.yaml'), 'utf8'));
    expect(patch).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } });
    expect(patch.spec.template.spec.containers).toEqual([{ name: 'web', lifecycle: { preStop: { exec: { command: ['/bin/sh', '-c', 'sleep 25'] } } } }]);

    const built = spawnSync('kubectl', ['kustomize', out], { encoding: 'utf8' });
    expect(built.stderr).toBe('');
    expect(built.status).toBe(0);
    const fixed = parseAllDocuments(built.stdout).map((d) => d.toJS());
    expect(fixed.map((o) => o.kind).sort()).toEqual(['Deployment', 'Ingress', 'PodDisruptionBudget', 'Service']);
    validateObjects(fixed);
    const recheck = await cli(['-', ...ALIBABA], built.stdout);
    expect(recheck.err).toBe('');
    expect(recheck.code).toBe(0);
    expect(audit(loadManifests([{ file: 'k.yaml', text: built.stdout }]), { provider: 'alibaba-alb' }).findings.filter((f) => f.severity === 'error')).toEqual([]);

    // As a Helm post-renderer: the rendered chart on stdin, the patched manifests on stdout.
    const post = spawnSync(path.join(out, 'post-renderer.sh'), [], { input, encoding: 'utf8' });
    expect(post.status).toBe(0);
    expect(post.stdout).toBe(built.stdout);
  });

  test('--dry-run prints the patches and writes nothing', async () => {
    const out = path.join(tempDir(), 'fixes');
    const run = await cli(['--fix', '--dry-run', '--fix-format', 'kustomize', FIXTURE, ...ALIBABA]);
    expect(run.out).toMatch(/^# deployment-web\.yaml$/m);
    expect(run.out).toMatch(/^# kustomization\.yaml$/m);
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('check --fix on the examples and on provider settings', () => {
  function synthExamples(): { dir: string; files: string[] } {
    const dir = tempDir();
    synthAllExamples(dir);
    return { dir, files: fs.readdirSync(dir).map((f) => path.join(dir, f)) };
  }

  test('what this library emits is already fixed: --fix changes no byte of the six examples', () => {
    const { files } = synthExamples();
    expect(files).toHaveLength(6);
    const inputs = files.map((file) => ({ file, text: fs.readFileSync(file, 'utf8') }));
    const outcome = fixManifests(inputs, {});
    expect(outcome.rounds).toBe(0);
    expect(outcome.after.map((a) => a.text)).toEqual(inputs.map((i) => i.text));
  });

  test('annotations, target-group attributes, BackendConfig draining, a blocking PDB and a doubled class are rewritten', () => {
    const { dir } = synthExamples();
    const aws = path.join(dir, 'aws-alb-checkout.k8s.yaml');
    const attributes = 'alb.ingress.kubernetes.io/target-group-attributes';
    const awsText = fs.readFileSync(aws, 'utf8');
    const awsObjects = objectsOf(awsText);
    const ingress = awsObjects.find((o) => o.kind === 'Ingress')!;
    ingress.metadata.annotations[attributes] = 'deregistration_delay.timeout_seconds=30,slow_start.duration_seconds=30';
    ingress.metadata.annotations['kubernetes.io/ingress.class'] = ingress.spec.ingressClassName;
    const pdb = awsObjects.find((o) => o.kind === 'PodDisruptionBudget')!;
    delete pdb.spec.maxUnavailable;
    pdb.spec.minAvailable = '100%';
    fs.writeFileSync(aws, awsObjects.map((o) => stringify(o)).join('---\n'));
    const gke = path.join(dir, 'gke-storefront.k8s.yaml');
    fs.writeFileSync(gke, fs.readFileSync(gke, 'utf8').replace(/drainingTimeoutSec: \d+/, 'drainingTimeoutSec: 20'));

    const inputs = [aws, gke].map((file) => ({ file, text: fs.readFileSync(file, 'utf8') }));
    const broken = audit(loadManifests(inputs), {}).findings.map((f) => f.rule).sort();
    expect(broken).toEqual(['aws-deregistration-delay-too-short', 'gke-draining-timeout-too-short', 'ingress-class-conflict', 'pdb-blocks-drain']);
    const outcome = fixManifests(inputs, {});
    expect(outcome.result.findings).toEqual([]);
    const fixedAws = objectsOf(outcome.after[0].text);
    const fixedIngress = fixedAws.find((o) => o.kind === 'Ingress')!;
    expect(fixedIngress.metadata.annotations[attributes]).toBe('deregistration_delay.timeout_seconds=120,slow_start.duration_seconds=30');
    expect(fixedIngress.metadata.annotations['kubernetes.io/ingress.class']).toBeUndefined();
    expect(fixedAws.find((o) => o.kind === 'PodDisruptionBudget')!.spec).toEqual({ maxUnavailable: 1, selector: pdb.spec.selector });
    expect(objectsOf(outcome.after[1].text).find((o) => o.kind === 'BackendConfig')!.spec.connectionDraining.drainingTimeoutSec).toBe(30);
    validateObjects([...fixedAws, ...objectsOf(outcome.after[1].text)]);
  });

  test('an object inside a kind: List is edited in place, and its new PodDisruptionBudget joins the list', () => {
    const objects = objectsOf(fs.readFileSync(FIXTURE, 'utf8'));
    const text = stringify({ apiVersion: 'v1', kind: 'List', items: objects });
    const outcome = fixManifests([{ file: 'list.yaml', text }], { provider: 'alibaba-alb' });
    expect(outcome.result.findings).toEqual([]);
    const list = parse(outcome.after[0].text);
    expect(list.kind).toBe('List');
    expect(list.items.map((o: KubeObject) => o.kind)).toEqual(['Deployment', 'Service', 'Ingress', 'PodDisruptionBudget']);
  });
});

describe('check --fix on unusual files', () => {
  test('Windows line ends stay Windows line ends, new lines included', () => {
    const text = fs.readFileSync(FIXTURE, 'utf8').replace(/\n/g, '\r\n');
    const outcome = fixManifests([{ file: 'crlf.yaml', text }], { provider: 'alibaba-alb' });
    expect(outcome.rounds).toBeGreaterThan(0);
    expect(outcome.result.findings).toEqual([]);
    expect(outcome.after[0].text.split('\r\n').some((l) => l.includes('sleep 25'))).toBe(true);
    expect(outcome.after[0].text.replace(/\r\n/g, '')).not.toMatch(/\n/);
  });

  test('an edit through a YAML alias is refused with the file named, and nothing is written', () => {
    // A List whose Deployment takes its pod template from an anchor: the edit would change the anchor's other users too.
    const [deployment, service, ingress] = objectsOf(fs.readFileSync(FIXTURE, 'utf8'));
    const template = stringify({ template: deployment.spec.template }).replace(/^template:/, 'template: &pod');
    delete deployment.spec.template;
    const indent = (t: string, n: number) => t.trimEnd().split('\n').map((l) => ' '.repeat(n) + l).join('\n');
    const text = `apiVersion: v1\nkind: List\nx-shared:\n${indent(template, 2)}\nitems:\n`
      + [deployment, service, ingress].map((o) => `  - ${indent(stringify(o), 4).trimStart()}`).join('\n') + '\n';
    const withAlias = text.replace('      replicas: 3\n', '      replicas: 3\n      template: *pod\n');
    expect(objectsOf(withAlias).find((o) => o.kind === 'Deployment')!.spec.template.spec.containers[0].name).toBe('web');
    expect(() => fixManifests([{ file: 'alias.yaml', text: withAlias }], { provider: 'alibaba-alb' }))
      .toThrow(/^alias\.yaml: cannot be edited in place \(.*\); use --fix-format kustomize --fix-out <dir>$/);
  });
});
