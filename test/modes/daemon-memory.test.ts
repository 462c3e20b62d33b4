// The daemon over a long run: hundreds of real cycles in-process (collect the live /proc,
// evaluate, save the state) with the heap measured after a full collection, early and late.
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
  this.timeout(120000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pg-daemon-memory-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('memory stays flat: the heap after 800 cycles is within 1 MiB of the heap after 200 (a leak of 2 KiB a cycle would fail it)', async () => {
    const file = join(dir, 'policies.yaml');
    // Every process matched and measured, none over its limit: the work of a cycle without acting.
    await writeFile(
      file,
      `settings:\n  state_dir: ${join(dir, 'state')}\npolicies:\n  - { name: everything, kind: memory, match: { name: "/./" }, max_rss: 1000GB, action: kill }\n  - { name: oom-none, kind: oom, match: { cmdline: "^no-such-command " }, oom_score_adj: 5 }\n`,
    );
    const heap: Record<number, number> = {};
    const logged: string[] = [];
    const code = await runDaemon(
      {
        config: [file],
        intervalMs: 0,
        maxCycles: 800,
        onCycle: (n) => {
          if (n === 200 || n === 800) {
            gc();
            heap[n] = process.memoryUsage().heapUsed;
          }
        },
      },
      { stdout: () => undefined, stderr: (text) => logged.push(text), env: {}, cwd: dir },
    );
    assert.equal(code, 0, logged.join(''));
    assert.deepEqual(logged.filter((line) => /error|warning|skipped|failed/.test(line)), []);
    const growth = heap[800]! - heap[200]!;
    assert.ok(growth < 1024 * 1024, `the heap grew by ${(growth / 1024 / 1024).toFixed(2)} MiB over 600 cycles`);
  });
});
