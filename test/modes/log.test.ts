// The long-running modes' log: JSON events off a terminal, readable lines on one.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import pino from 'pino';
import { createLog, jsonLine, logFormat, type LogFields, type LogLevel } from '../../src/modes/log.js';
import type { CliIo } from '../../src/shared/io.js';
import { logEvents } from '../helpers/log-events.js';

function capture(overrides: Partial<CliIo> = {}): { io: CliIo; text: () => string } {
  const chunks: string[] = [];
  const io: CliIo = { stdout: () => assert.fail('a log never writes to stdout'), stderr: (text) => void chunks.push(text), env: {}, cwd: '/', ...overrides };
  return { io, text: () => chunks.join('') };
}

describe('log', () => {
  it('JSON lines off a terminal: level, time, name, message and the event fields', async () => {
    const { io, text } = capture();
    const log = await createLog(io, 'procguard');
    log('restart web:w1 (pid 11) by web: done: rss 20.0 MiB > 10.0 MiB', { event: 'action', policy: 'web', target: { pid: 11, namespec: 'web:w1' }, reason: 'rss 20.0 MiB > 10.0 MiB' });
    log('the "new" configuration is invalid', { event: 'reload', level: 'error' });
    const [action, reload] = logEvents(text());
    assert.equal(action?.level, 'info');
    assert.equal(action?.name, 'procguard');
    assert.equal(action?.pid, process.pid);
    assert.ok(!Number.isNaN(Date.parse(action?.time ?? '')));
    assert.deepEqual([action?.event, action?.policy, action?.target, action?.reason], ['action', 'web', { pid: 11, namespec: 'web:w1' }, 'rss 20.0 MiB > 10.0 MiB']);
    assert.equal(reload?.level, 'error');
    assert.equal(reload?.msg, 'the "new" configuration is invalid');
  });

  it('readable lines on a terminal: the time, level and message, each event once', async () => {
    const { io, text } = capture({ stderrIsTTY: true, env: { NO_COLOR: '1' } });
    assert.equal(logFormat(io), 'pretty');
    const log = await createLog(io, 'procguard');
    log('restart web:w1 (pid 11) by web: failed: rss 20.0 MiB > 10.0 MiB → supervisord said BAD_NAME', {
      event: 'action',
      level: 'error',
      policy: 'web',
      target: { pid: 11, namespec: 'web:w1' },
      reason: 'rss 20.0 MiB > 10.0 MiB',
      error: 'supervisord said BAD_NAME',
    });
    log('stopped after 3 cycles');
    const time = /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] /;
    const lines = text().split('\n');
    assert.ok(
      lines.slice(0, 2).every((line) => time.test(line)),
      text(),
    );
    assert.deepEqual(
      lines.map((line) => line.replace(time, '')),
      ['ERROR (procguard): restart web:w1 (pid 11) by web: failed: rss 20.0 MiB > 10.0 MiB → supervisord said BAD_NAME', 'INFO (procguard): stopped after 3 cycles', ''],
    );
    assert.doesNotMatch(text(), /\x1b\[/, 'no colour with NO_COLOR');
  });

  describe('the JSON lines are the ones pino wrote, as procguard configured it', () => {
    /** pino as createLog configured it before it wrote its lines itself. */
    function pinoLine(component: string, message: string, fields: LogFields): string {
      let line = '';
      const logger = pino(
        { name: component, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
        { write: (text: string) => void (line += text) },
      );
      const { level = 'info', ...rest } = fields;
      logger[level](rest, message);
      return line;
    }
    const sameTime = (line: string): string => line.replace(/^(\{"level":"\w+","time":)"[^"]*"/, '$1"T"');
    /** Text pino writes as JSON.stringify does: it wrote a lone surrogate of a short string as it was (see below). */
    const text = fc.string({ unit: 'binary', maxLength: 120 }).filter((t) => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(t));
    const value = fc.oneof(
      text,
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      fc.constant(() => 1),
      fc.jsonValue(),
      fc.constant({ pid: 11, namespec: 'web:w1', name: 'php-fpm' }),
    );
    const fields = fc.record({
      level: fc.constantFrom<LogLevel | undefined>('info', 'warn', 'error', undefined),
      rest: fc.dictionary(
        text.filter((k) => k !== 'level' && k !== '__proto__'),
        value,
        { maxKeys: 8, noNullPrototype: true },
      ),
    });

    it('for any message and fields', () => {
      fc.assert(
        fc.property(text, text, fields, (component, message, { level, rest }) => {
          const event: LogFields = level === undefined ? rest : { ...rest, level };
          assert.equal(sameTime(jsonLine(component, message, event)), sameTime(pinoLine(component, message, event)));
        }),
        { numRuns: 1000 },
      );
    });

    it('for what the daemon logs', () => {
      const events: [string, LogFields][] = [
        ['running: 2 policies from 1 file (/etc/procguard), a cycle every 30s, state in /var/lib/procguard', {}],
        [
          'restart web:w1 (pid 11) by web: done: rss 20.0 MiB > 10.0 MiB',
          { event: 'action', level: 'info', policy: 'web', action: 'restart', target: { pid: 11, namespec: 'web:w1' }, status: 'done', reason: 'rss 20.0 MiB > 10.0 MiB', observed: undefined },
        ],
        ['/etc/procguard/a.yaml:3:5: error: "x" is not a "kind"', { event: 'config', level: 'error' }],
        ['notify ops for web: failed: "quoted" \\ back\tslash\u0001', { event: 'notification', level: 'warn', to: 'ops', error: 'connect ECONNREFUSED' }],
        ['cleared: warning: it ended', { event: 'warning', level: 'info', cleared: true, since: 1795000000.25, attempts: 3, ok: false, nothing: null }],
      ];
      for (const [message, fields] of events) assert.equal(sameTime(jsonLine('procguard', message, fields)), sameTime(pinoLine('procguard', message, fields)));
      assert.equal(
        jsonLine('procguard', 'm', {}, new Date(Date.UTC(2026, 11, 5, 12, 0, 0, 7))),
        `{"level":"info","time":"2026-12-05T12:00:00.007Z","pid":${process.pid},"name":"procguard","msg":"m"}\n`,
      );
    });

    it('writes a lone surrogate as a JSON escape, which pino left as it was (for stderr to write as U+FFFD), and logs a field that cannot be serialized', () => {
      const line = jsonLine('procguard', 'name \ud800', { bad: 'x\udc00' });
      assert.match(line, /,"bad":"x\\udc00","msg":"name \\ud800"\}\n$/);
      assert.deepEqual(JSON.parse(line), { level: 'info', time: JSON.parse(line).time, pid: process.pid, name: 'procguard', bad: 'x\udc00', msg: 'name \ud800' });
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      assert.match(jsonLine('procguard', 'm', { circular, big: 1n, after: 1 }), /,"circular":"\[unable to serialize\]","big":"\[unable to serialize\]","after":1,"msg":"m"\}\n$/);
    });
  });

  it('PROCGUARD_LOG_FORMAT chooses either way', () => {
    assert.equal(logFormat(capture({ stderrIsTTY: true, env: { PROCGUARD_LOG_FORMAT: 'json' } }).io), 'json');
    assert.equal(logFormat(capture({ stderrIsTTY: false, env: { PROCGUARD_LOG_FORMAT: 'pretty' } }).io), 'pretty');
    assert.equal(logFormat(capture({ stderrIsTTY: false }).io), 'json');
  });
});
