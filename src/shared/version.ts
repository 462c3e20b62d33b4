// procguard's version, for --version, reports and the manual.

import { readFileSync } from 'node:fs';

/** package.json's version, written in by the bundler (scripts/bundle.mjs); read from the file when running unbundled. */
declare const PROCGUARD_VERSION: string | undefined;

export const VERSION: string =
  typeof PROCGUARD_VERSION === 'string' ? PROCGUARD_VERSION : (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
