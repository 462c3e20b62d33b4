// `procguard hub` as a real process over stand-in agents (real HTTP servers on 127.0.0.1): a
// stalling agent delays neither the others nor the page; an agent that stops answering is
// stale with its last answer, then offline; file_sd files are read again when they change; the
// page's login and the agents' logins; the same HTTP rules as an agent's page.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStandInAgent, type StandInAgent } from '../helpers/hub-agents.js';
import { logEvents, logText } from '../helpers/log-events.js';
import { eventually } from '../helpers/processes.js';
import { BIN, STACK_TRACE } from '../helpers/run-cli.js';

interface HubProcess {
  url: string;
  stderr(): string;
  fleet(query?: string, headers?: Record<string, string>): Promise<any>;
  stop(): Promise<void>;
}

async function startHub(dir: string, config: string, env: NodeJS.ProcessEnv = {}): Promise<HubProcess> {
  const file = join(dir, `hub-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, config);
  const child: ChildProcess = spawn(process.execPath, [BIN, 'hub', '-c', file, '--listen', '127.0.0.1:0'], {
    env: { PATH: process.env.PATH ?? '', TZ: 'UTC', PROCGUARD_LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  await eventually(() => logEvents(stderr).some((e) => e.event === 'listen') || child.exitCode !== null, 15000, 'the hub listening');
  if (child.exitCode !== null) throw new Error(`the hub exited: ${stderr}`);
  const url = String(logEvents(stderr).find((e) => e.event === 'listen')!.url);
  return {
    url,
    stderr: () => stderr,
    fleet: async (query = '', headers = {}) => (await fetch(`${url}/api/fleet${query}`, { headers })).json(),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const hostsByName = (fleet: any): Map<string, any> => new Map(fleet.hosts.map((h: any) => [h.name, h]));

describe('hub: polling stand-in agents', function () {
  this.timeout(60000);
  let work: string;
  const agents: StandInAgent[] = [];
  const hubs: HubProcess[] = [];
  const agent = async (options: Parameters<typeof startStandInAgent>[0]): Promise<StandInAgent> => {
    const a = await startStandInAgent(options);
    agents.push(a);
    return a;
  };
  const hub = async (config: string, env: NodeJS.ProcessEnv = {}): Promise<HubProcess> => {
    const h = await startHub(work, config, env);
    hubs.push(h);
    return h;
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'pg-hub-'));
  });
  afterEach(async () => {
    for (const h of hubs.splice(0)) await h.stop();
    for (const a of agents.splice(0)) await a.close();
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('a stalling agent holds one slot only: the other agents are asked and the page answers while its request is still open', async () => {
    const stall = await agent({ host: 'stall', mode: 'stall' });
    const fast = await Promise.all(Array.from({ length: 8 }, (_, i) => agent({ host: `fast${i}` })));
    // The stalling agent is listed first and holds one of the two slots for all of its (long) deadline.
    const h = await hub(`hub: { interval: 60s, timeout: 50s, concurrency: 2 }
agents:
  - { name: stall, url: "${stall.url}" }
${fast.map((a, i) => `  - { name: fast${i}, url: "${a.url}" }`).join('\n')}
`);
    await eventually(async () => (await h.fleet()).summary.hosts.up === 8, 20000, 'the eight answering agents up');
    const fleet = await h.fleet();
    const page = await fetch(`${h.url}/`);
    assert.equal(page.status, 200);
    // Both answers came while the stalled request was still waiting: neither waited for it.
    assert.equal(stall.open, 1);
    assert.equal(stall.requests, 1);
    for (const a of fast) assert.equal(a.requests, 1, 'each agent asked once in the round');
    const byName = hostsByName(fleet);
    assert.equal(byName.get('stall').state, 'offline');
    assert.equal(byName.get('stall').error, 'not asked yet');
    assert.equal(fleet.last_round, undefined, 'the round is not over while the stalled request is open');
  });

  it('an agent past its deadline is cut off; one that stops answering is stale with its last answer and age, then offline', async () => {
    const flaky = await agent({ host: 'flaky-host', programs: 4 });
    const steady = await agent({ host: 'steady-host' });
    const h = await hub(`hub: { interval: 1s, timeout: 1s, concurrency: 4 }
agents:
  - { name: flaky, url: "${flaky.url}", labels: { role: web } }
  - { name: steady, url: "${steady.url}" }
`);
    await eventually(async () => (await h.fleet()).summary.hosts.up === 2, 15000, 'both agents up');
    flaky.mode = 'stall';
    await eventually(async () => hostsByName(await h.fleet()).get('flaky').state === 'stale', 15000, 'the stalling agent stale');
    let host = hostsByName(await h.fleet()).get('flaky');
    assert.equal(host.error, 'no answer within 1s');
    assert.equal(host.status.host, 'flaky-host', 'the last answer is kept');
    assert.equal(host.status.supervisors[0].processes.length, 4);
    assert.ok(host.age >= 1);
    assert.ok(flaky.abandoned >= 1, 'the stalled request was closed at its deadline');
    const page = await (await fetch(`${h.url}/?q=flaky`)).text();
    assert.match(page, /<span class="state stale">stale<\/span>/);
    assert.match(page, /answered \d+s ago/);
    assert.match(page, /no answer within 1s/);
    await eventually(async () => hostsByName(await h.fleet()).get('flaky').state === 'offline', 20000, 'the stalling agent offline');
    host = hostsByName(await h.fleet()).get('flaky');
    assert.equal(hostsByName(await h.fleet()).get('steady').state, 'up');
    const fleet = await h.fleet();
    assert.deepEqual(fleet.summary.hosts, { up: 1, stale: 0, offline: 1 });
    assert.equal(fleet.summary.programs, 3, "an offline host's programs are not counted");
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    assert.match(metrics, /^procguard_hub_agents\{state="offline"\} 1$/m);
    assert.match(metrics, /^procguard_hub_agents\{state="up"\} 1$/m);
    assert.match(metrics, /^procguard_hub_poll_duration_seconds_count\{result="failed"\} [1-9]/m);
    assert.match(metrics, /^procguard_hub_poll_round_duration_seconds_count [1-9]/m);
  });

  it('file_sd: targets and labels from a glob, read again when a file is added, changed, broken or removed', async () => {
    const [a1, a2] = await Promise.all([agent({ host: 'sd-one' }), agent({ host: 'sd-two' })]);
    const sd = join(work, 'hub.d');
    await mkdir(sd, { recursive: true });
    const target = (a: StandInAgent) => `127.0.0.1:${a.port}`;
    await writeFile(join(sd, 'web.json'), JSON.stringify([{ targets: [target(a1), target(a2)], labels: { env: 'prod' } }]));
    await writeFile(join(sd, 'ignored.txt'), 'not a target list');
    const h = await hub(`hub: { interval: 1s, timeout: 1s }\nfile_sd: [ "${sd}/*.json" ]\n`);
    await eventually(async () => (await h.fleet()).summary.hosts.up === 2, 15000, 'both file_sd targets up');
    assert.deepEqual(hostsByName(await h.fleet()).get(target(a1)).labels, { env: 'prod' });

    // Changed: one target left, with another label.
    await writeFile(join(sd, 'web.json'), JSON.stringify([{ targets: [target(a1)], labels: { env: 'staging' } }]));
    await eventually(
      async () => {
        const fleet = await h.fleet();
        return fleet.hosts.length === 1 && fleet.hosts[0].labels.env === 'staging';
      },
      15000,
      'the changed file read again',
    );

    // Broken: refused with FILE:LINE:COL, the last good targets kept.
    await writeFile(join(sd, 'web.json'), '[{ "targets": [ "no-port" ] }]');
    await eventually(() => logText(h.stderr()).includes('refused'), 15000, 'the broken file refused');
    assert.match(logText(h.stderr()), new RegExp(`file_sd: ${sd}/web\\.json:1:17: error: Target "no-port" must be HOST:PORT`));
    assert.equal((await h.fleet()).hosts.length, 1);

    // A second file added, then the first removed.
    await writeFile(join(sd, 'db.json'), JSON.stringify([{ targets: [target(a2)], labels: { role: 'db' } }]));
    await eventually(async () => (await h.fleet()).hosts.length === 2, 15000, 'the added file read');
    await unlink(join(sd, 'web.json'));
    await eventually(
      async () => {
        const fleet = await h.fleet();
        return fleet.hosts.length === 1 && fleet.hosts[0].labels.role === 'db';
      },
      15000,
      'the removed file forgotten',
    );
    assert.doesNotMatch(h.stderr(), STACK_TRACE);
  });

  it('file_sd: a file others may write to is refused, saying why and how to fix it; made safe, it is read', async () => {
    const a1 = await agent({ host: 'sd-loose' });
    const sd = join(work, 'hub-loose.d');
    await mkdir(sd, { recursive: true });
    const file = join(sd, 'loose.json');
    await writeFile(file, JSON.stringify([{ targets: [`127.0.0.1:${a1.port}`], labels: { env: 'prod' } }]));
    await chmod(file, 0o666);
    const h = await hub(`hub: { interval: 1s, timeout: 1s }\nfile_sd: [ "${sd}/*.json" ]\n`);
    await eventually(() => logText(h.stderr()).includes('Refused'), 15000, 'the loose file refused');
    assert.match(logText(h.stderr()), new RegExp(`file_sd: Refused: file_sd file ${sd}/loose\\.json .*writable by .*; fix with: chmod`));
    assert.equal((await h.fleet()).hosts.length, 0);
    await chmod(file, 0o644);
    await writeFile(file, JSON.stringify([{ targets: [`127.0.0.1:${a1.port}`], labels: { env: 'staging' } }]));
    await eventually(async () => (await h.fleet()).summary.hosts.up === 1, 15000, 'the file read once it is safe').catch((error: Error) => {
      throw new Error(`${error.message}; the hub's log:\n${logText(h.stderr())}`);
    });
  });

  it("logins: the page's (basic auth, /healthz without it, CSP, GET and HEAD only) and the agents' (password_env, never shown)", async () => {
    const secret = 'agent-s3cret-2721';
    const locked = await agent({ host: 'locked', login: { username: 'hub', password: secret } });
    const wrong = await agent({ host: 'wrong', login: { username: 'hub', password: 'another-one' } });
    const unset = await agent({ host: 'unset', login: { username: 'hub', password: secret } });
    const h = await hub(
      `hub: { interval: 1s, timeout: 1s }
agents:
  - { name: locked, url: "${locked.url}", username: hub, password_env: AGENT_PW }
  - { name: wrong, url: "${wrong.url}", username: hub, password_env: AGENT_PW }
  - { name: unset, url: "${unset.url}", username: hub, password_env: NOT_SET_PW }
`,
      { AGENT_PW: secret, PROCGUARD_LISTEN_USERNAME: 'viewer', PROCGUARD_LISTEN_PASSWORD: 'l00k-2721' },
    );
    const auth = { authorization: `Basic ${Buffer.from('viewer:l00k-2721').toString('base64')}` };
    assert.equal((await fetch(`${h.url}/api/fleet`)).status, 401);
    assert.equal((await fetch(`${h.url}/`)).status, 401);
    assert.equal((await fetch(`${h.url}/api/fleet`, { headers: { authorization: `Basic ${Buffer.from('viewer:nope').toString('base64')}` } })).status, 401);
    await eventually(async () => (await h.fleet('', auth)).summary.hosts.up === 1, 15000, 'the agent with the right login up');
    const bare = await fetch(`${h.url}/healthz`);
    assert.equal(bare.status, 200);
    assert.equal(await bare.text(), 'ok\n');
    assert.match(await (await fetch(`${h.url}/healthz`, { headers: auth })).text(), /^ok: 1 up, 0 stale, 2 offline\n$/);

    const byName = hostsByName(await h.fleet('', auth));
    assert.equal(byName.get('locked').state, 'up');
    assert.equal(byName.get('wrong').error, 'the agent refused the login (401): check username and password_env');
    assert.equal(byName.get('unset').error, 'password_env NOT_SET_PW is not set');
    assert.equal(unset.requests, 0, 'nothing is sent without the password');

    const page = await fetch(`${h.url}/?sort=headroom`, { headers: auth });
    assert.equal(page.status, 200);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /form-action 'self'/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    const html = await page.text();
    assert.doesNotMatch(html, /<script/i);
    const post = await fetch(`${h.url}/api/fleet`, { method: 'POST', headers: auth });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    const head = await fetch(`${h.url}/`, { method: 'HEAD', headers: auth });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    assert.equal((await fetch(`${h.url}/nothing`, { headers: auth })).status, 404);

    // The agents' password is in no answer and no log line.
    const everything = [html, JSON.stringify(await h.fleet('', auth)), await (await fetch(`${h.url}/metrics`, { headers: auth })).text(), h.stderr()].join('\n');
    assert.ok(!everything.includes(secret));
    assert.ok(!everything.includes('l00k-2721'));
  });

  it('https agents: checked against ca_file; without it, a certificate the system does not trust is refused', async () => {
    const dir = join(work, 'tls');
    await mkdir(dir, { recursive: true });
    const made = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { encoding: 'utf8' },
    );
    assert.equal(made.status, 0, made.stderr);
    const tls = { key: await readFile(join(dir, 'key.pem'), 'utf8'), cert: await readFile(join(dir, 'cert.pem'), 'utf8') };
    const [secure, other] = await Promise.all([agent({ host: 'secure', tls }), agent({ host: 'other', tls })]);
    const h = await hub(`hub: { interval: 1s, timeout: 1s }
agents:
  - { name: trusted, url: "${secure.url}", ca_file: ${join(dir, 'cert.pem')} }
  - { name: untrusted, url: "${other.url}" }
`);
    await eventually(async () => (await h.fleet()).summary.hosts.up === 1, 15000, 'the agent checked against ca_file up');
    const byName = hostsByName(await h.fleet());
    assert.equal(byName.get('trusted').status.host, 'secure');
    assert.equal(byName.get('untrusted').state, 'offline');
    assert.match(byName.get('untrusted').error, /self[- ]signed certificate/);
    assert.equal(other.requests, 0, 'nothing is asked of an agent whose certificate is refused');
  });

  it('more than 20 hosts: each lists its programs with the least headroom, page and /api/fleet alike; ?host= lists all of one', async () => {
    const many = await Promise.all(Array.from({ length: 21 }, (_, i) => agent({ host: `m${i}`, programs: 10 })));
    const h = await hub(`hub: { interval: 2s, timeout: 1s }\nagents:\n${many.map((a, i) => `  - { name: m${String(i).padStart(2, '0')}, url: "${a.url}" }`).join('\n')}\n`);
    await eventually(async () => (await h.fleet()).summary.hosts.up === 21, 20000, 'the 21 agents up');
    const fleet = await h.fleet();
    assert.equal(fleet.summary.programs, 210, 'the counts are over every program');
    for (const host of fleet.hosts) {
      assert.deepEqual(host.listed, { programs: 5, of: 10 });
      // The stand-ins' RSS is (20 + 37 × i mod 180) MiB of 200: app_9, app_4, app_8, app_3 and app_7 use the most.
      assert.deepEqual(host.status.supervisors[0].processes.map((p: any) => p.namespec).sort(), ['app:app_3', 'app:app_4', 'app:app_7', 'app:app_8', 'app:app_9']);
    }
    const page = await (await fetch(`${h.url}/`)).text();
    assert.equal(page.match(/<tr class="program">/g)?.length, 21 * 5);
    assert.match(page, /5 of 10 programs listed: those that need a look and those with the least headroom\. <a href="\/\?host=m00">All of m00<\/a>/);
    const one = await h.fleet('?host=m07');
    assert.deepEqual(
      one.hosts.map((x: any) => [x.name, x.listed, x.status.supervisors[0].processes.length]),
      [['m07', undefined, 10]],
    );
  });

  it('the query string: search by program or host, filter by label, group by a label, least headroom first', async () => {
    const [a, b, c] = await Promise.all([agent({ host: 'qa', programs: 3 }), agent({ host: 'qb', programs: 6 }), agent({ host: 'qc', programs: 2 })]);
    const h = await hub(`hub: { interval: 1s, timeout: 1s }
agents:
  - { name: web1, url: "${a.url}", labels: { role: web, env: prod } }
  - { name: web2, url: "${b.url}", labels: { role: web, env: staging } }
  - { name: db1, url: "${c.url}", labels: { role: db, env: prod } }
`);
    await eventually(async () => (await h.fleet()).summary.hosts.up === 3, 15000, 'three agents up');
    assert.deepEqual(
      (await h.fleet('?label=env:prod')).hosts.map((x: any) => x.name),
      ['db1', 'web1'],
    );
    const search = await h.fleet('?q=app_5');
    assert.deepEqual(
      search.hosts.map((x: any) => x.name),
      ['web2'],
    );
    assert.deepEqual(
      search.hosts[0].status.supervisors[0].processes.map((p: any) => p.namespec),
      ['app:app_5'],
    );
    assert.deepEqual(
      (await h.fleet('?q=db')).hosts.map((x: any) => x.name),
      ['db1'],
    );
    // app_5 uses the most of its limit among them (the stand-ins' RSS grows with the index).
    assert.equal((await h.fleet('?sort=headroom')).hosts[0].name, 'web2');
    const grouped = await (await fetch(`${h.url}/?group=role&label=env:prod`)).text();
    assert.match(grouped, /<h2 class="group">role = db[\s\S]*db1[\s\S]*<h2 class="group">role = web[\s\S]*web1/);
    assert.doesNotMatch(grouped, /data-host="web2"/);
  });
});
