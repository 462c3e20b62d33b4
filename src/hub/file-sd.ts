// Agents from Prometheus file_sd files: JSON or YAML lists of `{ targets: [HOST:PORT…],
// labels: {…} }`, named by path or by a glob in the last path segment (as Prometheus allows),
// read at start and again whenever one of them is added, changed or removed (chokidar watches
// their directories). A file that does not parse or has the wrong shape is reported with
// FILE:LINE:COL and its last good targets are kept. `__scheme__: https` asks a target over TLS;
// other labels starting with "__" are Prometheus' own and are dropped.

import { watch, type FSWatcher } from 'chokidar';
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { diagnostic, formatDiagnostic, type Diagnostic } from '../policy/diagnostics.js';
import { isRecord } from '../policy/walk.js';
import { locate, parseYamlFile, type PathSegment } from '../policy/yaml-source.js';
import { decodeText, type ReadProblem } from '../shared/bounded-read.js';
import { describeWriter, readWalkedFile, untrustedWriters } from '../policy/path-walk.js';
import { plural } from '../shared/text.js';
import type { Log } from '../modes/log.js';
import type { HubAgent } from './config.js';

/** Far above a real target list (a few thousand targets). */
export const MAX_FILE_SD_BYTES = 4 * 1024 * 1024;
const TARGET = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/;
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The agents a file_sd file lists, or its problems. */
export async function parseFileSd(path: string, text: string): Promise<{ agents: HubAgent[]; diagnostics: Diagnostic[] }> {
  const { file, diagnostics } = await parseYamlFile(path, text);
  if (diagnostics.some((d) => d.severity === 'error')) return { agents: [], diagnostics };
  const problems: Diagnostic[] = [];
  const problem = (at: PathSegment[], message: string, which: 'key' | 'value' = 'value') => problems.push(diagnostic(path, locate(file, at, which), 'error', 'invalid-value', message));
  const agents: HubAgent[] = [];
  const data = file.data ?? [];
  if (!Array.isArray(data)) {
    problem([], 'A file_sd file must be a list of { targets: [HOST:PORT, …], labels: { NAME: VALUE } }');
    return { agents, diagnostics: problems };
  }
  for (const [index, group] of data.entries()) {
    if (!isRecord(group)) {
      problem([index], `Target group #${index + 1} must be a mapping with "targets" and "labels"`);
      continue;
    }
    for (const key of Object.keys(group))
      if (key !== 'targets' && key !== 'labels') problem([index, key], `Unexpected key "${key}" in target group #${index + 1}: a group has "targets" and "labels"`, 'key');
    const labels: Record<string, string> = {};
    let scheme = 'http';
    if (group.labels !== undefined) {
      if (!isRecord(group.labels)) problem([index, 'labels'], `"labels" of target group #${index + 1} must be a mapping of label names to strings`);
      else
        for (const [name, value] of Object.entries(group.labels)) {
          if (!LABEL_NAME.test(name)) problem([index, 'labels', name], `Invalid label name "${name}": use letters, digits and "_", not starting with a digit`, 'key');
          else if (typeof value !== 'string') problem([index, 'labels', name], `Label "${name}" must be a string`);
          else if (name === '__scheme__') {
            if (value !== 'http' && value !== 'https') problem([index, 'labels', name], `"__scheme__" must be http or https, not "${value}"`);
            else scheme = value;
          } else if (!name.startsWith('__')) labels[name] = value;
        }
    }
    if (!Array.isArray(group.targets)) {
      problem(group.targets === undefined ? [index] : [index, 'targets'], `Target group #${index + 1} needs "targets": a list of HOST:PORT`);
      continue;
    }
    for (const [t, target] of group.targets.entries()) {
      if (typeof target !== 'string' || !TARGET.test(target)) {
        problem([index, 'targets', t], `Target ${JSON.stringify(target)} must be HOST:PORT, e.g. web1.example.com:9301`);
        continue;
      }
      agents.push({ name: target, url: `${scheme}://${target}`, labels: { ...labels }, source: `${path}:${locate(file, [index, 'targets', t]).line}` });
    }
  }
  return { agents: problems.length > 0 ? [] : agents, diagnostics: problems };
}

/** The globs' files, their agents, kept up to date. */
export class FileSd {
  private readonly byFile = new Map<string, HubAgent[]>();
  private watcher?: FSWatcher;
  private readonly pending = new Map<string, Promise<void>>();

  constructor(
    private readonly globs: readonly string[],
    private readonly log: Log,
    /** Called after a file's agents changed. */
    private readonly changed: () => void = () => {},
  ) {}

  agents(): HubAgent[] {
    return [...this.byFile.values()].flat();
  }

  /** Reads every matching file, then watches their directories. */
  async start(): Promise<void> {
    for (const glob of this.globs) {
      for (const name of await listDirectory(dirname(glob))) {
        if (matches(glob, join(dirname(glob), name))) await this.read(join(dirname(glob), name));
      }
    }
    if (this.globs.length === 0) return;
    this.watcher = watch([...new Set(this.globs.map(dirname))], { ignoreInitial: true, depth: 0, persistent: true, awaitWriteFinish: { stabilityThreshold: 100, pollInterval: 50 } });
    this.watcher.on('all', (event, path) => {
      if (!this.globs.some((glob) => matches(glob, path))) return;
      if (event === 'unlink') {
        if (this.byFile.delete(path)) {
          this.log(`file_sd ${path} removed: its targets are no longer asked`, { event: 'file_sd', file: path, targets: 0 });
          this.changed();
        }
        return;
      }
      if (event === 'add' || event === 'change') void this.read(path);
    });
    this.watcher.on('error', (error) => this.log(`watching the file_sd files: ${String(error)}`, { event: 'file_sd', level: 'error' }));
  }

  async stop(): Promise<void> {
    await this.watcher?.close();
  }

  /** Reads are serialized per file, so the last write is the one kept. */
  private read(path: string): Promise<void> {
    const next = (this.pending.get(path) ?? Promise.resolve()).then(() => this.readNow(path));
    this.pending.set(path, next);
    return next;
  }

  private async readNow(path: string): Promise<void> {
    const text = await readTrustedText(path);
    if (typeof text !== 'string') {
      this.log(`file_sd: ${text.message}; its last targets are kept`, { event: 'file_sd', level: 'error', file: path });
      return;
    }
    const { agents, diagnostics } = await parseFileSd(path, text);
    if (diagnostics.some((d) => d.severity === 'error')) {
      for (const d of diagnostics) this.log(`file_sd: ${formatDiagnostic(d)}`, { event: 'file_sd', level: 'error', file: path });
      this.log(`file_sd ${path} refused; its last targets are kept`, { event: 'file_sd', level: 'error', file: path });
      return;
    }
    this.byFile.set(path, agents);
    this.log(`file_sd ${path}: ${plural(agents.length, 'target')}`, { event: 'file_sd', file: path, targets: agents.length });
    this.changed();
  }
}

/**
 * A file_sd file's text. The targets it names are shown on the page as hosts of the fleet, so
 * a file (or a directory on its way) that a user other than root and the hub's own user could
 * change is refused, as policy files are: no one else may add a host or make one disappear.
 */
async function readTrustedText(path: string): Promise<string | ReadProblem> {
  const trusted = [0, process.getuid?.() ?? 0];
  const read = await readWalkedFile(path, MAX_FILE_SD_BYTES, {
    followLastLink: true,
    accept: (walked) => {
      const [writer] = untrustedWriters(walked, trusted);
      if (!writer) return undefined;
      const reason = `${describeWriter('file_sd file', path, writer)}; fix with: ${writer.fix}`;
      return { code: 'permission', message: `Refused: ${reason}`, reason };
    },
  });
  return 'code' in read ? read : decodeText(path, read.bytes, MAX_FILE_SD_BYTES, 'file_sd file');
}

/** Prometheus' globs: * and ? (and [...]) in the last path segment only. */
export function matches(glob: string, path: string): boolean {
  if (dirname(glob) !== dirname(path)) return false;
  const pattern = basename(glob);
  const source = pattern
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${source}$`).test(basename(path));
}

async function listDirectory(directory: string): Promise<string[]> {
  try {
    return (await readdir(directory)).sort();
  } catch {
    return [];
  }
}
