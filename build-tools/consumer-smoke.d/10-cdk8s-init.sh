#!/usr/bin/env bash
# The README's "Start a cdk8s app" path, run as written: `cdk8s init typescript-app` (the template
# depends on cdk8s-plus-33), then this library with cdk8s-plus-27 beside it, one chart using both,
# `npm run compile` and `npm run synth`.
#
# `cdk8s init` ends by running `cdk8s import`, which downloads the Kubernetes schema from
# raw.githubusercontent.com. Where that is unreachable (this CI's network), init fails after it has
# written and installed the project; the README says to remove the `imports:` entry from cdk8s.yaml
# and go on, and so does this script. With network access, init succeeds and the step is a no-op.
set -euo pipefail
fail() { echo "consumer smoke test FAILED: $*" >&2; exit 1; }

INIT_DIR="$APP_DIR/init-app"
mkdir -p "$INIT_DIR"
cd "$INIT_DIR"
if "$APP_DIR/node_modules/.bin/cdk8s" init typescript-app > "$APP_DIR/cdk8s-init.log" 2>&1; then
  echo "cdk8s init succeeded (network access to the schema)"
else
  grep -q "npm run import" "$APP_DIR/cdk8s-init.log" || { cat "$APP_DIR/cdk8s-init.log" >&2; fail "cdk8s init failed before its import step"; }
  test -f cdk8s.yaml && test -f main.ts && test -d node_modules/cdk8s-plus-33 \
    || fail "cdk8s init failed at import without leaving the project behind"
  echo "cdk8s init stopped at 'cdk8s import' (no access to the schema); removing imports: from cdk8s.yaml as the README says"
  sed -i '/^imports:/,$d' cdk8s.yaml
fi
rm -f "$APP_DIR/cdk8s-init.log"

npm install --no-audit --no-fund --loglevel=error cdk8s-plus-27@^2 "$TARBALL"

cat > main.ts <<'TS'
import { App, Chart, ChartProps, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import { GracefulWebService, LoadBalancer } from 'cdk8s-graceful-web-service';

export class MyChart extends Chart {
  constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);
    new GracefulWebService(this, 'web', {
      name: 'web',
      image: 'nginxinc/nginx-unprivileged:1.27-alpine',
      port: 8080,
      loadBalancer: LoadBalancer.alibabaAlb(),
      shutdown: { drainTimeout: Duration.seconds(30) },
      writablePaths: ['/tmp'],
    });
    // An object of the template's cdk8s-plus-33 in the same chart.
    new kplus.ConfigMap(this, 'settings', { metadata: { name: 'settings' }, data: { greeting: 'hello' } });
  }
}

const app = new App();
new MyChart(app, 'init-app');
app.synth();
TS
npm run compile --silent
npm run synth --silent 2> synth.err || { cat synth.err >&2; fail "npm run synth failed in the cdk8s init app"; }
node - <<'JS'
const fs = require('fs');
const { parseAllDocuments } = require('yaml');
const docs = parseAllDocuments(fs.readFileSync('dist/init-app.k8s.yaml', 'utf8')).map((d) => d.toJS());
const kinds = docs.map((d) => `${d.kind}/${d.metadata.name}`).sort().join(' ');
const want = 'ConfigMap/settings Deployment/web Ingress/web PodDisruptionBudget/web Service/web';
if (kinds !== want) { console.error(`consumer smoke test FAILED: cdk8s init app objects: ${kinds}, expected ${want}`); process.exit(1); }
const pod = docs.find((d) => d.kind === 'Deployment').spec.template.spec;
if (pod.terminationGracePeriodSeconds !== 55) { console.error(`consumer smoke test FAILED: grace ${pod.terminationGracePeriodSeconds}`); process.exit(1); }
console.log(`ok: cdk8s init app with cdk8s-plus-33 and cdk8s-plus-27 side by side: ${kinds}`);
JS
