// The oom policies on a program procguard has just restarted, in the same cycle. A child inherits
// its parent's oom_score_adj: a program supervisord starts has supervisord's value (-1000 when
// supervisord is protected), so a leaking program restarted for its memory would be immune to the
// OOM killer until the next cycle, an interval away. Its new process is read from /proc at once,
// and the oom policies evaluated and carried out on it as on any process of the snapshot.

import { carryOutFollowUps, type Execution } from '../actions/execute.js';
import type { AdapterDeps } from '../actions/types.js';
import { ProcfsCollector } from '../collectors/procfs/procfs.js';
import { evaluate } from '../engine/evaluate.js';
import { namespec } from '../data/host-index.js';
import { emptyState, type ProcessEntry, type Snapshot } from '../data/types.js';
import { localTimeZone } from '../host/time-zone.js';
import { kindOf } from '../policy/kinds/index.js';
import type { PolicySet } from '../policy/model.js';

/** Reads the processes of these pids now (every field); those that have exited are left out. */
export type ProcessReader = (pids: readonly number[]) => ProcessEntry[];

/** /proc on Linux; elsewhere the next cycle's snapshot catches the new process. */
function defaultReader(): ProcessReader | undefined {
  if (process.platform !== 'linux') return undefined;
  const procfs = new ProcfsCollector();
  return (pids) => procfs.readNow(pids);
}

/** The execution with the actions of the policies whose kind applies to restarted programs (oom) added, carried out. */
export async function applyPoliciesToRestarted(policySet: PolicySet, snapshot: Snapshot, execution: Execution, deps: AdapterDeps, read = defaultReader()): Promise<Execution> {
  const policies = policySet.policies.filter((p) => kindOf(p.kind).appliesToRestarted);
  if (policies.length === 0 || execution.restarted.length === 0 || !read) return execution;
  const before = new Map(snapshot.processes.map((p) => [p.pid, p]));
  const found = new Map(read(execution.restarted.map((r) => r.pid)).map((p) => [p.pid, p]));
  const fresh: ProcessEntry[] = [];
  const replaced = new Set<number>();
  for (const { action, pid } of execution.restarted) {
    const old = before.get(action.target.pid);
    const now = found.get(pid);
    if (!old?.supervisor || !now) continue; // exited already: nothing to set
    // The program's new process, as supervisord's child: the parent of the process it replaced.
    if (now.ppid !== old.ppid) {
      deps.log(`warning: ${namespec(old)} was restarted as pid ${pid}, whose parent is pid ${now.ppid}, not supervisord (pid ${old.ppid}); its oom_score_adj is left to the next cycle`);
      continue;
    }
    now.supervisor = { ...old.supervisor, statename: 'RUNNING', start: Math.floor(now.start_time ?? snapshot.time) };
    fresh.push(now);
    replaced.add(old.pid);
  }
  if (fresh.length === 0) return execution;

  const after: Snapshot = { ...snapshot, processes: [...snapshot.processes.filter((p) => !replaced.has(p.pid) && !found.has(p.pid)), ...fresh] };
  const evaluation = evaluate({ ...policySet, policies }, after, emptyState(), snapshot.time, { timeZone: localTimeZone() });
  const pids = new Set(fresh.map((p) => p.pid));
  const actions = evaluation.plan.actions.filter((a) => pids.has(a.target.pid)).map((action) => ({ ...action, reason: `${action.reason} (restarted as pid ${action.target.pid} in this cycle)` }));
  return carryOutFollowUps(execution, actions, deps);
}
