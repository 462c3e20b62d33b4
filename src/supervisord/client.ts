// A small promise-based supervisord XML-RPC client: calls written by xmlrpc-request.ts and
// replies decoded by xmlrpc-response.ts, over node's http, on a unix socket or TCP, with basic
// auth, a timeout, a bounded reply and errors that say what happened (401, ENOENT, faults by name).

import { errorText } from '../shared/errors.js';
import http from 'node:http';
import { encodeMethodCall, type XmlRpcParam } from './xmlrpc-request.js';
import { decodeMethodResponse, type XmlRpcResponse } from './xmlrpc-response.js';
import type { SupervisorEndpoint } from '../policy/model.js';

/** supervisord's fault codes (supervisor/xmlrpc.py). */
export const FAULT_NAMES: Readonly<Record<number, string>> = {
  1: 'UNKNOWN_METHOD',
  2: 'INCORRECT_PARAMETERS',
  3: 'BAD_ARGUMENTS',
  4: 'SIGNATURE_UNSUPPORTED',
  6: 'SHUTDOWN_STATE',
  10: 'BAD_NAME',
  11: 'BAD_SIGNAL',
  20: 'NO_FILE',
  21: 'NOT_EXECUTABLE',
  30: 'FAILED',
  40: 'ABNORMAL_TERMINATION',
  50: 'SPAWN_ERROR',
  60: 'ALREADY_STARTED',
  70: 'NOT_RUNNING',
  80: 'SUCCESS',
  90: 'ALREADY_ADDED',
  91: 'STILL_RUNNING',
  92: 'CANT_REREAD',
};

/** A reply larger than this is refused: getAllProcessInfo for thousands of programs is a few MiB. */
export const MAX_REPLY_BYTES = 32 * 1024 * 1024;

/** untrusted: the process listening on a local address is not one procguard may talk to. */
export type SupervisorErrorKind = 'auth' | 'unreachable' | 'untrusted' | 'timeout' | 'http' | 'protocol' | 'fault';

export class SupervisorError extends Error {
  constructor(
    message: string,
    readonly kind: SupervisorErrorKind,
    /** For a fault: its name (BAD_NAME, SPAWN_ERROR, …). */
    readonly faultName?: string,
  ) {
    super(message);
    this.name = 'SupervisorError';
  }
}

export interface SupervisorClientOptions {
  /** The configured name, for messages. */
  name: string;
  /** As written (unix:///…, http://…), for messages; never holds a password. */
  url: string;
  endpoint: SupervisorEndpoint;
  username?: string;
  password?: string;
  /** Seconds. */
  timeout: number;
  /** The verified loopback address to connect to, instead of resolving the URL's host again. */
  connectTo?: { host: string; port: number };
  /** The pid of the verified supervisord on this host: only its children are its programs. */
  supervisord?: number;
  /** At a non-loopback address: its pids are another host's. */
  remote?: boolean;
}

export class SupervisorClient {
  constructor(
    readonly options: SupervisorClientOptions,
    /** Calls go over this agent's connection (kept open between cycles, connect.ts); by default each call has its own. */
    private readonly agent?: http.Agent,
  ) {}

  /** One XML-RPC call; rejects with a SupervisorError. `timeout` (seconds) overrides the client's for calls that wait, such as stopProcess. */
  async call(method: string, params: readonly XmlRpcParam[] = [], options: { timeout?: number } = {}): Promise<unknown> {
    const { name, url, endpoint, username, password } = this.options;
    const timeout = options.timeout ?? this.options.timeout;
    let body: string;
    try {
      body = encodeMethodCall(method, params);
    } catch (error) {
      throw new SupervisorError(`supervisor "${name}": cannot call ${method}: ${errorText(error)}`, 'protocol');
    }
    const where = `supervisor "${name}" at ${url}`;
    const target: http.RequestOptions = endpoint.transport === 'unix' ? { socketPath: endpoint.socketPath, path: '/RPC2' } : httpTarget(endpoint.url, this.options.connectTo);
    const auth = username !== undefined ? { auth: `${username}:${password ?? ''}` } : {};

    return new Promise((resolve, reject) => {
      let settled = false;
      // The whole call has `timeout` seconds: a server that trickles a byte at a time never lets
      // the socket go idle, so an idle timeout alone would wait for ever.
      const deadline = setTimeout(() => fail(new SupervisorError(`${where} did not answer ${method} within ${timeout}s`, 'timeout')), timeout * 1000);
      const fail = (error: SupervisorError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        request.destroy();
        reject(error);
      };
      const request = http.request(
        {
          ...target,
          ...auth,
          method: 'POST',
          agent: this.agent ?? false,
          headers: { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(body) },
        },
        (response) => {
          if (response.statusCode === 401) {
            response.resume();
            fail(new SupervisorError(`authentication failed for supervisor "${name}" (${username === undefined ? 'no username configured' : `user "${username}"`})`, 'auth'));
            return;
          }
          if (response.statusCode !== 200) {
            response.resume();
            fail(new SupervisorError(`${where} answered HTTP ${response.statusCode ?? '?'} ${response.statusMessage ?? ''}`.trim(), 'http'));
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_REPLY_BYTES) fail(new SupervisorError(`${where} sent a reply larger than ${MAX_REPLY_BYTES / 1024 / 1024} MiB to ${method}`, 'protocol'));
            else chunks.push(chunk);
          });
          response.on('error', (error) => fail(new SupervisorError(`${where}: ${error.message}`, 'unreachable')));
          response.on('end', () => {
            if (settled) return;
            let reply: XmlRpcResponse;
            try {
              reply = decodeMethodResponse(Buffer.concat(chunks).toString('utf8'));
            } catch (error) {
              const message = errorText(error);
              fail(new SupervisorError(`${where} sent a reply that is not XML-RPC (${firstLine(message)}); is the URL right?`, 'protocol'));
              return;
            }
            if ('fault' in reply) {
              const { faultCode, faultString } = reply.fault;
              const faultName = FAULT_NAMES[faultCode] ?? `fault ${faultCode}`;
              const detail = faultString.replace(new RegExp(`^${faultName}:?\\s*`), '');
              fail(new SupervisorError(`supervisor "${name}": ${method} failed: ${faultName}${detail ? `: ${detail}` : ''}`, 'fault', faultName));
              return;
            }
            settled = true;
            clearTimeout(deadline);
            resolve(reply.value);
          });
        },
      );
      request.on('error', (error: NodeJS.ErrnoException) => fail(new SupervisorError(`cannot reach ${where}: ${error.code ?? error.message}`, 'unreachable')));
      request.end(body);
    });
  }
}

function httpTarget(url: string, connectTo: SupervisorClientOptions['connectTo']): http.RequestOptions {
  const parsed = new URL(url);
  const path = parsed.pathname + parsed.search;
  if (connectTo) return { host: connectTo.host, port: connectTo.port, path };
  return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: parsed.port || 80, path };
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}
