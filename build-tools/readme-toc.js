#!/usr/bin/env node
// Writes README.md's table of contents from its `##` and `###` headings, between the markers
//   <!-- toc -->  and  <!-- /toc -->
// with GitHub's anchor rules (lower case; punctuation other than `-` and `_` dropped; spaces become
// `-`; a repeated anchor gets `-1`, `-2`, ...). Headings inside code blocks are not headings.
//
//   node build-tools/readme-toc.js           rewrite README.md
//   node build-tools/readme-toc.js --check   exit 1 if the table is not current (the tests run this)
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const README = path.join(__dirname, '..', 'README.md');
const START = '<!-- toc -->';
const END = '<!-- /toc -->';

/** GitHub's anchor for a heading's text. */
function slug(text, seen) {
  const base = text
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/ /g, '-');
  const n = seen.get(base) ?? 0;
  seen.set(base, n + 1);
  return n === 0 ? base : `${base}-${n}`;
}

/** The table for a README's text. */
function toc(text) {
  const seen = new Map();
  const lines = [];
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const m = /^(#{1,3}) (.+?)\s*$/.exec(line);
    if (!m) continue;
    const anchor = slug(m[2], seen);
    if (m[1].length === 1) continue; // the title
    const indent = m[1].length === 2 ? '' : '  ';
    lines.push(`${indent}- [${m[2]}](#${anchor})`);
  }
  return lines.join('\n');
}

function current(text) {
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md has no ${START} ... ${END} markers`);
  return text.slice(0, a + START.length) + '\n' + toc(text) + '\n' + text.slice(b);
}

if (require.main === module) {
  const text = fs.readFileSync(README, 'utf8');
  const next = current(text);
  if (process.argv.includes('--check')) {
    if (next !== text) {
      console.error('README.md: the table of contents is not current; run `node build-tools/readme-toc.js`');
      process.exit(1);
    }
  } else if (next !== text) {
    fs.writeFileSync(README, next);
  }
}

module.exports = { toc, current, slug };
