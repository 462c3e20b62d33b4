// The supervisor collector and `procguard check` against a real supervisord: a group, a
// stopped program and a program that really holds 60 MiB; unix socket and 127.0.0.1.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fieldsNeeded } from '../../src/engine/fields-needed.js';
import { collectSnapshot } from '../../src/collectors/collect.js';
import { SupervisorClient } from '../../src/supervisord/client.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { emptyState, type ProcessEntry } from '../../src/data/types.js';
import { dataValidator } from '../helpers/data-validators.js';
import { yaml } from '../helpers/policy-files.js';
import { runProcguard } from '../helpers/run-cli.js';
import { policySetOf } from '../helpers/snapshots.js';
import { PASSWORD, requireSupervisord, startSupervisord, USERNAME, type Supervisord } from '../helpers/supervisord.js';

const HOG = `node -e "globalThis.b = Buffer.alloc(60 * 1024 * 1024, 1); setInterval(() => {}, 1e6)"`;
const PROGRAMS = `
[program:hog]
command=${HOG}
startsecs=1

[group:web]
programs=w1,w2

[program:w1]
command=sleep 1000
startsecs=0

[program:w2]
command=sleep 1001
startsecs=0

[program:idle]
command=sleep 1002
autostart=false
`;

const supervisorsYaml = (url: string) => yaml`
  supervisors:
    main: { url: "${url}", username: ${USERNAME}, password_env: SV_PASSWORD }
  policies:
    - { name: hog-memory, kind: memory, match: { program: hog }, max_rss: 50MB }
    - { name: web-memory, kind: memory, match: { group: web }, max_rss: 50MB }
`;

describe('integration: a real supervisord', function () {
  this.timeout(60000);
  let sv: Supervisord;
  let work: string;

  before(async () => {
    requireSupervisord();
    sv = await startSupervisord(PROGRAMS);
    work = await mkdtemp(join(tmpdir(), 'pg-check-'));
  });
  after(async () => {
    await sv?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  for (const transport of ['unix', 'http'] as const) {
    it(`joins every program to its process by pid over ${transport}, and lists a stopped one with pid 0`, async () => {
      const url = transport === 'unix' ? sv.unixUrl : sv.httpUrl;
      const set = policySetOf(supervisorsYaml(url));
      const snapshot = await collectSnapshot(set, { secondPass: fieldsNeeded(set), env: { SV_PASSWORD: PASSWORD } });
      assert.equal(snapshot.errors, undefined);
      const supervised = snapshot.processes.filter((p) => p.supervisor);
      const byName = new Map(supervised.map((p) => [`${p.supervisor!.group}:${p.supervisor!.name}`, p]));
      assert.deepEqual([...byName.keys()].sort(), ['hog:hog', 'idle:idle', 'web:w1', 'web:w2']);
      const infos = (await sv.client.call('supervisor.getAllProcessInfo')) as Array<{ group: string; name: string; pid: number }>;
      for (const info of infos) assert.equal(byName.get(`${info.group}:${info.name}`)?.pid, info.pid, `${info.group}:${info.name}`);
      const w1 = byName.get('web:w1') as ProcessEntry;
      assert.deepEqual([w1.name, w1.supervisor?.statename, w1.supervisor?.server], ['sleep', 'RUNNING', 'main']);
      assert.deepEqual(byName.get('idle:idle'), { pid: 0, supervisor: { server: 'main', group: 'idle', name: 'idle', statename: 'STOPPED', start: 0 } });
      assert.ok((byName.get('hog:hog')?.rss ?? 0) > 60 * 1024 * 1024, 'the hog really holds its memory');
    });
  }

  it('plans a restart of the program over its limit, and nothing for the stopped one', async () => {
    const set = policySetOf(supervisorsYaml(sv.unixUrl));
    const snapshot = await collectSnapshot(set, { secondPass: fieldsNeeded(set), env: { SV_PASSWORD: PASSWORD } });
    const { plan } = evaluate(set, snapshot, emptyState(), snapshot.time);
    assert.deepEqual(
      plan.actions.map((a) => [a.policy, a.action, a.target.namespec, a.status]),
      [['hog-memory', 'restart', 'hog:hog', 'planned']],
    );
    assert.match(plan.actions[0]!.reason, /^rss \d+\.\d MiB > 50\.0 MiB \(cycle 1 of 1\)$/);
  });

  it('a wrong password: "authentication failed", exit 3, and the other policies are still evaluated', async () => {
    const file = join(work, 'wrong.yaml');
    await writeFile(file, `${supervisorsYaml(sv.unixUrl)}  - { name: me, kind: memory, match: { cmdline: "pg-check-marker" }, max_rss: 1 }\n`, { mode: 0o600 });
    const marker = (await import('node:child_process')).spawn('sleep', ['30'], { argv0: 'pg-check-marker' });
    try {
      const run = await runProcguard(['check', '-c', file, '--json'], { env: { PATH: process.env.PATH ?? '', SV_PASSWORD: 'wrong' } });
      assert.equal(run.code, 3, run.stderr);
      const plan = JSON.parse(run.stdout) as { errors: unknown[]; actions: Array<{ policy: string }> };
      assert.deepEqual(plan.errors, [{ source: 'supervisor:main', message: `authentication failed for supervisor "main" (user "${USERNAME}")` }]);
      assert.deepEqual(
        plan.actions.map((a) => a.policy),
        ['me'],
      );
    } finally {
      marker.kill();
    }
  });

  it('check --json against the live host: a plan valid against plan.schema.json, exit 1', async () => {
    const file = join(work, 'ok.yaml');
    await writeFile(file, supervisorsYaml(sv.httpUrl), { mode: 0o600 });
    const run = await runProcguard(['check', '--dry-run', '-c', file, '--json'], { env: { PATH: process.env.PATH ?? '', SV_PASSWORD: PASSWORD } });
    assert.equal(run.code, 1, run.stderr);
    const plan = JSON.parse(run.stdout) as unknown;
    const validate = dataValidator('plan.schema.json');
    assert.ok(validate(plan), JSON.stringify(validate.errors));
    const text = await runProcguard(['check', '-c', file, '--verbose'], { env: { PATH: process.env.PATH ?? '', SV_PASSWORD: PASSWORD } });
    assert.match(text.stdout, /supervisor main: 4 programs/);
    assert.match(text.stdout, /restart\s+hog:hog \(pid \d+\)\s+hog-memory\s+planned\s+rss \d+\.\d MiB > 50\.0 MiB/);
    assert.match(text.stdout, /ok\s+web:w1 \(pid \d+\)\s+rss [\d.]+ (KiB|MiB) ≤ 50\.0 MiB/);
  });

  it('with no supervisor configured, the one of SUPERVISOR_SERVER_URL (as memmon)', async () => {
    const set = policySetOf('policies: [{ name: any, kind: memory, match: { program: "*" }, max_rss: 50MB }]');
    const snapshot = await collectSnapshot(set, { secondPass: fieldsNeeded(set), env: { SUPERVISOR_SERVER_URL: sv.unixUrl, SUPERVISOR_USERNAME: USERNAME, SUPERVISOR_PASSWORD: PASSWORD } });
    assert.equal(snapshot.errors, undefined);
    assert.deepEqual(new Set(snapshot.processes.filter((p) => p.supervisor).map((p) => p.supervisor!.server)), new Set(['default']));
  });

  it('honest errors: no socket, a closed port, a fault by name, the wrong path', async () => {
    const missing = join(work, 'nope.sock');
    const noSocket = new SupervisorClient({ name: 'main', url: `unix://${missing}`, endpoint: { transport: 'unix', socketPath: missing }, timeout: 2 });
    await assert.rejects(noSocket.call('supervisor.getState'), { message: `cannot reach supervisor "main" at unix://${missing}: ENOENT` });
    const closed = new SupervisorClient({ name: 'b', url: 'http://127.0.0.1:1', endpoint: { transport: 'http', url: 'http://127.0.0.1:1/RPC2' }, timeout: 2 });
    await assert.rejects(closed.call('supervisor.getState'), { message: 'cannot reach supervisor "b" at http://127.0.0.1:1: ECONNREFUSED' });
    await assert.rejects(sv.client.call('supervisor.stopProcess', ['web:nope']), { message: 'supervisor "main": supervisor.stopProcess failed: BAD_NAME: web:nope', faultName: 'BAD_NAME' });
    const root = new SupervisorClient({ name: 'main', url: sv.httpUrl, endpoint: { transport: 'http', url: `${sv.httpUrl}/` }, username: USERNAME, password: PASSWORD, timeout: 2 });
    await assert.rejects(root.call('supervisor.getState'), /sent a reply that is not XML-RPC .*is the URL right\?/);
  });
});
