// The event a notification reports, as data: the template fields (TEMPLATE_FIELDS in
// src/policy/templates.ts) of one decided action. Its text is rendered in one place,
// src/policy/notification-text.ts. Times are written as memmon writes them, in the time zone
// the caller gives: the engine reads no clock and no environment.

import type { NotificationEvent, PlannedAction } from '../data/types.js';
import type { PolicySet } from '../policy/model.js';

export function notificationEvent(
  host: string,
  policySet: PolicySet,
  policy: { name: string; kind: string; mode: string },
  action: PlannedAction,
  rss: number | undefined,
  limit: number | undefined,
  uptime: number,
  time: string,
): NotificationEvent {
  return {
    host,
    name: policySet.settings.name ?? '',
    policy: policy.name,
    kind: policy.kind,
    mode: policy.mode,
    action: action.action,
    status: action.status,
    reason: action.reason,
    target: action.target,
    ...(rss !== undefined ? { rss } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(action.measure !== undefined ? { measure: action.measure } : {}),
    uptime,
    time,
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const UTC_NAMES = new Set([
  'UTC',
  'Etc/UTC',
  'Etc/UCT',
  'UCT',
  'Etc/Universal',
  'Universal',
  'Zulu',
  'Etc/Zulu',
  'GMT',
  'Etc/GMT',
  'Etc/GMT+0',
  'Etc/GMT-0',
  'Etc/GMT0',
  'GMT0',
  'Etc/Greenwich',
  'Greenwich',
]);

/** One formatter per time zone; a handful of zones at most in any run. */
const formatters = new Map<string, Intl.DateTimeFormat | undefined>();

/** The zone's formatter; undefined for a name Intl does not know (written in UTC instead). */
function formatterFor(timeZone: string): Intl.DateTimeFormat | undefined {
  if (formatters.has(timeZone)) return formatters.get(timeZone);
  let formatter: Intl.DateTimeFormat | undefined;
  try {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      weekday: 'short',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    });
  } catch {
    formatter = undefined;
  }
  if (formatters.size >= 16) formatters.clear();
  formatters.set(timeZone, formatter);
  return formatter;
}

/**
 * Python's time.asctime() in the given IANA time zone, as memmon writes it: "Sat Nov 21 13:36:09
 * 2026". UTC needs no time zone data; another zone is read through Intl (loaded on first use).
 */
export function asctime(epochSeconds: number, timeZone = 'UTC'): string {
  const date = new Date(epochSeconds * 1000);
  const formatter = UTC_NAMES.has(timeZone) ? undefined : formatterFor(timeZone);
  const parts = formatter
    ? Object.fromEntries(formatter.formatToParts(date).map((p) => [p.type, p.value]))
    : {
        weekday: DAYS[date.getUTCDay()],
        month: String(date.getUTCMonth() + 1),
        day: String(date.getUTCDate()),
        hour: String(date.getUTCHours()),
        minute: String(date.getUTCMinutes()),
        second: String(date.getUTCSeconds()),
        year: String(date.getUTCFullYear()),
      };
  const two = (text: string | undefined): string => (text ?? '0').padStart(2, '0');
  const month = MONTHS[Number(parts.month) - 1];
  const day = String(Number(parts.day)).padStart(2, ' ');
  return `${parts.weekday ?? ''} ${month} ${day} ${two(parts.hour)}:${two(parts.minute)}:${two(parts.second)} ${parts.year}`;
}
