// kind: oom — set the OOM-killer priority of the matched processes (oom_adjust.sh), and warn
// when a protected supervisord would hand its value to every program it starts. Its schema:
// #/definitions/oomPolicy in schemas/policy.schema.json.

import { targetOf } from '../../data/host-index.js';
import { capitalize } from '../../shared/text.js';
import { oomAdjToScoreAdj, type PolicyBase } from '../base.js';
import { isRecord, policyLabel, stringItems, type Data, type Entry } from '../walk.js';
import type { KindContext, KindResult, PolicyKind, Report } from './kind.js';

export interface OomPolicy extends PolicyBase {
  kind: 'oom';
  /** The value to write to /proc/PID/oom_score_adj (oom_adj already converted). */
  oomScoreAdj: number;
}

/** Which oom policy set each pid this cycle: the first in file order wins. */
type OomClaims = Map<number, { policy: string; value: number }>;

export const oom: PolicyKind<OomPolicy> = {
  kind: 'oom',
  schemaDefinition: 'oomPolicy',
  keyHints: { oom_score: 'oom_score_adj' },
  appliesToRestarted: true,
  reads: ['oomScoreAdj'],
  normalize(raw, base) {
    return { ...base, kind: 'oom', oomScoreAdj: oomValue(raw) as number };
  },
  checkSet: checkSupervisordProtection,
  power(raw) {
    const value = oomValue(raw);
    return value !== undefined && value < 0 ? `protect it from the OOM killer (oom_score_adj ${value})` : undefined;
  },
  describe: (policy) => `oom_score_adj ${policy.oomScoreAdj}`,
  evaluate: evaluateOomPolicy,
};

function oomValue(raw: Data): number | undefined {
  if (typeof raw.oom_score_adj === 'number') return raw.oom_score_adj;
  return typeof raw.oom_adj === 'number' ? oomAdjToScoreAdj(raw.oom_adj) : undefined;
}

function evaluateOomPolicy(policy: OomPolicy, { matched, perCycle }: KindContext): KindResult {
  const result: KindResult = { proposals: [], observations: [], warnings: [] };
  const claims = perCycle<OomClaims>(() => new Map());
  const want = policy.oomScoreAdj;
  for (const process of matched) {
    const target = targetOf(process);
    const claim = claims.get(process.pid);
    if (claim) {
      if (claim.value !== want) {
        result.warnings.push(
          `${process.name} (pid ${process.pid}): policies "${claim.policy}" (oom_score_adj ${claim.value}) and "${policy.name}" ` +
            `(${want}) disagree; "${claim.policy}" wins as the first in file order`,
        );
      }
      continue;
    }
    claims.set(process.pid, { policy: policy.name, value: want });
    const current = process.oom_score_adj;
    if (current === want) {
      result.observations.push({ policy: policy.name, target, detail: `oom_score_adj ${current} as wanted`, verdict: 'ok' });
      continue;
    }
    const reason = current === undefined ? `oom_score_adj unknown, wants ${want}` : `oom_score_adj ${current}, wants ${want}`;
    result.observations.push({ policy: policy.name, target, detail: reason, verdict: 'act' });
    result.proposals.push({
      policy,
      action: 'set_oom_score_adj',
      value: want,
      process,
      reason,
      ...(current !== undefined ? { measure: { value: current, limit: want, unit: 'oom_score_adj' as const } } : {}),
    });
  }
  return result;
}

/**
 * An oom policy with a negative value that protects supervisord itself (a match without
 * program/group/supervisor whose name, cmdline, exe or pidfile mentions "supervisord"), while
 * no oom policy covers the supervised programs: every program supervisord starts, or procguard
 * restarts, inherits the value.
 */
function checkSupervisordProtection(own: readonly Entry[], _all: readonly Entry[], report: Report): void {
  const programsCovered = own.some((policy) => coversSupervisedPrograms(policy.value.match));
  if (programsCovered) return;
  for (const policy of own) {
    const match = policy.value.match;
    const value = oomValue(policy.value);
    if (!isRecord(match) || value === undefined || value >= 0 || !protectsSupervisord(match)) continue;
    const message = `${capitalize(policyLabel(policy))} protects supervisord (oom_score_adj ${value}), and every program supervisord starts inherits that value, including one procguard restarts for leaking memory; no oom policy covers the supervised programs. Add one, e.g. { kind: oom, match: { program: "*" }, oom_score_adj: 0 }`;
    report.add(policy.file, [...policy.path, 'match'], 'warning', 'unsafe-match', message, 'key');
  }
}

/** A match that selects supervisord itself, not its programs. */
function protectsSupervisord(match: Data): boolean {
  if (Object.keys(match).some((key) => key === 'program' || key === 'group' || key === 'supervisor')) return false;
  return ['name', 'cmdline', 'exe', 'pidfile'].some((key) => stringItems(match[key], []).some(([text]) => text.toLowerCase().includes('supervisord')));
}

/** A match with program "*" (or "*:*"), or any group: the supervised programs get their own value. */
function coversSupervisedPrograms(match: unknown): boolean {
  if (!isRecord(match)) return false;
  if (match.group !== undefined) return true;
  return stringItems(match.program, []).some(([glob]) => glob === '*' || glob === '*:*');
}
