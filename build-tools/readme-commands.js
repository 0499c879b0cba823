#!/usr/bin/env node
// Runs every ```sh block of README.md, verbatim, from the repository root, as a user would after
// the quick start (`npm ci && npm run examples`), and fails if any block exits non-zero.
//
// A block is skipped only when the line before its fence says why, in this form:
//   <!-- readme-commands: skip: <reason> -->
// (for example a command that needs a real cluster). The list of skipped blocks and their
// reasons is printed, so a reviewer sees exactly what did not run.
//
//   node build-tools/readme-commands.js [--list]
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const lines = fs.readFileSync(path.join(root, 'README.md'), 'utf8').split('\n');
const SKIP = /^<!-- readme-commands: skip: (.+\S) -->$/;

const blocks = [];
for (let i = 0; i < lines.length; i++) {
  if (lines[i].trim() !== '```sh') continue;
  const end = lines.findIndex((line, j) => j > i && line.trim() === '```');
  if (end < 0) throw new Error(`README.md:${i + 1}: unterminated code block`);
  let before = i - 1;
  while (before >= 0 && lines[before].trim() === '') before--;
  const skip = before >= 0 ? SKIP.exec(lines[before].trim()) : null;
  blocks.push({ line: i + 1, script: lines.slice(i + 1, end).join('\n'), skip: skip ? skip[1] : undefined });
  i = end;
}
if (blocks.length === 0) throw new Error('README.md has no ```sh blocks');

const list = process.argv.includes('--list');
let failed = 0;
for (const block of blocks) {
  const first = block.script.split('\n')[0];
  if (block.skip !== undefined) {
    console.log(`README.md:${block.line}: skipped (${block.skip}): ${first}`);
    continue;
  }
  if (list) {
    console.log(`README.md:${block.line}: would run: ${first}`);
    continue;
  }
  console.log(`README.md:${block.line}: running\n${block.script.replace(/^/gm, '  $ ')}`);
  const started = Date.now();
  // Each block runs in its own process group, and whatever it left running (a server started
  // with `&`, a child that outlived its parent) is ended with it, so nothing holds a port or
  // this script's output open.
  const result = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', block.script], {
    cwd: root, stdio: ['ignore', 'inherit', 'inherit'], timeout: 10 * 60 * 1000, detached: true,
  });
  try {
    process.kill(-result.pid, 'SIGKILL');
  } catch {
    // The group is already gone: nothing was left running.
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status === 0) {
    console.log(`README.md:${block.line}: ok (${seconds} s)`);
  } else {
    failed++;
    console.log(`README.md:${block.line}: FAILED (exit ${result.status ?? result.signal}, ${seconds} s)`);
  }
}
const ran = blocks.filter((b) => b.skip === undefined).length;
console.log(`README commands: ${list ? 0 : ran - failed} passed, ${list ? 0 : failed} failed, ${blocks.length - ran} skipped with a reason`);
process.exit(failed > 0 ? 1 : 0);
