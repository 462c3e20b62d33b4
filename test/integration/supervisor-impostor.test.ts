// A supervisord that is not supervisord: an unprivileged user binds the supervisor's unix
// socket or loopback port while supervisord is down and names root's process as web:w0. procguard,
// running as root, must send it nothing (no credentials), join nothing and kill nothing. A
// remote supervisor's pids are never taken for this host's; a real supervisord keeps working.

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { logEvents } from '../helpers/log-events.js';
import { impostorDir, removeDir, startImpostor, testUser, type Impostor, type TestUser } from '../helpers/impostor.js';
import { eventually, killAllChildren, spawnChild, type Child } from '../helpers/processes.js';
import { BIN, runProcguard, STACK_TRACE } from '../helpers/run-cli.js';
import { freePort, PASSWORD, requireSupervisord, startSupervisord, USERNAME, type Supervisord } from '../helpers/supervisord.js';

const USER = 'pgtest-sup';

interface Setup {
  url: string;
  user?: string;
  /** Default kill. */
  action?: 'kill' | 'restart';
}

/** Policies that kill (or restart) web:w0 at once (any RSS is over 1 byte), pause it and make it the OOM killer's first choice, through the supervisor at `url`. */
async function writePolicies(work: string, setup: Setup): Promise<string> {
  const conf = join(work, `conf-${Math.random().toString(36).slice(2)}`);
  await mkdir(conf);
  await writeFile(
    join(conf, 'policies.yaml'),
    `settings:
  state_dir: ${join(work, 'state')}
supervisors:
  main:
    url: "${setup.url}"
    username: ${USERNAME}
    password_env: SV_PASSWORD
${setup.user !== undefined ? `    user: ${setup.user}\n` : ''}policies:
  - { name: web-kill, kind: memory, match: { program: "web:w0" }, max_rss: 1, action: ${setup.action ?? 'kill'}, grace: 1s }
  - { name: web-pause, kind: load, match: { program: "web:w0" }, pause_above: 4, resume_below: 2 }
  - { name: web-oom, kind: oom, match: { program: "web:w0" }, oom_score_adj: 1000 }
`,
  );
  return conf;
}

const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', TZ: 'UTC', SV_PASSWORD: PASSWORD, PROCGUARD_LOADAVG: '' };

async function apply(conf: string): Promise<{ code: number | null; plan: any; stderr: string }> {
  const run = await runProcguard(['apply', '-c', conf, '--json'], { env: ENV });
  assert.doesNotMatch(run.stderr, STACK_TRACE);
  assert.ok(!`${run.stdout}${run.stderr}`.includes(PASSWORD), 'the password is never printed');
  return { code: run.code, plan: JSON.parse(run.stdout), stderr: run.stderr };
}

async function snapshotJson(conf: string): Promise<any> {
  const run = await runProcguard(['snapshot', '-c', conf, '--json'], { env: ENV });
  return JSON.parse(run.stdout);
}

function oomScoreAdj(pid: number): Promise<string> {
  return import('node:fs/promises').then((fs) => fs.readFile(`/proc/${pid}/oom_score_adj`, 'utf8')).then((t) => t.trim());
}

/** This host's first non-loopback address: a supervisor there is on this host, and verified as one on 127.0.0.1. */
function nonLoopbackAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  throw new Error('this host has no non-loopback IPv4 address to bind the remote stand-in to');
}

/** `run --listen` on `conf` with `env` and a login, after its first cycle: /api/status, the page and the log so far. */
async function withStatusPage(conf: string, env: NodeJS.ProcessEnv, check: (seen: { status: any; page: string; stderr: string }) => Promise<void>): Promise<void> {
  const daemon: ChildProcess = spawn(process.execPath, [BIN, 'run', '-c', conf, '--interval', '1s', '--listen', '127.0.0.1:0'], {
    env: { ...env, PROCGUARD_LISTEN_USERNAME: 'viewer', PROCGUARD_LISTEN_PASSWORD: 'l00k-only' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  daemon.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  try {
    await eventually(() => logEvents(stderr).some((e) => e.event === 'listen' && typeof e.url === 'string'), 15000, 'the status page listening');
    const base = String(logEvents(stderr).find((e) => e.event === 'listen')!.url);
    const headers = { authorization: `Basic ${Buffer.from('viewer:l00k-only').toString('base64')}` };
    await eventually(async () => ((await (await fetch(`${base}/api/status`, { headers })).json()) as any).last_cycle !== undefined, 15000, 'a first cycle');
    const status = (await (await fetch(`${base}/api/status`, { headers })).json()) as any;
    const page = await (await fetch(`${base}/`, { headers })).text();
    await check({ status, page, stderr });
  } finally {
    const exited = new Promise((resolve) => daemon.once('exit', resolve));
    daemon.kill('SIGTERM');
    await exited;
  }
}

describe('integration: a supervisord that is not supervisord', function () {
  this.timeout(60000);
  let user: TestUser;
  let dir: string;
  let work: string;
  let victim: Child;
  let impostor: Impostor | undefined;

  before(async () => {
    user = testUser(USER);
    dir = await impostorDir(user);
    work = await mkdtemp(join(tmpdir(), 'pg-impostor-work-'));
    // A load high enough for the load policy to want a pause.
    await writeFile(join(work, 'loadavg'), '9.00 9.00 9.00 1/200 4242\n');
    ENV.PROCGUARD_LOADAVG = join(work, 'loadavg');
  });
  beforeEach(async () => {
    victim = await spawnChild('sleep', ['100000']); // root's process
  });
  afterEach(async () => {
    await impostor?.stop();
    impostor = undefined;
    killAllChildren();
  });
  after(async () => {
    await removeDir(dir);
    await removeDir(work);
  });

  /** Same as /tmp: root's, world-writable, sticky; where supervisord's default socket lives. */
  async function stickyDir(): Promise<string> {
    const shared = await mkdtemp(join(tmpdir(), 'pg-shared-'));
    await chmod(shared, 0o1777);
    return shared;
  }

  const cases: Array<{ name: string; listen: () => Promise<{ listen: { unix: string } | { tcp: string }; url: string; shown: string }> }> = [
    {
      name: 'a unix socket in a shared directory',
      listen: async () => {
        const socket = join(await stickyDir(), 'supervisor.sock');
        return { listen: { unix: socket }, url: `unix://${socket}`, shown: socket };
      },
    },
    {
      name: '127.0.0.1',
      listen: async () => {
        const port = await freePort();
        return { listen: { tcp: `127.0.0.1:${port}` }, url: `http://127.0.0.1:${port}`, shown: `127.0.0.1:${port}` };
      },
    },
    {
      name: 'localhost',
      listen: async () => {
        const port = await freePort();
        return { listen: { tcp: `127.0.0.1:${port}` }, url: `http://localhost:${port}`, shown: `127.0.0.1:${port}` };
      },
    },
    // The URL parser writes [::ffff:127.0.0.1] as ::ffff:7f00:1: still 127.0.0.1, however it is spelled.
    ...['[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[0:0:0:0:0:ffff:7f00:0001]'].map((host) => ({
      name: `${host} (an IPv4-mapped 127.0.0.1)`,
      listen: async () => {
        const port = await freePort();
        return { listen: { tcp: `127.0.0.1:${port}` }, url: `http://${host}:${port}`, shown: `127.0.0.1:${port}` };
      },
    })),
    {
      name: "this host's own non-loopback address",
      listen: async () => {
        const address = nonLoopbackAddress();
        const port = await freePort();
        return { listen: { tcp: `${address}:${port}` }, url: `http://${address}:${port}`, shown: `${address}:${port}` };
      },
    },
  ];

  for (const { name, listen } of cases) {
    it(`${name}: the stand-in gets no request at all (no credentials), nothing is killed, paused or re-prioritised, and the error names who holds the socket`, async () => {
      const where = await listen();
      impostor = await startImpostor(user, dir, where.listen, victim.pid);
      const conf = await writePolicies(work, { url: where.url });
      const oomBefore = await oomScoreAdj(victim.pid);
      const { code, plan } = await apply(conf);
      assert.equal(code, 3);
      assert.deepEqual(plan.actions, []);
      const escaped = where.shown.replace(/[.[\]]/g, '\\$&');
      assert.deepEqual(
        plan.errors.map((e: any) => e.source),
        ['supervisor:main'],
      );
      assert.match(
        plan.errors[0].message,
        new RegExp(`^supervisor "main": the socket ${escaped} is held by pid ${impostor.pid} \\(user ${USER}\\), not by root or the configured user; nothing was sent$`),
      );
      assert.deepEqual(await impostor.received(), [], 'not even a connection reached the stand-in');
      assert.equal(victim.state(), 'S', "root's process is alive and not stopped");
      assert.equal(await oomScoreAdj(victim.pid), oomBefore);
      const snapshot = await snapshotJson(conf);
      assert.equal(snapshot.processes.find((p: any) => p.pid === victim.pid)?.supervisor, undefined, 'never joined');
    });
  }

  it("a socket held by the configured user: the program is joined only to that supervisord's own children; root's process is refused with both pids", async () => {
    const port = await freePort();
    impostor = await startImpostor(user, dir, { tcp: `127.0.0.1:${port}` }, victim.pid);
    const conf = await writePolicies(work, { url: `http://127.0.0.1:${port}`, user: USER });
    const { code, plan } = await apply(conf);
    assert.equal(code, 3);
    assert.deepEqual(plan.actions, []);
    assert.deepEqual(plan.errors, [
      {
        source: 'supervisor:main',
        message: `supervisor "main" names pid ${victim.pid} as web:w0, but pid ${victim.pid} is not a child of supervisord (pid ${impostor.pid}; its parent is pid ${process.pid}); not joined, never acted on`,
      },
    ]);
    assert.equal(victim.state(), 'S');
    const requests = await impostor.received();
    assert.ok(
      requests.some((r) => r.event === 'request' && r.authorization === `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64')}`),
      'the configured user was trusted with the credentials',
    );
    const snapshot = await snapshotJson(conf);
    assert.deepEqual(
      snapshot.processes.find((p: any) => p.supervisor),
      { pid: 0, supervisor: { server: 'main', group: 'web', name: 'w0', statename: 'RUNNING', start: 1 } },
    );
  });
});

describe('integration: a real supervisord is still trusted, and credentials in SUPERVISOR_SERVER_URL', function () {
  this.timeout(90000);
  let sv: Supervisord;
  let work: string;
  const PROGRAMS = `[group:web]\nprograms=w0\n\n[program:w0]\ncommand=sleep 100002\nstartsecs=0\n`;

  before(async () => {
    requireSupervisord();
    sv = await startSupervisord(PROGRAMS);
    work = await mkdtemp(join(tmpdir(), 'pg-real-sv-'));
    await writeFile(join(work, 'loadavg'), '0.10 0.10 0.10 1/200 4242\n');
    ENV.PROCGUARD_LOADAVG = join(work, 'loadavg');
  });
  after(async () => {
    await sv?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("root's supervisord started as a daemon (it binds PATH.PID before it forks): verified and joined", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pg-sv-daemon-'));
    const socket = join(dir, 'sv.sock');
    await writeFile(
      join(dir, 'sv.conf'),
      `[unix_http_server]\nfile=${socket}\nusername=${USERNAME}\npassword=${PASSWORD}\n[supervisord]\nlogfile=${dir}/sv.log\npidfile=${dir}/sv.pid\nnodaemon=false\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n[group:web]\nprograms=w0\n[program:w0]\ncommand=sleep 100003\nstartsecs=0\n`,
    );
    const started = spawnSync('supervisord', ['-c', join(dir, 'sv.conf')], { encoding: 'utf8' });
    assert.equal(started.status, 0, started.stderr);
    let daemon = 0;
    try {
      await eventually(
        async () =>
          readFile(join(dir, 'sv.pid'), 'utf8').then(
            (t) => (daemon = Number(t)) > 0,
            () => false,
          ),
        10000,
        'the daemon pidfile',
      );
      const conf = await writePolicies(work, { url: `unix://${socket}` });
      await eventually(async () => (await snapshotJson(conf)).processes.some((p: any) => p.supervisor?.name === 'w0' && p.pid > 0), 10000, 'w0 running');
      const snapshot = await snapshotJson(conf);
      assert.equal(snapshot.errors, undefined, JSON.stringify(snapshot.errors));
      const w0 = snapshot.processes.find((p: any) => p.supervisor?.name === 'w0');
      assert.equal(w0.ppid, daemon, 'joined to a child of the daemon');
    } finally {
      if (daemon > 0) process.kill(daemon, 'SIGTERM');
      await eventually(() => daemon === 0 || !existsSync(`/proc/${daemon}`), 15000, 'the daemon gone');
      await rm(dir, { recursive: true, force: true });
    }
  });

  for (const transport of ['unix', 'http'] as const) {
    it(`root's supervisord over ${transport}: its program is joined and restarted`, async () => {
      const conf = await writePolicies(work, { url: transport === 'unix' ? sv.unixUrl : sv.httpUrl, action: 'restart' });
      const before = (await sv.client.call('supervisor.getProcessInfo', ['web:w0'])) as { pid: number };
      const snapshot = await snapshotJson(conf);
      assert.equal(snapshot.errors, undefined);
      const w0 = snapshot.processes.find((p: any) => p.supervisor?.name === 'w0');
      assert.equal(w0.pid, before.pid);
      assert.equal(w0.supervisor.remote, undefined);
      const { code, plan } = await apply(conf);
      assert.equal(code, 0, JSON.stringify(plan));
      assert.deepEqual(
        plan.actions.filter((a: any) => a.policy === 'web-kill').map((a: any) => `${a.policy} ${a.action} ${a.target.namespec} ${a.status}`),
        ['web-kill restart web:w0 done'],
      );
      const after = (await sv.client.call('supervisor.getProcessInfo', ['web:w0'])) as { pid: number; statename: string };
      // The oom policy matched the program too: before the restart, unless an earlier case's
      // restart already gave it 1000, and on the new pid in the same cycle in any case.
      const oom = plan.actions.filter((a: any) => a.policy === 'web-oom').map((a: any) => a.target.pid);
      assert.ok(oom.includes(after.pid), `the oom policy covered the restarted program: ${JSON.stringify(plan.actions)}`);
      assert.equal(await readFile(`/proc/${after.pid}/oom_score_adj`, 'utf8'), '1000\n');
      assert.notEqual(after.pid, before.pid);
      assert.equal(after.statename, 'RUNNING');
    });
  }

  it("a user's socket bound in their directory, which they then move away and replace by a link to supervisord's directory, is not taken for supervisord's: root's supervisord keeps working", async () => {
    const user = testUser(USER);
    const standIn = await impostorDir(user);
    const shared = await mkdtemp(join(tmpdir(), 'pg-shared-'));
    await chmod(shared, 0o1777);
    const asUser = (...argv: string[]): void => {
      const run = spawnSync('runuser', ['-u', USER, '--', ...argv], { encoding: 'utf8' });
      assert.equal(run.status, 0, `${argv.join(' ')}: ${run.stderr}`);
    };
    let impostor: Impostor | undefined;
    try {
      asUser('mkdir', '-p', join(shared, 'x', 'd'));
      impostor = await startImpostor(user, standIn, { unix: join(shared, 'x', 'd', basename(sv.socket)) }, process.pid);
      asUser('mv', join(shared, 'x', 'd'), join(shared, 'x', 'd2'));
      asUser('ln', '-s', dirname(sv.socket), join(shared, 'x', 'd'));
      // The kernel still shows the name as bound: .../x/d/supervisor.sock, which now resolves to supervisord's socket.
      assert.ok((await readFile('/proc/net/unix', 'utf8')).includes(join(shared, 'x', 'd', basename(sv.socket))));
      const conf = await writePolicies(work, { url: sv.unixUrl });
      for (let cycle = 0; cycle < 2; cycle += 1) {
        const snapshot = await snapshotJson(conf);
        assert.equal(snapshot.errors, undefined, JSON.stringify(snapshot.errors));
        assert.ok(
          snapshot.processes.some((p: any) => p.supervisor?.name === 'w0' && p.pid > 0),
          "joined to root's supervisord",
        );
      }
      assert.deepEqual(await impostor.received(), []);
    } finally {
      await impostor?.stop();
      await rm(shared, { recursive: true, force: true });
      await removeDir(standIn);
    }
  });

  it('SUPERVISOR_SERVER_URL written as the URL parser reads it but not as a pattern would (backslashes, no slashes, blanks or an @ in the password): check and snapshot never show the password', async function () {
    this.timeout(180000);
    const conf = join(work, 'env-forms');
    await mkdir(conf, { recursive: true });
    await writeFile(join(conf, 'policies.yaml'), `settings:\n  state_dir: ${join(work, 'state-forms')}\npolicies:\n  - { name: w0-memory, kind: memory, match: { program: w0 }, max_rss: 1GB }\n`);
    const hostPort = sv.httpUrl.slice('http://'.length);
    const down = `127.0.0.1:${await freePort()}`; // supervisord down: the messages name the URL
    const forms = (at: string): Array<{ url: string; secrets: string[]; used?: true; error?: RegExp }> => [
      // supervisord's own password: the parser reads these as admin / s3cret, so they are used.
      { url: `http:\\\\${USERNAME}:${PASSWORD}@${at}`, secrets: [PASSWORD], used: true },
      { url: `http:${USERNAME}:${PASSWORD}@${at}`, secrets: [PASSWORD], used: true },
      { url: `http:/${USERNAME}:${PASSWORD}@${at}`, secrets: [PASSWORD], used: true },
      { url: `http://${USERNAME}:Zq7 SECRET@${at}`, secrets: ['Zq7', 'SECRET'] },
      { url: `http://${USERNAME}:Zq7\tSECRET@${at}`, secrets: ['Zq7', 'SECRET'] },
      { url: `http://${USERNAME}:Zq7\nSECRET@${at}`, secrets: ['Zq7', 'SECRET'] },
      { url: `http://${USERNAME}:pwA@ssSECRET@${at}`, secrets: ['pwA', 'SECRET'] },
      { url: `http://:Zq7SECRET@${at}`, secrets: ['Zq7', 'SECRET'], error: /SUPERVISOR_SERVER_URL gives a password without a user name/ },
      { url: `http://${USERNAME}:Zq7%zzSECRET@${at}`, secrets: ['Zq7', 'SECRET'], error: /SUPERVISOR_SERVER_URL has a % in its user name or password that is not a %-escape/ },
      { url: `unix://${USERNAME}:Zq7SECRET@${sv.socket}`, secrets: ['Zq7', 'SECRET'], error: /unix:\/\/ must be followed by the socket's absolute path, without credentials/ },
    ];
    for (const [at, up] of [
      [down, false],
      [hostPort, true],
    ] as const) {
      for (const form of forms(at)) {
        const env = { PATH: process.env.PATH ?? '', TZ: 'UTC', SUPERVISOR_SERVER_URL: form.url };
        const runs = [
          await runProcguard(['check', '-c', conf, '--json', '--verbose'], { env }),
          await runProcguard(['check', '-c', conf, '--verbose'], { env }),
          await runProcguard(['snapshot', '-c', conf, '--json'], { env }),
        ];
        for (const run of runs) {
          assert.doesNotMatch(run.stderr, STACK_TRACE);
          for (const secret of form.secrets) assert.ok(!`${run.stdout}${run.stderr}`.includes(secret), `${JSON.stringify(form.url)} showed ${secret}: ${run.stdout}${run.stderr}`);
        }
        const message = JSON.parse(runs[0]!.stdout)
          .errors.map((e: any) => e.message)
          .join('\n');
        if (form.error) assert.match(message, form.error);
        else if (!up) assert.match(message, new RegExp(`cannot reach supervisor "default" at http://${USERNAME}:\\*\\*\\*@${down.replace(/\./g, '\\.')}: ECONNREFUSED`));
        if (up && form.used) {
          assert.equal(runs[0]!.code, 0, `${JSON.stringify(form.url)}: ${runs[0]!.stdout}`);
          assert.ok(
            JSON.parse(runs[2]!.stdout).processes.some((p: any) => p.pid > 0 && p.supervisor?.name === 'w0'),
            `${JSON.stringify(form.url)}: the credentials were used`,
          );
        } else {
          assert.equal(runs[0]!.code, 3, `${JSON.stringify(form.url)}: ${runs[0]!.stdout}`);
        }
      }
    }

    // The daemon's /api/status and page, for the password with an unencoded @.
    const env = { PATH: process.env.PATH ?? '', TZ: 'UTC', SUPERVISOR_SERVER_URL: `http://${USERNAME}:pwA@ssSECRET@${hostPort}` };
    await withStatusPage(conf, env, async ({ status, page, stderr }) => {
      assert.equal(status.supervisors[0].url, `http://${USERNAME}:***@${hostPort}`);
      for (const text of [JSON.stringify(status), page, stderr]) assert.ok(!text.includes('SECRET') && !text.includes('pwA'), 'never shown');
    });
  });

  it('SUPERVISOR_SERVER_URL with user:pass@: the credentials are used, and check, /api/status and the page show ***', async () => {
    const conf = join(work, 'env-only');
    await mkdir(conf, { recursive: true });
    await writeFile(join(conf, 'policies.yaml'), `settings:\n  state_dir: ${join(work, 'state-env')}\npolicies:\n  - { name: w0-memory, kind: memory, match: { program: w0 }, max_rss: 1GB }\n`);
    const url = sv.httpUrl.replace('http://', `http://${USERNAME}:${PASSWORD}@`);
    const shown = sv.httpUrl.replace('http://', `http://${USERNAME}:***@`);
    const env = { PATH: process.env.PATH ?? '', TZ: 'UTC', SUPERVISOR_SERVER_URL: url };
    const check = await runProcguard(['check', '-c', conf, '--json', '--verbose'], { env });
    assert.equal(check.code, 0, check.stderr);
    assert.deepEqual(JSON.parse(check.stdout).errors, []);
    const snapshot = JSON.parse((await runProcguard(['snapshot', '-c', conf, '--json'], { env })).stdout);
    assert.ok(
      snapshot.processes.some((p: any) => p.pid > 0 && p.supervisor?.name === 'w0'),
      'joined, so the credentials were used',
    );

    const conflict = await runProcguard(['check', '-c', conf, '--json'], { env: { ...env, SUPERVISOR_USERNAME: 'someone-else' } });
    assert.equal(conflict.code, 3);
    assert.deepEqual(JSON.parse(conflict.stdout).errors, [
      {
        source: 'supervisor:default',
        message: `supervisor "default": SUPERVISOR_SERVER_URL names user "${USERNAME}" and SUPERVISOR_USERNAME names "someone-else"; give the credentials once (nothing was sent)`,
      },
    ]);

    const down = await runProcguard(['check', '-c', conf], { env: { ...env, SUPERVISOR_SERVER_URL: `http://${USERNAME}:${PASSWORD}@127.0.0.1:1` } });
    assert.match(down.stdout + down.stderr, /cannot reach supervisor "default" at http:\/\/admin:\*\*\*@127\.0\.0\.1:1: ECONNREFUSED/);
    for (const run of [check, conflict, down]) assert.ok(!`${run.stdout}${run.stderr}`.includes(PASSWORD), 'never printed');

    await withStatusPage(conf, env, async ({ status, page, stderr }) => {
      assert.equal(status.supervisors[0].url, shown);
      assert.ok(page.includes(shown.replace(/&/g, '&amp;')) || page.includes(shown), 'the page shows the URL with ***');
      for (const text of [JSON.stringify(status), page, stderr]) assert.ok(!text.includes(PASSWORD), 'never shown');
    });
  });
});
