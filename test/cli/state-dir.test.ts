// A state directory that cannot be created ends apply and run at once with exit 3 and the reason.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcguard, STACK_TRACE, type CliRun } from '../helpers/run-cli.js';

/** A run that never ends is killed when the test gives up on it, not left spinning. */
const runBounded = (args: string[]): Promise<CliRun> => runProcguard(args, { timeout: 25000 });

describe('a state directory that cannot be created', function () {
  this.timeout(30000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'procguard-statedir-'));
    await writeFile(join(dir, 'file'), '');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const places: Array<[string, () => string, RegExp]> = [
    ['under /proc', () => '/proc/nope19sd', /state directory \/proc\/nope19sd: it cannot be created there \(ENOENT\); nothing was done/],
    ['under a regular file', () => join(dir, 'file', 'state'), /: it is not a directory; nothing was done/],
  ];
  for (const [where, stateDir, reason] of places) {
    for (const verb of ['apply', 'run']) {
      it(`${where}: ${verb} exits 3 at once with the reason`, async () => {
        const policies = join(dir, `${verb}-${where.replace(/\W/g, '')}.yaml`);
        await writeFile(policies, `settings: { state_dir: ${JSON.stringify(stateDir())} }\npolicies:\n  - { name: oom-x, kind: oom, match: { name: statedir19sd }, oom_score_adj: 0 }\n`);
        const run = await runBounded([verb, '-c', policies]);
        assert.equal(run.code, 3, run.stdout + run.stderr);
        assert.match(run.stderr, reason);
        assert.doesNotMatch(run.stderr, STACK_TRACE);
        if (verb === 'run') assert.match(run.stderr, /"level":"error".*cannot take the lock/);
      });
    }
  }
});
