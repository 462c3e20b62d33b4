// `procguard apply [-c …] [--dry-run] [--json] [--wait D]`: one cycle for cron. Takes the lock
// in STATE_DIR, reads the state, collects, evaluates, carries out the plan, saves the state
// atomically and appends the audit log. Exit: 0 ok, 2 invalid, 3 a collector, action or
// notification failed (or another run held the lock too long).

import { liveDeps } from '../actions/deps.js';
import { carryOut } from '../actions/execute.js';
import { collectSnapshot } from '../collectors/collect.js';
import { evaluate } from '../engine/evaluate.js';
import { appendAudit } from '../state/audit-log.js';
import { acquireLock, LockBusyError, type Lock } from '../state/lock.js';
import { loadState, saveState, StateError, writeAheadState } from '../state/state-file.js';
import type { PolicySet } from '../policy/model.js';
import { runCheck } from './check.js';
import { CliFailure, loadConfiguration } from './context.js';
import { ExitCode } from './exit-codes.js';
import type { CliIo } from './io.js';
import { formatPlanText } from './plan-output.js';

/** An overlapping cron run waits this long for the lock by default. */
export const DEFAULT_LOCK_WAIT = 30;

export interface ApplyOptions {
  config: string[];
  dryRun?: boolean;
  json?: boolean;
  verbose?: boolean;
  /** Seconds to wait for the lock. */
  wait?: number;
  /** Print nothing when there was nothing to do (cron mails any output). */
  quiet?: boolean;
}

export async function runApply(options: ApplyOptions, io: CliIo): Promise<ExitCode> {
  if (options.dryRun) return runCheck({ config: options.config, ...(options.json ? { json: true } : {}), ...(options.verbose ? { verbose: true } : {}) }, io);
  const policySet = await loadConfiguration(options.config, io);
  const lock = await lockStateDir(policySet.settings.stateDir, options.wait ?? DEFAULT_LOCK_WAIT);
  try {
    return await applyOnce(policySet, options, io);
  } finally {
    await lock.release();
  }
}

/** The lock of a state directory; a busy lock (after `wait` seconds) or an unusable directory ends the verb with exit 3. */
export async function lockStateDir(dir: string, wait: number): Promise<Lock> {
  try {
    return await acquireLock(dir, { wait });
  } catch (error) {
    if (error instanceof LockBusyError) throw new CliFailure(error.message, ExitCode.FAILED);
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EEXIST' || code === 'ENOTDIR' ? 'it is not a directory' : code === 'EACCES' ? 'permission denied (EACCES)' : code ?? String(error);
    throw new CliFailure(`cannot take the lock in the state directory ${dir}: ${why}; nothing was done`, ExitCode.FAILED);
  }
}

/** A state file that cannot be read or written ends the verb with exit 3; anything else is not ours to dress up. */
export function stateFailure(error: unknown, consequence: string): unknown {
  return error instanceof StateError ? new CliFailure(`${error.message}; ${consequence}`, ExitCode.FAILED) : error;
}

async function applyOnce(policySet: PolicySet, options: ApplyOptions, io: CliIo): Promise<ExitCode> {
  const dir = policySet.settings.stateDir;
  const log = (line: string): void => io.stderr(`procguard: ${line}\n`);
  const loaded = await loadState(dir, Math.floor(Date.now() / 1000)).catch((error: unknown) => {
    throw stateFailure(error, 'nothing was done');
  });
  for (const warning of loaded.warnings) log(`warning: ${warning}`);

  const snapshot = await collectSnapshot(policySet, { env: io.env, self: process.pid });
  const evaluation = evaluate(policySet, snapshot, loaded.state, snapshot.time);
  if (evaluation.plan.actions.some((a) => a.action === 'pause' && a.status === 'planned')) {
    // Should this run die between a SIGSTOP and the final save, the next run (or resume --all) still knows what it stopped.
    await saveState(dir, writeAheadState(evaluation.state, loaded.state)).catch((error: unknown) => {
      throw stateFailure(error, 'nothing was done');
    });
  }
  const execution = await carryOut(evaluation, loaded.state, policySet, liveDeps(policySet.supervisors, io.env, log));

  let exitCode = execution.failed || execution.plan.errors.length > 0 ? ExitCode.FAILED : ExitCode.OK;
  try {
    await saveState(dir, execution.state);
  } catch (error) {
    log(error instanceof Error ? error.message : String(error));
    exitCode = ExitCode.FAILED;
  }
  try {
    await appendAudit(dir, execution.audit);
  } catch (error) {
    log(`cannot append to the audit log in ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    exitCode = ExitCode.FAILED;
  }
  const { plan } = execution;
  const eventful = plan.actions.length + plan.notifications.length + plan.errors.length + (plan.warnings?.length ?? 0) > 0;
  if (options.quiet && !eventful) return exitCode;
  if (options.json) io.stdout(`${JSON.stringify(plan, null, 2)}\n`);
  else io.stdout(formatPlanText(evaluation, snapshot, policySet, { verbose: options.verbose === true, color: io.color === true, footer: '' }));
  return exitCode;
}
