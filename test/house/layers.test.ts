/**
 * The layers of docs/ARCHITECTURE.md are enforced by the committed lint configuration
 * (`import/no-restricted-paths` in .eslintrc.json, written by .projenrc.ts): these tests lint
 * imports that run up the layers and expect the rule to refuse them, and the allowed ones to pass.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

// eslint 9 still ships the eslintrc engine, which reads .eslintrc.json as `npm run eslint` does.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { LegacyESLint } = require('eslint/use-at-your-own-risk');

const REPO = path.join(__dirname, '..', '..');
const RULE = 'import/no-restricted-paths';

function committedConfig(): any {
  const text = fs.readFileSync(path.join(REPO, '.eslintrc.json'), 'utf8').replace(/^\/\/.*$/m, '');
  return JSON.parse(text);
}

/** Lints one import as if written in `file`; returns the messages of the layer rule. */
async function layerErrors(file: string, importPath: string): Promise<string[]> {
  const config = committedConfig();
  expect(config.rules[RULE]).toBeDefined();
  const eslint = new LegacyESLint({
    cwd: REPO,
    useEslintrc: false,
    baseConfig: {
      root: true,
      parser: config.parser,
      // No type information: the file linted here does not exist on disk.
      parserOptions: { ecmaVersion: 2022, sourceType: 'module' },
      plugins: ['import'],
      settings: config.settings,
      rules: { [RULE]: config.rules[RULE] },
    },
  });
  const [result] = await eslint.lintText(`import * as x from '${importPath}';\nexport const y = x;\n`, { filePath: path.join(REPO, file) });
  return result.messages.map((m: { ruleId: string | null; message: string }) => `${m.ruleId}: ${m.message}`);
}

describe('the lint rule keeps the layers', () => {
  test.each([
    ['src/graceful-web-service-extra.ts', './check/audit', 'The library'],
    ['src/budget-extra.ts', './manifests/topology', 'The library'],
    ['src/manifests/extra.ts', '../rehearse/rehearse', 'src/manifests/ imports only the library'],
    ['src/check/extra.ts', '../rehearse/lb-profiles', 'check reads manifests only'],
    ['src/check/extra.ts', '../cli/gws', 'A tool never imports the command-line wiring'],
    ['src/rehearse/extra.ts', '../cli/cli-args', 'A tool never imports the command-line wiring'],
    ['src/rehearse/extra.ts', '../check/audit', 'rehearse may use probe, demo-app and process'],
    ['src/drain-test/extra.ts', '../rehearse/haproxy', 'drain-test may use process'],
    ['src/probe/extra.ts', '../process/procs', 'probe is a leaf'],
    ['src/measure/extra.ts', '../check/audit', 'measure may use rehearse, probe and process'],
    ['src/rehearse/extra.ts', '../measure/measure', 'rehearse may use probe, demo-app and process'],
    ['src/lag-meter-extra.ts', './measure/analysis', 'The library'],
  ])('%s importing %s is refused', async (file, importPath, reason) => {
    const errors = await layerErrors(file, importPath);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(RULE);
    expect(errors[0]).toContain(reason);
  });

  test.each([
    ['src/check/extra.ts', '../manifests/topology'],
    ['src/check/extra.ts', '../budget'],
    ['src/rehearse/extra.ts', '../probe/probe'],
    ['src/measure/extra.ts', '../rehearse/rehearse'],
    ['src/rehearse/extra.ts', '../manifests/deployment-spec'],
    ['src/cli/extra.ts', '../rehearse/rehearse'],
    ['src/cli/extra.ts', '../check/audit'],
    ['src/manifests/extra.ts', '../tencent-clb'],
  ])('%s importing %s is allowed', async (file, importPath) => {
    expect(await layerErrors(file, importPath)).toEqual([]);
  });
});
