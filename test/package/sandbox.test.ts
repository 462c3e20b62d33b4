// procguard.service's sandbox lets procguard do its work: the capabilities it keeps
// (CapabilityBoundingSet=), no new privileges, and its system-call filter (SystemCallFilter=,
// refused calls EPERM), all read from the unit itself, applied to a real `procguard apply`
// acting on another user's processes and on a real supervisord's program. systemd is not
// needed: setpriv sets the capabilities and seccomp-exec.py the filter, as systemd would.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { eventually } from '../helpers/processes.js';
import { requireSupervisord, startSupervisord, type Supervisord, USERNAME, PASSWORD } from '../helpers/supervisord.js';
import { unprivilegedUser } from '../helpers/unprivileged-user.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const UNIT = join(REPO, 'examples/systemd/procguard.service');
const FILTER = fileURLToPath(new URL('./seccomp-exec.py', import.meta.url));
const BUNDLE = join(REPO, 'bundle/procguard.js');

/** The values of KEY= in the unit, in order. */
function directives(unit: string, key: string): string[] {
  return [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((match) => match[1] ?? '');
}

function pidOf(pattern: string): number | undefined {
  const found = spawnSync('pgrep', ['-x', '-f', pattern], { encoding: 'utf8' }).stdout.trim();
  return found ? Number(found.split('\n')[0]) : undefined;
}

describe("procguard.service's sandbox", function () {
  this.timeout(120000);
  let work: string;
  let sv: Supervisord | undefined;
  const children: ChildProcess[] = [];

  before(() => {
    requireSupervisord();
    if (spawnSync('/usr/bin/python3', ['-c', 'import seccomp']).status !== 0) {
      throw new Error('python3-seccomp is not installed: apt-get install -y python3-seccomp (this test applies the unit’s system-call filter with it)');
    }
  });
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await sv?.stop();
    sv = undefined;
    await rm(work, { recursive: true, force: true });
  });

  /** procguard apply in the unit's sandbox, with `drop` taken out of its capabilities. */
  async function applyInSandbox(policy: string, drop: string[] = []): Promise<{ status: number | null; output: string }> {
    const unit = await readFile(UNIT, 'utf8');
    assert.deepEqual(directives(unit, 'NoNewPrivileges'), ['yes']);
    assert.deepEqual(directives(unit, 'SystemCallErrorNumber'), ['EPERM']);
    const capabilities = directives(unit, 'CapabilityBoundingSet')
      .join(' ')
      .split(/\s+/)
      .filter((name) => name && !drop.includes(name));
    const filter = directives(unit, 'SystemCallFilter');
    assert.ok(filter.length > 0, 'the unit filters system calls');
    // The filter is in force: setpriority (@resources, which the unit refuses) fails with EPERM.
    const refused = spawnSync('/usr/bin/python3', [FILTER, JSON.stringify(filter), '/usr/bin/python3', '-c', 'import os; os.setpriority(os.PRIO_PROCESS, 0, 5)'], { encoding: 'utf8' });
    assert.match(refused.stderr, /PermissionError: \[Errno 1\] Operation not permitted/);
    const bounding = ['-all', ...capabilities.map((name) => `+${name.replace(/^CAP_/, '').toLowerCase()}`)].join(',');
    const file = join(work, 'policies.yaml');
    await writeFile(file, policy);
    await chmod(file, 0o644);
    // node with the options the unit starts it with (ExecStart=/usr/bin/node OPTIONS procguard.js run …).
    const nodeOptions =
      /^ExecStart=\S+\/node((?: --\S+)*) /m
        .exec(
          directives(unit, 'ExecStart')
            .map((line) => `ExecStart=${line}`)
            .join('\n'),
        )?.[1]
        ?.trim()
        .split(' ') ?? [];
    assert.ok(nodeOptions.length > 0, 'the unit runs node with its options');
    // In lite mode node makes no machine code at run time, so the unit denies writable-and-executable memory.
    const memoryDenyWriteExecute = directives(unit, 'MemoryDenyWriteExecute').at(-1) === 'yes';
    assert.ok(memoryDenyWriteExecute, 'MemoryDenyWriteExecute=yes');
    const result = spawnSync(
      'setpriv',
      [
        '--inh-caps=-all',
        `--bounding-set=${bounding}`,
        '--no-new-privs',
        '--',
        '/usr/bin/python3',
        FILTER,
        ...(memoryDenyWriteExecute ? ['--memory-deny-write-execute'] : []),
        JSON.stringify(filter),
        process.execPath,
        ...nodeOptions,
        BUNDLE,
        'apply',
        '-c',
        file,
      ],
      { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TZ: 'UTC', PG_SANDBOX_PASSWORD: PASSWORD }, timeout: 60000 },
    );
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  }

  /**
   * Waits until the process is past max_runtime (1s) as procguard counts it: uptimes are whole
   * seconds of a snapshot time kept in whole seconds, so its own age, read from /proc, must
   * pass 3 seconds.
   */
  async function pastRuntime(pid: number | undefined): Promise<void> {
    assert.ok(pid !== undefined, 'the process to be killed runs');
    const age = (): number => {
      const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const startTicks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
      return uptime - startTicks / 100;
    };
    await eventually(() => age() > 3.2, 10000, 'the process past its max_runtime');
  }

  async function setUp(): Promise<{ user: ReturnType<typeof unprivilegedUser>; policy: string }> {
    work = await mkdtemp(join(tmpdir(), 'pg-sandbox-'));
    await chmod(work, 0o755);
    const user = unprivilegedUser('pg-i20deb');
    for (const seconds of ['272052', '272053']) {
      children.push(spawn('sleep', [seconds], { stdio: 'ignore', uid: user.uid, gid: user.gid }));
    }
    await eventually(() => pidOf('sleep 272052') !== undefined && pidOf('sleep 272053') !== undefined, 10000, "the user's processes");
    sv = await startSupervisord('[program:pgsandbox]\ncommand=sleep 272051\nstartsecs=0\n');
    const policy = `settings:
  state_dir: ${join(work, 'state')}
supervisors:
  main:
    url: ${sv.unixUrl}
    username: ${USERNAME}
    password_env: PG_SANDBOX_PASSWORD
policies:
  - name: sandbox-runtime
    kind: runtime
    match: { cmdline: "^sleep 272052$", user: ${user.name} }
    max_runtime: 1s
    action: kill
  - name: sandbox-oom
    kind: oom
    match: { cmdline: "^sleep 272053$", user: ${user.name}, exe: [/usr/bin/sleep, /bin/sleep] }
    oom_score_adj: 400
  - name: sandbox-memory
    kind: memory
    match: { program: pgsandbox }
    max_rss: 1KB
    action: restart
`;
    return { user, policy };
  }

  it("signals and re-prioritises another user's processes (matched by exe) and restarts a program through supervisord's unix socket", async () => {
    const { policy } = await setUp();
    const programPid = pidOf('sleep 272051');
    const oomPid = pidOf('sleep 272053');
    await pastRuntime(pidOf('sleep 272052'));
    const result = await applyInSandbox(policy);
    assert.equal(result.status, 0, result.output);
    assert.equal(pidOf('sleep 272052'), undefined, `killed:\n${result.output}`);
    assert.equal((await readFile(`/proc/${oomPid}/oom_score_adj`, 'utf8')).trim(), '400', result.output);
    const now = pidOf('sleep 272051');
    assert.ok(now !== undefined && now !== programPid, `restarted by supervisord:\n${result.output}`);
  });

  it('without CAP_SYS_PTRACE neither the exe of another user’s process nor the holder of supervisord’s socket can be read', async () => {
    const { policy } = await setUp();
    const oomPid = pidOf('sleep 272053');
    await pastRuntime(pidOf('sleep 272052'));
    const result = await applyInSandbox(policy, ['CAP_SYS_PTRACE']);
    assert.equal(pidOf('sleep 272052'), undefined, `the other policies still act:\n${result.output}`);
    assert.equal((await readFile(`/proc/${oomPid}/oom_score_adj`, 'utf8')).trim(), '0', result.output);
    assert.match(result.output, /no process that procguard can see holds the socket/);
  });
});
