// The procfs collector on a generated tree (known values, odd names, a vanished process)
// and on the live /proc (this very process).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProcfsCollector } from '../../src/collectors/procfs/procfs.js';
import { parseProcStat, parseProcStatBytes } from '../../src/host/proc.js';
import { COMMAND_LINE_READ_LENGTH } from '../../src/data/host-index.js';
import { ALL_FIELDS, type ProcessFields } from '../../src/collectors/types.js';
import { killAllChildren, spawnChild } from '../helpers/processes.js';
import { BOOT_TIME, statLine, writeProcfsTree } from '../helpers/procfs-tree.js';

const BASIC: ProcessFields = { cmdline: false, truncatedNames: false, oomScoreAdj: false, user: false };

describe('collector: procfs', () => {
  let root: string;
  before(async () => {
    root = await writeProcfsTree([
      { pid: 1, ppid: 0, comm: 'systemd', rssPages: 3000, startTicks: 10, argv: ['/sbin/init'] },
      { pid: 2, ppid: 0, comm: 'kthreadd', rssPages: 0, startTicks: 10, kernelThread: true },
      { pid: 40, ppid: 1, comm: 'sshd', rssPages: 2000, startTicks: 250, uid: 0, argv: ['/usr/sbin/sshd', '-D'], oomScoreAdj: -1000 },
      { pid: 41, ppid: 1, comm: 'we (ir) d) name', rssPages: 1, startTicks: 1050, uid: 33, argv: ['python', 'app.py'] },
      { pid: 42, ppid: 1, comm: 'gone', rssPages: 1, startTicks: 1, vanished: true },
      { pid: 43, ppid: 1, comm: 'a-very-long-nam', rssPages: 1, startTicks: 1, uid: 1000, argv: ['/opt/bin/a-very-long-name-indeed', '--x'] },
    ]);
    await writeFile(join(root, 'passwd'), 'root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n');
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('reads name, state, ppid, rss in bytes and start time in epoch seconds to the clock tick from stat', async () => {
    const processes = await new ProcfsCollector({ root }).collect(BASIC);
    assert.deepEqual(
      processes.map((p) => [p.pid, p.ppid, p.name, p.state, p.rss, p.start_time]),
      [
        [1, 0, 'systemd', 'S', 3000 * 4096, BOOT_TIME + 0.1],
        [2, 0, 'kthreadd', 'S', 0, BOOT_TIME + 0.1],
        [40, 1, 'sshd', 'S', 2000 * 4096, BOOT_TIME + 2.5],
        [41, 1, 'we (ir) d) name', 'S', 4096, BOOT_TIME + 10.5],
        [43, 1, 'a-very-long-nam', 'S', 4096, BOOT_TIME + 0.01],
      ],
    );
    assert.equal(processes[1]?.kernel_thread, true);
    assert.equal(processes[0]?.kernel_thread, undefined);
  });

  it('reads cmdline, uid, user and oom_score_adj only when asked', async () => {
    const basic = await new ProcfsCollector({ root }).collect(BASIC);
    assert.ok(basic.every((p) => p.cmdline === undefined && p.uid === undefined && p.oom_score_adj === undefined));
    const all = await new ProcfsCollector({ root, passwd: join(root, 'passwd') }).collect(ALL_FIELDS);
    const sshd = all.find((p) => p.pid === 40);
    assert.deepEqual([sshd?.cmdline, sshd?.uid, sshd?.user, sshd?.oom_score_adj], ['/usr/sbin/sshd -D', 0, 'root', -1000]);
    const odd = all.find((p) => p.pid === 41);
    assert.deepEqual([odd?.cmdline, odd?.uid, odd?.user], ['python app.py', 33, 'www-data']);
    assert.equal(all.find((p) => p.pid === 43)?.user, undefined, 'a uid missing from passwd has no name');
  });

  it('reads the command line of a name cut at 15 characters, for pidof-style name matching', async () => {
    const processes = await new ProcfsCollector({ root }).collect({ ...BASIC, truncatedNames: true });
    assert.equal(processes.find((p) => p.pid === 43)?.cmdline, '/opt/bin/a-very-long-name-indeed --x');
    assert.equal(processes.find((p) => p.pid === 40)?.cmdline, undefined);
  });

  it('a missing root is an error that names it', async () => {
    await assert.rejects(new ProcfsCollector({ root: join(root, 'nope') }).collect(BASIC), /ENOENT.*nope/);
  });

  it('parses stat lines whose name holds spaces and parentheses, and refuses garbage', () => {
    const line = statLine({ pid: 7, ppid: 1, comm: ') (x', rssPages: 2, startTicks: 300 });
    assert.deepEqual(parseProcStat(line), { pid: 7, name: ') (x', state: 'S', ppid: 1, flags: 0x400000, startTicks: 300, rssPages: 2, cpuTicks: 8 });
    assert.equal(parseProcStat('garbage'), undefined);
    assert.equal(parseProcStat('7 (x) S 1'), undefined);
  });

  it('reads the numbers of any stat line as splitting it would, and refuses one with a field that is not an integer', () => {
    const field = fc.oneof(fc.nat().map(String), fc.integer({ min: -1000, max: -1 }).map(String), fc.constantFrom('x', '-', '12a', '1.5'));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4194304 }), fc.string(), fc.constantFrom('R', 'S', 'D', 'Z'), fc.array(field, { minLength: 21, maxLength: 50 }), (pid, comm, state, rest) => {
        const line = `${pid} (${comm}) ${state} ${rest.join(' ')}\n`;
        const [ppid, flags, utime, stime, startTicks, rss] = [0, 5, 10, 11, 18, 20].map((i) => rest[i]!.replace('\n', ''));
        const numbers = [ppid, flags, utime, stime, startTicks, rss].map((text) => (/^-?\d+$/.test(text!) ? Number(text) : NaN));
        const expected = numbers.some(Number.isNaN)
          ? undefined
          : { pid, name: comm, state, ppid: numbers[0], flags: numbers[1], startTicks: numbers[4], rssPages: Math.max(0, numbers[5]!), cpuTicks: Math.max(0, numbers[2]! + numbers[3]!) };
        assert.deepEqual(parseProcStat(line), expected);
      }),
      { numRuns: 500 },
    );
  });

  it("reads a stat line's bytes as it reads the line's UTF-8 text, whatever bytes the name holds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4194304 }), fc.uint8Array({ maxLength: 24 }), fc.array(fc.nat(), { minLength: 21, maxLength: 50 }), (pid, comm, rest) => {
        const line = Buffer.concat([Buffer.from(`${pid} (`), comm, Buffer.from(`) S ${rest.join(' ')}\n`)]);
        const text = line.toString('utf8');
        const name = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
        const [ppid, flags, utime, stime, startTicks, rss] = [0, 5, 10, 11, 18, 20].map((i) => rest[i]!);
        const expected = { pid, name, state: 'S', ppid, flags, startTicks, rssPages: rss, cpuTicks: utime! + stime! };
        assert.deepEqual(parseProcStatBytes(line, line.length), expected);
        assert.deepEqual(parseProcStat(text), expected);
      }),
      { numRuns: 500 },
    );
  });

  it('on the live /proc, finds this process with its parent, name, memory and start', async () => {
    const processes = await new ProcfsCollector().collect(ALL_FIELDS);
    const self = processes.find((p) => p.pid === process.pid);
    assert.ok(self, 'this process is listed');
    assert.equal(self.ppid, process.ppid);
    assert.equal(self.name, 'node');
    assert.ok(self.cmdline?.includes('mocha'), self.cmdline);
    const rss = process.memoryUsage.rss();
    assert.ok(Math.abs((self.rss ?? 0) - rss) < rss / 2, `rss ${self.rss} vs ${rss}`);
    const started = Date.now() / 1000 - process.uptime();
    assert.ok(Math.abs((self.start_time ?? 0) - started) <= 2, `start ${self.start_time} vs ${started}`);
    assert.equal(self.uid, process.geteuid?.());
    assert.equal(typeof self.oom_score_adj, 'number');
    assert.ok(processes.some((p) => p.pid === 1));
  });

  it('a command line of exactly 64 KiB is whole; one byte more is cut and marked', async () => {
    const exact = 'x'.repeat(COMMAND_LINE_READ_LENGTH - 1); // with its NUL, exactly 64 KiB
    const tree = await writeProcfsTree([
      { pid: 1, ppid: 0, comm: 'systemd', rssPages: 1, startTicks: 1, argv: ['/sbin/init'] },
      { pid: 10, ppid: 1, comm: 'exact', rssPages: 1, startTicks: 1, argv: [exact] },
      { pid: 11, ppid: 1, comm: 'longer', rssPages: 1, startTicks: 1, argv: [`${exact}y`] },
    ]);
    try {
      const processes = await new ProcfsCollector({ root: tree }).collect({ ...BASIC, cmdline: true });
      const [whole, cut] = [10, 11].map((pid) => processes.find((p) => p.pid === pid));
      assert.deepEqual([whole?.cmdline, whole?.cmdline_truncated], [exact, undefined]);
      assert.deepEqual([cut?.cmdline, cut?.cmdline_truncated], [`${exact}y`, true]);
    } finally {
      await rm(tree, { recursive: true, force: true });
    }
  });

  it('reads at most the first 64 KiB of a command line, however long a user made it', async () => {
    // 16 arguments of 100 KiB: 1.6 MiB of command line, within the kernel's limits for one exec.
    const args = Array.from({ length: 16 }, (_, i) => String.fromCharCode(97 + i).repeat(100 * 1024));
    const child = await spawnChild(process.execPath, ['-e', 'setInterval(() => {}, 1e9)', ...args]);
    try {
      assert.equal((await readFile(`/proc/${child.pid}/cmdline`)).length > 16 * 100 * 1024, true, 'the kernel holds the whole line');
      const processes = await new ProcfsCollector().collect(ALL_FIELDS);
      const long = processes.find((p) => p.pid === child.pid);
      assert.equal(long?.cmdline?.length, COMMAND_LINE_READ_LENGTH);
      assert.equal(long.cmdline_truncated, true);
      assert.equal(processes.find((p) => p.pid === process.pid)?.cmdline_truncated, undefined, 'a short line is whole');
      assert.ok(long.cmdline.startsWith(`${process.execPath} -e setInterval(() => {}, 1e9) aaaa`), long.cmdline.slice(0, 100));
    } finally {
      killAllChildren();
    }
  });
});
