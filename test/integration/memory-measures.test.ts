// PSS, USS and shares of the host's memory on real processes: a parent that fills 200 MiB and
// forks three children sharing it shows PSS well under RSS and USS under PSS, so a tree judged
// by PSS is judged by what it uses; and a real memory hog over a share of this host's memory is
// restarted through a real supervisord.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectSnapshot } from '../../src/collectors/collect.js';
import { fieldsNeeded } from '../../src/engine/fields-needed.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { emptyState, type Plan } from '../../src/data/types.js';
import { childPids, eventually, killAllChildren, spawnChild } from '../helpers/processes.js';
import { runProcguard, STACK_TRACE } from '../helpers/run-cli.js';
import { policySetOf } from '../helpers/snapshots.js';
import { HOG_COMMAND, PASSWORD, requireSupervisord, startSupervisord, USERNAME, type Supervisord } from '../helpers/supervisord.js';

const MiB = 1024 * 1024;

/** Fills 200 MiB (every page written), forks three children that keep it, and waits. */
const FORKER = ['import os, time', "buffer = b'\\x01' * (200 * 1024 * 1024)", 'for _ in range(3):', '    if os.fork() == 0:', '        time.sleep(600)', '        os._exit(0)', 'time.sleep(600)'].join(
  '\n',
);

function rssOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ');
  return Number(fields[1]) * 4096;
}

describe('integration: memory measures on real processes', function () {
  this.timeout(90000);
  afterEach(() => killAllChildren());

  it('children sharing a 200 MiB buffer after fork: PSS well under RSS, USS under PSS, and the tree judged by PSS', async () => {
    const parent = await spawnChild('/usr/bin/python3', ['-c', FORKER, 'pg27memshare']);
    await eventually(() => childPids(parent.pid).length === 3 && rssOf(parent.pid) > 200 * MiB, 30000, 'the forker and its three children');
    const children = childPids(parent.pid);
    await eventually(() => children.every((pid) => rssOf(pid) > 200 * MiB), 10000, 'the children to map the buffer');

    const set = policySetOf(`policies:\n  - { name: forker, kind: memory, match: { cmdline: "pg27memshare", user: root }, scope: tree, max_pss: 500MB, action: kill }\n`);
    const snapshot = await collectSnapshot(set, { env: {}, secondPass: fieldsNeeded(set), self: process.pid });
    const tree = [parent.pid, ...children].map((pid) => snapshot.processes.find((p) => p.pid === pid));
    for (const p of tree) {
      assert.ok(p?.pss !== undefined && p.uss !== undefined && p.rss !== undefined, `pss and uss read for pid ${p?.pid}`);
      // Four processes share the buffer: each one's share is about a quarter of it.
      assert.ok(p.pss < p.rss / 2, `pid ${p.pid}: pss ${p.pss} well under rss ${p.rss}`);
      assert.ok(p.uss < p.pss, `pid ${p.pid}: uss ${p.uss} under pss ${p.pss}`);
    }
    const summedRss = tree.reduce((sum, p) => sum + (p?.rss ?? 0), 0);
    const summedPss = tree.reduce((sum, p) => sum + (p?.pss ?? 0), 0);
    assert.ok(summedRss > 800 * MiB, `summed rss ${summedRss} counts the buffer four times`);
    assert.ok(summedPss < 300 * MiB, `summed pss ${summedPss} counts it once`);
    // smaps_rollup is read for the processes the policy matched and their trees, not for everyone.
    assert.ok(snapshot.processes.filter((p) => p.pss !== undefined).length === tree.length, 'read only for the forker and its children');

    const { observations } = evaluate(set, snapshot, emptyState(), snapshot.time);
    const own = observations.find((o) => o.target.pid === parent.pid);
    assert.match(own?.detail ?? '', /^tree pss \(4 processes\) [\d.]+ MiB ≤ 500\.0 MiB$/);
    assert.equal(own?.measure?.value, summedPss);
  });

  describe('a share of the host memory, through a real supervisord', () => {
    let sv: Supervisord;
    let work: string;
    before(async () => {
      requireSupervisord();
      sv = await startSupervisord(`[program:hog27]\ncommand=${HOG_COMMAND} pg27hog\nstartsecs=1\nautorestart=true\n`);
      work = await mkdtemp(join(tmpdir(), 'pg27-share-'));
    });
    after(async () => {
      await sv?.stop();
      await rm(work, { recursive: true, force: true });
    });

    it('restarts a hog whose PSS is over its share of this host, and says the share and the bytes', async () => {
      const info = async () => (await sv.client.call('supervisor.getProcessInfo', ['hog27'])) as { pid: number; statename: string };
      await eventually(async () => (await info()).statename === 'RUNNING', 20000, 'hog27 RUNNING');
      const before = await info();
      await eventually(() => rssOf(before.pid) > 60 * MiB, 10000, 'the hog to fill its buffer');
      // 30 MiB as a share of this host's memory: the hog's 60 MiB buffer is over it whatever the host.
      const total = Number(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]) * 1024;
      const percent = ((30 * MiB) / total) * 100;
      const share = `${percent.toFixed(6)}%`;
      const file = join(work, 'policies.yaml');
      await writeFile(
        file,
        `settings:\n  state_dir: ${join(work, 'state')}\nsupervisors:\n  main: { url: "${sv.unixUrl}", username: ${USERNAME}, password_env: SV_PASSWORD }\npolicies:\n  - { name: hog-share, kind: memory, match: { program: hog27 }, max_pss: "${share}" }\n`,
      );
      const run = await runProcguard(['apply', '-c', file, '--json'], { env: { PATH: process.env.PATH ?? '', TZ: 'UTC', SV_PASSWORD: PASSWORD } });
      assert.doesNotMatch(run.stderr, STACK_TRACE);
      const plan = JSON.parse(run.stdout) as Plan;
      const action = plan.actions[0];
      assert.deepEqual([plan.actions.length, action?.action, action?.status, action?.target.pid], [1, 'restart', 'done', before.pid], run.stdout);
      assert.match(action?.reason ?? '', new RegExp(`^pss [\\d.]+ MiB > ${share.replace('.', '\\.')} \\(30\\.0 MiB\\) \\(cycle 1 of 1\\)$`));
      assert.equal(action?.measure?.limit, Math.floor((total * Number(percent.toFixed(6))) / 100));
      assert.equal(action?.measure?.limit_percent, Number(percent.toFixed(6)));
      const after = await info();
      assert.notEqual(after.pid, before.pid);
      assert.equal(run.code, 0, run.stderr);
    });
  });
});
