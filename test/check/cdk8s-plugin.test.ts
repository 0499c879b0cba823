// The validation plugin, run by the real cdk8s CLI (cdk8s-cli, a devDependency) on temporary apps.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Validation, ValidationContext } from 'cdk8s-cli/plugins';
import { stringify } from 'yaml';
import { GracefulShutdownValidation, PluginValidationContext } from '../../src/check/cdk8s-plugin';

const REPO = path.join(__dirname, '..', '..');
const CDK8S = path.join(REPO, 'node_modules', 'cdk8s-cli', 'bin', 'cdk8s');

// Compile-time: the plugin is a cdk8s-cli `Validation`, and cdk8s-cli's context is what it expects.
const asValidation: Validation = new GracefulShutdownValidation({});
const contextFits = (context: ValidationContext): PluginValidationContext => context;
void asValidation;
void contextFits;

const made: string[] = [];
afterAll(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** The `validations:` entry the README documents. */
const README_PACKAGE = './node_modules/cdk8s-graceful-web-service/lib/check/cdk8s-plugin.js';

/**
 * The start of a plain cdk8s app (main.js): a Deployment `web` without a preStop wait, with a readiness
 * probe, and its Service; each test adds what routes to it.
 */
const WEB_APP_START = [
  "const { App, Chart, ApiObject } = require('cdk8s');",
  'const app = new App();',
  "const chart = new Chart(app, 'web');",
  "const labels = { app: 'web' };",
  "new ApiObject(chart, 'deployment', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: {",
  '  replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: {',
  "    containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }], readinessProbe: { httpGet: { path: '/', port: 80 } } }] } } } });",
  "new ApiObject(chart, 'service', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: labels, ports: [{ port: 80 }] } });",
];

/**
 * A temporary cdk8s app: `main.js` (run through ts-node, so it can use this repository's
 * sources), a `cdk8s.yaml` with the plugin under `validations:` exactly as the README writes it,
 * and at that path in node_modules a shim over src/ (lib/ may not be built when tests run).
 */
function makeApp(mainSource: string, properties: object): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-cdk8s-app-'));
  made.push(dir);
  fs.writeFileSync(path.join(dir, 'register.js'), [
    `require(${JSON.stringify(path.join(REPO, 'node_modules', 'ts-node'))}).register({`,
    `  transpileOnly: true, project: ${JSON.stringify(path.join(REPO, 'tsconfig.dev.json'))},`,
    '});',
    '',
  ].join('\n'));
  const plugin = path.join(dir, README_PACKAGE);
  fs.mkdirSync(path.dirname(plugin), { recursive: true });
  fs.writeFileSync(plugin, [
    `require(${JSON.stringify(path.join(dir, 'register.js'))});`,
    `module.exports = require(${JSON.stringify(path.join(REPO, 'src', 'check', 'cdk8s-plugin.ts'))});`,
    '',
  ].join('\n'));
  fs.writeFileSync(path.join(dir, 'main.js'), mainSource);
  fs.writeFileSync(path.join(dir, 'cdk8s.yaml'), stringify({
    language: 'typescript',
    app: 'node main.js',
    validations: [{ package: README_PACKAGE, version: '0.0.0', class: 'GracefulShutdownValidation', properties }],
  }));
  return dir;
}

function synth(dir: string): { status: number | null; output: string; reports: any } {
  const reportFile = path.join(dir, 'reports.json');
  const run = spawnSync(process.execPath, [CDK8S, 'synth', '--no-check-upgrade', '--plugins-dir', path.join(dir, '.plugins'),
    '--validation-reports-output-file', reportFile], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, NODE_PATH: path.join(REPO, 'node_modules') },
    timeout: 180_000,
  });
  const output = `${run.stdout}\n${run.stderr}`;
  return { status: run.status, output, reports: fs.existsSync(reportFile) ? JSON.parse(fs.readFileSync(reportFile, 'utf8')) : undefined };
}

describe('the cdk8s validation plugin, run by cdk8s synth', () => {
  test('an app built with GracefulWebService (the Alibaba example) synthesizes and passes', () => {
    const dir = makeApp([
      "require('./register');",
      `const { App } = require(${JSON.stringify(path.join(REPO, 'node_modules', 'cdk8s'))});`,
      `const { AlibabaAlbTeaChart } = require(${JSON.stringify(path.join(REPO, 'examples', 'alibaba-alb-tea.ts'))});`,
      'const app = new App();',
      "new AlibabaAlbTeaChart(app, 'tea');",
      'app.synth();',
      '',
    ].join('\n'), { failOn: 'warning' });
    const result = synth(dir);
    expect(result.output).toMatch(/Validations ended succesfully/);
    expect(result.status).toBe(0);
    expect(fs.existsSync(path.join(dir, 'dist', 'tea.k8s.yaml'))).toBe(true);
    const report = result.reports.reports[0];
    expect(report.summary).toMatchObject({ status: 'success', metadata: { deployments: '1', errors: '0', warnings: '0', failOn: 'warning' } });
    expect(report.violations).toEqual([]);
  });

  test('a plain cdk8s app without a preStop wait fails the synth with the rule, the numbers and the fix', () => {
    const dir = makeApp([
      ...WEB_APP_START,
      "new ApiObject(chart, 'pdb', { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { maxUnavailable: 1, selector: { matchLabels: labels } } });",
      "new ApiObject(chart, 'ingress', { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web-ingress',",
      "  annotations: { 'kubernetes.io/ingress.class': 'qcloud' } }, spec: { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix',",
      "  backend: { service: { name: 'web', port: { number: 80 } } } }] } }] } });",
      'app.synth();',
      '',
    ].join('\n'), { drainTimeout: 30 });
    const result = synth(dir);
    expect(result.status).toBe(2);
    expect(result.output).toMatch(/Validation failed/);
    const report = result.reports.reports[0];
    expect(report.summary).toMatchObject({ status: 'failure', metadata: { deployments: '1', errors: '1', warnings: '0', failOn: 'error' } });
    const names = report.violations.map((v: any) => v.ruleName);
    // As written, grace 30 covers no wait + S 30: the longer grace the wait needs is in the wait's fix, not a second error.
    expect(names).toEqual(['[error] prestop-wait-missing: No preStop wait']);
    const missing = report.violations[0];
    expect(missing.recommendation).toBe('container web has no preStop wait, but the load balancer needs D = 5 s to stop routing to a deleted pod');
    // Tencent CLB: D = 5, S = 30 from the plugin's properties, M = 5: sleep D + M = 10, grace D + M + S + M = 45.
    expect(missing.fix).toMatch(/^wait 10 s in preStop and set terminationGracePeriodSeconds to 45 /);
    expect(missing.violatingConstructs[0]).toMatchObject({ resourceName: 'web', manifestPath: 'dist/web.k8s.yaml', constructPath: expect.stringMatching(/^web\//) });
  });

  test('behind ingress-nginx (provider unknown), no preStop wait still fails the synth, and the fix names cdk8s.yaml properties, not CLI flags', () => {
    const dir = makeApp([
      ...WEB_APP_START,
      "new ApiObject(chart, 'ingress', { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web-ingress' },",
      "  spec: { ingressClassName: 'nginx', rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix',",
      "  backend: { service: { name: 'web', port: { number: 80 } } } }] } }] } });",
      'app.synth();',
      '',
    ].join('\n'), {});
    const result = synth(dir);
    expect(result.status).toBe(2);
    const report = result.reports.reports[0];
    const missing = report.violations.find((v: any) => v.ruleName.startsWith('[error] prestop-wait-missing'));
    expect(missing).toBeDefined();
    expect(missing.fix).toMatch(/^wait at least 5 s in preStop/);
    const fixes = report.violations.map((v: any) => String(v.fix)).filter((f: string) => /provider|deregistration/i.test(f));
    expect(fixes.length).toBeGreaterThan(0);
    for (const fix of fixes) {
      expect(fix).toMatch(/cdk8s\.yaml/);
      expect(fix).not.toMatch(/--provider|--deregistration-delay/);
    }
  });

  test('bad properties stop the synth with the property named', () => {
    const dir = makeApp("const { App } = require('cdk8s'); new App().synth();\n", { provider: 'azure' });
    const result = synth(dir);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/properties\.provider must be one of alibaba-alb, tencent-clb, aws-alb, gke-ingress, got "azure"/);
  });
});

test('the README documents the same validations: entry the tests use', () => {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  expect(readme).toContain(`  - package: ${README_PACKAGE}\n    version: 0.0.0\n    class: GracefulShutdownValidation\n`);
});
