// Errors as one line of text, for messages, logs, outcomes and collector errors.


/** An error as one line for an Outcome: errno code and path, or the message. */
export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const { code } = error as NodeJS.ErrnoException;
    return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
