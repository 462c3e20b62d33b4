// `apply --metrics-file PATH`: the metrics of the run, as the daemon serves them, written for
// node_exporter's textfile collector: a temporary file in the same directory, renamed over PATH,
// so that the collector reads either the last run's file or this one, never half of one. The
// counters go on from the file before, so that rate() and increase() see every run's actions.
//
// procguard runs as root: the directory is judged as the state directory is (writable by root
// or procguard's user only), since whoever may write there could have a link or a file of theirs
// in the way; the file itself is created afresh (never through a link) and made readable by all,
// the collector running as another user.

import { lstat, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { permissionProblem } from '../policy/load.js';
import { readBoundedFile } from '../shared/bounded-read.js';
import { errorText } from '../shared/errors.js';
import { writeFileAtomically } from '../state/atomic-write.js';
import type { Metrics } from '../status/metrics.js';

/** A textfile of procguard's metrics is a few hundred kilobytes at most; a larger one is not continued. */
const MAX_PREVIOUS_BYTES = 16 * 1024 * 1024;

/** Why PATH cannot take the metrics, or undefined: checked before the cycle, so a bad path acts on nothing. */
export async function metricsFileProblem(path: string): Promise<string | undefined> {
  const file = resolve(path);
  const dir = dirname(file);
  if (basename(file) === '' || file === dir) return `--metrics-file ${path}: not a file name`;
  const dirStats = await stat(dir).catch((error: unknown) => errorText(error, { code: true }));
  if (typeof dirStats === 'string') return `--metrics-file ${path}: cannot use the directory ${dir}: ${dirStats}`;
  if (!dirStats.isDirectory()) return `--metrics-file ${path}: ${dir} is not a directory`;
  const refusal = permissionProblem(dir, dirStats, process.getuid?.() ?? -1, 'the directory of the metrics file');
  if (refusal) return `--metrics-file ${path}: ${refusal}`;
  const fileStats = await lstat(file).catch(() => undefined);
  if (fileStats && !fileStats.isFile())
    return `--metrics-file ${path}: it exists and is not a regular file (${fileStats.isSymbolicLink() ? 'a symbolic link' : 'a directory or special file'}); procguard replaces only a file it wrote`;
  return undefined;
}

/** The counters of the file before, when there is one procguard can read; nothing otherwise. */
export async function previousMetrics(path: string): Promise<string> {
  const read = await readBoundedFile(resolve(path), MAX_PREVIOUS_BYTES);
  if (!('bytes' in read) || read.bytes.length > MAX_PREVIOUS_BYTES) return '';
  return read.bytes.toString('utf8');
}

/** Writes the metrics atomically, mode 0644; throws with a message naming the file. */
export async function writeMetricsFile(path: string, metrics: Metrics): Promise<void> {
  const text = await metrics.text();
  try {
    await writeFileAtomically(resolve(path), text, 0o644);
  } catch (error) {
    throw new Error(`cannot write the metrics file ${path}: ${errorText(error, { code: true })}`);
  }
}
