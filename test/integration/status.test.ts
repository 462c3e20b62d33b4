// `procguard run --listen`: the status page, its JSON, the metrics and the health check,
// over real HTTP from a real daemon evaluating a real supervisord; then the page in Debian's
// chromium (playwright-core), with a screenshot kept in test-artifacts/.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { logEvents, logText } from '../helpers/log-events.js';
import { eventually, killAllChildren, spawnChild, type Child } from '../helpers/processes.js';
import { BIN, STACK_TRACE } from '../helpers/run-cli.js';
import { HOG_COMMAND, PASSWORD, requireSupervisord, startSupervisord, USERNAME, type Supervisord } from '../helpers/supervisord.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url).pathname;
const LOGIN = { username: 'viewer', password: 'l00k-only' };

describe('integration: the status page, /api/status, /metrics and /healthz', function () {
  this.timeout(120000);
  let sv: Supervisord;
  let work: string;
  let daemon: ChildProcess;
  let stderr = '';
  let base = '';
  let sleeper: Child;
  const auth = `Basic ${Buffer.from(`${LOGIN.username}:${LOGIN.password}`).toString('base64')}`;
  const get = (path: string, init: RequestInit = {}): Promise<Response> => fetch(`${base}${path}`, { ...init, headers: { authorization: auth, ...(init.headers ?? {}) } });
  const status = async (): Promise<any> => (await get('/api/status')).json();

  before(async () => {
    requireSupervisord();
    sv = await startSupervisord(
      `[program:hog]\ncommand=${HOG_COMMAND}\nstartsecs=1\nautorestart=true\n\n[program:calm]\ncommand=sleep 100000\nstartsecs=0\nautorestart=true\n\n[program:napper]\ncommand=sleep 1919192\nstartsecs=0\n`,
    );
    work = await mkdtemp(join(tmpdir(), 'pg-status-'));
    const conf = join(work, 'procguard');
    await mkdir(conf);
    await writeFile(join(work, 'loadavg'), '6.00 1.00 1.00 1/200 4242\n');
    sleeper = await spawnChild('sleep', ['100001']);
    await writeFile(
      join(conf, 'policies.yaml'),
      `settings:
  state_dir: ${join(work, 'state')}
supervisors:
  default: { url: "${sv.unixUrl}", username: ${USERNAME}, password_env: SV_PASSWORD }
policies:
  - name: hog-memory
    kind: memory
    match: { program: hog }
    max_rss: 50MB
    max_actions: { count: 1, within: 1h }
  - name: calm-memory
    kind: memory
    match: { program: calm }
    max_rss: 500MB
  - name: sleeper-backoff
    kind: load
    match: { name: sleep, cmdline: "^sleep 100001$" }
    pause_above: 4
    resume_below: 2
  - name: napper-backoff
    kind: load
    match: { program: napper }
    pause_above: 4
    resume_below: 2
  - name: sshd-memory
    kind: memory
    match: { name: sshd, cmdline: "^sshd 1919193$" }
    max_rss: 1GB
`,
    );
    daemon = spawn(process.execPath, [BIN, 'run', '-c', conf, '--interval', '1s', '--listen', '127.0.0.1:0'], {
      env: {
        PATH: process.env.PATH ?? '',
        TZ: 'UTC',
        SV_PASSWORD: PASSWORD,
        PROCGUARD_LOADAVG: join(work, 'loadavg'),
        PROCGUARD_LISTEN_USERNAME: LOGIN.username,
        PROCGUARD_LISTEN_PASSWORD: LOGIN.password,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    daemon.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    await eventually(() => logEvents(stderr).some((e) => e.event === 'listen' && typeof e.url === 'string'), 15000, 'the status page listening');
    base = String(logEvents(stderr).find((e) => e.event === 'listen')!.url);
    // The hog is restarted once (then the flapping guard holds), and the sleeper paused.
    await eventually(async () => (await status()).recent.some((r: any) => r.what === 'restart' && r.status === 'done'), 20000, 'the hog restarted');
    await eventually(async () => (await status()).paused.length === 2, 10000, 'the sleeper and the napper paused');
  });

  after(async () => {
    if (daemon && daemon.exitCode === null) {
      const exited = new Promise((resolve) => daemon.once('exit', resolve));
      daemon.kill('SIGTERM');
      await exited;
    }
    killAllChildren();
    await sv?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('listens on loopback, where it was told, and logs where', () => {
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(logText(stderr), /status page on http:\/\/127\.0\.0\.1:\d+\/ \(also \/api\/status, \/metrics, \/healthz\)/);
  });

  it('/api/status: the supervisor, each program with its state, pid, uptime, RSS, policies and headroom', async () => {
    const doc = await status();
    const [supervisor] = doc.supervisors;
    assert.equal(supervisor.name, 'default');
    assert.equal(supervisor.url, sv.unixUrl);
    const byName = new Map<string, any>(supervisor.processes.map((p: any) => [p.namespec, p]));
    const calm = byName.get('calm:calm');
    const calmInfo = (await sv.client.call('supervisor.getProcessInfo', ['calm'])) as { pid: number };
    assert.equal(calm.state, 'RUNNING');
    assert.equal(calm.pid, calmInfo.pid);
    assert.ok(calm.uptime >= 0 && calm.rss > 0);
    assert.equal(calm.policies.length, 1);
    const [calmPolicy] = calm.policies;
    assert.equal(calmPolicy.policy, 'calm-memory');
    assert.equal(calmPolicy.verdict, 'ok');
    assert.equal(calmPolicy.headroom.limit, 500 * 1024 * 1024);
    assert.equal(calmPolicy.headroom.left, calmPolicy.headroom.limit - calm.rss);
    assert.equal(calmPolicy.headroom.unit, 'bytes');
    const hog = byName.get('hog:hog');
    assert.ok(hog, 'the hog is listed');
    assert.equal(hog.policies[0].policy, 'hog-memory');
    // Not supervised, matched by a policy: listed apart.
    assert.ok(doc.processes.some((p: any) => p.pid === sleeper.pid && p.policies[0].policy === 'sleeper-backoff'));
    assert.deepEqual(doc.config, { files: [join(work, 'procguard', 'policies.yaml')], policies: 5, errors: [] });
    // Every policy in force, in its kind's words, with how many processes it saw in the last cycle.
    assert.deepEqual(
      doc.policies.map((p: any) => [p.name, p.kind, p.mode, p.enforces]),
      [
        ['hog-memory', 'memory', 'enforce', 'max_rss 50.0 MiB per process, then restart, at most 1 within 1h'],
        ['calm-memory', 'memory', 'enforce', 'max_rss 500.0 MiB per process, then restart'],
        ['sleeper-backoff', 'load', 'enforce', 'pause above load 4 (1m), resume at 2'],
        ['napper-backoff', 'load', 'enforce', 'pause above load 4 (1m), resume at 2'],
        ['sshd-memory', 'memory', 'enforce', 'max_rss 1.0 GiB per process, then restart'],
      ],
    );
    assert.equal(doc.policies.find((p: any) => p.name === 'calm-memory').matched, 1);
    // A policy that matches nothing on this host is listed all the same.
    assert.equal(doc.policies.find((p: any) => p.name === 'sshd-memory').matched, 0);
    assert.ok(doc.cycles >= 1 && doc.last_cycle.processes > 0 && doc.last_cycle.duration_ms > 0);
  });

  it('/api/status: the paused process since when, and the recent actions with their reasons', async () => {
    const doc = await status();
    const paused = doc.paused.find((p: any) => p.policy === 'sleeper-backoff');
    assert.deepEqual({ pid: paused.pid, name: paused.name, namespec: paused.namespec }, { pid: sleeper.pid, name: 'sleep', namespec: undefined });
    assert.ok(Math.abs(paused.since - Date.now() / 1000) < 60);
    // A paused program is named by its namespec, and its own row says it is paused, since when.
    const napperInfo = (await sv.client.call('supervisor.getProcessInfo', ['napper'])) as { pid: number; statename: string };
    const napper = doc.paused.find((p: any) => p.policy === 'napper-backoff');
    assert.deepEqual({ pid: napper.pid, namespec: napper.namespec }, { pid: napperInfo.pid, namespec: 'napper:napper' });
    assert.equal(napperInfo.statename, 'RUNNING', 'supervisord does not know it is stopped');
    const napperRow = doc.supervisors[0].processes.find((p: any) => p.namespec === 'napper:napper');
    assert.deepEqual(napperRow.paused, { policy: 'napper-backoff', since: napper.since });
    // The counts the page starts with.
    assert.deepEqual(doc.summary, { supervisors: { up: 1, down: 0 }, programs: 3, over_limit: doc.summary.over_limit, paused: 2, failing: 0 });
    // The two paused under a load over its limit, and the hog (held by the flapping guard) unless it has just been started again.
    assert.ok(doc.summary.over_limit === 2 || doc.summary.over_limit === 3, String(doc.summary.over_limit));
    const restart = doc.recent.find((r: any) => r.what === 'restart');
    assert.equal(restart.policy, 'hog-memory');
    assert.equal(restart.target.namespec, 'hog:hog');
    assert.equal(restart.status, 'done');
    assert.match(restart.reason, /^rss [\d.]+ MiB > 50\.0 MiB \(cycle 1 of 1\)$/);
    assert.match(restart.result, /^restarted hog:hog: was pid \d+, now pid \d+, RUNNING$/);
    const pause = doc.recent.find((r: any) => r.what === 'pause' && r.policy === 'sleeper-backoff');
    assert.equal(pause.target.pid, sleeper.pid);
    assert.match(pause.reason, /load 6\.00/);
  });

  it('/metrics: Prometheus text with the cycle, processes, actions, notifications, errors, paused and reloads', async () => {
    // Two cycles, counted rather than assumed from how fast this machine is.
    await eventually(async () => /^procguard_cycles_total\{result="ok"\} ([2-9]|\d\d+)$/m.test(await (await get('/metrics')).text()), 20000, 'a second cycle');
    const response = await get('/metrics');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const value = (series: string): number => Number(new RegExp(`^${series.replace(/[{}".=]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    assert.equal(value('procguard_actions_total{policy="hog-memory",action="restart",status="done"}'), 1);
    assert.ok(value('procguard_actions_total{policy="sleeper-backoff",action="pause",status="done"}') >= 1);
    assert.ok(value('procguard_cycle_duration_seconds_count') >= 2);
    assert.ok(value('procguard_cycles_total{result="ok"}') >= 2);
    assert.ok(value('procguard_processes_seen') > 3);
    assert.equal(value('procguard_paused_processes'), 2);
    assert.equal(value('procguard_notifications_total{status="failed"}'), 0);
    assert.equal(value('procguard_config_reloads_total{result="failed"}'), 0);
    assert.match(text, /^# TYPE procguard_collector_errors_total counter$/m);
  });

  it('/healthz answers without a login; everything else wants one, and nothing can be changed', async () => {
    const health = await fetch(`${base}/healthz`);
    assert.deepEqual([health.status, await health.text()], [200, 'ok\n']);
    for (const path of ['/', '/api/status', '/metrics']) {
      const anonymous = await fetch(`${base}${path}`);
      assert.equal(anonymous.status, 401, path);
      assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic realm="procguard"/);
      const wrong = await fetch(`${base}${path}`, { headers: { authorization: `Basic ${Buffer.from(`${LOGIN.username}:nope`).toString('base64')}` } });
      assert.equal(wrong.status, 401, path);
    }
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const response = await get('/api/status', { method });
      assert.equal(response.status, 405, method);
      assert.equal(response.headers.get('allow'), 'GET, HEAD');
    }
    assert.equal((await get('/nope')).status, 404);
    const page = await get('/');
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  });

  it('a refused reload shows on the page, in the JSON and in the metrics; the set in force keeps working', async () => {
    const bad = join(work, 'procguard', 'zz-bad.yaml');
    await writeFile(bad, 'policies:\n  - { name: broken, kind: memory, match: { program: calm }, max_rss: lots }\n');
    await eventually(async () => (await status()).config.errors.length > 0, 10000, 'the refused reload');
    const doc = await status();
    assert.match(doc.config.errors.join('\n'), /zz-bad\.yaml:2:\d+: error: .*max_rss/);
    assert.equal(doc.config.last_reload.ok, false);
    assert.equal(doc.config.policies, 5);
    assert.match(await (await get('/')).text(), /The last reload \(.*zz-bad\.yaml changed, .*\) was refused/);
    assert.match(await (await get('/metrics')).text(), /^procguard_config_reloads_total\{result="failed"\} 1$/m);
    await rm(bad);
    await eventually(async () => (await status()).config.errors.length === 0, 10000, 'the fixed reload');
  });

  it('the page in chromium: the supervised programs, the pause and the recent restart; a screenshot is kept', async () => {
    if (spawnSync('test', ['-x', CHROMIUM]).status !== 0) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (the browser test needs it)`);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const context = await browser.newContext({ httpCredentials: LOGIN, viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const response = await page.goto(`${base}/`);
      assert.equal(response?.status(), 200);
      assert.equal(await page.title(), `procguard on ${(await status()).host}`);
      // In namespec order, whichever pid each has now.
      const programs = await page.locator('h2.supervisor + table tr.process td:first-child').allTextContents();
      assert.deepEqual(programs, ['calm:calm', 'hog:hog', 'napper:napper']);
      const summary = await page.locator('#summary').innerText();
      assert.match(summary, /Supervisors\s+Programs\s+Over limit\s+Paused\s+Failing\s+Last cycle\s+1 up, 0 down\s+3\s+[23]\s+2\s+0\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d+s ago\)/);
      // Counts in the singular where they are one.
      assert.match(await page.locator('p.meta').first().innerText(), /\d+ cycles? since .* 5 policies from 1 file\./);
      const napperRow = page.locator('tr.process', { hasText: 'napper:napper' });
      assert.match(await napperRow.innerText(), /napper:napper\s+paused since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(napper-backoff\)/);
      assert.doesNotMatch(await napperRow.innerText(), /RUNNING/);
      assert.match(await page.locator('tr.policy', { hasText: 'sshd-memory' }).innerText(), /sshd-memory\s+memory\s+max_rss 1\.0 GiB per process, then restart\s+0 \(matches nothing\)/);
      const calmRow = page.locator('tr.process', { hasText: 'calm:calm' });
      assert.match(await calmRow.innerText(), /RUNNING/);
      assert.match(await calmRow.innerText(), /calm-memory:\s*rss [\d.]+ MiB of 500\.0 MiB, [\d.]+ MiB left/);
      const policyRow = page.locator('tr.policy', { hasText: 'sleeper-backoff' });
      assert.match(await policyRow.innerText(), /sleeper-backoff\s+load\s+pause above load 4 \(1m\), resume at 2\s+1/);
      const restart = page.locator('tr.recent.action', { hasText: 'restart' });
      assert.match(await restart.innerText(), /hog-memory\s+restart\s+hog:hog \(pid \d+\)\s+done\s+rss [\d.]+ MiB > 50\.0 MiB/);
      const pausedTable = await page.locator('#paused + table').innerText();
      assert.match(pausedTable, new RegExp(`sleep \\(pid ${sleeper.pid}\\)\\s+sleeper-backoff`));
      assert.match(pausedTable, /napper:napper \(pid \d+\)\s+napper-backoff/);
      // Nothing but the page itself is loaded.
      const requests: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      await page.reload();
      assert.deepEqual(requests, [`${base}/`]);
      assert.equal(await page.locator('meta[http-equiv="refresh"]').getAttribute('content'), '5');
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'status-page.png'), fullPage: true });
    } finally {
      await browser.close();
    }
    assert.doesNotMatch(logText(stderr), STACK_TRACE);
  });
});
