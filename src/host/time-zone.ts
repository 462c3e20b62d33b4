// The host's time zone, which notification times are written in: read here, at the edge, and
// handed to the engine, which reads no environment. As the C library reads it: TZ (empty means
// UTC), else the zone /etc/localtime links to; a copied /etc/localtime is named by
// /etc/timezone. Only a host that names its zone nowhere asks Intl, whose date formats cost a
// daemon 8 MiB of memory to load.

import { readFileSync, readlinkSync } from 'node:fs';

const ZONEINFO = '/zoneinfo/';

export interface ZoneFiles {
  localtime: string;
  timezone: string;
}

const SYSTEM: ZoneFiles = { localtime: '/etc/localtime', timezone: '/etc/timezone' };

export function localTimeZone(env: NodeJS.ProcessEnv = process.env, files: ZoneFiles = SYSTEM): string {
  if (env.TZ !== undefined) return zoneName(env.TZ.replace(/^:/, '')) || 'UTC';
  try {
    const target = readlinkSync(files.localtime);
    const at = target.lastIndexOf(ZONEINFO);
    if (at >= 0) return zoneName(target.slice(at + ZONEINFO.length)) || 'UTC';
  } catch {
    // not a link: a copied file, or none
  }
  try {
    const named = readFileSync(files.timezone, 'utf8').trim();
    if (named) return zoneName(named);
  } catch {
    // no /etc/timezone
  }
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** A zoneinfo path or TZ value as an IANA name: "posix/Europe/Paris" and "right/Europe/Paris" are Europe/Paris. */
function zoneName(text: string): string {
  return text.replace(/^(?:posix|right)\//, '');
}
