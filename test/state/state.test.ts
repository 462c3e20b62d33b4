// The state directory: the state file written atomically and read back, a corrupt one moved
// aside (its paused processes kept), the lock with a bounded wait and stale-lock recovery,
// and the audit log bounded by rotation.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyState, type EngineState } from '../../src/data/types.js';
import { appendAudit, AUDIT_LOG_GENERATIONS, readAuditLog } from '../../src/state/audit-log.js';
import { gzipSync } from 'node:zlib';
import type { AuditEntry } from '../../src/data/types.js';
import { acquireLock, LockBusyError } from '../../src/state/lock.js';
import { appendPauses, journalPath } from '../../src/state/pause-journal.js';
import { loadState, saveState, StateError, writeAheadState } from '../../src/state/state-file.js';

const NOW = 1795266602;
const paused: EngineState['paused'] = [{ policy: 'rsync-backoff', root: { pid: 4242, start_time: 1795266000, name: 'rsync' }, processes: [{ pid: 4242, start_time: 1795266000 }], since: 1795266100 }];

describe('state file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pg-state-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('a missing file is a first run', async () => {
    assert.deepEqual(await loadState(dir, NOW), { state: emptyState(), warnings: [] });
  });

  it('writes atomically, leaves no temporary file, reads back what it wrote, mode 0600', async () => {
    const state: EngineState = { version: 1, targets: { 'web-memory': { 'supervisor:main:web:w1': { over: 1 } } }, paused };
    await saveState(join(dir, 'new'), state);
    assert.deepEqual((await readdir(join(dir, 'new'))).sort(), ['paused.journal', 'state.json'], 'the paused trees are also in the journal');
    assert.equal((await stat(join(dir, 'new', 'state.json'))).mode & 0o777, 0o600);
    assert.deepEqual(await loadState(join(dir, 'new'), NOW), { state, warnings: [] });
  });

  const corrupt: Array<[string, string, RegExp]> = [
    ['truncated JSON', '{"version":1,"targets":{},"pau', /is corrupt \(it is not JSON \(.+\)\)/],
    ['the wrong shape', '{"version":1,"targets":[],"paused":[]}', /is corrupt \(\/targets must be object\)/],
    ['binary garbage', '\u0000\u0001\u0002', /is corrupt \(it is not JSON/],
  ];
  for (const [what, text, expected] of corrupt) {
    it(`${what}: moved aside with a warning, never trusted`, async () => {
      await writeFile(join(dir, 'state.json'), text);
      const loaded = await loadState(dir, NOW);
      assert.deepEqual(loaded.state, emptyState());
      assert.equal(loaded.warnings.length, 1);
      assert.match(loaded.warnings[0] ?? '', expected);
      assert.ok(loaded.warnings[0]?.endsWith(`moved aside to ${join(dir, `state.json.corrupt-${NOW}`)}, starting afresh`));
      assert.equal(await readFile(join(dir, `state.json.corrupt-${NOW}`), 'utf8'), text);
      assert.deepEqual((await readdir(dir)).sort(), [`state.json.corrupt-${NOW}`]);
    });
  }

  it('a corrupt file still gives back the processes it paused, so none is left stopped', async () => {
    await writeFile(join(dir, 'state.json'), JSON.stringify({ version: 1, targets: 'broken', paused: [...paused, { policy: 'x', bogus: true }] }));
    const loaded = await loadState(dir, NOW);
    assert.deepEqual(loaded.state.paused, paused);
    assert.deepEqual(loaded.warnings.slice(1), ['kept 1 paused process from it, so they are resumed and not left stopped']);
  });

  it('a file from a newer procguard is an error, and is left in place', async () => {
    await writeFile(join(dir, 'state.json'), '{"version":2}');
    await assert.rejects(loadState(dir, NOW), (error: Error) => error instanceof StateError && /has version 2, written by a newer procguard/.test(error.message));
    assert.equal(await readFile(join(dir, 'state.json'), 'utf8'), '{"version":2}');
  });

  it('a failed write keeps the previous state', async () => {
    await saveState(dir, { ...emptyState(), paused });
    // A directory where the temporary file must go makes the write fail as a full disk would.
    await mkdir(join(dir, `state.json.tmp-${process.pid}`));
    await assert.rejects(saveState(dir, emptyState()), (error: Error) => error instanceof StateError && /the previous state is kept$/.test(error.message));
    assert.deepEqual((await loadState(dir, NOW)).state.paused, paused);
  });

  it("a link planted at the temporary file's name is replaced, never written through", async () => {
    const target = join(dir, 'precious');
    await writeFile(target, 'precious\n');
    await symlink(target, join(dir, `state.json.tmp-${process.pid}`));
    await saveState(dir, { ...emptyState(), paused });
    assert.equal(await readFile(target, 'utf8'), 'precious\n');
    assert.deepEqual((await loadState(dir, NOW)).state.paused, paused);
  });
});

describe('the pause journal: a corrupt state file never loses a paused process', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pg-journal-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const tree = (policy: string, pid: number, children = 0): EngineState['paused'][number] => ({
    policy,
    root: { pid, start_time: 1795266000 + pid, name: 'rsync' },
    processes: Array.from({ length: children + 1 }, (_, i) => ({ pid: pid + i, start_time: 1795266000 + pid })),
    since: 1795266100,
  });
  const trees = [tree('rsync-backoff', 4242, 3), tree('rsync-backoff', 5000), tree('tar-backoff', 6100, 1)];
  const pids = (state: EngineState): number[] => state.paused.flatMap((t) => t.processes.map((p) => p.pid)).sort((a, b) => a - b);
  const allPids = pids({ ...emptyState(), paused: trees });

  /** As a cycle leaves the directory: the trees journalled before their SIGSTOP, then state.json written. */
  async function pausedAsACycleLeavesIt(): Promise<string> {
    await appendPauses(dir, trees);
    await saveState(dir, { version: 1, targets: { 'web-memory': { 'supervisor:main:web:w1': { over: 1, actions: [NOW - 10, NOW - 5] } } }, paused: trees, pending: [] });
    return readFile(join(dir, 'state.json'), 'utf8');
  }

  it('state.json truncated at every byte offset: every paused process is still named', async () => {
    const whole = await pausedAsACycleLeavesIt();
    assert.ok(whole.length > 500, 'a state of some size');
    for (let offset = 0; offset <= whole.length; offset += 1) {
      await writeFile(join(dir, 'state.json'), whole.slice(0, offset));
      const loaded = await loadState(dir, NOW);
      assert.deepEqual(pids(loaded.state), allPids, `truncated at byte ${offset}`);
    }
  });

  const garbage: Array<[string, string | Buffer]> = [
    ['binary garbage', Buffer.from([0, 1, 2, 0xff, 0xfe, 10, 13])],
    ['a valid empty state', '{"version":1,"targets":{},"paused":[]}\n'],
    ['the wrong shape', '{"version":1,"targets":[],"paused":"none"}'],
    ['an empty file', ''],
    ['null', 'null'],
  ];
  for (const [what, text] of garbage) {
    it(`state.json replaced by ${what}: every paused process is still named, with a warning`, async () => {
      await pausedAsACycleLeavesIt();
      await writeFile(join(dir, 'state.json'), text);
      const loaded = await loadState(dir, NOW);
      assert.deepEqual(pids(loaded.state), allPids);
      assert.match(
        loaded.warnings.join('\n'),
        /the pause journal names 7 paused processes the state file does not \(pid 4242 by rsync-backoff, pid 5000 by rsync-backoff, pid 6100 by tar-backoff\); kept/,
      );
    });
  }

  it('the next write of state.json brings the journal back to its paused trees, and removes it when none is left', async () => {
    await pausedAsACycleLeavesIt();
    await writeFile(join(dir, 'state.json'), 'garbage');
    const loaded = await loadState(dir, NOW);
    loaded.state.paused = loaded.state.paused.filter((t) => t.root.pid !== 5000); // resumed by this cycle
    await saveState(dir, loaded.state);
    await writeFile(join(dir, 'state.json'), '{"vers');
    assert.deepEqual(
      pids((await loadState(dir, NOW)).state),
      allPids.filter((pid) => pid !== 5000),
    );
    await saveState(dir, emptyState());
    assert.ok(!(await readdir(dir)).includes('paused.journal'), 'no journal once nothing is paused');
    assert.deepEqual((await loadState(dir, NOW)).state, emptyState());
  });

  it('a record cut short by a crash is skipped with a warning, and the records appended after it are read', async () => {
    await appendPauses(dir, [trees[0]!]);
    const line = await readFile(journalPath(dir), 'utf8');
    for (let cut = 1; cut < line.length - 1; cut += 7) {
      await writeFile(journalPath(dir), line.slice(0, cut));
      await appendPauses(dir, trees.slice(1));
      const loaded = await loadState(dir, NOW);
      assert.deepEqual(
        pids(loaded.state),
        allPids.filter((pid) => pid < 4242 || pid > 4245),
        `cut at ${cut}`,
      );
      if (cut > 1) assert.match(loaded.warnings.join('\n'), /1 damaged line of the pause journal .* skipped \(a write cut short\)/, `cut at ${cut}`);
    }
  });

  it('a record whose bytes were changed fails its checksum and is not trusted', async () => {
    await appendPauses(dir, [trees[1]!]);
    const text = await readFile(journalPath(dir), 'utf8');
    await writeFile(journalPath(dir), text.replace('"pid":5000', '"pid":1'));
    const loaded = await loadState(dir, NOW);
    assert.deepEqual(loaded.state.paused, []);
    assert.match(loaded.warnings.join('\n'), /1 damaged line/);
  });

  it("a link planted at the journal's name is never followed: no pause is recorded through it, and loading refuses it", async () => {
    const target = join(dir, 'precious');
    await writeFile(target, 'precious\n');
    await symlink(target, journalPath(dir));
    await assert.rejects(appendPauses(dir, trees), (error: NodeJS.ErrnoException) => error.code === 'ELOOP');
    await assert.rejects(loadState(dir, NOW), (error: Error) => error instanceof StateError && /pause journal .* it is a symbolic link/.test(error.message));
    assert.equal(await readFile(target, 'utf8'), 'precious\n');
  });
});

describe('state written ahead of a pause', () => {
  const tree = (policy: string, pid: number): EngineState['paused'][number] => ({ policy, root: { pid, start_time: 100, name: 'rsync' }, processes: [{ pid, start_time: 100 }], since: 200 });

  it('names the trees about to be paused and those about to be resumed, each once', () => {
    const previous: EngineState = { ...emptyState(), paused: [tree('backoff', 10), tree('other', 20)] };
    // The engine's next state: tree 10 resumed this cycle, tree 20 held, tree 30 paused.
    const next: EngineState = { ...emptyState(), targets: { backoff: { 'pid:30:100': { over: 1 } } }, paused: [tree('other', 20), tree('backoff', 30)] };
    assert.deepEqual(writeAheadState(next, previous), { ...next, paused: [tree('other', 20), tree('backoff', 30), tree('backoff', 10)] });
  });
});

describe('lock', function () {
  this.timeout(20000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pg-lock-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('a second holder waits a bounded time, then fails naming the holder', async () => {
    const lock = await acquireLock(dir, { wait: 0 });
    const started = Date.now();
    await assert.rejects(acquireLock(dir, { wait: 0.5 }), (error: Error) => {
      assert.ok(error instanceof LockBusyError);
      assert.match(error.message, new RegExp(`^${join(dir, 'lock')} is held by procguard pid ${process.pid} \\(holding it since .+\\); waited 0.5s, nothing was done$`));
      return true;
    });
    assert.ok(Date.now() - started >= 500);
    await lock.release();
    const again = await acquireLock(dir, { wait: 0 });
    await again.release();
    assert.deepEqual(await readdir(dir), []);
  });

  it('a waiter gets the lock as soon as it is released', async () => {
    const lock = await acquireLock(dir, { wait: 0 });
    const waiting = acquireLock(dir, { wait: 5 });
    setTimeout(() => void lock.release(), 300);
    const second = await waiting;
    await second.release();
  });

  it('the lock of a process that died (kill -9) is broken', async () => {
    const dead = spawn('true');
    await new Promise((resolve) => dead.once('exit', resolve));
    await writeFile(join(dir, 'lock'), JSON.stringify({ pid: dead.pid, since: NOW }));
    const lock = await acquireLock(dir, { wait: 0 });
    assert.equal(JSON.parse(await readFile(join(dir, 'lock'), 'utf8')).pid, process.pid);
    await lock.release();
  });

  it('an unreadable lock (a run killed between creating and writing it) is waited for while young and broken once old', async () => {
    await writeFile(join(dir, 'lock'), '');
    await assert.rejects(acquireLock(dir, { wait: 0.2 }), (error: Error) => error instanceof LockBusyError && / is held by another procguard; waited 0.2s/.test(error.message));
    const old = new Date(Date.now() - 60_000);
    await utimes(join(dir, 'lock'), old, old);
    const lock = await acquireLock(dir, { wait: 0 });
    assert.equal(JSON.parse(await readFile(join(dir, 'lock'), 'utf8')).pid, process.pid);
    await lock.release();
  });

  it("a pid reused by another process does not keep a dead owner's lock", async () => {
    await writeFile(join(dir, 'lock'), JSON.stringify({ pid: process.pid, start_time: 12345, since: NOW }));
    const lock = await acquireLock(dir, { wait: 0 });
    await lock.release();
  });

  it('many processes at once: never two holders', async () => {
    const script = `
      const { acquireLock } = await import(${JSON.stringify(new URL('../../dist/state/lock.js', import.meta.url).href)});
      const { appendFileSync } = await import('node:fs');
      const lock = await acquireLock(process.argv[1], { wait: 20, poll: 5 });
      appendFileSync(process.argv[1] + '/../log-' + process.argv[2], 'in ' + process.pid + '\\n');
      await new Promise((r) => setTimeout(r, 20));
      appendFileSync(process.argv[1] + '/../log-' + process.argv[2], 'out ' + process.pid + '\\n');
      await lock.release();
    `;
    const lockDir = join(dir, 'state');
    const runs = Array.from(
      { length: 8 },
      () => new Promise<number | null>((resolve) => spawn(process.execPath, ['--input-type=module', '-e', script, lockDir, 'x'], { stdio: 'inherit' }).once('exit', resolve)),
    );
    assert.deepEqual(await Promise.all(runs), Array(8).fill(0));
    const lines = (await readFile(join(dir, 'log-x'), 'utf8')).trim().split('\n');
    assert.equal(lines.length, 16);
    for (let i = 0; i < lines.length; i += 2) {
      assert.equal(lines[i]?.split(' ')[0], 'in');
      assert.equal(lines[i + 1], `out ${lines[i]?.split(' ')[1]}`, 'each holder leaves before the next one enters');
    }
  });
});

describe('audit log', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pg-audit-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const entry = (n: number): AuditEntry => ({
    time: NOW + n,
    type: 'action',
    policy: 'web-memory',
    action: 'restart',
    target: { pid: n, name: 'python', namespec: 'web:w1', supervisor: 'main' },
    status: 'done',
    reason: 'rss 250.0 MiB > 200.0 MiB',
  });

  it('appends one JSON line per entry', async () => {
    await appendAudit(dir, [entry(1)]);
    await appendAudit(dir, [entry(2), entry(3)]);
    const lines = (await readFile(join(dir, 'audit.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditEntry);
    assert.deepEqual(lines, [entry(1), entry(2), entry(3)]);
  });

  const pids = async (file: string): Promise<Array<number | undefined>> =>
    (await readFile(join(dir, file), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as AuditEntry).target?.pid);

  it(`stays bounded: past the size, the log moves to audit.log.1, .1 to .2 … and the ${AUDIT_LOG_GENERATIONS + 1}th file is dropped`, async () => {
    // Pids of two digits: every line has the same length, four fit in a file.
    const size = Buffer.byteLength(`${JSON.stringify(entry(11))}\n`);
    for (let n = 11; n <= 28; n += 1) await appendAudit(dir, [entry(n)], size * 4);
    assert.equal(AUDIT_LOG_GENERATIONS, 3);
    assert.deepEqual((await readdir(dir)).sort(), ['audit.log', 'audit.log.1', 'audit.log.2', 'audit.log.3']);
    assert.deepEqual(
      [await pids('audit.log.3'), await pids('audit.log.2'), await pids('audit.log.1'), await pids('audit.log')],
      [
        [15, 16, 17, 18],
        [19, 20, 21, 22],
        [23, 24, 25, 26],
        [27, 28],
      ],
      'entries 11 to 14 were in the oldest file, dropped',
    );
    const read = await readAuditLog(dir);
    assert.deepEqual(
      read.entries.map((e) => e.target?.pid),
      Array.from({ length: 14 }, (_, i) => i + 15),
      'read back oldest first, across the files',
    );
    assert.deepEqual(read.warnings, []);
  });

  it('reads gzipped rotations too, and skips a line that is not an entry with one warning naming FILE:LINE', async () => {
    await writeFile(join(dir, 'audit.log.2.gz'), gzipSync(`${JSON.stringify(entry(1))}\n`));
    await writeFile(join(dir, 'audit.log.1'), `${JSON.stringify(entry(2))}\n{"time":"soon"}\n\n[1]\n${JSON.stringify(entry(3)).slice(0, 30)}\n`);
    await appendAudit(dir, [entry(4)]);
    const read = await readAuditLog(dir);
    assert.deepEqual(
      read.entries.map((e) => e.target?.pid),
      [1, 2, 4],
    );
    assert.deepEqual(read.warnings, [
      `${join(dir, 'audit.log.1')}:2: skipped: no "time" (epoch seconds)`,
      `${join(dir, 'audit.log.1')}:4: skipped: not a JSON object`,
      `${join(dir, 'audit.log.1')}:5: skipped: not JSON`,
    ]);
  });

  it('a file that cannot be read is a warning, not a failure; a link is not followed', async () => {
    await writeFile(join(dir, 'elsewhere'), `${JSON.stringify(entry(9))}\n`);
    await symlink(join(dir, 'elsewhere'), join(dir, 'audit.log.1'));
    await writeFile(join(dir, 'audit.log.2.gz'), 'not gzip');
    await appendAudit(dir, [entry(1)]);
    const read = await readAuditLog(dir);
    assert.deepEqual(
      read.entries.map((e) => e.target?.pid),
      [1],
    );
    assert.equal(read.warnings.length, 2, read.warnings.join('\n'));
    assert.match(read.warnings[0]!, /audit\.log\.2\.gz:1: the rest of the file cannot be read: Z_DATA_ERROR/);
    assert.match(read.warnings[1]!, /audit\.log\.1: cannot be read: ELOOP/);
  });

  // Real logrotate (Debian's package), as an operator would configure it for STATE_DIR/audit.log.
  const logrotate = async (directives: string): Promise<void> => {
    const conf = join(dir, 'logrotate.conf');
    await writeFile(conf, `${join(dir, 'audit.log')} {\n  rotate 5\n  ${directives}\n}\n`, { mode: 0o644 });
    const run = spawnSync('logrotate', ['-f', '-s', join(dir, 'logrotate.status'), conf], { encoding: 'utf8' });
    assert.equal(run.error, undefined, 'logrotate is not installed: apt-get install -y logrotate');
    assert.equal(run.status, 0, run.stderr);
  };
  const logrotateCases: Array<[string, string, string[]]> = [
    ['copytruncate', 'copytruncate', ['audit.log', 'audit.log.1', 'audit.log.2']],
    ['rename and create', 'create 0600 root root', ['audit.log', 'audit.log.1', 'audit.log.2']],
    ['rename, no create, compress', 'nocreate\n  compress', ['audit.log', 'audit.log.1.gz', 'audit.log.2.gz']],
  ];
  for (const [name, directives, files] of logrotateCases) {
    it(`under logrotate (${name}) every entry lands in the current file and history reads them all`, async () => {
      await appendAudit(dir, [entry(1), entry(2)]);
      await logrotate(directives);
      await appendAudit(dir, [entry(3)]);
      await logrotate(directives);
      await appendAudit(dir, [entry(4)]);
      await appendAudit(dir, [entry(5)]);
      assert.deepEqual((await readdir(dir)).filter((f) => f.startsWith('audit.log')).sort(), files);
      assert.deepEqual(await pids('audit.log'), [4, 5], 'appended to the file logrotate left, from its start');
      const read = await readAuditLog(dir);
      assert.deepEqual(
        read.entries.map((e) => e.target?.pid),
        [1, 2, 3, 4, 5],
      );
      assert.deepEqual(read.warnings, []);
    });
  }

  it('a missing state directory has no entries', async () => {
    assert.deepEqual(await readAuditLog(join(dir, 'none')), { entries: [], warnings: [], files: [] });
  });
});
