// The path walk on real files: who besides root could write or replace each component of a
// path (directories, links and their targets' directories), and a read that refuses a file
// swapped between the walk and the open, the swap made by a real unprivileged user.
import assert from 'node:assert/strict';
import { chmod, chown, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_LINKS, readWalkedFile, walkPath, type PathWriter } from '../../src/policy/path-walk.js';
import { unprivilegedUser, type UnprivilegedUser } from '../helpers/unprivileged-user.js';

describe('path walk', function () {
  this.timeout(20000);
  let user: UnprivilegedUser;
  let work: string;

  before(() => {
    user = unprivilegedUser('pgtest-paths');
  });
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'pg-walk-'));
    await chmod(work, 0o755);
    await mkdir(join(work, 'root/deep'), { recursive: true, mode: 0o755 });
    await writeFile(join(work, 'root/deep/file'), 'x', { mode: 0o644 });
    await mkdir(join(work, 'users'), { mode: 0o755 });
    await chown(join(work, 'users'), user.uid, user.gid);
  });
  afterEach(() => rm(work, { recursive: true, force: true }));

  interface WalkCase {
    name: string;
    /** Sets the scene and returns the path to walk. */
    make(): Promise<string>;
    follow?: boolean;
    /** Where the walk ends, relative to the work directory. */
    resolved?: string;
    /** Each writer as "component (relative) who". */
    writers?: string[];
    /** Or the error. */
    error?: string;
  }

  const CASES: WalkCase[] = [
    { name: 'root-owned directories and file', make: async () => join(work, 'root/deep/file'), resolved: 'root/deep/file', writers: [] },
    { name: 'through a sticky directory anyone can write (as /tmp), to a root-owned entry', make: async () => (await chmod(join(work, 'root'), 0o1777), join(work, 'root/deep/file')), resolved: 'root/deep/file', writers: [] },
    { name: 'a directory the user owns', make: async () => (await writeFile(join(work, 'users/file'), 'x'), join(work, 'users/file')), resolved: 'users/file', writers: ['users uid'] },
    { name: 'a file others can write', make: async () => (await chmod(join(work, 'root/deep/file'), 0o646), join(work, 'root/deep/file')), resolved: 'root/deep/file', writers: ['root/deep/file anyone'] },
    { name: 'a directory its group can write', make: async () => (await chmod(join(work, 'root/deep'), 0o775), join(work, 'root/deep/file')), resolved: 'root/deep/file', writers: ['root/deep anyone'] },
    {
      name: "a link the user made, in the user's directory, to a root-owned file",
      make: async () => (user.run(['ln', '-s', join(work, 'root/deep/file'), join(work, 'users/link')]), join(work, 'users/link')),
      resolved: 'root/deep/file',
      writers: ['users uid', 'users/link uid'],
    },
    {
      name: "a root-owned link whose relative target climbs into the user's directory",
      make: async () => (await writeFile(join(work, 'users/file'), 'x'), await symlink('../../users/file', join(work, 'root/deep/link')), join(work, 'root/deep/link')),
      resolved: 'users/file',
      writers: ['users uid'],
    },
    {
      name: 'a root-owned link to a root-owned directory (as /var/run → /run)',
      make: async () => (await symlink('root', join(work, 'varrun')), join(work, 'varrun/deep/file')),
      resolved: 'root/deep/file',
      writers: [],
    },
    {
      name: 'a last link not followed is where the walk ends',
      make: async () => (await symlink('deep/file', join(work, 'root/link')), join(work, 'root/link')),
      follow: false,
      resolved: 'root/link',
      writers: [],
    },
    { name: 'a missing component', make: async () => join(work, 'root/missing/file'), error: 'no such file or directory' },
    { name: 'a file used as a directory', make: async () => join(work, 'root/deep/file/more'), error: 'a part of the path is not a directory' },
    {
      name: `a loop of links: stopped after ${MAX_LINKS}`,
      make: async () => (await symlink('b', join(work, 'root/a')), await symlink('a', join(work, 'root/b')), join(work, 'root/a')),
      error: 'too many levels of symbolic links',
    },
  ];

  const show = (writer: PathWriter): string => `${writer.component.slice(work.length + 1)} ${writer.who === 'anyone' ? 'anyone' : writer.who === user.uid ? 'uid' : writer.who}`;

  for (const testCase of CASES) {
    it(testCase.name, async () => {
      const walked = await walkPath(await testCase.make(), { followLastLink: testCase.follow ?? true });
      if (testCase.error) {
        assert.ok('code' in walked);
        assert.equal(walked.reason, testCase.error);
        return;
      }
      assert.ok(!('code' in walked), 'code' in walked ? walked.message : '');
      assert.equal(walked.resolved, join(work, testCase.resolved!));
      assert.deepEqual(walked.writers.filter((w) => w.component.startsWith(`${work}/`)).map(show), testCase.writers);
    });
  }

  describe('a read checks the very file it walked', () => {
    const SECRET = 'stand-in-for-etc-shadow';
    beforeEach(async () => {
      await writeFile(join(work, 'root/secret'), SECRET, { mode: 0o600 });
      user.sh(`printf 'template\\n' > ${work}/users/body.hbs && printf 'other\\n' > ${work}/users/other.hbs`);
    });

    const SWAPS: { name: string; swap: () => void; read?: string }[] = [
      { name: 'nothing changes: the file is read', swap: () => undefined, read: 'template\n' },
      { name: 'the user swaps the file for a link to root\'s secret', swap: () => void user.run(['ln', '-sfn', join(work, 'root/secret'), join(work, 'users/body.hbs')]) },
      { name: 'the user swaps the file for another file', swap: () => void user.run(['mv', '-f', join(work, 'users/other.hbs'), join(work, 'users/body.hbs')]) },
      { name: 'the user removes the file', swap: () => void user.run(['rm', '-f', join(work, 'users/body.hbs')]) },
    ];

    for (const testCase of SWAPS) {
      it(`${testCase.name} between the walk and the open`, async () => {
        const path = join(work, 'users/body.hbs');
        const read = await readWalkedFile(path, 1024, { followLastLink: true, beforeOpen: async () => testCase.swap() });
        if (testCase.read !== undefined) {
          assert.ok(!('code' in read));
          assert.equal(read.bytes.toString('utf8'), testCase.read);
        } else {
          assert.deepEqual(read, {
            code: 'permission',
            message: `Refused: ${path} changed while it was being read (replaced, or a link planted); nothing was read`,
            reason: 'changed while it was being read (replaced, or a link planted); nothing was read',
          });
        }
      });
    }
  });
});
