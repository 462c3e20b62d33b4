// `procguard resume --all`: SIGCONT every process procguard paused and still owns (its start
// time checked), then clear them from the state. Meant for emergencies, so a configuration
// that does not validate does not stop it: the state directory then comes from --state-dir
// or the default. Exit 0, or 3 when a process could not be resumed (it stays in the state).

import { liveDeps } from '../actions/deps.js';
import { CycleAborted, describePaused, diskStore, resumeAllPaused } from '../modes/cycle.js';
import { DEFAULTS } from '../policy/model.js';
import { CliFailure, loadConfiguration } from './context.js';
import { ExitCode } from '../shared/exit-codes.js';
import type { CliIo } from '../shared/io.js';

export interface ResumeOptions {
  config: string[];
  all?: boolean;
  stateDir?: string;
  wait?: number;
}

export async function runResume(options: ResumeOptions, io: CliIo): Promise<ExitCode> {
  if (!options.all) throw new CliFailure('say --all: resume every process procguard has paused', ExitCode.INVALID);
  const log = (line: string): void => io.stderr(`procguard: ${line}\n`);
  // --state-dir without -c says all resume needs (it only signals): no configuration is read, so a
  // missing or broken /etc/procguard is not complained about.
  const readConfiguration = options.config.length > 0 || options.stateDir === undefined;
  const policySet = !readConfiguration
    ? undefined
    : await loadConfiguration(options.config, io).catch((error: unknown) => {
        if (!(error instanceof CliFailure)) throw error;
        if (options.stateDir === undefined) log(`warning: the configuration is invalid; resuming from the default state directory ${DEFAULTS.stateDir} (give --state-dir to choose another)`);
        return undefined;
      });
  const dir = options.stateDir ?? policySet?.settings.stateDir ?? DEFAULTS.stateDir;
  const deps = liveDeps(policySet?.supervisors ?? [], io.env, log);
  let result;
  try {
    result = await resumeAllPaused(diskStore(dir, options.wait ?? DEFAULTS.lockWait), deps, 'procguard resume --all');
  } catch (error) {
    if (error instanceof CycleAborted) throw new CliFailure(error.message.replace(/nothing was done$/, 'nothing was resumed'), ExitCode.FAILED);
    throw error;
  }
  if (result.reports.length === 0 && result.storeProblems.length === 0) {
    io.stdout('Nothing is paused.\n');
    return ExitCode.OK;
  }
  for (const report of result.reports) {
    io.stdout(`${report.status === 'done' ? 'resumed' : report.status}: ${describePaused(report.tree)}: ${report.text}\n`);
  }
  for (const problem of result.storeProblems) log(problem);
  const failed = result.reports.some((r) => r.status === 'failed') || result.storeProblems.length > 0;
  return failed ? ExitCode.FAILED : ExitCode.OK;
}
