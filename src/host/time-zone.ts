// The host's time zone, which notification times are written in: read here, at the edge, and
// handed to the engine, which reads no environment. From TZ, else the /etc/localtime link, as
// the C library does; not from Intl, whose date formats cost a daemon 8 MiB of memory to load.

import { readlinkSync } from 'node:fs';

const ZONEINFO = '/zoneinfo/';

export function localTimeZone(env: NodeJS.ProcessEnv = process.env, localtime = '/etc/localtime'): string {
  const tz = env.TZ?.replace(/^:/, '');
  if (tz) return tz;
  try {
    const target = readlinkSync(localtime);
    const at = target.lastIndexOf(ZONEINFO);
    return at >= 0 ? target.slice(at + ZONEINFO.length) : 'UTC';
  } catch {
    return 'UTC';
  }
}
