// One hard deadline for a piece of work that talks to the outside (a notification): the work
// gets an AbortSignal that fires at the deadline, or when procguard is stopping, and the
// promise settles at that moment whatever the work does, so a peer that trickles its replies
// cannot hold a cycle, its lock or the processes it paused.

/** The work was cut short: its deadline passed, or procguard is stopping. */
export class DeadlineError extends Error {}

export async function withDeadline<T>(seconds: number, what: string, stopping: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onStop: (() => void) | undefined;
  const cut = new Promise<never>((_, reject) => {
    const abort = (message: string): void => {
      const error = new DeadlineError(message);
      controller.abort(error);
      reject(error);
    };
    timer = setTimeout(() => abort(`${what} did not finish within ${seconds}s; cut short`), seconds * 1000);
    onStop = () => abort(`${what} was cut short: procguard is stopping`);
    if (stopping?.aborted) onStop();
    else stopping?.addEventListener('abort', onStop, { once: true });
  });
  cut.catch(() => undefined);
  try {
    return await Promise.race([work(controller.signal), cut]);
  } finally {
    clearTimeout(timer);
    if (onStop) stopping?.removeEventListener('abort', onStop);
  }
}
