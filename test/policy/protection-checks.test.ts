// validate warns about policies a local user could turn to their advantage: protection or a
// kill/stop aimed by a name or command line alone, and supervisord protected while the programs
// it starts (and procguard restarts) inherit that protection. Warnings, not errors.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { diagnosticLines, validateTexts, yaml } from '../helpers/policy-files.js';

const NAME_ONLY = (policy: string, power: string, who = 'a process called sshd', keys = '"name"'): string =>
  `warning: The match of policy "${policy}" uses only ${keys}, which any process chooses for itself: any local user can start ${who} and have procguard ${power}. Add user: (root for a system daemon), exe:, program:, group: or pidfile: to the match`;

const SUPERVISORD = (policy: string, value: number): string =>
  `warning: Policy "${policy}" protects supervisord (oom_score_adj ${value}), and every program supervisord starts inherits that value, including one procguard restarts for leaking memory; no oom policy covers the supervised programs. Add one, e.g. { kind: oom, match: { program: "*" }, oom_score_adj: 0 }`;

/** A configured supervisor keeps the warning about matching programs without one out of these cases. */
const SUPERVISOR = { 'supervisors.yaml': 'supervisors:\n  main:\n    url: unix:///run/supervisor.sock\n' };

const CASES: Array<{ name: string; policies: string; expected: string[] }> = [
  {
    name: 'oom -1000 by name only',
    policies: '{ name: a, kind: oom, match: { name: sshd }, oom_score_adj: -1000 }',
    expected: [NAME_ONLY('a', 'protect it from the OOM killer (oom_score_adj -1000)')],
  },
  {
    name: 'oom_adj -17 by name only (the legacy scale)',
    policies: '{ name: a, kind: oom, match: { name: sshd }, oom_adj: -17 }',
    expected: [NAME_ONLY('a', 'protect it from the OOM killer (oom_score_adj -1000)')],
  },
  {
    name: 'oom by name and command line, with an exclude',
    policies: '{ name: a, kind: oom, match: { name: "/^ssh/", cmdline: "-D", exclude: { user: nobody } }, oom_score_adj: -500 }',
    expected: [NAME_ONLY('a', 'protect it from the OOM killer (oom_score_adj -500)', 'a process with a matching command line', '"name" and "cmdline"')],
  },
  {
    name: 'kill by command line only',
    policies: '{ name: a, kind: runtime, match: { cmdline: "^rsync " }, max_runtime: 6h, action: kill }',
    expected: [NAME_ONLY('a', 'kill it', 'a process with a matching command line', '"cmdline"')],
  },
  { name: 'stop by name only', policies: '{ name: a, kind: memory, match: { name: worker }, max_rss: 1GB, action: stop }', expected: [NAME_ONLY('a', 'stop it', 'a process called worker')] },
  { name: 'oom protection with user', policies: '{ name: a, kind: oom, match: { name: sshd, user: root }, oom_score_adj: -1000 }', expected: [] },
  { name: 'oom protection with exe', policies: '{ name: a, kind: oom, match: { exe: /usr/sbin/sshd }, oom_score_adj: -1000 }', expected: [] },
  { name: 'oom protection with pidfile', policies: '{ name: a, kind: oom, match: { name: sshd, pidfile: /run/sshd.pid }, oom_score_adj: -1000 }', expected: [] },
  { name: 'kill of a program', policies: '{ name: a, kind: memory, match: { program: "web:*" }, max_rss: 1GB, action: kill }', expected: [] },
  { name: 'raising oom_score_adj by name (makes it a likelier victim, not a safer one)', policies: '{ name: a, kind: oom, match: { name: chrome }, oom_score_adj: 500 }', expected: [] },
  { name: 'restart by name (default action; a supervisord program only)', policies: '{ name: a, kind: memory, match: { name: python }, max_rss: 1GB }', expected: [] },
  { name: 'pause by name', policies: '{ name: a, kind: load, match: { name: rsync }, pause_above: 4 }', expected: [] },
  {
    name: 'supervisord protected, its programs not covered',
    policies: '{ name: s, kind: oom, match: { name: supervisord, user: root }, oom_score_adj: -1000 }',
    expected: [SUPERVISORD('s', -1000)],
  },
  {
    name: 'supervisord protected by pidfile, its programs not covered',
    policies: '{ name: s, kind: oom, match: { pidfile: /run/supervisord.pid }, oom_score_adj: -800 }',
    expected: [SUPERVISORD('s', -800)],
  },
  {
    name: 'supervisord protected by command line, its programs covered by program "*"',
    policies: '{ name: s, kind: oom, match: { user: root, cmdline: "/usr/bin/supervisord" }, oom_score_adj: -1000 }\n  - { name: d, kind: oom, match: { program: "*" }, oom_score_adj: 0 }',
    expected: [],
  },
  {
    name: 'supervisord protected, its programs covered by a group',
    policies: '{ name: s, kind: oom, match: { user: root, name: supervisord }, oom_score_adj: -1000 }\n  - { name: d, kind: oom, match: { group: web }, oom_score_adj: 0 }',
    expected: [],
  },
  {
    name: 'a supervised program named supervisord is a program, not supervisord',
    policies: '{ name: s, kind: oom, match: { program: "supervisord*" }, oom_score_adj: -1000 }',
    expected: [],
  },
  {
    name: 'a memory policy on program "*" does not cover the oom values of programs',
    policies: '{ name: s, kind: oom, match: { user: root, name: supervisord }, oom_score_adj: -1000 }\n  - { name: m, kind: memory, match: { program: "*" }, max_rss: 1GB }',
    expected: [SUPERVISORD('s', -1000)],
  },
];

describe('validate: protection a local user could aim', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const lines = diagnosticLines({ 'p.yaml': `policies:\n  - ${c.policies}\n`, ...SUPERVISOR });
      assert.deepEqual(
        lines.map((line) => line.replace(/^p\.yaml:\d+:\d+: /, '')),
        c.expected,
      );
    });
  }

  it('these are warnings: the set is still valid', () => {
    const result = validateTexts({
      'p.yaml': yaml`
      policies:
        - { name: a, kind: oom, match: { name: sshd }, oom_score_adj: -1000 }
    `,
    });
    assert.equal(result.diagnostics[0]?.severity, 'warning');
    assert.equal(result.diagnostics[0]?.code, 'unsafe-match');
    assert.ok(result.policySet);
  });

  it('the shipped policies draw no warning of these', async () => {
    const files = Object.fromEntries(
      await Promise.all(['oom-protect.yaml', 'memory-audit.yaml'].map(async (name) => [name, await readFile(new URL(`../../policies/${name}`, import.meta.url), 'utf8')])),
    );
    assert.deepEqual(diagnosticLines({ ...files, ...SUPERVISOR }), []);
  });

  it('the policies as shipped before (name: sshd, name: supervisord) draw both warnings', () => {
    const lines = diagnosticLines({
      'p.yaml': yaml`
      policies:
        - name: oom-protect-sshd
          kind: oom
          match:
            name: sshd
          oom_score_adj: -1000
        - name: oom-protect-supervisord
          kind: oom
          match:
            name: supervisord
          oom_score_adj: -1000
    `,
    });
    assert.deepEqual(lines, [
      `p.yaml:4:5: ${NAME_ONLY('oom-protect-sshd', 'protect it from the OOM killer (oom_score_adj -1000)')}`,
      `p.yaml:9:5: ${SUPERVISORD('oom-protect-supervisord', -1000)}`,
      `p.yaml:9:5: ${NAME_ONLY('oom-protect-supervisord', 'protect it from the OOM killer (oom_score_adj -1000)', 'a process called supervisord')}`,
    ]);
  });
});
