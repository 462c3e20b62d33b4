// The status page wherever procguard runs long: `eventlistener --listen` and `memmon --listen`
// run by a real supervisord as its event listeners; and the daemon against one real supervisord
// configured twice (its unix socket and its inet port), which it reports as one, then stopped
// while the daemon runs, which /healthz reports after three cycles without an answer.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../helpers/processes.js';
import { logEvents, logText } from '../helpers/log-events.js';
import { BIN, runProcguard, STACK_TRACE } from '../helpers/run-cli.js';
import { freePort, PASSWORD, requireSupervisord, startSupervisord, USERNAME, type Supervisord } from '../helpers/supervisord.js';

/** A program of its own command line, so another run of the tests cannot be taken for it. */
const CALM = 'sleep 1919191';

describe('integration: the status page of the event listener and the memmon drop-in', function () {
  this.timeout(120000);
  let sv: Supervisord | undefined;
  let work: string;
  const ports = { listener: 0, memmon: 0 };

  before(async () => {
    requireSupervisord();
    work = await mkdtemp(join(tmpdir(), 'pg-listener-page-'));
    ports.listener = await freePort();
    ports.memmon = await freePort();
    await writeFile(
      join(work, 'policies.yaml'),
      `settings:
  state_dir: ${join(work, 'state')}
policies:
  - { name: calm-memory, kind: memory, match: { program: calm }, max_rss: 500MB }
  - { name: sshd-memory, kind: memory, match: { name: sshd19pg }, max_rss: 1GB }
`,
    );
    const listener = (name: string, args: string): string => `[eventlistener:${name}]
command=${process.execPath} ${BIN} ${args}
events=TICK_5
stderr_logfile=${join(work, `${name}.err`)}
environment=SUPERVISOR_USERNAME="${USERNAME}",SUPERVISOR_PASSWORD="${PASSWORD}",TZ="UTC"
`;
    sv = await startSupervisord(
      `[program:calm]
command=${CALM}
startsecs=0

${listener('pglistener', `eventlistener -c ${join(work, 'policies.yaml')} --listen 127.0.0.1:${ports.listener}`)}
${listener('pgmemmon', `memmon -p calm=400MB --listen 127.0.0.1:${ports.memmon}`)}
`,
    );
  });

  after(async () => {
    await sv?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  for (const which of ['listener', 'memmon'] as const) {
    it(`${which === 'listener' ? 'eventlistener -c' : 'memmon'} --listen: /api/status after a tick, /healthz ok, the page`, async () => {
      const base = `http://127.0.0.1:${ports[which]}`;
      const status = async (): Promise<any> => (await fetch(`${base}/api/status`)).json();
      // The page serves before the first tick; a TICK_5 comes within five seconds.
      await eventually(async () => (await status().catch(() => ({}))).last_cycle !== undefined, 20000, `a cycle done on the ${which}'s page`);
      const doc = await status();
      const [supervisor] = doc.supervisors;
      assert.equal(supervisor.name, 'default');
      assert.equal(supervisor.error, undefined);
      const calm = supervisor.processes.find((p: any) => p.namespec === 'calm:calm');
      assert.equal(calm.state, 'RUNNING');
      assert.equal(calm.policies.length, 1);
      assert.equal(doc.summary.supervisors.up, 1);
      assert.ok(doc.summary.programs >= 3, 'calm and the two listeners');
      const health = await fetch(`${base}/healthz`);
      assert.deepEqual([health.status, await health.text()], [200, 'ok\n']);
      const page = await (await fetch(`${base}/`)).text();
      assert.match(page, /<h2 class="supervisor">Supervisor default/);
      assert.match(page, /calm:calm/);
      const stderr = await readFile(join(work, `pg${which}.err`), 'utf8');
      assert.match(logText(stderr), new RegExp(`status page on http://127\\.0\\.0\\.1:${ports[which]}/ \\(also /api/status, /metrics, /healthz\\)`));
      assert.doesNotMatch(stderr, STACK_TRACE);
      if (which === 'listener') {
        // Every policy, the one that matches nothing too.
        assert.deepEqual(
          doc.policies.map((p: any) => [p.name, p.matched]),
          [
            ['calm-memory', 1],
            ['sshd-memory', 0],
          ],
        );
        assert.match(page, /sshd-memory<\/td><td>memory<\/td><td>[^<]*<\/td><td class="num">0 <span class="meta">\(matches nothing\)<\/span>/);
      } else {
        assert.deepEqual(
          doc.policies.map((p: any) => p.name),
          ['memmon-program-calm'],
        );
      }
    });
  }
});

describe('integration: one supervisord configured twice, then stopped under the daemon', function () {
  this.timeout(120000);
  let sv: Supervisord;
  let work: string;
  let conf: string;
  let daemon: ChildProcess;
  let stderr = '';
  let base = '';
  const status = async (): Promise<any> => (await fetch(`${base}/api/status`)).json();
  const healthz = async (): Promise<[number, string]> => {
    const response = await fetch(`${base}/healthz`);
    return [response.status, await response.text()];
  };

  before(async () => {
    requireSupervisord();
    sv = await startSupervisord(`[program:calm]\ncommand=${CALM}\nstartsecs=0\n`);
    work = await mkdtemp(join(tmpdir(), 'pg-twice-'));
    conf = join(work, 'procguard');
    await mkdir(conf);
    await writeFile(
      join(conf, 'policies.yaml'),
      `settings:
  state_dir: ${join(work, 'state')}
supervisors:
  local: { url: "${sv.unixUrl}", username: ${USERNAME}, password_env: SV_PASSWORD }
  web: { url: "${sv.httpUrl}", username: ${USERNAME}, password_env: SV_PASSWORD }
policies:
  - { name: calm-memory, kind: memory, match: { program: calm }, max_rss: 500MB }
`,
    );
    daemon = spawn(process.execPath, [BIN, 'run', '-c', conf, '--interval', '1s', '--listen', '127.0.0.1:0'], {
      env: { PATH: process.env.PATH ?? '', TZ: 'UTC', SV_PASSWORD: PASSWORD },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    daemon.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    await eventually(() => logEvents(stderr).some((e) => e.event === 'listen' && typeof e.url === 'string'), 15000, 'the status page listening');
    base = String(logEvents(stderr).find((e) => e.event === 'listen')!.url);
    await eventually(async () => (await status()).last_cycle !== undefined, 15000, 'a cycle done');
  });

  after(async () => {
    if (daemon && daemon.exitCode === null) {
      const exited = new Promise((resolve) => daemon.once('exit', resolve));
      daemon.kill('SIGTERM');
      await exited;
    }
    await sv?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('is recognised by its pid: the programs under the first name, a warning on the page, in the JSON and in check', async () => {
    const doc = await status();
    const [local, web] = doc.supervisors;
    assert.deepEqual(
      local.processes.map((p: any) => p.namespec),
      ['calm:calm'],
    );
    assert.deepEqual(web.processes, []);
    const pid = Number(await readFile(join(sv.dir, 'supervisord.pid'), 'utf8'));
    const warning = `supervisor "web" (${sv.httpUrl}) is the same supervisord as "local" (${sv.unixUrl}), pid ${pid}: its programs are listed under "local" only; configure it once`;
    assert.equal(web.warning, warning);
    assert.deepEqual(doc.warnings, [warning]);
    assert.deepEqual(doc.summary.supervisors, { up: 2, down: 0 });
    const page = await (await fetch(`${base}/`)).text();
    assert.ok(page.includes(`<p class="warn warning">Warning: ${warning.replaceAll('"', '&quot;')}</p>`), page);
    const check = await runProcguard(['check', '-c', conf], { env: { PATH: process.env.PATH ?? '', SV_PASSWORD: PASSWORD } });
    assert.equal(check.code, 0, check.stderr);
    assert.ok(check.stdout.includes(`warning: ${warning}`), check.stdout);
  });

  it('/healthz answers 503 once a supervisor has not answered for three cycles, and 200 when it answers again', async () => {
    assert.deepEqual(await healthz(), [200, 'ok\n']);
    await sv.terminate();
    // Counted in cycles, each at least an interval after the one before: the first 503 names three or more.
    await eventually(async () => (await healthz())[0] === 503, 20000, '/healthz failing');
    // Its two entries are asked side by side, each on its own connection: supervisord may answer
    // one just before it starts shutting down and refuse the other, which then counts one cycle more.
    await eventually(async () => (await healthz())[1].includes('supervisor "local"'), 20000, '/healthz naming both entries');
    const [, text] = await healthz();
    const counts = [...text.matchAll(/has not answered for (\d+) cycles/g)].map((m) => Number(m[1]));
    assert.match(text, /^failing: supervisor "local" has not answered for \d+ cycles \(since \S+\); supervisor "web" has not answered for \d+ cycles/);
    assert.ok(counts.length === 2 && counts.every((n) => n >= 3), text);
    const doc = await status();
    assert.deepEqual(doc.summary.supervisors, { up: 0, down: 2 });
    assert.match(await (await fetch(`${base}/`)).text(), /Not answering since [^(]+\(\d+ cycles\)/);

    await sv.restart();
    await eventually(async () => (await healthz())[0] === 200, 20000, 'healthy again');
    assert.equal((await status()).supervisors[0].unanswered, undefined);
    assert.doesNotMatch(logText(stderr), STACK_TRACE);
  });
});
