// supervisord's event-listener protocol: headers and payloads however stdin splits them, the
// exact bytes written back, and serveEvents answering a scripted supervisord in-process.
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { memoryStore } from '../../src/modes/cycle.js';
import { serveEvents } from '../../src/modes/eventlistener.js';
import { ListenerProtocol, ProtocolError, type ListenerEvent } from '../../src/modes/listener-protocol.js';
import { Service } from '../../src/modes/service.js';
import { policySetOf } from '../helpers/snapshots.js';
import { yaml } from '../helpers/policy-files.js';

/** One event as supervisord frames it: the header's len counts the payload's bytes. */
function frame(eventName: string, payload: string, serial = 0): Buffer {
  const body = Buffer.from(payload, 'utf8');
  return Buffer.concat([Buffer.from(`ver:3.0 server:supervisor serial:${serial} pool:procguard poolserial:${serial} eventname:${eventName} len:${body.length}\n`), body]);
}

async function readAll(input: Buffer[], options: { end?: boolean } = {}): Promise<Array<ListenerEvent | undefined | Error>> {
  const stdin = new PassThrough();
  const protocol = new ListenerProtocol(stdin, new PassThrough());
  for (const chunk of input) stdin.write(chunk);
  if (options.end !== false) stdin.end();
  const events: Array<ListenerEvent | undefined | Error> = [];
  for (;;) {
    try {
      const event = await protocol.next();
      events.push(event);
      if (!event) break;
    } catch (error) {
      events.push(error as Error);
      break;
    }
  }
  protocol.close();
  return events;
}

const tick = frame('TICK_5', 'when:1795266630');

describe('the supervisord event-listener protocol', () => {
  const cases: Array<{ name: string; input: Buffer[]; expect: Array<[string, string] | 'end' | RegExp> }> = [
    { name: 'a TICK in one chunk', input: [tick], expect: [['TICK_5', '1795266630'], 'end'] },
    { name: 'a TICK one byte at a time', input: [...tick].map((byte) => Buffer.from([byte])), expect: [['TICK_5', '1795266630'], 'end'] },
    {
      name: 'two events in one chunk, the second a process event with data after its tokens',
      input: [Buffer.concat([tick, frame('PROCESS_LOG_STDOUT', 'processname:web groupname:web pid:42 channel:stdout\nhello\nwörld', 1)])],
      expect: [['TICK_5', '1795266630'], ['PROCESS_LOG_STDOUT', ''], 'end'],
    },
    { name: 'a payload of multi-byte characters: len counts bytes', input: [frame('TICK_60', 'when:1795266600 ünïcödé'), tick], expect: [['TICK_60', '1795266600'], ['TICK_5', '1795266630'], 'end'] },
    {
      name: 'a header that is not supervisord',
      input: [Buffer.from('hello there\n')],
      expect: [/not a supervisord event header: "hello there" \(is this running as a supervisord \[eventlistener\]\?\)/],
    },
    { name: 'a length that is not a number', input: [Buffer.from('ver:3.0 eventname:TICK_5 len:x\n')], expect: [/not a supervisord event header/] },
    { name: 'stdin ends inside a payload', input: [tick.subarray(0, tick.length - 3)], expect: [/stdin ended in the middle of an event \(\d+ bytes unread\)/] },
    { name: 'stdin ends between events', input: [], expect: ['end'] },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const events = await readAll(c.input);
      assert.equal(events.length, c.expect.length);
      c.expect.forEach((expected, i) => {
        const got = events[i];
        if (expected === 'end') assert.equal(got, undefined);
        else if (expected instanceof RegExp) {
          assert.ok(got instanceof ProtocolError);
          assert.match(got.message, expected);
        } else {
          assert.ok(got && !(got instanceof Error));
          assert.deepEqual([got.eventName, got.payload.when ?? ''], expected);
        }
      });
    });
  }

  it('a header line without a newline past 8 KiB is refused instead of buffered forever', async () => {
    const [result] = await readAll([Buffer.alloc(9000, 0x61)], { end: false });
    assert.ok(result instanceof ProtocolError);
    assert.match(result.message, /no event header: 9000 bytes without a newline/);
  });

  it('writes exactly READY\\n and RESULT 2\\nOK', async () => {
    const stdout = new PassThrough();
    const protocol = new ListenerProtocol(new PassThrough(), stdout);
    await protocol.ready();
    await protocol.ok();
    await protocol.ready();
    protocol.close();
    assert.equal(stdout.read().toString(), 'READY\nRESULT 2\nOKREADY\n');
  });
});

describe('serveEvents: a listener answering a scripted supervisord', function () {
  this.timeout(20000);

  function listener(): { service: Service; stdin: PassThrough; stdout: PassThrough; logs: string[] } {
    const logs: string[] = [];
    // A policy that matches nothing here: each cycle collects the live host and acts on nothing.
    const policySet = policySetOf(yaml`
      policies:
        - { name: nothing, kind: oom, match: { name: no-such-process-anywhere }, oom_score_adj: 1 }
    `);
    const service = new Service({ env: {}, log: (line) => logs.push(line), config: { policySet, files: [] }, store: memoryStore() });
    return { service, stdin: new PassThrough(), stdout: new PassThrough(), logs };
  }

  it('one cycle per TICK, other events acknowledged untouched, a tick queued during a cycle acknowledged without one; stdout holds only the protocol', async () => {
    const { service, stdin, stdout, logs } = listener();
    const served = serveEvents(service, { input: stdin, output: stdout });
    const now = Math.floor(Date.now() / 1000);
    stdin.write(frame('TICK_5', `when:${now + 1}`));
    stdin.write(frame('PROCESS_STATE_RUNNING', 'processname:web groupname:web from_state:STARTING pid:42', 1));
    stdin.write(frame('TICK_5', `when:${now - 5}`, 2)); // from before the first cycle began: stale
    stdin.write(frame('TICK_60', `when:${now + 2}`, 3));
    stdin.end();
    assert.equal(await served, 0);
    assert.equal(stdout.read().toString(), `READY\n${'RESULT 2\nOKREADY\n'.repeat(4)}`);
    assert.equal(service.cycles, 2);
    assert.ok(logs.includes(`TICK_5 of ${now - 5} acknowledged without a cycle: one began after it`));
    assert.ok(logs.includes('stdin closed: supervisord has gone; stopping'));
  });

  it('garbage on stdin: logged, no acknowledgement invented, exit 3', async () => {
    const { service, stdin, stdout, logs } = listener();
    const served = serveEvents(service, { input: stdin, output: stdout });
    stdin.write('this is not supervisord\n');
    assert.equal(await served, 3);
    assert.equal(stdout.read().toString(), 'READY\n');
    assert.ok(logs.some((line) => line.startsWith('not a supervisord event header: "this is not supervisord"')));
  });

  it('stdout closed under it (supervisord gone): logged, the listener stops cleanly with exit 3, no crash', async () => {
    const { service, stdin, logs } = listener();
    const stdout = new Writable({ write: (_chunk, _encoding, callback) => callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })) });
    assert.equal(await serveEvents(service, { input: stdin, output: stdout }), 3);
    assert.ok(
      logs.some((line) => line.startsWith('cannot write to stdout: write EPIPE; stopping')),
      logs.join('\n'),
    );
  });

  it('SIGTERM while waiting for an event: stops at once and exits 0', async () => {
    const { service, stdin, stdout, logs } = listener();
    const served = serveEvents(service, { input: stdin, output: stdout });
    await new Promise((resolve) => setTimeout(resolve, 50));
    process.emit('SIGTERM', 'SIGTERM');
    assert.equal(await served, 0);
    assert.equal(stdout.read().toString(), 'READY\n');
    assert.ok(logs.includes('SIGTERM: stopping'));
    assert.equal(process.listenerCount('SIGTERM'), 0, 'its signal handlers are removed');
  });
});
