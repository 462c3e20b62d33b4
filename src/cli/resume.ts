// `procguard resume --all`: SIGCONT every process procguard paused and still owns (its start
// time checked), then clear them from the state. Meant for emergencies, so a configuration
// that does not validate does not stop it: the state directory then comes from --state-dir
// or the default. Exit 0, or 3 when a process could not be resumed (it stays in the state).

import { liveDeps } from '../actions/deps.js';
import { resumeTree } from '../actions/signal/signal.js';
import type { PausedTree } from '../engine/types.js';
import { DEFAULTS } from '../policy/model.js';
import { appendAudit, type AuditEntry } from '../state/audit-log.js';
import { loadState, saveState } from '../state/state-file.js';
import { DEFAULT_LOCK_WAIT, lockStateDir, stateFailure } from './apply.js';
import { CliFailure, loadConfiguration } from './context.js';
import { ExitCode } from './exit-codes.js';
import type { CliIo } from './io.js';

export interface ResumeOptions {
  config: string[];
  all?: boolean;
  stateDir?: string;
  wait?: number;
}

export async function runResume(options: ResumeOptions, io: CliIo): Promise<ExitCode> {
  if (!options.all) throw new CliFailure('say --all: resume every process procguard has paused', ExitCode.INVALID);
  const log = (line: string): void => io.stderr(`procguard: ${line}\n`);
  const policySet = await loadConfiguration(options.config, io).catch((error: unknown) => {
    if (!(error instanceof CliFailure)) throw error;
    if (options.stateDir === undefined) log(`warning: the configuration is invalid; resuming from the default state directory ${DEFAULTS.stateDir} (give --state-dir to choose another)`);
    return undefined;
  });
  const dir = options.stateDir ?? policySet?.settings.stateDir ?? DEFAULTS.stateDir;
  const deps = liveDeps(policySet?.supervisors ?? [], io.env, log);
  const lock = await lockStateDir(dir, options.wait ?? DEFAULT_LOCK_WAIT);
  try {
    const loaded = await loadState(dir, deps.now()).catch((error: unknown) => {
      throw stateFailure(error, 'nothing was resumed');
    });
    for (const warning of loaded.warnings) log(`warning: ${warning}`);
    const { state } = loaded;
    if (state.paused.length === 0) {
      io.stdout('Nothing is paused.\n');
      return ExitCode.OK;
    }
    const kept: PausedTree[] = [];
    const audit: AuditEntry[] = [];
    for (const tree of state.paused) {
      const outcome = await resumeTree(tree.processes, deps);
      const who = `${tree.root.name} (pid ${tree.root.pid}, paused by ${tree.policy})`;
      const text = outcome.status === 'done' ? outcome.detail ?? 'resumed' : outcome.status === 'failed' ? outcome.error : outcome.reason;
      io.stdout(`${outcome.status === 'done' ? 'resumed' : outcome.status}: ${who}: ${text}\n`);
      if (outcome.status === 'failed' && outcome.processes?.length) kept.push({ ...tree, processes: outcome.processes });
      audit.push({
        time: deps.now(),
        type: 'action',
        policy: tree.policy,
        action: 'resume',
        target: { pid: tree.root.pid, name: tree.root.name },
        status: outcome.status,
        reason: 'procguard resume --all',
        ...(outcome.status === 'failed' ? { error: outcome.error } : {}),
        ...(outcome.status === 'done' && outcome.detail ? { detail: outcome.detail } : {}),
      });
    }
    state.paused = kept;
    await saveState(dir, state).catch((error: unknown) => {
      throw stateFailure(error, 'the processes above were resumed, but the state still lists them');
    });
    await appendAudit(dir, audit).catch((error: NodeJS.ErrnoException) => log(`cannot append to the audit log in ${dir}: ${error.code ?? String(error)}`));
    return kept.length > 0 ? ExitCode.FAILED : ExitCode.OK;
  } finally {
    await lock.release();
  }
}
