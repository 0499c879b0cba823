import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { audit, CheckOptions, Finding, UNKNOWN_PROVIDER_MINIMUM_WAIT_SECONDS } from '../../src/check/audit';
import { loadManifests } from '../../src/manifests/topology';

// Issue 16 class 3: an unknown or ambiguous provider no longer skips the timing rules.
const DIR = path.join(__dirname, 'class3-fixtures');

function check(name: string, options: CheckOptions = {}, edit?: (text: string) => string): Finding[] {
  const file = path.join(DIR, name);
  const text = fs.readFileSync(file, 'utf8');
  return audit(loadManifests([{ file, text: edit ? edit(text) : text }]), options).findings;
}

/** The same manifest with a preStop sleep of `seconds` on the container. */
function withSleep(seconds: number): (text: string) => string {
  return (text) => text.replace('ports: [{ containerPort: 80 }]',
    `ports: [{ containerPort: 80 }]\n          lifecycle: { preStop: { exec: { command: [sleep, "${seconds}"] } } }`);
}

describe('ambiguous provider (class alb, no vendor-only key)', () => {
  test('no preStop at all drops under every candidate: an error, with the fix for each', () => {
    const missing = check('shop-alb-no-prestop.yaml').filter((f) => f.rule === 'prestop-wait-missing');
    expect(missing).toHaveLength(1);
    expect(missing[0].severity).toBe('error');
    expect(missing[0].message).toMatch(/^under every candidate load balancer/);
    expect(missing[0].fix.description).toMatch(/under alibaba-alb: .*; under aws-alb: .*--provider alibaba-alb or --provider aws-alb/);
  });

  test('a wait enough for one candidate only: a warning naming the other', () => {
    const findings = check('shop-alb-no-prestop.yaml', {}, withSleep(20)).filter((f) => f.rule.startsWith('prestop-wait-'));
    expect(findings.map((f) => [f.rule, f.severity])).toEqual([['prestop-wait-too-short', 'warning']]);
    expect(findings[0].message).toMatch(/^under aws-alb \(the provider cannot be told\)/);
  });

  test('--provider settles it: the single provider\'s verdict, no candidates', () => {
    const findings = check('shop-alb-no-prestop.yaml', { provider: 'aws-alb' });
    expect(findings.some((f) => f.rule === 'provider-unknown')).toBe(false);
    expect(findings.find((f) => f.rule === 'prestop-wait-missing')!.message).not.toMatch(/candidate/);
  });
});

describe('unknown provider (ingress-nginx)', () => {
  test('no wait at all is an error with a conservative minimum wait', () => {
    const missing = check('shop-nginx-no-prestop.yaml').find((f) => f.rule === 'prestop-wait-missing')!;
    expect(missing.severity).toBe('error');
    expect(missing.fix.description).toMatch(new RegExp(`^wait at least ${UNKNOWN_PROVIDER_MINIMUM_WAIT_SECONDS} s in preStop`));
    const hook = Object.entries(missing.fix.set ?? {}).find(([key]) => key.endsWith('lifecycle.preStop'));
    expect(hook).toBeDefined();
  });

  test('a short wait is a warning; a wait of the minimum passes', () => {
    const short = check('shop-nginx-no-prestop.yaml', {}, withSleep(2)).filter((f) => f.rule.startsWith('prestop-wait-'));
    expect(short.map((f) => [f.rule, f.severity])).toEqual([['prestop-wait-too-short', 'warning']]);
    const enough = check('shop-nginx-no-prestop.yaml', {}, withSleep(UNKNOWN_PROVIDER_MINIMUM_WAIT_SECONDS)).filter((f) => f.rule.startsWith('prestop-wait-'));
    expect(enough).toEqual([]);
  });

  test('a command of unknown length (ingress-nginx\'s /wait-shutdown) is a warning whose fix waits the minimum', () => {
    const withCommand = (text: string) => text.replace('ports: [{ containerPort: 80 }]',
      'ports: [{ containerPort: 80 }]\n          lifecycle: { preStop: { exec: { command: [/wait-shutdown] } } }');
    const findings = check('shop-nginx-no-prestop.yaml', {}, withCommand).filter((f) => f.rule.startsWith('prestop-wait-'));
    expect(findings.map((f) => [f.rule, f.severity])).toEqual([['prestop-wait-unrecognised', 'warning']]);
    expect(findings[0].message).toMatch(new RegExp(`at least ${UNKNOWN_PROVIDER_MINIMUM_WAIT_SECONDS} s`));
    const hook = Object.entries(findings[0].fix.set ?? {}).find(([key]) => key.endsWith('lifecycle.preStop'));
    // As --fix writes it: the command still runs (it may drain the server), then a wait of known length.
    expect(hook?.[1]).toEqual({ exec: { command: ['/bin/sh', '-c', `"$@"; sleep ${UNKNOWN_PROVIDER_MINIMUM_WAIT_SECONDS}`, 'prestop', '/wait-shutdown'] } });
  });

  test('the fix texts name where the settings live: CLI flags, or the plugin\'s cdk8s.yaml properties', () => {
    const cli = check('shop-nginx-no-prestop.yaml').find((f) => f.rule === 'prestop-wait-missing')!;
    expect(cli.fix.description).toMatch(/--deregistration-delay/);
    const plugin = check('shop-nginx-no-prestop.yaml', { settingsOf: 'cdk8s-plugin' }).filter((f) => f.rule === 'prestop-wait-missing' || f.rule === 'provider-unknown');
    expect(plugin).toHaveLength(2);
    for (const f of plugin) {
      expect(f.fix.description).toMatch(/cdk8s\.yaml/);
      expect(f.fix.description).not.toMatch(/--/);
    }
  });

  test('the fixture is what it says (no preStop, class nginx)', () => {
    const docs = fs.readFileSync(path.join(DIR, 'shop-nginx-no-prestop.yaml'), 'utf8').split('---\n').map((d) => parse(d));
    expect(docs[0].spec.template.spec.containers[0].lifecycle).toBeUndefined();
    expect(docs[2].spec.ingressClassName).toBe('nginx');
  });
});
