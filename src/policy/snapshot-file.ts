// A snapshot read from a file (check --snapshot, policy tests): its schema, then what the
// schema cannot say. Two live processes never share a pid, so a snapshot where two do is
// refused rather than evaluated: one policy could pause one and another kill the other.

import type { Snapshot } from '../data/types.js';
import { checkData, parseDataFile, type DataFileResult } from './data-file.js';
import { diagnostic, type Diagnostic } from './diagnostics.js';
import { snapshot as snapshotValidator } from './snapshot-validator.generated.js';
import { locate, parseYamlFile, type ParsedFile, type PathSegment } from './yaml-source.js';

export function parseSnapshotFile(path: string, text: string): DataFileResult<Snapshot> {
  const result = parseDataFile<Snapshot>(path, text, snapshotValidator, 'snapshot');
  if (!result.data) return result;
  // Positions are worked out only for a snapshot with a problem: a valid JSON one is never parsed twice.
  let file = result.file;
  const problems = duplicatePids(result.data, () => (file ??= parseYamlFile(path, text).file), []);
  return problems.length > 0 ? { diagnostics: problems } : result;
}

/** A snapshot written inline at `base` inside `file` (a policy test). */
export function checkSnapshotData(file: ParsedFile, data: unknown, base: PathSegment[]): Diagnostic[] {
  const problems = checkData(file, data, base, snapshotValidator, 'snapshot');
  return problems.length > 0 ? problems : duplicatePids(data as Snapshot, () => file, base);
}

function duplicatePids(snapshot: Snapshot, parsed: () => ParsedFile, base: PathSegment[]): Diagnostic[] {
  const first = new Map<number, number>();
  const problems: Diagnostic[] = [];
  snapshot.processes.forEach((process, index) => {
    if (process.pid === 0) return; // supervisord programs that are not running
    const earlier = first.get(process.pid);
    if (earlier === undefined) first.set(process.pid, index);
    else {
      const file = parsed();
      const where = locate(file, [...base, 'processes', index, 'pid']);
      problems.push(
        diagnostic(file.path, where, 'error', 'schema', `"processes[${index}].pid" in the snapshot is ${process.pid}, already the pid of processes[${earlier}]; two processes never share a pid`),
      );
    }
  });
  return problems;
}
