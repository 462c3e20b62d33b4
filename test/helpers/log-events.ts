// What the long-running modes log on stderr: one JSON object per line (pino), read back as
// events for their fields, or as their messages for what a person would read.

export interface LogEvent {
  level: 'info' | 'warn' | 'error';
  time: string;
  pid: number;
  name: string;
  msg: string;
  event?: string;
  [field: string]: unknown;
}

/** Every line must be one JSON event: anything else on stderr fails the test, naming the line. */
export function logEvents(text: string): LogEvent[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line, index) => {
      try {
        const event = JSON.parse(line) as LogEvent;
        if (typeof event.msg !== 'string' || typeof event.level !== 'string') throw new Error('no msg or level');
        return event;
      } catch (error) {
        throw new Error(`stderr line ${index + 1} is not a log event (${(error as Error).message}): ${line}`);
      }
    });
}

/** The messages, one per line; a line that is not JSON (a CLI usage error) is kept as it is. */
export function logText(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      if (!line.startsWith('{')) return line;
      try {
        return (JSON.parse(line) as { msg?: unknown }).msg ?? line;
      } catch {
        return line;
      }
    })
    .join('\n');
}
