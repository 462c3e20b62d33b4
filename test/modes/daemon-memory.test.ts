// The daemon over a long run, the soak: 10,000 real ticks in-process, back to back (collect the
// live /proc, evaluate, save the state), with the heap measured after a full collection early
// and late. About a minute on two cores.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { runDaemon } from '../../src/modes/daemon.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('the daemon over a long run', function () {
  this.timeout(600000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pg-daemon-memory-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('memory stays flat: the heap after 10,000 ticks is within 1 MiB of the heap after 1,000 (a leak of 120 bytes a tick would fail it)', async () => {
    const file = join(dir, 'policies.yaml');
    // Every process matched and measured, none over its limit: the work of a cycle without acting.
    await writeFile(
      file,
      `settings:\n  state_dir: ${join(dir, 'state')}\npolicies:\n  - { name: everything, kind: memory, match: { name: "/./" }, max_rss: 1000GB, action: { signal: HUP } }\n  - { name: oom-none, kind: oom, match: { cmdline: "^no-such-command " }, oom_score_adj: 5 }\n`,
    );
    const heap: Record<number, number> = {};
    let cycles = 0;
    const logged: string[] = [];
    const code = await runDaemon(
      { config: [file] },
      { stdout: () => undefined, stderr: (text) => logged.push(text), env: {}, cwd: dir },
      {
        intervalMs: 0,
        maxCycles: 10000,
        onCycle: (n) => {
          cycles = n;
          if (n === 1000 || n === 10000) {
            gc();
            heap[n] = process.memoryUsage().heapUsed;
          }
        },
      },
    );
    assert.equal(code, 0, logged.join(''));
    // The one warning other processes of the host can cause: a command line longer than a pattern sees.
    const cutLines = /cmdline patterns saw only the first/;
    assert.deepEqual(
      logged.filter((line) => /error|warning|skipped|failed/.test(line) && !cutLines.test(line)),
      [],
    );
    assert.equal(cycles, 10000);
    const growth = heap[10000]! - heap[1000]!;
    assert.ok(growth < 1024 * 1024, `the heap grew by ${(growth / 1024 / 1024).toFixed(2)} MiB over 9,000 ticks`);
  });
});
