// The HTTP notifiers against real servers: a real Alertmanager (Debian's prometheus-alertmanager)
// receives a firing alert when a restart begins to fail and a resolved one when it succeeds again,
// read back through its API and through the notifications it sends on; a real node HTTP server
// receives the webhook and checks its signature; and their policy entries are validated with
// the same diagnostics as every other.
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Plan } from '../../src/data/types.js';
import { eventually, killAllChildren, spawnChild, type Child } from '../helpers/processes.js';
import { startAlertmanager, type Server } from '../helpers/prometheus.js';
import { runProcguard, STACK_TRACE, type CliRun } from '../helpers/run-cli.js';
import { PASSWORD, requireSupervisord, startSupervisord, USERNAME, writeFlakyProgram, type Supervisord } from '../helpers/supervisord.js';

const SECRET = 'w3bh00k-s3cr3t-2721';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real HTTP server on 127.0.0.1 that records what it receives and answers as told. */
async function startReceiver(
  answer: (request: Received) => { status: number; body?: string } | 'never' = () => ({ status: 200 }),
): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: HttpServer = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const entry = { method: request.method ?? '', url: request.url ?? '', headers: request.headers, body };
      received.push(entry);
      const reply = answer(entry);
      if (reply === 'never') return;
      response.writeHead(reply.status, { 'content-type': 'text/plain' }).end(reply.body ?? 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  status: { state: string };
  startsAt: string;
  endsAt: string;
}

describe('integration: the alertmanager notifier against a real Alertmanager', function () {
  this.timeout(120000);
  const flakyDir = join(tmpdir(), `pg-flaky-am-${process.pid}`);
  let sv: Supervisord;
  let alertmanager: Server;
  let hook: Awaited<ReturnType<typeof startReceiver>>;
  let flaky: Awaited<ReturnType<typeof writeFlakyProgram>>;
  let work: string;

  before(async () => {
    requireSupervisord();
    await mkdir(flakyDir, { recursive: true });
    flaky = await writeFlakyProgram(flakyDir);
    sv = await startSupervisord(`[program:flaky]\ncommand=${flakyDir}/flaky.sh\nstartsecs=1\nstartretries=0\nautorestart=false\n`);
    hook = await startReceiver();
    alertmanager = await startAlertmanager(`${hook.url}/alertmanager`);
    work = await mkdtemp(join(tmpdir(), 'pg-am-'));
  });
  after(async () => {
    await flaky?.broken(false);
    await alertmanager?.stop();
    await hook?.close();
    await sv?.stop();
    await rm(flakyDir, { recursive: true, force: true });
    if (work) await rm(work, { recursive: true, force: true });
  });

  const alerts = async (): Promise<AmAlert[]> => (await (await fetch(`${alertmanager.url}/api/v2/alerts`)).json()) as AmAlert[];
  /** What Alertmanager sent on: its webhook payloads' status for each alert name. */
  const notified = (): Array<{ status: string; alertname: string }> =>
    hook.received.flatMap((r) =>
      (JSON.parse(r.body) as { alerts: Array<{ status: string; labels: Record<string, string> }> }).alerts.map((a) => ({ status: a.status, alertname: a.labels.alertname ?? '' })),
    );

  async function apply(file: string): Promise<{ run: CliRun; plan: Plan }> {
    const run = await runProcguard(['apply', '-c', file, '--json'], { env: { PATH: process.env.PATH ?? '', TZ: 'UTC', SV_PASSWORD: PASSWORD } });
    assert.doesNotMatch(run.stderr, STACK_TRACE);
    return { run, plan: JSON.parse(run.stdout) as Plan };
  }

  it('a restart that begins to fail is one firing alert with its labels; when it succeeds again, the alert is resolved', async () => {
    await eventually(async () => ((await sv.client.call('supervisor.getProcessInfo', ['flaky'])) as { statename: string }).statename === 'RUNNING', 20000, 'flaky RUNNING');
    const file = join(work, 'policies.yaml');
    await writeFile(
      file,
      `settings: { state_dir: ${join(work, 'state')} }
supervisors:
  main: { url: "${sv.unixUrl}", username: ${USERNAME}, password_env: SV_PASSWORD }
notifiers:
  am: { alertmanager: { url: "${alertmanager.url}", labels: { env: test, team: ops } } }
policies:
  - { name: flaky-memory, kind: memory, match: { program: flaky }, max_rss: 50MB, notify: [ { to: am } ] }
`,
    );
    await flaky.broken(true);
    const failing = await apply(file);
    assert.equal(failing.run.code, 3, failing.run.stderr);
    assert.equal(failing.plan.actions[0]?.status, 'failed');
    const [sent] = failing.plan.notifications;
    assert.equal(sent?.status, 'done', sent?.error);
    assert.match(sent?.result ?? '', /^ProcguardFailing firing, ProcguardAction posted to http:\/\/127\.0\.0\.1:\d+\/api\/v2\/alerts \(HTTP 200\)$/);

    const firing = (await alerts()).find((a) => a.labels.alertname === 'ProcguardFailing');
    assert.ok(firing, 'the failing restart is an alert');
    assert.deepEqual(firing.labels, {
      alertname: 'ProcguardFailing',
      host: failing.plan.host,
      policy: 'flaky-memory',
      kind: 'memory',
      action: 'restart',
      program: 'flaky:flaky',
      supervisor: 'main',
      env: 'test',
      team: 'ops',
    });
    assert.equal(firing.status.state, 'active');
    assert.match(firing.annotations.error ?? '', /could not start it again: .*SPAWN_ERROR/);
    assert.ok(Date.parse(firing.endsAt) > Date.now() + 3600 * 1000, 'it fires until resolved or not renewed for 2 hours');
    const action = (await alerts()).find((a) => a.labels.alertname === 'ProcguardAction');
    assert.equal(action?.annotations.status, 'failed');
    await eventually(() => notified().some((n) => n.alertname === 'ProcguardFailing' && n.status === 'firing'), 20000, 'Alertmanager sending the firing alert on');

    // Fixed: the next cycles start it again and the failure ends.
    await flaky.broken(false);
    for (let cycle = 0; cycle < 3 && (await alerts()).some((a) => a.labels.alertname === 'ProcguardFailing'); cycle += 1) {
      const { run } = await apply(file);
      assert.doesNotMatch(run.stderr, /alertmanager .*failed/);
    }
    assert.deepEqual(
      (await alerts()).filter((a) => a.labels.alertname === 'ProcguardFailing'),
      [],
      'the failing alert is resolved',
    );
    await eventually(() => notified().some((n) => n.alertname === 'ProcguardFailing' && n.status === 'resolved'), 20000, 'Alertmanager sending the resolution on');
    const audit = await readFile(join(work, 'state', 'audit.log'), 'utf8');
    assert.match(audit, /"to":"am"/);
  });

  it('an Alertmanager that does not answer: the notification fails, naming where, and is tried again later', async () => {
    const closed = await startReceiver();
    await closed.close();
    const file = join(work, 'down.yaml');
    await writeFile(
      file,
      `settings: { state_dir: ${join(work, 'state-down')} }
notifiers:
  am: { alertmanager: { url: "${closed.url}" } }
policies:
  - { name: sleeper-kill, kind: runtime, match: { name: sleep, cmdline: "^sleep 2721104$", user: root }, max_runtime: 1s, action: kill, notify: [ { to: am } ] }
`,
    );
    const sleeper = await spawnChild('sleep', ['2721104']);
    try {
      // Past its runtime of 1s with room for the whole seconds a snapshot's time is kept in and
      // for the boot time start times are counted from.
      await eventually(() => Date.now() / 1000 - sleeper.start_time > 3.5, 10000, 'the sleeper past its runtime');
      const { run, plan } = await apply(file);
      assert.equal(run.code, 3, `${run.stdout}\n${run.stderr}`);
      assert.equal(plan.actions[0]?.status, 'done');
      assert.match(plan.notifications[0]?.error ?? '', /^alertmanager POST http:\/\/127\.0\.0\.1:\d+\/api\/v2\/alerts: (ECONNREFUSED|connect ECONNREFUSED)/);
      const state = JSON.parse(await readFile(join(work, 'state-down', 'state.json'), 'utf8')) as { pending?: unknown[] };
      assert.equal(state.pending?.length, 1);
    } finally {
      sleeper.kill();
    }
  });
});

describe('integration: the webhook notifier', function () {
  this.timeout(60000);
  let work: string;
  let sleeper: Child;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'pg-webhook-'));
    await writeFile(join(work, 'loadavg'), '6.00 1.00 1.00 1/200 4242\n');
    sleeper = await spawnChild('sleep', ['2721103']);
  });
  afterEach(async () => {
    killAllChildren();
    await rm(work, { recursive: true, force: true });
  });

  async function applyWith(url: string, extra = '', env: Record<string, string> = { PG_HOOK_SECRET: SECRET }): Promise<{ run: CliRun; plan: Plan }> {
    const file = join(work, 'policies.yaml');
    await writeFile(
      file,
      `settings: { state_dir: ${join(work, 'state')} }
notifiers:
  hook: { webhook: { url: "${url}/hook?channel=ops", secret_env: PG_HOOK_SECRET }${extra} }
policies:
  - { name: sleeper-backoff, kind: load, match: { name: sleep, cmdline: "^sleep 2721103$" }, pause_above: 4, resume_below: 2, notify: [ { to: hook } ] }
`,
    );
    const run = await runProcguard(['apply', '-c', file, '--json'], { env: { PATH: process.env.PATH ?? '', TZ: 'UTC', PROCGUARD_LOADAVG: join(work, 'loadavg'), ...env } });
    assert.doesNotMatch(run.stderr, STACK_TRACE);
    await runProcguard(['resume', '-c', file, '--all']);
    return { run, plan: JSON.parse(run.stdout) as Plan };
  }

  /** What a receiver does: recompute the HMAC of "TIMESTAMP.BODY" and compare in constant time. */
  function verified(request: Received): boolean {
    const timestamp = String(request.headers['x-procguard-timestamp'] ?? '');
    const signature = String(request.headers['x-procguard-signature'] ?? '');
    const expected = `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${request.body}`).digest('hex')}`;
    return signature.length === expected.length && timingSafeEqual(Buffer.from(signature), Buffer.from(expected)) && Math.abs(Number(timestamp) - Date.now() / 1000) < 300;
  }

  it('POSTs the event as JSON, signed over the timestamp and the raw body; the secret appears nowhere', async () => {
    const receiver = await startReceiver();
    try {
      const { run, plan } = await applyWith(receiver.url);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(receiver.received.length, 1);
      const [request] = receiver.received;
      assert.equal(request!.method, 'POST');
      assert.equal(request!.url, '/hook?channel=ops');
      assert.equal(request!.headers['content-type'], 'application/json');
      assert.ok(verified(request!), 'the signature verifies');
      // Any change to the body breaks it.
      assert.equal(verified({ ...request!, body: request!.body.replace('pause', 'resume') }), false);
      const event = JSON.parse(request!.body) as Record<string, any>;
      assert.deepEqual([event.policy, event.kind, event.action, event.status, event.target.pid], ['sleeper-backoff', 'load', 'pause', 'done', sleeper.pid]);
      assert.match(event.subject, /sleeper-backoff/);
      assert.equal(plan.notifications[0]?.status, 'done');
      // The query string (which may carry a token) is not repeated in messages.
      assert.match(plan.notifications[0]?.result ?? '', /^posted to http:\/\/127\.0\.0\.1:\d+\/hook \(HTTP 200\)$/);
      const everything = [run.stdout, run.stderr, await readFile(join(work, 'state', 'audit.log'), 'utf8'), await readFile(join(work, 'state', 'state.json'), 'utf8')].join('\n');
      assert.doesNotMatch(everything, new RegExp(SECRET));
    } finally {
      await receiver.close();
    }
  });

  for (const [what, answer, extra, env, expected] of [
    [
      'a receiver that answers 500',
      (): { status: number; body: string } => ({ status: 500, body: 'no\nthanks' }),
      '',
      { PG_HOOK_SECRET: SECRET },
      /^webhook POST http:\/\/127\.0\.0\.1:\d+\/hook answered HTTP 500: no thanks$/,
    ],
    [
      'a receiver that answers 500 with 10 MB, of which it reads a few',
      (): { status: number; body: string } => ({ status: 500, body: 'x'.repeat(10 * 1024 * 1024) }),
      '',
      { PG_HOOK_SECRET: SECRET },
      /^webhook POST http:\/\/127\.0\.0\.1:\d+\/hook answered HTTP 500: x{300}$/,
    ],
    [
      'a redirect, not followed',
      (): { status: number; body: string } => ({ status: 302, body: '' }),
      '',
      { PG_HOOK_SECRET: SECRET },
      /^webhook POST .* answered HTTP 302 \(a redirect to \?, not followed\)$/,
    ],
    [
      'a receiver that never answers, past the timeout',
      (): 'never' => 'never',
      ', timeout: 1s',
      { PG_HOOK_SECRET: SECRET },
      /^webhook the POST to http:\/\/127\.0\.0\.1:\d+\/hook did not finish within 1s; cut short$/,
    ],
    ['no secret in the environment', (): { status: number } => ({ status: 200 }), '', {}, /^notifier "hook": the secret variable PG_HOOK_SECRET is not set$/],
  ] as const) {
    it(`fails on ${what}, saying why, and keeps it for a later cycle (exit 3)`, async () => {
      const receiver = await startReceiver(answer);
      try {
        const { run, plan } = await applyWith(receiver.url, extra, env);
        assert.equal(run.code, 3, run.stderr);
        assert.equal(plan.actions[0]?.status, 'done');
        assert.match(plan.notifications[0]?.error ?? '', expected);
        assert.doesNotMatch(run.stdout + run.stderr, new RegExp(SECRET));
      } finally {
        await receiver.close();
      }
    });
  }
});

describe('the alertmanager and webhook entries are validated like every other', () => {
  let work: string;
  beforeEach(async () => (work = await mkdtemp(join(tmpdir(), 'pg-notifier-validate-'))));
  afterEach(async () => rm(work, { recursive: true, force: true }));

  for (const [entry, expected] of [
    ['{ webhook: { url: "https://hooks.example.com/x" } }', /notifier "hook".*secret_env/],
    ['{ webhook: { url: "https://hooks.example.com/x", secret: S } }', /Unexpected key "secret" in "webhook" of notifier "hook".*did you mean "secret_env"\?/],
    ['{ webhook: { url: "https://user:pw@hooks.example.com/x", secret_env: S } }', /must be an http:\/\/ or https:\/\/ URL .*no credentials in the URL/],
    ['{ alertmanager: { url: "http://am:9093", lables: { env: prod } } }', /Unexpected key "lables" .*did you mean "labels"\?/],
    ['{ alertmanager: { url: "am:9093" } }', /must be an http:\/\/ or https:\/\/ URL such as http:\/\/host:9093, not "am:9093"/],
    ['{ alertmanager: { url: "http://am:9093" }, webhook: { url: "http://h", secret_env: S } }', /sets both "alertmanager" and "webhook"; use only one/],
    ['{ alertmanger: { url: "http://am:9093" } }', /did you mean "alertmanager"\?/],
  ] as const) {
    it(`${entry}: ${expected.source}`, async () => {
      const file = join(work, 'p.yaml');
      await writeFile(file, `notifiers:\n  hook: ${entry}\n`);
      const run = await runProcguard(['validate', '-c', file]);
      assert.equal(run.code, 2, run.stdout + run.stderr);
      assert.match(run.stdout + run.stderr, /p\.yaml:2:\d+/);
      assert.match(run.stdout + run.stderr, expected);
    });
  }
});
