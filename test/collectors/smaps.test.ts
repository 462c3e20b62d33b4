// PSS, USS and swap from /proc/PID/smaps_rollup, read in the second pass only for the processes
// a max_pss / max_uss / max_swap policy matches (and their descendants with scope: tree), on
// generated procfs trees through the collector's root.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectSnapshot } from '../../src/collectors/collect.js';
import { parseSmapsRollup, ProcfsCollector } from '../../src/collectors/procfs/procfs.js';
import { fieldsNeeded } from '../../src/engine/fields-needed.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { emptyState } from '../../src/data/types.js';
import { policySetOf } from '../helpers/snapshots.js';
import { writeProcfsTree } from '../helpers/procfs-tree.js';
import { KIB, MIB, writeHostFiles, writeSmapsRollup } from '../helpers/host-files.js';

describe('collector: smaps_rollup', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'procguard-smaps-'));
    await writeProcfsTree(
      [
        { pid: 1, ppid: 0, comm: 'systemd', rssPages: 1, startTicks: 1 },
        { pid: 10, ppid: 1, comm: 'gunicorn', rssPages: 51200, startTicks: 5, argv: ['gunicorn: master [app]'] },
        { pid: 11, ppid: 10, comm: 'gunicorn', rssPages: 51200, startTicks: 6, argv: ['gunicorn: worker [app]'] },
        { pid: 12, ppid: 10, comm: 'gunicorn', rssPages: 51200, startTicks: 6, argv: ['gunicorn: worker [app]'] },
        { pid: 20, ppid: 1, comm: 'redis-server', rssPages: 2560, startTicks: 7 },
      ],
      root,
    );
    await writeHostFiles(root, { meminfo: { total: 1024 * MIB, available: 512 * MIB } });
    await writeSmapsRollup(root, 10, { rss: 200 * MIB, pss: 70 * MIB, privateClean: 4 * MIB, privateDirty: 6 * MIB });
    for (const pid of [11, 12]) await writeSmapsRollup(root, pid, { rss: 200 * MIB, pss: 65 * MIB, privateClean: 0, privateDirty: 5 * MIB, swap: 3 * MIB });
    await writeSmapsRollup(root, 20, { rss: 10 * MIB, pss: 10 * MIB, privateClean: 0, privateDirty: 10 * MIB, swap: 512 * KIB });
  });
  after(() => rm(root, { recursive: true, force: true }));

  const collect = (text: string) => {
    const set = policySetOf(text);
    return collectSnapshot(set, { env: {}, secondPass: fieldsNeeded(set), processTable: new ProcfsCollector({ root }), loadavgPath: join(root, 'loadavg') }).then((snapshot) => ({ set, snapshot }));
  };
  const read = (snapshot: { processes: { pid: number; pss?: number; uss?: number; swap?: number }[] }) =>
    Object.fromEntries(snapshot.processes.filter((p) => p.pss !== undefined).map((p) => [p.pid, [p.pss, p.uss, p.swap]]));

  it('parses Pss, Private_Clean + Private_Dirty and Swap in bytes, and nothing from an empty rollup', () => {
    assert.deepEqual(parseSmapsRollup('x [rollup]\nRss: 8 kB\nPss: 3 kB\nPrivate_Clean: 1 kB\nPrivate_Dirty: 2 kB\nSwap: 4 kB\nSwapPss: 4 kB\n'), { pss: 3 * KIB, uss: 3 * KIB, swap: 4 * KIB });
    assert.equal(parseSmapsRollup(''), undefined);
  });

  it('reads it only for the processes a max_pss policy matches, and the whole tree with scope: tree', async () => {
    const { snapshot: single } = await collect('policies:\n  - { name: r, kind: memory, match: { name: redis-server }, max_pss: 5MB }\n');
    assert.deepEqual(read(single), { 20: [10 * MIB, 10 * MIB, 512 * KIB] });
    const { snapshot: tree, set } = await collect('policies:\n  - { name: g, kind: memory, match: { name: gunicorn, cmdline: master }, scope: tree, max_pss: 150MB, action: kill }\n');
    assert.deepEqual(read(tree), {
      10: [70 * MIB, 10 * MIB, 0],
      11: [65 * MIB, 5 * MIB, 3 * MIB],
      12: [65 * MIB, 5 * MIB, 3 * MIB],
    });
    // 600 MiB of summed RSS, 200 MiB of PSS: the tree is over 150 MB by PSS and acted on once.
    const { plan } = evaluate(set, tree, emptyState(), tree.time);
    assert.deepEqual(
      plan.actions.map((a) => [a.target.pid, a.reason]),
      [[10, 'tree pss (3 processes) 200.0 MiB > 150.0 MiB (cycle 1 of 1)']],
    );
  });

  it('reads none where RSS is within the limit (PSS and USS are never above it), but always for max_swap', async () => {
    const { snapshot: within } = await collect('policies:\n  - { name: g, kind: memory, match: { name: gunicorn, cmdline: master }, scope: tree, max_uss: 600MB, action: kill }\n');
    assert.deepEqual(read(within), {});
    const { snapshot: swap } = await collect('policies:\n  - { name: r, kind: memory, match: { name: redis-server }, max_swap: 1GB, action: kill }\n');
    assert.deepEqual(read(swap), { 20: [10 * MIB, 10 * MIB, 512 * KIB] });
  });

  it('reads none for max_rss policies, and the host memory only for a share', async () => {
    const { snapshot } = await collect('policies:\n  - { name: r, kind: memory, match: { name: gunicorn }, max_rss: 1GB }\n');
    assert.deepEqual(read(snapshot), {});
    assert.equal(snapshot.memory, undefined);
    const { snapshot: share } = await collect('policies:\n  - { name: r, kind: memory, match: { name: gunicorn }, max_rss: 50% }\n');
    assert.deepEqual(share.memory, { total: 1024 * MIB, available: 512 * MIB, swap_total: 0, swap_free: 0 });
  });
});
