// `procguard apply [-c …] [--dry-run] [--json] [--wait D] [--metrics-file PATH]`: one cycle for
// cron. Takes the lock in STATE_DIR, reads the state, collects, evaluates, carries out the plan,
// saves the state atomically and appends the audit log; with --metrics-file, writes the run's
// metrics for node_exporter's textfile collector. Exit: 0 ok, 2 invalid, 3 a collector, action
// or notification failed, the metrics file could not be written (or another run held the lock
// too long).

import { CycleAborted, diskStore, runCycle } from '../modes/cycle.js';
import { runCheck } from './check.js';
import { CliFailure, loadConfiguration } from './context.js';
import { ExitCode } from '../shared/exit-codes.js';
import type { CliIo } from '../shared/io.js';
import { formatPlanText } from './plan-output.js';
import { DEFAULTS } from '../policy/model.js';
import { jsonText } from '../shared/text.js';
import { isRepeat } from '../data/lasting.js';
import { problemLines, standingChanges } from '../data/standing.js';
import type { Plan } from '../data/types.js';
import type { PolicySet } from '../policy/model.js';
import { errorText } from '../shared/errors.js';
import type { Metrics } from '../status/metrics.js';
import { supervisorsToAsk } from '../supervisord/connect.js';
import { metricsFileProblem, previousMetrics, writeMetricsFile } from './metrics-file.js';

/** An overlapping cron run waits this long for the lock by default. */

export interface ApplyOptions {
  config: string[];
  dryRun?: boolean;
  json?: boolean;
  verbose?: boolean;
  /** Seconds to wait for the lock. */
  wait?: number;
  /** Print only what is new: a lasting condition when it begins and ends (cron mails any output). */
  quiet?: boolean;
  /** Write the run's Prometheus metrics here (node_exporter's textfile collector), atomically. */
  metricsFile?: string;
}

export async function runApply(options: ApplyOptions, io: CliIo): Promise<ExitCode> {
  if (options.dryRun && options.metricsFile !== undefined) throw new CliFailure('--metrics-file writes what a run did; --dry-run does nothing', ExitCode.INVALID);
  if (options.dryRun) return runCheck({ config: options.config, ...(options.json ? { json: true } : {}), ...(options.verbose ? { verbose: true } : {}) }, io);
  const policySet = await loadConfiguration(options.config, io);
  const log = (line: string): void => io.stderr(`procguard: ${line}\n`);
  const metrics = options.metricsFile === undefined ? undefined : await runMetrics(options.metricsFile, policySet, io.env);
  const store = diskStore(policySet.settings.stateDir, options.wait ?? DEFAULTS.lockWait);
  const started = performance.now();
  let cycle;
  try {
    cycle = await runCycle(policySet, store, { env: io.env, log });
  } catch (error) {
    if (error instanceof CycleAborted) {
      metrics?.cycleFailed(error.message, performance.now() - started);
      if (metrics) await writeMetrics(options.metricsFile!, metrics, log);
      throw new CliFailure(error.message, ExitCode.FAILED);
    }
    throw error;
  }
  const { snapshot, evaluation, execution, storeProblems } = cycle;
  for (const problem of storeProblems) log(problem);
  metrics?.cycleDone(cycle, performance.now() - started);
  const metricsWritten = metrics ? await writeMetrics(options.metricsFile!, metrics, log) : true;
  const failed = execution.failed || execution.plan.errors.length > 0 || storeProblems.length > 0 || !metricsWritten;
  const exitCode = failed ? ExitCode.FAILED : ExitCode.OK;

  // --quiet: what is new only, so that cron mails once per problem (the exit status still says 3 while it lasts).
  const { plan, clearedProblems } = options.quiet ? newsOf(execution.plan, cycle.reportedBefore ?? []) : { plan: execution.plan, clearedProblems: [] };
  const eventful = plan.actions.length + plan.notifications.length + (plan.cleared?.length ?? 0) + plan.errors.length + (plan.warnings?.length ?? 0) + clearedProblems.length > 0;
  if (options.quiet && !eventful) return exitCode;
  if (options.json) io.stdout(`${jsonText(plan)}\n`);
  else io.stdout(formatPlanText({ ...evaluation, plan }, snapshot, policySet, { verbose: options.verbose === true, color: io.color === true, footer: '', clearedProblems }));
  return exitCode;
}

/** The metrics of this run, the counters going on from the file before; a path that cannot take them is refused before anything is done. */
async function runMetrics(path: string, policySet: PolicySet, env: NodeJS.ProcessEnv): Promise<Metrics> {
  const problem = await metricsFileProblem(path);
  if (problem) throw new CliFailure(problem, ExitCode.INVALID);
  const { Metrics } = await import('../status/metrics.js');
  const metrics = new Metrics({ supervisors: () => supervisorsToAsk(policySet.supervisors, env).map((s) => s.name), oneRun: true });
  metrics.seedCounters(await previousMetrics(path));
  return metrics;
}

/** False when the file could not be written (logged): the run's exit status says it failed. */
async function writeMetrics(path: string, metrics: Metrics, log: (line: string) => void): Promise<boolean> {
  try {
    await writeMetricsFile(path, metrics);
    return true;
  } catch (error) {
    log(errorText(error));
    return false;
  }
}

/**
 * The plan without what was reported before: an action failing again with the same error or
 * waiting out its backoff, an audit-mode finding seen in earlier cycles, the notifications
 * they held back, and the collector errors and warnings standing since the run before (those
 * gone since are cleared problems). Actions done, new failures and cleared conditions stay.
 */
function newsOf(plan: Plan, reportedBefore: readonly string[]): { plan: Plan; clearedProblems: string[] } {
  const { began, ended } = standingChanges(reportedBefore, problemLines(plan));
  const warnings = began.flatMap(([, p]) => ('warning' in p ? [p.warning] : []));
  const errors = began.flatMap(([, p]) => ('error' in p ? [p.error] : []));
  const news: Plan = { ...newActionsOf(plan), errors };
  if (warnings.length > 0) news.warnings = warnings;
  else delete news.warnings;
  return { plan: news, clearedProblems: ended };
}

function newActionsOf(plan: Plan): Plan {
  const kept = plan.actions.map((action) => !isRepeat(action));
  const index = new Map<number, number>();
  kept.forEach((keep, i) => keep && index.set(i, index.size));
  const actions = plan.actions.filter((_, i) => kept[i]);
  const notifications = plan.notifications.flatMap((n) => {
    if (isRepeat(n)) return [];
    if (n.action_index === undefined) return [n];
    const at = index.get(n.action_index);
    return at === undefined ? [] : [{ ...n, action_index: at }];
  });
  return { ...plan, actions, notifications };
}
