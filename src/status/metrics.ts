// procguard's Prometheus metrics (prom-client), in a registry of their own: what each cycle
// took and saw, what was done and sent, what failed, what is paused, how reloads went, and the
// last cycle's view of every supervisor, program and matched target (cycle-series.ts). The
// daemon serves them on /metrics; `apply --metrics-file` writes them for node_exporter's
// textfile collector.

import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CycleResult } from '../modes/cycle.js';
import type { ServiceObserver } from '../modes/service.js';
import { cycleSeries, type Sample } from './cycle-series.js';

export interface MetricsOptions {
  /** The supervisors procguard asks, by name, at the time of a cycle (none by default: then no procguard_supervisor_up). */
  supervisors: () => readonly string[];
  /**
   * One run's metrics for a file (apply): the cycle's duration is a gauge, not a histogram of
   * one observation, and the counters go on from the file before (seedCounters).
   */
  oneRun?: boolean;
}

export class Metrics implements ServiceObserver {
  readonly registry = new Registry();
  private readonly cycleDuration?: Histogram;
  private readonly lastCycleDuration?: Gauge;
  private readonly cycles = new Counter({
    name: 'procguard_cycles_total',
    help: 'Cycles run, by result: ok, or failed (the state could not be used, or an error ended it).',
    labelNames: ['result'],
    registers: [this.registry],
  });
  private readonly processes = new Gauge({ name: 'procguard_processes_seen', help: "Processes in the last cycle's snapshot.", registers: [this.registry] });
  private readonly actions = new Counter({
    name: 'procguard_actions_total',
    help: 'Actions by policy, action and status (done, failed, skipped).',
    labelNames: ['policy', 'action', 'status'],
    registers: [this.registry],
  });
  private readonly notifications = new Counter({
    name: 'procguard_notifications_total',
    help: 'Notifications by status (done, failed, skipped).',
    labelNames: ['status'],
    registers: [this.registry],
  });
  private readonly collectorErrors = new Counter({
    name: 'procguard_collector_errors_total',
    help: 'Collectors that failed in a cycle, by source (procfs, supervisor:NAME, loadavg, pidfile).',
    labelNames: ['source'],
    registers: [this.registry],
  });
  private readonly paused = new Gauge({ name: 'procguard_paused_processes', help: 'Processes procguard holds stopped (SIGSTOP) under load policies.', registers: [this.registry] });
  private readonly reloads = new Counter({
    name: 'procguard_config_reloads_total',
    help: 'Reloads of the policy files, by result: ok, or failed (the set in force was kept).',
    labelNames: ['result'],
    registers: [this.registry],
  });
  private readonly lastCycle = new Gauge({ name: 'procguard_last_cycle_timestamp_seconds', help: 'When the last cycle ended, in epoch seconds.', registers: [this.registry] });
  private readonly supervisorUp = this.gauge('procguard_supervisor_up', 'Whether the supervisor answered in the last cycle (1) or not (0).', ['supervisor']);
  private readonly programUp = this.gauge('procguard_program_up', 'Whether the supervisord program was RUNNING in the last cycle (1) or not (0).', PROGRAM);
  private readonly programState = this.gauge(
    'procguard_program_state',
    "The supervisord program's state code in the last cycle: 0 STOPPED, 10 STARTING, 20 RUNNING, 30 BACKOFF, 40 STOPPING, 100 EXITED, 200 FATAL, 1000 UNKNOWN.",
    PROGRAM,
  );
  private readonly programStartTime = this.gauge('procguard_program_start_time_seconds', 'When the running program started, in epoch seconds.', PROGRAM);
  private readonly measuredBytes = this.gauge(
    'procguard_target_measured_bytes',
    'What a policy measured on a matched target (memory), in bytes; of several processes of one name, the largest.',
    TARGET,
  );
  private readonly limitBytes = this.gauge('procguard_target_limit_bytes', "The policy's limit for that target, in bytes.", TARGET);
  private readonly measuredSeconds = this.gauge(
    'procguard_target_measured_seconds',
    'What a policy measured on a matched target (uptime), in seconds; of several processes of one name, the largest.',
    TARGET,
  );
  private readonly limitSeconds = this.gauge('procguard_target_limit_seconds', "The policy's limit for that target, in seconds.", TARGET);
  private readonly cyclesOver = this.gauge('procguard_target_cycles_over', "Consecutive cycles the target has been over the policy's limit (0: not over).", TARGET);
  private readonly pausedTrees = this.gauge('procguard_paused_trees', 'Process trees the policy holds stopped (SIGSTOP) now.', ['policy']);
  private readonly pausedSince = this.gauge('procguard_paused_since_timestamp_seconds', 'When the paused tree was stopped, in epoch seconds; of several trees of one name, the earliest.', TARGET);
  private readonly failingConditions = this.gauge('procguard_failing_conditions', 'Actions failing cycle after cycle (tried again with a backoff), by policy and action.', ['policy', 'action']);
  private readonly notificationsWaiting = this.gauge('procguard_notifications_waiting', 'Notifications that could not be delivered, waiting to be tried again.', []);

  /** The last cycle, until its series are set (renderCycleSeries). */
  private unrendered?: { result: CycleResult; supervisors: readonly string[] };

  constructor(private readonly options: MetricsOptions = { supervisors: () => [] }) {
    if (options.oneRun) {
      this.lastCycleDuration = this.gauge('procguard_last_cycle_duration_seconds', 'Time the last cycle took: collect, evaluate, act, save the state.', []);
    } else {
      this.cycleDuration = new Histogram({
        name: 'procguard_cycle_duration_seconds',
        help: 'Time one cycle took: collect, evaluate, act, save the state.',
        buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
        registers: [this.registry],
      });
    }
    // Every series with a fixed label set exists from the start, so a rate() sees its first increase.
    for (const result of ['ok', 'failed']) {
      this.cycles.labels(result).inc(0);
      this.reloads.labels(result).inc(0);
    }
    for (const status of ['done', 'failed', 'skipped']) this.notifications.labels(status).inc(0);
  }

  cycleDone(result: CycleResult, durationMs: number): void {
    this.cycleDuration?.observe(durationMs / 1000);
    this.lastCycleDuration?.set(durationMs / 1000);
    this.cycles.labels('ok').inc();
    this.lastCycle.set(Date.now() / 1000);
    const { snapshot, execution, state } = result;
    this.processes.set(snapshot.processes.filter((p) => p.pid > 0).length);
    for (const a of execution.plan.actions) this.actions.labels(a.policy, a.action, a.status).inc();
    for (const n of execution.plan.notifications) this.notifications.labels(n.status).inc();
    for (const error of snapshot.errors ?? []) this.collectorErrors.labels(error.source).inc();
    this.paused.set(state.paused.reduce((sum, tree) => sum + tree.processes.length, 0));
    // The series of what the cycle saw are worked out when they are asked for: a daemon nobody scrapes pays nothing for them.
    this.unrendered = { result, supervisors: this.options.supervisors() };
  }

  cycleFailed(_message: string, durationMs: number): void {
    this.cycleDuration?.observe(durationMs / 1000);
    this.lastCycleDuration?.set(durationMs / 1000);
    this.cycles.labels('failed').inc();
    this.lastCycle.set(Date.now() / 1000);
  }

  reloaded(_trigger: string, ok: boolean): void {
    this.reloads.labels(ok ? 'ok' : 'failed').inc();
  }

  /**
   * The counters go on from the values a file written before holds (apply's runs, each a new
   * process): what `rate()` and `increase()` read from a textfile must only ever grow.
   */
  seedCounters(previous: string): void {
    const counters = new Map<string, Counter>(
      [this.cycles, this.actions, this.notifications, this.collectorErrors, this.reloads].map((counter) => [(counter as unknown as { name: string }).name, counter]),
    );
    for (const line of previous.split('\n')) {
      const sample = parseSample(line);
      const counter = sample && counters.get(sample.name);
      if (!counter || !sample || !Number.isFinite(sample.value) || sample.value <= 0) continue;
      try {
        counter.inc(sample.labels, sample.value);
      } catch {
        // Labels of another version of procguard: that series starts again.
      }
    }
  }

  text(): Promise<string> {
    this.renderCycleSeries();
    return this.registry.metrics();
  }

  /** The gauges of the last cycle's view, set from it once after each cycle. */
  private renderCycleSeries(): void {
    if (!this.unrendered) return;
    const series = cycleSeries(this.unrendered.result, this.unrendered.supervisors);
    this.unrendered = undefined;
    replace(this.supervisorUp, series.supervisorUp);
    replace(this.programUp, series.programUp);
    replace(this.programState, series.programState);
    replace(this.programStartTime, series.programStartTime);
    replace(this.measuredBytes, series.measured.bytes);
    replace(this.limitBytes, series.limit.bytes);
    replace(this.measuredSeconds, series.measured.seconds);
    replace(this.limitSeconds, series.limit.seconds);
    replace(this.cyclesOver, series.cyclesOver);
    replace(this.pausedTrees, series.pausedTrees);
    replace(this.pausedSince, series.pausedSince);
    replace(this.failingConditions, series.failingConditions);
    this.notificationsWaiting.set(series.notificationsWaiting);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private gauge(name: string, help: string, labelNames: readonly string[]): Gauge {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }
}

/** A supervisord program, as node_exporter's supervisord collector labelled it, with the supervisor. */
const PROGRAM = ['supervisor', 'group', 'name'];
/** A matched target: a program (supervisor, group, name) or a process by name (supervisor and group empty), under a policy. */
const TARGET = ['policy', 'supervisor', 'group', 'name'];

/** The gauge holds these samples and no others: a program or target gone since is gone from the series. */
function replace(gauge: Gauge, samples: readonly Sample[]): void {
  gauge.reset();
  for (const sample of samples) gauge.set(sample.labels, sample.value);
}

/** One sample line of the text format (`name{a="x",b="y"} value`), or undefined for anything else. */
export function parseSample(line: string): { name: string; labels: Record<string, string>; value: number } | undefined {
  const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ([^ ]+)$/.exec(line.trim());
  if (!match) return undefined;
  const labels: Record<string, string> = {};
  const pairs = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
  const text = match[2] ?? '';
  let pair: RegExpExecArray | null;
  let end = 0;
  while ((pair = pairs.exec(text)) !== null) {
    labels[pair[1]!] = pair[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    end = pairs.lastIndex;
  }
  if (end !== text.length) return undefined;
  return { name: match[1]!, labels, value: Number(match[3]) };
}
