// One POST of a JSON body for the HTTP notifiers (alertmanager, webhook), within the notifier's
// timeout: connecting, sending and the whole answer. A redirect is not followed (the body, signed
// or not, goes only where the policy says), and only a 2xx answer counts as delivered.

import { errorText } from '../shared/errors.js';
import { withDeadline } from './deadline.js';
import type { AdapterDeps } from './types.js';

/** The most of an answer's body kept for the error message, in characters… */
const ANSWER_EXCERPT = 300;
/** …read from at most this many bytes of it. */
const ANSWER_BYTES = 4096;

/** Where a URL points, for messages: scheme, host and path; never a query string, which may carry a token. */
export function urlForMessages(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/** Resolves to "HTTP 200" for a 2xx answer; throws with what went wrong otherwise. */
export async function postJson(url: string, body: string, headers: Record<string, string>, timeout: number, deps: AdapterDeps): Promise<string> {
  const where = urlForMessages(url);
  return withDeadline(timeout, `the POST to ${where}`, deps.stopping, async (signal) => {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'user-agent': 'procguard', ...headers },
        redirect: 'manual',
        signal,
      });
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause;
      throw new Error(`POST ${where}: ${errorText(cause ?? error, { code: true })}`);
    }
    const answer = (await excerpt(response)).replace(/\s+/g, ' ').trim().slice(0, ANSWER_EXCERPT);
    if (response.status < 200 || response.status > 299) {
      const redirect = response.status >= 300 && response.status < 400 ? ` (a redirect to ${response.headers.get('location') ?? '?'}, not followed)` : '';
      throw new Error(`POST ${where} answered HTTP ${response.status}${redirect}${answer ? `: ${answer}` : ''}`);
    }
    return `HTTP ${response.status}`;
  });
}

/** The start of an answer's body, read up to a bound and the rest left unread: a peer cannot make procguard hold a large answer. */
async function excerpt(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    while (length < ANSWER_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      length += value.length;
    }
  } catch {
    // What arrived before the error is enough for a message.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, ANSWER_BYTES).toString('utf8');
}
