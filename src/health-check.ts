import { Duration } from 'cdk8s';
import { validateHttpPath, validatePositiveInteger, wholeSeconds } from './validation';

/**
 * The health check shared by the container's readiness probe and the load balancer, so the
 * LB sees what Kubernetes sees.
 */
export interface HealthCheckOptions {
  /**
   * Time between two checks.
   *
   * @default Duration.seconds(5)
   */
  readonly interval?: Duration;

  /**
   * How long one check may take.
   *
   * @default Duration.seconds(2)
   */
  readonly timeout?: Duration;

  /**
   * Consecutive successes before a backend counts as healthy.
   *
   * @default 2
   */
  readonly healthyThreshold?: number;

  /**
   * Consecutive failures before a backend counts as unhealthy.
   *
   * @default 3
   */
  readonly unhealthyThreshold?: number;
}

/**
 * A resolved health check, in whole seconds, as handed to load balancers.
 */
export interface HealthCheckSettings {
  /** The HTTP path checked. */
  readonly path: string;
  /** The port checked. */
  readonly port: number;
  /** Seconds between checks. */
  readonly intervalSeconds: number;
  /** Seconds one check may take. */
  readonly timeoutSeconds: number;
  /** Consecutive successes before healthy. */
  readonly healthyThreshold: number;
  /** Consecutive failures before unhealthy. */
  readonly unhealthyThreshold: number;
}

/**
 * Resolves and validates health-check options.
 *
 * @internal
 */
export function resolveHealthCheck(path: string, port: number, options: HealthCheckOptions = {}): HealthCheckSettings {
  validateHttpPath('healthCheckPath', path);
  const intervalSeconds = wholeSeconds('healthCheck.interval', options.interval, 5);
  const timeoutSeconds = wholeSeconds('healthCheck.timeout', options.timeout, 2);
  validatePositiveInteger('healthCheck.interval (seconds)', intervalSeconds);
  validatePositiveInteger('healthCheck.timeout (seconds)', timeoutSeconds);
  const healthyThreshold = options.healthyThreshold ?? 2;
  const unhealthyThreshold = options.unhealthyThreshold ?? 3;
  validatePositiveInteger('healthCheck.healthyThreshold', healthyThreshold);
  validatePositiveInteger('healthCheck.unhealthyThreshold', unhealthyThreshold);
  return { path, port, intervalSeconds, timeoutSeconds, healthyThreshold, unhealthyThreshold };
}

/**
 * Seconds a backend needs to pass `healthyThreshold` consecutive checks from its first one:
 * the readiness delay in Kubernetes, and the health part of an LB's registration time.
 *
 * @internal
 */
export function secondsToHealthy(check: { readonly intervalSeconds: number; readonly healthyThreshold: number }): number {
  return check.intervalSeconds * check.healthyThreshold;
}
