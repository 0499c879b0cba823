/**
 * `check --fix`: audit, plan the edits, apply them to the texts in memory, and audit again until
 * nothing more can be fixed (a longer preStop wait may need a longer grace period, which may need a
 * longer progress deadline). Writes nothing: the CLI decides what to do with the texts.
 */
import { CheckInputError } from '../../manifests/inputs';
import { loadManifests, ManifestInput } from '../../manifests/topology';
import { audit, AuditResult, CheckOptions } from '../audit';
import { FixPlanOptions, ManualFix, planFixes } from './plan';
import { editYamlText, LocatedEdits } from './yaml-edit';

export interface FixOutcome {
  /** The inputs as given. */
  readonly before: readonly ManifestInput[];
  /** The inputs with the fixes applied (same files, same order). */
  readonly after: readonly ManifestInput[];
  /** The audit of the fixed texts. */
  readonly result: AuditResult;
  /** The findings left to a person, from the last round. */
  readonly manual: readonly ManualFix[];
  /** How many findings were fixed, by rule (over all rounds). */
  readonly fixed: { readonly [rule: string]: number };
  /** Rounds of audit-and-edit that changed something. */
  readonly rounds: number;
}

const MAX_ROUNDS = 5;

export function fixManifests(inputs: readonly ManifestInput[], options: CheckOptions, planOptions: FixPlanOptions = {}): FixOutcome {
  let texts = inputs.map((i) => i.text);
  const fixed: { [rule: string]: number } = {};
  let rounds = 0;
  for (;;) {
    const current = inputs.map((input, i) => ({ file: input.file, text: texts[i] }));
    const objects = loadManifests(current);
    const result = audit(objects, options);
    const plan = planFixes(result.findings, objects, planOptions);
    if (plan.objects.length === 0 || rounds === MAX_ROUNDS) {
      return { before: inputs, after: current, result, manual: plan.manual, fixed, rounds };
    }
    const byFile = new Map<string, LocatedEdits[]>();
    for (const o of plan.objects) {
      const located = { line: o.target.source.line, column: o.target.source.column, edits: o.edits, added: o.added };
      byFile.set(o.target.source.file, [...(byFile.get(o.target.source.file) ?? []), located]);
    }
    const next = current.map((input) => {
      const located = byFile.get(input.file) ?? [];
      try {
        return editYamlText(input.text, located, input.file);
      } catch (e) {
        throw new CheckInputError(`${input.file}: cannot be edited in place (${(e as Error).message.split('\n')[0]}); use --fix-format kustomize --fix-out <dir>`);
      }
    });
    if (next.every((t, i) => t === texts[i])) {
      // The edits set what is already there: the audit and the plan disagree; stop rather than loop.
      return { before: inputs, after: current, result, manual: plan.manual, fixed, rounds };
    }
    for (const o of plan.objects) for (const r of o.rules) fixed[r] = (fixed[r] ?? 0) + 1;
    texts = next;
    rounds++;
  }
}
