// The webhook notifier: the event as JSON (what an exec notifier reads on stdin) POSTed to the
// configured URL, signed so that the receiver knows it comes from procguard and is fresh:
//
//   X-Procguard-Timestamp: 1796461322                 (epoch seconds when it was sent)
//   X-Procguard-Signature: sha256=HEX                 (HMAC-SHA256, key: the secret, of "TIMESTAMP.BODY")
//
// BODY is the raw request body, byte for byte. The secret comes from procguard's environment
// (secret_env), is never written in a policy file and never appears in a message.

import { createHmac } from 'node:crypto';
import { errorText } from '../../shared/errors.js';
import { postJson, urlForMessages } from '../http-post.js';
import { type Adapter, type AdapterDeps, type Outcome, type Work } from '../types.js';

export const SIGNATURE_HEADER = 'X-Procguard-Signature';
export const TIMESTAMP_HEADER = 'X-Procguard-Timestamp';

/** "sha256=HEX" of "TIMESTAMP.BODY" under the secret: what a receiver recomputes. */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export const adapter: Adapter = {
  name: 'webhook',
  async execute(work: Work, deps: AdapterDeps): Promise<Outcome> {
    if (work.type !== 'notification' || work.notifier.type !== 'webhook') return { status: 'failed', error: 'the webhook adapter only posts webhook notifications' };
    const notifier = work.notifier;
    const secret = deps.env[notifier.secretEnv];
    if (secret === undefined || secret === '') return { status: 'failed', error: `notifier "${notifier.name}": the secret variable ${notifier.secretEnv} is not set` };
    const body = JSON.stringify({ ...work.event, subject: work.notification.subject, body: work.notification.body });
    const timestamp = deps.now();
    const headers = { [TIMESTAMP_HEADER]: String(timestamp), [SIGNATURE_HEADER]: webhookSignature(secret, timestamp, body) };
    try {
      const answer = await postJson(notifier.url, body, headers, notifier.timeout, deps);
      return { status: 'done', detail: `posted to ${urlForMessages(notifier.url)} (${answer})` };
    } catch (error) {
      return { status: 'failed', error: `webhook ${errorText(error)}` };
    }
  },
};
