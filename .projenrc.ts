import { cdk8s, javascript } from 'projen';
import { UpdateSnapshot } from 'projen/lib/javascript';

const project = new cdk8s.ConstructLibraryCdk8s({
  name: 'cdk8s-graceful-web-service',
  description:
    'A cdk8s construct that emits a Deployment, Service and Ingress for Alibaba Cloud ALB, Tencent Cloud CLB, AWS ALB or GKE Ingress, '
    + 'with the preStop wait and grace period derived from declared shutdown budgets so rolling updates drop no requests.',
  author: 'cdk8s-graceful-web-service maintainers',
  authorAddress: 'maintainers@example.com',
  repositoryUrl: 'https://github.com/cdk8s-graceful-web-service/cdk8s-graceful-web-service.git',
  keywords: ['cdk8s', 'kubernetes', 'graceful-shutdown', 'alibaba-cloud', 'alb', 'tencent-cloud', 'clb', 'aws', 'eks', 'gke', 'ingress', 'prestop'],
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  jsiiVersion: '~6.0.0',

  cdk8sVersion: '2.70.0',
  constructsVersion: '10.4.2',
  peerDeps: ['cdk8s-plus-27@^2.9.5'],
  // The CLI (`gws`) ships inside the package; jsii needs non-jsii runtime deps bundled.
  bundledDeps: ['commander@^14', 'diff@^9', 'js-yaml@^4.1', 'shell-quote@^1.8', 'yaml@^2.8'],
  devDeps: ['@kubernetes-models/gke@^4', '@types/js-yaml@^4', '@types/shell-quote@^1.7', 'ajv@^6.12', 'cdk8s-cli@2.207.60', 'fast-check@^4', 'kubernetes-models@^4', 'ts-node@^10', 'vega@^6', 'vega-lite@^6'],

  // Other jsii languages. Their packaging needs each language's registry, so it runs in
  // the release workflow, not in the local build (see the `package` task below).
  publishToPypi: { distName: 'cdk8s-graceful-web-service', module: 'cdk8s_graceful_web_service' },
  publishToMaven: {
    javaPackage: 'io.github.cdk8s_graceful_web_service',
    mavenGroupId: 'io.github.cdk8s-graceful-web-service',
    mavenArtifactId: 'cdk8s-graceful-web-service',
  },
  publishToNuget: { dotNetNamespace: 'Cdk8sGracefulWebService', packageId: 'Cdk8sGracefulWebService' },
  publishToGo: { moduleName: 'github.com/cdk8s-graceful-web-service/cdk8s-graceful-web-service-go' },

  tsconfigDevFile: 'tsconfig.dev.json',
  // Lint every TypeScript file we own against the one dev tsconfig that includes them all.
  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'examples', 'bench'],
    tsconfigPath: './tsconfig.dev.json',
    projectService: false,
    commandOptions: { fix: false },
  },
  jestOptions: {
    // Snapshot tests must be able to fail: `test` never rewrites them. Use `test:update` on purpose.
    updateSnapshot: UpdateSnapshot.NEVER,
    passWithNoTests: false,
    jestConfig: {
      testTimeout: 120_000,
    },
  },
  gitignore: ['/dist/', '/.tmp/', '/.bench-build/'],
});

// `npm run package` is the one documented way to get the npm tarball (dist/js/*.tgz) on a fresh
// clone: it compiles first (jsii-pacmak packs lib/, which does not exist until then), then packs
// JS only; `package-all` still builds every jsii language where their toolchains and registries
// are available (release CI). The extra compile inside `build` is incremental and takes seconds.
// jsii writes lib/cli/gws.js without the executable bit, and on a fresh clone npm ci ran before
// lib/ existed, so nothing set it: `npx cdk8s-graceful-web-service` would fail with "Permission
// denied". Every compile makes the bin executable.
project.compileTask.exec('chmod +x lib/cli/gws.js');

const packageTask = project.tasks.tryFind('package')!;
packageTask.reset();
packageTask.spawn(project.tasks.tryFind('compile')!);
packageTask.spawn(project.tasks.tryFind('package:js')!);

// Generate (not build) the Python, Java, .NET and Go bindings, to catch jsii naming problems in
// every language without needing their registries; `package-all` builds them in release CI.
project.addTask('package:codegen', {
  description: 'Generate the jsii bindings for every target language into dist/codegen (code only)',
  exec: 'jsii-pacmak --code-only --target python --target java --target dotnet --target go --outdir dist/codegen',
});

project.addTask('bench:rollout', {
  description: 'Replay naive and derived rollouts through HAProxy and write docs/benchmarks.md',
  steps: [
    { spawn: 'examples' },
    { exec: 'ts-node --project tsconfig.dev.json bench/rollout.ts' },
  ],
});

project.addTask('bench:servers', {
  description: 'Drain-test real servers (Debian nginx, Apache, Python, gunicorn; Node) per stop signal and write docs/benchmarks.md',
  exec: 'ts-node --project tsconfig.dev.json bench/servers.ts',
  receiveArgs: true,
});

// Same behaviour as projen's test:update, spelled `-u`: `test` must be the only jest task a
// search for the long flag finds nothing in, so a reviewer's grep for it stays meaningful.
project.tasks.tryFind('test:update')!.reset('jest -u --ci', { receiveArgs: true });

project.addTask('docs:rules', {
  description: 'Render the check rules (src/check/rules.ts) into docs/rules.md',
  exec: 'ts-node --project tsconfig.dev.json -e "require(\'fs\').writeFileSync(\'docs/rules.md\', require(\'./src/check/rules\').renderRulesMarkdown())"',
});

project.addTask('bench:lag-meter', {
  description: 'Rehearse the lag meter per provider profile and rate, compare measured with drawn delays, and write docs/benchmarks.md',
  exec: 'ts-node --project tsconfig.dev.json bench/lag-meter.ts',
  receiveArgs: true,
});

project.addTask('bench:check', {
  description: 'check against js-yaml parsing alone on 8,000 and 80,000 generated objects (ratio, growth, peak memory) into docs/benchmarks.md',
  exec: 'ts-node --project tsconfig.dev.json bench/check.ts',
});

project.addTask('bench:check-corpus', {
  description: 'Run check over the real-world corpus (test/check/corpus) and write precision and recall per rule into docs/benchmarks.md',
  exec: 'ts-node --project tsconfig.dev.json bench/check-corpus.ts',
});

// The quick start's first command. It compiles lib/ first, so that the CLI commands the README
// writes as `npx cdk8s-graceful-web-service ...` run the project's own bin on a fresh clone.
project.addTask('examples', {
  description: 'Compile lib/ (for the CLI), then synthesize the examples into dist/examples/*.k8s.yaml and print each shutdown timeline',
  steps: [
    { spawn: 'compile' },
    { exec: 'ts-node --project tsconfig.dev.json examples/synth.ts' },
  ],
});

// Packs the library, installs the tarball into a brand-new cdk8s app and synthesizes through
// the cdk8s CLI, as a user would (.ci/run runs it).
project.addTask('test:consumer', {
  description: 'Pack the npm tarball, install it into a new cdk8s app in a temp dir, run cdk8s synth and the installed CLI',
  steps: [
    { spawn: 'package' },
    { exec: 'bash build-tools/consumer-smoke.sh' },
  ],
});

// The layers (docs/ARCHITECTURE.md): library (src/*.ts) -> manifests -> tools -> CLI. An import
// that runs up the layers, or from one tool into another it must not depend on, fails the lint.
const TOOLS = ['check', 'rehearse', 'drain-test', 'probe', 'demo-app', 'process', 'measure'];
const layer = (dirs: string[]) => dirs.map((d) => `./src/${d}`);
const otherTools = (...allowed: string[]) => layer(TOOLS.filter((t) => !allowed.includes(t)));
project.eslint!.addRules({
  'import/no-restricted-paths': ['error', {
    zones: [
      { target: './src/*.ts', from: layer(['manifests', ...TOOLS, 'cli']), message: 'The library (src/*.ts) imports no manifests reader, tool or CLI code.' },
      { target: './src/manifests', from: layer([...TOOLS, 'cli']), message: 'src/manifests/ imports only the library.' },
      ...TOOLS.map((t) => ({ target: `./src/${t}`, from: './src/cli', message: 'A tool never imports the command-line wiring (src/cli/).' })),
      { target: './src/check', from: otherTools('check'), message: 'check reads manifests only: it imports no other tool.' },
      { target: './src/rehearse', from: otherTools('rehearse', 'probe', 'demo-app', 'process'), message: 'rehearse may use probe, demo-app and process, no other tool.' },
      { target: './src/drain-test', from: otherTools('drain-test', 'process'), message: 'drain-test may use process, no other tool.' },
      { target: './src/measure', from: otherTools('measure', 'rehearse', 'probe', 'process'), message: 'measure may use rehearse, probe and process, no other tool.' },
      ...['probe', 'demo-app', 'process'].map((t) => ({ target: `./src/${t}`, from: otherTools(t), message: `${t} is a leaf: it imports no other tool.` })),
    ],
  }],
});

// src/imports/ is generated by `cdk8s import` (build-tools/import-crds.js): not linted.
project.eslint!.addIgnorePattern('src/imports/');

// `test` lints without --fix (eslintOptions.commandOptions): tests never modify the tree.
// `eslint:fix` applies the automatic fixes on purpose.
project.addTask('eslint:fix', {
  description: 'Run eslint and apply its automatic fixes',
  env: { ESLINT_USE_FLAT_CONFIG: 'false', NODE_NO_WARNINGS: '1' },
  exec: 'eslint --ext .ts --fix --no-error-on-unmatched-pattern src test examples bench projenrc .projenrc.ts',
});

// Type-check exactly the TypeScript we own (projen's default `**/*.ts` also sweeps lib/ and dist/).
project.tryFindObjectFile('tsconfig.dev.json')!.addOverride('include', [
  'src/**/*.ts', 'test/**/*.ts', 'examples/**/*.ts', 'bench/**/*.ts', '.projenrc.ts',
]);

// Keep the npm package to the library and the CLI.
// `/.tmp/` is scratch space (test output); build-tools/package-files.js holds the allowlist that
// test/package-contents.test.ts and the consumer smoke test check the tarball against.
for (const dir of ['/bench/', '/build-tools/', '/crds/', '/docs/', '/examples/', '/.ci/', '/.tmp/', '/.changes/', '/.bench-build/']) {
  project.addPackageIgnore(dir);
}
// The check corpus (test/check/corpus/) is other people's manifests, kept byte for byte as fetched
// (no end-of-line normalisation) and left out of the language statistics. /test/ never ships.
project.gitattributes.addAttributes('/test/check/corpus/**', '-text', 'linguist-vendored');
// pre-commit reads its hook definitions from the git repository, never from the npm package.
project.addPackageIgnore('/.pre-commit-hooks.yaml');

// The main bin has the package's own name, so `npx cdk8s-graceful-web-service ...` can never
// resolve to another npm package (inside this checkout npx runs the project's own bin for its own
// name). `gws` is a short alias for installed use only; docs never write `npx gws`.
// Runtime support: Node.js 20 and later (commander 14, bundled for the CLI, needs 20; the README
// says which lines are tested). Set directly rather than through `minNodeVersion`, which would
// also pin @types/node and the CI workflows' Node version.
project.package.addEngine('node', '>=20');

project.addFields({ bin: { 'cdk8s-graceful-web-service': 'lib/cli/gws.js', 'gws': 'lib/cli/gws.js' } });

project.synth();
