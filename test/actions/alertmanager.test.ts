// The alerts one notification makes: which (the failure's, the action's), firing or resolved,
// and labels procguard's own that the notifier's labels cannot replace.
import assert from 'node:assert/strict';
import { ACTION_ALERT_LIFETIME, alertsOf, FAILING_HORIZON } from '../../src/actions/alertmanager/alertmanager.js';
import type { Work } from '../../src/actions/types.js';
import type { Lasting } from '../../src/data/types.js';
import type { AlertmanagerNotifier } from '../../src/policy/model.js';

const NOW = 1796462000;
const NOTIFIER: AlertmanagerNotifier = {
  type: 'alertmanager',
  name: 'am',
  url: 'http://am:9093',
  labels: { env: 'prod', policy: 'not-this', host: 'nor-this' },
  timeout: 30,
  source: { file: 'p.yaml', line: 3, column: 3 },
};

function work(status: string, lasting?: Lasting, target: Record<string, unknown> = { pid: 11, name: 'python', namespec: 'web:web_0', supervisor: 'main' }): Extract<Work, { type: 'notification' }> {
  return {
    type: 'notification',
    notification: { policy: 'web-memory', to: 'am', action: 'restart', subject: 'SUBJECT', body: 'BODY' },
    notifier: NOTIFIER,
    event: { host: 'web1', policy: 'web-memory', kind: 'memory', action: 'restart', status, reason: 'rss 250.0 MiB > 200.0 MiB', target },
    ...(lasting ? { lasting } : {}),
  };
}

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();
const LABELS = { env: 'prod', policy: 'web-memory', host: 'web1', kind: 'memory', action: 'restart', program: 'web:web_0', supervisor: 'main' };

describe('alertmanager: the alerts of a notification', () => {
  const cases: Array<[string, Extract<Work, { type: 'notification' }>, Array<[string, string, string]>]> = [
    ['an action done: a short-lived action alert', work('done'), [['ProcguardAction', iso(NOW), iso(NOW + ACTION_ALERT_LIFETIME)]]],
    [
      'a failure that begins: the failure fires until the horizon, and the action alert',
      work('failed', { report: 'begins', since: NOW, attempts: 1, error: 'SPAWN_ERROR' }),
      [
        ['ProcguardFailing', iso(NOW), iso(NOW + FAILING_HORIZON)],
        ['ProcguardAction', iso(NOW), iso(NOW + ACTION_ALERT_LIFETIME)],
      ],
    ],
    [
      'the same failure again: the failure alert renewed from when it began, no new action alert',
      work('failed', { report: 'repeats', since: NOW - 3600, attempts: 5, error: 'SPAWN_ERROR' }),
      [['ProcguardFailing', iso(NOW - 3600), iso(NOW + FAILING_HORIZON)]],
    ],
    [
      'a failure that ends with the action done: resolved now, and the action alert',
      work('done', { report: 'ends', since: NOW - 600, attempts: 4, error: 'SPAWN_ERROR' }),
      [
        ['ProcguardFailing', iso(NOW - 600), iso(NOW)],
        ['ProcguardAction', iso(NOW), iso(NOW + ACTION_ALERT_LIFETIME)],
      ],
    ],
    ['a failing condition cleared: resolved now, nothing else', work('cleared', { report: 'ends', since: NOW - 600, attempts: 2, error: 'E' }), [['ProcguardFailing', iso(NOW - 600), iso(NOW)]]],
  ];
  for (const [name, given, expected] of cases) {
    it(name, () => {
      const alerts = alertsOf(given, NOTIFIER, NOW);
      assert.deepEqual(
        alerts.map((a) => [a.alert.labels.alertname, a.alert.startsAt, a.alert.endsAt]),
        expected,
      );
      for (const { alert } of alerts) {
        const { alertname: _name, ...labels } = alert.labels;
        assert.deepEqual(labels, LABELS, "procguard's labels win over the notifier's");
        assert.equal(alert.annotations.summary, 'SUBJECT');
        assert.equal(alert.annotations.description, 'BODY');
      }
    });
  }

  it('a process that is not a program: named by its name, with no supervisor label', () => {
    const [alert] = alertsOf(work('done', undefined, { pid: 900, name: 'rsync' }), NOTIFIER, NOW);
    assert.equal(alert?.alert.labels.program, 'rsync');
    assert.equal('supervisor' in (alert?.alert.labels ?? {}), false);
  });
});
