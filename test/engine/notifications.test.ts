// Notifications: the uptime gate, procguard's own subject and body, memmon's as templates, templates, header safety, the
// flapping guard's one notification.
import assert from 'node:assert/strict';
import { evaluate } from '../../src/engine/evaluate.js';
import { asctime } from '../../src/engine/notify.js';
import { cachedTemplates, headerSafe, renderNotification, TEMPLATE_CACHE_SIZE } from '../../src/policy/notification-text.js';
import { loadHandlebars } from '../../src/shared/handlebars.js';
import { emptyState } from '../../src/data/types.js';
import { MEMMON_BODY, MEMMON_SUBJECT } from '../../src/import/import.js';
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
  // As loading a policy set does before anything checks or renders a template.
  before(() => loadHandlebars());

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

  it("the default subject and body are procguard's own: policy, kind, what was seen against the limit, the action, host, program, supervisor", () => {
    const fires = policySetOf(memory('{ to: ops }'));
    const [notification] = evaluate(fires, snapshot([program(11, 'foo', { rss: 20 * MiB })]), emptyState(), T0).plan.notifications;
    assert.equal(notification?.subject, 'procguard: web: restart foo:foo on web1 (memory 20.0 MiB, over the limit of 10.0 MiB)');
    assert.equal(
      notification?.body,
      [
        `procguard will restart foo:foo on web1, at ${asctime(T0)}.`,
        '',
        'policy:     web (memory, enforce)',
        'seen:       memory 20.0 MiB, over the limit of 10.0 MiB',
        'reason:     rss 20.0 MiB > 10.0 MiB (cycle 1 of 1)',
        'action:     restart, planned, not carried out yet',
        'host:       web1',
        'program:    foo:foo',
        'supervisor: main',
        'process:    pid 11, python, up 1m40s',
        '',
      ].join('\n'),
    );
    assert.doesNotMatch(`${notification?.subject} ${notification?.body}`, /memmon/);
    assert.equal(asctime(T0), 'Sat Nov 21 13:10:02 2026');
  });

  it('a carried-out action is told with its result; a failed one says FAILED and what went wrong', () => {
    const set = policySetOf(memory('{ to: ops }', 'settings: { name: thinko }'));
    const event = evaluate(set, snapshot([program(11, 'baz:baz_01', { rss: 20 * MiB })]), emptyState(), T0).plan.notifications[0]!.event!;
    const notifier = set.notifiers[0]!;
    const done = renderNotification(notifier, { ...event, status: 'done', result: 'was pid 11, now pid 12, RUNNING' });
    assert.equal(done.subject, 'procguard [thinko]: web: restart baz:baz_01 on web1 (memory 20.0 MiB, over the limit of 10.0 MiB)');
    assert.match(done.body, /^procguard restarted baz:baz_01 on web1, at Sat Nov 21 13:10:02 2026\.\n/);
    assert.match(done.body, /\naction: {5}restart, done: was pid 11, now pid 12, RUNNING\n/);
    const error = 'supervisor "main": supervisor.startProcess failed: SPAWN_ERROR: baz:baz_01';
    const failed = renderNotification(notifier, { ...event, status: 'failed', reason: `${event.reason}; failed: ${error}`, result: error });
    assert.equal(failed.subject, 'procguard [thinko]: web: restart baz:baz_01 FAILED on web1 (memory 20.0 MiB, over the limit of 10.0 MiB)');
    assert.match(failed.body, /^procguard could not restart baz:baz_01 on web1, at /);
    assert.match(failed.body, /\nreason: {5}rss 20\.0 MiB > 10\.0 MiB \(cycle 1 of 1\)\n/);
    assert.ok(failed.body.includes(`\naction:     restart, FAILED: ${error}\n`), failed.body);
  });

  it('each kind says what it saw in its own units', () => {
    const set = policySetOf(memory('{ to: ops }'));
    const event = evaluate(set, snapshot([program(11, 'foo', { rss: 20 * MiB })]), emptyState(), T0).plan.notifications[0]!.event!;
    const subject = (measure: NonNullable<typeof event.measure>): string => renderNotification(set.notifiers[0]!, { ...event, measure }).subject;
    assert.match(subject({ value: 90061, limit: 86400, unit: 'seconds' }), /\(running for 1d1h1m1s, over the limit of 1d\)$/);
    assert.match(subject({ value: 4.2, limit: 4, unit: 'load' }), /\(load 4\.2, over the threshold of 4\)$/);
    assert.match(subject({ value: 1.5, limit: 2, unit: 'load' }), /\(load 1\.5, under the threshold of 2\)$/);
    assert.match(subject({ value: 0, limit: -1000, unit: 'oom_score_adj' }), /\(oom_score_adj 0, wanted -1000\)$/);
  });

  it("memmon's words are templates: what import memmon writes mails exactly as memmon did, restarts and failures", () => {
    const set = policySetOf(yaml`
      settings: { name: thinko }
      notifiers:
        ops: { mail: { to: ops@example.com, subject: ${JSON.stringify(MEMMON_SUBJECT)}, body: ${JSON.stringify(MEMMON_BODY)} } }
      policies:
        - { name: web, kind: memory, match: { program: "*" }, max_rss: 0, notify: [{ to: ops }] }
    `);
    const [notification] = evaluate(set, snapshot([program(11, 'foo', { rss: 2264064 })]), emptyState(), T0).plan.notifications;
    assert.equal(notification?.subject, 'memmon [thinko]: process foo:foo restarted');
    assert.equal(notification?.body, `memmon.py restarted the process named foo:foo at ${asctime(T0)} because it was consuming too much memory (2264064 bytes RSS)`);
    const failed = renderNotification(set.notifiers[0]!, { ...notification!.event!, status: 'failed', result: 'SPAWN_ERROR: foo:foo' });
    assert.deepEqual(failed, { subject: 'memmon [thinko]: failed to restart process foo:foo', body: 'Failed to restart process foo:foo (RSS 2264064): SPAWN_ERROR: foo:foo' });
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
      [[], ['procguard: web is not acting on web:w1 on web1: flapping guard: 1 restart actions within 1h (max_actions 1)'], []],
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
    assert.match(at('UTC'), / at Sat Nov 21 13:10:02 2026\./);
    assert.match(at('America/New_York'), / at Sat Nov 21 08:10:02 2026\./);
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
