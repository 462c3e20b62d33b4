// Errors as one line of text, for messages, logs, outcomes and collector errors.

/**
 * An error as one line: its message (String(error) for a thrown non-Error). With `code`, the
 * errno-style code goes in front when the message does not already name it ("EPIPE: write
 * after end"), for outcomes where the code is what an operator searches for.
 */
export function errorText(error: unknown, options: { code?: boolean } = {}): string {
  if (!(error instanceof Error)) return String(error);
  const { code } = error as NodeJS.ErrnoException;
  return options.code && code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}
