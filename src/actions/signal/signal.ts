// POSIX signals to processes: pause (SIGSTOP) and resume (SIGCONT) a whole process tree,
// kill (TERM, then KILL after the grace period), and {signal: NAME} for a process that no
// supervisord runs. Every pid is checked against its snapshot start time right before it is
// signalled; a pid that now belongs to another process is skipped, never signalled.

import type { ProcessRef } from '../../engine/types.js';
import { checkIdentity } from '../identity.js';
import { errorText, type Adapter, type AdapterDeps, type Outcome, type Work } from '../types.js';

/** How often a killed process is looked at while it has its grace period. */
const EXIT_POLL_MS = 100;
/** How long KILL is given to take effect before the kill is reported as failed. */
const KILL_WAIT_MS = 3000;

export const adapter: Adapter = {
  name: 'signal',
  accepts(work: Work): boolean {
    if (work.type !== 'action') return false;
    const { action } = work;
    if (action.action === 'pause' || action.action === 'resume' || action.action === 'kill') return true;
    return action.action === 'signal' && action.target.namespec === undefined;
  },
  async execute(work: Work, deps: AdapterDeps): Promise<Outcome> {
    if (work.type !== 'action') return { status: 'failed', error: 'the signal adapter only carries out actions' };
    const { action } = work;
    const tree = action.processes ?? (action.target.start_time !== undefined ? [{ pid: action.target.pid, start_time: action.target.start_time }] : []);
    switch (action.action) {
      case 'pause':
        return pauseTree(tree, deps);
      case 'resume':
        return resumeTree(tree, deps);
      case 'kill':
        return killProcess(action.target, action.grace ?? 10, deps);
      default:
        return sendOne(action.target, signalOf(action.signal ?? 'HUP'), deps);
    }
  },
};

/** "HUP", "SIGHUP" → "SIGHUP". */
export function signalOf(name: string): NodeJS.Signals {
  const upper = name.toUpperCase();
  return (upper.startsWith('SIG') ? upper : `SIG${upper}`) as NodeJS.Signals;
}

/** Send one signal; undefined when sent, else why not. */
function send(pid: number, signal: NodeJS.Signals, deps: AdapterDeps): string | undefined {
  try {
    deps.kill(pid, signal);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return `pid ${pid} has exited`;
    if (code === 'EPERM') return `not permitted to send ${signal} to pid ${pid} (EPERM; procguard runs as uid ${process.getuid?.() ?? '?'})`;
    return `${signal} to pid ${pid} failed: ${errorText(error)}`;
  }
}

async function sendOne(target: { pid: number; start_time?: number }, signal: NodeJS.Signals, deps: AdapterDeps): Promise<Outcome> {
  const identity = checkIdentity(target, deps);
  if (!identity.same) return { status: 'skipped', reason: identity.why };
  const problem = send(target.pid, signal, deps);
  return problem === undefined ? { status: 'done', detail: `sent ${signal} to pid ${target.pid}` } : { status: 'failed', error: problem };
}

/** SIGSTOP from the top down, so a parent cannot react to its children stopping. Outcome.processes: those really stopped. */
async function pauseTree(tree: readonly ProcessRef[], deps: AdapterDeps): Promise<Outcome> {
  const [root] = tree;
  if (!root) return { status: 'skipped', reason: 'no process to pause' };
  const identity = checkIdentity(root, deps);
  if (!identity.same) return { status: 'skipped', reason: identity.why };
  const stopped: ProcessRef[] = [];
  const problems: string[] = [];
  for (const process of tree) {
    if (!checkIdentity(process, deps).same) continue; // a child that exited or was replaced since the snapshot
    const problem = send(process.pid, 'SIGSTOP', deps);
    if (problem === undefined) stopped.push(process);
    else if (!problem.endsWith('has exited')) problems.push(problem);
  }
  if (stopped.length === 0) return { status: 'failed', error: problems.join('; ') || `pid ${root.pid} has exited` };
  const detail = `stopped ${stopped.length} process${stopped.length === 1 ? '' : 'es'} (pid ${stopped.map((p) => p.pid).join(', ')})`;
  if (problems.length > 0) return { status: 'failed', error: `${detail}, but: ${problems.join('; ')}`, processes: stopped };
  return { status: 'done', detail, processes: stopped };
}

/** SIGCONT to every process of the tree that is still the one paused. Outcome.processes: those still stopped (to try again). */
export async function resumeTree(tree: readonly ProcessRef[], deps: AdapterDeps): Promise<Outcome> {
  const resumed: number[] = [];
  const notOurs: string[] = [];
  const stillStopped: ProcessRef[] = [];
  const problems: string[] = [];
  for (const process of tree) {
    const identity = checkIdentity(process, deps);
    if (!identity.same) {
      if (!identity.why.endsWith('has exited')) notOurs.push(identity.why);
      continue;
    }
    const problem = send(process.pid, 'SIGCONT', deps);
    if (problem === undefined) resumed.push(process.pid);
    else if (!problem.endsWith('has exited')) {
      problems.push(problem);
      stillStopped.push(process);
    }
  }
  if (problems.length > 0) return { status: 'failed', error: problems.join('; '), processes: stillStopped };
  if (resumed.length === 0) return { status: 'skipped', reason: notOurs.length > 0 ? notOurs.join('; ') : 'every process of the tree has exited' };
  const skippedNote = notOurs.length > 0 ? `; not signalled: ${notOurs.join('; ')}` : '';
  return { status: 'done', detail: `resumed ${resumed.length} process${resumed.length === 1 ? '' : 'es'} (pid ${resumed.join(', ')})${skippedNote}` };
}

/** TERM (and CONT, so that a paused process can act on it), then KILL when it outlives the grace period. */
async function killProcess(target: { pid: number; start_time?: number }, graceSeconds: number, deps: AdapterDeps): Promise<Outcome> {
  const identity = checkIdentity(target, deps);
  if (!identity.same) return { status: 'skipped', reason: identity.why };
  const problem = send(target.pid, 'SIGTERM', deps);
  if (problem !== undefined) return problem.endsWith('has exited') ? { status: 'skipped', reason: problem } : { status: 'failed', error: problem };
  send(target.pid, 'SIGCONT', deps);
  if (await exited(target, graceSeconds * 1000, deps)) return { status: 'done', detail: `pid ${target.pid} exited after SIGTERM` };
  const killProblem = send(target.pid, 'SIGKILL', deps);
  if (killProblem !== undefined && !killProblem.endsWith('has exited')) return { status: 'failed', error: `still running ${graceSeconds}s after SIGTERM, and ${killProblem}` };
  if (await exited(target, KILL_WAIT_MS, deps)) return { status: 'done', detail: `pid ${target.pid} ignored SIGTERM for ${graceSeconds}s; killed with SIGKILL` };
  return { status: 'failed', error: `pid ${target.pid} is still there ${KILL_WAIT_MS / 1000}s after SIGKILL (uninterruptible sleep?)` };
}

async function exited(target: { pid: number; start_time?: number }, withinMs: number, deps: AdapterDeps): Promise<boolean> {
  for (let waited = 0; ; waited += EXIT_POLL_MS) {
    if (!checkIdentity(target, deps).same) return true;
    if (waited >= withinMs) return false;
    await deps.sleep(EXIT_POLL_MS);
  }
}
