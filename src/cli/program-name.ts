/**
 * The CLI's name and version: error lines start with the name it was invoked by (`gws:` only when
 * run as `gws`), and `--version` prints the package's version.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const PACKAGE_NAME = 'cdk8s-graceful-web-service';

/** The bin names package.json declares. */
const BIN_NAMES = [PACKAGE_NAME, 'gws'];

/**
 * The name the user typed: the bin's file name when it is one of ours (npm's bin links keep it in
 * `process.argv[1]`), else the package name (`node lib/cli/gws.js`, ts-node, a test harness).
 */
export function invokedName(script: string | undefined): string {
  const base = path.basename(script ?? '');
  return BIN_NAMES.includes(base) ? base : PACKAGE_NAME;
}

/** The version in the package's package.json (two levels up from src/cli/ and from lib/cli/). */
export function packageVersion(): string {
  const file = path.join(__dirname, '..', '..', 'package.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}
