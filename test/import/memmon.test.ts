// import memmon: the policies keep the sizes and the uptime in the units the operator gave memmon.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { adapter as mail } from '../../src/actions/mail/mail.js';
import type { AdapterDeps } from '../../src/actions/types.js';
import { memmonPolicies } from '../../src/import/import.js';
import { parseMemmonArgs } from '../../src/import/memmon-options.js';
import type { MemoryPolicy } from '../../src/policy/kinds/memory.js';
import { readCaptured, writeCaptureScript } from '../helpers/mail.js';
import { policySetOf } from '../helpers/snapshots.js';

describe('import memmon', () => {
  const args = ['-p', 'web=200MB', '-g', 'workers=1gb', '-a', '1048576', '-p', 'small=512KB', '-u', '1d', '-m', 'ops@example.com'];
  const text = memmonPolicies(parseMemmonArgs(args), args);
  const document = parse(text) as { policies: Array<{ description: string; max_rss: unknown; notify: Array<{ uptime_at_most: unknown }> }> };

  it('keeps the units of each size and of the uptime', () => {
    assert.deepEqual(
      document.policies.map((p) => [p.description, p.max_rss, p.notify[0]?.uptime_at_most]),
      [
        ['memmon -p web=200MB', '200MB', '1d'],
        ['memmon -p small=512KB', '512KB', '1d'],
        ['memmon -g workers=1gb', '1GB', '1d'],
        ['memmon -a 1048576', 1048576, '1d'],
      ],
    );
    assert.match(text, /max_rss: 200MB\n/);
    assert.doesNotMatch(text, /209715200|86400/);
  });

  it('means what memmon meant: the same bytes and seconds (1024-based)', () => {
    const policies = policySetOf(text).policies as MemoryPolicy[];
    assert.deepEqual(
      policies.map((p) => ('bytes' in p.limit ? p.limit.bytes : undefined)),
      [200 * 1024 * 1024, 512 * 1024, 1024 * 1024 * 1024, 1048576],
    );
    assert.deepEqual(
      policies.map((p) => p.notify[0]?.uptimeAtMost),
      [86400, 86400, 86400, 86400],
    );
  });

  it('an uptime in bare seconds stays a number', () => {
    const seconds = ['-a', '200MB', '-u', '3600', '-m', 'ops@example.com'];
    const doc = parse(memmonPolicies(parseMemmonArgs(seconds), seconds)) as typeof document;
    assert.equal(doc.policies[0]?.notify[0]?.uptime_at_most, 3600);
  });

  it('-s runs through /bin/sh -c with nothing added, as memmon ran it: a pipe keeps working', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pg-import-s-'));
    try {
      const script = await writeCaptureScript(dir);
      const command = `${script} -t | tee ${dir}/piped > /dev/null`;
      const withS = ['-a', '200MB', '-m', 'ops@example.com', '-s', command];
      const imported = memmonPolicies(parseMemmonArgs(withS), withS);
      assert.deepEqual((parse(imported) as { notifiers: Record<string, { mail: { sendmail: unknown } }> }).notifiers['memmon-mail']?.mail.sendmail, ['/bin/sh', '-c', command]);
      const notifier = policySetOf(imported).notifiers.find((n) => n.name === 'memmon-mail');
      assert.equal(notifier?.type, 'mail');
      if (notifier?.type !== 'mail') return;
      assert.deepEqual(notifier.transport, { type: 'sendmail', command: `/bin/sh -c ${command}`, argv: ['/bin/sh', '-c', command], shell: true });
      const deps = { env: {}, now: () => 1795266602, hostname: 'web1', log: () => undefined } as unknown as AdapterDeps;
      const outcome = await mail.execute(
        { type: 'notification', notification: { policy: 'memmon-any', to: 'memmon-mail', subject: 'memmon: process web restarted', body: 'restarted\n' }, notifier, event: {} },
        deps,
      );
      assert.equal(outcome.status, 'done');
      const [captured] = await readCaptured(dir);
      // The command's own -t and nothing else: no -i, no recipients; they are in To:.
      assert.deepEqual(captured?.args, ['-t']);
      assert.equal(captured?.headers.get('to'), 'ops@example.com');
      assert.match(await readFile(join(dir, 'piped'), 'utf8'), /^capture: message accepted/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
