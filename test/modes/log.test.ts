// The long-running modes' log: JSON events off a terminal, readable lines on one.
import assert from 'node:assert/strict';
import { createLog, logFormat } from '../../src/modes/log.js';
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

  it('PROCGUARD_LOG_FORMAT chooses either way', () => {
    assert.equal(logFormat(capture({ stderrIsTTY: true, env: { PROCGUARD_LOG_FORMAT: 'json' } }).io), 'json');
    assert.equal(logFormat(capture({ stderrIsTTY: false, env: { PROCGUARD_LOG_FORMAT: 'pretty' } }).io), 'pretty');
    assert.equal(logFormat(capture({ stderrIsTTY: false }).io), 'json');
  });
});
