// Protection that a local user cannot borrow, tried as such a user would: an unprivileged user
// (created by the test when it runs as root) starts a copy of sleep named sshd and a supervisord
// of their own, and the shipped oom policies must not protect either, while root's supervisord
// still is. Then inheritance: a program procguard restarts inherits supervisord's oom_score_adj,
// and the oom policies are applied to its new pid in the same cycle, against a real supervisord.
// Only raising oom_score_adj is ever written (lowering needs CAP_SYS_RESOURCE, which a test must
// not depend on); protection itself is asserted on the plan.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, chown, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Plan } from '../../src/data/types.js';
import { eventually } from '../helpers/processes.js';
import { runProcguard, STACK_TRACE, type CliRun } from '../helpers/run-cli.js';
import { HOG_COMMAND, PASSWORD, requireSupervisord, startSupervisord, USERNAME, type Supervisord } from '../helpers/supervisord.js';

const TEST_USER = 'pgtest-id';
const SHIPPED = new URL('../../policies/oom-protect.yaml', import.meta.url).pathname;

/** As root: the unprivileged user, created if missing (and left). Otherwise: whoever runs the tests, who is not root either. */
function unprivilegedUser(): { uid: number; gid: number } {
  if (process.getuid?.() !== 0) return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  if (spawnSync('id', ['-u', TEST_USER]).status !== 0) {
    const made = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', TEST_USER], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
  }
  const id = (flag: string): number => Number(spawnSync('id', [flag, TEST_USER], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

function procText(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8').trim();
  } catch {
    return '';
  }
}

async function checkPlan(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ run: CliRun; plan: Plan }> {
  const run = await runProcguard(args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TZ: 'UTC', ...env } });
  assert.doesNotMatch(run.stderr, STACK_TRACE);
  assert.ok(run.code === 0 || run.code === 1 || run.code === 3, `exit ${run.code}: ${run.stderr}`);
  return { run, plan: JSON.parse(run.stdout) as Plan };
}

describe('integration: protection by what a local user cannot choose', function () {
  this.timeout(90000);
  let work: string;
  let user: { uid: number; gid: number };
  const started: ChildProcess[] = [];
  let sv: Supervisord | undefined;

  before(async () => {
    requireSupervisord();
    user = unprivilegedUser();
    work = await mkdtemp(join(tmpdir(), 'pg-protect-'));
    await chmod(work, 0o755);
  });
  after(async () => {
    for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    // The user's own supervisord leaves its program behind when killed: the user is this test's alone, so end all it runs.
    if (user) spawnSync('pkill', ['-KILL', '-U', String(user.uid)]);
    await sv?.stop();
    await rm(work, { recursive: true, force: true });
  });

  /** Runs argv as the unprivileged user; resolves once its process shows `comm`. */
  async function runAsUser(argv: string[], comm: string): Promise<number> {
    const child = spawn(argv[0]!, argv.slice(1), { uid: user.uid, gid: user.gid, cwd: work, stdio: 'ignore', detached: true, env: { PATH: '/usr/bin:/bin', HOME: work } });
    started.push(child);
    const pid = child.pid!;
    await eventually(() => procText(pid, 'comm') === comm, 15000, `${comm} as the unprivileged user`);
    return pid;
  }

  it("the shipped policies protect neither a process named sshd nor a supervisord of an unprivileged user, and still protect root's supervisord", async () => {
    const fakeSshd = join(work, 'sshd');
    await copyFile('/bin/sleep', fakeSshd);
    await chmod(fakeSshd, 0o755);
    const sshd = await runAsUser([fakeSshd, '4301'], 'sshd');

    // The real supervisord, the way Debian starts it, run by the user on a configuration of their own.
    const home = join(work, 'user-sv');
    await mkdir(home);
    await chown(home, user.uid, user.gid);
    await writeFile(
      join(home, 'supervisord.conf'),
      `[unix_http_server]\nfile=${home}/sv.sock\n[supervisord]\nlogfile=${home}/sv.log\npidfile=${home}/sv.pid\nnodaemon=true\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n[program:child]\ncommand=sleep 4302\n`,
    );
    const userSupervisord = await runAsUser(['/usr/bin/supervisord', '-c', join(home, 'supervisord.conf')], 'supervisord');
    assert.match(procText(userSupervisord, 'cmdline').replaceAll('\0', ' '), /^\/usr\/bin\/python3(\.\d+)? \/usr\/bin\/supervisord /, "the same command line as root's");

    sv = await startSupervisord('[program:calm]\ncommand=sleep 4303\nstartsecs=0\n');
    const rootSupervisord = (await sv.client.call('supervisor.getPID')) as number;

    const { plan } = await checkPlan(['check', '--json', '-c', SHIPPED]);
    const on = (pid: number): Array<[string, number | undefined, string]> => plan.actions.filter((a) => a.target.pid === pid).map((a) => [a.policy, a.value, a.action]);
    assert.deepEqual(on(sshd), [], 'a process called sshd, run by the user');
    assert.deepEqual(on(userSupervisord), [], "the user's own supervisord");
    const userProgram = Number(procText(userSupervisord, `task/${userSupervisord}/children`).split(/\s+/)[0]);
    if (userProgram > 0) assert.deepEqual(on(userProgram), []);
    if (process.getuid?.() === 0) {
      assert.deepEqual(on(rootSupervisord), [['oom-protect-supervisord', -1000, 'set_oom_score_adj']], "root's supervisord still is protected");
    }
  });

  it("a restarted program gets the oom policies on its new pid in the same cycle, not its parent's inherited value", async () => {
    await sv?.stop();
    sv = await startSupervisord(`[program:hog]\ncommand=${HOG_COMMAND}\nstartsecs=1\nautorestart=true\n`);
    const supervisord = (await sv.client.call('supervisor.getPID')) as number;
    // supervisord's value, which every program it starts from now on inherits (raised: no capability needed).
    await writeFile(`/proc/${supervisord}/oom_score_adj`, '100\n');
    const state = join(work, 'state');
    const file = join(work, 'restart.yaml');
    await writeFile(
      file,
      `settings:
  state_dir: ${state}
supervisors:
  main: { url: "${sv.unixUrl}", username: ${USERNAME}, password_env: SV_PASSWORD }
policies:
  - { name: hog-memory, kind: memory, match: { program: hog }, max_rss: 50MB }
  - { name: programs-oom, kind: oom, match: { program: "*" }, oom_score_adj: 300 }
`,
    );
    const oldPid = ((await sv.client.call('supervisor.getProcessInfo', ['hog'])) as { pid: number }).pid;
    const { run, plan } = await checkPlan(['apply', '--json', '-c', file], { SV_PASSWORD: PASSWORD });
    assert.equal(run.code, 0, run.stderr);
    const newPid = ((await sv.client.call('supervisor.getProcessInfo', ['hog'])) as { pid: number }).pid;
    assert.notEqual(newPid, oldPid);
    // The old process' own oom action runs beside its restart: done, or skipped once it has exited.
    assert.deepEqual(
      plan.actions.map((a) => [a.policy, a.action, a.target.pid, a.target.pid === oldPid && a.status === 'skipped' ? 'done' : a.status, a.value]),
      [
        ['hog-memory', 'restart', oldPid, 'done', undefined],
        ['programs-oom', 'set_oom_score_adj', oldPid, 'done', 300],
        ['programs-oom', 'set_oom_score_adj', newPid, 'done', 300],
      ],
    );
    const followUp = plan.actions[2]!;
    assert.equal(followUp.reason, `oom_score_adj 100, wants 300 (restarted as pid ${newPid} in this cycle)`);
    assert.equal(followUp.result, `oom_score_adj of pid ${newPid}: 100 → 300`);
    assert.equal((await readFile(`/proc/${newPid}/oom_score_adj`, 'utf8')).trim(), '300');
    const audit = (await readFile(join(state, 'audit.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { action: string; target: { pid: number } });
    assert.deepEqual(
      audit.map((e) => [e.action, e.target.pid]).filter(([, pid]) => pid === newPid),
      [['set_oom_score_adj', newPid]],
    );
  });
});
