// What the long-running modes (daemon, event listener, memmon drop-in) share: the policy set
// in force and its reloads, one cycle at a time with everything it does logged on stderr,
// and the paused processes resumed when the mode stops or after a crash when it starts.
// A cycle never throws: whatever goes wrong is logged and the next cycle comes.

import { setFlagsFromString } from 'node:v8';
import { liveDeps } from '../actions/deps.js';
import { describeTarget } from '../engine/host.js';
import type { Plan } from '../engine/types.js';
import { printable } from '../policy/diagnostics.js';
import { plural } from '../cli/text.js';
import { CliFailure } from '../cli/context.js';
import { ExitCode } from '../cli/exit-codes.js';
import type { CliIo } from '../cli/io.js';
import { configPaths } from '../policy/load.js';
import { DEFAULTS } from '../policy/model.js';
import { loadConfig, policyChanges, type LoadedConfig } from './config.js';
import { CycleAborted, describePaused, diskStore, resumeAllPaused, runCycle, type CycleResult, type StateStore } from './cycle.js';

export interface ServiceSetup {
  env: NodeJS.ProcessEnv;
  /** One line, without a newline; goes to stderr. */
  log: (line: string) => void;
  config: LoadedConfig;
  store: StateStore;
  /** The -c paths a reload reads again; none for the memmon drop-in. */
  reloadFrom?: readonly string[];
}

/**
 * V8 lets the old generation grow to several times what is live before it collects it; for a
 * process that lives for months and keeps about 10 MB between cycles, a fifth more is enough.
 * Read at every collection, so it can be set once the process runs. (The young generation's
 * size cannot: that is `--max-semi-space-size=1` in NODE_OPTIONS, as the shipped unit sets.)
 */
function keepHeapTight(): void {
  setFlagsFromString('--heap-growing-percent=20');
}

export class Service {
  config: LoadedConfig;
  /** Epoch milliseconds when the last cycle began; 0 before the first. */
  lastCycleStart = 0;
  cycles = 0;
  private readonly forget = new Set<string>();
  private readonly reporter: CycleReporter;
  private reloads: Promise<void> = Promise.resolve();

  constructor(private readonly setup: ServiceSetup) {
    keepHeapTight();
    this.config = setup.config;
    this.reporter = new CycleReporter(setup.log);
  }

  get log(): (line: string) => void {
    return this.setup.log;
  }

  get store(): StateStore {
    return this.setup.store;
  }

  /** The -c paths, as resolved from the command line or the environment. */
  get paths(): readonly string[] {
    return this.setup.reloadFrom ?? [];
  }

  /** One cycle with the set in force; everything it did or could not do is logged. */
  async cycle(): Promise<void> {
    this.lastCycleStart = Date.now();
    this.cycles += 1;
    const forget = new Set(this.forget);
    try {
      const result = await runCycle(this.config.policySet, this.setup.store, { env: this.setup.env, log: this.setup.log, forget });
      for (const name of forget) this.forget.delete(name);
      this.reporter.report(result);
    } catch (error) {
      if (error instanceof CycleAborted) this.log(`cycle skipped: ${error.message}`);
      else this.log(`cycle failed: ${error instanceof Error ? error.message : String(error)}; the next cycle runs as planned`);
    }
  }

  /**
   * Read the files again and swap in the new set whole, or keep the one in force when the new
   * one has an error. Reloads run one after the other; a cycle keeps the set it started with.
   */
  reload(trigger: string): Promise<void> {
    // Never rejects: a reload that breaks must not end the daemon with processes still paused.
    this.reloads = this.reloads.then(() =>
      this.reloadNow(trigger).catch((error: unknown) => {
        this.log(`${trigger}: reload failed: ${error instanceof Error ? error.message : String(error)}; the configuration in force is kept`);
      }),
    );
    return this.reloads;
  }

  private async reloadNow(trigger: string): Promise<void> {
    const paths = this.setup.reloadFrom;
    if (!paths) {
      this.log(`${trigger}: nothing to reload (the policies come from the command line)`);
      return;
    }
    const { config, messages } = await loadConfig(paths);
    for (const message of messages) this.log(message);
    if (!config) {
      this.log(`${trigger}: the new configuration is invalid; the last good one stays in force (${plural(this.config.policySet.policies.length, 'policy', 'policies')})`);
      return;
    }
    const before = this.config.policySet;
    const after = config.policySet;
    if (after.settings.stateDir !== before.settings.stateDir) {
      this.log(`warning: settings.state_dir changed to ${after.settings.stateDir}; the state stays in ${this.setup.store.where} until procguard is restarted`);
    }
    const changes = policyChanges(before, after);
    for (const name of changes.changed) this.forget.add(name);
    this.config = config;
    const parts = [`${plural(after.policies.length, 'policy', 'policies')} in force`];
    if (changes.added.length > 0) parts.push(`added: ${changes.added.join(', ')}`);
    if (changes.changed.length > 0) parts.push(`changed (counters start afresh): ${changes.changed.join(', ')}`);
    if (changes.removed.length > 0) parts.push(`removed: ${changes.removed.join(', ')}`);
    if (parts.length === 1) parts.push('no policy changed');
    this.log(`${trigger}: reloaded; ${parts.join('; ')}`);
  }

  /**
   * SIGCONT every tree the state lists: at start (left by a crash) and at stop. 'unusable' when
   * the state could not be held or read, 'failed' when a process could not be resumed.
   */
  async resumePaused(why: string): Promise<'ok' | 'failed' | 'unusable'> {
    const deps = liveDeps(this.config.policySet.supervisors, this.setup.env, this.setup.log);
    try {
      const { reports, storeProblems } = await resumeAllPaused(this.setup.store, deps, why);
      for (const report of reports) this.log(`${why}: ${report.status === 'done' ? 'resumed' : report.status}: ${describePaused(report.tree)}: ${report.text}`);
      for (const problem of storeProblems) this.log(problem);
      return storeProblems.length === 0 && reports.every((r) => r.status !== 'failed') ? 'ok' : 'failed';
    } catch (error) {
      this.log(`${why}: ${error instanceof Error ? error.message : String(error)}`);
      return 'unusable';
    }
  }
}

/**
 * The service of `run` and `eventlistener`: the -c files loaded (exit 2 when invalid), the
 * state in settings.state_dir, and what a crashed run left paused resumed. Undefined when
 * the state directory cannot be used (logged).
 */
export async function startService(cliPaths: readonly string[], io: CliIo, what: string): Promise<Service | undefined> {
  const log = (line: string): void => io.stderr(`procguard: ${line}\n`);
  const paths = configPaths(cliPaths, io.env);
  const { config, messages } = await loadConfig(paths);
  for (const message of messages) io.stderr(`${message}\n`);
  if (!config) throw new CliFailure(`the configuration is invalid; the ${what} did not start (see \`procguard validate\`)`, ExitCode.INVALID);
  const store = diskStore(config.policySet.settings.stateDir, DEFAULTS.lockWait);
  const service = new Service({ env: io.env, log, config, store, reloadFrom: paths });
  if ((await service.resumePaused('start')) === 'unusable') {
    log(`the state directory cannot be used; the ${what} did not start`);
    return undefined;
  }
  return service;
}

/** Handlers for process signals while a mode runs; the returned function removes them. */
export function handleSignals(handlers: Partial<Record<NodeJS.Signals, (signal: NodeJS.Signals) => void>>): () => void {
  const installed = Object.entries(handlers).map(([signal, handler]) => {
    const listener = (): void => handler!(signal as NodeJS.Signals);
    process.on(signal as NodeJS.Signals, listener);
    return [signal as NodeJS.Signals, listener] as const;
  });
  return () => {
    for (const [signal, listener] of installed) process.off(signal, listener);
  };
}

/**
 * A cycle's log lines: every action done or failed and every notification, each once; a
 * condition that lasts (a collector error, a warning, an action skipped for the same reason
 * cycle after cycle) when it begins, and when it ends.
 */
export class CycleReporter {
  private standing = new Map<string, string>();

  constructor(private readonly log: (line: string) => void) {}

  report({ execution, storeProblems }: Pick<CycleResult, 'execution' | 'storeProblems'>): void {
    const plan: Plan = execution.plan;
    const now = new Map<string, string>();
    for (const a of plan.actions) {
      const what = a.action + (a.value !== undefined ? ` ${a.value}` : a.signal !== undefined ? ` ${a.signal}` : '');
      const outcome = a.error !== undefined ? ` → ${a.error}` : a.result !== undefined ? ` → ${a.result}` : '';
      const observed = a.observed !== undefined ? ` (${a.observed})` : '';
      const line = printable(`${what} ${describeTarget(a.target)} by ${a.policy}: ${a.status}: ${a.reason}${observed}${outcome}`);
      if (a.status === 'skipped') now.set(`skipped\0${a.policy}\0${a.target.pid}\0${a.reason}`, line);
      else this.log(line);
    }
    for (const n of plan.notifications) {
      const outcome = n.error !== undefined ? ` → ${n.error}` : n.reason !== undefined ? ` (${n.reason})` : '';
      this.log(printable(`notify ${n.to} for ${n.policy}: ${n.status}: ${n.subject}${outcome}`));
    }
    for (const warning of plan.warnings ?? []) now.set(`warning\0${warning}`, printable(`warning: ${warning}`));
    for (const error of plan.errors) now.set(`error\0${error.source}\0${error.message}`, printable(`error: ${error.source}: ${error.message}`));
    for (const [key, line] of now) if (!this.standing.has(key)) this.log(line);
    for (const [key, line] of this.standing) if (!now.has(key) && !key.startsWith('skipped')) this.log(`cleared: ${line}`);
    this.standing = now;
    for (const problem of storeProblems) this.log(problem);
  }
}
