// `procguard apply [-c …] [--dry-run] [--json] [--wait D]`: one cycle for cron. Takes the lock
// in STATE_DIR, reads the state, collects, evaluates, carries out the plan, saves the state
// atomically and appends the audit log. Exit: 0 ok, 2 invalid, 3 a collector, action or
// notification failed (or another run held the lock too long).

import { CycleAborted, diskStore, runCycle } from '../modes/cycle.js';
import { runCheck } from './check.js';
import { CliFailure, loadConfiguration } from './context.js';
import { ExitCode } from '../shared/exit-codes.js';
import type { CliIo } from '../shared/io.js';
import { formatPlanText } from './plan-output.js';
import { DEFAULTS } from '../policy/model.js';
import { jsonText } from '../shared/text.js';

/** An overlapping cron run waits this long for the lock by default. */

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
  const log = (line: string): void => io.stderr(`procguard: ${line}\n`);
  const store = diskStore(policySet.settings.stateDir, options.wait ?? DEFAULTS.lockWait);
  let cycle;
  try {
    cycle = await runCycle(policySet, store, { env: io.env, log });
  } catch (error) {
    if (error instanceof CycleAborted) throw new CliFailure(error.message, ExitCode.FAILED);
    throw error;
  }
  const { snapshot, evaluation, execution, storeProblems } = cycle;
  for (const problem of storeProblems) log(problem);
  const failed = execution.failed || execution.plan.errors.length > 0 || storeProblems.length > 0;
  const exitCode = failed ? ExitCode.FAILED : ExitCode.OK;

  const { plan } = execution;
  const eventful = plan.actions.length + plan.notifications.length + plan.errors.length + (plan.warnings?.length ?? 0) > 0;
  if (options.quiet && !eventful) return exitCode;
  if (options.json) io.stdout(`${jsonText(plan)}\n`);
  else io.stdout(formatPlanText({ ...evaluation, plan }, snapshot, policySet, { verbose: options.verbose === true, color: io.color === true, footer: '' }));
  return exitCode;
}
