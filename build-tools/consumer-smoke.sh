#!/usr/bin/env bash
# Installs the packed library into a brand-new cdk8s app, the way a user would, and proves that it
# works there: TypeScript compiles against the published .d.ts files, `cdk8s synth` (the cdk8s CLI,
# driven by cdk8s.yaml) writes the chart, the chart holds what the library promises, and the
# installed CLI answers `--help` under both bin names.
#
# Usage: bash build-tools/consumer-smoke.sh [--keep]
#   Needs dist/js/cdk8s-graceful-web-service@*.tgz: run `npm run package` first (or use
#   `npx projen test:consumer`, which does both). Everything else comes from the npm registry.
#   --keep         leave the temp app in place and print its path (for debugging).
#   CONSUMER_DIR   use this (empty or new) directory instead of a fresh temp dir.
#
# Extension point: after the built-in checks, every executable build-tools/consumer-smoke.d/*.sh
# runs in order, with the app as its working directory and APP_DIR, TARBALL and REPO_DIR set. The
# app then already has cdk8s, cdk8s-plus-27, constructs, cdk8s-cli, typescript and the library
# installed, a compiled main.js, a cdk8s.yaml and a synthesized dist/; a later step can edit
# cdk8s.yaml (e.g. add `validations:`) and run `npx cdk8s synth` again.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "$0")/.." && pwd)"
KEEP=false
[ "${1:-}" = "--keep" ] && KEEP=true

step() { printf '\n--- consumer: %s\n' "$*"; }
fail() { echo "consumer smoke test FAILED: $*" >&2; exit 1; }

shopt -s nullglob
tarballs=("$REPO_DIR"/dist/js/cdk8s-graceful-web-service@*.tgz)
shopt -u nullglob
[ "${#tarballs[@]}" -eq 1 ] || fail "expected exactly one dist/js/cdk8s-graceful-web-service@*.tgz, found ${#tarballs[@]}: run \`npm run package\` first"
TARBALL="${tarballs[0]}"

step "the tarball holds only what the package needs (build-tools/package-files.js)"
node "$REPO_DIR/build-tools/package-files.js" "$TARBALL"

APP_DIR="${CONSUMER_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/gws-consumer-XXXXXX")}"
mkdir -p "$APP_DIR"
if [ "$KEEP" = false ] && [ -z "${CONSUMER_DIR:-}" ]; then
  trap 'rm -rf "$APP_DIR"' EXIT
fi
export APP_DIR TARBALL REPO_DIR
cd "$APP_DIR"
echo "app: $APP_DIR"
echo "tarball: $TARBALL ($(du -k "$TARBALL" | cut -f1) KiB)"

step "a new cdk8s app: npm install (registry) + the packed library"
cat > package.json <<'JSON'
{ "name": "gws-consumer-smoke", "version": "0.0.0", "private": true }
JSON
npm install --no-audit --no-fund --loglevel=error \
  cdk8s@^2 cdk8s-plus-27@^2 constructs@^10 cdk8s-cli@^2 typescript@^5 "$TARBALL"
echo "installed: $(node -p "['cdk8s','cdk8s-plus-27','constructs','cdk8s-cli','cdk8s-graceful-web-service'].map(p => p + '@' + require('./node_modules/' + p + '/package.json').version).join(' ')")"

step "main.ts compiles against the published types"
cat > main.ts <<'TS'
import { App, Chart, Duration } from 'cdk8s';
import { GracefulWebService, LoadBalancer, ShutdownBudget } from 'cdk8s-graceful-web-service';

const app = new App();
const chart = new Chart(app, 'shop');
const cart = new GracefulWebService(chart, 'cart', {
  name: 'cart',
  image: 'nginxinc/nginx-unprivileged:1.27-alpine',
  port: 8080,
  loadBalancer: LoadBalancer.alibabaAlb(),
  shutdown: { drainTimeout: Duration.seconds(30) },
  writablePaths: ['/tmp'],
});
const check: ShutdownBudget = ShutdownBudget.derive({ deregistrationDelay: Duration.seconds(15) });
if (check.terminationGracePeriodSeconds !== cart.budget.terminationGracePeriodSeconds) {
  throw new Error('ShutdownBudget.derive() and the construct disagree');
}
app.synth();
TS
cat > tsconfig.json <<'JSON'
{ "compilerOptions": { "target": "ES2022", "module": "commonjs", "strict": true, "skipLibCheck": true } }
JSON
npx --no-install tsc -p .

step "cdk8s synth (cdk8s CLI, cdk8s.yaml)"
cat > cdk8s.yaml <<'YAML'
language: typescript
app: node main.js
YAML
# cdk8s-cli looks for a newer version of itself online; that lookup fails on a registry-only
# network and prints a harmless stack trace, so its stderr is kept in a file and shown on failure.
if ! npx --no-install cdk8s synth 2> synth.err; then cat synth.err >&2; fail "cdk8s synth failed"; fi
test -s dist/shop.k8s.yaml || fail "cdk8s synth wrote no dist/shop.k8s.yaml"

step "the chart holds what the library promises"
node - <<'JS'
const fs = require('fs');
const { parseAllDocuments } = require('yaml');
const docs = parseAllDocuments(fs.readFileSync('dist/shop.k8s.yaml', 'utf8')).map((d) => d.toJS());
const fail = (why) => { console.error(`consumer smoke test FAILED: ${why}`); process.exit(1); };
const kinds = docs.map((d) => `${d.kind}/${d.metadata.name}`).sort().join(' ');
if (kinds !== 'Deployment/cart Ingress/cart PodDisruptionBudget/cart Service/cart') fail(`objects: ${kinds}`);
const deployment = docs.find((d) => d.kind === 'Deployment');
const pod = deployment.spec.template.spec;
const container = pod.containers[0];
// Compare with object keys sorted: the synthesized YAML sorts them.
const canonical = (v) => JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x)
  ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, x[k]])) : x));
const expect = (what, actual, wanted) => {
  if (canonical(actual) !== canonical(wanted)) fail(`${what}: ${canonical(actual)}, expected ${canonical(wanted)}`);
};
// Alibaba ALB defaults: D = 15, S = 30, M = 5: wait D + M = 20, grace D + M + S + M = 55.
expect('terminationGracePeriodSeconds', pod.terminationGracePeriodSeconds, 55);
expect('preStop', container.lifecycle.preStop.exec.command, ['/bin/sh', '-c', 'sleep 20']);
expect('selector', deployment.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'cart', 'app.kubernetes.io/instance': 'cart' });
expect('maxUnavailable', deployment.spec.strategy.rollingUpdate.maxUnavailable, 0);
expect('startup probe', container.startupProbe.httpGet.path, '/');
const ingress = docs.find((d) => d.kind === 'Ingress');
expect('ingressClassName', ingress.spec.ingressClassName, 'alb');
expect('healthcheck-code', ingress.metadata.annotations['alb.ingress.kubernetes.io/healthcheck-code'], 'http_2xx,http_3xx');
console.log(`ok: ${kinds}; grace ${pod.terminationGracePeriodSeconds}s, preStop sleep 20`);
JS

step "the installed CLI"
npx --no-install cdk8s-graceful-web-service --help > help.txt
grep -q 'probe' help.txt || fail "cdk8s-graceful-web-service --help does not list the probe command"
./node_modules/.bin/gws --help > /dev/null || fail "the gws alias does not run"
# The README's nginx drain test takes its template from the installed package.
templates="$(npx --no-install cdk8s-graceful-web-service drain-test --templates-dir)"
[ "$templates" = "$APP_DIR/node_modules/cdk8s-graceful-web-service/assets/servers" ] || fail "drain-test --templates-dir printed $templates"
test -s "$templates/nginx.conf.tmpl" || fail "the package does not ship assets/servers/nginx.conf.tmpl"
head -n 3 help.txt

if [ -d "$REPO_DIR/build-tools/consumer-smoke.d" ]; then
  for extra in "$REPO_DIR"/build-tools/consumer-smoke.d/*.sh; do
    [ -e "$extra" ] || continue
    step "$(basename "$extra")"
    (cd "$APP_DIR" && bash "$extra")
  done
fi

[ "$KEEP" = true ] && echo "kept: $APP_DIR"
echo "consumer smoke test passed"
