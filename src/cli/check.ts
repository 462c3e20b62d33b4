// `procguard check [--dry-run] [-c …] [--snapshot F] [--state F] [--json] [--verbose]`:
// collect (or read a snapshot), evaluate, print the plan. Never acts, never writes state.
// Exit: 0 nothing to do, 1 actions planned, 2 invalid config or usage, 3 collector error.

import { localTimeZone } from '../host/time-zone.js';
import { evaluate } from '../engine/evaluate.js';
import { emptyState, type Plan, type Snapshot } from '../data/types.js';
import type { PolicySet } from '../policy/model.js';
import { ExitCode } from '../shared/exit-codes.js';
import { loadConfiguration, readSnapshotFile, readStateFile } from './context.js';
import type { CliIo } from '../shared/io.js';
import { formatPlanText } from './plan-output.js';
import { jsonText } from '../shared/text.js';

export interface CheckOptions {
  config: string[];
  snapshot?: string;
  state?: string;
  json?: boolean;
  verbose?: boolean;
}

export async function runCheck(options: CheckOptions, io: CliIo): Promise<ExitCode> {
  const policySet = await loadConfiguration(options.config, io);
  const snapshot = options.snapshot !== undefined ? await readSnapshotFile(options.snapshot, io) : await collectFromThisHost(policySet, io);
  const state = options.snapshot !== undefined && options.state === undefined ? undefined : await readStateFile(options.state, policySet, io);
  const evaluation = evaluate(policySet, snapshot, state ?? emptyState(), snapshot.time, { timeZone: localTimeZone() });
  if (options.json) io.stdout(`${jsonText(evaluation.plan)}\n`);
  else io.stdout(formatPlanText(evaluation, snapshot, policySet, { verbose: options.verbose === true, color: io.color === true, footer: 'dry run: nothing was done' }));
  return checkExitCode(evaluation.plan);
}

/** The collectors (procfs, ps, supervisord's client) load only when this host is looked at: a snapshot file needs none of them. */
async function collectFromThisHost(policySet: PolicySet, io: CliIo): Promise<Snapshot> {
  const [{ collectSnapshot }, { fieldsNeeded }] = await Promise.all([import('../collectors/collect.js'), import('../engine/fields-needed.js')]);
  return collectSnapshot(policySet, { env: io.env, self: process.pid, secondPass: fieldsNeeded(policySet) });
}

export function checkExitCode(plan: Plan): ExitCode {
  if (plan.errors.length > 0) return ExitCode.FAILED;
  const planned = plan.actions.some((a) => a.status === 'planned') || plan.notifications.some((n) => n.status === 'planned');
  return planned ? ExitCode.ACTIONS_PLANNED : ExitCode.OK;
}
