// Regular expressions from policy files (match.name /regex/, match.cmdline) run against text
// any local user controls: a command line can be crafted to make a backtracking regex take
// years. procguard accepts only patterns that V8's linear-time engine can run, and bounds
// every match:
//   - a pattern that backtracks too much falls back to the linear-time engine (exponential cases);
//   - a subject longer than LINEAR_SUBJECT_LENGTH goes to the linear-time engine directly
//     (polynomial cases such as `python .*app\.py` on a megabyte of "python python …").
// The backtracking engine stays the fast path for the short strings nearly every match sees;
// the linear one is several times slower per character but never worse than linear.

import v8 from 'node:v8';

/** Longer subjects are matched in linear time; a quadratic pattern on this many characters stays around a millisecond. */
export const LINEAR_SUBJECT_LENGTH = 1024;

let linearEngine: boolean | undefined;

/** Turns on V8's linear-time regexp engine (the `l` flag) and its use as the fallback for runaway backtracking. */
function enableLinearEngine(): boolean {
  if (linearEngine !== undefined) return linearEngine;
  v8.setFlagsFromString('--enable-experimental-regexp-engine');
  v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
  try {
    new RegExp('a', 'l');
    linearEngine = true;
  } catch {
    linearEngine = false;
  }
  return linearEngine;
}

/** A compiled policy pattern: `test` is bounded in time whatever the subject. */
export interface Pattern {
  readonly source: string;
  test(subject: string): boolean;
}

class BoundedPattern implements Pattern {
  constructor(
    readonly source: string,
    private readonly fast: RegExp,
    private readonly linear: RegExp,
  ) {}

  test(subject: string): boolean {
    return (subject.length > LINEAR_SUBJECT_LENGTH ? this.linear : this.fast).test(subject);
  }
}

/** Thrown for a pattern that is valid JavaScript but could not be matched in linear time. */
export class NonLinearPatternError extends Error {}

/**
 * Compiles a policy pattern. Throws SyntaxError for invalid syntax, and NonLinearPatternError
 * for what only a backtracking engine can run: backreferences, lookahead and lookbehind, and
 * repetition counts above 16 (V8's limit for the linear-time engine).
 */
export function compileBoundedPattern(source: string, flags = ''): Pattern {
  if (!enableLinearEngine()) throw new NonLinearPatternError('this Node.js has no linear-time regular expression engine, so patterns cannot be bounded');
  const fast = new RegExp(source, flags); // a syntax error is reported as such
  let linear: RegExp;
  try {
    linear = new RegExp(source, `${flags}l`);
  } catch {
    throw new NonLinearPatternError(
      'it cannot be matched in linear time: backreferences (\\1), lookahead and lookbehind ((?=, (?!, (?<=, (?<!) and repetition counts above 16 are refused, since a crafted command line could make such a pattern run for hours; use + or * for long repeats and exclude: for a condition that must not hold',
    );
  }
  return new BoundedPattern(source, fast, linear);
}
