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

// Kubernetes' rules for metadata (k8s.io/apimachinery/pkg/util/validation): a qualified name is
// an optional DNS-subdomain prefix and "/", then a name of at most 63 characters.
const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** Kubernetes' limit on the total size of an object's annotations (keys and values). */
const ANNOTATIONS_MAX_BYTES = 256 * 1024;

/**
 * A label or annotation key: `[prefix/]name`, the prefix a lower-case DNS subdomain (at most
 * 253 characters), the name at most 63 characters of letters, digits, `-`, `_` and `.`,
 * starting and ending with a letter or digit.
 *
 * @internal
 */
export function validateMetadataKey(prop: string, key: string): void {
  const fail = (why: string) => {
    throw new Error(`${prop} key "${key}" is not a valid Kubernetes key: ${why}`);
  };
  const parts = key.split('/');
  if (parts.length > 2) fail('it may contain at most one "/" (prefix/name)');
  const name = parts[parts.length - 1];
  if (parts.length === 2) {
    const prefix = parts[0];
    if (prefix.length === 0 || prefix.length > 253 || !prefix.split('.').every((l) => DNS_LABEL.test(l))) {
      fail(`the prefix "${prefix}" must be a lower-case DNS subdomain of at most 253 characters`);
    }
  }
  if (name.length === 0 || name.length > 63) fail(`the name part must have 1 to 63 characters, it has ${name.length}`);
  if (!QUALIFIED_NAME.test(name)) {
    fail(`the name part "${name}" may only hold letters, digits, "-", "_" and ".", and must start and end with a letter or digit`);
  }
}

/**
 * Labels: valid keys, and values of at most 63 characters of letters, digits, `-`, `_` and
 * `.`, starting and ending with a letter or digit (or empty).
 *
 * @internal
 */
export function validateLabels(prop: string, labels: { [key: string]: string } | undefined): void {
  for (const [key, value] of Object.entries(labels ?? {})) {
    validateMetadataKey(prop, key);
    if (typeof value !== 'string') {
      throw new Error(`${prop}["${key}"] must be a string, got ${typeof value}`);
    }
    if (value.length > 63 || (value !== '' && !QUALIFIED_NAME.test(value))) {
      throw new Error(
        `${prop}["${key}"] value "${value}" is not a valid label value: at most 63 letters, digits, "-", "_" or ".", `
        + 'starting and ending with a letter or digit (or empty)',
      );
    }
  }
}

/**
 * Annotations: valid keys, string values, at most 256 KiB in total.
 *
 * @internal
 */
export function validateAnnotations(prop: string, annotations: { [key: string]: string } | undefined): void {
  let bytes = 0;
  for (const [key, value] of Object.entries(annotations ?? {})) {
    validateMetadataKey(prop, key);
    if (typeof value !== 'string') {
      throw new Error(`${prop}["${key}"] must be a string, got ${typeof value}: write "${String(value)}" in quotes`);
    }
    bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  if (bytes > ANNOTATIONS_MAX_BYTES) {
    throw new Error(`${prop} hold ${bytes} bytes, but Kubernetes allows at most ${ANNOTATIONS_MAX_BYTES} bytes of annotations per object`);
  }
}

/**
 * A name that is valid for every object the service emits: a DNS-1035 label (the Service's
 * rule, the strictest of them), which is also a valid label value.
 *
 * @internal
 */
export function validateObjectName(prop: string, name: string): void {
  if (name.length === 0 || name.length > 63 || !DNS_1035_LABEL.test(name)) {
    throw new Error(
      `${prop} "${name}" is not a valid name: 1 to 63 lower-case letters, digits or "-", starting with a letter `
      + 'and ending with a letter or digit (a Service name is an RFC 1035 label)',
    );
  }
}
