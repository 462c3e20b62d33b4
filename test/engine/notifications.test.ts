// Notifications: the uptime gate, memmon's subject and body, templates, header safety, the
// flapping guard's one notification.
import assert from 'node:assert/strict';
import { evaluate } from '../../src/engine/evaluate.js';
import { asctime } from '../../src/engine/notify.js';
import { cachedTemplates, headerSafe, renderNotification, TEMPLATE_CACHE_SIZE } from '../../src/policy/notification-text.js';
import { emptyState } from '../../src/data/types.js';
import { yaml } from '../helpers/policy-files.js';
import { cycles, MiB, policySetOf, proc, program, snapshot, T0 } from '../helpers/snapshots.js';

process.env.TZ = 'UTC';

const memory = (notify: string, settings = '') => yaml`
  ${settings}
  notifiers:
    ops: { mail: { to: ops@example.com } }
  policies:
    - { name: web, kind: memory, match: { program: "*" }, max_rss: 10MB, notify: [${notify}] }
`;

describe('engine: notifications', () => {
  const cases = [
    { limit: '101s', uptime: 100, mails: 1 },
    { limit: '100s', uptime: 100, mails: 1 },
    { limit: '99s', uptime: 100, mails: 0 },
  ];
  for (const c of cases) {
    it(`uptime_at_most ${c.limit} with uptime ${c.uptime}s: ${c.mails ? 'mails' : 'no mail'}`, () => {
      const set = policySetOf(memory(`{ to: ops, uptime_at_most: ${c.limit} }`));
      const { plan } = evaluate(set, snapshot([program(11, 'foo', { rss: 20 * MiB })]), emptyState(), T0);
      assert.equal(plan.notifications.length, c.mails);
    });
  }

  it("a memory restart's default subject and body are memmon's", () => {
    const fires = policySetOf(memory('{ to: ops }').replace('10MB', '0'));
    const [notification] = evaluate(fires, snapshot([program(11, 'foo', { rss: 2264064 })]), emptyState(), T0).plan.notifications;
    assert.deepEqual(
      { subject: notification?.subject, body: notification?.body, to: notification?.to, status: notification?.status },
      {
        subject: 'memmon: process foo:foo restarted',
        body: `memmon.py restarted the process named foo:foo at ${asctime(T0)} because it was consuming too much memory (2264064 bytes RSS)`,
        to: 'ops',
        status: 'planned',
      },
    );
    assert.equal(asctime(T0), 'Sat Nov 21 13:10:02 2026');
  });

  it('settings.name goes into the subject as memmon -n does', () => {
    const set = policySetOf(memory('{ to: ops }', 'settings: { name: thinko }').replace('10MB', '0'));
    const { plan } = evaluate(set, snapshot([program(11, 'baz:baz_01')]), emptyState(), T0);
    assert.equal(plan.notifications[0]?.subject, 'memmon [thinko]: process baz:baz_01 restarted');
  });

  it('renders templates from the allow-listed fields; a name with CR/LF shows them escaped and forges no header', () => {
    const set = policySetOf(yaml`
      settings: { name: edge }
      notifiers:
        ops:
          mail:
            to: ops@example.com
            subject: "{{name}}/{{host}}: {{action}} {{target.name}} ({{policy}}, {{kind}}, {{mode}}, {{status}})"
            body: "{{reason}} rss={{rss}} limit={{limit}} uptime={{uptime}} cmd={{target.cmdline}} user={{target.user}}"
      policies:
        - { name: big, kind: memory, match: { name: "/^evil/" }, max_rss: 1MB, action: kill, notify: [{ to: ops }] }
    `);
    const evil = proc(66, 'evil\r\nBcc: x@y', { rss: 2 * MiB, cmdline: 'evil <b>&', user: 'www' });
    const { plan } = evaluate(set, snapshot([evil]), emptyState(), T0);
    assert.equal(plan.notifications[0]?.subject, 'edge/web1: kill evil\\r\\nBcc: x@y (big, memory, enforce, planned)');
    assert.equal(plan.notifications[0]?.body, 'rss 2.0 MiB > 1.0 MiB (cycle 1 of 1) rss=2097152 limit=1048576 uptime=100 cmd=evil <b>& user=www');
  });

  it('headerSafe removes every control character, bidirectional override and zero-width character', () => {
    assert.equal(headerSafe('a\r\nb\u0000c\u2028d\te\u0085f\u202eg\u200bh\u2066i\ufeff'), 'a b c d e f g h i');
  });

  it('host text in a body is shown escaped: a name cannot add lines or send escape sequences', () => {
    const set = policySetOf(yaml`
      notifiers:
        ops: { mail: { to: ops@example.com, body: "name={{target.name}} cmd={{target.cmdline}} end" } }
      policies:
        - { name: big, kind: memory, match: { name: "/^w/" }, max_rss: 1MB, action: kill, notify: [{ to: ops }] }
    `);
    const odd = proc(66, 'w\nSubject: x', { rss: 2 * MiB, cmdline: 'w \u001b[2J\u202eexe.txt' });
    const { plan } = evaluate(set, snapshot([odd]), emptyState(), T0);
    assert.equal(plan.notifications[0]?.body, 'name=w\\nSubject: x cmd=w \\u001b[2J\\u202eexe.txt end');
  });

  it('the flapping guard notifies once when it starts skipping, ignoring the uptime gate', () => {
    const set = policySetOf(yaml`
      notifiers:
        ops: { mail: { to: ops@example.com } }
      policies:
        - name: web
          kind: memory
          match: { program: "*" }
          max_rss: 10MB
          max_actions: { count: 1, within: 1h }
          notify: [{ to: ops, uptime_at_most: 1s }]
    `);
    const results = cycles(
      set,
      [1, 2, 3].map(() => snapshot([program(11, 'web:w1', { rss: 20 * MiB })])),
    );
    assert.deepEqual(
      results.map((r) => r.plan.notifications.map((n) => n.subject)),
      [[], ['procguard: not acting on web:w1: flapping guard: 1 restart actions within 1h (max_actions 1)'], []],
    );
  });

  it('skipped actions (audit mode) send nothing', () => {
    const set = policySetOf(memory('{ to: ops }').replace('kind: memory,', 'kind: memory, mode: audit,'));
    const { plan } = evaluate(set, snapshot([program(11, 'foo', { rss: 20 * MiB })]), emptyState(), T0);
    assert.equal(plan.actions[0]?.status, 'skipped');
    assert.deepEqual(plan.notifications, []);
  });

  it('writes mail dates in the time zone it is given, not the one of the process', () => {
    assert.equal(asctime(T0, 'UTC'), 'Sat Nov 21 13:10:02 2026');
    assert.equal(asctime(T0, 'Europe/Paris'), 'Sat Nov 21 14:10:02 2026');
    assert.equal(asctime(T0, 'Pacific/Kiritimati'), 'Sun Nov 22 03:10:02 2026');
    const set = policySetOf(memory('{ to: ops }'));
    const host = snapshot([program(11, 'foo', { rss: 20 * MiB })]);
    const at = (timeZone: string): string => evaluate(set, host, emptyState(), T0, { timeZone }).plan.notifications[0]!.body;
    assert.match(at('UTC'), / at Sat Nov 21 13:10:02 2026 /);
    assert.match(at('America/New_York'), / at Sat Nov 21 08:10:02 2026 /);
  });

  it(`keeps at most ${TEMPLATE_CACHE_SIZE} compiled templates, however many a long-running daemon sees`, () => {
    const set = policySetOf(memory('{ to: ops }'));
    const notifier = set.notifiers[0]!;
    const event = evaluate(set, snapshot([program(11, 'foo', { rss: 20 * MiB })]), emptyState(), T0).plan.notifications[0]!.event!;
    for (let n = 0; n < TEMPLATE_CACHE_SIZE * 3; n += 1) {
      const custom = { ...notifier, subject: `#${n} {{target.namespec}}`, body: `body ${n}: {{policy}}` } as typeof notifier;
      assert.deepEqual(renderNotification(custom, event), { subject: `#${n} foo:foo`, body: `body ${n}: web` });
      assert.ok(cachedTemplates() <= TEMPLATE_CACHE_SIZE, `${cachedTemplates()} templates cached after ${n + 1}`);
    }
    assert.equal(cachedTemplates(), TEMPLATE_CACHE_SIZE);
  });
});
