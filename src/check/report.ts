/**
 * `check` output: readable text grouped by object, the documented JSON shape, and SARIF 2.1.0 for
 * code-scanning uploads.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AuditResult, Finding } from './audit';
import { MANIFEST_SYNTAX_RULE } from './input-findings';
import { atLeast, RULES, Severity, SEVERITIES } from './rules';

/** `--fail-on`: the lowest severity that fails the run, or `none`. */
export type FailOn = Severity | 'none';

/** The summary in every format. */
export interface CheckSummary {
  readonly objects: number;
  readonly deployments: number;
  readonly errors: number;
  readonly warnings: number;
  readonly infos: number;
  readonly failOn: FailOn;
  /** Whether something at or above `failOn` was found (exit code 1). */
  readonly failed: boolean;
  /** Documents that could not be parsed (`manifest-syntax-error`): any makes the exit code 2. */
  readonly unparsable: number;
}

/** The JSON document of `--format json` (stable: fields are only ever added). */
export interface CheckJson {
  readonly findings: readonly Finding[];
  readonly summary: CheckSummary;
}

export function summarize(result: AuditResult, failOn: FailOn): CheckSummary {
  const count = (severity: Severity) => result.findings.filter((f) => f.severity === severity).length;
  return {
    objects: result.objects,
    deployments: result.deployments,
    errors: count('error'),
    warnings: count('warning'),
    infos: count('info'),
    failOn,
    failed: failOn !== 'none' && result.findings.some((f) => atLeast(f.severity, failOn)),
    unparsable: result.findings.filter((f) => f.rule === MANIFEST_SYNTAX_RULE).length,
  };
}

export function toJson(result: AuditResult, failOn: FailOn): CheckJson {
  return { findings: result.findings, summary: summarize(result, failOn) };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Text for people: findings grouped by object, each with its fix, then a summary line. */
export function formatText(result: AuditResult, failOn: FailOn): string {
  const lines: string[] = [];
  const groups = new Map<string, Finding[]>();
  for (const finding of result.findings) {
    const o = finding.object;
    const where = `${finding.location.file}:${finding.location.line}:${finding.location.column}`;
    // Findings about the input itself (a parse error, a skipped file) have no object.
    const key = o.kind === '' ? where : `${where}  ${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [finding]); else group.push(finding);
  }
  for (const [heading, findings] of groups) {
    lines.push(heading);
    for (const f of findings) {
      lines.push(`  ${f.severity.padEnd(7)} ${f.rule}: ${f.message}`);
      lines.push(`  ${' '.repeat(7)} fix: ${f.fix.description}`);
    }
    lines.push('');
  }
  const s = summarize(result, failOn);
  const counts = SEVERITIES.map((sev) => plural(result.findings.filter((f) => f.severity === sev).length, sev === 'info' ? 'info' : sev))
    .map((t) => t.replace(/^(\d+) infos$/, '$1 info'));
  if (result.deployments === 0) {
    const these = result.objects === 1 ? 'this object' : `these ${plural(result.objects, 'object')}`;
    lines.push(`No Deployment serves traffic through a load balancer (Ingress, HTTPRoute, Service of type LoadBalancer) in ${these}; nothing to audit.`);
  }
  lines.push(`${counts.join(', ')} in ${plural(result.deployments, 'Deployment')} served through a load balancer `
    + `(${plural(result.objects, 'object')} read)${s.failed ? ` — failing: findings at or above ${failOn}` : ''}`);
  if (s.unparsable > 0) {
    lines.push(`${plural(s.unparsable, 'document')} could not be parsed: unusable input (exit 2)`);
  }
  return lines.join('\n') + '\n';
}

const SARIF_LEVEL: { [severity in Severity]: 'error' | 'warning' | 'note' } = { error: 'error', warning: 'warning', info: 'note' };

/** A URI for a SARIF artifact: relative to `baseDir` with forward slashes where possible. */
function artifactUri(file: string, baseDir: string): string {
  if (file === '-' || file === '<stdin>') return 'stdin';
  const absolute = path.resolve(baseDir, file);
  const relative = path.relative(baseDir, absolute);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return pathToFileURL(absolute).href;
  return relative.split(path.sep).map(encodeURIComponent).join('/');
}

/**
 * SARIF 2.1.0: one run, the tool's rules (from the one rule table), one result per finding with
 * the object's file, line and column, and the fix in the result's properties.
 */
export function toSarif(result: AuditResult, options: { readonly version: string; readonly baseDir?: string }): object {
  const baseDir = options.baseDir ?? process.cwd();
  const index = new Map(RULES.map((r, i) => [r.id, i]));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: {
        driver: {
          name: 'cdk8s-graceful-web-service check',
          semanticVersion: options.version,
          informationUri: 'https://github.com/cdk8s-graceful-web-service/cdk8s-graceful-web-service/blob/main/docs/rules.md',
          rules: RULES.map((r) => ({
            id: r.id,
            name: r.title,
            shortDescription: { text: r.title },
            fullDescription: { text: r.what },
            help: { text: `${r.what} Why: ${r.why} Sources: ${r.sources.join(', ')}` },
            helpUri: `https://github.com/cdk8s-graceful-web-service/cdk8s-graceful-web-service/blob/main/docs/rules.md#${r.id}`,
            defaultConfiguration: { level: SARIF_LEVEL[r.severity] },
          })),
        },
      },
      columnKind: 'unicodeCodePoints',
      results: result.findings.map((f) => ({
        ruleId: f.rule,
        ruleIndex: index.get(f.rule),
        level: SARIF_LEVEL[f.severity],
        message: { text: `${f.message}. Fix: ${f.fix.description}` },
        locations: [{
          physicalLocation: {
            artifactLocation: { uri: artifactUri(f.location.file, baseDir) },
            region: { startLine: f.location.line, startColumn: f.location.column },
          },
          ...(f.object.kind === '' ? {} : {
            logicalLocations: [{
              kind: 'object',
              name: f.object.name,
              fullyQualifiedName: `${f.object.kind}/${f.object.namespace ? `${f.object.namespace}/` : ''}${f.object.name}`,
            }],
          }),
        }],
        partialFingerprints: {
          objectRule: f.object.kind === '' ? `${f.rule}/${artifactUri(f.location.file, baseDir)}` : `${f.rule}/${f.object.kind}/${f.object.namespace}/${f.object.name}`,
        },
        properties: { object: f.object, fix: f.fix },
      })),
    }],
  };
}
