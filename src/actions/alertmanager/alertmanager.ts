// The alertmanager notifier: alerts posted to Alertmanager's v2 API (URL/api/v2/alerts), so that
// a fleet gets its grouping, deduplication, silences and routing.
//
// - An action that keeps failing is one alert, ProcguardFailing, firing from when the failure
//   began. It ends at a horizon (FAILING_HORIZON) unless renewed, and every attempt that fails the
//   same way renews it (attempts come at least hourly): should procguard stop, the alert does not
//   fire for ever. It is resolved (endsAt now) when the action succeeds or the condition is cleared.
// - Every other action, done or failed, is a short-lived alert, ProcguardAction, that ends by
//   itself after ACTION_ALERT_LIFETIME.
//
// Labels: alertname, host, policy, kind, action, program (the namespec of a supervisord
// program, the process name otherwise), supervisor (for a program), and the notifier's own,
// which cannot replace these. Annotations: summary (the notification's subject), description
// (its body), reason and status.

import { errorText } from '../../shared/errors.js';
import type { AlertmanagerNotifier } from '../../policy/model.js';
import type { Lasting, Target } from '../../data/types.js';
import { postJson, urlForMessages } from '../http-post.js';
import { type Adapter, type AdapterDeps, type Outcome, type Work } from '../types.js';

/** How long a failure's alert fires without being renewed (seconds): twice the longest gap between attempts. */
export const FAILING_HORIZON = 2 * 3600;
/** How long an action's alert lasts (seconds). */
export const ACTION_ALERT_LIFETIME = 300;

interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}

export const adapter: Adapter = {
  name: 'alertmanager',
  async execute(work: Work, deps: AdapterDeps): Promise<Outcome> {
    if (work.type !== 'notification' || work.notifier.type !== 'alertmanager') return { status: 'failed', error: 'the alertmanager adapter only posts alertmanager notifications' };
    const alerts = alertsOf(work, work.notifier, deps.now());
    const url = `${work.notifier.url.replace(/\/+$/, '')}/api/v2/alerts`;
    try {
      const answer = await postJson(url, JSON.stringify(alerts.map((a) => a.alert)), {}, work.notifier.timeout, deps);
      return { status: 'done', detail: `${alerts.map((a) => a.what).join(', ')} posted to ${urlForMessages(url)} (${answer})` };
    } catch (error) {
      return { status: 'failed', error: `alertmanager ${errorText(error)}` };
    }
  },
};

/** The alerts one notification makes, each with what it is for messages ("ProcguardFailing firing"). */
export function alertsOf(work: Extract<Work, { type: 'notification' }>, notifier: AlertmanagerNotifier, now: number): Array<{ alert: Alert; what: string }> {
  const event = work.event;
  const text = (key: string): string => (typeof event[key] === 'string' ? (event[key] as string) : '');
  const target = (event.target ?? work.notification.target) as Target | undefined;
  const labels: Record<string, string> = {
    ...notifier.labels,
    host: text('host'),
    policy: text('policy') || work.notification.policy,
    kind: text('kind'),
    action: text('action') || (work.notification.action ?? ''),
    program: target?.namespec ?? target?.name ?? '',
    ...(target?.supervisor !== undefined ? { supervisor: target.supervisor } : {}),
  };
  const annotations = {
    summary: work.notification.subject,
    description: work.notification.body,
    reason: text('reason'),
    status: text('status'),
  };
  const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();
  const alerts: Array<{ alert: Alert; what: string }> = [];
  const lasting: Lasting | undefined = work.lasting;
  if (lasting?.error !== undefined || lasting?.report === 'ends') {
    const ends = lasting.report === 'ends';
    alerts.push({
      alert: {
        labels: { ...labels, alertname: 'ProcguardFailing' },
        annotations: { ...annotations, ...(lasting.error !== undefined ? { error: lasting.error } : {}), attempts: String(lasting.attempts) },
        startsAt: iso(lasting.since),
        endsAt: iso(ends ? now : now + FAILING_HORIZON),
      },
      what: `ProcguardFailing ${ends ? 'resolved' : 'firing'}`,
    });
  }
  // A renewal or a cleared condition is about the failure alone; every action carried out has its own alert.
  if (lasting?.report !== 'repeats' && text('status') !== 'cleared') {
    alerts.push({ alert: { labels: { ...labels, alertname: 'ProcguardAction' }, annotations, startsAt: iso(now), endsAt: iso(now + ACTION_ALERT_LIFETIME) }, what: 'ProcguardAction' });
  }
  return alerts;
}
