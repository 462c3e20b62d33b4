// The configuration of a long-running mode: loaded whole and swapped in whole. A reload that
// finds an error keeps the last good set in force; a good one says which policies changed,
// so that only those start their counters afresh. The files are watched with chokidar.

import { errorText } from '../shared/errors.js';
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { formatDiagnostic, hasErrors, runtimeDiagnostics, type Diagnostic } from '../policy/diagnostics.js';
import { configPaths, isPolicyFileName } from '../policy/load.js';
import type { Policy, PolicySet } from '../policy/model.js';
import { loadPolicySet } from '../policy/policy-set.js';

/** Editors write a file in several steps; one reload follows the last of them by this much. */
export const RELOAD_DEBOUNCE_MS = 300;

export interface LoadedConfig {
  policySet: PolicySet;
  /** Every file the set was read from: policy files and the templates they name. */
  files: string[];
}

export interface ConfigLoad {
  config?: LoadedConfig;
  /** Errors and warnings, each as FILE:LINE:COL: severity: message. */
  messages: string[];
}

export async function loadConfig(paths: readonly string[]): Promise<ConfigLoad> {
  const result = await loadPolicySet(paths);
  const messages = runtimeDiagnostics(result.diagnostics).map((d: Diagnostic) => formatDiagnostic(d));
  if (!result.policySet || hasErrors(result.diagnostics)) return { messages };
  return { config: { policySet: result.policySet, files: result.sources }, messages };
}

export interface PolicyChanges {
  added: string[];
  changed: string[];
  removed: string[];
}

/** A policy is unchanged when everything that decides what it does is the same; its place, position and description do not count. */
export function policyChanges(before: PolicySet, after: PolicySet): PolicyChanges {
  const old = new Map(before.policies.map((p) => [p.name, fingerprint(p)]));
  const changes: PolicyChanges = { added: [], changed: [], removed: [] };
  for (const policy of after.policies) {
    const was = old.get(policy.name);
    if (was === undefined) changes.added.push(policy.name);
    else if (was !== fingerprint(policy)) changes.changed.push(policy.name);
    old.delete(policy.name);
  }
  changes.removed = [...old.keys()];
  return changes;
}

function fingerprint(policy: Policy): string {
  const { source: _source, order: _order, description: _description, ...decisive } = policy;
  return JSON.stringify(decisive, (_key, value: unknown) => (value instanceof RegExp ? `/${value.source}/${value.flags}` : value));
}

/**
 * Watches the -c paths (a directory for its policy files, a file through its directory, so
 * that editors which save by renaming a new file over the old one are seen) and the template
 * files of the current set. `onChange` gets the changed path, once per burst of events.
 */
export class ConfigWatcher {
  private readonly watcher: FSWatcher;
  private readonly directories: Set<string>;
  private files = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private lastPath = '';

  constructor(
    cliPaths: readonly string[],
    env: NodeJS.ProcessEnv,
    private readonly onChange: (path: string) => void,
    onError: (message: string) => void,
  ) {
    const paths = configPaths(cliPaths, env).map((p) => resolve(p));
    this.directories = new Set(paths.filter((p) => statSync(p, { throwIfNoEntry: false })?.isDirectory() === true));
    this.files = new Set(paths.filter((p) => !this.directories.has(p)));
    this.watcher = watch([], { ignoreInitial: true, depth: 0, persistent: true });
    this.watcher.on('all', (_event, path) => this.seen(resolve(path)));
    this.watcher.on('error', (error) => onError(`watching the policy files: ${errorText(error)}`));
    this.watch(paths);
  }

  /** The files of the set now in force: watched as well, wherever they are. */
  follow(files: readonly string[]): void {
    this.files = new Set([...this.files, ...files.map((f) => resolve(f))]);
    this.watch([...this.files]);
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    await this.watcher.close();
  }

  private watch(paths: readonly string[]): void {
    // A file is watched through its directory; -c directories themselves are in `directories`.
    const targets = new Set(paths.map((p) => (this.directories.has(p) ? p : dirname(p))));
    this.watcher.add([...targets]);
  }

  private relevant(path: string): boolean {
    if (this.files.has(path) || this.directories.has(path)) return true;
    return this.directories.has(dirname(path)) && isPolicyFileName(path.slice(dirname(path).length + 1));
  }

  private seen(path: string): void {
    if (!this.relevant(path)) return;
    this.lastPath = path;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.onChange(this.lastPath), RELOAD_DEBOUNCE_MS);
  }
}
