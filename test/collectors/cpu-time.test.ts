// What a CPU rate is computed from: each process' cpu_time (utime + stime of stat, in
// seconds) and the host's steady clock (since_boot, /proc/uptime), on a generated tree
// through the collector's root option and on the live /proc.
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { collectSnapshot } from '../../src/collectors/collect.js';
import { ProcfsCollector } from '../../src/collectors/procfs/procfs.js';
import type { ProcessFields } from '../../src/collectors/types.js';
import { policySetOf } from '../helpers/snapshots.js';
import { writeProcfsTree, writeUptime } from '../helpers/procfs-tree.js';

const BASIC: ProcessFields = { cmdline: false, truncatedNames: false, oomScoreAdj: false, user: false };

describe('collector: cpu_time and since_boot', () => {
  let root: string;
  before(async () => {
    root = await writeProcfsTree([
      { pid: 1, ppid: 0, comm: 'systemd', rssPages: 1, startTicks: 10 },
      { pid: 50, ppid: 1, comm: 'worker', rssPages: 1, startTicks: 500, utimeTicks: 12345, stimeTicks: 655 },
      { pid: 51, ppid: 1, comm: 'idle', rssPages: 1, startTicks: 500, utimeTicks: 0, stimeTicks: 0 },
    ]);
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('cpu_time is utime + stime in seconds (clock ticks / USER_HZ)', async () => {
    const processes = await new ProcfsCollector({ root }).collect(BASIC);
    assert.deepEqual(
      processes.map((p) => [p.pid, p.cpu_time]),
      [
        [1, 0.08],
        [50, 130],
        [51, 0],
      ],
    );
  });

  it("the snapshot carries the host's steady clock from uptime, and leaves it out where there is none", async () => {
    const policySet = policySetOf('policies: [{ name: hot, kind: cpu, match: { name: worker }, max_cpu: 80% }]');
    const collect = () => collectSnapshot(policySet, { env: {}, processTable: new ProcfsCollector({ root }), loadavgPath: `${root}/loadavg`, hostname: 'h', now: () => 1795266602 });
    assert.equal((await collect()).since_boot, undefined);
    await writeUptime(root, 4321.5);
    const snapshot = await collect();
    assert.equal(snapshot.since_boot, 4321.5);
    assert.equal(snapshot.processes.find((p) => p.pid === 50)?.cpu_time, 130);
  });

  it('on the live /proc, this process has used at least the CPU Node.js counts for it, and since_boot is the uptime', async () => {
    // Burn a little CPU first, so the figures are not both near zero.
    let x = 0;
    for (let i = 0; i < 5_000_000; i += 1) x += i % 7;
    assert.ok(x > 0);
    const used = process.cpuUsage();
    const collector = new ProcfsCollector();
    const processes = await collector.collect(BASIC);
    const self = processes.find((p) => p.pid === process.pid);
    const nodeSeconds = (used.user + used.system) / 1e6;
    assert.ok(self?.cpu_time !== undefined && self.cpu_time >= nodeSeconds - 0.02, `cpu_time ${self?.cpu_time} against ${nodeSeconds} s that Node.js counted before`);
    const uptime = Number((await readFile('/proc/uptime', 'utf8')).split(' ')[0]);
    assert.ok(collector.sinceBoot !== undefined && collector.sinceBoot <= uptime && collector.sinceBoot > uptime - 60, `${collector.sinceBoot} against ${uptime}`);
  });
});
