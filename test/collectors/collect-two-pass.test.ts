// The two-pass collection reads command lines and oom_score_adj only where a policy needs them,
// and the engine's lookups by namespec, group and name select exactly what a full scan does:
// on a generated fleet host, the plan is the same as from a snapshot with every field read.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { generateHost, generatePolicies, writeHost, writePolicies } from '../../bench/fixtures.js';
import { fieldsNeeded } from '../../src/engine/fields-needed.js';
import { collectSnapshot, joinSupervised } from '../../src/collectors/collect.js';
import { ProcfsCollector } from '../../src/collectors/procfs/procfs.js';
import { ALL_FIELDS } from '../../src/collectors/types.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { emptyState, type Snapshot } from '../../src/data/types.js';
import { loadConfig } from '../../src/modes/config.js';
import type { PolicySet } from '../../src/policy/model.js';
import { BOOT_TIME, writeProcfsTree } from '../helpers/procfs-tree.js';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';

async function policySetFrom(dir: string): Promise<PolicySet> {
  const { config, messages } = await loadConfig([dir]);
  assert.ok(config, messages.join('\n'));
  return config.policySet;
}

describe('collection in two passes', () => {
  let base: string;
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'procguard-two-pass-'));
  });
  after(() => rm(base, { recursive: true, force: true }));

  it('reads command lines only for the processes a policy narrowed by name selects, oom_score_adj only where an oom policy matches', async () => {
    await mkdir(join(base, 'small'));
    const root = await writeProcfsTree(
      [
        { pid: 1, ppid: 0, comm: 'systemd', rssPages: 1, startTicks: 1, argv: ['/sbin/init'] },
        { pid: 10, ppid: 1, comm: 'rsync', rssPages: 1, startTicks: 1, argv: ['rsync', '-a', '/srv/'], oomScoreAdj: 0 },
        { pid: 11, ppid: 1, comm: 'bash', rssPages: 1, startTicks: 1, argv: ['-bash'], oomScoreAdj: 0 },
        { pid: 12, ppid: 1, comm: 'sshd', rssPages: 1, startTicks: 1, argv: ['/usr/sbin/sshd', '-D'], oomScoreAdj: -1000 },
      ],
      join(base, 'small'),
    );
    const dir = await writePolicies(join(base, 'small-policies'), [
      { name: 'backoff', kind: 'load', match: { name: 'rsync', cmdline: '^rsync ' }, pause_above: 8 },
      { name: 'sshd', kind: 'oom', match: { name: 'sshd' }, oom_score_adj: -1000 },
    ]);
    const small = await policySetFrom(dir);
    const snapshot = await collectSnapshot(small, { secondPass: fieldsNeeded(small), env: {}, processTable: new ProcfsCollector({ root }), loadavgPath: join(root, 'loadavg') });
    const read = Object.fromEntries(snapshot.processes.map((p) => [p.name, [p.cmdline, p.oom_score_adj]]));
    assert.deepEqual(read, { systemd: [undefined, undefined], rsync: ['rsync -a /srv/', undefined], bash: [undefined, undefined], sshd: [undefined, -1000] });

    const everywhere = await writePolicies(join(base, 'cmdline-only'), [{ name: 'backoff', kind: 'load', match: { cmdline: '^rsync ' }, pause_above: 8 }]);
    const cmdlineOnly = await policySetFrom(everywhere);
    const all = await collectSnapshot(cmdlineOnly, { secondPass: fieldsNeeded(cmdlineOnly), env: {}, processTable: new ProcfsCollector({ root }), loadavgPath: join(root, 'loadavg') });
    assert.ok(
      all.processes.every((p) => p.cmdline !== undefined),
      'a policy on the command line alone needs every command line',
    );
  });

  it('plans exactly what a snapshot with every field plans, on a 600-process fleet host with 200 policies', async () => {
    const host = generateHost(600);
    // Some programs over their limits, and daemons away from their OOM priority, so there is something to plan.
    for (const p of host.processes) {
      if (p.comm === 'python3' && p.pid % 3 === 0) p.rssPages = 200000;
      if (p.comm === 'rsyslogd') p.oomScoreAdj = 0;
    }
    const root = await writeHost(host, join(base, 'fleet'));
    const policySet = await policySetFrom(await writePolicies(join(base, 'fleet-policies'), generatePolicies(200, 600)));
    const now = BOOT_TIME + 7 * 3600;
    const collect = async (fields?: typeof ALL_FIELDS): Promise<Snapshot> => {
      const snapshot = await collectSnapshot(policySet, {
        secondPass: fieldsNeeded(policySet),
        env: {},
        processTable: new ProcfsCollector({ root }),
        loadavgPath: join(root, 'loadavg'),
        now: () => now,
        ...(fields ? { fields } : {}),
      });
      snapshot.processes = joinSupervised(snapshot.processes, host.programs);
      return snapshot;
    };
    // Two cycles: memory policies here act on the second cycle over the limit (for: 2).
    const summary = (snapshot: Snapshot) => {
      const first = evaluate(policySet, snapshot, emptyState(), now);
      const { plan, observations } = evaluate(policySet, snapshot, first.state, now);
      return {
        actions: plan.actions.map((a) => `${a.policy} ${a.action} ${a.target.pid} ${a.status}: ${a.reason}`).sort(),
        observations: observations.map((o) => `${o.policy} ${o.target.pid} ${o.verdict}: ${o.detail}`).sort(),
        warnings: plan.warnings ?? [],
      };
    };
    const twoPass = summary(await collect());
    const everything = summary(await collect(ALL_FIELDS));
    assert.ok(twoPass.actions.length >= 10, `something is planned: ${twoPass.actions.length}`);
    assert.deepEqual(twoPass, everything);
  });
});
