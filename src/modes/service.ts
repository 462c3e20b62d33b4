// What the long-running modes (daemon, event listener, memmon drop-in) share: the policy set
// in force and its reloads, one cycle at a time with everything it does logged on stderr,
// and the paused processes resumed when the mode stops or after a crash when it starts.
// A cycle never throws: whatever goes wrong is logged and the next cycle comes.

import { errorText } from '../shared/errors.js';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { liveDeps } from '../actions/deps.js';
import { describeTarget } from '../data/host-index.js';
import { clearedText, isRepeat } from '../data/lasting.js';
import { standingChanges } from '../data/standing.js';
import type { Plan } from '../data/types.js';
import { printable } from '../shared/text.js';
import { plural } from '../shared/text.js';
import { ExitCode } from '../shared/exit-codes.js';
import type { CliIo } from '../shared/io.js';
import { configPaths } from '../policy/load.js';
import { DEFAULTS } from '../policy/model.js';
import { loadConfig, policyChanges, type LoadedConfig } from './config.js';
import { createLog, type Log, type LogFields } from './log.js';
import { CycleAborted, describePaused, diskStore, resumeAllPaused, runCycle, type CycleResult, type StateStore } from './cycle.js';

export interface ServiceSetup {
  env: NodeJS.ProcessEnv;
  /** One event; goes to stderr. */
  log: Log;
  config: LoadedConfig;
  store: StateStore;
  /** The -c paths a reload reads again; none for the memmon drop-in. */
  reloadFrom?: readonly string[];
  /** Called after every cycle to collect garbage; default collectorAfterGrowth with node's `gc()`, when node exposes it. */
  collectGarbage?: () => void;
}

/** Told of every cycle and reload: the status page and the metrics. */
export interface ServiceObserver {
  cycleDone?(result: CycleResult, durationMs: number): void;
  cycleFailed?(message: string, durationMs: number): void;
  /** ok false: the new files were refused (messages say why) and the set in force stays. */
  reloaded?(trigger: string, ok: boolean, messages: readonly string[]): void;
}

/**
 * V8 lets the old generation grow to several times what is live before it collects it; for a
 * process that lives for months and keeps about 10 MB between cycles, a fifth more is enough.
 * Read at every collection, so it can be set once the process runs. (The young generation's
 * size cannot: that is `--max-semi-space-size=1` on node's command line or in NODE_OPTIONS, as
 * the shipped unit and the supervisord examples give it.)
 */
function keepHeapTight(): void {
  setFlagsFromString('--heap-growing-percent=20');
}

/** How much the heap may grow past what the last full collection left before the service collects it. */
export const COLLECT_AFTER_GROWTH = 2 * 1024 * 1024;

/**
 * After each cycle: a full collection with `gc` once the heap has grown by COLLECT_AFTER_GROWTH
 * since the last one. A cycle leaves about half a MiB in the old generation, and V8 itself
 * collects only once it has grown by 6 MiB or more (its smallest step, whatever the growing
 * percent), so the RSS of a daemon that keeps 7 MiB rose and fell by that much; collected at
 * 2 MiB it stays near what is live, for a collection every few cycles (docs/performance.md, "The
 * daemon under 55 MiB").
 */
export function collectorAfterGrowth(gc: () => void, heapUsed: () => number = () => getHeapStatistics().used_heap_size): () => void {
  let left = 0;
  return () => {
    if (heapUsed() < left + COLLECT_AFTER_GROWTH) return;
    gc();
    left = heapUsed();
  };
}

/** node's `gc()` is there when node was started with `--expose-gc`, as the shipped systemd unit starts it. */
function exposedCollector(): (() => void) | undefined {
  const gc: unknown = (globalThis as { gc?: unknown }).gc;
  return typeof gc === 'function' ? collectorAfterGrowth(() => void gc()) : undefined;
}

export class Service {
  config: LoadedConfig;
  /** Epoch milliseconds when the last cycle began; 0 before the first. */
  lastCycleStart = 0;
  cycles = 0;
  private readonly forget = new Set<string>();
  /** Aborted by stop(): a notification under way is cut short, so that the cycle ends and what was paused is resumed. */
  private readonly stopping = new AbortController();
  private readonly reporter: CycleReporter;
  private reloads: Promise<void> = Promise.resolve();
  readonly observers: ServiceObserver[] = [];
  private readonly collectGarbage: (() => void) | undefined;

  constructor(private readonly setup: ServiceSetup) {
    keepHeapTight();
    this.collectGarbage = setup.collectGarbage ?? exposedCollector();
    this.config = setup.config;
    this.reporter = new CycleReporter(setup.log);
  }

  get log(): Log {
    return this.setup.log;
  }

  get store(): StateStore {
    return this.setup.store;
  }

  /** The -c paths, as resolved from the command line or the environment. */
  get paths(): readonly string[] {
    return this.setup.reloadFrom ?? [];
  }

  /** procguard is stopping: the cycle under way finishes its actions and cuts its notifications short (they stay pending). */
  stop(): void {
    this.stopping.abort();
  }

  /** One cycle with the set in force; everything it did or could not do is logged. */
  async cycle(): Promise<void> {
    this.lastCycleStart = Date.now();
    this.cycles += 1;
    const forget = new Set(this.forget);
    const started = performance.now();
    try {
      const result = await runCycle(this.config.policySet, this.setup.store, { env: this.setup.env, log: this.setup.log, forget, stopping: this.stopping.signal });
      for (const name of forget) this.forget.delete(name);
      this.reporter.report(result);
      for (const observer of this.observers) observer.cycleDone?.(result, performance.now() - started);
    } catch (error) {
      const message = error instanceof CycleAborted ? `cycle skipped: ${error.message}` : `cycle failed: ${errorText(error)}; the next cycle runs as planned`;
      this.log(message, { event: 'cycle', level: 'error' });
      for (const observer of this.observers) observer.cycleFailed?.(message, performance.now() - started);
    }
    // What the cycles left behind goes while the daemon waits for the next one.
    this.collectGarbage?.();
  }

  /**
   * Read the files again and swap in the new set whole, or keep the one in force when the new
   * one has an error. Reloads run one after the other; a cycle keeps the set it started with.
   */
  reload(trigger: string): Promise<void> {
    // Never rejects: a reload that breaks must not end the daemon with processes still paused.
    this.reloads = this.reloads.then(() =>
      this.reloadNow(trigger).catch((error: unknown) => {
        const message = `${trigger}: reload failed: ${errorText(error)}; the configuration in force is kept`;
        this.log(message, { event: 'reload', level: 'error', ok: false });
        this.tellReloaded(trigger, false, [message]);
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
    for (const message of messages) this.log(message, { event: 'config', level: config ? 'warn' : 'error' });
    if (!config) {
      this.log(`${trigger}: the new configuration is invalid; the last good one stays in force (${plural(this.config.policySet.policies.length, 'policy', 'policies')})`, {
        event: 'reload',
        level: 'error',
        ok: false,
      });
      this.tellReloaded(trigger, false, messages);
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
    if (changes.changed.length > 0) parts.push(`changed (cycle counts start afresh, actions taken still count): ${changes.changed.join(', ')}`);
    if (changes.removed.length > 0) parts.push(`removed: ${changes.removed.join(', ')}`);
    if (parts.length === 1) parts.push('no policy changed');
    this.log(`${trigger}: reloaded; ${parts.join('; ')}`, { event: 'reload', ok: true, ...changes });
    this.tellReloaded(trigger, true, messages);
  }

  private tellReloaded(trigger: string, ok: boolean, messages: readonly string[]): void {
    for (const observer of this.observers) observer.reloaded?.(trigger, ok, messages);
  }

  /**
   * SIGCONT every tree the state lists: at start (left by a crash) and at stop. 'unusable' when
   * the state could not be held or read, 'failed' when a process could not be resumed.
   */
  async resumePaused(why: string): Promise<'ok' | 'failed' | 'unusable'> {
    const deps = liveDeps(this.config.policySet.supervisors, this.setup.env, this.setup.log);
    try {
      const { reports, storeProblems } = await resumeAllPaused(this.setup.store, deps, why);
      for (const report of reports) {
        this.log(`${why}: ${report.status === 'done' ? 'resumed' : report.status}: ${describePaused(report.tree)}: ${report.text}`, {
          event: 'resume',
          level: report.status === 'failed' ? 'error' : 'info',
          policy: report.tree.policy,
          status: report.status,
        });
      }
      for (const problem of storeProblems) this.log(problem, { event: 'state', level: 'error' });
      return storeProblems.length === 0 && reports.every((r) => r.status !== 'failed') ? 'ok' : 'failed';
    } catch (error) {
      this.log(`${why}: ${errorText(error)}`, { event: 'state', level: 'error' });
      return 'unusable';
    }
  }
}

/**
 * The service of `run` and `eventlistener`: the -c files loaded (exit 2 when invalid), the
 * state in settings.state_dir, and what a crashed run left paused resumed. Undefined when
 * the state directory cannot be used (logged).
 */
export async function startService(cliPaths: readonly string[], io: CliIo, what: string): Promise<Service | ExitCode> {
  const log = await createLog(io, 'procguard');
  const paths = configPaths(cliPaths, io.env);
  const { config, messages } = await loadConfig(paths);
  for (const message of messages) log(message, { event: 'config', level: config ? 'warn' : 'error' });
  if (!config) {
    log(`the configuration is invalid; the ${what} did not start (see \`procguard validate\`)`, { event: 'start', level: 'error' });
    return ExitCode.INVALID;
  }
  const store = diskStore(config.policySet.settings.stateDir, DEFAULTS.lockWait);
  const service = new Service({ env: io.env, log, config, store, reloadFrom: paths });
  if ((await service.resumePaused('start')) === 'unusable') {
    log(`the state directory cannot be used; the ${what} did not start`, { event: 'start', level: 'error' });
    return ExitCode.FAILED;
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
 * cycle after cycle, an action failing with the same error, an audit-mode finding) when it
 * begins, and when it ends.
 */
export class CycleReporter {
  private standing = new Map<string, { line: string; fields: LogFields }>();

  constructor(private readonly log: Log) {}

  report({ execution, storeProblems }: Pick<CycleResult, 'execution' | 'storeProblems'>): void {
    const plan: Plan = execution.plan;
    const now = new Map<string, { line: string; fields: LogFields }>();
    for (const a of plan.actions) {
      // Reported when it began; it ends with a success or in plan.cleared.
      if (isRepeat(a)) continue;
      const what = a.action + (a.value !== undefined ? ` ${a.value}` : a.signal !== undefined ? ` ${a.signal}` : '');
      const outcome = a.error !== undefined ? ` → ${a.error}` : a.result !== undefined ? ` → ${a.result}` : '';
      const observed = a.observed !== undefined ? ` (${a.observed})` : '';
      const line = printable(`${what} ${describeTarget(a.target)} by ${a.policy}: ${a.status}: ${a.reason}${observed}${outcome}`);
      const fields: LogFields = {
        event: 'action',
        level: a.status === 'failed' ? 'error' : 'info',
        policy: a.policy,
        action: a.action,
        target: a.target,
        status: a.status,
        reason: a.reason,
        ...(a.observed !== undefined ? { observed: a.observed } : {}),
        ...(a.error !== undefined ? { error: a.error } : {}),
        ...(a.result !== undefined ? { result: a.result } : {}),
        ...(a.lasting !== undefined ? { lasting: a.lasting } : {}),
      };
      if (a.status === 'skipped' && a.lasting === undefined) now.set(`skipped\0${a.policy}\0${a.target.pid}\0${a.reason}`, { line, fields });
      else this.log(line, fields);
    }
    for (const c of plan.cleared ?? []) {
      const what = c.kind === 'failing' ? 'no longer failing' : 'audit finding ended';
      this.log(printable(`cleared: ${c.action} ${describeTarget(c.target)} by ${c.policy}: ${what}: ${clearedText(c)}`), {
        event: 'action',
        level: 'info',
        cleared: true,
        policy: c.policy,
        action: c.action,
        target: c.target,
        status: 'cleared',
        reason: c.reason,
        since: c.since,
        attempts: c.attempts,
        ...(c.error !== undefined ? { error: c.error } : {}),
      });
    }
    for (const n of plan.notifications) {
      const reported = n.action_index === undefined ? undefined : plan.actions[n.action_index];
      if ((reported && isRepeat(reported) && n.status === 'skipped') || isRepeat(n)) continue;
      const outcome = n.error !== undefined ? ` → ${n.error}` : n.reason !== undefined ? ` (${n.reason})` : '';
      this.log(printable(`notify ${n.to} for ${n.policy}: ${n.status}: ${n.subject}${outcome}`), {
        event: 'notification',
        level: n.status === 'failed' ? 'error' : 'info',
        policy: n.policy,
        to: n.to,
        status: n.status,
        subject: n.subject,
        ...(n.target ? { target: n.target } : {}),
        ...(n.reason !== undefined ? { reason: n.reason } : {}),
        ...(n.error !== undefined ? { error: n.error } : {}),
      });
    }
    for (const warning of plan.warnings ?? []) now.set(`warning\0${warning}`, { line: printable(`warning: ${warning}`), fields: { event: 'warning', level: 'warn' } });
    for (const error of plan.errors) {
      const fields: LogFields = { event: 'collector_error', level: 'warn', source: error.source };
      now.set(`error\0${error.source}\0${error.message}`, { line: printable(`error: ${error.source}: ${error.message}`), fields });
    }
    const { began, ended } = standingChanges(this.standing.keys(), now);
    for (const [, { line, fields }] of began) this.log(line, fields);
    for (const key of ended) {
      const { line, fields } = this.standing.get(key)!;
      if (!key.startsWith('skipped')) this.log(`cleared: ${line}`, { ...fields, level: 'info', cleared: true });
    }
    this.standing = now;
    for (const problem of storeProblems) this.log(problem, { event: 'state', level: 'error' });
  }
}
