/**
 * A cdk8s validation plugin running the `check` rules on every `cdk8s synth`, for any cdk8s app.
 *
 * cdk8s-cli loads a plugin named in `cdk8s.yaml` under `validations:` by requiring `package`
 * (an npm package's main module, or a local path starting with `./` or `/`), instantiating
 * `class` with `properties`, and calling `validate(context)`. This package's main module is the
 * jsii library, so the plugin is loaded by path:
 *
 * ```yaml
 * validations:
 *   - package: ./node_modules/cdk8s-graceful-web-service/lib/check/cdk8s-plugin.js
 *     version: 0.0.0   # any fixed version (no range); cdk8s only prints it in the report
 *     class: GracefulShutdownValidation
 *     properties:
 *       provider: alibaba-alb        # optional, settles class alb
 *       deregistrationDelay: 10      # optional, D in seconds
 *       drainTimeout: 30             # optional, S in seconds where no annotation says
 *       failOn: error                # optional: error (default), warning, info or none
 * ```
 *
 * This file is not exported from the package root (it is not part of the jsii API), and it does
 * not import cdk8s-cli: the structural types below are the part of cdk8s-cli's plugin contract
 * (`cdk8s-cli/plugins`) it uses; test/check/cdk8s-plugin.test.ts checks them against the real ones.
 */
import * as fs from 'node:fs';
import { audit, CheckOptions, Finding } from './audit';
import { FailOn, summarize } from './report';
import { rule, SEVERITIES } from './rules';
import { loadManifests, PROVIDER_IDS, ProviderId } from '../manifests/topology';

/** The part of cdk8s-cli's `ValidationContext` the plugin uses. */
export interface PluginValidationContext {
  readonly manifests: readonly string[];
  readonly report: {
    addViolation(violation: {
      readonly ruleName: string;
      readonly recommendation: string;
      readonly fix: string;
      readonly violatingResources: readonly { readonly resourceName: string; readonly locations: readonly string[]; readonly manifestPath: string }[];
    }): void;
    submit(status: 'success' | 'failure', metadata?: { readonly [key: string]: string }): void;
  };
  readonly logger: { log(message: string): void };
}

/** `properties` of the plugin in cdk8s.yaml. */
export interface GracefulShutdownValidationProps {
  /**
   * One of alibaba-alb, tencent-clb, aws-alb, gke-ingress: the provider of Ingresses whose class
   * does not tell (class alb without vendor keys, a missing or unknown class).
   * @default - detected per Ingress
   */
  readonly provider?: string;
  /** D in seconds. @default - the Deployment's annotation, else the provider's default */
  readonly deregistrationDelay?: number;
  /** S in seconds where the Deployment has no drain-timeout annotation. @default 30 */
  readonly drainTimeout?: number;
  /** The lowest severity that fails the synth: error, warning, info or none. @default "error" */
  readonly failOn?: string;
}

function seconds(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new Error(`GracefulShutdownValidation: properties.${name} must be a number of seconds >= 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** The validation plugin class named in cdk8s.yaml. */
export class GracefulShutdownValidation {
  private readonly options: CheckOptions;
  private readonly failOn: FailOn;

  public constructor(props: GracefulShutdownValidationProps = {}) {
    const known = ['provider', 'deregistrationDelay', 'drainTimeout', 'failOn'];
    const unknown = Object.keys(props ?? {}).filter((key) => !known.includes(key));
    if (unknown.length > 0) {
      throw new Error(`GracefulShutdownValidation: unknown properties ${unknown.join(', ')} (known: ${known.join(', ')})`);
    }
    if (props.provider !== undefined && !(PROVIDER_IDS as readonly string[]).includes(props.provider)) {
      throw new Error(`GracefulShutdownValidation: properties.provider must be one of ${PROVIDER_IDS.join(', ')}, got ${JSON.stringify(props.provider)}`);
    }
    const failOn = props.failOn ?? 'error';
    if (![...SEVERITIES, 'none'].includes(failOn)) {
      throw new Error(`GracefulShutdownValidation: properties.failOn must be one of ${[...SEVERITIES, 'none'].join(', ')}, got ${JSON.stringify(failOn)}`);
    }
    this.failOn = failOn as FailOn;
    this.options = {
      provider: props.provider as ProviderId | undefined,
      deregistrationDelaySeconds: seconds('deregistrationDelay', props.deregistrationDelay),
      drainTimeoutSeconds: seconds('drainTimeout', props.drainTimeout),
      // Fix texts name these properties, not the CLI's flags (which cannot be set in cdk8s.yaml).
      settingsOf: 'cdk8s-plugin',
    };
  }

  public async validate(context: PluginValidationContext): Promise<void> {
    const inputs = context.manifests.map((file) => ({ file, text: fs.readFileSync(file, 'utf8') }));
    const result = audit(loadManifests(inputs), this.options);
    for (const finding of result.findings) {
      context.report.addViolation({
        ruleName: `[${finding.severity}] ${finding.rule}: ${rule(finding.rule).title}`,
        recommendation: finding.message,
        fix: describeFix(finding),
        violatingResources: [{
          resourceName: finding.object.name,
          manifestPath: finding.location.file,
          locations: [`${finding.object.kind} ${finding.object.namespace ? `${finding.object.namespace}/` : ''}${finding.object.name} `
            + `(line ${finding.location.line})`],
        }],
      });
    }
    const summary = summarize(result, this.failOn);
    context.report.submit(summary.failed ? 'failure' : 'success', {
      deployments: String(summary.deployments),
      errors: String(summary.errors),
      warnings: String(summary.warnings),
      failOn: summary.failOn,
    });
  }
}

function describeFix(finding: Finding): string {
  const set = finding.fix.set === undefined ? ''
    : ` (${Object.entries(finding.fix.set).map(([field, value]) => `${field}: ${JSON.stringify(value)}`).join('; ')})`;
  return `${finding.fix.description}${set}`;
}
