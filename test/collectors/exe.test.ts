// match.exe on a generated procfs tree: /proc/PID/exe is read only for the processes a policy
// with exe needs (a second pass), a deleted binary still matches its old path, and a process
// that only calls itself sshd, or runs sshd's binary as another user, is not protected.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fieldsNeeded } from '../../src/engine/fields-needed.js';
import { collectSnapshot } from '../../src/collectors/collect.js';
import { exePath, ProcfsCollector } from '../../src/collectors/procfs/procfs.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { emptyState, type Snapshot } from '../../src/data/types.js';
import { yaml } from '../helpers/policy-files.js';
import { BOOT_TIME, writeProcfsTree, type FakeProcess } from '../helpers/procfs-tree.js';
import { policySetOf } from '../helpers/snapshots.js';

const PASSWD = 'root:x:0:0:root:/root:/bin/bash\nmallory:x:1000:1000::/home/mallory:/bin/sh\n';

const PROCESSES: FakeProcess[] = [
  { pid: 1, ppid: 0, comm: 'systemd', rssPages: 1, startTicks: 1, argv: ['/sbin/init'], exe: '/usr/lib/systemd/systemd' },
  { pid: 2, ppid: 0, comm: 'kthreadd', rssPages: 0, startTicks: 1, kernelThread: true },
  { pid: 10, ppid: 1, comm: 'sshd', rssPages: 1, startTicks: 5, uid: 0, argv: ['sshd: /usr/sbin/sshd -D [listener]'], exe: '/usr/sbin/sshd', oomScoreAdj: 0 },
  // Upgraded since it started: the kernel shows the old path with " (deleted)".
  { pid: 11, ppid: 1, comm: 'sshd', rssPages: 1, startTicks: 6, uid: 0, argv: ['/usr/sbin/sshd', '-D', '-p', '2222'], exe: '/usr/sbin/sshd (deleted)', oomScoreAdj: 0 },
  // A user's copy of sleep, named sshd.
  { pid: 20, ppid: 1, comm: 'sshd', rssPages: 1, startTicks: 7, uid: 1000, argv: ['/usr/sbin/sshd', '-D'], exe: '/tmp/x/sshd', oomScoreAdj: 0 },
  // The real binary, run by the user.
  { pid: 21, ppid: 1, comm: 'sshd', rssPages: 1, startTicks: 8, uid: 1000, argv: ['/usr/sbin/sshd', '-D', '-f', '/tmp/x/cfg'], exe: '/usr/sbin/sshd', oomScoreAdj: 0 },
  // Root's, but another binary named sshd.
  { pid: 22, ppid: 1, comm: 'sshd', rssPages: 1, startTicks: 9, uid: 0, argv: ['/opt/sshd'], exe: '/opt/sshd', oomScoreAdj: 0 },
  { pid: 30, ppid: 1, comm: 'bash', rssPages: 1, startTicks: 10, uid: 1000, argv: ['-bash'], exe: '/usr/bin/bash', oomScoreAdj: 0 },
];

describe('match.exe: the executable the kernel ran', () => {
  let root: string;
  before(async () => {
    root = await writeProcfsTree(PROCESSES);
    await writeFile(join(root, 'passwd'), PASSWD);
  });
  after(() => rm(root, { recursive: true, force: true }));

  const snapshotFor = (text: string): Promise<Snapshot> => {
    const policySet = policySetOf(text);
    return collectSnapshot(policySet, {
      secondPass: fieldsNeeded(policySet),
      env: {},
      processTable: new ProcfsCollector({ root, passwd: join(root, 'passwd') }),
      loadavgPath: join(root, 'loadavg'),
      now: () => BOOT_TIME + 60,
    });
  };

  it('strips the " (deleted)" the kernel appends to an unlinked binary', () => {
    assert.equal(exePath('/usr/sbin/sshd (deleted)'), '/usr/sbin/sshd');
    assert.equal(exePath('/usr/sbin/sshd'), '/usr/sbin/sshd');
  });

  it("reads exe only for the processes the policy's other keys select (root's processes called sshd)", async () => {
    const snapshot = await snapshotFor(yaml`
      policies:
        - { name: p, kind: oom, match: { name: sshd, user: root, exe: /usr/sbin/sshd }, oom_score_adj: -1000 }
    `);
    assert.deepEqual(
      [...snapshot.processes].sort((a, b) => a.pid - b.pid).map((p) => [p.pid, p.exe]),
      [
        [1, undefined],
        [2, undefined],
        [10, '/usr/sbin/sshd'],
        [11, '/usr/sbin/sshd'],
        [20, undefined],
        [21, undefined],
        [22, '/opt/sshd'],
        [30, undefined],
      ],
    );
  });

  it('with exe alone, reads it for every process (a kernel thread has none)', async () => {
    const snapshot = await snapshotFor(yaml`
      policies:
        - { name: p, kind: oom, match: { exe: /usr/bin/bash }, oom_score_adj: 100 }
    `);
    assert.deepEqual(
      [...snapshot.processes].sort((a, b) => a.pid - b.pid).map((p) => p.exe),
      ['/usr/lib/systemd/systemd', undefined, '/usr/sbin/sshd', '/usr/sbin/sshd', '/tmp/x/sshd', '/usr/sbin/sshd', '/opt/sshd', '/usr/bin/bash'],
    );
  });

  const CASES: Array<{ match: string; pids: number[] }> = [
    { match: '{ name: sshd }', pids: [10, 11, 20, 21, 22] },
    { match: '{ exe: /usr/sbin/sshd }', pids: [10, 11, 21] },
    { match: '{ name: sshd, user: root, exe: /usr/sbin/sshd }', pids: [10, 11] },
    { match: '{ user: root, exe: "/^\\\\/usr\\\\/sbin\\\\/ssh/" }', pids: [10, 11] },
    { match: '{ user: root, exe: [/opt/sshd, /usr/sbin/sshd] }', pids: [10, 11, 22] },
    { match: '{ exe: /usr/sbin/sshd, exclude: { exe: /usr/sbin/sshd } }', pids: [] },
    { match: '{ name: sshd, exe: "/ \\\\(deleted\\\\)$/" }', pids: [] },
  ];
  for (const c of CASES) {
    it(`match ${c.match} protects pids ${c.pids.join(', ') || 'none'}`, async () => {
      const text = `policies:\n  - { name: p, kind: oom, match: ${c.match}, oom_score_adj: -1000 }\n`;
      const snapshot = await snapshotFor(text);
      const { plan } = evaluate(policySetOf(text), snapshot, emptyState(), snapshot.time);
      assert.deepEqual(
        plan.actions.map((a) => [a.action, a.value, a.target.pid]).sort((a, b) => Number(a[2]) - Number(b[2])),
        c.pids.map((pid) => ['set_oom_score_adj', -1000, pid]),
      );
    });
  }
});
