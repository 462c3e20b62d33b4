// The hub's own Prometheus metrics: how many agents are up, stale and offline, how long each
// request and each round took, and how requests ended. The agents' own series are theirs to
// serve: Prometheus scrapes them directly.

import { Gauge, Histogram, Registry } from 'prom-client';
import type { HostState } from './fleet.js';

export class HubMetrics {
  readonly registry = new Registry();
  private readonly agents = new Gauge({
    name: 'procguard_hub_agents',
    help: 'Agents by state: up (answered when last asked), stale (did not; the last answer is shown), offline.',
    labelNames: ['state'],
    registers: [this.registry],
  });
  private readonly pollDuration = new Histogram({
    name: 'procguard_hub_poll_duration_seconds',
    help: "Time one agent's /api/status request took, by result (ok, failed).",
    labelNames: ['result'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly roundDuration = new Histogram({
    name: 'procguard_hub_poll_round_duration_seconds',
    help: 'Time one round took: every agent asked, at most hub.concurrency at once.',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly lastRound = new Gauge({ name: 'procguard_hub_last_round_timestamp_seconds', help: 'When the last round ended, in epoch seconds.', registers: [this.registry] });

  constructor(private readonly counts: () => Record<HostState, number>) {
    for (const result of ['ok', 'failed']) this.pollDuration.labels(result).observe(0);
    this.pollDuration.reset();
  }

  polled(durationMs: number, ok: boolean): void {
    this.pollDuration.labels(ok ? 'ok' : 'failed').observe(durationMs / 1000);
  }

  roundDone(durationMs: number): void {
    this.roundDuration.observe(durationMs / 1000);
    this.lastRound.set(Date.now() / 1000);
  }

  async text(): Promise<string> {
    const counts = this.counts();
    for (const state of ['up', 'stale', 'offline'] as const) this.agents.labels(state).set(counts[state]);
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
