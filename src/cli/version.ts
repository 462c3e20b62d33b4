// procguard's version: package.json's, written in by the bundler (scripts/bundle.mjs), or read
// from package.json when running unbundled (tests, dist/).

import { readFileSync } from 'node:fs';

declare const PROCGUARD_VERSION: string | undefined;

export const VERSION: string =
  typeof PROCGUARD_VERSION === 'string' ? PROCGUARD_VERSION : (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
