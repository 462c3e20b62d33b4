import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDirectory, type Mkdir } from '../../src/state/directory.js';

/** The real mkdir, counted: a directory that cannot be created must cost a bounded number of attempts. */
function countingMkdir(): { mkdir: Mkdir; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    mkdir: (path, options) => {
      calls.push(path);
      if (calls.length > 100) throw new Error(`mkdir called ${calls.length} times`);
      return mkdir(path, options);
    },
  };
}

describe('makeDirectory (the state directory and its parents)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'procguard-mkdir-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the missing levels, 0700, one attempt each', async () => {
    const counted = countingMkdir();
    await makeDirectory(join(dir, 'a', 'b', 'state'), counted.mkdir);
    assert.deepEqual(counted.calls, [join(dir, 'a'), join(dir, 'a', 'b'), join(dir, 'a', 'b', 'state')]);
    assert.equal((await stat(join(dir, 'a', 'b', 'state'))).mode & 0o777, 0o700);
    await makeDirectory(join(dir, 'a', 'b', 'state'), counted.mkdir);
    assert.equal(counted.calls.length, 3, 'an existing directory is not created again');
  });

  const impossible: Array<[string, (dir: string) => Promise<string>, string]> = [
    ['under /proc, where the kernel answers ENOENT', async () => '/proc/nope19sd/state', 'ENOENT'],
    ['below a dangling symbolic link', async (d) => (await symlink(join(d, 'gone'), join(d, 'link')), join(d, 'link', 'state')), 'ENOENT'],
    ['below a regular file', async (d) => (await writeFile(join(d, 'file'), ''), join(d, 'file', 'a', 'state')), 'ENOTDIR'],
  ];
  for (const [name, make, code] of impossible) {
    it(`${name}: rejects with ${code} after one attempt per missing level`, async () => {
      const target = await make(dir);
      const counted = countingMkdir();
      await assert.rejects(makeDirectory(target, counted.mkdir), { code });
      assert.ok(counted.calls.length <= 3, counted.calls.join(', '));
    });
  }
});
