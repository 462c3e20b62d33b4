// V8's linear-time regexp engine, and its use as the fallback for runaway backtracking: the
// flags that policy patterns rely on (src/policy/pattern.ts says why). They are process-wide
// V8 flags, so the bundled build's loader sets them too, before it compiles anything: V8's
// code cache holds code compiled under one set of flags and is refused under another.

import v8 from 'node:v8';

/**
 * Backtracks after which a match moves to the linear-time engine. V8's default (50,000) is
 * counted per attempt at each start position, so a pattern like `.*celery.*worker.*-Q.*` still
 * took about 90 ms on a crafted 1 KiB line; a thousand keeps such a short subject under a
 * millisecond and is far above what an ordinary match needs.
 */
export const BACKTRACKS_BEFORE_FALLBACK = 1000;

export const REGEXP_ENGINE_FLAGS: readonly string[] = [
  '--enable-experimental-regexp-engine',
  '--enable-experimental-regexp-engine-on-excessive-backtracks',
  `--regexp-backtracks-before-fallback=${BACKTRACKS_BEFORE_FALLBACK}`,
];

/** Sets the flags; setting them again with the same values changes nothing. */
export function setRegexpEngineFlags(): void {
  for (const flag of REGEXP_ENGINE_FLAGS) v8.setFlagsFromString(flag);
}
