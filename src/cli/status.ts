// `procguard status [-c …] [--state-dir DIR] [--snapshot F] [--json]`: what procguard sees and
// last did on this host, without a daemon: every policy with the processes it matches (value,
// limit, headroom), the paused trees, the failing actions and notifications, the last cycle,
// the supervisors. From a fresh collection (or a snapshot file), the state directory and the
// audit log; it never acts and never writes. Exit 0, or 3 when a collector failed.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { collectSnapshot } from '../collectors/collect.js';
import { emptyState, type EngineState } from '../data/types.js';
import { evaluate } from '../engine/evaluate.js';
import { fieldsNeeded } from '../engine/fields-needed.js';
import { localTimeZone } from '../host/time-zone.js';
import { AUDIT_LOG_FILE, readAuditLog } from '../state/audit-log.js';
import { readPauses, treeKey } from '../state/pause-journal.js';
import { STATE_FILE } from '../state/state-file.js';
import { supervisorsToAsk } from '../supervisord/connect.js';
import { ExitCode } from '../shared/exit-codes.js';
import type { CliIo } from '../shared/io.js';
import { jsonText, printable } from '../shared/text.js';
import { CliFailure, loadConfiguration, readSnapshotFile, readStateFile } from './context.js';
import { hostIdentity, selectForHost } from '../policy/hosts.js';
import { buildStatusReport, formatStatusText } from './status-report.js';

export interface StatusOptions {
  config: string[];
  stateDir?: string;
  snapshot?: string;
  json?: boolean;
}

export async function runStatus(options: StatusOptions, io: CliIo): Promise<ExitCode> {
  const policySet = await loadConfiguration(options.config, io);
  const stateDir = options.stateDir ?? policySet.settings.stateDir;
  const warn = (text: string): void => io.stderr(`procguard: warning: ${printable(text)}\n`);
  const snapshot =
    options.snapshot !== undefined ? await readSnapshotFile(options.snapshot, io) : await collectSnapshot(policySet, { env: io.env, self: process.pid, secondPass: fieldsNeeded(policySet) });

  const statePath = join(stateDir, STATE_FILE);
  const stateWritten = await modifiedAt(statePath);
  const state = stateWritten === undefined ? emptyState() : await readStateLeniently(statePath, policySet, io);
  const journal = await readPauses(stateDir);
  if ('problem' in journal) warn(journal.problem);
  const known = new Set(state.paused.map(treeKey));
  const paused = [...state.paused, ...('trees' in journal ? journal.trees.filter((tree) => !known.has(treeKey(tree))) : [])];

  const audit = await readAuditLog(stateDir);
  for (const warning of audit.warnings) warn(warning);
  const auditWritten = await modifiedAt(join(stateDir, AUDIT_LOG_FILE));

  // Evaluated against the saved counters, so "over" and "hold" say what the next cycle would see.
  const evaluation = evaluate(policySet, snapshot, state, snapshot.time, { timeZone: localTimeZone() });
  const report = buildStatusReport({
    policySet,
    supervisors: supervisorsToAsk(selectForHost(policySet, hostIdentity(policySet, snapshot.host)).active.supervisors, io.env),
    snapshot,
    evaluation,
    stateDir,
    paused,
    state,
    audit: audit.entries,
    ...(stateWritten !== undefined ? { stateWritten } : {}),
    ...(auditWritten !== undefined ? { auditWritten } : {}),
  });
  io.stdout(options.json ? `${jsonText(report)}\n` : formatStatusText(report, io.color === true));
  return report.errors.length > 0 ? ExitCode.FAILED : ExitCode.OK;
}

async function modifiedAt(path: string): Promise<number | undefined> {
  const stats = await stat(path).catch(() => undefined);
  return stats ? Math.floor(stats.mtimeMs / 1000) : undefined;
}

/** A state file that cannot be read or is not valid is reported and left where it is (only a cycle moves it aside). */
async function readStateLeniently(path: string, policySet: Parameters<typeof readStateFile>[1], io: CliIo): Promise<EngineState> {
  try {
    return await readStateFile(path, policySet, io);
  } catch (error) {
    if (!(error instanceof CliFailure)) throw error;
    io.stderr(`procguard: warning: ${error.message}; its counters and paused processes are not shown\n`);
    return emptyState();
  }
}
