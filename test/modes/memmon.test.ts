// The memmon drop-in's command line: memmon's usage and exit status 255 on a bad one, help,
// the supervisord it needs, and the policies and mail transport its options become.
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { MEMMON_BODY, MEMMON_SUBJECT } from '../../src/import/import.js';
import { parseMemmonArgs, takeListenOption } from '../../src/import/memmon-options.js';
import { memmonPolicySet } from '../../src/modes/memmon.js';
import type { MailNotifier, PolicySet } from '../../src/policy/model.js';
import { runProcguard, STACK_TRACE } from '../helpers/run-cli.js';

async function policySetFor(args: string[]): Promise<PolicySet> {
  const built = await memmonPolicySet(parseMemmonArgs(args), args);
  assert.ok('policySet' in built, JSON.stringify(built));
  return built.policySet;
}

describe('procguard memmon: the command line', () => {
  const usage = /Usage: procguard memmon \[-c\] \[-p processname=byte_size\]/;
  const cases: Array<{ args: string[]; env?: NodeJS.ProcessEnv; code: number; stderr: RegExp[] }> = [
    { args: [], code: 255, stderr: [/^procguard memmon: give memmon options, e\.g\. -a 200MB -m ops@example\.com\n/, usage] },
    { args: ['-p', 'foo=1.5GB'], code: 255, stderr: [/^procguard memmon: Unparseable byte_size in "1\.5GB" for -p: use bytes, or a whole number with KB, MB or GB/, usage] },
    { args: ['--uptime=1w', '-a', '1MB'], code: 255, stderr: [/^procguard memmon: Unparseable uptime "1w" for --uptime/, usage] },
    { args: ['--bogus'], code: 255, stderr: [/^procguard memmon: option --bogus not recognized/, usage] },
    { args: ['-p', 'foo=1MB', 'stray'], code: 255, stderr: [/^procguard memmon: unexpected argument "stray"/, usage] },
    { args: ['-h'], code: 0, stderr: [/^procguard memmon: a drop-in for superlance memmon/, usage] },
    { args: ['--help'], code: 0, stderr: [usage] },
    { args: ['-p', 'foo=1MB', '--listen'], code: 255, stderr: [/^procguard memmon: option --listen requires argument\n/, usage] },
    { args: ['--listen=1', '-p', 'foo=1MB', '--listen', '2'], code: 255, stderr: [/^procguard memmon: option --listen given twice\n/, usage] },
    { args: ['-p', 'foo=1MB', '--listen', 'nowhere'], env: { SUPERVISOR_SERVER_URL: 'unix:///nonexistent19pg.sock' }, code: 2, stderr: [/--listen "nowhere" is not an address to listen on/] },
    { args: ['-p', 'foo=1MB'], code: 2, stderr: [/"level":"error".*SUPERVISOR_SERVER_URL is not set: run procguard memmon as a supervisord \[eventlistener\], which sets it/] },
  ];
  for (const c of cases) {
    it(`memmon ${c.args.join(' ') || '(no options)'}: exit ${c.code}`, async () => {
      const run = await runProcguard(['memmon', ...c.args], { env: { PATH: process.env.PATH ?? '', ...c.env } });
      assert.equal(run.code, c.code, run.stderr);
      assert.equal(run.stdout, '', 'stdout belongs to supervisord');
      for (const pattern of c.stderr) assert.match(run.stderr, pattern);
      assert.doesNotMatch(run.stderr, STACK_TRACE);
    });
  }
});

describe("procguard memmon: procguard's own --listen, taken off memmon's command line", () => {
  const cases: Array<{ argv: string[]; listen?: string; rest: string[] }> = [
    { argv: ['-a', '1MB', '--listen', '9120'], listen: '9120', rest: ['-a', '1MB'] },
    { argv: ['--listen=127.0.0.1:9120', '-cp', 'foo=1MB'], listen: '127.0.0.1:9120', rest: ['-cp', 'foo=1MB'] },
    // The value of an option memmon reads whole, and anything after --, stay memmon's.
    { argv: ['-p', '--listen', '-a', '1MB'], rest: ['-p', '--listen', '-a', '1MB'] },
    { argv: ['--name', '--listen', '-a', '1MB'], rest: ['--name', '--listen', '-a', '1MB'] },
    { argv: ['--em', '--listen', '-a', '1MB'], rest: ['--em', '--listen', '-a', '1MB'] },
    { argv: ['-a', '1MB', '--', '--listen', '9120'], rest: ['-a', '1MB', '--', '--listen', '9120'] },
    { argv: ['-c', '--listen', '9120'], listen: '9120', rest: ['-c'] },
  ];
  for (const c of cases) {
    it(c.argv.join(' '), () => {
      assert.deepEqual(takeListenOption(c.argv), { ...(c.listen !== undefined ? { listen: c.listen } : {}), rest: c.rest });
    });
  }
  it('memmon parses what is left as it parses a command line without --listen', () => {
    const { rest } = takeListenOption(['-cp', 'foo=1MB', '--listen', '9120', '-m', 'ops@example.com']);
    assert.deepEqual(parseMemmonArgs(rest), parseMemmonArgs(['-cp', 'foo=1MB', '-m', 'ops@example.com']));
  });
});

describe('procguard memmon: the policies its options become', () => {
  it('the same policies as import memmon: one per rule, restart, memmon mail gated by -u, -n as the name', async () => {
    const set = await policySetFor(['-c', '-p', 'web:w1=200MB', '-g', 'batch=1GB', '-m', 'ops@example.com', '-u', '2d', '-n', 'web']);
    assert.equal(set.settings.name, 'web');
    assert.deepEqual(
      set.policies.map((p) => (p.kind === 'memory' ? [p.name, p.match, 'bytes' in p.limit ? p.limit.bytes : undefined, p.scope, p.action.type, p.notify] : [])),
      [
        ['memmon-program-web-w1', { program: ['web:w1'] }, 200 * 1024 * 1024, 'tree', 'restart', [{ to: 'memmon-mail', uptimeAtMost: 172800 }]],
        ['memmon-group-batch', { group: ['batch'] }, 1024 ** 3, 'tree', 'restart', [{ to: 'memmon-mail', uptimeAtMost: 172800 }]],
      ],
    );
  });

  it("its notifier carries memmon's subject and body as templates, the same ones import memmon writes", async () => {
    const [notifier] = (await policySetFor(['-a', '1MB', '-m', 'ops@example.com'])).notifiers as MailNotifier[];
    assert.equal(notifier?.subject, MEMMON_SUBJECT);
    assert.equal(notifier?.body, MEMMON_BODY);
    const imported = await runProcguard(['import', 'memmon', '-a', '200MB', '-m', 'ops@example.com', '-n', 'web']);
    assert.equal(imported.code, 0, imported.stderr);
    const document = parse(imported.stdout) as { notifiers: Record<string, { mail: { subject: string; body: string } }> };
    assert.equal(document.notifiers['memmon-mail']?.mail.subject, MEMMON_SUBJECT);
    assert.equal(document.notifiers['memmon-mail']?.mail.body, MEMMON_BODY);
  });

  // memmon hands -s to os.popen, that is to /bin/sh -c: so does procguard memmon, adding nothing.
  const transports: Array<{ sendmail: string[]; argv: string[] }> = [
    { sendmail: [], argv: ['/usr/sbin/sendmail', '-t', '-i'] },
    { sendmail: ['-s', '/usr/lib/sendmail -t -i -f memmon@example.com'], argv: ['/bin/sh', '-c', '/usr/lib/sendmail -t -i -f memmon@example.com'] },
    { sendmail: ['-s', 'cat - > /dev/null'], argv: ['/bin/sh', '-c', 'cat - > /dev/null'] },
    { sendmail: ['--sendmail_program', 'msmtp -t | logger'], argv: ['/bin/sh', '-c', 'msmtp -t | logger'] },
  ];
  for (const t of transports) {
    it(`-s ${t.sendmail[1] ?? '(default)'} runs ${JSON.stringify(t.argv)}`, async () => {
      const [notifier] = (await policySetFor(['-a', '1MB', '-m', 'root', ...t.sendmail])).notifiers as MailNotifier[];
      assert.deepEqual(notifier?.to, ['root']);
      assert.deepEqual(notifier?.transport.type === 'sendmail' && notifier.transport.argv, t.argv);
    });
  }

  it('no -m: no notifier, as memmon mails nobody', async () => {
    const set = await policySetFor(['-a', '1MB', '-s', 'cat']);
    assert.deepEqual(set.notifiers, []);
    assert.deepEqual(set.policies[0]?.notify, []);
  });
});
