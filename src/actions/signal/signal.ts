// POSIX signals to processes: pause (SIGSTOP) and resume (SIGCONT) a whole process tree,
// kill (TERM, then KILL after the grace period), and {signal: NAME} for a process that no
// supervisord runs. Every pid is checked against its snapshot start time, to the clock tick,
// right before each signal; a pid that now belongs to another process is skipped, never signalled.

import type { ProcessRef } from '../../data/types.js';
import { checkIdentity } from '../identity.js';
import { type Adapter, type AdapterDeps, type Outcome, type Work } from '../types.js';
import { errorText } from '../../shared/errors.js';

/** How often a killed process is looked at while it has its grace period. */
const EXIT_POLL_MS = 100;
/** How long KILL is given to take effect before the kill is reported as failed. */
const KILL_WAIT_MS = 3000;

export const adapter: Adapter = {
  name: 'signal',
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
    return `${signal} to pid ${pid} failed: ${errorText(error, { code: true })}`;
  }
}

/** Why a signal was not sent: the pid is no longer the process (exited or reused), or the kernel refused. */
interface NotSent {
  why: string;
  /** The process is gone or the pid belongs to another: nothing was wrong with sending. */
  notOurs: boolean;
}

/**
 * The one way a signal leaves procguard: the pid's start time is read again, compared to the
 * clock tick with the snapshot's, and the signal sent at once, with nothing awaited in between.
 */
function sendChecked(target: { pid: number; start_time?: number }, signal: NodeJS.Signals, deps: AdapterDeps): NotSent | undefined {
  const identity = checkIdentity(target, deps);
  if (!identity.same) return { why: identity.why, notOurs: true };
  const problem = send(target.pid, signal, deps);
  if (problem === undefined) return undefined;
  return { why: problem, notOurs: problem.endsWith('has exited') };
}

async function sendOne(target: { pid: number; start_time?: number }, signal: NodeJS.Signals, deps: AdapterDeps): Promise<Outcome> {
  const notSent = sendChecked(target, signal, deps);
  if (notSent === undefined) return { status: 'done', detail: `sent ${signal} to pid ${target.pid}` };
  return notSent.notOurs ? { status: 'skipped', reason: notSent.why } : { status: 'failed', error: notSent.why };
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
    // A child that exited or was replaced since the snapshot is passed over.
    const notSent = sendChecked(process, 'SIGSTOP', deps);
    if (notSent === undefined) stopped.push(process);
    else if (!notSent.notOurs) problems.push(notSent.why);
  }
  if (stopped.length === 0) return { status: 'failed', error: problems.join('; ') || `pid ${root.pid} has exited` };
  const detail = `stopped ${stopped.length} process${stopped.length === 1 ? '' : 'es'} (pid ${stopped.map((p) => p.pid).join(', ')})`;
  if (problems.length > 0) return { status: 'failed', error: `${detail}, but: ${problems.join('; ')}`, processes: stopped };
  return { status: 'done', detail, processes: stopped };
}

/** SIGCONT to every process of the tree that is still the one paused. Outcome.processes: those still stopped (to try again). */
async function resumeTree(tree: readonly ProcessRef[], deps: AdapterDeps): Promise<Outcome> {
  const resumed: number[] = [];
  const notOurs: string[] = [];
  const stillStopped: ProcessRef[] = [];
  const problems: string[] = [];
  for (const process of tree) {
    const notSent = sendChecked(process, 'SIGCONT', deps);
    if (notSent === undefined) resumed.push(process.pid);
    else if (!notSent.notOurs) {
      problems.push(notSent.why);
      stillStopped.push(process);
    } else if (!notSent.why.endsWith('has exited')) notOurs.push(notSent.why);
  }
  if (problems.length > 0) return { status: 'failed', error: problems.join('; '), processes: stillStopped };
  if (resumed.length === 0) return { status: 'skipped', reason: notOurs.length > 0 ? notOurs.join('; ') : 'every process of the tree has exited' };
  const skippedNote = notOurs.length > 0 ? `; not signalled: ${notOurs.join('; ')}` : '';
  return { status: 'done', detail: `resumed ${resumed.length} process${resumed.length === 1 ? '' : 'es'} (pid ${resumed.join(', ')})${skippedNote}` };
}

/**
 * TERM (and CONT, so that a paused process can act on it), then KILL when it outlives the grace
 * period. Each of the three is sent only if the pid is still the process of the snapshot.
 */
async function killProcess(target: { pid: number; start_time?: number }, graceSeconds: number, deps: AdapterDeps): Promise<Outcome> {
  const notSent = sendChecked(target, 'SIGTERM', deps);
  if (notSent !== undefined) return notSent.notOurs ? { status: 'skipped', reason: notSent.why } : { status: 'failed', error: notSent.why };
  sendChecked(target, 'SIGCONT', deps);
  if (await exited(target, graceSeconds * 1000, deps)) return { status: 'done', detail: `pid ${target.pid} exited after SIGTERM` };
  const killNotSent = sendChecked(target, 'SIGKILL', deps);
  if (killNotSent !== undefined) {
    if (killNotSent.notOurs) return { status: 'done', detail: `pid ${target.pid} exited after SIGTERM` };
    return { status: 'failed', error: `still running ${graceSeconds}s after SIGTERM, and ${killNotSent.why}` };
  }
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
