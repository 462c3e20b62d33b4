// supervisord's event-listener protocol, byte for byte: the listener writes `READY\n`;
// supervisord sends one header line of `key:value` tokens, then exactly `len` bytes of
// payload; the listener answers `RESULT 2\nOK` (or `RESULT 4\nFAIL` to have it re-sent).
// Nothing else may ever reach stdout: a stray byte puts the listener in UNKNOWN and
// supervisord silently stops sending it events.

import type { Readable, Writable } from 'node:stream';

/** A header line longer than this is not supervisord talking. */
const MAX_HEADER_BYTES = 8192;
/** PROCESS_COMMUNICATION payloads are capped by supervisord far below this. */
const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

export interface ListenerEvent {
  /** The header's tokens: ver, server, serial, pool, poolserial, eventname, len. */
  header: Record<string, string>;
  eventName: string;
  /** The payload's own `key:value` tokens (a TICK's `when`), for events that have them. */
  payload: Record<string, string>;
  rawPayload: Buffer;
}

/** stdin does not carry the protocol: the listener cannot go on. */
export class ProtocolError extends Error {}

export class ListenerProtocol {
  private buffered: Buffer = Buffer.alloc(0);
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private readonly onData = (chunk: Buffer): void => {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    this.notify();
  };
  private readonly onEnd = (): void => {
    this.ended = true;
    this.notify();
  };
  private readonly onError = (error: Error): void => {
    this.failure = error;
    this.notify();
  };

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
  ) {
    input.on('data', this.onData);
    input.on('end', this.onEnd);
    input.on('error', this.onError);
  }

  ready(): Promise<void> {
    return this.write('READY\n');
  }

  ok(): Promise<void> {
    return this.write('RESULT 2\nOK');
  }

  /** The next event, or undefined when supervisord closed stdin between events. */
  async next(): Promise<ListenerEvent | undefined> {
    for (;;) {
      const event = this.parse();
      if (event) return event;
      if (this.failure) throw new ProtocolError(`cannot read events from stdin: ${this.failure.message}`);
      if (this.ended) {
        if (this.buffered.length > 0) throw new ProtocolError(`stdin ended in the middle of an event (${this.buffered.length} bytes unread)`);
        return undefined;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  close(): void {
    this.input.off('data', this.onData);
    this.input.off('end', this.onEnd);
    this.input.off('error', this.onError);
    this.input.pause();
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private parse(): ListenerEvent | undefined {
    const newline = this.buffered.indexOf(0x0a);
    if (newline === -1) {
      if (this.buffered.length > MAX_HEADER_BYTES) throw new ProtocolError(`no event header: ${this.buffered.length} bytes without a newline on stdin`);
      return undefined;
    }
    const line = this.buffered.subarray(0, newline).toString('utf8');
    const header = tokens(line);
    const len = header.len;
    if (len === undefined || !/^\d+$/.test(len) || header.eventname === undefined) {
      throw new ProtocolError(`not a supervisord event header: ${JSON.stringify(line.slice(0, 200))} (is this running as a supervisord [eventlistener]?)`);
    }
    const length = Number(len);
    if (length > MAX_PAYLOAD_BYTES) throw new ProtocolError(`event payload of ${length} bytes is larger than ${MAX_PAYLOAD_BYTES}`);
    if (this.buffered.length < newline + 1 + length) return undefined;
    const rawPayload = Buffer.from(this.buffered.subarray(newline + 1, newline + 1 + length));
    this.buffered = Buffer.from(this.buffered.subarray(newline + 1 + length));
    // Process events carry `key:value` tokens on their first line, then data (PROCESS_LOG, PROCESS_COMMUNICATION).
    const firstLine = rawPayload.toString('utf8').split('\n', 1)[0] ?? '';
    return { header, eventName: header.eventname, payload: tokens(firstLine), rawPayload };
  }

  private write(text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      // supervisord gone (EPIPE) is the end of the protocol, not a crash.
      this.output.write(text, (error) => (error ? reject(new ProtocolError(`cannot write to stdout: ${error.message}`)) : resolve()));
    });
  }
}

/** "ver:3.0 server:supervisor eventname:TICK_5 len:15" → { ver: "3.0", … }. */
function tokens(line: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const token of line.split(' ')) {
    const colon = token.indexOf(':');
    if (colon > 0) result[token.slice(0, colon)] = token.slice(colon + 1);
  }
  return result;
}
