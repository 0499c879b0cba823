#!/usr/bin/env node
// Regenerates src/imports/ (typed classes for the Gateway API and vendor policy CRDs) from the
// CRDs committed under crds/ (see crds/README.md for their versions and commits).
//
// Each CRD is reduced to its storage version first: the older versions (v1beta1) are the same
// schema under a deprecated name, and importing them would double the generated API.
// Files of one API group are imported together, as `cdk8s import` writes one module per group.
//
//   node build-tools/import-crds.js
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const yaml = require('js-yaml');

const root = path.join(__dirname, '..');
const crdDir = path.join(root, 'crds');
const out = path.join(root, 'src', 'imports');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-crds-'));

const groups = new Map();
for (const file of fs.readdirSync(crdDir).filter((f) => f.endsWith('.yaml')).sort()) {
  const crd = yaml.load(fs.readFileSync(path.join(crdDir, file), 'utf8'));
  crd.spec.versions = crd.spec.versions.filter((v) => v.storage);
  const group = crd.spec.group;
  groups.set(group, [...(groups.get(group) ?? []), crd]);
}
for (const [group, crds] of groups) {
  const file = path.join(tmp, `${group}.yaml`);
  fs.writeFileSync(file, crds.map((c) => yaml.dump(c, { lineWidth: -1 })).join('---\n'));
  execFileSync(path.join(root, 'node_modules', '.bin', 'cdk8s'), ['import', file, '-o', out, '-l', 'typescript', '--no-check-upgrade'], {
    cwd: tmp, stdio: 'inherit',
  });
}
fs.rmSync(tmp, { recursive: true, force: true });
