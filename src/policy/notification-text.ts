// The one place a notification's text is rendered, from its event (the template fields of
// TEMPLATE_FIELDS in templates.ts): with the notifier's handlebars templates, or else the
// default text, which a kind may word itself (a memory restart speaks memmon's words). The
// engine renders a planned notification with it, the adapters a carried-out one with the
// action's final status. Plain text; header fields on one line.

import type HandlebarsModule from 'handlebars';
import type { NotificationEvent } from '../data/types.js';
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

function prefix(tool: string, event: NotificationEvent): string {
  return event.name ? `${tool} [${event.name}]:` : `${tool}:`;
}

export function defaultSubject(event: NotificationEvent): string {
  const who = event.target.namespec ?? `${event.target.name} (pid ${event.target.pid})`;
  if (event.status === 'skipped') return `${prefix('procguard', event)} not acting on ${who}: ${event.reason}`;
  if (event.status === 'failed') return `${prefix('procguard', event)} ${event.action} ${who} FAILED (${event.policy} on ${event.host})`;
  return `${prefix('procguard', event)} ${event.action} ${who} (${event.policy} on ${event.host})`;
}

export function defaultBody(event: NotificationEvent): string {
  const who = event.target.namespec ?? event.target.name;
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
