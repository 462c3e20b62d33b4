// What several verbs share: loading the configuration (diagnostics on stderr, exit 2 when
// invalid) and reading snapshot and state files, validated with FILE:LINE:COL errors.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { emptyState, type EngineState, type Snapshot } from '../data/types.js';
import { parseDataFile } from '../policy/data-file.js';
import { formatDiagnostic, hasErrors, runtimeDiagnostics, type Diagnostic } from '../policy/diagnostics.js';
import { readBoundedStream, readTextFile } from '../shared/bounded-read.js';
import { configPaths, MAX_POLICY_FILE_BYTES } from '../policy/load.js';
import { loadPolicySet } from '../policy/policy-set.js';
import type { PolicySet } from '../policy/model.js';
import { ExitCode } from '../shared/exit-codes.js';
import type { CliIo } from '../shared/io.js';
import { CliFailure } from './failure.js';

// The snapshot and state validators are large generated modules: they are loaded when a file
// of theirs is read (import() below), so a verb that reads neither does not load them.

/** A snapshot of 10,000 processes is about 3 MiB. */
const MAX_DATA_FILE_BYTES = 64 * 1024 * 1024;

export { CliFailure } from './failure.js';

/** The policy set of -c (or the defaults); warnings go to stderr, errors end the verb with exit 2. */
export async function loadConfiguration(config: readonly string[], io: CliIo): Promise<PolicySet> {
  const stdin = standardInput(io);
  const result = await loadPolicySet(configPaths(config, io.env), stdin ? { stdin } : {});
  printDiagnostics(runtimeDiagnostics(result.diagnostics), io);
  if (!result.policySet || hasErrors(result.diagnostics)) {
    throw new CliFailure(`the configuration is invalid; nothing was evaluated (see \`procguard validate\`)`, ExitCode.INVALID);
  }
  return result.policySet;
}

/** Standard input for `-c -`, read once however often `-` is named, bounded as a policy file is. */
export function standardInput(io: CliIo): (() => Promise<Buffer>) | undefined {
  const { stdin } = io;
  if (!stdin) return undefined;
  let read: Promise<Buffer> | undefined;
  return () => (read ??= readBoundedStream(stdin(), MAX_POLICY_FILE_BYTES));
}

export function printDiagnostics(diagnostics: readonly Diagnostic[], io: CliIo): void {
  for (const d of diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
}

async function readDataText(path: string, what: string): Promise<string> {
  const text = await readTextFile(path, MAX_DATA_FILE_BYTES, what);
  if (typeof text !== 'string') throw new CliFailure(text.message, ExitCode.INVALID);
  return text;
}

export async function readSnapshotFile(path: string, io: CliIo): Promise<Snapshot> {
  const text = await readDataText(path, 'snapshot');
  const { parseSnapshotFile } = await import('../policy/snapshot-file.js');
  const result = await parseSnapshotFile(path, text);
  if (!result.data) {
    printDiagnostics(result.diagnostics, io);
    throw new CliFailure(`${path} is not a valid snapshot (schemas/snapshot.schema.json)`, ExitCode.INVALID);
  }
  return result.data;
}

/** The state file given, else STATE_DIR/state.json when it exists; never written here. */
export async function readStateFile(path: string | undefined, policySet: PolicySet, io: CliIo): Promise<EngineState> {
  const chosen = path ?? join(policySet.settings.stateDir, 'state.json');
  if (path === undefined && !existsSync(chosen)) return emptyState(); // no state yet: a first run
  let text: string;
  try {
    text = await readDataText(chosen, 'state file');
  } catch (error) {
    if (path !== undefined || !(error instanceof CliFailure)) throw error;
    io.stderr(`procguard: warning: ${error.message}; evaluating as on a first run\n`);
    return emptyState();
  }
  const { state: stateValidator } = await import('../policy/state-validator.generated.js');
  const result = await parseDataFile<EngineState>(chosen, text, stateValidator, 'state file');
  if (!result.data) {
    printDiagnostics(result.diagnostics, io);
    if (path === undefined) {
      io.stderr(`procguard: warning: ${chosen} is not a valid state file; evaluating as on a first run\n`);
      return emptyState();
    }
    throw new CliFailure(`${chosen} is not a valid procguard state file (schemas/state.schema.json)`, ExitCode.INVALID);
  }
  return result.data;
}
