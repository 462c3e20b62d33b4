// The string formats procguard's schemas name (sizes, durations, mail addresses, SMTP URLs):
// one definition for the compiled validators and for the checks that reuse them.

import { durationOf, memoryLimitAt, sizeOf } from './unit-values.js';

const MAIL_ADDRESS = /^(?:[^\s@<>]+@[^\s@<>]+|[^<>\r\n]*<[^\s@<>]+@[^\s@<>]+>)$/;
/** A local name ("root", "ops") as sendmail delivers it (memmon -m root); an SMTP server needs user@host. */
const LOCAL_NAME = /^[A-Za-z0-9._%+-]+$/;
const SMTP_URL = /^smtps?:\/\/(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?\/?$/;

export function isMailAddress(text: string): boolean {
  return MAIL_ADDRESS.test(text) || LOCAL_NAME.test(text);
}

export function isLocalMailName(text: string): boolean {
  return LOCAL_NAME.test(text);
}

export interface StringFormat {
  type: 'string';
  validate: (text: string) => boolean;
}

/** By the name the schemas give in `format`. */
export const formats: Record<'size' | 'memory-limit' | 'duration' | 'email' | 'smtp-url', StringFormat> = {
  // The schema's check parses each text once; the checks and the normalizer reuse the number.
  size: { type: 'string', validate: (text) => sizeOf(text) !== undefined },
  'memory-limit': { type: 'string', validate: (text) => memoryLimitAt({ text }, 'text') !== undefined },
  duration: { type: 'string', validate: (text) => durationOf(text) !== undefined },
  email: { type: 'string', validate: isMailAddress },
  'smtp-url': { type: 'string', validate: (text) => SMTP_URL.test(text) },
};
