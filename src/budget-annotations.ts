// The annotations that record a budget on its Deployment, in one place for the construct that
// writes them and the `gws` CLI that reads them.
import type { ShutdownBudget } from './budget';

/** @internal */
export const BUDGET_ANNOTATION_PREFIX = 'graceful-web-service.cdk8s.io';

/** @internal */
export const DEREGISTRATION_DELAY_ANNOTATION = `${BUDGET_ANNOTATION_PREFIX}/deregistration-delay-seconds`;

/**
 * The budget's inputs, recorded on the Deployment so the YAML explains itself.
 *
 * @internal
 */
export function budgetAnnotations(budget: ShutdownBudget): { [key: string]: string } {
  return {
    [DEREGISTRATION_DELAY_ANNOTATION]: String(budget.deregistrationDelaySeconds),
    [`${BUDGET_ANNOTATION_PREFIX}/drain-timeout-seconds`]: String(budget.drainTimeoutSeconds),
    [`${BUDGET_ANNOTATION_PREFIX}/safety-margin-seconds`]: String(budget.safetyMarginSeconds),
    [`${BUDGET_ANNOTATION_PREFIX}/drains-on-sigterm`]: String(budget.drainsOnSigterm),
  };
}
