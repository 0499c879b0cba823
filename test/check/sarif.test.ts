/**
 * `check --format sarif` against the official SARIF 2.1.0 JSON schema (issue 16: what the CI recipe
 * uploads to code scanning must be valid SARIF). The schema is vendored under test/check/sarif/
 * (source and version in its README) and is JSON Schema draft-04, which ajv 6 validates with its
 * draft-04 meta-schema.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ajv6 from 'ajv';
import { main } from '../../src/cli/gws';

const SCHEMA_FILE = path.join(__dirname, 'sarif', 'sarif-schema-2.1.0.json');

function sarifValidator(): (document: unknown) => string[] {
  // ajv 6 (CommonJS) exports its constructor as `default` too; draft-04 schemas are identified by `id` ('auto' takes it).
  const ajv = new ajv6.default({ schemaId: 'auto', allErrors: true, format: 'full' });
  ajv.addMetaSchema(JSON.parse(fs.readFileSync(require.resolve('ajv/lib/refs/json-schema-draft-04.json'), 'utf8')));
  const validate = ajv.compile(JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8')));
  return (document) => (validate(document) ? [] : (validate.errors ?? []).map((e: ajv6.ErrorObject) => `${e.dataPath} ${e.message}`));
}

const schemaErrors = sarifValidator();

/** Runs `check --format sarif` in-process; the exit code and the parsed document. */
async function sarifOf(args: string[]): Promise<{ code: number; sarif: any }> {
  let out = '';
  const previous = process.exitCode;
  process.exitCode = 0;
  try {
    await main(['node', 'gws', 'check', '--format', 'sarif', ...args], { out: (t: string) => { out += t; }, err: () => undefined });
    return { code: Number(process.exitCode ?? 0), sarif: JSON.parse(out) };
  } finally {
    process.exitCode = previous;
  }
}

const FIXTURES = path.join(__dirname, 'fixtures');
const CORPUS = path.join(__dirname, 'corpus');

describe('check --format sarif is valid SARIF 2.1.0', () => {
  test('the schema is the official one, and the validator rejects what it must', () => {
    const schema = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8'));
    expect(schema.id).toBe('https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json');
    const minimal = { version: '2.1.0', runs: [{ tool: { driver: { name: 't' } }, results: [] }] };
    expect(schemaErrors(minimal)).toEqual([]);
    // Each of these breaks the schema in one place; a validator that accepted them would prove nothing.
    expect(schemaErrors({ ...minimal, version: '2.0.0' })).not.toEqual([]);
    expect(schemaErrors({ version: '2.1.0', runs: [{ tool: { driver: {} } }] })).not.toEqual([]);
    expect(schemaErrors({ ...minimal, runs: [{ ...minimal.runs[0], results: [{ ruleId: 'r', level: 'fatal', message: { text: 'm' } }] }] })).not.toEqual([]);
    const lineZero = { physicalLocation: { artifactLocation: { uri: 'a.yaml' }, region: { startLine: 0 } } };
    expect(schemaErrors({ ...minimal, runs: [{ ...minimal.runs[0], results: [{ ruleId: 'r', message: { text: 'm' }, locations: [lineZero] }] }] })).not.toEqual([]);
    expect(schemaErrors({ ...minimal, runs: [{ ...minimal.runs[0], surprise: true }] })).not.toEqual([]);
  });

  test('findings of every severity, from several files', async () => {
    const { code, sarif } = await sarifOf([FIXTURES, '--drain-timeout', '60']);
    expect(code).toBe(1);
    expect(new Set(sarif.runs[0].results.map((r: any) => r.level))).toEqual(new Set(['error', 'warning']));
    expect(schemaErrors(sarif)).toEqual([]);
  });

  test('the whole real-world corpus at once', async () => {
    const { sarif } = await sarifOf([CORPUS, '--fail-on', 'none']);
    expect(sarif.runs[0].results.length).toBeGreaterThan(50);
    expect(schemaErrors(sarif)).toEqual([]);
  });

  test('no findings: an empty results array, still valid', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-sarif-'));
    fs.writeFileSync(path.join(dir, 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\ndata: { a: b }\n');
    const { code, sarif } = await sarifOf([dir]);
    expect(code).toBe(0);
    expect(sarif.runs[0].results).toEqual([]);
    expect(schemaErrors(sarif)).toEqual([]);
  });

  test('a file outside the working directory (a file: URI) and a name that needs escaping', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-sarif out-'));
    const file = path.join(dir, 'tea app #1.yaml');
    fs.copyFileSync(path.join(FIXTURES, 'alibaba-alb-tea.yaml'), file);
    const { sarif } = await sarifOf([file]);
    const uris = sarif.runs[0].results.map((r: any) => r.locations[0].physicalLocation.artifactLocation.uri);
    expect(uris.length).toBeGreaterThan(0);
    for (const uri of uris) expect(uri).toMatch(/^file:\/\/\/.*tea%20app%20%231\.yaml$/);
    expect(schemaErrors(sarif)).toEqual([]);
  });
});
