// A snapshot read from a file (check --snapshot, policy tests): its schema, then what the
// schema cannot say. Two live processes never share a pid, so a snapshot where two do is
// refused rather than evaluated: one policy could pause one and another kill the other.

import type { Snapshot } from '../data/types.js';
import { checkData, parseDataFile, type DataFileResult } from './data-file.js';
import { diagnostic, type Diagnostic } from './diagnostics.js';
import { snapshot as snapshotValidator } from './snapshot-validator.generated.js';
import { locate, parseYamlFile, type ParsedFile, type PathSegment } from './yaml-source.js';

export async function parseSnapshotFile(path: string, text: string): Promise<DataFileResult<Snapshot>> {
  const result = await parseDataFile<Snapshot>(path, text, snapshotValidator, 'snapshot');
  if (!result.data) return result;
  const duplicates = duplicatePids(result.data);
  if (duplicates.length === 0) return result;
  // Positions are worked out only for a snapshot with a problem: a valid JSON one is never parsed twice.
  const file = result.file ?? (await parseYamlFile(path, text)).file;
  return { diagnostics: duplicates.map((duplicate) => duplicatePidDiagnostic(file, [], duplicate)) };
}

/** A snapshot written inline at `base` inside `file` (a policy test). */
export function checkSnapshotData(file: ParsedFile, data: unknown, base: PathSegment[]): Diagnostic[] {
  const problems = checkData(file, data, base, snapshotValidator, 'snapshot');
  return problems.length > 0 ? problems : duplicatePids(data as Snapshot).map((duplicate) => duplicatePidDiagnostic(file, base, duplicate));
}

interface DuplicatePid {
  pid: number;
  index: number;
  earlier: number;
}

/** Each process whose pid an earlier process of the snapshot has. */
function duplicatePids(snapshot: Snapshot): DuplicatePid[] {
  const first = new Map<number, number>();
  const duplicates: DuplicatePid[] = [];
  snapshot.processes.forEach((process, index) => {
    if (process.pid === 0) return; // supervisord programs that are not running
    const earlier = first.get(process.pid);
    if (earlier === undefined) first.set(process.pid, index);
    else duplicates.push({ pid: process.pid, index, earlier });
  });
  return duplicates;
}

function duplicatePidDiagnostic(file: ParsedFile, base: PathSegment[], { pid, index, earlier }: DuplicatePid): Diagnostic {
  const where = locate(file, [...base, 'processes', index, 'pid']);
  return diagnostic(file.path, where, 'error', 'schema', `"processes[${index}].pid" in the snapshot is ${pid}, already the pid of processes[${earlier}]; two processes never share a pid`);
}
