// The ps fallback (one call for the whole table) and the load averages.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLoadAverages } from '../../src/collectors/loadavg/loadavg.js';
import { ProcfsCollector } from '../../src/collectors/procfs/procfs.js';
import { parsePsOutput, PsCollector } from '../../src/collectors/ps/ps.js';
import { parseCpuTime, parseElapsed } from '../../src/host/ps.js';
import { ALL_FIELDS } from '../../src/collectors/types.js';

describe('collector: ps', () => {
  it('parses ps output: pid, ppid, uid, rss in KiB, elapsed time, CPU time, state, name and command line', () => {
    const text = [
      '    1     0     0  1200    3-04:05:06 01:02:03 Ss   launchd          /sbin/launchd',
      '  812     1    33 20480       05:00   0:01.50 S+   python3.11       python3.11 app.py --port 80',
      'garbage line',
    ].join('\n');
    assert.deepEqual(parsePsOutput(text, 1000000, ALL_FIELDS, new Map([[33, 'www']])), [
      { pid: 1, ppid: 0, name: 'launchd', rss: 1200 * 1024, start_time: 1000000 - (3 * 86400 + 4 * 3600 + 5 * 60 + 6), cpu_time: 3723, state: 'S', cmdline: '/sbin/launchd', uid: 0 },
      { pid: 812, ppid: 1, name: 'python3.11', rss: 20480 * 1024, start_time: 1000000 - 300, cpu_time: 1.5, state: 'S', cmdline: 'python3.11 app.py --port 80', uid: 33, user: 'www' },
    ]);
  });

  it('parses every form of elapsed time', () => {
    assert.deepEqual(['00:07', '12:34', '01:02:03', '2-00:00:01', 'x'].map(parseElapsed), [7, 754, 3723, 172801, undefined]);
  });

  it("parses every form of CPU time: procps [dd-]hh:mm:ss and the BSDs' mm:ss.hh", () => {
    assert.deepEqual(['00:00:07', '01:02:03', '2-00:00:01', '0:01.50', '123:04.25', 'x', '1:2:3:4'].map(parseCpuTime), [7, 3723, 172801, 1.5, 7384.25, undefined, undefined]);
  });

  it('lists the same processes as /proc on this host, in one ps call', async () => {
    const [fromPs, fromProc] = await Promise.all([new PsCollector().collect(ALL_FIELDS), new ProcfsCollector().collect(ALL_FIELDS)]);
    const self = fromPs.find((p) => p.pid === process.pid);
    assert.equal(self?.ppid, process.ppid);
    assert.ok(self?.cmdline?.includes('mocha'));
    const procPids = new Set(fromProc.map((p) => p.pid));
    const common = fromPs.filter((p) => procPids.has(p.pid));
    assert.ok(common.length >= fromPs.length - 3, `${common.length} of ${fromPs.length} pids also in /proc`);
    const init = fromPs.find((p) => p.pid === 1);
    const initProc = fromProc.find((p) => p.pid === 1);
    assert.ok(Math.abs((init?.start_time ?? 0) - (initProc?.start_time ?? 0)) <= 2);
    // ps shows whole seconds of CPU (procps), /proc hundredths: the same figure but for the cut-off fraction and what pid 1 used in between.
    assert.ok(
      init?.cpu_time !== undefined && initProc?.cpu_time !== undefined && initProc.cpu_time - init.cpu_time >= 0 && initProc.cpu_time - init.cpu_time < 2,
      `${init?.cpu_time} ${initProc?.cpu_time}`,
    );
  });
});

describe('collector: loadavg', () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'procguard-load-'))));
  after(() => rm(dir, { recursive: true, force: true }));

  it('reads the three averages from a loadavg file', async () => {
    await writeFile(join(dir, 'loadavg'), '4.50 2.25 1.00 3/210 9999\n');
    assert.deepEqual(await readLoadAverages(join(dir, 'loadavg')), [4.5, 2.25, 1]);
  });

  it('a malformed file is an error quoting it', async () => {
    await writeFile(join(dir, 'bad'), 'high\n');
    await assert.rejects(readLoadAverages(join(dir, 'bad')), /does not start with three load averages: "high\\n"/);
  });

  it('without a path, the averages of os.loadavg()', async () => {
    const load = await readLoadAverages(undefined);
    assert.equal(load.length, 3);
    assert.ok(load.every((v) => v >= 0));
  });
});
