// A local user who controls a directory or a link on the way to a file procguard reads as root
// chooses what that file is: a pidfile aimed at root's process, a password file or a mail
// template that is really a secret of root's. Each attack is played as it was found, by a real
// unprivileged user, against the built procguard: the pidfile is ignored naming the component
// and root's process lives; the secret is neither sent nor mailed; root-owned links such as
// /var/run → /run keep working.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { basename, join } from 'node:path';
import { fieldsFor } from '../../src/collectors/collect.js';
import { readPidfiles } from '../../src/collectors/pidfile/pidfile.js';
import { ProcfsCollector } from '../../src/collectors/procfs/procfs.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { emptyState, type CollectorError, type Snapshot } from '../../src/data/types.js';
import { loadConfig } from '../../src/modes/config.js';
import type { Plan } from '../../src/data/types.js';
import { readCaptured, startSmtpSink, writeCaptureScript, type SmtpSink } from '../helpers/mail.js';
import { eventually, killAllChildren, spawnChild, type Child } from '../helpers/processes.js';
import { runProcguard, STACK_TRACE } from '../helpers/run-cli.js';
import { unprivilegedUser, type UnprivilegedUser } from '../helpers/unprivileged-user.js';

const SECRET = 'root:$6$stand-in-for-etc-shadow$0123456789abcdef:19000:0:99999:7:::';

let user: UnprivilegedUser;
before(() => {
  user = unprivilegedUser('pgtest-paths');
});

/** A work directory only root can change, as /tmp/x in the reports. */
async function rootDirectory(prefix: string, parent = '/tmp'): Promise<string> {
  const dir = await mkdtemp(join(parent, prefix));
  await chmod(dir, 0o755);
  return dir;
}

/** `sleep` running as `uid`: past the fork, the setuid and the exec (before them, the child is still root's node). */
function runningAs(pid: number, uid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8') === 'sleep\n' && new RegExp(`^Uid:\\s+${uid}\\s`, 'm').test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

describe('hardening: pidfiles reached through a directory or a link another user controls', function () {
  this.timeout(60000);
  let work: string;
  let runDir: string;
  let victim: Child;
  let usersOwn: ChildProcess | undefined;
  const elsewhere: string[] = [];

  beforeEach(async () => {
    work = await rootDirectory('pg-paths-pid-');
    // root's pidfile, 0644 in a root-owned directory, naming a real root process (as /run/sshd.pid)
    victim = await spawnChild('sleep', ['5151']);
    runDir = join(work, 'run');
    await mkdir(runDir, { mode: 0o755 });
    await writeFile(join(runDir, 'victim.pid'), `${victim.pid}\n`, { mode: 0o644 });
    // /srv/app, owned by the user
    await mkdir(join(work, 'srv', 'app'), { recursive: true, mode: 0o755 });
    await chown(join(work, 'srv', 'app'), user.uid, user.gid);
  });
  afterEach(async () => {
    killAllChildren();
    usersOwn?.kill('SIGKILL');
    usersOwn = undefined;
    for (const dir of elsewhere.splice(0)) await rm(dir, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  async function applyWith(pidfile: string): Promise<Plan & { code: number | null }> {
    const config = join(work, 'p.yaml');
    await writeFile(
      config,
      `settings: { state_dir: ${join(work, 'state')} }\npolicies:\n  - { name: by-pidfile, kind: memory, match: { pidfile: ${pidfile} }, max_rss: 1KB, action: kill, grace: 1s }\n`,
    );
    const run = await runProcguard(['apply', '-c', config, '--json']);
    assert.doesNotMatch(run.stderr, STACK_TRACE);
    return { ...(JSON.parse(run.stdout) as Plan), code: run.code };
  }

  const alive = (pid: number): boolean => existsSync(`/proc/${pid}`);

  interface IgnoredCase {
    name: string;
    /** Sets the scene (the user's part as the user) and returns the pidfile path a policy names. */
    make(): Promise<string>;
    /** The warning, given the pidfile and the victim's pid. */
    message(pidfile: string, pid: number): string;
  }

  const IGNORED: IgnoredCase[] = [
    {
      name: "the user replaces app.pid in the directory they own by a link to root's pidfile",
      make: async () => {
        user.run(['ln', '-sfn', join(runDir, 'victim.pid'), join(work, 'srv/app/app.pid')]);
        return join(work, 'srv/app/app.pid');
      },
      message: (pidfile, pid) =>
        `pidfile ${pidfile} is reached through ${work}/srv/app, which is owned by uid ${user.uid}, not by root; it names pid ${pid}, which runs as uid 0, so it is ignored (a pidfile that a user other than root can change may only name that user's processes; fix with: chown root ${work}/srv/app)`,
    },
    {
      name: "the user writes root's pid into a pidfile of their own",
      make: async () => {
        user.sh(`printf '%s\\n' ${victim.pid} > ${work}/srv/app/app.pid`);
        return join(work, 'srv/app/app.pid');
      },
      message: (pidfile, pid) =>
        `pidfile ${pidfile} is reached through ${work}/srv/app, which is owned by uid ${user.uid}, not by root; it names pid ${pid}, which runs as uid 0, so it is ignored (a pidfile that a user other than root can change may only name that user's processes; fix with: chown root ${work}/srv/app)`,
    },
    {
      name: 'a root-owned pidfile in a directory the user owns (the user can replace it at any time)',
      make: async () => {
        await writeFile(join(work, 'srv/app/app.pid'), `${victim.pid}\n`, { mode: 0o644 });
        return join(work, 'srv/app/app.pid');
      },
      message: (pidfile, pid) =>
        `pidfile ${pidfile} is reached through ${work}/srv/app, which is owned by uid ${user.uid}, not by root; it names pid ${pid}, which runs as uid 0, so it is ignored (a pidfile that a user other than root can change may only name that user's processes; fix with: chown root ${work}/srv/app)`,
    },
    {
      name: "a link the user plants in a sticky directory anyone can write (as /tmp), to root's pidfile",
      make: async () => {
        await mkdir(join(work, 'shared'));
        await chmod(join(work, 'shared'), 0o1777);
        user.run(['ln', '-s', join(runDir, 'victim.pid'), join(work, 'shared/app.pid')]);
        return join(work, 'shared/app.pid');
      },
      message: (pidfile, pid) =>
        `pidfile ${pidfile} is a symbolic link owned by uid ${user.uid}, not by root; it names pid ${pid}, which runs as uid 0, so it is ignored (a pidfile that a user other than root can change may only name that user's processes; fix with: chown -h root ${pidfile})`,
    },
    {
      name: "a link root owns whose target lies in the user's directory",
      make: async () => {
        user.sh(`printf '%s\\n' ${victim.pid} > ${work}/srv/app/app.pid`);
        await symlink(join(work, 'srv/app/app.pid'), join(runDir, 'app.pid'));
        return join(runDir, 'app.pid');
      },
      message: (pidfile, pid) =>
        `pidfile ${pidfile} is reached through ${work}/srv/app, which is owned by uid ${user.uid}, not by root; it names pid ${pid}, which runs as uid 0, so it is ignored (a pidfile that a user other than root can change may only name that user's processes; fix with: chown root ${work}/srv/app)`,
    },
    {
      name: 'a root-owned pidfile in a directory anyone can write, without the sticky bit',
      make: async () => {
        await mkdir(join(work, 'open'));
        await chmod(join(work, 'open'), 0o777);
        await writeFile(join(work, 'open/app.pid'), `${victim.pid}\n`, { mode: 0o644 });
        return join(work, 'open/app.pid');
      },
      message: (pidfile) =>
        `pidfile ${pidfile} is reached through ${work}/open, which is writable by group and others (mode 0777), so anyone could choose the process procguard acts on; ignored (fix with: chmod go-w ${work}/open)`,
    },
    {
      name: 'a chain of 40 links the user made, each target ~4,000 characters of x/../ (tens of thousands of lookups a cycle)',
      make: async () => {
        user.sh(
          `cd ${work}/srv/app && mkdir x && printf '%s\\n' ${victim.pid} > real.pid && ` +
            `i=0; while [ $i -lt 40 ]; do n=$((i + 1)); next=l$n; [ $n -eq 40 ] && next=real.pid; ` +
            `ln -s "$(printf 'x/../%.0s' $(seq 799))$next" l$i; i=$n; done`,
        );
        const pidfile = join(work, 'srv/app/l0');
        assert.equal(user.run(['cat', pidfile]), `${victim.pid}\n`, 'the kernel follows the chain');
        return pidfile;
      },
      message: (pidfile) => `Cannot read ${pidfile}: takes more than 4096 steps to resolve (its components and those of every link's target), so it is refused as a loop of links is`,
    },
    {
      name: "root's pidfile longer than 64 bytes, whose first 65 bytes name root's process (printf '%60s%s0\\n')",
      make: async () => {
        const pidfile = join(runDir, 'long.pid');
        const pid = String(victim.pid);
        // 65 - length spaces, the pid, then one more digit: read to 65 bytes and trimmed, it said the pid.
        await writeFile(pidfile, `${' '.repeat(65 - pid.length)}${pid}0\n`, { mode: 0o644 });
        return pidfile;
      },
      message: (pidfile) => `${pidfile} is larger than 64 bytes, so it is not a pidfile; ignored`,
    },
  ];

  for (const testCase of IGNORED) {
    it(`${testCase.name}: ignored, naming the component, and root's process lives`, async () => {
      const pidfile = await testCase.make();
      const plan = await applyWith(pidfile);
      assert.equal(plan.code, 3);
      assert.deepEqual(plan.actions, []);
      assert.deepEqual(plan.errors, [{ source: 'pidfile', message: testCase.message(pidfile, victim.pid) }]);
      assert.ok(alive(victim.pid), 'root process was killed');
    });
  }

  interface UsedCase {
    name: string;
    /** Returns the pidfile path and the process it should name. */
    make(): Promise<{ pidfile: string; pid: number }>;
  }

  const USED: UsedCase[] = [
    {
      name: "root's pidfile reached through /var/run, a link root owns (/var/run → /run)",
      make: async () => {
        const run = await rootDirectory('pg-paths-', '/run');
        await writeFile(join(run, 'victim.pid'), `${victim.pid}\n`, { mode: 0o644 });
        elsewhere.push(run);
        return { pidfile: join('/var/run', basename(run), 'victim.pid'), pid: victim.pid };
      },
    },
    {
      name: "root's pidfile reached through a root-owned link to a root-owned directory",
      make: async () => {
        await symlink('run', join(work, 'varrun'));
        return { pidfile: join(work, 'varrun/victim.pid'), pid: victim.pid };
      },
    },
    {
      name: "a pidfile in the user's directory naming the user's own process",
      make: async () => {
        usersOwn = spawn('sleep', ['5252'], { uid: user.uid, gid: user.gid, stdio: 'ignore' });
        const pid = usersOwn.pid!;
        await eventually(() => runningAs(pid, user.uid), 5000, "the user's process");
        user.sh(`printf '%s\\n' ${pid} > ${work}/srv/app/app.pid`);
        return { pidfile: join(work, 'srv/app/app.pid'), pid };
      },
    },
  ];

  for (const testCase of USED) {
    it(`${testCase.name}: used, and the process is killed`, async () => {
      const { pidfile, pid } = await testCase.make();
      const plan = await applyWith(pidfile);
      assert.deepEqual(plan.errors, []);
      assert.equal(plan.code, 0);
      assert.deepEqual(
        plan.actions.map((a) => [a.action, a.target.pid, a.status]),
        [['kill', pid, 'done']],
      );
      await eventually(() => !alive(pid), 5000, 'the process named by the pidfile to exit');
    });
  }
});

describe("hardening: a pidfile's pid taken by another user's process after the pidfile was read", function () {
  this.timeout(60000);
  let work: string;
  const spawned: ChildProcess[] = [];

  beforeEach(async () => {
    work = await rootDirectory('pg-paths-reuse-');
    await mkdir(join(work, 'srv/app'), { recursive: true, mode: 0o755 });
    await chown(join(work, 'srv/app'), user.uid, user.gid);
  });
  afterEach(async () => {
    for (const child of spawned.splice(0)) child.kill('SIGKILL');
    await rm(work, { recursive: true, force: true });
  });

  const alive = (pid: number): boolean => existsSync(`/proc/${pid}`);

  async function exited(child: ChildProcess): Promise<void> {
    if (child.exitCode === null && child.signalCode === null) {
      const done = once(child, 'exit');
      child.kill('SIGKILL');
      await done;
    }
  }

  /** A process of root's at exactly `pid`: the kernel hands out ns_last_pid + 1 (another fork may win the race: tried again, a bounded number of times). */
  async function rootProcessAt(pid: number): Promise<ChildProcess> {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      await writeFile('/proc/sys/kernel/ns_last_pid', String(pid - 1));
      const child = spawn('sleep', ['6161'], { stdio: 'ignore' });
      spawned.push(child);
      if (child.pid === pid) return child;
      await exited(child);
    }
    throw new Error(`could not start a process at pid ${pid}`);
  }

  const CASES: { name: string; pidNamed: () => Promise<{ pid: number; own?: ChildProcess }> }[] = [
    {
      name: "the user's own process, which exits after the pidfile is read",
      pidNamed: async () => {
        const own = spawn('sleep', ['6060'], { uid: user.uid, gid: user.gid, stdio: 'ignore' });
        spawned.push(own);
        await eventually(() => runningAs(own.pid!, user.uid), 5000, "the user's process");
        return { pid: own.pid!, own };
      },
    },
    {
      name: 'a pid no process holds when the pidfile is read',
      pidNamed: async () => {
        const gone = spawn('true', [], { stdio: 'ignore' });
        await once(gone, 'exit');
        return { pid: gone.pid! };
      },
    },
  ];

  for (const testCase of CASES) {
    it(`${testCase.name}, then root's process at that pid when the process table is read: not matched`, async () => {
      const config = join(work, 'p.yaml');
      await writeFile(config, `policies:\n  - { name: by-pidfile, kind: memory, match: { pidfile: ${work}/srv/app/app.pid }, max_rss: 1KB, action: kill }\n`);
      const { config: loaded, messages } = await loadConfig([config]);
      assert.ok(loaded, messages.join('\n'));
      const policySet = loaded.policySet;
      const pidfile = join(work, 'srv/app/app.pid');
      const { pid, own } = await testCase.pidNamed();
      user.sh(`printf '%s\\n' ${pid} > ${pidfile}`);

      // The collector's two reads, in the order of the attack: the pidfile, then (the pid reused) the process table.
      const errors: CollectorError[] = [];
      const pidfiles = await readPidfiles([pidfile], errors);
      assert.deepEqual(errors, []);
      if (own) await exited(own);
      const victim = await rootProcessAt(pid);
      const processes = await new ProcfsCollector().collect(fieldsFor(policySet));

      const now = Math.floor(Date.now() / 1000);
      const snapshot: Snapshot = { version: 1, time: now, host: 'test', pidfiles, processes };
      const { plan } = evaluate(policySet, snapshot, emptyState(), now);
      assert.deepEqual(plan.actions, []);
      assert.ok(alive(victim.pid!));
      assert.deepEqual(pidfiles, { [pidfile]: { pid, uid: user.uid } }, 'the rule travels with the pid');
      assert.equal(processes.find((p) => p.pid === pid)?.uid, 0, "root's process holds the pid, and its uid is read");

      // The same pid held by the user's own process is matched.
      await exited(victim);
      const usersAgain = spawn('sleep', ['6262'], { uid: user.uid, gid: user.gid, stdio: 'ignore' });
      spawned.push(usersAgain);
      await eventually(() => runningAs(usersAgain.pid!, user.uid), 5000, "the user's process");
      const own2 = { [pidfile]: { pid: usersAgain.pid!, uid: user.uid } };
      // Read as the collector sees it once the process runs as the user and holds memory.
      let table: Awaited<ReturnType<ProcfsCollector['collect']>> = [];
      const entry = () => table.find((p) => p.pid === usersAgain.pid);
      await eventually(
        async () => {
          table = await new ProcfsCollector().collect(fieldsFor(policySet));
          return entry()?.uid === user.uid && (entry()?.rss ?? 0) > 1024;
        },
        5000,
        "the user's process in the table as the user's",
      );
      const again = evaluate(policySet, { version: 1, time: now, host: 'test', pidfiles: own2, processes: table }, emptyState(), now);
      assert.deepEqual(
        again.plan.actions.map((a) => [a.action, a.target.pid]),
        [['kill', usersAgain.pid]],
        JSON.stringify({ entry: entry(), plan: again.plan }),
      );
    });
  }

  it("a root process running with the user's uid as its effective uid only (real and saved uid root): ignored, naming every uid", async () => {
    const mixed = spawn('perl', ['-e', `$| = 1; $> = ${user.uid}; die "seteuid: $!" if $> != ${user.uid}; print "ready\\n"; sleep 60`], { stdio: ['ignore', 'pipe', 'ignore'] });
    spawned.push(mixed);
    await once(mixed.stdout!, 'data');
    const pidfile = join(work, 'srv/app/app.pid');
    user.sh(`printf '%s\\n' ${mixed.pid} > ${pidfile}`);
    const errors: CollectorError[] = [];
    assert.deepEqual(await readPidfiles([pidfile], errors), { [pidfile]: null });
    assert.deepEqual(errors, [
      {
        source: 'pidfile',
        message: `pidfile ${pidfile} is reached through ${work}/srv/app, which is owned by uid ${user.uid}, not by root; it names pid ${mixed.pid}, which runs as uids 0, ${user.uid}, 0, ${user.uid} (real, effective, saved, filesystem), so it is ignored (a pidfile that a user other than root can change may only name that user's processes; fix with: chown root ${work}/srv/app)`,
      },
    ]);
  });

  it('a snapshot of the earlier form (a bare pid) is still read', async () => {
    const now = Math.floor(Date.now() / 1000);
    const snapshotFile = join(work, 'snapshot.json');
    const victim = spawn('sleep', ['6363'], { stdio: 'ignore' });
    spawned.push(victim);
    await eventually(() => alive(victim.pid!), 5000, 'the process');
    const config = join(work, 'p.yaml');
    await writeFile(config, `policies:\n  - { name: by-pidfile, kind: memory, match: { pidfile: /run/app.pid }, max_rss: 1KB, action: kill }\n`);
    await writeFile(
      snapshotFile,
      JSON.stringify({ version: 1, time: now, host: 'test', pidfiles: { '/run/app.pid': victim.pid }, processes: [{ pid: victim.pid, ppid: 1, name: 'sleep', rss: 4096000, start_time: now }] }),
    );
    const run = await runProcguard(['check', '-c', config, '--snapshot', snapshotFile, '--json']);
    assert.doesNotMatch(run.stderr, STACK_TRACE);
    const plan = JSON.parse(run.stdout) as Plan;
    assert.deepEqual(
      plan.actions.map((a) => [a.action, a.target.pid]),
      [['kill', victim.pid]],
    );
  });
});

describe('hardening: a password_file another user could choose', function () {
  this.timeout(60000);
  let work: string;
  let secretDir: string;
  let server: Server;
  let url: string;
  let requests: string[];

  before(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        requests.push(`${request.headers.authorization ?? ''}\n${Buffer.concat(chunks).toString('utf8')}`);
        response.writeHead(200, { 'content-type': 'text/xml' });
        response.end('<?xml version="1.0"?><methodResponse><params><param><value><array><data></data></array></value></param></params></methodResponse>');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  beforeEach(async () => {
    requests = [];
    work = await rootDirectory('pg-paths-secret-');
    // the stand-in for /etc/shadow: root's, 0600
    secretDir = join(work, 'etc');
    await mkdir(secretDir, { mode: 0o755 });
    await writeFile(join(secretDir, 'shadow'), `${SECRET}\n`, { mode: 0o600 });
    await mkdir(join(work, 'home'), { mode: 0o755 });
    await chown(join(work, 'home'), user.uid, user.gid);
  });
  afterEach(() => rm(work, { recursive: true, force: true }));

  async function checkWith(passwordFile: string): Promise<Plan & { code: number | null; output: string }> {
    const config = join(work, 'p.yaml');
    await writeFile(
      config,
      `supervisors:\n  main: { url: "${url}", username: admin, password_file: ${passwordFile} }\npolicies:\n  - { name: p, kind: memory, match: { program: "web:*" }, max_rss: 1GB }\n`,
    );
    const run = await runProcguard(['check', '-c', config, '--json']);
    assert.doesNotMatch(run.stderr, STACK_TRACE);
    return { ...(JSON.parse(run.stdout) as Plan), code: run.code, output: run.stdout + run.stderr };
  }

  interface SecretCase {
    name: string;
    make(): Promise<string>;
    /** The refusal after `supervisor "main": password_file: `, or the password sent. */
    refused?: (file: string) => string;
    sent?: string;
  }

  const CASES: SecretCase[] = [
    {
      name: "a link, in a directory the user owns, to root's 0600 secret",
      make: async () => {
        user.run(['ln', '-s', join(secretDir, 'shadow'), join(work, 'home/creds')]);
        return join(work, 'home/creds');
      },
      refused: (file) =>
        `Refused: password file ${file} is reached through ${work}/home, which is owned by uid ${user.uid}, not by root, so that user could choose what procguard sends as the password; fix with: chown root ${work}/home`,
    },
    {
      name: 'a root-owned 0600 file in a directory the user owns',
      make: async () => {
        await writeFile(join(work, 'home/creds'), 'pw\n', { mode: 0o600 });
        return join(work, 'home/creds');
      },
      refused: (file) =>
        `Refused: password file ${file} is reached through ${work}/home, which is owned by uid ${user.uid}, not by root, so that user could choose what procguard sends as the password; fix with: chown root ${work}/home`,
    },
    {
      name: 'a 0600 file the user owns',
      make: async () => {
        user.sh(`umask 077; printf 'pw\\n' > ${work}/home/creds`);
        await chown(join(work, 'home'), 0, 0);
        return join(work, 'home/creds');
      },
      refused: (file) => `Refused: password file ${file} is owned by uid ${user.uid}, not by root, so that user could choose what procguard sends as the password; fix with: chown root ${file}`,
    },
    {
      name: "a link root owns, in root's directory, to root's secret",
      make: async () => {
        await symlink(join(secretDir, 'shadow'), join(work, 'creds'));
        return join(work, 'creds');
      },
      refused: (file) => `Refused: ${file} is a symbolic link, which is not followed here; name the file itself`,
    },
    {
      name: 'a root-owned file others can read (0644)',
      make: async () => {
        await writeFile(join(work, 'creds'), 'pw\n', { mode: 0o644 });
        return join(work, 'creds');
      },
      refused: (file) => `Refused: password file ${file} can be read or written by group or others (mode 0644); fix with: chmod 600 ${file}`,
    },
    {
      name: "`..` after a link the user made to another directory: judged where the kernel resolves it, through the user's directory",
      make: async () => {
        await writeFile(join(secretDir, 'sv.pass'), 'proper-password\n', { mode: 0o600 });
        await mkdir(join(work, 'secret'), { mode: 0o755 });
        user.run(['ln', '-s', join(work, 'secret'), join(work, 'home/l')]);
        return `${work}/home/l/../etc/sv.pass`;
      },
      refused: (file) =>
        `Refused: password file ${file} is reached through ${work}/home, which is owned by uid ${user.uid}, not by root, so that user could choose what procguard sends as the password; fix with: chown root ${work}/home`,
    },
    {
      name: 'a trailing slash after the file (the kernel says ENOTDIR)',
      make: async () => {
        await writeFile(join(secretDir, 'sv.pass'), 'proper-password\n', { mode: 0o600 });
        return `${secretDir}/sv.pass/`;
      },
      refused: (file) => `Cannot read ${file}: a part of the path is not a directory`,
    },
    {
      name: "`..` after a root-owned link to another directory: read where the kernel resolves it (the link's target's parent)",
      make: async () => {
        await writeFile(join(secretDir, 'sv.pass'), 'proper-password\n', { mode: 0o600 });
        await mkdir(join(work, 'secret'), { mode: 0o755 });
        await mkdir(join(work, 'u1'), { mode: 0o755 });
        await symlink(join(work, 'secret'), join(work, 'u1/l'));
        return `${work}/u1/l/../etc/sv.pass`;
      },
      sent: 'proper-password',
    },
    {
      name: "a root-owned 0600 file in root's directories",
      make: async () => {
        await writeFile(join(work, 'creds'), 'proper-password\n', { mode: 0o600 });
        return join(work, 'creds');
      },
      sent: 'proper-password',
    },
    {
      name: 'a root-owned 0600 file reached through a root-owned link to a directory (as /var/run)',
      make: async () => {
        await mkdir(join(work, 'real'), { mode: 0o700 });
        await writeFile(join(work, 'real/creds'), 'proper-password\n', { mode: 0o600 });
        await symlink('real', join(work, 'linked'));
        return join(work, 'linked/creds');
      },
      sent: 'proper-password',
    },
  ];

  for (const testCase of CASES) {
    it(`${testCase.name}: ${testCase.refused ? 'refused, naming the component, and nothing is sent' : 'the password is sent'}`, async () => {
      const file = await testCase.make();
      const plan = await checkWith(file);
      assert.doesNotMatch(plan.output, /stand-in-for-etc-shadow/);
      if (testCase.refused) {
        assert.equal(plan.code, 3);
        assert.deepEqual(plan.errors, [{ source: 'supervisor:main', message: `supervisor "main": password_file: ${testCase.refused(file)}` }]);
        assert.deepEqual(requests, []);
      } else {
        assert.deepEqual(plan.errors, []);
        assert.equal(plan.code, 0);
        assert.ok(requests.length > 0);
        for (const request of requests) assert.ok(request.startsWith(`Basic ${Buffer.from(`admin:${testCase.sent}`).toString('base64')}\n`), request);
      }
    });
  }
});

describe('hardening: an SMTP password_file another user could choose', function () {
  this.timeout(60000);
  let work: string;
  let sink: SmtpSink;
  let logins: string[];

  beforeEach(async () => {
    logins = [];
    sink = await startSmtpSink({ onAuth: (username, password) => logins.push(`${username}:${password}`) });
    work = await rootDirectory('pg-paths-smtp-');
    await mkdir(join(work, 'etc'), { mode: 0o755 });
    await writeFile(join(work, 'etc/shadow'), `${SECRET}\n`, { mode: 0o600 });
    await mkdir(join(work, 'home'), { mode: 0o755 });
    await chown(join(work, 'home'), user.uid, user.gid);
    // The process the policy kills, so that there is a mail to send.
    await spawnChild('sleep', ['5454']);
  });
  afterEach(async () => {
    killAllChildren();
    await sink.close();
    await rm(work, { recursive: true, force: true });
  });

  const CASES: { name: string; make: () => Promise<string>; login?: string }[] = [
    {
      name: "a link, in a directory the user owns, to root's secret: refused, the login never sent",
      make: async () => (user.run(['ln', '-s', join(work, 'etc/shadow'), join(work, 'home/smtp-password')]), join(work, 'home/smtp-password')),
    },
    {
      name: "a root-owned 0600 file in root's directory: the login is sent",
      make: async () => (await writeFile(join(work, 'smtp-password'), 'mail-password\n', { mode: 0o600 }), join(work, 'smtp-password')),
      login: 'procguard:mail-password',
    },
  ];

  for (const testCase of CASES) {
    it(testCase.name, async () => {
      const passwordFile = await testCase.make();
      const config = join(work, 'p.yaml');
      await writeFile(
        config,
        `settings: { state_dir: ${join(work, 'state')} }
notifiers:
  ops: { mail: { to: ops@example.com, smtp: { url: "${sink.url}", username: procguard, password_file: ${passwordFile} } } }
policies:
  - { name: kill-marker, kind: memory, match: { cmdline: "^sleep 5454$" }, max_rss: 1KB, action: kill, notify: [{ to: ops }] }
`,
      );
      const run = await runProcguard(['apply', '-c', config]);
      assert.doesNotMatch(run.stdout + run.stderr, STACK_TRACE);
      assert.doesNotMatch(run.stdout + run.stderr, /stand-in-for-etc-shadow/);
      if (testCase.login === undefined) {
        assert.deepEqual(logins, []);
        assert.deepEqual(sink.messages, []);
        assert.ok(
          (run.stdout + run.stderr).includes(
            `the password file: Refused: password file ${passwordFile} is reached through ${work}/home, which is owned by uid ${user.uid}, not by root, so that user could choose what procguard sends as the password; fix with: chown root ${work}/home`,
          ),
          run.stdout + run.stderr,
        );
      } else {
        assert.equal(run.code, 0, run.stdout + run.stderr);
        assert.deepEqual(logins, [testCase.login]);
        assert.equal(sink.messages.length, 1);
      }
    });
  }
});

describe('hardening: mail templates (body_file) another user could choose', function () {
  this.timeout(60000);
  let work: string;
  let policies: string;
  let victim: Child;

  beforeEach(async () => {
    work = await rootDirectory('pg-paths-template-');
    await mkdir(join(work, 'etc'), { mode: 0o755 });
    await writeFile(join(work, 'etc/shadow'), `${SECRET}\n`, { mode: 0o600 });
    policies = join(work, 'policies');
    await mkdir(join(policies, 'templates'), { recursive: true, mode: 0o755 });
    const sendmail = await writeCaptureScript(work);
    victim = await spawnChild('sleep', ['5353']);
    await writeFile(
      join(policies, 'p.yaml'),
      `settings: { state_dir: ${join(work, 'state')} }
notifiers:
  ops: { mail: { to: ops@example.com, sendmail: ${sendmail} -t -i, body_file: templates/body.hbs } }
policies:
  - { name: kill-marker, kind: memory, match: { cmdline: "^sleep 5353$" }, max_rss: 1KB, action: kill, notify: [{ to: ops }] }
`,
    );
  });
  afterEach(async () => {
    killAllChildren();
    await rm(work, { recursive: true, force: true });
  });

  interface TemplateCase {
    name: string;
    make(): Promise<void>;
    /** The refusal after `body_file of notifier "ops": `, or undefined when the mail goes out. */
    refused?: () => string;
  }

  const template = (): string => join(policies, 'templates/body.hbs');
  const CASES: TemplateCase[] = [
    {
      name: "the user owns the template directory and has swapped body.hbs for a link to root's secret",
      make: async () => {
        await chown(join(policies, 'templates'), user.uid, user.gid);
        user.sh(`printf 'killed {{target.pid}}\\n' > ${template()}.new && ln -sfn ${work}/etc/shadow ${template()}`);
      },
      refused: () =>
        `Refused: template file ${template()} is reached through ${policies}/templates, which is owned by uid ${user.uid}, not by root, and procguard runs as root; fix with: chown root ${policies}/templates`,
    },
    {
      name: 'the user owns the template directory and body.hbs is still a plain template (a swap can come at any time)',
      make: async () => {
        await writeFile(template(), 'killed {{target.pid}}\n', { mode: 0o644 });
        await chown(join(policies, 'templates'), user.uid, user.gid);
      },
      refused: () =>
        `Refused: template file ${template()} is reached through ${policies}/templates, which is owned by uid ${user.uid}, not by root, and procguard runs as root; fix with: chown root ${policies}/templates`,
    },
    {
      name: 'a template directory anyone can write',
      make: async () => {
        await writeFile(template(), 'killed {{target.pid}}\n', { mode: 0o644 });
        await chmod(join(policies, 'templates'), 0o777);
      },
      refused: () =>
        `Refused: template file ${template()} is reached through ${policies}/templates, which is writable by group and others (mode 0777), and procguard runs as root; fix with: chmod go-w ${policies}/templates`,
    },
    {
      name: "root's template directory and template",
      make: async () => {
        await writeFile(template(), 'killed {{target.pid}}\n', { mode: 0o644 });
      },
    },
  ];

  for (const testCase of CASES) {
    it(`${testCase.name}: ${testCase.refused ? 'refused, naming the component; nothing is done or mailed' : 'mailed'}`, async () => {
      await testCase.make();
      const run = await runProcguard(['apply', '-c', policies]);
      assert.doesNotMatch(run.stdout + run.stderr, STACK_TRACE);
      assert.doesNotMatch(run.stdout + run.stderr, /stand-in-for-etc-shadow/);
      const mails = await readCaptured(work);
      if (testCase.refused) {
        assert.equal(run.code, 2);
        assert.match(run.stderr, new RegExp(`p\\.yaml:3:\\d+: error: body_file of notifier "ops": ${escape(testCase.refused())}`));
        assert.deepEqual(mails, []);
        assert.ok(existsSync(`/proc/${victim.pid}`));
      } else {
        assert.equal(run.code, 0, run.stdout + run.stderr);
        assert.deepEqual(
          mails.map((mail) => mail.body.trim()),
          [`killed ${victim.pid}`],
        );
      }
    });
  }
});

describe('hardening: a policy file in a directory another user controls', function () {
  this.timeout(30000);
  let work: string;
  beforeEach(async () => {
    work = await rootDirectory('pg-paths-policy-');
    await mkdir(join(work, 'etc/procguard'), { recursive: true, mode: 0o755 });
    await writeFile(join(work, 'etc/procguard/a.yaml'), 'policies:\n  - { name: a, kind: oom, match: { name: sshd, user: root }, oom_score_adj: -1000 }\n', { mode: 0o644 });
  });
  afterEach(() => rm(work, { recursive: true, force: true }));

  it('a root-owned policy file is refused while a user owns a directory above it, and accepted once root does', async () => {
    await chown(join(work, 'etc'), user.uid, user.gid);
    const refused = await runProcguard(['validate', '-c', join(work, 'etc/procguard')]);
    assert.equal(refused.code, 2);
    assert.match(
      refused.stdout + refused.stderr,
      new RegExp(
        escape(
          `Refused: policy file ${work}/etc/procguard/a.yaml is reached through ${work}/etc, which is owned by uid ${user.uid}, not by root, and procguard runs as root; fix with: chown root ${work}/etc`,
        ),
      ),
    );
    await chown(join(work, 'etc'), 0, 0);
    const accepted = await runProcguard(['validate', '-c', join(work, 'etc/procguard')]);
    assert.equal(accepted.code, 0, accepted.stdout + accepted.stderr);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
