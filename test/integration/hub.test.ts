// `procguard hub` over three real agents: `procguard run --listen` daemons with real policies
// against real processes (one under a real supervisord, one pausing a real process under load,
// one behind its own login), checked over HTTP and in Debian's chromium without JavaScript;
// one agent is killed mid-test and goes stale, then offline.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { logEvents, logText } from '../helpers/log-events.js';
import { eventually, killAllChildren, spawnChild, type Child } from '../helpers/processes.js';
import { BIN, STACK_TRACE } from '../helpers/run-cli.js';
import { PASSWORD, requireSupervisord, startSupervisord, USERNAME, type Supervisord } from '../helpers/supervisord.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url).pathname;
const HUB_LOGIN = { username: 'fleet', password: 'f1eet-2721' };
const AGENT_LOGIN = { username: 'hub', password: 'ag3nt-2721' };

interface Daemon {
  child: ChildProcess;
  stderr(): string;
  url: string;
}

async function startDaemon(args: string[], env: NodeJS.ProcessEnv): Promise<Daemon> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', TZ: 'UTC', PROCGUARD_LOG_FORMAT: 'json', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  await eventually(() => logEvents(stderr).some((e) => e.event === 'listen' && typeof e.url === 'string') || child.exitCode !== null, 20000, `${args[0]} listening`);
  if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited: ${stderr}`);
  return { child, stderr: () => stderr, url: String(logEvents(stderr).find((e) => e.event === 'listen')!.url) };
}

async function stopDaemon(daemon: Daemon | undefined): Promise<void> {
  if (!daemon || daemon.child.exitCode !== null || daemon.child.signalCode !== null) return;
  const exited = new Promise((resolve) => daemon.child.once('exit', resolve));
  daemon.child.kill('SIGTERM');
  await exited;
}

describe('integration: procguard hub over three real agents', function () {
  this.timeout(120000);
  let sv: Supervisord;
  let work: string;
  let web: Daemon;
  let batch: Daemon;
  let cache: Daemon;
  let hub: Daemon;
  let pausedChild: Child;
  const auth = `Basic ${Buffer.from(`${HUB_LOGIN.username}:${HUB_LOGIN.password}`).toString('base64')}`;
  const fleet = async (query = ''): Promise<any> => (await fetch(`${hub.url}/api/fleet${query}`, { headers: { authorization: auth } })).json();
  const host = async (name: string): Promise<any> => (await fleet()).hosts.find((h: any) => h.name === name);

  before(async () => {
    requireSupervisord();
    sv = await startSupervisord(`[program:api]\ncommand=sleep 2721201\nstartsecs=0\nautorestart=true\n\n[program:worker]\ncommand=sleep 2721202\nstartsecs=0\nautorestart=true\n`);
    work = await mkdtemp(join(tmpdir(), 'pg-hub-int-'));
    const policies = async (name: string, text: string): Promise<string> => {
      const dir = join(work, name);
      await mkdir(dir);
      await writeFile(join(dir, 'policies.yaml'), `settings:\n  state_dir: ${join(work, `${name}-state`)}\n${text}`);
      return dir;
    };
    // web: a supervisord's programs under a memory limit, behind the agent's own login.
    const webConf = await policies(
      'web',
      `supervisors:\n  default: { url: "${sv.unixUrl}", username: ${USERNAME}, password_env: SV_PASSWORD }\npolicies:\n  - { name: api-memory, kind: memory, match: { program: "*" }, max_rss: 100MB }\n`,
    );
    web = await startDaemon(['run', '-c', webConf, '--interval', '1s', '--listen', '127.0.0.1:0'], {
      SV_PASSWORD: PASSWORD,
      PROCGUARD_LISTEN_USERNAME: AGENT_LOGIN.username,
      PROCGUARD_LISTEN_PASSWORD: AGENT_LOGIN.password,
    });
    // batch: a process paused under load (the load average read from a file says 6).
    pausedChild = await spawnChild('sleep', ['2721203']);
    await writeFile(join(work, 'loadavg'), '6.00 1.00 1.00 1/200 4242\n');
    const batchConf = await policies('batch', `policies:\n  - { name: batch-backoff, kind: load, match: { name: sleep, cmdline: "^sleep 2721203$" }, pause_above: 4, resume_below: 2 }\n`);
    batch = await startDaemon(['run', '-c', batchConf, '--interval', '1s', '--listen', '127.0.0.1:0'], { PROCGUARD_LOADAVG: join(work, 'loadavg') });
    // cache: a plain process under a memory limit; killed mid-test.
    await spawnChild('sleep', ['2721204']);
    const cacheConf = await policies('cache', `policies:\n  - { name: cache-memory, kind: memory, match: { name: sleep, cmdline: "^sleep 2721204$" }, max_rss: 50MB }\n`);
    cache = await startDaemon(['run', '-c', cacheConf, '--interval', '1s', '--listen', '127.0.0.1:0'], {});

    const hubFile = join(work, 'hub.yaml');
    await writeFile(
      hubFile,
      `hub: { interval: 1s, timeout: 1s, concurrency: 2 }
agents:
  - { name: web1, url: "${web.url}", username: ${AGENT_LOGIN.username}, password_env: WEB_AGENT_PASSWORD, labels: { role: web, env: prod } }
  - { name: batch1, url: "${batch.url}", labels: { role: batch, env: prod } }
  - { name: cache1, url: "${cache.url}", labels: { role: cache, env: staging } }
  - { name: gone1, url: "http://127.0.0.1:9", labels: { role: web, env: prod } }
`,
    );
    const validated = spawnSync(process.execPath, [BIN, 'validate', hubFile], { encoding: 'utf8' });
    assert.equal(validated.status, 0, validated.stdout + validated.stderr);
    hub = await startDaemon(['hub', '-c', hubFile, '--listen', '127.0.0.1:0'], {
      WEB_AGENT_PASSWORD: AGENT_LOGIN.password,
      PROCGUARD_LISTEN_USERNAME: HUB_LOGIN.username,
      PROCGUARD_LISTEN_PASSWORD: HUB_LOGIN.password,
    });
    await eventually(async () => (await fleet()).summary.hosts.up === 3, 30000, 'three agents up');
    await eventually(async () => (await fleet()).summary.paused === 1, 20000, 'the batch process paused');
  });

  after(async () => {
    for (const daemon of [hub, web, batch, cache]) await stopDaemon(daemon);
    killAllChildren();
    await sv?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('/api/fleet: the summary, each agent with its programs and headroom, the paused tree, the dead URL offline', async () => {
    const doc = await fleet();
    assert.deepEqual(doc.summary.hosts, { up: 3, stale: 0, offline: 1 });
    assert.equal(doc.summary.programs, 2);
    assert.equal(doc.summary.paused, 1);
    assert.deepEqual(
      doc.hosts.map((h: any) => h.name),
      ['batch1', 'cache1', 'gone1', 'web1'],
    );
    const web1 = doc.hosts.find((h: any) => h.name === 'web1');
    const api = web1.status.supervisors[0].processes.find((p: any) => p.namespec === 'api:api');
    const apiInfo = (await sv.client.call('supervisor.getProcessInfo', ['api'])) as { pid: number };
    assert.equal(api.pid, apiInfo.pid);
    assert.equal(api.state, 'RUNNING');
    assert.equal(api.policies[0].policy, 'api-memory');
    assert.equal(api.policies[0].headroom.limit, 100 * 1024 * 1024);
    assert.equal(api.cmdline, undefined, 'command lines stay on the agent');
    const batch1 = doc.hosts.find((h: any) => h.name === 'batch1');
    assert.equal(batch1.status.paused[0].pid, pausedChild.pid);
    assert.equal(pausedChild.state(), 'T', 'really stopped by the agent');
    const gone = doc.hosts.find((h: any) => h.name === 'gone1');
    assert.equal(gone.state, 'offline');
    assert.match(gone.error, /ECONNREFUSED/);
  });

  it('the page in chromium without JavaScript: summary first, grouped by role, the search form, a screenshot kept', async () => {
    if (spawnSync('test', ['-x', CHROMIUM]).status !== 0) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (the browser test needs it)`);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const context = await browser.newContext({ httpCredentials: HUB_LOGIN, javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const requests: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      const response = await page.goto(`${hub.url}/?group=role`);
      assert.equal(response?.status(), 200);
      assert.deepEqual(requests, [`${hub.url}/?group=role`], 'nothing but the page is loaded');
      const summary = await page.locator('#summary').innerText();
      assert.match(
        summary,
        /Hosts\s+Programs\s+Over limit\s+Paused\s+Failing\s+Actions \(last hour\)\s+Last round\s+3 up, 0 stale, 1 offline\s+2\s+1\s+1\s+0\s+1\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, 4 agents in \d+ ms/,
      );
      assert.deepEqual(await page.locator('h2.group').allInnerTexts(), ['role = batch (1 host)', 'role = cache (1 host)', 'role = web (2 hosts)']);
      const web1 = page.locator('section.host[data-host="web1"]');
      assert.match(
        await web1.locator('tr.program', { hasText: 'api:api' }).innerText(),
        /api:api\s+RUNNING\s+\d+\s+[\dsmhd]+\s+[\d.]+ (KiB|MiB)\s+api-memory:\s*rss [\d.]+ (KiB|MiB) of 100\.0 MiB, [\d.]+ MiB left/,
      );
      assert.equal(await web1.locator('.bar span').count(), 2);
      assert.match(await page.locator('section.host[data-host="batch1"] table.paused').innerText(), new RegExp(`sleep \\(pid ${pausedChild.pid}\\)\\s+batch-backoff\\s+1`));
      assert.match(await page.locator('section.host[data-host="gone1"]').innerText(), /gone1\s+offline[\s\S]*never answered[\s\S]*ECONNREFUSED/);
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'hub-page.png'), fullPage: true });

      // The search form is a plain GET: it works with JavaScript off.
      await page.fill('input[name="q"]', 'worker');
      await page.click('button[type="submit"]');
      await page.waitForURL(/\?q=worker/);
      assert.deepEqual(await page.locator('section.host').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-host'))), ['web1']);
      assert.deepEqual(await page.locator('tr.program td:first-child').allInnerTexts(), ['worker:worker']);
      // A label link filters by it.
      await page.goto(`${hub.url}/`);
      await page.click('section.host[data-host="cache1"] a.label:has-text("env=staging")');
      await page.waitForURL(/label=env%3Astaging/);
      assert.deepEqual(await page.locator('section.host').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-host'))), ['cache1']);
    } finally {
      await browser.close();
    }
  });

  it('an agent killed mid-test: stale with its last answer and age, then offline; the others stay up', async () => {
    cache.child.kill('SIGKILL');
    await eventually(async () => (await host('cache1')).state === 'stale', 20000, 'cache1 stale');
    const stale = await host('cache1');
    assert.equal(stale.status.policies.length, 0);
    assert.equal(stale.status.processes[0].policies[0].policy, 'cache-memory', 'the last answer is kept');
    assert.ok(typeof stale.age === 'number' && stale.age >= 0);
    assert.match(stale.error, /ECONNREFUSED/);
    const page = await (await fetch(`${hub.url}/?q=cache1`, { headers: { authorization: auth } })).text();
    assert.match(page, /<span class="state stale">stale<\/span>/);
    assert.match(page, /cache-memory/);
    await eventually(async () => (await host('cache1')).state === 'offline', 20000, 'cache1 offline');
    const doc = await fleet();
    assert.deepEqual(doc.summary.hosts, { up: 2, stale: 0, offline: 2 });
    assert.equal((await fetch(`${hub.url}/healthz`)).status, 200);
    assert.doesNotMatch(logText(hub.stderr()), STACK_TRACE);
    assert.ok(!hub.stderr().includes(AGENT_LOGIN.password));
  });
});
