// The registry of policy kinds: the one list the loader, the checks, the engine, the
// notifications and the status page loop over. A new kind is its own module, a line here and
// its branch in schemas/policy.schema.json.

import { cpu } from './cpu.js';
import type { PolicyKind } from './kind.js';
import { load } from './load.js';
import { memory } from './memory.js';
import { oom } from './oom.js';
import { runtime } from './runtime.js';

const KIND_LIST = [memory, oom, load, runtime, cpu] as const;

/** A normalized policy of any kind. */
export type Policy = ReturnType<(typeof KIND_LIST)[number]['normalize']>;

export const KINDS: ReadonlyMap<string, PolicyKind> = new Map(KIND_LIST.map((kind) => [kind.kind, kind as unknown as PolicyKind]));

/** The kinds' names in registry order, for messages ("use one of memory, oom, load, runtime, cpu"). */
export const POLICY_KINDS: readonly string[] = KIND_LIST.map((kind) => kind.kind);

/** The kind whose policies pause process trees: the plan entry that resumes a tree names it. */
export const PAUSING_KIND = (KIND_LIST.find((kind) => 'pauses' in kind && kind.pauses) ?? load).kind;

/** The module of a kind; every normalized policy's kind is registered. */
export function kindOf(name: string): PolicyKind {
  const kind = KINDS.get(name);
  if (!kind) throw new Error(`no policy kind "${name}" is registered`);
  return kind;
}

export type { KindContext, KindResult, Measure, PolicyKind, PolicyTargets, Proposal } from './kind.js';
