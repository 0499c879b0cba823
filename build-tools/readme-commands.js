#!/usr/bin/env node
// Runs every ```sh block of README.md, verbatim, from the repository root, as a user would after
// the quick start (`npm ci && npm run examples`), and fails if any block exits non-zero.
//
// A block is skipped only when the line before its fence says why, in this form:
//   <!-- readme-commands: skip: <reason> -->
// (for example a command that needs a real cluster). The list of skipped blocks and their
// reasons is printed, so a reviewer sees exactly what did not run.
//
// A block whose commands are meant to fail (a drain test of a server that does not drain) says
// which exit status each of its lines must have; each line then runs on its own:
//   <!-- readme-commands: exits: 0 1 -->
//
//   node build-tools/readme-commands.js [--list]
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const lines = fs.readFileSync(path.join(root, 'README.md'), 'utf8').split('\n');
const SKIP = /^<!-- readme-commands: skip: (.+\S) -->$/;
const EXITS = /^<!-- readme-commands: exits: ([0-9 ]+) -->$/;

const blocks = [];
for (let i = 0; i < lines.length; i++) {
  if (lines[i].trim() !== '```sh') continue;
  const end = lines.findIndex((line, j) => j > i && line.trim() === '```');
  if (end < 0) throw new Error(`README.md:${i + 1}: unterminated code block`);
  let before = i - 1;
  while (before >= 0 && lines[before].trim() === '') before--;
  const marker = before >= 0 ? lines[before].trim() : '';
  const skip = SKIP.exec(marker);
  const exits = EXITS.exec(marker);
  blocks.push({
    line: i + 1,
    script: lines.slice(i + 1, end).join('\n'),
    skip: skip ? skip[1] : undefined,
    exits: exits ? exits[1].trim().split(/\s+/).map(Number) : undefined,
  });
  i = end;
}
if (blocks.length === 0) throw new Error('README.md has no ```sh blocks');

/**
 * Runs a script with bash -e -o pipefail from the repository root, in its own process group, and
 * ends whatever it left running (a server started with `&`, a child that outlived its parent), so
 * nothing holds a port or this script's output open. Returns the exit status.
 */
function run(script) {
  const result = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', script], {
    cwd: root, stdio: ['ignore', 'inherit', 'inherit'], timeout: 10 * 60 * 1000, detached: true,
  });
  try {
    process.kill(-result.pid, 'SIGKILL');
  } catch {
    // The group is already gone: nothing was left running.
  }
  return result.status ?? result.signal;
}

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
  // One script for the whole block, or (with an exits marker) one per command line.
  const commands = block.exits === undefined ? [[block.script, 0]]
    : block.script.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#')).map((l, k) => [l, block.exits[k]]);
  if (block.exits !== undefined && commands.length !== block.exits.length) {
    failed++;
    console.log(`README.md:${block.line}: FAILED: the exits marker lists ${block.exits.length} statuses for ${commands.length} commands`);
    continue;
  }
  const started = Date.now();
  let ok = true;
  for (const [script, expected] of commands) {
    const status = run(script);
    if (status !== expected) {
      ok = false;
      console.log(`README.md:${block.line}: exit ${status}, expected ${expected}: ${script.split('\n')[0]}`);
      break;
    }
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (ok) {
    console.log(`README.md:${block.line}: ok (${seconds} s)`);
  } else {
    failed++;
    console.log(`README.md:${block.line}: FAILED (${seconds} s)`);
  }
}
const ran = blocks.filter((b) => b.skip === undefined).length;
console.log(`README commands: ${list ? 0 : ran - failed} passed, ${list ? 0 : failed} failed, ${blocks.length - ran} skipped with a reason`);
process.exit(failed > 0 ? 1 : 0);
