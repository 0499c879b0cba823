#!/usr/bin/env node
// The npm registry reachable from our machines serves only the Linux builds of some
// platform-specific optional packages (e.g. @unrs/resolver-binding-*, pulled in by jest 30
// and eslint-import-resolver-typescript). npm then leaves the other platforms' entries out of
// package-lock.json, and `npm ci` refuses the lock ("Missing: ... from lock file").
//
// This adds an entry for every declared optional dependency that the lock lacks, marked
// optional (and dev, like its parent), so `npm ci` accepts the lock; on a machine where the
// package is not needed or cannot be fetched, npm skips it as it does any optional dependency.
//
//   node build-tools/complete-lockfile.js          fix package-lock.json in place
//   node build-tools/complete-lockfile.js --check  exit 1 if entries are missing
'use strict';
const fs = require('fs');
const path = require('path');

const file = path.join(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const packages = lock.packages;

/** Where npm would find `name` when required from the package at `key`, if anywhere. */
function resolve(key, name) {
  let base = key;
  for (;;) {
    const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!base) return undefined;
    const index = base.lastIndexOf('/node_modules/');
    base = index === -1 ? '' : base.slice(0, index);
  }
}

const added = [];
for (const [key, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies || {})) {
    if (resolve(key, name) !== undefined) continue;
    packages[`node_modules/${name}`] = { version, ...(entry.dev ? { dev: true } : {}), optional: true };
    added.push(`${name}@${version}`);
  }
}

if (process.argv.includes('--check')) {
  if (added.length > 0) {
    console.error(`package-lock.json lacks ${added.length} optional platform entries (${added.slice(0, 3).join(', ')}, ...).`);
    console.error('Run: node build-tools/complete-lockfile.js   and commit package-lock.json');
    process.exit(1);
  }
  console.log('package-lock.json: every optional dependency has an entry');
} else {
  // Keep npm's key order (sorted) so later `npm install` runs produce small diffs.
  lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
  fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(added.length ? `added ${added.length} optional entries: ${added.join(', ')}` : 'nothing to add');
}
