// The daemon's Prometheus metrics (prom-client), in a registry of their own: what each cycle
// took and saw, what was done and sent, what failed, what is paused, how reloads went.

import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CycleResult } from '../modes/cycle.js';
import type { ServiceObserver } from '../modes/service.js';

export class Metrics implements ServiceObserver {
  readonly registry = new Registry();
  private readonly cycleDuration = new Histogram({
    name: 'procguard_cycle_duration_seconds',
    help: 'Time one cycle took: collect, evaluate, act, save the state.',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
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

  constructor() {
    // Every series with a fixed label set exists from the start, so a rate() sees its first increase.
    for (const result of ['ok', 'failed']) {
      this.cycles.labels(result).inc(0);
      this.reloads.labels(result).inc(0);
    }
    for (const status of ['done', 'failed', 'skipped']) this.notifications.labels(status).inc(0);
  }

  cycleDone(result: CycleResult, durationMs: number): void {
    this.cycleDuration.observe(durationMs / 1000);
    this.cycles.labels('ok').inc();
    this.lastCycle.set(Date.now() / 1000);
    const { snapshot, execution, state } = result;
    this.processes.set(snapshot.processes.filter((p) => p.pid > 0).length);
    for (const a of execution.plan.actions) this.actions.labels(a.policy, a.action, a.status).inc();
    for (const n of execution.plan.notifications) this.notifications.labels(n.status).inc();
    for (const error of snapshot.errors ?? []) this.collectorErrors.labels(error.source).inc();
    this.paused.set(state.paused.reduce((sum, tree) => sum + tree.processes.length, 0));
  }

  cycleFailed(_message: string, durationMs: number): void {
    this.cycleDuration.observe(durationMs / 1000);
    this.cycles.labels('failed').inc();
    this.lastCycle.set(Date.now() / 1000);
  }

  reloaded(_trigger: string, ok: boolean): void {
    this.reloads.labels(ok ? 'ok' : 'failed').inc();
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
