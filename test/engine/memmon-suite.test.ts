// superlance's own memmon test suite (superlance/tests/memmon_test.py), re-expressed: the
// same command lines become policies as the memmon drop-in builds them (the YAML `import
// memmon` prints), the same supervisord view becomes a snapshot, and the engine must make
// the same restart and mail decisions.
//
// memmon's fixture (tests/dummy.py) lists foo (pid 11), bar (pid 12) and baz:baz_01 (pid 12
// again, while STOPPED); its fake ps reports 22<pid> KiB. A real supervisord reports pid 0
// for a program that is not running, so here each program runs with its own pid and the
// RSS memmon's tests log for it. Failing stop/start calls belong to the drop-in's tests.
import assert from 'node:assert/strict';
import { evaluate } from '../../src/engine/evaluate.js';
import { emptyState, type Plan } from '../../src/data/types.js';
import { MEMMON_DEFAULT_SENDMAIL, parseMemmonArgs } from '../../src/import/memmon-options.js';
import { memmonPolicySet } from '../../src/modes/memmon.js';
import { parseMemmonUptime } from '../../src/shared/units.js';
import { proc, snapshot, T0 } from '../helpers/snapshots.js';

const programs = [
  { pid: 11, group: 'foo', name: 'foo', rss: 2264064 },
  { pid: 12, group: 'bar', name: 'bar', rss: 2265088 },
  { pid: 13, group: 'baz', name: 'baz_01', rss: 2265088 },
];
const dummySnapshot = snapshot(
  programs.map((p) => proc(p.pid, 'python', { ppid: 500, rss: p.rss, start_time: T0 - 100, supervisor: { server: 'default', group: p.group, name: p.name, statename: 'RUNNING', start: T0 - 100 } })),
);
/** _makeOnePopulated: sendmail 'cat - > /dev/null', email chrism@plope.com, email_uptime_limit 2000. */
const populated = ['-s', 'cat - > /dev/null', '-m', 'chrism@plope.com', '-u', '2000'];

async function memmonPlan(args: string[], snap = dummySnapshot): Promise<Plan> {
  const built = await memmonPolicySet(parseMemmonArgs(args), args);
  assert.ok('policySet' in built, JSON.stringify(built));
  return evaluate(built.policySet, snap, emptyState(), snap.time).plan;
}

const restarted = (plan: Plan): string[] => plan.actions.filter((a) => a.status === 'planned' && a.action === 'restart').map((a) => a.target.namespec ?? '');
const subjects = (plan: Plan): string[] => plan.notifications.map((n) => n.subject);

describe("memmon's own test suite, through import memmon", () => {
  const ticks: Array<{ test: string; args: string[]; restarts: string[] }> = [
    { test: 'test_runforever_tick_programs', args: ['-p', 'foo=0', '-p', 'bar=0', '-p', 'baz_01=0'], restarts: ['foo:foo', 'bar:bar', 'baz:baz_01'] },
    { test: 'test_runforever_tick_groups', args: ['-g', 'foo=0'], restarts: ['foo:foo'] },
    { test: 'test_runforever_tick_any', args: ['-a', '0'], restarts: ['foo:foo', 'bar:bar', 'baz:baz_01'] },
    { test: 'test_runforever_tick_programs_and_groups', args: ['-p', 'baz_01=0', '-g', 'foo=0'], restarts: ['baz:baz_01', 'foo:foo'] },
    // sys.maxsize is beyond a JavaScript safe integer; the largest safe one says the same
    { test: 'test_runforever_tick_programs_norestart', args: ['-p', `foo=${Number.MAX_SAFE_INTEGER}`], restarts: [] },
  ];
  for (const t of ticks) {
    it(`${t.test}: restarts ${t.restarts.join(', ') || 'nothing'}, one mail per restart`, async () => {
      const plan = await memmonPlan([...t.args, ...populated]);
      assert.deepEqual(restarted(plan).sort(), [...t.restarts].sort());
      assert.deepEqual(subjects(plan).sort(), t.restarts.map((r) => `memmon: process ${r} restarted`).sort());
      for (const n of plan.notifications) assert.match(n.body, /^memmon\.py restarted the process named \S+ at .+ because it was consuming too much memory \(\d+ bytes RSS\)$/);
    });
  }

  it('test_runforever_notatick: no snapshot, no plan — covered by the drop-in; here an empty host plans nothing', async () => {
    assert.deepEqual((await memmonPlan(['-a', '0', ...populated], snapshot([]))).actions, []);
  });

  it('test_subject_no_name and test_subject_with_name', async () => {
    assert.ok(subjects(await memmonPlan(['-a', '0', ...populated])).includes('memmon: process baz:baz_01 restarted'));
    assert.ok(subjects(await memmonPlan(['-a', '0', '-n', 'thinko', ...populated])).includes('memmon [thinko]: process baz:baz_01 restarted'));
  });

  for (const [limit, mails] of [
    ['101', 1],
    ['100', 1],
    ['99', 0],
  ] as const) {
    it(`test_uptime_short_email / test_uptime_long_no_email: uptime 100 and -u ${limit}: ${mails ? 'mail' : 'no mail'}`, async () => {
      const plan = await memmonPlan(['-p', 'foo=0', '-s', 'cat - > /dev/null', '-m', 'chrism@plope.com', '-u', limit]);
      assert.deepEqual(restarted(plan), ['foo:foo']);
      assert.equal(plan.notifications.length, mails);
    });
  }

  it('test_parse_uptime', () => {
    assert.deepEqual(['1', '1s', '2m', '3h', '1d'].map(parseMemmonUptime), [1, 1, 120, 10800, 86400]);
    assert.equal(parseMemmonUptime('1y'), undefined);
  });

  it('test_calc_rss_cumulative: -c sums the process and all its descendants (1000 KiB)', async () => {
    const tree = snapshot([
      proc(199, 'parent', { ppid: 1, rss: 333 * 1024 }),
      proc(101, 'python', { ppid: 199, rss: 100 * 1024, supervisor: { server: 'default', group: 'foo', name: 'foo', statename: 'RUNNING', start: T0 - 100 } }),
      proc(102, 'child', { ppid: 101, rss: 200 * 1024 }),
      proc(103, 'grandchild', { ppid: 102, rss: 300 * 1024 }),
      proc(104, 'grandchild', { ppid: 102, rss: 400 * 1024 }),
      proc(11111, 'unrelated', { ppid: 22222, rss: 333 * 1024 }),
    ]);
    const cumulative = await memmonPlan(['-c', '-p', 'foo=999KB', ...populated], tree);
    assert.deepEqual(restarted(cumulative), ['foo:foo']);
    assert.match(cumulative.notifications[0]?.body ?? '', /\(1024000 bytes RSS\)$/);
    assert.deepEqual(restarted(await memmonPlan(['-c', '-p', 'foo=1000KB', ...populated], tree)), [], 'strict >: 1000 KiB is not over 1000KB');
    assert.deepEqual(restarted(await memmonPlan(['-p', 'foo=99KB', ...populated], tree)), ['foo:foo'], 'without -c only the process');
    assert.deepEqual(restarted(await memmonPlan(['-p', 'foo=100KB', ...populated], tree)), []);
  });

  it('test_argparser: every option, long forms and defaults', () => {
    const all = parseMemmonArgs(['-c', '-p', 'foo=50MB', '-g', 'bar=10kB', '--any', '250', '-s', 'mutt', '-m', 'me@you.com', '-u', '1d', '-n', 'myproject']);
    assert.deepEqual(
      [all.cumulative, all.programs.get('foo'), all.groups.get('bar'), all.any, all.sendmail, all.email, all.uptime, all.name],
      [true, 50 * 1024 * 1024, 10 * 1024, 250, 'mutt', 'me@you.com', 86400, 'myproject'],
    );
    const defaults = parseMemmonArgs(['-m', 'me@you.com']);
    assert.deepEqual(
      [defaults.cumulative, defaults.programs.size, defaults.groups.size, defaults.any, defaults.sendmail, defaults.uptime, defaults.name],
      [false, 0, 0, undefined, MEMMON_DEFAULT_SENDMAIL, undefined, undefined],
    );
    assert.equal(parseMemmonArgs(['-p', 'foo=50MB']).email, undefined);
    assert.equal(parseMemmonArgs(['-h']).help, true);
    const long = parseMemmonArgs(['--cumulative', '--program=foo=1GB', '--groupname', 'g=1kb', '--sendmail', 'x', '--email=a@b', '--uptime=2m', '--name=n', '--prog', 'bar=2']);
    assert.deepEqual(
      [long.cumulative, long.programs.get('foo'), long.programs.get('bar'), long.groups.get('g'), long.sendmail, long.email, long.uptime, long.name],
      [true, 1073741824, 2, 1024, 'x', 'a@b', 120, 'n'],
    );
  });

  describe("memmon's bugs, fixed", () => {
    it('-p group:name=SIZE works (memmon raised KeyError)', async () => {
      assert.deepEqual(restarted(await memmonPlan(['-p', 'baz:baz_01=0', ...populated])), ['baz:baz_01']);
    });

    it('a process matched by several rules is restarted once per cycle', async () => {
      const plan = await memmonPlan(['-p', 'foo=0', '-g', 'foo=0', '-a', '0', ...populated]);
      assert.deepEqual(restarted(plan).sort(), ['bar:bar', 'baz:baz_01', 'foo:foo']);
      assert.equal(plan.notifications.length, 3);
    });

    it('-n is not overwritten by -p or -g', async () => {
      const plan = await memmonPlan(['-n', 'web', '-p', 'foo=0', '-g', 'bar=0', ...populated]);
      assert.deepEqual(subjects(plan).sort(), ['memmon [web]: process bar:bar restarted', 'memmon [web]: process foo:foo restarted']);
    });
  });

  it('refuses what memmon refuses, with the reason', () => {
    for (const [args, message] of [
      [['-p', 'foo'], /Unparseable value "foo" for -p/],
      [['-p', 'foo=1.5GB'], /Unparseable byte_size in "1.5GB" for -p/],
      [['-a', '1TB'], /Unparseable byte_size in "1TB" for -a/],
      [['-u', '1w'], /Unparseable uptime "1w" for -u/],
      [['-x'], /option -x not recognized/],
      [['--bogus'], /option --bogus not recognized/],
      [['-p'], /option -p requires argument/],
    ] as const) {
      assert.throws(() => parseMemmonArgs(args), message);
    }
  });
});
