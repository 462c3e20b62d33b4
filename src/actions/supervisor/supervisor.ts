// supervisord programs over XML-RPC: restart = stopProcess + startProcess (as memmon), stop,
// and signalProcess. Before acting, the program must still run the pid the snapshot saw: one
// that supervisord has already restarted is not restarted again. Faults are reported by name.

import type { RestartUnderWay } from '../../data/types.js';
import { SupervisorError, type SupervisorClient } from '../../supervisord/client.js';
import { type Adapter, type AdapterDeps, type Outcome, type Work } from '../types.js';
import { errorText } from '../../shared/errors.js';

/**
 * stopProcess and startProcess with wait=true answer once the program has stopped (after up to
 * its stopwaitsecs) or started (after startsecs): they get far longer than the client's
 * timeout, so that a slow stop is not taken for a failure and the program left stopped.
 */
export const STATE_CHANGE_TIMEOUT = 600;

export const adapter: Adapter = {
  name: 'supervisor',
  async execute(work: Work, deps: AdapterDeps): Promise<Outcome> {
    if (work.type === 'finish-restart') return finishInterrupted(work.restart, deps);
    if (work.type !== 'action') return { status: 'failed', error: 'the supervisor adapter only carries out actions' };
    const { action } = work;
    const { supervisor, namespec, pid } = action.target;
    if (supervisor === undefined || namespec === undefined) {
      return { status: 'skipped', reason: `${action.action} needs a supervisord program; pid ${pid} is not one` };
    }
    try {
      const client = await deps.supervisor(supervisor);
      const before = await processInfo(client, namespec);
      if (before.pid !== pid) {
        return {
          status: 'skipped',
          reason: `${namespec} no longer runs pid ${pid} (now ${before.pid === 0 ? 'no process' : `pid ${before.pid}`}, ${before.statename}); not acting on a changed program`,
        };
      }
      switch (action.action) {
        case 'restart':
          return await restart(client, namespec, pid);
        case 'stop':
          await stopProgram(client, namespec);
          return { status: 'done', detail: `stopped ${namespec} (was pid ${pid})` };
        default: {
          const signal = (action.signal ?? 'HUP').replace(/^SIG/i, '');
          await client.call('supervisor.signalProcess', [namespec, signal]);
          return { status: 'done', detail: `supervisord sent SIG${signal} to ${namespec} (pid ${pid})` };
        }
      }
    } catch (error) {
      return { status: 'failed', error: errorText(error, { code: true }) };
    }
  },
};

interface ProcessInfo {
  pid: number;
  statename: string;
}

async function processInfo(client: SupervisorClient, namespec: string): Promise<ProcessInfo> {
  const info = (await client.call('supervisor.getProcessInfo', [namespec])) as Record<string, unknown> | null;
  const pid = info?.pid;
  if (typeof pid !== 'number' || !Number.isInteger(pid)) {
    throw new SupervisorError(`supervisor "${client.options.name}" answered getProcessInfo(${namespec}) without a pid`, 'protocol');
  }
  return { pid, statename: typeof info?.statename === 'string' ? info.statename : 'UNKNOWN' };
}

/** stopProcess; a program that has already stopped on its own is as good as stopped. */
async function stopProgram(client: SupervisorClient, namespec: string): Promise<void> {
  try {
    await client.call('supervisor.stopProcess', [namespec, true], { timeout: STATE_CHANGE_TIMEOUT });
  } catch (error) {
    if (!(error instanceof SupervisorError && error.faultName === 'NOT_RUNNING')) throw error;
  }
}

async function restart(client: SupervisorClient, namespec: string, oldPid: number): Promise<Outcome> {
  await stopProgram(client, namespec);
  try {
    const now = await startProgram(client, namespec);
    // The new pid goes back to the cycle, which applies the oom policies to it at once.
    return { status: 'done', detail: `restarted ${namespec}: was pid ${oldPid}, ${now.text}`, ...(now.pid ? { pid: now.pid } : {}) };
  } catch (error) {
    return { status: 'failed', error: `stopped ${namespec} (was pid ${oldPid}) but could not start it again: ${errorText(error, { code: true })}` };
  }
}

/** startProcess, waiting for startsecs; "now pid N, RUNNING" and N (or "started" when it cannot be asked again). */
async function startProgram(client: SupervisorClient, namespec: string): Promise<{ text: string; pid?: number }> {
  try {
    await client.call('supervisor.startProcess', [namespec, true], { timeout: STATE_CHANGE_TIMEOUT });
  } catch (error) {
    // autorestart may have started it between our stop and start: it runs again, which is the point.
    if (!(error instanceof SupervisorError && error.faultName === 'ALREADY_STARTED')) throw error;
  }
  const after = await processInfo(client, namespec).catch(() => undefined);
  return after ? { text: `now pid ${after.pid}, ${after.statename}`, pid: after.pid } : { text: 'started' };
}

/** A restart an earlier run left half done: skipped when the program is no longer STOPPED. */
async function finishInterrupted(restart: RestartUnderWay, deps: AdapterDeps): Promise<Outcome> {
  try {
    const detail = await finishRestart(await deps.supervisor(restart.supervisor), restart.namespec);
    return detail === undefined ? { status: 'skipped', reason: `${restart.namespec} is no longer STOPPED` } : { status: 'done', detail };
  } catch (error) {
    return { status: 'failed', error: errorText(error) };
  }
}

/**
 * Finishes a restart a killed run began: starts the program if it is still STOPPED (the state
 * our stopProcess left it in). Any other state means supervisord or an operator has moved it
 * on since, and it is left alone. Returns what was done, or undefined when nothing was needed.
 */
async function finishRestart(client: SupervisorClient, namespec: string): Promise<string | undefined> {
  const info = await processInfo(client, namespec);
  if (info.statename !== 'STOPPED') return undefined;
  return `started ${namespec} again: ${(await startProgram(client, namespec)).text}`;
}
