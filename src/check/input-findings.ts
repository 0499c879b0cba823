/**
 * Findings about the input itself rather than about an object: a document that cannot be parsed,
 * a file that was skipped on purpose. They are reported in every format next to the audit's, so
 * one bad file never blanks the report (issue 16 class 4).
 */
import type { Finding } from './audit';
import { rule } from './rules';
import type { SkippedInput } from '../manifests/inputs';
import type { LoadedObject, ManifestInput, ManifestSyntaxError } from '../manifests/topology';

/** The rule of an unparsable document; any such finding makes `check` exit 2. */
export const MANIFEST_SYNTAX_RULE = 'manifest-syntax-error';
/** The rule of a Helm template that was skipped instead of parsed. */
export const HELM_TEMPLATE_RULE = 'helm-template-skipped';

const NO_OBJECT = { kind: '', namespace: '', name: '' };

/** One finding per unparsable document and per skipped file. */
export function inputFindings(errors: readonly ManifestSyntaxError[], skipped: readonly SkippedInput[]): Finding[] {
  const findings: Finding[] = [];
  for (const error of errors) {
    const reason = error.message.slice(`${error.location.file}:${error.location.line}:${error.location.column}: `.length);
    findings.push({
      rule: MANIFEST_SYNTAX_RULE,
      severity: rule(MANIFEST_SYNTAX_RULE).severity,
      object: NO_OBJECT,
      message: `cannot be parsed (${reason}); this document is not audited, the rest of the input is`,
      fix: { description: 'fix the YAML at this line and column (a template must be rendered first)' },
      location: error.location,
    });
  }
  for (const s of skipped) {
    findings.push({
      rule: HELM_TEMPLATE_RULE,
      severity: rule(HELM_TEMPLATE_RULE).severity,
      object: NO_OBJECT,
      message: s.reason,
      fix: { description: 'check the rendered chart instead: helm template <chart> | check -' },
      location: { file: s.file, line: 1, column: 1 },
    });
  }
  return findings;
}

/** Whether an object is a Kubernetes object at all: a mapping with a kind. */
function isKubernetesObject(o: LoadedObject): boolean {
  return typeof o.object.kind === 'string' && o.object.kind !== '';
}

/**
 * The one-line reason to stop when the whole input holds no Kubernetes object (issue 16 class 7):
 * empty standard input from a failed `helm template`, only empty files or comments. Undefined when
 * there is something to audit, or when parse errors already explain the emptiness.
 */
export function nothingToAudit(
  inputs: readonly ManifestInput[], objects: readonly LoadedObject[], errors: readonly unknown[], skipped: readonly SkippedInput[],
): string | undefined {
  if (errors.length > 0 || objects.some(isKubernetesObject)) return undefined;
  const blank = inputs.every((i) => i.text.trim() === '');
  const what = inputs.length === 1 && inputs[0].file === '<stdin>'
    ? `standard input ${blank ? 'is empty' : 'holds no object with a kind'} (did the command that renders the manifests fail?)`
    : inputs.length === 0 ? 'nothing was read'
      : `${inputs.length === 1 ? inputs[0].file : `the ${inputs.length} files read`} ${blank ? `${inputs.length === 1 ? 'is' : 'are'} empty` : 'hold no object with a kind'}`;
  const templates = skipped.length > 0 ? `; ${skipped.length} Helm template${skipped.length === 1 ? ' was' : 's were'} skipped: render the chart with \`helm template\` first` : '';
  return `no Kubernetes objects in the input: ${what}${templates}`;
}
