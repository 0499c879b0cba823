// The CI recipes of docs/ci.md: the GitHub Actions workflow (parsed, its steps checked) and the
// pre-commit hook of .pre-commit-hooks.yaml, run with the real pre-commit tool (.ci/run installs it).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';

const REPO = path.join(__dirname, '..', '..');
const CI_DOC = fs.readFileSync(path.join(REPO, 'docs', 'ci.md'), 'utf8');
const BAD = fs.readFileSync(path.join(__dirname, 'fix-fixtures', 'alibaba-web.yaml'), 'utf8');

const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** The YAML block after `<!-- ci-workflow -->` in docs/ci.md. */
function workflow(): any {
  const match = /<!-- ci-workflow -->\s*```yaml\n([\s\S]*?)```/.exec(CI_DOC);
  expect(match).not.toBeNull();
  return parse(match![1]);
}

describe('the GitHub Actions job of docs/ci.md', () => {
  const wf = workflow();
  const steps: any[] = wf.jobs.check.steps;
  const index = (predicate: (s: any) => boolean) => steps.findIndex(predicate);

  test('sets up Node, renders, then checks with SARIF output', () => {
    const node = index((s) => String(s.uses).startsWith('actions/setup-node@'));
    const render = index((s) => /helm template|kubectl kustomize|kustomize build/.test(String(s.run)));
    const check = index((s) => /\bcdk8s-graceful-web-service check\b/.test(String(s.run)));
    expect(index((s) => String(s.uses).startsWith('actions/checkout@'))).toBe(0);
    expect(node).toBeGreaterThan(0);
    expect(render).toBeGreaterThan(node);
    expect(check).toBeGreaterThan(render);
    expect(steps[check].run).toMatch(/--format sarif > (\S+)$/);
    expect(steps[check].id).toBe('check');
    // The upload must still run when check exits 1.
    expect(steps[check]['continue-on-error']).toBe(true);
  });

  test('uploads the SARIF even when check failed, then fails the job from check\'s outcome', () => {
    const check = index((s) => s.id === 'check');
    const sarifFile = /--format sarif > (\S+)$/.exec(steps[check].run)![1];
    const upload = index((s) => String(s.uses).startsWith('github/codeql-action/upload-sarif@'));
    expect(upload).toBeGreaterThan(check);
    expect(steps[upload].if).toMatch(/^always\(\)/);
    expect(steps[upload].with.sarif_file).toBe(sarifFile);
    const fail = steps.length - 1;
    expect(fail).toBeGreaterThan(upload);
    expect(steps[fail].if).toBe("steps.check.outcome == 'failure'");
    expect(steps[fail].run).toMatch(/exit 1\s*$/);
    expect(wf.permissions['security-events']).toBe('write');
    expect(Object.keys(wf.on)).toEqual(expect.arrayContaining(['pull_request']));
  });
});

describe('the pre-commit hook', () => {
  const hooks = parse(fs.readFileSync(path.join(REPO, '.pre-commit-hooks.yaml'), 'utf8'));

  test('is defined once, runs check on YAML and JSON files', () => {
    expect(hooks).toHaveLength(1);
    expect(hooks[0]).toMatchObject({ id: 'cdk8s-graceful-web-service-check', entry: 'npx --yes cdk8s-graceful-web-service check', pass_filenames: true });
    const files = new RegExp(hooks[0].files);
    const exclude = new RegExp(hooks[0].exclude);
    const picked = (f: string) => files.test(f) && !exclude.test(f);
    expect(['k8s/app.yaml', 'a.yml', 'b.json'].filter(picked)).toEqual(['k8s/app.yaml', 'a.yml', 'b.json']);
    expect(['README.md', 'chart/Chart.yaml', 'chart/values-prod.yaml', 'kustomization.yaml', '.pre-commit-config.yaml', '.github/workflows/ci.yml'].filter(picked)).toEqual([]);
  });

  /**
   * A git repository with the package installed as a devDependency would be: node_modules holds a
   * package of that name whose bin runs this checkout's CLI (compiled lib/ when built, else the
   * TypeScript source).
   */
  function userRepo(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-pre-commit-'));
    tempDirs.push(dir);
    const pkg = path.join(dir, 'node_modules', 'cdk8s-graceful-web-service');
    fs.mkdirSync(pkg, { recursive: true });
    fs.mkdirSync(path.join(dir, 'node_modules', '.bin'));
    fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'cdk8s-graceful-web-service', version: '0.0.0', bin: { 'cdk8s-graceful-web-service': 'gws.js' } }));
    const lib = path.join(REPO, 'lib', 'cli', 'gws.js');
    const body = fs.existsSync(lib)
      ? `require(${JSON.stringify(lib)}).main(process.argv);\n` // gws.js runs main only as the entry module
      : `require(${JSON.stringify(require.resolve('ts-node'))}).register({ transpileOnly: true, project: ${JSON.stringify(path.join(REPO, 'tsconfig.dev.json'))} });\n`
        + `require(${JSON.stringify(path.join(REPO, 'src', 'cli', 'gws.ts'))}).main(process.argv);\n`;
    fs.writeFileSync(path.join(pkg, 'gws.js'), `#!/usr/bin/env node\n${body}`, { mode: 0o755 });
    fs.symlinkSync('../cdk8s-graceful-web-service/gws.js', path.join(dir, 'node_modules', '.bin', 'cdk8s-graceful-web-service'));
    fs.writeFileSync(path.join(dir, '.gitignore'), 'node_modules\n');
    const git = spawnSync('git', ['init', '-q'], { cwd: dir, encoding: 'utf8' });
    expect(git.status).toBe(0);
    return dir;
  }

  function tryRepo(dir: string, file: string): { status: number | null; output: string } {
    const add = spawnSync('git', ['add', '.'], { cwd: dir, encoding: 'utf8' });
    expect(add.status).toBe(0);
    const run = spawnSync('pre-commit', ['try-repo', REPO, 'cdk8s-graceful-web-service-check', '--files', file, '--verbose'], {
      cwd: dir, encoding: 'utf8', env: { ...process.env, PRE_COMMIT_HOME: path.join(dir, '.pre-commit-home') }, timeout: 120_000,
    });
    expect(run.error).toBeUndefined(); // pre-commit is installed by .ci/run
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  }

  test('fails a commit with a manifest that drops requests, passes a fixed one', () => {
    const dir = userRepo();
    fs.writeFileSync(path.join(dir, 'app.yaml'), BAD);
    const bad = tryRepo(dir, 'app.yaml');
    expect(bad.output).toMatch(/prestop-wait-missing/);
    expect(bad.output).toMatch(/Failed/);
    expect(bad.status).toBe(1);

    const fixed = spawnSync('npx', ['--yes', 'cdk8s-graceful-web-service', 'check', '--fix', 'app.yaml'], { cwd: dir, encoding: 'utf8' });
    expect(fixed.status).toBe(0);
    const good = tryRepo(dir, 'app.yaml');
    expect(good.output).toMatch(/Passed/);
    expect(good.status).toBe(0);
  }, 240_000);
});
