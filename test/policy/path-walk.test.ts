// The path walk on real files: who besides root could write or replace each component of a
// path (directories, links and their targets' directories), and a read that refuses a file
// swapped between the walk and the open, the swap made by a real unprivileged user.
import assert from 'node:assert/strict';
import { chmod, chown, mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { MAX_LINKS, MAX_WALK_STEPS, readWalkedFile, walkPath, type PathWriter } from '../../src/policy/path-walk.js';
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
    {
      name: 'through a sticky directory anyone can write (as /tmp), to a root-owned entry',
      make: async () => (await chmod(join(work, 'root'), 0o1777), join(work, 'root/deep/file')),
      resolved: 'root/deep/file',
      writers: [],
    },
    { name: 'a directory the user owns', make: async () => (await writeFile(join(work, 'users/file'), 'x'), join(work, 'users/file')), resolved: 'users/file', writers: ['users uid'] },
    {
      name: 'a file others can write',
      make: async () => (await chmod(join(work, 'root/deep/file'), 0o646), join(work, 'root/deep/file')),
      resolved: 'root/deep/file',
      writers: ['root/deep/file anyone'],
    },
    {
      name: 'a directory its group can write',
      make: async () => (await chmod(join(work, 'root/deep'), 0o775), join(work, 'root/deep/file')),
      resolved: 'root/deep/file',
      writers: ['root/deep anyone'],
    },
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
      name: "`..` after the user's link is the parent of the link's target, as the kernel has it, not of the link",
      make: async () => {
        await mkdir(join(work, 'secret'), { mode: 0o755 });
        await mkdir(join(work, 'etc'), { mode: 0o755 });
        await writeFile(join(work, 'etc/sv.pass'), 'pw\n', { mode: 0o600 });
        user.run(['ln', '-s', join(work, 'secret'), join(work, 'users/l')]);
        return `${work}/users/l/../etc/sv.pass`;
      },
      resolved: 'etc/sv.pass',
      writers: ['users uid', 'users/l uid'],
    },
    {
      name: 'a relative path with `..` after a link is walked from the working directory, the same way',
      make: async () => {
        await mkdir(join(work, 'secret'), { mode: 0o755 });
        await mkdir(join(work, 'etc'), { mode: 0o755 });
        await writeFile(join(work, 'etc/sv.pass'), 'pw\n', { mode: 0o600 });
        await symlink(join(work, 'secret'), join(work, 'root/l'));
        return `${relative(process.cwd(), join(work, 'root/l'))}/../etc/sv.pass`;
      },
      resolved: 'etc/sv.pass',
      writers: [],
    },
    { name: 'a trailing slash after a file (the kernel: ENOTDIR)', make: async () => `${join(work, 'root/deep/file')}/`, error: 'a part of the path is not a directory' },
    { name: 'a trailing slash after a directory', make: async () => `${join(work, 'root/deep')}/`, resolved: 'root/deep', writers: [] },
    {
      name: 'a trailing slash after a last link not otherwise followed: followed, as the kernel does',
      make: async () => (await symlink('deep', join(work, 'root/dirlink')), `${join(work, 'root/dirlink')}/`),
      follow: false,
      resolved: 'root/deep',
      writers: [],
    },
    { name: '`..` after a file (the kernel: ENOTDIR)', make: async () => `${work}/root/deep/file/../file`, error: 'a part of the path is not a directory' },
    {
      name: `a loop of links: stopped after ${MAX_LINKS}`,
      make: async () => (await symlink('b', join(work, 'root/a')), await symlink('a', join(work, 'root/b')), join(work, 'root/a')),
      error: 'too many levels of symbolic links',
    },
  ];

  const show = (writer: PathWriter): string => `${writer.component.slice(work.length + 1)} ${writer.who === 'anyone' ? 'anyone' : writer.who === user.uid ? 'uid' : writer.who}`;

  for (const testCase of CASES) {
    it(testCase.name, async () => {
      const path = await testCase.make();
      const walked = await walkPath(path, { followLastLink: testCase.follow ?? true });
      if (testCase.error) {
        assert.ok('code' in walked);
        assert.equal(walked.reason, testCase.error);
        return;
      }
      assert.ok(!('code' in walked), 'code' in walked ? walked.message : '');
      assert.equal(walked.resolved, join(work, testCase.resolved!));
      if (testCase.follow ?? true) assert.equal(walked.resolved, await realpath(path), 'the walk ends where the kernel resolves the path');
      assert.deepEqual(walked.writers.filter((w) => w.component.startsWith(`${work}/`)).map(show), testCase.writers);
    });
  }

  describe('a walk is bounded by count, not by time', () => {
    /** The user's chain: `count` links, each to the next through a target of `x/../` repeated `repeat` times. */
    function chain(count: number, repeat: number): string {
      user.sh(
        `cd ${work}/users && mkdir x && printf '1\\n' > end && ` +
          `i=0; while [ $i -lt ${count} ]; do n=$((i + 1)); next=l$n; [ $n -eq ${count} ] && next=end; ` +
          `ln -s "$(printf 'x/../%.0s' $(seq ${repeat}))$next" l$i; i=$n; done`,
      );
      return join(work, 'users/l0');
    }

    it(`40 links, each a target of ~4,000 characters of x/../: refused after ${MAX_WALK_STEPS} steps, though the kernel follows it`, async () => {
      const path = chain(40, 799);
      assert.equal(await realpath(path), join(work, 'users/end'), 'the kernel resolves the chain');
      let lookups = 0;
      const walked = await walkPath(path, { followLastLink: true, afterLookup: () => void (lookups += 1) });
      assert.ok('code' in walked);
      assert.equal(walked.errno, 'ELOOP');
      assert.equal(walked.message, `Cannot read ${path}: takes more than ${MAX_WALK_STEPS} steps to resolve (its components and those of every link's target), so it is refused as a loop of links is`);
      // 64,000 components, ~32,000 of them lookups, unbounded; now at most one lookup a step, and / first.
      assert.ok(lookups <= MAX_WALK_STEPS + 1, `${lookups} lookups`);
    });

    it('one such link is within the bound and followed', async () => {
      const path = chain(1, 799);
      let lookups = 0;
      const walked = await walkPath(path, { followLastLink: true, afterLookup: () => void (lookups += 1) });
      assert.ok(!('code' in walked), 'code' in walked ? walked.message : '');
      assert.equal(walked.resolved, join(work, 'users/end'));
      assert.ok(lookups <= MAX_WALK_STEPS + 1, `${lookups} lookups`);
    });
  });

  describe('a link that changes while it is followed', () => {
    const CHANGED = 'changed while it was being read (replaced, or a link planted); nothing was read';
    const SWAPS: { name: string; swap: (link: string) => void }[] = [
      { name: 'the user swaps the link for a file (readlink: EINVAL)', swap: (link) => void user.sh(`printf '1\\n' > ${link}.new && mv -f ${link}.new ${link}`) },
      { name: 'the user removes the link (readlink: ENOENT)', swap: (link) => void user.run(['rm', '-f', link]) },
    ];
    for (const testCase of SWAPS) {
      it(`${testCase.name} between the lookup and the readlink: the message says it changed`, async () => {
        const link = join(work, 'users/app.pid');
        user.run(['ln', '-s', join(work, 'root/deep/file'), link]);
        const walked = await walkPath(link, { followLastLink: true, afterLookup: (component) => (component === link ? testCase.swap(link) : undefined) });
        assert.deepEqual(walked, { code: 'permission', message: `Refused: ${link} ${CHANGED}`, reason: CHANGED });
      });
    }
  });

  describe('a read checks the very file it walked', () => {
    const SECRET = 'stand-in-for-etc-shadow';
    beforeEach(async () => {
      await writeFile(join(work, 'root/secret'), SECRET, { mode: 0o600 });
      user.sh(`printf 'template\\n' > ${work}/users/body.hbs && printf 'other\\n' > ${work}/users/other.hbs`);
    });

    const SWAPS: { name: string; swap: () => void; read?: string }[] = [
      { name: 'nothing changes: the file is read', swap: () => undefined, read: 'template\n' },
      { name: "the user swaps the file for a link to root's secret", swap: () => void user.run(['ln', '-sfn', join(work, 'root/secret'), join(work, 'users/body.hbs')]) },
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
