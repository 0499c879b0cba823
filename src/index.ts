// The public API. Internal helpers (validation, preStop emission, health-check resolution, the
// full budget derivation) live in their modules and are imported from there by the construct
// and the CLI; they are not exported here.
export { ShutdownBudget } from './budget';
export type { ShutdownBudgetProps } from './budget';
export * from './load-balancer';
export * from './alibaba-alb';
export * from './tencent-clb';
export * from './aws-alb';
export * from './gke-ingress';
export type { GatewayOptions } from './gateway';
export type { HealthCheckOptions, HealthCheckSettings } from './health-check';
export { PreStopAction } from './prestop';
export { StopSignal } from './stop-signal';
export * from './graceful-web-service';
export { LagMeter } from './lag-meter';
export type { LagMeterProps } from './lag-meter';
