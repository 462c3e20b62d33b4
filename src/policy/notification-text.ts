// The one place a notification's text is rendered, from its event (the template fields of
// TEMPLATE_FIELDS in templates.ts): with the notifier's handlebars templates, or else the
// default text in procguard's own words (a kind may word its own). The
// engine renders a planned notification with it, the adapters a carried-out one with the
// action's final status. Plain text; header fields on one line.

import type HandlebarsModule from 'handlebars';
import type { Measure, NotificationEvent } from '../data/types.js';
import { formatBytes, formatDuration, formatPercent } from '../shared/units.js';
import { handlebars as loadHandlebars } from '../shared/handlebars.js';
import { printable, UNPRINTABLE } from '../shared/text.js';
import { KINDS } from './kinds/index.js';
import type { NotifierConfig } from './model.js';

export interface RenderedMessage {
  subject: string;
  body: string;
}

/** Compiled templates kept at once: far more than any configuration has; the oldest is dropped first, so reloads that change templates never grow the daemon. */
export const TEMPLATE_CACHE_SIZE = 64;

let environment: typeof HandlebarsModule | undefined;
const cache = new Map<string, HandlebarsTemplateDelegate>();

function templateEnvironment(): typeof HandlebarsModule {
  if (environment) return environment;
  environment = loadHandlebars().create();
  // `log` would write to stdout, which belongs to the supervisord event-listener protocol.
  environment.registerHelper('log', () => '');
  // `{{#if (eq status "failed")}}`: a template may word each outcome its own way.
  environment.registerHelper('eq', (left: unknown, right: unknown) => left === right);
  return environment;
}

function compiled(source: string): HandlebarsTemplateDelegate {
  let template = cache.get(source);
  if (template) return template;
  template = templateEnvironment().compile(source, { noEscape: true });
  if (cache.size >= TEMPLATE_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(source, template);
  return template;
}

/** How many compiled templates are cached now (for the test of the bound). */
export function cachedTemplates(): number {
  return cache.size;
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
  const own = custom?.subject !== undefined && custom.body !== undefined ? undefined : KINDS.get(event.kind)?.notificationText?.(event);
  const subject = custom?.subject !== undefined ? compiled(custom.subject)(event) : (own?.subject ?? defaultSubject(event));
  const body = custom?.body !== undefined ? compiled(custom.body)(event) : (own?.body ?? defaultBody(event));
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

function prefix(event: NotificationEvent): string {
  return event.name ? `procguard [${event.name}]:` : 'procguard:';
}

/** The target as people name it: its namespec, else its process name and pid. */
function targetName(event: NotificationEvent): string {
  return event.target.namespec ?? `${event.target.name} (pid ${event.target.pid})`;
}

/** A measured figure in its unit: "250.0 MiB", "2h30m", "load 4.20", "oom_score_adj -17". */
function figure(value: number, unit: Measure['unit']): string {
  if (unit === 'bytes') return formatBytes(value);
  if (unit === 'seconds') return formatDuration(value);
  if (unit === 'load') return `load ${Number(value.toFixed(2))}`;
  if (unit === 'percent') return formatPercent(value);
  return `oom_score_adj ${value}`;
}

/** What was seen against which limit, in people's units: "250.0 MiB over the limit of 200.0 MiB". */
export function seenText(measure: Measure): string {
  const { value, limit, unit } = measure;
  if (unit === 'oom_score_adj') return `${figure(value, unit)}, wanted ${limit}`;
  const relation = value > limit ? 'over' : value < limit ? 'under' : 'at';
  // A percentage says what it is a share of by its name: "cpu 95%", "cpu pressure 47.25%".
  const what = unit === 'bytes' ? 'memory ' : unit === 'seconds' ? 'running for ' : unit === 'percent' && measure.name !== undefined ? `${measure.name.replace('_', ' ')} ` : '';
  const threshold = unit === 'load' || (unit === 'percent' && measure.name?.endsWith('pressure') === true);
  return `${what}${figure(value, unit)}, ${relation} the ${threshold ? `threshold of ${figure(limit, unit).replace(/^load /, '')}` : `limit of ${figure(limit, unit)}`}`;
}

/** The reason without the failure an adapter appended to it, which the body shows on its own line. */
function reasonAlone(event: NotificationEvent): string {
  const suffix = event.status === 'failed' && event.result !== undefined ? `; failed: ${event.result}` : undefined;
  return suffix !== undefined && event.reason.endsWith(suffix) ? event.reason.slice(0, -suffix.length) : event.reason;
}

export function defaultSubject(event: NotificationEvent): string {
  const who = targetName(event);
  const seen = event.measure !== undefined ? seenText(event.measure) : reasonAlone(event);
  if (event.status === 'skipped') return `${prefix(event)} ${event.policy} is not acting on ${who} on ${event.host}: ${event.reason}`;
  const failed = event.status === 'failed' ? ' FAILED' : '';
  return `${prefix(event)} ${event.policy}: ${event.action} ${who}${failed} on ${event.host} (${seen})`;
}

const DONE_VERB: Readonly<Record<string, string>> = {
  restart: 'restarted',
  stop: 'stopped',
  kill: 'killed',
  signal: 'signalled',
  pause: 'paused',
  resume: 'resumed',
  set_oom_score_adj: 'set the oom_score_adj of',
};

const STATUS_TEXT: Readonly<Record<string, string>> = {
  planned: 'planned, not carried out yet',
  done: 'done',
  failed: 'FAILED',
  skipped: 'not carried out',
};

export function defaultBody(event: NotificationEvent): string {
  const target = event.target;
  const who = targetName(event);
  const opening: Readonly<Record<string, string>> = {
    planned: `procguard will ${event.action} ${who} on ${event.host}`,
    done: `procguard ${DONE_VERB[event.action] ?? `carried out ${event.action} on`} ${who} on ${event.host}`,
    failed: `procguard could not ${event.action} ${who} on ${event.host}`,
    skipped: `procguard did not ${event.action} ${who} on ${event.host}`,
  };
  const outcome = event.result !== undefined ? `: ${event.result}` : '';
  const lines = [
    `${opening[event.status] ?? `procguard: ${event.action} ${who} on ${event.host}: ${event.status}`}, at ${event.time}.`,
    '',
    `policy:     ${event.policy} (${event.kind}, ${event.mode})`,
    ...(event.measure !== undefined ? [`seen:       ${seenText(event.measure)}`] : []),
    `${(event.status === 'skipped' ? 'why not:' : 'reason:').padEnd(12)}${reasonAlone(event)}`,
    `action:     ${event.action}, ${STATUS_TEXT[event.status] ?? event.status}${outcome}`,
    `host:       ${event.host}`,
  ];
  if (target.namespec !== undefined) lines.push(`program:    ${target.namespec}`);
  if (target.supervisor !== undefined) lines.push(`supervisor: ${target.supervisor}`);
  lines.push(`process:    pid ${target.pid}, ${target.name}${target.user !== undefined ? `, user ${target.user}` : ''}, up ${formatDuration(event.uptime)}`);
  if (target.cmdline !== undefined) lines.push(`command:    ${target.cmdline}`);
  return `${lines.join('\n')}\n`;
}
