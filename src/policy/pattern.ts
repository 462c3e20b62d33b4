// Regular expressions from policy files (match.name /regex/, match.cmdline) run against text
// any local user controls: a command line can be crafted to make a backtracking regex take
// years. procguard accepts only patterns that V8's linear-time engine can run, and bounds
// every match:
//   - a pattern that backtracks too much falls back to the linear-time engine (exponential cases);
//   - a subject longer than LINEAR_SUBJECT_LENGTH goes to the linear-time engine directly
//     (polynomial cases such as `python .*app\.py` on a line of "python python …").
// The backtracking engine stays the fast path for the short strings nearly every match sees;
// the linear one is several times slower per character but never worse than linear.
//
// Linear is not enough on its own: the linear-time engine spends a quarter to one microsecond
// per character and pattern, so a user who starts a hundred processes with 2 MiB command lines
// would still hold every cycle for minutes. A pattern therefore sees at most the first
// MATCH_LENGTH characters of its subject, as `pgrep -f` sees only the first 4,096 bytes of a
// command line. The bound is what makes the cost of a cycle independent of what users put in
// their command lines: at most subjects × patterns × MATCH_LENGTH characters examined.

import { setRegexpEngineFlags } from '../shared/regexp-engine.js';

/** Longer subjects are matched in linear time; a quadratic pattern on this many characters stays well under a millisecond. */
export const LINEAR_SUBJECT_LENGTH = 256;

/**
 * A pattern sees at most this many characters of its subject (the start of a command line).
 * Chosen so that a hundred crafted command lines against ten patterns cost well under a
 * second per cycle on a slow machine (about 0.3 µs per character and pattern in the
 * linear-time engine), while the start of a command line, where the program and its
 * options are, is always seen whole.
 */
export const MATCH_LENGTH = 2048;

let linearEngine: boolean | undefined;

/** Turns on V8's linear-time regexp engine (the `l` flag) and its use as the fallback for runaway backtracking. */
function enableLinearEngine(): boolean {
  if (linearEngine !== undefined) return linearEngine;
  setRegexpEngineFlags();
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
  /** Whether the pattern matches the subject's first MATCH_LENGTH characters. */
  test(subject: string): boolean;
}

/** The part of a subject a pattern sees. */
export function matchedPart(subject: string): string {
  return subject.length > MATCH_LENGTH ? subject.slice(0, MATCH_LENGTH) : subject;
}

class BoundedPattern implements Pattern {
  constructor(
    readonly source: string,
    private readonly fast: RegExp,
    private readonly linear: RegExp,
  ) {}

  test(subject: string): boolean {
    const text = matchedPart(subject);
    return (text.length > LINEAR_SUBJECT_LENGTH ? this.linear : this.fast).test(text);
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
