// Notifications rendered from the policy's notifiers: handlebars templates over the fields
// of TEMPLATE_FIELDS (src/policy/templates.ts), plain text, header fields on one line.
// A memory restart's default subject and body are memmon's, word for word.

import type HandlebarsModule from 'handlebars';
import { handlebars as loadHandlebars } from '../shared/handlebars.js';
import { printable, UNPRINTABLE } from '../shared/text.js';
import type { NotifierConfig } from '../policy/model.js';
import type { Target } from '../data/types.js';

/** The fields a template sees: exactly the allow-list of src/policy/templates.ts. */
export interface NotificationEvent {
  host: string;
  /** settings.name, '' when unset. */
  name: string;
  policy: string;
  kind: string;
  mode: string;
  action: string;
  status: string;
  reason: string;
  target: Target;
  rss?: number;
  limit?: number;
  uptime: number;
  /** asctime: "Sat Nov 21 13:36:09 2026". */
  time: string;
}

export interface RenderedMessage {
  subject: string;
  body: string;
}

let environment: typeof HandlebarsModule | undefined;
const cache = new Map<string, HandlebarsTemplateDelegate>();

function templateEnvironment(): typeof HandlebarsModule {
  if (environment) return environment;
  environment = loadHandlebars().create();
  // `log` would write to stdout, which belongs to the supervisord event-listener protocol.
  environment.registerHelper('log', () => '');
  return environment;
}

function render(source: string, event: NotificationEvent): string {
  let template = cache.get(source);
  if (!template) {
    template = templateEnvironment().compile(source, { noEscape: true });
    cache.set(source, template);
  }
  return template(event);
}

const UNPRINTABLE_RUNS = new RegExp(`(?:${UNPRINTABLE.source})+`, 'g');

/**
 * Carriage returns, line feeds and other control characters would let a value forge mail
 * headers; bidirectional overrides and zero-width characters would let a subject read as
 * another. Each run of them becomes one space.
 */
export function headerSafe(text: string): string {
  return text.replace(UNPRINTABLE_RUNS, ' ').trim();
}

export function renderNotification(notifier: NotifierConfig, raw: NotificationEvent): RenderedMessage {
  const event = shownEvent(raw);
  const custom = notifier.type === 'mail' ? notifier : undefined;
  const subject = custom?.subject !== undefined ? render(custom.subject, event) : defaultSubject(event);
  const body = custom?.body !== undefined ? render(custom.body, event) : defaultBody(event);
  return { subject: headerSafe(subject), body };
}

/**
 * The event with every string from the host (process names, command lines, reasons quoting
 * them) made printable, so a name holding a newline or an escape sequence cannot add lines
 * to the body or drive the reader's terminal.
 */
function shownEvent(event: NotificationEvent): NotificationEvent {
  const clean = (value: unknown): unknown => {
    if (typeof value === 'string') return printable(value);
    if (Array.isArray(value)) return value.map(clean);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clean(v)]));
    return value;
  };
  return clean(event) as NotificationEvent;
}

function isMemmonRestart(event: NotificationEvent): boolean {
  return event.kind === 'memory' && event.action === 'restart' && (event.status === 'planned' || event.status === 'done') && event.target.namespec !== undefined;
}

function prefix(tool: string, event: NotificationEvent): string {
  return event.name ? `${tool} [${event.name}]:` : `${tool}:`;
}

export function defaultSubject(event: NotificationEvent): string {
  const who = event.target.namespec ?? `${event.target.name} (pid ${event.target.pid})`;
  if (isMemmonRestart(event)) return `${prefix('memmon', event)} process ${who} restarted`;
  if (event.status === 'skipped') return `${prefix('procguard', event)} not acting on ${who}: ${event.reason}`;
  if (event.status === 'failed') return `${prefix('procguard', event)} ${event.action} ${who} FAILED (${event.policy} on ${event.host})`;
  return `${prefix('procguard', event)} ${event.action} ${who} (${event.policy} on ${event.host})`;
}

export function defaultBody(event: NotificationEvent): string {
  const who = event.target.namespec ?? event.target.name;
  if (isMemmonRestart(event)) {
    return (
      `memmon.py restarted the process named ${who} at ${event.time} because it was consuming too much memory ` +
      `(${event.rss ?? 0} bytes RSS)`
    );
  }
  const target = event.target;
  const lines = [
    event.status === 'skipped'
      ? `procguard did not ${event.action} ${who} (pid ${target.pid}) on ${event.host} at ${event.time}.`
      : `procguard: ${event.action} ${who} (pid ${target.pid}) on ${event.host} at ${event.time} (${event.status}).`,
    '',
    `policy:  ${event.policy} (${event.kind}, ${event.mode})`,
    `reason:  ${event.reason}`,
    `process: pid ${target.pid}, ${target.name}${target.user !== undefined ? `, user ${target.user}` : ''}, up ${event.uptime}s`,
  ];
  if (target.namespec !== undefined) lines.push(`program: ${target.namespec} in supervisor "${target.supervisor ?? ''}"`);
  if (target.cmdline !== undefined) lines.push(`command: ${target.cmdline}`);
  return `${lines.join('\n')}\n`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Python's time.asctime() in local time, as memmon writes it: "Sat Nov 21 13:36:09 2026". */
export function asctime(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const two = (n: number): string => String(n).padStart(2, '0');
  const day = String(d.getDate()).padStart(2, ' ');
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${day} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}`;
}
