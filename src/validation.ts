import { Duration } from 'cdk8s';

// Input checks shared by the construct and the providers. Each throws an Error whose message
// starts with the prop's name, so a failed synth points straight at the user's input.

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** @internal */
export function validatePort(prop: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${prop} must be an integer from 1 to 65535, got ${port}`);
  }
}

/** @internal */
export function validatePositiveInteger(prop: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${prop} must be a positive integer, got ${value}`);
  }
}

/** @internal */
export function validateNonEmpty(prop: string, value: string): void {
  if (value.trim() === '') {
    throw new Error(`${prop} must not be empty`);
  }
  if (/\s/.test(value)) {
    throw new Error(`${prop} must not contain whitespace, got "${value}"`);
  }
}

/** @internal */
export function validateHttpPath(prop: string, path: string): void {
  if (!path.startsWith('/')) {
    throw new Error(`${prop} must start with "/", got "${path}"`);
  }
  if (/\s/.test(path)) {
    throw new Error(`${prop} must not contain whitespace, got "${path}"`);
  }
}

/**
 * An Ingress host: a lower-case RFC 1123 DNS name, optionally with a leading `*.` wildcard.
 * Kubernetes rejects IP addresses here.
 *
 * @internal
 */
export function validateHost(prop: string, host: string): void {
  const fail = (why: string) => {
    throw new Error(`${prop} "${host}" is not a valid host name: ${why}`);
  };
  if (host.length === 0) fail('it is empty');
  if (host.length > 253) fail(`it has ${host.length} characters, at most 253 are allowed`);
  if (IPV4.test(host)) fail('an Ingress host must be a DNS name, not an IP address');
  const labels = (host.startsWith('*.') ? host.slice(2) : host).split('.');
  for (const label of labels) {
    if (!DNS_LABEL.test(label)) {
      fail(`label "${label}" must be 1-63 lower-case letters, digits or "-", starting and ending with a letter or digit`);
    }
  }
}

/** @internal */
export function validateIngressClassName(prop: string, name: string): void {
  validateNonEmpty(prop, name);
  if (name.length > 253 || !name.split('.').every((label) => DNS_LABEL.test(label))) {
    throw new Error(`${prop} "${name}" must be a lower-case DNS subdomain name`);
  }
}

/**
 * A duration as whole seconds, rounded up. Refuses durations that are not finite or negative,
 * naming the prop so the error points at the user's input.
 *
 * @internal
 */
export function wholeSeconds(prop: string, duration: Duration | undefined, defaultSeconds?: number): number {
  if (duration === undefined) {
    if (defaultSeconds === undefined) {
      throw new Error(`${prop} is required`);
    }
    return defaultSeconds;
  }
  const millis = duration.toMilliseconds({ integral: false });
  if (!Number.isFinite(millis)) {
    throw new Error(`${prop} must be a finite duration, got ${millis} ms`);
  }
  if (millis < 0) {
    throw new Error(`${prop} must not be negative, got ${millis} ms`);
  }
  // Round up: a budget must never shrink. Guard against float noise such as 1.0000000002 s.
  return Math.ceil(Math.round(millis * 1000) / 1_000_000);
}

/**
 * Throws unless `value` lies in `[min, max]`, naming the prop and the provider's range.
 *
 * @internal
 */
export function checkRange(prop: string, value: number, min: number, max: number, provider: string, unit = ''): void {
  if (value < min || value > max) {
    throw new Error(`${prop} is ${value}${unit}, but ${provider} accepts ${min}${unit} to ${max}${unit}`);
  }
}
