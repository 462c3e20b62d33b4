import assert from 'node:assert/strict';
import type { LoadPolicy } from '../../src/policy/kinds/load.js';
import type { MemoryPolicy } from '../../src/policy/kinds/memory.js';
import type { OomPolicy } from '../../src/policy/kinds/oom.js';
import type { RuntimePolicy } from '../../src/policy/kinds/runtime.js';
import { oomAdjToScoreAdj } from '../../src/policy/model.js';
import { validateTexts, yaml } from '../helpers/policy-files.js';

/** A configured supervisor, so that a policy matching programs draws no warning about there being none. */
const SUPERVISOR = { 'supervisors.yaml': 'supervisors:\n  main:\n    url: unix:///run/supervisor.sock\n' };

function policySetOf(text: string) {
  const result = validateTexts({ 'a.yaml': text, ...(text.includes('supervisors:') ? {} : SUPERVISOR) });
  assert.deepEqual(result.diagnostics, []);
  assert.ok(result.policySet);
  return result.policySet;
}

describe('normalized model', () => {
  it('applies the documented defaults to a memory policy', () => {
    const set = policySetOf('policies:\n  - { name: m, kind: memory, match: { program: "*" }, max_rss: 200MB }\n');
    const policy = set.policies[0] as MemoryPolicy;
    assert.deepEqual([policy.measure, policy.limit], ['rss', { bytes: 200 * 1024 * 1024 }]);
    assert.equal(policy.mode, 'enforce');
    assert.equal(policy.scope, 'process');
    assert.equal(policy.for, 1);
    assert.deepEqual(policy.action, { type: 'restart' });
    assert.equal(policy.grace, 10);
    assert.equal(policy.maxActions, undefined);
    assert.deepEqual(policy.notify, []);
    assert.deepEqual(policy.match, { program: ['*'] });
    assert.deepEqual(policy.source, { file: 'a.yaml', line: 2, column: 5 });
  });

  it('keeps given values in bytes and seconds', () => {
    const set = policySetOf(yaml`
      notifiers:
        ops: { mail: { to: ops@example.com } }
      policies:
        - name: m
          kind: memory
          mode: audit
          match: { program: "web:*" }
          max_rss: 1048576
          scope: tree
          for: 3
          action: kill
          grace: 1m
          max_actions: { count: 5, within: 1h }
          notify: [{ to: ops, uptime_at_most: 2d }, { to: ops }]
    `);
    const policy = set.policies[0] as MemoryPolicy;
    assert.deepEqual(policy.limit, { bytes: 1048576 });
    assert.equal(policy.mode, 'audit');
    assert.equal(policy.scope, 'tree');
    assert.equal(policy.for, 3);
    assert.deepEqual(policy.action, { type: 'kill' });
    assert.equal(policy.grace, 60);
    assert.deepEqual(policy.maxActions, { count: 5, within: 3600 });
    assert.deepEqual(policy.notify, [{ to: 'ops', uptimeAtMost: 172800 }, { to: 'ops' }]);
  });

  it('strips SIG from signal actions', () => {
    const set = policySetOf('policies:\n  - { name: m, kind: memory, match: { program: a }, max_rss: 1GB, action: { signal: SIGHUP } }\n');
    assert.deepEqual((set.policies[0] as MemoryPolicy).action, { type: 'signal', signal: 'HUP' });
  });

  describe('oom_adj is converted as the kernel does', () => {
    const cases: Array<[number, number]> = [
      [-17, -1000],
      [-16, -941],
      [-8, -470],
      [-1, -58],
      [0, 0],
      [1, 58],
      [8, 470],
      [14, 823],
      [15, 1000],
    ];
    for (const [oomAdj, expected] of cases) {
      it(`oom_adj ${oomAdj} → oom_score_adj ${expected}`, () => {
        assert.equal(oomAdjToScoreAdj(oomAdj), expected);
        const set = policySetOf(`policies:\n  - { name: o, kind: oom, match: { name: sshd, user: root }, oom_adj: ${oomAdj} }\n`);
        assert.equal((set.policies[0] as OomPolicy).oomScoreAdj, expected);
      });
    }
    it('oom_score_adj is taken as written', () => {
      const set = policySetOf('policies:\n  - { name: o, kind: oom, match: { name: sshd, user: root }, oom_score_adj: -900 }\n');
      assert.equal((set.policies[0] as OomPolicy).oomScoreAdj, -900);
    });
  });

  it('load: resume_below defaults to pause_above / 2 and average to 1m (dmon)', () => {
    const set = policySetOf('policies:\n  - { name: l, kind: load, match: { cmdline: "^rsync " }, pause_above: 4.0 }\n');
    const policy = set.policies[0] as LoadPolicy;
    assert.equal(policy.pauseAbove, 4);
    assert.equal(policy.resumeBelow, 2);
    assert.equal(policy.average, '1m');
    assert.equal(policy.maxPause, undefined);
    assert.equal(policy.match.cmdline?.[0]?.test('rsync -a /src /dst'), true);
  });

  it('runtime: max_runtime in seconds, restart by default', () => {
    const set = policySetOf('policies:\n  - { name: r, kind: runtime, match: { group: batch }, max_runtime: 6h }\n');
    const policy = set.policies[0] as RuntimePolicy;
    assert.equal(policy.maxRuntime, 21600);
    assert.deepEqual(policy.action, { type: 'restart' });
  });

  it('compiles match patterns and turns numeric users into uids', () => {
    const set = policySetOf('policies:\n  - { name: o, kind: oom, match: { name: [sshd, "/^nginx/"], user: ["33", www, 0], exclude: { cmdline: "--debug" } }, oom_score_adj: 0 }\n');
    const match = set.policies[0]?.match;
    assert.deepEqual(match?.name?.[0], { exact: 'sshd' });
    const pattern = match?.name?.[1];
    assert.ok(pattern && 'regex' in pattern && pattern.regex.test('nginx: worker'));
    assert.deepEqual(match?.user, [33, 'www', 0]);
    assert.equal(match?.exclude?.cmdline?.[0]?.test('app --debug'), true);
  });

  it('settings, supervisors and notifiers with their defaults', () => {
    const set = policySetOf(yaml`
      supervisors:
        main: { url: "unix:///var/run/supervisor.sock" }
        batch: { url: "http://127.0.0.1:9001", username: admin, password_env: SUPERVISOR_PASSWORD, timeout: 5s }
        web: { url: "http://10.0.0.1:9001/RPC2", password_file: /etc/procguard/secret }
      notifiers:
        ops: { mail: { to: ops@example.com } }
        team: { mail: { to: [a@example.com, b@example.com], from: pg@example.com, smtp: { url: "smtp://mail:587", username: pg, password_env: SMTP_PW } } }
        pager: { exec: [/usr/local/bin/page-oncall, --json], timeout: 20s }
      policies:
        - { name: m, kind: memory, match: { program: "*" }, max_rss: 1GB, notify: [{ to: ops }, { to: team }, { to: pager }] }
    `);
    assert.deepEqual(set.settings, { interval: 60, stateDir: '/var/lib/procguard' });
    const [main, batch, web] = set.supervisors;
    assert.deepEqual(main?.endpoint, { transport: 'unix', socketPath: '/var/run/supervisor.sock' });
    assert.equal(main?.timeout, 10);
    assert.deepEqual(batch?.endpoint, { transport: 'http', url: 'http://127.0.0.1:9001/RPC2' });
    assert.deepEqual(batch?.password, { env: 'SUPERVISOR_PASSWORD' });
    assert.equal(batch?.username, 'admin');
    assert.equal(batch?.timeout, 5);
    assert.deepEqual(web?.endpoint, { transport: 'http', url: 'http://10.0.0.1:9001/RPC2' });
    assert.deepEqual(web?.password, { file: '/etc/procguard/secret' });
    const [ops, team, pager] = set.notifiers;
    assert.deepEqual(ops, {
      type: 'mail',
      name: 'ops',
      to: ['ops@example.com'],
      transport: { type: 'sendmail', command: '/usr/sbin/sendmail -t -i', argv: ['/usr/sbin/sendmail', '-t', '-i'] },
      timeout: 30,
      source: { file: 'a.yaml', line: 6, column: 3 },
    });
    assert.deepEqual(team?.type === 'mail' && team.transport, { type: 'smtp', url: 'smtp://mail:587', username: 'pg', password: { env: 'SMTP_PW' } });
    assert.deepEqual(pager?.type === 'exec' && [pager.argv, pager.timeout], [['/usr/local/bin/page-oncall', '--json'], 20]);
  });

  it('merges files in order: policies keep file order, settings come from the file that sets them', () => {
    const result = validateTexts({
      '10-a.yaml': 'settings: { name: web }\npolicies:\n  - { name: a, kind: oom, match: { name: a }, oom_score_adj: 1 }\n',
      '20-b.yaml': 'settings: { interval: 30s }\npolicies:\n  - { name: b, kind: oom, match: { name: b }, oom_score_adj: 2 }\n  - { name: c, kind: oom, match: { name: c }, oom_score_adj: 3 }\n',
    });
    assert.deepEqual(result.diagnostics, []);
    const set = result.policySet;
    assert.deepEqual(set?.settings, { name: 'web', interval: 30, stateDir: '/var/lib/procguard' });
    assert.deepEqual(
      set?.policies.map((p) => [p.name, p.order, p.source.file]),
      [
        ['a', 0, '10-a.yaml'],
        ['b', 1, '20-b.yaml'],
        ['c', 2, '20-b.yaml'],
      ],
    );
    assert.deepEqual(set?.files, ['10-a.yaml', '20-b.yaml']);
  });

  it('YAML anchors and merge keys can share common keys between policies', () => {
    const set = policySetOf(yaml`
      policies:
        - &web { name: web-a, kind: memory, match: { program: "web:*" }, max_rss: 200MB, for: 2 }
        - { <<: *web, name: web-b, max_rss: 300MB }
    `);
    assert.deepEqual(
      set.policies.map((p) => [p.name, (p as MemoryPolicy).limit, (p as MemoryPolicy).for]),
      [
        ['web-a', { bytes: 200 * 1024 * 1024 }, 2],
        ['web-b', { bytes: 300 * 1024 * 1024 }, 2],
      ],
    );
  });
});
