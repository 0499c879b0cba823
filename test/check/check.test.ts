import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration } from 'cdk8s';
import * as fc from 'fast-check';
import { stringify } from 'yaml';
import { AwsAlbCheckoutChart } from '../../examples/aws-alb-checkout';
import { GkeStorefrontChart } from '../../examples/gke-storefront';
import { ShutdownBudget } from '../../src';
import { audit, CheckOptions, Finding } from '../../src/check/audit';
import { preStopWait, sleepSeconds } from '../../src/check/prestop-wait';
import { toSarif } from '../../src/check/report';
import { renderRulesMarkdown, RULES } from '../../src/check/rules';
import { runCheck } from '../../src/cli/check-command';
import { buildProgram, main } from '../../src/cli/gws';
import { KubeObject, loadManifests } from '../../src/manifests/topology';
import { synthAllExamples } from '../util';

const FIXTURES = path.join(__dirname, 'fixtures');
const TEA = path.join(FIXTURES, 'alibaba-alb-tea.yaml');
const MEETING = path.join(FIXTURES, 'tencent-clb-meeting.yaml');
const REPO = path.join(__dirname, '..', '..');

const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** A fresh temporary directory, removed after the tests. */
function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

function load(file: string): KubeObject[] {
  return loadManifests([{ file, text: fs.readFileSync(file, 'utf8') }]).map((o) => o.object);
}

function toYaml(objects: KubeObject[]): string {
  return objects.map((o) => stringify(o)).join('---\n');
}

function auditObjects(objects: KubeObject[], options: CheckOptions = {}): Finding[] {
  return audit(loadManifests([{ file: 'broken.yaml', text: toYaml(objects) }]), options).findings;
}

function errors(findings: Finding[]): string[] {
  return findings.filter((f) => f.severity === 'error').map((f) => f.rule);
}

function kind(objects: KubeObject[], k: string): KubeObject {
  return objects.find((o) => o.kind === k)!;
}

/** Runs `gws check` in-process; returns the exit code and what it printed. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const previous = process.exitCode;
  process.exitCode = 0;
  const io = { out: (t: string) => { out += t; }, err: (t: string) => { err += t; } };
  try {
    expect(buildProgram(io).commands.map((c) => c.name())).toContain('check');
    await main(['node', 'gws', 'check', ...args], io);
    return { code: Number(process.exitCode ?? 0), out, err };
  } finally {
    process.exitCode = previous;
  }
}

describe('recognising the preStop wait', () => {
  const exec = (command: unknown[]) => ({ lifecycle: { preStop: { exec: { command } } } });
  test.each([
    ['["sleep", "10"]', exec(['sleep', '10']), 10, false],
    ['["sleep", "5s"]', exec(['sleep', '5s']), 5, false],
    ['["/bin/sleep", "1m"]', exec(['/bin/sleep', '1m']), 60, false],
    ['sh -c "sleep 10"', exec(['sh', '-c', 'sleep 10']), 10, false],
    ['/bin/sh -c "sleep 5s"', exec(['/bin/sh', '-c', 'sleep 5s']), 5, false],
    ['bash -c with two sleeps', exec(['bash', '-c', 'sleep 5; sleep 1m 5s']), 70, false],
    ['a script: sleep, then a command', exec(['sh', '-c', 'sleep 15\nnginx -s quit']), 15, true],
    ['our wrapper with a command', exec(['/bin/sh', '-c', '"$@"; sleep 12', 'prestop', '/app/flush', '--all']), 12, true],
    ['a backgrounded sleep does not wait', exec(['sh', '-c', 'sleep 10 &']), 0, false],
    ['a sleep after || may not run', exec(['sh', '-c', 'curl -fs localhost/drain || sleep 10']), 0, true],
    ['a sleep after a command && may not run', exec(['sh', '-c', 'curl -fs localhost/drain && sleep 10']), 0, true],
    ['sleep with a variable', exec(['sh', '-c', 'sleep $DELAY']), 0, true],
    ['a command without a wait', exec(['/usr/sbin/nginx', '-s', 'quit']), 0, true],
    ['the native sleep action', { lifecycle: { preStop: { sleep: { seconds: 20 } } } }, 20, false],
    ['an HTTP call', { lifecycle: { preStop: { httpGet: { path: '/drain', port: 8080 } } } }, 0, true],
    ['no hook', {}, 0, false],
  ])('%s', (_name, container, seconds, runsUnknown) => {
    const wait = preStopWait(container);
    expect(wait.seconds).toBe(seconds);
    expect(wait.runsUnknown).toBe(runsUnknown);
  });

  test('sleep arguments: whole and fractional numbers with s/m/h/d add up', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 10_000 }), fc.constantFrom('', 's', 'm', 'h', 'd')), { minLength: 1, maxLength: 4 }),
      (parts) => {
        const factor: { [u: string]: number } = { '': 1, 's': 1, 'm': 60, 'h': 3600, 'd': 86400 };
        expect(sleepSeconds(parts.map(([n, u]) => `${n}${u}`))).toBe(parts.reduce((sum, [n, u]) => sum + n * factor[u], 0));
      }));
    expect(sleepSeconds(['1.5'])).toBe(1.5);
    expect(sleepSeconds(['infinity'])).toBeUndefined();
    expect(sleepSeconds([])).toBeUndefined();
  });
});

describe('the vendors\' own manifests pass', () => {
  test('Alibaba\'s tea Deployment (sh -c "sleep 10", grace 45, NodePort, class alb): no errors; the ambiguous alb class is said, and the wait judged under each candidate', () => {
    const findings = runCheck([TEA], {}).findings;
    expect(errors(findings)).toEqual([]);
    expect(findings.map((f) => f.rule).sort()).toEqual(['pdb-missing', 'prestop-wait-too-short', 'provider-unknown', 'readiness-probe-missing']);
    // 10 s covers Alibaba ALB but not the AWS Load Balancer Controller: a warning naming AWS only.
    const short = findings.find((f) => f.rule === 'prestop-wait-too-short')!;
    expect(short.severity).toBe('warning');
    expect(short.message).toMatch(/^under aws-alb \(the provider cannot be told\)/);
    expect(short.fix.description).toMatch(/^under aws-alb: wait \d+ s in preStop/);
    expect(findings.find((f) => f.rule === 'provider-unknown')!.fix.description).toMatch(/--provider alibaba-alb or --provider aws-alb/);
  });

  test('Alibaba\'s tea Deployment with --provider alibaba-alb: the wait and grace are checked and pass', () => {
    const findings = runCheck([TEA], { provider: 'alibaba-alb' }).findings;
    expect(errors(findings)).toEqual([]);
    expect(findings.map((f) => f.rule)).not.toContain('provider-unknown');
  });

  test('Tencent\'s direct-access Ingress with grace shutdown (["sleep", "5s"], grace 60): no errors', () => {
    const findings = runCheck([MEETING], {}).findings;
    expect(errors(findings)).toEqual([]);
    // Tencent's sleep 5 equals D = 5: no error, but no room for a late CLB either.
    expect(findings.map((f) => f.rule)).toEqual(['pdb-missing', 'prestop-wait-no-headroom']);
  });

  test('every manifest `npm run examples` writes passes without any finding', () => {
    const outdir = tempDir('gws-check-examples-');
    // The same charts examples/synth.ts writes.
    synthAllExamples(outdir);
    expect(fs.readFileSync(path.join(REPO, 'examples', 'synth.ts'), 'utf8').match(/new \w+Chart\(/g)).toHaveLength(6);
    const result = runCheck([outdir], {});
    expect(result.deployments).toBe(6);
    expect(result.findings).toEqual([]);
    // The same with the provider named, and when the examples' own annotations give S.
    expect(runCheck([path.join(outdir, 'alibaba-alb-tea.k8s.yaml')], { provider: 'alibaba-alb', drainTimeoutSeconds: 300 }).findings).toEqual([]);
  });
});

describe('hand-broken variants fail with the right rule', () => {
  const tea = () => load(TEA);
  const meeting = () => load(MEETING);
  const teaContainer = (objects: KubeObject[]) => kind(objects, 'Deployment').spec.template.spec.containers[0];
  const alibaba: CheckOptions = { provider: 'alibaba-alb' };

  const cases: Array<[string, string, () => KubeObject[], CheckOptions]> = [
    ['prestop-wait-missing', 'no preStop', () => {
      const o = tea(); delete teaContainer(o).lifecycle; return o;
    }, alibaba],
    ['prestop-wait-too-short', 'sleep 3 < D = 10', () => {
      const o = tea(); teaContainer(o).lifecycle.preStop.exec.command = ['sh', '-c', 'sleep 3']; return o;
    }, alibaba],
    ['prestop-wait-too-short', 'an app that does not drain needs D + S', () => {
      const o = tea();
      kind(o, 'Deployment').metadata.annotations = { 'graceful-web-service.cdk8s.io/drains-on-sigterm': 'false' };
      return o;
    }, alibaba],
    ['prestop-wait-no-headroom', 'sleep 10 = D: a tie with the ALB (the vendor\'s own tea)', () => tea(), alibaba],
    ['prestop-wait-unrecognised', 'an HTTP preStop', () => {
      const o = tea(); teaContainer(o).lifecycle.preStop = { httpGet: { path: '/drain', port: 80 } }; return o;
    }, alibaba],
    ['grace-period-too-short', 'grace 20 < 10 + 30', () => {
      const o = tea(); kind(o, 'Deployment').spec.template.spec.terminationGracePeriodSeconds = 20; return o;
    }, alibaba],
    ['sleep-action-exceeds-grace', 'native sleep 50 > grace 45', () => {
      const o = tea(); teaContainer(o).lifecycle.preStop = { sleep: { seconds: 50 } }; return o;
    }, alibaba],
    ['recreate-strategy', 'Recreate', () => {
      const o = tea(); kind(o, 'Deployment').spec.strategy = { type: 'Recreate' }; return o;
    }, alibaba],
    ['max-unavailable-drops-capacity', 'maxUnavailable 100%', () => {
      const o = tea(); kind(o, 'Deployment').spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '100%' } }; return o;
    }, alibaba],
    ['alb-readiness-gate-without-direct-access', 'Alibaba gate on NodePort', () => {
      const o = tea(); kind(o, 'Deployment').spec.template.spec.readinessGates = [{ conditionType: 'target-health.alb.k8s.alibabacloud' }]; return o;
    }, {}],
    ['alb-readiness-gate-without-direct-access', 'AWS gate with instance targets', () => {
      const o = tea();
      kind(o, 'Deployment').spec.template.spec.readinessGates = [{ conditionType: 'target-health.elbv2.k8s.aws/k8s-default-tea-0123456789' }];
      kind(o, 'Ingress').metadata.annotations = { 'alb.ingress.kubernetes.io/target-type': 'instance' };
      teaContainer(o).lifecycle.preStop.exec.command = ['sh', '-c', 'sleep 30'];
      kind(o, 'Deployment').spec.template.spec.terminationGracePeriodSeconds = 70;
      return o;
    }, {}],
    ['alibaba-connection-drain-too-short', 'ALB connection drain 10 s < S = 30', () => {
      const o = tea();
      kind(o, 'Ingress').metadata.annotations = {
        'alb.ingress.kubernetes.io/connection-drain-enabled': 'true',
        'alb.ingress.kubernetes.io/connection-drain-timeout': '10',
      };
      return o;
    }, {}],
    ['health-check-mismatch', 'ALB checks /healthz, the probe /', () => {
      const o = tea();
      teaContainer(o).readinessProbe = { httpGet: { path: '/', port: 80 } };
      kind(o, 'Ingress').metadata.annotations = { 'alb.ingress.kubernetes.io/healthcheck-enabled': 'true', 'alb.ingress.kubernetes.io/healthcheck-path': '/healthz' };
      return o;
    }, {}],
    ['tencent-grace-shutdown-without-direct-access', 'grace shutdown without direct access', () => {
      const o = meeting(); delete kind(o, 'Ingress').metadata.annotations['ingress.cloud.tencent.com/direct-access']; return o;
    }, {}],
    ['aws-deregistration-delay-too-short', 'deregistration_delay 10 < D + S', () => {
      const o = tea();
      kind(o, 'Ingress').metadata.annotations = { 'alb.ingress.kubernetes.io/target-group-attributes': 'deregistration_delay.timeout_seconds=10,slow_start.duration_seconds=30' };
      return o;
    }, { deregistrationDelaySeconds: 10 }],
    ['gke-draining-timeout-too-short', 'BackendConfig drainingTimeoutSec 10 < S = 30', () => {
      const o = tea();
      kind(o, 'Ingress').spec = { ...kind(o, 'Ingress').spec, ingressClassName: undefined };
      kind(o, 'Ingress').metadata.annotations = { 'kubernetes.io/ingress.class': 'gce' };
      kind(o, 'Service').metadata.annotations = { 'cloud.google.com/backend-config': '{"default": "tea"}' };
      o.push({ apiVersion: 'cloud.google.com/v1', kind: 'BackendConfig', metadata: { name: 'tea' }, spec: { connectionDraining: { drainingTimeoutSec: 10 } } });
      return o;
    }, { deregistrationDelaySeconds: 10 }],
    ['gke-gateway-no-connection-draining', 'HTTPRoute on GKE, no GCPBackendPolicy', () => {
      const o = tea().filter((x) => x.kind !== 'Ingress');
      const service = kind(o, 'Service');
      const backendRefs = [{ name: service.metadata.name, port: service.spec.ports[0].port }];
      const route = { parentRefs: [{ name: 'g' }], rules: [{ backendRefs }] };
      o.push({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'tea' }, spec: route });
      const targetRef = { group: '', kind: 'Service', name: service.metadata.name };
      o.push({ apiVersion: 'networking.gke.io/v1', kind: 'HealthCheckPolicy', metadata: { name: 'tea' }, spec: { targetRef } });
      return o;
    }, { deregistrationDelaySeconds: 10 }],
    ['ingress-class-conflict', 'class annotation and spec that differ', () => {
      const o = tea(); kind(o, 'Ingress').metadata.annotations = { 'kubernetes.io/ingress.class': 'nginx' }; return o;
    }, alibaba],
    ['pdb-missing', 'three replicas, no PDB', tea, alibaba],
    ['readiness-probe-missing', 'no readiness probe', () => {
      const o = meeting(); delete kind(o, 'Deployment').spec.template.spec.containers[0].readinessProbe; return o;
    }, {}],
    ['pdb-blocks-drain', 'PDB minAvailable = replicas', () => {
      const o = tea();
      o.push({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'tea' }, spec: { minAvailable: 3, selector: { matchLabels: { app: 'tea' } } } });
      return o;
    }, alibaba],
    ['pdb-blocks-drain', 'PDB maxUnavailable 0', () => {
      const o = tea();
      o.push({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'tea' }, spec: { maxUnavailable: 0, selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['tea'] }] } } });
      return o;
    }, alibaba],
    ['progress-deadline-too-short', 'progressDeadlineSeconds 30', () => {
      const o = tea(); kind(o, 'Deployment').spec.progressDeadlineSeconds = 30; return o;
    }, alibaba],
    ['provider-unknown', 'class alb without vendor keys', tea, {}],
    ['broken-reference', 'Ingress backend to a missing Service', () => tea().filter((x) => x.kind !== 'Service'), alibaba],
    ['duplicate-object', 'the Service twice, identically', () => {
      const o = tea(); o.push(JSON.parse(JSON.stringify(kind(o, 'Service')))); return o;
    }, alibaba],
    ['load-balancer-service-delay-unknown', 'a Service of type LoadBalancer of no known cloud, no Ingress', () => {
      const o = tea().filter((x) => x.kind !== 'Ingress'); kind(o, 'Service').spec.type = 'LoadBalancer'; return o;
    }, {}],
  ];
  /** Rules about the input itself, not produced by audit(): test/check/input.test.ts breaks the input for them. */
  const inputRules = ['manifest-syntax-error', 'helm-template-skipped'];

  test.each(cases)('%s: %s', (ruleId, _name, build, options) => {
    const findings = auditObjects(build(), options);
    const hit = findings.find((f) => f.rule === ruleId);
    expect(hit).toBeDefined();
    expect(hit!.severity).toBe(ruleId === 'max-unavailable-drops-capacity' ? 'error' : RULES.find((r) => r.id === ruleId)!.severity);
    expect(hit!.message).not.toBe('');
    expect(hit!.object.name).not.toBe('');
    expect(hit!.fix.description).not.toBe('');
  });

  test('every rule has a hand-broken variant above', () => {
    expect(new Set([...cases.map((c) => c[0]), ...inputRules])).toEqual(new Set(RULES.map((r) => r.id)));
  });

  test('the fix of a wait finding is the budget\'s: sleep D + M, grace D + M + S + M; the wrapper keeps its command', () => {
    const o = load(TEA);
    kind(o, 'Deployment').spec.template.spec.containers[0].lifecycle.preStop.exec.command = ['/bin/sh', '-c', '"$@"; sleep 3', 'prestop', '/app/flush'];
    kind(o, 'Deployment').spec.template.spec.terminationGracePeriodSeconds = 30;
    const findings = auditObjects(o, { provider: 'alibaba-alb', drainTimeoutSeconds: 50 });
    const wait = findings.find((f) => f.rule === 'prestop-wait-too-short')!;
    const reference = ShutdownBudget.derive({ deregistrationDelay: Duration.seconds(10), drainTimeout: Duration.seconds(50) });
    // D = 10, M = 5 (the default for D = 10), S = 50: wait 15, grace 10 + 5 + 50 + 5 = 70.
    expect(reference.preStopSleepSeconds).toBe(15);
    expect(reference.terminationGracePeriodSeconds).toBe(70);
    expect(wait.fix.budget).toMatchObject({
      preStopSleepSeconds: 15, terminationGracePeriodSeconds: 70, drainTimeoutSeconds: 50, safetyMarginSeconds: 5,
    });
    expect(wait.fix.set).toEqual({
      'spec.template.spec.containers[tea].lifecycle.preStop': { exec: { command: ['/bin/sh', '-c', '"$@"; sleep 15', 'prestop', '/app/flush'] } },
      'spec.template.spec.terminationGracePeriodSeconds': 70,
    });
    expect(wait.message).toBe('container tea waits 3 s in preStop (exec ["/bin/sh","-c","\\"$@\\"; sleep 3","prestop","/app/flush"]), shorter than D = 10 s');
  });

  test('the AWS and GKE examples, broken by hand: a target-group deregistration delay and a draining timeout below the budget', () => {
    const outdir = tempDir('gws-check-clouds-');
    const app = new App({ outdir });
    new AwsAlbCheckoutChart(app, 'aws');
    new GkeStorefrontChart(app, 'gke');
    app.synth();
    const aws = load(path.join(outdir, 'aws.k8s.yaml'));
    const attributes = 'alb.ingress.kubernetes.io/target-group-attributes';
    kind(aws, 'Ingress').metadata.annotations[attributes] = 'deregistration_delay.timeout_seconds=30,slow_start.duration_seconds=30';
    const awsFinding = auditObjects(aws).find((f) => f.rule === 'aws-deregistration-delay-too-short')!;
    // D = 60 (AwsAlb.DEFAULT_DEREGISTRATION_DELAY_IP, from the Deployment's annotation), S = 30.
    expect(awsFinding.message).toMatch(/^deregistration_delay\.timeout_seconds is 30, below D \+ S = 60 \+ 30 = 90 s/);
    // The fix is what the construct emits: the grace period, 60 + 15 + 30 + 15 = 120 (M = 25 % of D).
    expect(awsFinding.fix.set).toEqual({ [`metadata.annotations["${attributes}"]`]: 'deregistration_delay.timeout_seconds=120,slow_start.duration_seconds=30' });
    const gke = load(path.join(outdir, 'gke.k8s.yaml'));
    kind(gke, 'BackendConfig').spec.connectionDraining.drainingTimeoutSec = 20;
    const gkeFinding = auditObjects(gke).find((f) => f.rule === 'gke-draining-timeout-too-short')!;
    expect(gkeFinding.object.kind).toBe('BackendConfig');
    expect(gkeFinding.fix.set).toEqual({ 'spec.connectionDraining.drainingTimeoutSec': 30 });
  });

  test('AWS: D defaults to the provider\'s value for the target type (ip 60 s, instance 90 s)', () => {
    const o = load(TEA);
    kind(o, 'Ingress').metadata.annotations = { 'alb.ingress.kubernetes.io/target-type': 'ip' };
    expect(auditObjects(o).find((f) => f.rule === 'prestop-wait-too-short')!.message).toMatch(/shorter than D = 60 s$/);
    kind(o, 'Ingress').metadata.annotations = { 'alb.ingress.kubernetes.io/scheme': 'internal' };
    expect(auditObjects(o).find((f) => f.rule === 'prestop-wait-too-short')!.message).toMatch(/shorter than D = 90 s$/);
  });

  test('D: the flag beats the annotation, which beats the provider default; S: the annotation beats the flag', () => {
    const o = load(TEA);
    kind(o, 'Deployment').metadata.annotations = {
      'graceful-web-service.cdk8s.io/deregistration-delay-seconds': '8',
      'graceful-web-service.cdk8s.io/drain-timeout-seconds': '35',
    };
    kind(o, 'Deployment').spec.template.spec.containers[0].lifecycle.preStop.exec.command = ['sleep', '8'];
    // Annotation D = 8 is met by sleep 8; the grace 45 needs 8 + 35 = 43: fine.
    expect(errors(auditObjects(o, { provider: 'alibaba-alb', drainTimeoutSeconds: 100 }))).toEqual([]);
    // The flag D = 9 wins over the annotation.
    const flagged = auditObjects(o, { provider: 'alibaba-alb', deregistrationDelaySeconds: 9 });
    expect(flagged.find((f) => f.rule === 'prestop-wait-too-short')!.message).toMatch(/shorter than D = 9 s/);
  });

  test('property: the wait and grace rules fire exactly when the model says requests can drop', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 120 }), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 200 }),
      fc.integer({ min: 0, max: 600 }), fc.boolean(),
      (d, s, wait, grace, drains) => {
        const o = load(TEA);
        const dep = kind(o, 'Deployment');
        dep.metadata.annotations = { 'graceful-web-service.cdk8s.io/drains-on-stop-signal': String(drains) };
        dep.spec.template.spec.containers[0].lifecycle.preStop.exec.command = ['sh', '-c', `sleep ${wait}`];
        dep.spec.template.spec.terminationGracePeriodSeconds = grace;
        dep.spec.progressDeadlineSeconds = 100_000;
        const rules = auditObjects(o, { deregistrationDelaySeconds: d, drainTimeoutSeconds: s }).map((f) => f.rule);
        const neededWait = drains ? d : d + s;
        expect(rules.includes('prestop-wait-too-short') || rules.includes('prestop-wait-missing')).toBe(wait < neededWait);
        const margin = Math.max(5, Math.ceil(d / 4));
        expect(rules.includes('prestop-wait-no-headroom')).toBe(wait >= neededWait && wait < neededWait + margin);
        // The grace period is judged against the wait as written (issue 16 class 9): a wait too short
        // for D is the wait rules' finding, whose fix carries the longer grace.
        const neededGrace = drains ? wait + s : wait;
        expect(rules.includes('grace-period-too-short')).toBe(grace < neededGrace);
      }), { numRuns: 200 });
  });
});

describe('the check command', () => {
  test('exit 0 on the vendor manifests, text grouped by object with a summary', async () => {
    const { code, out } = await cli([FIXTURES]);
    expect(code).toBe(0);
    expect(out).toMatch(/alibaba-alb-tea\.yaml:5:1 {2}Deployment tea\n {2}warning pdb-missing: /);
    expect(out).toMatch(/^0 errors, 6 warnings, 0 info in 2 Deployments served through a load balancer \(6 objects read\)$/m);
  });

  test('exit 1 on an error; --fail-on warning fails on warnings; --fail-on none never fails', async () => {
    const broken = load(TEA);
    kind(broken, 'Deployment').spec.template.spec.terminationGracePeriodSeconds = 20;
    const dir = tempDir('gws-check-');
    fs.mkdirSync(path.join(dir, 'nested', 'deeper'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'nested', 'deeper', 'app.yml'), toYaml(broken));
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not: [a manifest');
    expect((await cli([dir, '--provider', 'alibaba-alb'])).code).toBe(1);
    expect((await cli([dir, '--provider', 'alibaba-alb', '--fail-on', 'none'])).code).toBe(0);
    expect((await cli([MEETING])).code).toBe(0);
    expect((await cli([MEETING, '--fail-on', 'warning'])).code).toBe(1);
  });

  test('JSON: the documented stable shape', async () => {
    const { code, out } = await cli([TEA, '--format', 'json', '--provider', 'alibaba-alb', '--drain-timeout', '60']);
    expect(code).toBe(1);
    const json = JSON.parse(out);
    expect(Object.keys(json).sort()).toEqual(['findings', 'summary']);
    expect(json.summary).toEqual({ objects: 3, deployments: 1, errors: 1, warnings: 3, infos: 0, failOn: 'error', failed: true, unparsable: 0 });
    const grace = json.findings.find((f: any) => f.rule === 'grace-period-too-short');
    expect(grace).toEqual({
      rule: 'grace-period-too-short',
      severity: 'error',
      object: { kind: 'Deployment', namespace: '', name: 'tea' },
      message: 'terminationGracePeriodSeconds is 45, shorter than the preStop wait (10 s) + the drain timeout S (60 s) = 70 s: SIGKILL can cut requests still in flight',
      // The fix keeps the margin on both sides: wait D + M = 15, grace 10 + 5 + 60 + 5 = 80.
      fix: {
        description: 'set terminationGracePeriodSeconds to 80',
        set: { 'spec.template.spec.terminationGracePeriodSeconds': 80 },
        budget: {
          deregistrationDelaySeconds: 10,
          drainTimeoutSeconds: 60,
          safetyMarginSeconds: 5,
          drainsOnStopSignal: true,
          preStopSleepSeconds: 15,
          terminationGracePeriodSeconds: 80,
        },
      },
      location: { file: TEA, line: 5, column: 1 },
    });
  });

  test('SARIF 2.1.0 with every rule and file/line/column of each finding', async () => {
    const { out } = await cli([TEA, '--format', 'sarif', '--provider', 'alibaba-alb', '--drain-timeout', '60']);
    const sarif = JSON.parse(out);
    expect(sarif.version).toBe('2.1.0');
    const run = sarif.runs[0];
    expect(run.tool.driver.rules.map((r: any) => r.id)).toEqual(RULES.map((r) => r.id));
    // A file outside the working directory gets a file: URI.
    const outside = {
      ...run.results[0].properties,
      rule: 'pdb-missing',
      severity: 'warning',
      message: 'm',
      location: { file: '/elsewhere/a b.yaml', line: 3, column: 1 },
    };
    expect(toSarif({ findings: [outside], objects: 1, deployments: 1 }, { version: '1.2.3', baseDir: '/work' }))
      .toMatchObject({ runs: [{ results: [{ locations: [{ physicalLocation: { artifactLocation: { uri: 'file:///elsewhere/a%20b.yaml' } } }] }] }] });
    const result = run.results.find((r: any) => r.ruleId === 'grace-period-too-short');
    expect(result.level).toBe('error');
    expect(run.tool.driver.rules[result.ruleIndex].id).toBe('grace-period-too-short');
    expect(result.locations[0].physicalLocation).toEqual({
      artifactLocation: { uri: path.relative(process.cwd(), TEA).split(path.sep).join('/') },
      region: { startLine: 5, startColumn: 1 },
    });
    expect(result.message.text).toMatch(/Fix: set terminationGracePeriodSeconds to 80$/);
    expect(run.results.filter((r: any) => r.level === 'warning').map((r: any) => r.ruleId).sort()).toEqual(['pdb-missing', 'prestop-wait-no-headroom', 'readiness-probe-missing']);
  });

  test('unusable input exits 2 with file, line and column; a missing path or an empty directory too', async () => {
    const dir = tempDir('gws-check-bad-');
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, 'kind: Service\nmetadata:\n  name: a\n  labels: { x: [1, 2 }\n');
    const invalid = await cli([bad]);
    expect(invalid.code).toBe(2);
    // An unparsable document is a finding, printed with the report (issue 16 class 4).
    expect(invalid.out).toMatch(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:4:\\d+\\n  error   manifest-syntax-error: `));
    expect((await cli([path.join(dir, 'missing.yaml')])).err).toMatch(/missing\.yaml: no such file or directory/);
    fs.mkdirSync(path.join(dir, 'empty'));
    expect((await cli([path.join(dir, 'empty')])).code).toBe(2);
    expect((await cli([])).code).toBe(2);
    expect((await cli([TEA, '--drain-timeout', 'soon'])).code).toBe(2);
    expect((await cli([TEA, '--provider', 'azure'])).code).toBe(2);
  });

  test('objects it does not audit are skipped silently; kind: List is read', async () => {
    const list = { apiVersion: 'v1', kind: 'List', items: [...load(MEETING), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }] };
    const file = path.join(tempDir('gws-check-list-'), 'list.json');
    fs.writeFileSync(file, JSON.stringify(list));
    const { code, out } = await cli([file]);
    expect(code).toBe(0);
    expect(out).toMatch(/in 1 Deployment served through a load balancer \(4 objects read\)/);
  });

  test('a real process reads stdin ("-") and exits 1 on an error', () => {
    const broken = load(MEETING);
    delete kind(broken, 'Ingress').metadata.annotations['ingress.cloud.tencent.com/direct-access'];
    const run = spawnSync(process.execPath, ['-r', 'ts-node/register', path.join(REPO, 'src', 'cli', 'gws.ts'), 'check', '-', '--format', 'json'], {
      cwd: REPO,
      input: toYaml(broken),
      encoding: 'utf8',
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', TS_NODE_PROJECT: path.join(REPO, 'tsconfig.dev.json') },
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(1);
    const json = JSON.parse(run.stdout);
    expect(json.findings.map((f: any) => [f.rule, f.location.file])).toContainEqual(['tencent-grace-shutdown-without-direct-access', '<stdin>']);
  });
});

describe('one home for the rules', () => {
  test('docs/rules.md is rendered from src/check/rules.ts and current (npx projen docs:rules)', () => {
    expect(fs.readFileSync(path.join(REPO, 'docs', 'rules.md'), 'utf8')).toBe(renderRulesMarkdown());
  });

  test('every rule has an id, a title, what, why and at least one source', () => {
    for (const r of RULES) {
      expect(r.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect([r.title, r.what, r.why].every((t) => t.length > 10)).toBe(true);
      expect(r.sources.length).toBeGreaterThan(0);
    }
    expect(new Set(RULES.map((r) => r.id)).size).toBe(RULES.length);
  });
});

test('--provider settles only Ingresses whose class does not tell', () => {
  const both = [TEA, MEETING];
  // Tencent's Ingress (class qcloud) stays Tencent: D = 5, so its sleep 5s passes (with no headroom) even with --provider aws-alb.
  const findings = runCheck(both, { provider: 'aws-alb' }).findings;
  expect(findings.filter((f) => f.object.name === 'meeting').map((f) => f.rule)).toEqual(['pdb-missing', 'prestop-wait-no-headroom']);
  // The tea Ingress (class alb, no vendor key) is taken as AWS: D = 90 (instance targets).
  expect(findings.find((f) => f.rule === 'prestop-wait-too-short')!.message).toMatch(/shorter than D = 90 s$/);
});

test('helm template output: "# Source:" comments and leading separators; lines point at each object', () => {
  const [deployment, service, ingress] = fs.readFileSync(TEA, 'utf8').replace(/^#.*\n/gm, '').split(/^---\n/m);
  const rendered = [
    '---\n# Source: tea/templates/service.yaml\n', service,
    '---\n# Source: tea/templates/deployment.yaml\n', deployment,
    '---\n# Source: tea/templates/ingress.yaml\n', ingress,
  ].join('');
  const file = path.join(tempDir('gws-check-helm-'), 'rendered.yaml');
  fs.writeFileSync(file, rendered);
  const result = runCheck([file], { provider: 'alibaba-alb' });
  expect(result.deployments).toBe(1);
  const lines = rendered.split('\n');
  const onDeployment = result.findings.find((f) => f.object.kind === 'Deployment')!;
  expect(lines[onDeployment.location.line - 1]).toBe('apiVersion: apps/v1');
  expect(lines[onDeployment.location.line - 2]).toBe('# Source: tea/templates/deployment.yaml');
});
