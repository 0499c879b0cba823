// Validates objects against the OpenAPI v3 schemas of the CRDs committed under crds/, the way the
// API server's structural-schema check and kubectl's strict field validation would: wrong types,
// missing required fields, values outside enums, ranges, lengths and patterns fail, and so does
// any field the schema does not declare (unless it preserves unknown fields). The CEL rules
// (`x-kubernetes-validations`) are not evaluated.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';

type Schema = { [key: string]: any };

const CRD_DIR = path.join(__dirname, '..', 'crds');

/** `apiVersion/kind` → the served version's schema, for every CRD in crds/. */
function loadSchemas(): Map<string, Schema> {
  const schemas = new Map<string, Schema>();
  for (const file of fs.readdirSync(CRD_DIR).filter((f) => f.endsWith('.yaml'))) {
    const crd = yaml.load(fs.readFileSync(path.join(CRD_DIR, file), 'utf8')) as Schema;
    for (const version of crd.spec.versions) {
      if (!version.served) continue;
      schemas.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, version.schema.openAPIV3Schema);
    }
  }
  return schemas;
}

const SCHEMAS = loadSchemas();

/** The kinds (`group/version/Kind`) whose CRD is committed under crds/. */
export function crdKinds(): string[] {
  return [...SCHEMAS.keys()];
}

/** Every schema violation of `object` against its CRD; throws when no CRD is committed for it. */
export function crdErrors(object: { apiVersion: string; kind: string; [key: string]: any }): string[] {
  const schema = SCHEMAS.get(`${object.apiVersion}/${object.kind}`);
  if (schema === undefined) {
    throw new Error(`no CRD under crds/ for ${object.apiVersion} ${object.kind}`);
  }
  const errors: string[] = [];
  check(schema, object, object.kind, errors, true);
  return errors;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function check(schema: Schema, value: any, at: string, errors: string[], root = false): void {
  if (value === null && schema.nullable) return;
  for (const key of ['oneOf', 'anyOf'] as const) {
    // Structural schemas use these only to restrict; one alternative must hold.
    if (schema[key] && !schema[key].some((alt: Schema) => { const e: string[] = []; check(alt, value, at, e); return e.length === 0; })) {
      errors.push(`${at}: matches none of the ${key} alternatives`);
    }
  }
  for (const sub of schema.allOf ?? []) check(sub, value, at, errors);
  if (schema['x-kubernetes-int-or-string']) {
    if (!['integer', 'string'].includes(typeOf(value))) errors.push(`${at}: must be an integer or a string, got ${typeOf(value)}`);
    return;
  }
  const actual = typeOf(value);
  if (schema.type !== undefined) {
    const ok = schema.type === actual || (schema.type === 'number' && actual === 'integer');
    if (!ok) {
      errors.push(`${at}: must be ${schema.type}, got ${actual} (${JSON.stringify(value)})`);
      return;
    }
  }
  if (schema.enum && !schema.enum.includes(value)) errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (actual === 'string') checkString(schema, value, at, errors);
  if (actual === 'integer' || actual === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${at}: ${value} is below the minimum ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${at}: ${value} is above the maximum ${schema.maximum}`);
  }
  if (actual === 'array') {
    if (schema.minItems !== undefined && value.length < schema.minItems) errors.push(`${at}: fewer than ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errors.push(`${at}: more than ${schema.maxItems} items`);
    value.forEach((item: unknown, i: number) => schema.items && check(schema.items, item, `${at}[${i}]`, errors));
  }
  if (actual === 'object') checkObject(schema, value, at, errors, root);
}

function checkString(schema: Schema, value: string, at: string, errors: string[]): void {
  if (schema.minLength !== undefined && value.length < schema.minLength) errors.push(`${at}: shorter than ${schema.minLength}`);
  if (schema.maxLength !== undefined && value.length > schema.maxLength) errors.push(`${at}: longer than ${schema.maxLength}`);
  if (schema.pattern !== undefined) {
    let pattern: RegExp | undefined;
    try {
      pattern = new RegExp(schema.pattern, 'u');
    } catch {
      pattern = undefined; // an RE2-only pattern JavaScript cannot compile: not checked
    }
    if (pattern && !pattern.test(value)) errors.push(`${at}: "${value}" does not match ${schema.pattern}`);
  }
}

function checkObject(schema: Schema, value: { [key: string]: any }, at: string, errors: string[], root: boolean): void {
  for (const key of schema.required ?? []) {
    if (!(key in value)) errors.push(`${at}: missing required field ${key}`);
  }
  const properties: Schema = schema.properties ?? {};
  for (const [key, child] of Object.entries(value)) {
    const where = `${at}.${key}`;
    if (root && ['apiVersion', 'kind', 'metadata'].includes(key)) continue; // checked by the Kubernetes models
    if (key in properties) {
      check(properties[key], child, where, errors);
    } else if (typeof schema.additionalProperties === 'object') {
      check(schema.additionalProperties, child, where, errors);
    } else if (!schema['x-kubernetes-preserve-unknown-fields'] && schema.additionalProperties !== true) {
      errors.push(`${where}: unknown field`);
    }
  }
}
