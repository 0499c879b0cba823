#!/usr/bin/env node
// What the npm package may hold, as an allowlist: anything else in the tarball (test output, a
// scratch file, a source map with a machine path) fails. .npmignore is a denylist, so a new kind
// of file in the tree would otherwise ship silently.
//
//   node build-tools/package-files.js              checks `npm pack --dry-run` (what would be packed now)
//   node build-tools/package-files.js <tarball>    checks a packed .tgz (the consumer smoke test does)
//
// test/package-contents.test.ts runs the first form and tests the allowlist itself.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');

/** Files at the package root that npm or jsii need, or that a user reads. */
const ROOT_FILES = ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'API.md', '.jsii'];

/** Patterns for everything else: the compiled library and CLI, and the shipped assets. */
const PATTERNS = [
  /^lib\/.+\.js$/,
  /^lib\/.+\.d\.ts$/,
  /^assets\/.+/,
];

/**
 * Bundled dependencies (package.json `bundledDependencies`) and everything they depend on:
 * npm packs them under node_modules/.
 */
function bundledClosure(pkg, nodeModules) {
  const seen = new Set();
  const visit = (name) => {
    if (seen.has(name)) return;
    seen.add(name);
    const file = path.join(nodeModules, name, 'package.json');
    const deps = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')).dependencies ?? {} : {};
    Object.keys(deps).forEach(visit);
  };
  (pkg.bundledDependencies ?? pkg.bundleDependencies ?? []).forEach(visit);
  return seen;
}

/**
 * The packed paths (relative to the package root) that the allowlist does not cover.
 * @param {string[]} files
 * @param {{ bundled: Set<string> }} allowed
 */
function unexpectedFiles(files, allowed) {
  return files.filter((file) => {
    if (ROOT_FILES.includes(file) || PATTERNS.some((p) => p.test(file))) return false;
    const m = /^node_modules\/((?:@[^/]+\/)?[^/]+)\/.+/.exec(file);
    return !(m && allowed.bundled.has(m[1]));
  });
}

/** What `npm pack` would put into the tarball now. */
function packList() {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return JSON.parse(out)[0].files.map((f) => f.path);
}

/** The files in a packed tarball, without npm's `package/` prefix. */
function tarballList(tarball) {
  return execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    .split('\n').filter((l) => l !== '' && !l.endsWith('/')).map((l) => l.replace(/^package\//, ''));
}

function allowedFor(root_) {
  const pkg = JSON.parse(fs.readFileSync(path.join(root_, 'package.json'), 'utf8'));
  return { bundled: bundledClosure(pkg, path.join(root_, 'node_modules')) };
}

module.exports = { unexpectedFiles, packList, tarballList, allowedFor, ROOT_FILES, PATTERNS };

if (require.main === module) {
  const tarball = process.argv[2];
  const files = tarball ? tarballList(tarball) : packList();
  const extra = unexpectedFiles(files, allowedFor(root));
  if (extra.length > 0) {
    console.error(`the package holds ${extra.length} file(s) outside the allowlist (build-tools/package-files.js):\n${extra.map((f) => `  ${f}`).join('\n')}`);
    process.exit(1);
  }
  console.log(`package contents: ${files.length} files, all on the allowlist`);
}
