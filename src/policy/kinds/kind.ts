// What a kind of policy is: one module per kind (memory, oom, load, runtime, cpu) declares how its
// entries are normalized and checked, what it measures and proposes each cycle, its default
// notification text and its did-you-mean hints. The loader, the cross-file checks, the engine,
// the notifications and the status page loop over the registry (index.ts) and never name a kind.

import type { HostIndex, LiveProcess } from '../../data/host-index.js';
import type { ActionName, NotificationEvent, Observation, PausedTree, ProcessRef, TargetState } from '../../data/types.js';
import type { DiagnosticCode, Severity } from '../diagnostics.js';
import type { PolicyBase } from '../base.js';
import type { PolicyHostNeeds } from '../host-needs.js';
import type { Data, Entry } from '../walk.js';
import type { ParsedFile, PathSegment } from '../yaml-source.js';

/** Reports a problem at a path of a policy file (cross-check.ts). */
export interface Report {
  add(file: ParsedFile, path: PathSegment[], severity: Severity, code: DiagnosticCode, message: string, target?: 'key' | 'value'): void;
}

/** What a kind asks for before the shared rules (audit mode, the flapping guard, one disruptive action per process per cycle) decide whether it is planned or skipped. */
export interface Proposal {
  policy: PolicyBase & { kind: string };
  action: ActionName;
  process: LiveProcess;
  /** The observed value against the limit, in words. */
  reason: string;
  /** The same as numbers, for the plan's consumers. */
  measure?: Measure;
  /** set_oom_score_adj */
  value?: number;
  /** signal */
  signal?: string;
  /** kill */
  grace?: number;
  /** pause/resume: every process of the tree. */
  processes?: ProcessRef[];
  /** The target's memory for the notification (memory: the value compared). */
  rss?: number;
  limit?: number;
  /** Where the target's counters and action history live (memory, runtime). */
  key?: string;
  /** The flapping guard of the policy: at most `count` actions `within` seconds. */
  maxActions?: { count: number; within: number };
}

/** A figure measured against its limit, as the plan carries it. */
export type Measure = import('../../data/types.js').Measure;

/** What a kind's evaluation hands back: proposals in order, what it saw, and (load) the trees it keeps paused. */
export interface KindResult {
  proposals: Proposal[];
  observations: Observation[];
  warnings: string[];
  /** The policy's paused trees after this cycle (kinds that pause). */
  paused?: PausedTree[];
}

/** The state of one policy's targets, copied so the caller's state is never changed. */
export type PolicyTargets = Record<string, TargetState>;

/** What the engine hands a kind for one policy in one cycle. */
export interface KindContext {
  /** The processes the policy's match selects. */
  matched: LiveProcess[];
  host: HostIndex;
  /** Epoch seconds of the snapshot. */
  time: number;
  /** The policy's remembered targets (a copy the kind updates). */
  targets: PolicyTargets;
  /** Target keys this cycle saw: the others' counters are forgotten. */
  seen: Set<string>;
  /** The trees this policy paused in earlier cycles. */
  paused: readonly PausedTree[];
  /** Every pid paused by any policy: one owner per stopped process. */
  pausedByAny: ReadonlySet<number>;
  /** The process table could not be read this cycle. */
  blind: boolean;
  /** One value per kind for the whole cycle (the oom policies' claims on each pid), made by `init` on first use. */
  perCycle<T>(init: () => T): T;
}

export interface PolicyKind<P extends PolicyBase & { kind: string } = PolicyBase & { kind: string }> {
  /** The value of `kind:` in a policy file. */
  readonly kind: P['kind'];
  /** Its branch of schemas/policy.schema.json: `#/definitions/<schemaDefinition>`. */
  readonly schemaDefinition: string;
  /** Keys people bring from the tools procguard replaces, with what to write instead (did you mean). */
  readonly keyHints?: Readonly<Record<string, string>>;
  /** It stops processes with SIGSTOP: the trees paused under its name are resumed only by it. */
  readonly pauses?: boolean;
  /** Its actions apply to a program procguard has just restarted, within the same cycle (oom_score_adj is inherited from supervisord). */
  readonly appliesToRestarted?: boolean;
  /** The per-process fields its evaluation reads beyond the basics, which a collector reads only for the processes it matches. */
  readonly reads?: ReadonlyArray<'oomScoreAdj'>;
  /**
   * Per-process fields this policy reads beyond the basics and the kind's `reads` (smaps_rollup
   * for PSS, USS and swap): read only for the processes it matches, and their descendants with `tree`.
   */
  processReads?(policy: P): { fields: ReadonlyArray<'smaps'> } | undefined;
  /** Of the processes this policy matched (the first pass's snapshot), those whose smaps_rollup its evaluation needs. */
  smapsTargets?(policy: P, matched: readonly LiveProcess[], host: HostIndex): Iterable<LiveProcess>;
  /** What this policy needs read about the host as a whole (its memory, its pressure), which the collectors read only when a policy needs it. */
  hostNeeds?(policy: P): PolicyHostNeeds | undefined;
  /**
   * Durations, as paths inside a policy, where 0 would mean acting at once or never. Checked on
   * every policy that has them, whatever its kind: a key put in the wrong kind still gets the message.
   */
  readonly positiveDurations?: ReadonlyArray<readonly string[]>;
  /** The typed policy from its schema-valid, checked entry. */
  normalize(raw: Data, base: PolicyBase): P;
  /** Values the schema cannot judge (a limit of 0, two keys that contradict each other). */
  check?(policy: Entry, label: string, report: Report): void;
  /** Checks across every policy of the set: the kind's own entries, and all of them. */
  checkSet?(own: readonly Entry[], all: readonly Entry[], report: Report): void;
  /** What the policy would do to a process it matched, when a local user could start one to have it done ("kill it"); undefined when nothing worth the while. */
  power?(raw: Data): string | undefined;
  /** What the policy enforces, in a line for people (the status page): "max_rss 200.0 MiB per process, 2 cycles, then restart". */
  describe(policy: P): string;
  /** This cycle's proposals and observations. */
  evaluate(policy: P, context: KindContext): KindResult;
  /** Its own default subject and body for this event, where it has one (memmon's words for a memory restart). */
  notificationText?(event: NotificationEvent): { subject: string; body: string } | undefined;
}
