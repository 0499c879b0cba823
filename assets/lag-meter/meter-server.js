#!/usr/bin/env node
// The lag meter (cdk8s-graceful-web-service): a dependency-free HTTP server that tells a client,
// on every response, how long ago its pod's preStop hook was called and how long ago its readiness
// probe first passed. Run behind the load balancer under test while `measure` sends load through
// it, it shows when the load balancer really stopped (and started) sending requests to each pod.
//
// It runs verbatim from a ConfigMap in a stock Node.js image (Node 18 or later, no npm packages).
//
// Endpoints:
//   GET /prestop         the preStop hook (httpGet). Records the instant of the first call and
//                        answers only after the wait, so the kubelet holds the pod for the wait.
//   GET <readiness path> 200 "ok". Records when the readiness probe has first passed (the
//                        kubelet's probes, User-Agent kube-probe/..., `ready-after` in a row).
//   anything else        200 with the headers below (and a one-line JSON body).
//
// Response headers (on every response except /prestop):
//   X-Lag-Meter-Pod               the pod's name
//   X-Lag-Meter-Since-Prestop-Ms  ms since /prestop was first called; only while terminating
//   X-Lag-Meter-Since-Ready-Ms    ms since the readiness probe first passed; absent before that
//   X-Lag-Meter-Wait-Ms           the preStop wait in ms (a pod still answering this late was
//                                 still in the load balancer when its wait ended)
//
// Settings (flag, or environment variable):
//   --port / METER_PORT                      default 8080
//   --host / METER_HOST                      default all interfaces
//   --wait / METER_WAIT_SECONDS              preStop wait in seconds, default 180
//   --readiness-path / METER_READINESS_PATH  default /ready
//   --ready-after / METER_READY_AFTER        passing kubelet probes on the readiness path that make
//                                            the pod Ready (a startup probe's success, then the
//                                            readiness probe's successThreshold), default 1
//   --name / METER_POD_NAME                  default the host name (the pod's name in Kubernetes)
//
// On the stop signal (SIGTERM, SIGINT) it stops accepting connections and exits once the
// requests in flight have been answered. On start it prints one JSON line {"event":"listening",...}.
'use strict';
const http = require('node:http');
const os = require('node:os');

function settings(argv, env) {
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`unexpected argument ${argv[i]}`);
    flags[m[1]] = m[2] !== undefined ? m[2] : argv[++i];
  }
  const pick = (flag, name, dflt) => (flags[flag] !== undefined ? flags[flag] : env[name] !== undefined && env[name] !== '' ? env[name] : dflt);
  const number = (flag, name, dflt) => {
    const v = Number(pick(flag, name, dflt));
    if (!Number.isFinite(v) || v < 0) throw new Error(`--${flag} / ${name} must be a non-negative number, got ${pick(flag, name, dflt)}`);
    return v;
  };
  return {
    port: number('port', 'METER_PORT', 8080),
    host: pick('host', 'METER_HOST', undefined),
    waitMs: number('wait', 'METER_WAIT_SECONDS', 180) * 1000,
    readinessPath: pick('readiness-path', 'METER_READINESS_PATH', '/ready'),
    readyAfter: Math.max(1, number('ready-after', 'METER_READY_AFTER', 1)),
    name: pick('name', 'METER_POD_NAME', os.hostname()),
  };
}

function main() {
  const s = settings(process.argv.slice(2), process.env);
  const now = () => performance.now();
  let prestopAt;
  let readyAt;
  let probesInARow = 0;
  let anyKubeProbe = false;

  const headers = () => {
    const h = { 'x-lag-meter-pod': s.name, 'x-lag-meter-wait-ms': String(s.waitMs), 'cache-control': 'no-store' };
    const t = now();
    if (prestopAt !== undefined) h['x-lag-meter-since-prestop-ms'] = (t - prestopAt).toFixed(1);
    if (readyAt !== undefined) h['x-lag-meter-since-ready-ms'] = (t - readyAt).toFixed(1);
    return h;
  };

  const server = http.createServer((req, res) => {
    const path = (req.url || '/').split('?')[0];
    if (path === '/prestop') {
      if (prestopAt === undefined) prestopAt = now();
      const left = Math.max(0, s.waitMs - (now() - prestopAt));
      log({ event: 'prestop', waitMs: Math.round(left) });
      setTimeout(() => res.end('waited\n'), left);
      return;
    }
    if (path === s.readinessPath) {
      // Count the kubelet's probes once one has been seen; before that, any GET (a bare server run by hand).
      const kube = /^kube-probe\//.test(req.headers['user-agent'] || '');
      anyKubeProbe = anyKubeProbe || kube;
      if (readyAt === undefined && (kube || !anyKubeProbe)) {
        probesInARow++;
        if (probesInARow >= s.readyAfter) {
          readyAt = now();
          log({ event: 'ready' });
        }
      }
      res.writeHead(200, headers());
      res.end('ok\n');
      return;
    }
    const h = headers();
    res.writeHead(200, { ...h, 'content-type': 'application/json' });
    res.end(JSON.stringify({ pod: s.name, sincePrestopMs: h['x-lag-meter-since-prestop-ms'] ?? null, sinceReadyMs: h['x-lag-meter-since-ready-ms'] ?? null }) + '\n');
  });
  server.keepAliveTimeout = 620 * 1000; // longer than every load balancer's idle timeout (GKE: 600 s)
  server.headersTimeout = 621 * 1000;
  server.listen(s.port, s.host, () => {
    log({ event: 'listening', port: server.address().port, name: s.name, waitMs: s.waitMs });
  });
  const stop = (signal) => {
    log({ event: 'stop', signal });
    server.close(() => process.exit(0));
    server.closeIdleConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

function log(fields) {
  process.stdout.write(JSON.stringify(fields) + '\n');
}

try {
  main();
} catch (e) {
  process.stderr.write(`lag meter: ${e.message}\n`);
  process.exit(2);
}
