// The one interface every process-table collector implements, and what the policies need
// read beyond the basics (reading cmdline, exe or oom_score_adj for every process costs time).

import type { ProcessEntry } from '../data/types.js';

export interface ProcessFields {
  /** Full command lines (match.cmdline, or output that shows them). */
  cmdline: boolean;
  /** Command lines of processes whose name the kernel cut at 15 characters (match.name, pidof-style). */
  truncatedNames: boolean;
  oomScoreAdj: boolean;
  /** uid and user name. */
  user: boolean;
  /** The resolved /proc/PID/exe (match.exe); a collector that cannot read it leaves it out. */
  exe?: boolean;
  /** pss, uss and swap from /proc/PID/smaps_rollup (max_pss, max_uss, max_swap). */
  smaps?: boolean;
}

export const ALL_FIELDS: ProcessFields = { cmdline: true, truncatedNames: true, oomScoreAdj: true, user: true, exe: true, smaps: true };

/** What a second pass can read for the processes that need it. */
export interface LaterFields {
  cmdline?: boolean;
  oomScoreAdj?: boolean;
  exe?: boolean;
  smaps?: boolean;
}

export interface ProcessTableCollector {
  /** procfs or ps: the source named in a collector error. */
  readonly name: string;
  collect(fields: ProcessFields): Promise<ProcessEntry[]>;
  /** Seconds since boot when the last `collect` read the table (the snapshot's since_boot); undefined where the collector has no such clock. */
  readonly sinceBoot?: number | undefined;
  /**
   * Reads `fields` for these processes only, once the policies have narrowed down which need
   * them. A collector without it reads everything the policies may need in `collect`.
   */
  complete?(processes: readonly ProcessEntry[], fields: LaterFields): void;
}
