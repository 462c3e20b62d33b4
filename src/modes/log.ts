// The long-running modes' log: pino events on stderr, JSON lines for journald, supervisord's
// log files and log shippers, readable lines on a terminal. Every event has a message that
// reads on its own; actions and notifications also carry their policy, target and reason as
// fields, in the JSON lines (a readable line is the message alone). PROCGUARD_LOG_FORMAT=json|pretty overrides the choice.

import pino from 'pino';
import type { CliIo } from '../shared/io.js';

export type LogLevel = 'info' | 'warn' | 'error';

export interface LogFields {
  /** Default info. */
  level?: LogLevel;
  /** What happened: action, notification, reload, cycle, collector, resume, … */
  event?: string;
  [field: string]: unknown;
}

/** One event: a message that reads on its own, and fields for machines. */
export type Log = (message: string, fields?: LogFields) => void;

export type LogFormat = 'json' | 'pretty';

export function logFormat(io: CliIo): LogFormat {
  const wanted = io.env.PROCGUARD_LOG_FORMAT;
  if (wanted === 'json' || wanted === 'pretty') return wanted;
  return io.stderrIsTTY === true ? 'pretty' : 'json';
}

/** A log on io.stderr; `component` names the mode in every event (procguard, procguard memmon). */
export async function createLog(io: CliIo, component: string, format: LogFormat = logFormat(io)): Promise<Log> {
  const write = format === 'json' ? (line: string) => io.stderr(line) : await prettyWriter(io);
  const logger = pino(
    {
      name: component,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    { write },
  );
  return (message, fields = {}) => {
    const { level = 'info', ...rest } = fields;
    logger[level](rest, message);
  };
}

/**
 * pino-pretty's formatter, loaded only for a terminal: one line per event, its message alone.
 * The message already says what the fields say (policy, target, reason, error), so printing
 * the fields too would show every event twice, the error once more on a line of its own.
 */
async function prettyWriter(io: CliIo): Promise<(line: string) => void> {
  // The CommonJS module itself, as both node and the bundle give it: the bundle gives no named exports.
  const { prettyFactory } = (await import('pino-pretty')).default;
  const prettify = prettyFactory({
    colorize: io.stderrIsTTY === true && !io.env.NO_COLOR,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss',
    ignore: 'pid,hostname',
    hideObject: true,
  });
  return (line) => io.stderr(prettify(line));
}
