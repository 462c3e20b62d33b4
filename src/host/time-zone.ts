// The host's time zone (TZ, else the system's), which notification times are written in: read
// here, at the edge, and handed to the engine, which reads no environment.

export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}
