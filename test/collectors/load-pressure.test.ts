// Load policies on pressure stall information, from generated procfs trees through the
// collector's root option to the plan: the band is read against pressure/<resource>'s some
// line, and a host without PSI is a collector error naming the policy (check exits 3).
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { checkExitCode } from '../../src/cli/check.js';
import { collectSnapshot } from '../../src/collectors/collect.js';
import { ProcfsCollector } from '../../src/collectors/procfs/procfs.js';
import { emptyState } from '../../src/data/types.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { fieldsNeeded } from '../../src/engine/fields-needed.js';
import { ExitCode } from '../../src/shared/exit-codes.js';
import { pressureText, writeHostFiles } from '../helpers/host-files.js';
import { writeProcfsTree } from '../helpers/procfs-tree.js';
import { actionLines, policySetOf } from '../helpers/snapshots.js';

const POLICIES = policySetOf(`policies:
  - { name: backoff, kind: load, source: cpu_pressure, average: 60s, match: { name: rsync }, pause_above: 30, resume_below: 10 }
  - { name: io-backoff, kind: load, source: io_pressure, match: { name: tar }, pause_above: 50 }
`);

describe('collector to plan: load policies on pressure', () => {
  let root: string;
  beforeEach(async () => {
    root = await writeProcfsTree([
      { pid: 1, ppid: 0, comm: 'systemd', rssPages: 1, startTicks: 1 },
      { pid: 70, ppid: 1, comm: 'rsync', rssPages: 1, startTicks: 100, argv: ['rsync', '-a', '/src', '/dst'] },
      { pid: 71, ppid: 70, comm: 'ssh', rssPages: 1, startTicks: 101, argv: ['ssh', 'backup'] },
      { pid: 80, ppid: 1, comm: 'tar', rssPages: 1, startTicks: 100, argv: ['tar', 'cf', '-', '/srv'] },
    ]);
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const plan = async () => {
    const snapshot = await collectSnapshot(POLICIES, { env: {}, processTable: new ProcfsCollector({ root }), loadavgPath: join(root, 'loadavg'), secondPass: fieldsNeeded(POLICIES), hostname: 'h' });
    return { snapshot, evaluation: evaluate(POLICIES, snapshot, emptyState(), snapshot.time) };
  };

  it('pauses the tree whose pressure average is above the band, and only reads the resources the policies name', async () => {
    await writeHostFiles(root, {
      pressure: {
        cpu: pressureText({ avg10: 99, avg60: 31.5, avg300: 5 }, { avg10: 0, avg60: 0, avg300: 0 }),
        io: pressureText({ avg10: 50, avg60: 90, avg300: 90 }, { avg10: 40, avg60: 40, avg300: 40 }),
        memory: pressureText({ avg10: 100, avg60: 100, avg300: 100 }, { avg10: 100, avg60: 100, avg300: 100 }),
      },
    });
    const { snapshot, evaluation } = await plan();
    assert.equal(snapshot.errors, undefined);
    assert.equal(snapshot.pressure?.memory, undefined, 'no policy reads memory pressure');
    assert.deepEqual(actionLines(evaluation.plan), ['backoff pause rsync/70 planned: cpu pressure 31.50% (some, 60s) > 30%']);
    assert.deepEqual(
      evaluation.observations.map((o) => `${o.policy}: ${o.detail}`),
      ['backoff: cpu pressure 31.50% (some, 60s) > 30%', 'io-backoff: io pressure 50.00% (some, 10s) ≤ 50%'],
    );
    assert.deepEqual(evaluation.plan.actions[0]!.processes, [
      { pid: 70, start_time: snapshot.processes[1]!.start_time },
      { pid: 71, start_time: snapshot.processes[2]!.start_time },
    ]);
  });

  it('a host without PSI: a collector error that names the file and the policy needing it, nothing paused, and check exits 3', async () => {
    const { snapshot, evaluation } = await plan();
    assert.deepEqual(
      snapshot.errors?.map((e) => e.source),
      ['pressure', 'pressure'],
    );
    const messages = snapshot.errors!.map((e) => e.message).join('\n');
    assert.match(messages, /pressure\/cpu.*policy "backoff" needs it/);
    assert.match(messages, /pressure\/io.*policy "io-backoff" needs it/);
    assert.deepEqual(evaluation.plan.actions, []);
    assert.equal(checkExitCode(evaluation.plan), ExitCode.FAILED);
  });
});
