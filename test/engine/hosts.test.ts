// `hosts:` selectors as tables: which policies act on which host, from the host's name and its
// labels (inventory and settings.labels), and the validate warnings against the inventory.
import assert from 'node:assert/strict';
import { evaluate } from '../../src/engine/evaluate.js';
import { emptyState } from '../../src/data/types.js';
import { globMatches, hostIdentity, selectsHost } from '../../src/policy/hosts.js';
import { diagnosticLines } from '../helpers/policy-files.js';
import { actionLines, MiB, policySetOf, program, snapshot, T0 } from '../helpers/snapshots.js';

const INVENTORY = `
inventory:
  web1: { labels: { role: web, env: prod } }
  web7: { labels: { role: web, env: staging } }
  db1: { labels: { role: db, env: prod } }
`;

function policyWith(hosts: string | undefined, extra = ''): string {
  return `${INVENTORY}${extra}
policies:
  - { name: cap, kind: memory, match: { program: "*" }, max_rss: 10MB${hosts ? `, hosts: ${hosts}` : ''} }
`;
}

interface Case {
  name: string;
  hosts?: string;
  /** Another file's text added to the set (settings.labels). */
  extra?: string;
  /** Host name → does the policy act there. */
  acts: Record<string, boolean>;
}

const cases: Case[] = [
  { name: 'no selector: every host', acts: { web1: true, db1: true, 'other-host': true } },
  { name: 'a name glob with *', hosts: '{ names: ["web*"] }', acts: { web1: true, web7: true, db1: false } },
  { name: 'a name glob with ? and a set', hosts: '{ names: ["web[17]", "d?1"] }', acts: { web1: true, web7: true, db1: true, web2: false } },
  { name: 'a glob matches the short name of a fully qualified host, case-insensitively', hosts: '{ names: ["WEB1"] }', acts: { 'web1.example.com': true, web1: true, web10: false } },
  { name: 'labels from the inventory: every label must hold', hosts: '{ labels: { role: web, env: prod } }', acts: { web1: true, web7: false, db1: false } },
  { name: 'names and labels: both must hold', hosts: '{ names: ["web*"], labels: { env: staging } }', acts: { web1: false, web7: true, db1: false } },
  { name: 'a host missing from the inventory has no labels', hosts: '{ labels: { role: web } }', acts: { web1: true, web9: false } },
  {
    name: 'settings.labels (host-local) take precedence over the inventory',
    hosts: '{ labels: { env: prod } }',
    extra: 'settings: { labels: { env: staging } }\n',
    acts: { web1: false, web7: false, db1: false },
  },
  { name: 'settings.labels alone label a host missing from the inventory', hosts: '{ labels: { role: db } }', extra: 'settings: { labels: { role: db } }\n', acts: { web9: true, db1: true } },
  { name: 'a label no host carries selects no host', hosts: '{ labels: { rol: web } }', acts: { web1: false, web7: false, db1: false } },
];

describe('hosts: selectors in the engine', () => {
  for (const c of cases) {
    it(c.name, () => {
      const set = policySetOf(policyWith(c.hosts, c.extra));
      for (const [host, acts] of Object.entries(c.acts)) {
        const evaluation = evaluate(set, snapshot([program(11, 'web:w1', { rss: 20 * MiB })], { host }), emptyState(), T0);
        assert.deepEqual(actionLines(evaluation.plan).length, acts ? 1 : 0, `on ${host}`);
        assert.deepEqual(evaluation.inactive ?? [], acts ? [] : ['cap'], `on ${host}`);
        if (!acts) assert.deepEqual(evaluation.observations, [], `on ${host}: a policy not for the host looks at nothing`);
      }
    });
  }

  it('the host name and labels given to the engine are what selectors see, whatever the snapshot says', () => {
    const set = policySetOf(policyWith('{ labels: { role: db } }'));
    const snap = snapshot([program(11, 'web:w1', { rss: 20 * MiB })], { host: 'web1' });
    assert.equal(actionLines(evaluate(set, snap, emptyState(), T0).plan).length, 0);
    assert.equal(actionLines(evaluate(set, snap, emptyState(), T0, { host: { name: 'web1', labels: { role: 'db' } } }).plan).length, 1);
  });

  it('a notifier not for this host gets no notification; one for it does', () => {
    const set = policySetOf(`${INVENTORY}
notifiers:
  staging: { mail: { to: [staging@example.com] }, hosts: { labels: { env: staging } } }
  prod: { mail: { to: [ops@example.com] }, hosts: { labels: { env: prod } } }
policies:
  - { name: cap, kind: memory, match: { program: "*" }, max_rss: 10MB, notify: [{ to: staging }, { to: prod }] }
`);
    const sent = (host: string): string[] => evaluate(set, snapshot([program(11, 'web:w1', { rss: 20 * MiB })], { host }), emptyState(), T0).plan.notifications.map((n) => n.to);
    assert.deepEqual(sent('web1'), ['prod']);
    assert.deepEqual(sent('web7'), ['staging']);
  });

  it('a tree paused by a policy that is not for this host is resumed, and the plan says why', () => {
    const set = policySetOf(`${INVENTORY}
policies:
  - { name: backoff, kind: load, match: { name: rsync }, pause_above: 4, hosts: { names: [db1] } }
`);
    const rsync = program(21, 'backup:rsync', { name: 'rsync' });
    const state = {
      ...emptyState(),
      paused: [{ policy: 'backoff', root: { pid: 21, start_time: rsync.start_time!, name: 'rsync' }, processes: [{ pid: 21, start_time: rsync.start_time! }], since: T0 - 60 }],
    };
    const plan = evaluate(set, snapshot([rsync], { host: 'web1' }), state, T0).plan;
    assert.deepEqual(
      plan.actions.map((a) => `${a.action} ${a.target.pid}: ${a.reason}`),
      ['resume 21: policy "backoff" is not for this host'],
    );
  });

  it('globs: * ? [set] [!set], anchored, and regex characters taken literally', () => {
    const table: Array<[string, string, boolean]> = [
      ['web*', 'web12', true],
      ['web*', 'aweb1', false],
      ['api-?', 'api-1', true],
      ['api-?', 'api-12', false],
      ['db[0-3]', 'db2', true],
      ['db[!0-3]', 'db2', false],
      ['db[!0-3]', 'db7', true],
      ['a.b', 'aXb', false],
      ['a+b', 'a+b', true],
      ['[', '[', true],
    ];
    for (const [glob, name, expected] of table) assert.equal(globMatches(glob, name), expected, `${glob} on ${name}`);
  });

  it("a host's labels: the inventory's, then settings.labels over them", () => {
    const set = policySetOf(`${INVENTORY}settings: { labels: { env: dev, zone: a } }\npolicies: []\n`);
    assert.deepEqual(hostIdentity(set, 'web1'), { name: 'web1', labels: { role: 'web', env: 'dev', zone: 'a' } });
    assert.equal(selectsHost({ names: ['db*'], labels: { zone: 'a' } }, hostIdentity(set, 'db1')), true);
  });
});

describe('validate: hosts selectors against the inventory', () => {
  const table: Array<{ name: string; text: string; lines: string[] }> = [
    {
      name: 'an unknown label key, with did-you-mean from the inventory',
      text: policyWith('{ labels: { rol: web } }'),
      lines: ['policies.yaml:8:91: warning: No host of the inventory has the label "rol" that the hosts of policy "cap" ask for; did you mean "role"? (labels in the inventory: env, role)'],
    },
    {
      name: 'a selector that selects no host of the inventory',
      text: policyWith('{ names: ["cache*"] }'),
      lines: ['policies.yaml:8:72: warning: The hosts of policy "cap" select no host of the inventory (web1, web7, db1), so it is for no host'],
    },
    { name: 'a selector that selects some host: nothing to say', text: policyWith('{ labels: { role: db } }'), lines: [] },
    {
      name: 'without an inventory nothing is known about the fleet',
      text: 'policies: [{ name: cap, kind: memory, match: { program: "*" }, max_rss: 10MB, hosts: { labels: { rol: x } } }]\n',
      lines: [],
    },
    {
      name: 'a notifier selecting no host is warned about too',
      text: `${INVENTORY}notifiers:\n  n: { mail: { to: [a@example.com] }, hosts: { labels: { env: dev } } }\npolicies: [{ name: cap, kind: memory, match: { program: "*" }, max_rss: 10MB, notify: [{ to: n }] }]\n`,
      lines: ['policies.yaml:7:39: warning: The hosts of notifier "n" select no host of the inventory (web1, web7, db1), so it is for no host'],
    },
    {
      name: 'a label key of a wrong form is a schema error',
      text: policyWith('{ labels: { "-x": web } }'),
      lines: ['policies.yaml:8:91: error: Invalid label key "-x" in "hosts.labels" of policy "cap": use letters, digits, ".", "_", "/" and "-", starting with a letter or digit'],
    },
  ];
  for (const c of table) {
    it(c.name, () => {
      assert.deepEqual(
        diagnosticLines({ 'policies.yaml': c.text }).filter((l) => !l.includes('no-supervisor') && !l.includes('no supervisors are configured')),
        c.lines,
      );
    });
  }
});
