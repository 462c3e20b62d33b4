// kind: memory — act on a process whose memory is over a limit (superlance memmon): its
// resident (RSS), proportional (PSS), unique (USS) or swapped-out memory; each process alone,
// with its descendants (memmon -c), or a group summed, acting on its largest. A limit may be a
// share of the host's memory, and `only_when` holds the action while the host is comfortable.
// Its schema: #/definitions/memoryPolicy in schemas/policy.schema.json.

import { processTree, targetKey, targetOf, type LiveProcess } from '../../data/host-index.js';
import { formatBytes, limitBytes, type MemoryLimit } from '../../shared/units.js';
import type { PolicyBase } from '../base.js';
import { memoryLimitAt } from '../unit-values.js';
import { actingFields, actingPower, actionProposal, actionText, checkActing, hostShortness, onlyWhenNeeds, onlyWhenOf, onlyWhenText, type ActingFields, type OnlyWhen } from './acting.js';
import type { KindContext, KindResult, Measure, PolicyKind } from './kind.js';

/** What a memory policy measures, as its key says: max_rss, max_pss, max_uss, max_swap. */
export type MemoryMeasure = 'rss' | 'pss' | 'uss' | 'swap';

export const MEMORY_MEASURES: readonly MemoryMeasure[] = ['rss', 'pss', 'uss', 'swap'];

export interface MemoryPolicy extends PolicyBase, ActingFields {
  kind: 'memory';
  measure: MemoryMeasure;
  /** Acts when the measure is strictly greater: bytes, or a share of the host's memory (snapshot memory.total). */
  limit: MemoryLimit;
  scope: 'process' | 'tree' | 'group';
  /** Consecutive over-limit cycles before acting. */
  for: number;
  onlyWhen?: OnlyWhen;
}

/** What a memory policy measures when it leaves out scope and for. */
export const MEMORY_DEFAULTS = { scope: 'process', for: 1 } as const;

function measureOf(raw: Record<string, unknown>): MemoryMeasure {
  return MEMORY_MEASURES.find((m) => raw[`max_${m}`] !== undefined) ?? 'rss';
}

export const memory: PolicyKind<MemoryPolicy> = {
  kind: 'memory',
  schemaDefinition: 'memoryPolicy',
  keyHints: {
    cumulative: 'scope: tree',
    tree: 'scope: tree',
    children: 'scope: tree',
    limit: 'max_rss',
    rss: 'max_rss',
    pss: 'max_pss',
    uss: 'max_uss',
    swap: 'max_swap',
    memory: 'max_rss',
    max_memory: 'max_rss',
    max_memory_restart: 'max_rss',
    max_swap_usage: 'max_swap',
    onlywhen: 'only_when',
    when: 'only_when',
  },
  normalize(raw, base) {
    const measure = measureOf(raw);
    return {
      ...base,
      kind: 'memory',
      measure,
      limit: memoryLimitAt(raw, `max_${measure}`) as MemoryLimit,
      scope: (raw.scope as MemoryPolicy['scope'] | undefined) ?? MEMORY_DEFAULTS.scope,
      for: (raw.for as number | undefined) ?? MEMORY_DEFAULTS.for,
      ...actingFields(raw),
      ...onlyWhenOf(raw),
    };
  },
  positiveDurations: [['max_actions', 'within']],
  check(policy, label, report) {
    const key = `max_${measureOf(policy.value)}`;
    const limit = memoryLimitAt(policy.value, key);
    if (limit !== undefined && ('bytes' in limit ? limit.bytes : limit.percent) === 0) {
      report.add(policy.file, [...policy.path, key], 'warning', 'invalid-value', `"${key}" is 0 in ${label}: every matched process is over it and is acted on every cycle (as memmon NAME=0)`);
    }
    checkActing(policy, label, report);
  },
  power: actingPower,
  processReads(policy) {
    return policy.measure === 'rss' ? undefined : { fields: ['smaps'] };
  },
  smapsTargets(policy, matched, host) {
    if (policy.measure === 'rss') return [];
    // PSS and USS are never above RSS: a target whose RSS is within the limit is within it by
    // them too, and its smaps_rollup (a walk of its page tables) need not be read. Swap has no such bound.
    const limit = limitBytes(policy.limit, host.snapshot.memory?.total);
    const bound = policy.measure === 'swap' ? undefined : limit;
    const needed = (members: readonly LiveProcess[]): boolean => bound === undefined || rssOf(members) > bound;
    if (policy.scope === 'group') return needed(matched) ? matched : [];
    return matched.flatMap((process) => {
      const members = policy.scope === 'tree' ? processTree(host, process) : [process];
      return needed(members) ? members : [];
    });
  },
  hostNeeds(policy) {
    const needs = onlyWhenNeeds(policy.onlyWhen);
    return 'percent' in policy.limit ? { ...needs, memory: true } : needs;
  },
  describe(policy) {
    const scope = policy.scope === 'process' ? 'per process' : policy.scope === 'tree' ? 'per process tree' : 'for the group';
    const cycles = policy.for === 1 ? '' : `, ${policy.for} cycles`;
    const when = policy.onlyWhen ? `, ${onlyWhenText(policy.onlyWhen)}` : '';
    return `max_${policy.measure} ${limitText(policy.limit, undefined)} ${scope}${cycles}${when}, then ${actionText(policy)}`;
  },
  evaluate: evaluateMemoryPolicy,
};

function rssOf(processes: readonly LiveProcess[]): number {
  return processes.reduce((sum, p) => sum + p.rss, 0);
}

/** "200.0 MiB", "15% (2.4 GiB)", "15% of an unknown total". */
function limitText(limit: MemoryLimit, bytes: number | undefined): string {
  if ('bytes' in limit) return formatBytes(limit.bytes);
  return bytes === undefined ? `${limit.percent}%` : `${limit.percent}% (${formatBytes(bytes)})`;
}

function evaluateMemoryPolicy(policy: MemoryPolicy, { matched, host, targets, seen }: KindContext): KindResult {
  const result: KindResult = { proposals: [], observations: [], warnings: [] };
  const what = policy.measure;
  const limit = limitBytes(policy.limit, host.snapshot.memory?.total);
  if (limit === undefined) {
    // A share of a total the snapshot lacks: the collector's error says why; nothing is judged.
    for (const process of matched) {
      result.observations.push({
        policy: policy.name,
        target: targetOf(process),
        detail: `${what} not judged: the limit is ${limitText(policy.limit, undefined)} of the host's memory, which was not read`,
        verdict: 'hold',
      });
    }
    return result;
  }
  const shown = limitText(policy.limit, limit);
  // Judged once for the whole policy: the host is short of memory or it is not.
  const shortness = policy.onlyWhen ? hostShortness(policy.onlyWhen, host.snapshot) : undefined;
  const valueOf = (p: LiveProcess): number | undefined => (what === 'rss' ? p.rss : p[what]);

  const measure = (process: LiveProcess, value: number, key: string, described: string): void => {
    seen.add(key);
    const entry = (targets[key] ??= {});
    const target = targetOf(process);
    const measured: Measure = { value, limit, unit: 'bytes', name: what, ...('percent' in policy.limit ? { limit_percent: policy.limit.percent } : {}) };
    if (value <= limit) {
      delete entry.over;
      result.observations.push({ policy: policy.name, target, detail: `${described} ${formatBytes(value)} ≤ ${shown}`, verdict: 'ok', measure: measured });
      return;
    }
    const cycle = Math.min((entry.over ?? 0) + 1, policy.for);
    const reason = `${described} ${formatBytes(value)} > ${shown} (cycle ${cycle} of ${policy.for})`;
    entry.over = cycle;
    if (cycle < policy.for) {
      result.observations.push({ policy: policy.name, target, detail: reason, verdict: 'over', measure: measured });
      return;
    }
    if (shortness && !shortness.short) {
      result.observations.push({ policy: policy.name, target, detail: `${reason}; held: the host is comfortable (${shortness.text})`, verdict: 'hold', measure: measured });
      return;
    }
    const why = shortness ? `${reason}; ${shortness.text}` : reason;
    result.observations.push({ policy: policy.name, target, detail: why, verdict: 'act', measure: measured });
    result.proposals.push({ ...actionProposal(policy), policy, process, reason: why, measure: measured, rss: value, limit, key });
  };

  /**
   * PSS and USS are never above RSS: a target not read because its RSS is within the limit is
   * within it (smapsTargets), and says so with its RSS as the figure.
   */
  const withinByRss = (process: LiveProcess, key: string, rss: number, described: string): boolean => {
    if (what === 'swap' || rss > limit) return false;
    seen.add(key);
    delete (targets[key] ??= {}).over;
    const measured: Measure = { value: rss, limit, unit: 'bytes', name: 'rss', ...('percent' in policy.limit ? { limit_percent: policy.limit.percent } : {}) };
    result.observations.push({ policy: policy.name, target: targetOf(process), detail: `${described} ≤ its rss ${formatBytes(rss)} ≤ ${shown}`, verdict: 'ok', measure: measured });
    return true;
  };

  /** The measure summed over processes; those it could not be read for (exited, hidden) are counted apart. */
  const sum = (processes: readonly LiveProcess[]): { total: number; unread: number } => {
    let total = 0;
    let unread = 0;
    for (const p of processes) {
      const value = valueOf(p);
      if (value === undefined) unread += 1;
      else total += value;
    }
    return { total, unread };
  };
  const unreadText = (unread: number): string => (unread === 0 ? '' : `, ${unread} not read`);

  if (policy.scope === 'group') {
    if (matched.length === 0) return result;
    const { total, unread } = sum(matched);
    if (unread > 0 && withinByRss(matched[0]!, 'group', rssOf(matched), `group ${what} over ${matched.length} processes`)) return result;
    const largest = matched.reduce((big, p) => ((valueOf(p) ?? -1) > (valueOf(big) ?? -1) ? p : big));
    const label = largest.supervisor ? `${largest.supervisor.group}:${largest.supervisor.name}` : `${largest.name} (pid ${largest.pid})`;
    const largestValue = valueOf(largest);
    measure(largest, total, 'group', `group ${what} over ${matched.length} processes (largest ${label}, ${largestValue === undefined ? 'not read' : formatBytes(largestValue)}${unreadText(unread)})`);
    return result;
  }
  for (const process of matched) {
    if (policy.scope === 'tree') {
      const tree = processTree(host, process);
      const { total, unread } = sum(tree);
      const described = `tree ${what} (${tree.length} ${tree.length === 1 ? 'process' : 'processes'}`;
      if (unread > 0 && withinByRss(process, targetKey(process), rssOf(tree), `${described})`)) continue;
      measure(process, total, targetKey(process), `tree ${what} (${tree.length} ${tree.length === 1 ? 'process' : 'processes'}${unreadText(unread)})`);
      continue;
    }
    const value = valueOf(process);
    if (value === undefined && withinByRss(process, targetKey(process), process.rss, what)) continue;
    if (value === undefined) {
      // It exited between the passes, or smaps_rollup is hidden: nothing to judge this cycle.
      seen.add(targetKey(process));
      result.observations.push({ policy: policy.name, target: targetOf(process), detail: `${what} not read (the process exited, or its smaps_rollup could not be read)`, verdict: 'ok' });
      continue;
    }
    measure(process, value, targetKey(process), what);
  }
  return result;
}
