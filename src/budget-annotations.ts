// The annotations that record a budget on its Deployment, in one place for the construct that
// writes them and the CLI commands (rehearse, check) that read them.
import type { ShutdownBudget } from './budget';

/** @internal */
export const BUDGET_ANNOTATION_PREFIX = 'graceful-web-service.cdk8s.io';

/** @internal */
export const DEREGISTRATION_DELAY_ANNOTATION = `${BUDGET_ANNOTATION_PREFIX}/deregistration-delay-seconds`;
/** @internal */
export const DRAIN_TIMEOUT_ANNOTATION = `${BUDGET_ANNOTATION_PREFIX}/drain-timeout-seconds`;
/** @internal */
export const SAFETY_MARGIN_ANNOTATION = `${BUDGET_ANNOTATION_PREFIX}/safety-margin-seconds`;
/**
 * Whether the app drains on the signal the container runtime really sends it (the image's
 * `STOPSIGNAL`, SIGTERM when the image declares none).
 *
 * @internal
 */
export const DRAINS_ON_STOP_SIGNAL_ANNOTATION = `${BUDGET_ANNOTATION_PREFIX}/drains-on-stop-signal`;
/**
 * The stop signal the budget was declared for (`shutdown.stopSignal`); absent when undeclared.
 *
 * @internal
 */
export const STOP_SIGNAL_ANNOTATION = `${BUDGET_ANNOTATION_PREFIX}/stop-signal`;
/**
 * The key written before the rename of `drainsOnSigterm`; readers still accept it.
 *
 * @internal
 */
export const LEGACY_DRAINS_ON_SIGTERM_ANNOTATION = `${BUDGET_ANNOTATION_PREFIX}/drains-on-sigterm`;

/**
 * The budget's inputs, recorded on the Deployment so the YAML explains itself.
 *
 * @internal
 */
export function budgetAnnotations(budget: ShutdownBudget): { [key: string]: string } {
  return {
    [DEREGISTRATION_DELAY_ANNOTATION]: String(budget.deregistrationDelaySeconds),
    [DRAIN_TIMEOUT_ANNOTATION]: String(budget.drainTimeoutSeconds),
    [SAFETY_MARGIN_ANNOTATION]: String(budget.safetyMarginSeconds),
    [DRAINS_ON_STOP_SIGNAL_ANNOTATION]: String(budget.drainsOnStopSignal),
    ...(budget.stopSignal !== undefined ? { [STOP_SIGNAL_ANNOTATION]: budget.stopSignal.name } : {}),
  };
}
