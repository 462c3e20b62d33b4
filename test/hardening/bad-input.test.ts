// Adversarial input fed to the built procguard as an operator (or an attacker who can create
// files or processes) would: policy files, snapshots and templates that are bombs, binary,
// FIFOs or symbolic links out of the policy directory, and regexes that backtrack for ever.
// Each gets one clear message naming the place, no stack trace, and a running process and
// the state file are left exactly as they were.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluate } from '../../src/engine/evaluate.js';
import { emptyState, type Plan } from '../../src/data/types.js';
import { LINEAR_SUBJECT_LENGTH, MATCH_LENGTH } from '../../src/policy/pattern.js';
import { CRAFTED_CASES, repeatTo } from '../helpers/crafted-command-lines.js';
import { proc, policySetOf, snapshot, T0 } from '../helpers/snapshots.js';
import { readCaptured, writeCaptureScript } from '../helpers/mail.js';
import { eventually, killAllChildren, spawnChild, type Child } from '../helpers/processes.js';
import { runProcguard, STACK_TRACE, type CliRun } from '../helpers/run-cli.js';

const STATE = { version: 1, targets: { 'kill-marker': { 'pid:1:1': { over: 1 } } }, paused: [] };

interface BadPolicyCase {
  name: string;
  /** Creates the bad file (or link) in the policy directory `dir`; `outside` is a directory beside it. */
  make(dir: string, outside: string): Promise<void>;
  message: RegExp;
}

const BILLION_LAUGHS = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].map((name, i) => `${name}: &${name} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
].join('\n');

const BAD_POLICIES: BadPolicyCase[] = [
  { name: 'a YAML alias bomb (billion laughs)', make: (dir) => writeFile(join(dir, 'evil.yaml'), `${BILLION_LAUGHS}\n`), message: /evil\.yaml:1:1: error: YAML aliases expand too far/ },
  {
    name: 'flow sequences nested 100,000 deep',
    make: (dir) => writeFile(join(dir, 'evil.yaml'), `${'['.repeat(100000)}${']'.repeat(100000)}\n`),
    message: /evil\.yaml:\d+:\d+: error: .*nests too deeply/i,
  },
  {
    name: 'block mappings nested 300 deep',
    make: (dir) => writeFile(join(dir, 'evil.yaml'), Array.from({ length: 300 }, (_, i) => `${' '.repeat(i)}k:`).join('\n') + ' 1\n'),
    message: /evil\.yaml:1:1: error: The file nests too deeply \(more than 64 levels/,
  },
  { name: 'a 5 MiB file', make: (dir) => writeFile(join(dir, 'evil.yaml'), `# ${'x'.repeat(5 * 1024 * 1024)}\n`), message: /evil\.yaml:1:1: error: Policy file \S+evil\.yaml is larger than 1 MiB/ },
  {
    name: 'a binary file',
    make: (dir) => writeFile(join(dir, 'evil.yaml'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00])),
    message: /evil\.yaml:1:1: error: Policy file \S+ is binary, not text \(a NUL byte at offset 7\)/,
  },
  {
    name: 'a Latin-1 file',
    make: (dir) => writeFile(join(dir, 'evil.yaml'), Buffer.from('settings: { name: caf\xe9 }\n', 'latin1')),
    message: /evil\.yaml:1:1: error: Policy file \S+ is not valid UTF-8 text/,
  },
  { name: 'a UTF-16 file', make: (dir) => writeFile(join(dir, 'evil.yaml'), Buffer.from('\ufeffsettings: {}\n', 'utf16le')), message: /evil\.yaml:1:1: error: Policy file \S+ is binary/ },
  {
    name: 'a FIFO named *.yaml (nobody writes to it)',
    make: async (dir) => void execFileSync('mkfifo', [join(dir, 'evil.yaml')]),
    message: /evil\.yaml:1:1: error: \S+evil\.yaml is not a regular file/,
  },
  {
    name: 'a symbolic link to a valid policy file outside the directory',
    make: async (dir, outside) => {
      await writeFile(join(outside, 'planted.yaml'), 'policies:\n  - { name: planted, kind: runtime, match: { name: sleep }, max_runtime: 1s, action: kill }\n');
      await symlink(join(outside, 'planted.yaml'), join(dir, 'evil.yaml'));
    },
    message: /evil\.yaml:1:1: error: Refused: policy file \S+evil\.yaml is a symbolic link to \S+planted\.yaml, outside the policy directory/,
  },
  {
    name: 'a symbolic link to /dev/zero',
    make: (dir) => symlink('/dev/zero', join(dir, 'evil.yaml')),
    message: /evil\.yaml:1:1: error: Refused: policy file \S+ is a symbolic link to \/dev\/zero, outside the policy directory/,
  },
  {
    name: 'a body_file that climbs out with ../',
    make: async (dir, outside) => {
      await writeFile(join(outside, 'body.hbs'), 'hello\n');
      await writeFile(join(dir, 'evil.yaml'), `notifiers:\n  ops: { mail: { to: ops@example.com, body_file: ../${outside.split('/').pop()}/body.hbs } }\n`);
    },
    message: /evil\.yaml:2:\d+: error: body_file of notifier "ops": Refused: \.\.\/\S+body\.hbs is \S+body\.hbs, outside /,
  },
  {
    name: 'an absolute body_file',
    make: (dir) => writeFile(join(dir, 'evil.yaml'), 'notifiers:\n  ops: { mail: { to: ops@example.com, body_file: /etc/passwd } }\n'),
    message: /evil\.yaml:2:\d+: error: body_file of notifier "ops": Refused: \/etc\/passwd is \/etc\/passwd, outside /,
  },
  {
    name: 'a body_file inside the directory that is a symbolic link to /etc/shadow',
    make: async (dir) => {
      await mkdir(join(dir, 'templates'));
      await symlink('/etc/shadow', join(dir, 'templates', 'body.hbs'));
      await writeFile(join(dir, 'evil.yaml'), 'notifiers:\n  ops: { mail: { to: ops@example.com, body_file: templates/body.hbs } }\n');
    },
    message: /evil\.yaml:2:\d+: error: body_file of notifier "ops": Refused: templates\/body\.hbs is \/etc\/shadow, outside /,
  },
  {
    name: 'keys named __proto__ and constructor, and YAML tags',
    make: (dir) =>
      writeFile(join(dir, 'evil.yaml'), 'settings: !!js/function "function(){}"\npolicies:\n  - { name: evil, kind: memory, match: { __proto__: { x: 1 }, constructor: x, name: a }, max_rss: 1MB }\n'),
    message: /evil\.yaml:3:\d+: error: Unexpected key "__proto__" in "match" of policy "evil"\. Allowed keys: program, group, supervisor, name, cmdline, exe, user, pidfile, exclude\n/,
  },
  {
    name: 'a cmdline pattern with a backreference',
    make: (dir) => writeFile(join(dir, 'evil.yaml'), 'policies:\n  - { name: evil, kind: runtime, match: { cmdline: "^(\\\\w+) \\\\1" }, max_runtime: 1h }\n'),
    message: /evil\.yaml:2:\d+: error: Regular expression "\^\(\\\\w\+\) \\\\1" in policy "evil" is refused: it cannot be matched in linear time/,
  },
  {
    name: 'a name pattern with a lookahead',
    make: (dir) => writeFile(join(dir, 'evil.yaml'), 'policies:\n  - { name: evil, kind: runtime, match: { name: "/^(?!sshd).*$/" }, max_runtime: 1h }\n'),
    message: /evil\.yaml:2:\d+: error: Regular expression .* is refused: .*exclude: for a condition that must not hold/,
  },
];

/** The victim's command line is this run's own: another run of these tests on the machine has its own victim. */
const VICTIM_SECONDS = `4242.${process.pid}`;

describe('hardening: adversarial policy files change nothing', function () {
  this.timeout(60000);
  let work: string;
  let dir: string;
  let outside: string;
  let stateDir: string;
  let victim: Child;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'pg-bad-'));
    dir = join(work, 'policies');
    outside = join(work, 'elsewhere');
    stateDir = join(work, 'state');
    await Promise.all([mkdir(dir), mkdir(outside), mkdir(stateDir)]);
    // Valid on its own: it would kill the victim at once. A bad neighbour must stop everything.
    victim = await spawnChild('sleep', [VICTIM_SECONDS]);
    await writeFile(
      join(dir, 'good.yaml'),
      `settings: { state_dir: ${stateDir} }\npolicies:\n  - { name: kill-marker, kind: memory, match: { cmdline: "^sleep ${VICTIM_SECONDS.replace('.', '\\\\.')}$" }, max_rss: 1KB, action: kill }\n`,
    );
    await writeFile(join(stateDir, 'state.json'), `${JSON.stringify(STATE)}\n`);
  });
  afterEach(async () => {
    killAllChildren();
    await rm(work, { recursive: true, force: true });
  });

  it('the directory without the bad file really would act on the victim (check plans a kill)', async () => {
    const run = await runProcguard(['check', '-c', dir, '--json']);
    assert.equal(run.code, 1, run.stderr);
    const plan = JSON.parse(run.stdout) as Plan;
    assert.deepEqual(
      plan.actions.map((a) => [a.policy, a.action, a.target.pid]),
      [['kill-marker', 'kill', victim.pid]],
    );
  });

  for (const testCase of BAD_POLICIES) {
    it(`${testCase.name}: validate, check and apply exit 2 saying where; nothing is killed and the state is untouched`, async () => {
      await testCase.make(dir, outside);
      const before = await readFile(join(stateDir, 'state.json'), 'utf8');
      for (const verb of [['validate'], ['check'], ['apply']]) {
        const run: CliRun = await runProcguard([...verb, '-c', dir]);
        assert.equal(run.code, 2, `${verb[0]}: ${run.stdout}${run.stderr}`);
        const output = run.stdout + run.stderr;
        assert.match(output, testCase.message, `${verb[0]}:\n${output}`);
        assert.doesNotMatch(output, STACK_TRACE);
        assert.ok(output.length < 20000, `${verb[0]} printed ${output.length} characters`);
      }
      assert.equal(victim.state() !== undefined && victim.state() !== 'Z', true, 'the victim is still running');
      assert.equal(await readFile(join(stateDir, 'state.json'), 'utf8'), before);
      assert.equal(existsSync(join(stateDir, 'audit.log')), false);
    });
  }

  it('-c naming a FIFO or /dev/zero: exit 2 at once, saying it is not a regular file', async () => {
    execFileSync('mkfifo', [join(outside, 'pipe.yaml')]);
    for (const path of [join(outside, 'pipe.yaml'), '/dev/zero']) {
      const run = await runProcguard(['validate', '-c', path]);
      assert.equal(run.code, 2);
      assert.match(run.stdout + run.stderr, new RegExp(`${path.replace(/[./]/g, '\\$&')} is not a regular file`));
    }
  });

  it('a symbolic link inside the directory to a file inside it is followed', async () => {
    await writeFile(join(dir, 'real.yml.txt'), 'policies:\n  - { name: linked, kind: oom, match: { name: nothing-here }, oom_score_adj: 0 }\n');
    await symlink('real.yml.txt', join(dir, 'linked.yaml'));
    const run = await runProcguard(['validate', '-c', dir]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
  });
});

interface BadSnapshotCase {
  name: string;
  make(path: string): Promise<void>;
  message: RegExp;
}

const BAD_SNAPSHOTS: BadSnapshotCase[] = [
  { name: 'not JSON', make: (p) => writeFile(p, '{"version": 1, "time": '), message: /snap\.json:1:\d+: error: YAML/ },
  { name: 'an empty file', make: (p) => writeFile(p, ''), message: /snap\.json:1:1: error: The snapshot must be a mapping/ },
  { name: 'a list', make: (p) => writeFile(p, '[1, 2, 3]'), message: /snap\.json:1:1: error: The snapshot must be a mapping, not a list/ },
  { name: 'a newer version', make: (p) => writeFile(p, '{"version": 2, "time": 1, "host": "h", "processes": []}'), message: /snap\.json:1:13: error: "version" in the snapshot must be 1, not 2/ },
  { name: 'processes that is a string', make: (p) => writeFile(p, '{"version": 1, "time": 1, "host": "h", "processes": "all"}'), message: /"processes" in the snapshot must be a list, not "all"/ },
  {
    name: 'a pid that is a string',
    make: (p) => writeFile(p, '{"version": 1, "time": 1, "host": "h", "processes": [{"pid": "1", "ppid": 0, "name": "x", "rss": 1, "start_time": 1}]}'),
    message: /"processes\[0\]\.pid" in the snapshot must be an integer, not "1"/,
  },
  {
    name: 'a negative rss',
    make: (p) => writeFile(p, '{"version": 1, "time": 1, "host": "h", "processes": [{"pid": 5, "ppid": 1, "name": "x", "rss": -5, "start_time": 1}]}'),
    message: /"processes\[0\]\.rss" in the snapshot must be >= 0, not -5/,
  },
  {
    name: 'two processes with one pid',
    make: (p) =>
      writeFile(
        p,
        '{"version": 1, "time": 9, "host": "h", "processes": [{"pid": 7, "ppid": 1, "name": "a", "rss": 1, "start_time": 1}, {"pid": 7, "ppid": 1, "name": "b", "rss": 1, "start_time": 1}]}',
      ),
    message: /snap\.json:1:\d+: error: "processes\[1\]\.pid" in the snapshot is 7, already the pid of processes\[0\]; two processes never share a pid/,
  },
  {
    name: 'sizes and times beyond any machine',
    make: (p) => writeFile(p, '{"version": 1, "time": 1e300, "host": "h", "processes": [{"pid": 1e20, "ppid": 1, "name": "a", "rss": 1e300, "start_time": 1}]}'),
    message: /"time" in the snapshot must be <= 253402300799, not 1e\+300/,
  },
  { name: 'an unknown key', make: (p) => writeFile(p, '{"version": 1, "time": 1, "host": "h", "processes": [], "rm -rf": true}'), message: /The snapshot has an unexpected key "rm -rf"/ },
  {
    name: 'arrays nested 200,000 deep',
    make: (p) => writeFile(p, `{"version": 1, "time": 1, "host": "h", "processes": ${'['.repeat(200000)}${']'.repeat(200000)}}`),
    message: /snap\.json:\d+:\d+: error: .*nests too deeply|"processes\[0\]" in the snapshot must be a mapping/,
  },
  { name: 'binary', make: (p) => writeFile(p, Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00])), message: /Snapshot \S+snap\.json is binary, not text/ },
  { name: 'not UTF-8', make: (p) => writeFile(p, Buffer.from('{"host": "caf\xe9"}', 'latin1')), message: /Snapshot \S+snap\.json is not valid UTF-8 text/ },
  {
    name: 'a sparse 100 GiB file',
    make: async (p) => {
      await writeFile(p, '');
      await truncate(p, 100 * 1024 ** 3);
    },
    message: /Snapshot \S+snap\.json is larger than 64 MiB/,
  },
  { name: 'a FIFO', make: async (p) => void execFileSync('mkfifo', [p]), message: /snap\.json is not a regular file/ },
  { name: 'a directory', make: (p) => mkdir(p), message: /snap\.json is not a regular file/ },
];

describe('hardening: snapshot files of the wrong shape', function () {
  this.timeout(60000);
  let work: string;
  let config: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'pg-badsnap-'));
    config = join(work, 'p.yaml');
    await writeFile(config, `settings: { state_dir: ${join(work, 'state')} }\npolicies:\n  - { name: m, kind: memory, match: { name: x }, max_rss: 1MB, action: kill }\n`);
  });
  after(() => rm(work, { recursive: true, force: true }));

  for (const testCase of BAD_SNAPSHOTS) {
    it(`${testCase.name}: check --snapshot exits 2 saying where`, async () => {
      const path = join(work, 'snap.json');
      await rm(path, { recursive: true, force: true });
      await testCase.make(path);
      const run = await runProcguard(['check', '-c', config, '--snapshot', path]);
      assert.equal(run.code, 2, run.stdout + run.stderr);
      assert.match(run.stderr, testCase.message);
      assert.doesNotMatch(run.stderr, STACK_TRACE);
      assert.equal(run.stdout, '');
    });
  }
});

describe('hardening: patterns that would backtrack for ever are bounded', function () {
  // Each of these runs for hours on a backtracking engine, and for seconds on a linear one
  // over the whole line; matched on the line's first MATCH_LENGTH characters it is instant.
  this.timeout(60000);
  let work: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'pg-redos-'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  const CASES: Array<{ pattern: string; cmdline: string; matches: boolean }> = [
    { pattern: '^(\\w+\\s?)*$', cmdline: `${'aaaa '.repeat(10)}${'a'.repeat(40)}!`, matches: false },
    { pattern: '(a|a)*b', cmdline: 'a'.repeat(60), matches: false },
    { pattern: '^(a+)+$', cmdline: `${'a'.repeat(2000)}!`, matches: false },
    // The end of what a pattern sees counts as the end of the line, as for pgrep -f.
    { pattern: '^(a+)+$', cmdline: `${'a'.repeat(5000)}!`, matches: true },
    { pattern: 'python .*app\\.py', cmdline: 'python '.repeat(300000), matches: false },
    // app.py past the first MATCH_LENGTH characters is not seen, as pgrep -f does not see past 4,096 bytes.
    { pattern: 'python .*app\\.py', cmdline: `${'python '.repeat(300000)}app.py`, matches: false },
    { pattern: 'python .*app\\.py', cmdline: `${'python '.repeat(200)}app.py ${'python '.repeat(300000)}`, matches: true },
    { pattern: '\\s*#\\s*$', cmdline: `${' '.repeat(500000)}#!`, matches: false },
  ];

  it('check --snapshot against crafted command lines of up to 2 MiB gives the right answer and says which lines were cut', async () => {
    const config = join(work, 'p.yaml');
    await writeFile(config, `policies:\n${CASES.map((c, i) => `  - { name: p${i}, kind: runtime, match: { cmdline: ${JSON.stringify(c.pattern)} }, max_runtime: 1s, action: kill }`).join('\n')}\n`);
    const processes = CASES.map((c, i) => ({ pid: 100 + i, ppid: 1, name: 'x', cmdline: c.cmdline, rss: 4096, start_time: 1, user: 'u', uid: 1000 }));
    const snap = join(work, 'snap.json');
    await writeFile(snap, JSON.stringify({ version: 1, time: 1000, host: 'h', processes }));
    const run = await runProcguard(['check', '-c', config, '--snapshot', snap, '--json']);
    assert.doesNotMatch(run.stderr, STACK_TRACE);
    assert.equal(run.code, 1, run.stderr);
    const plan = JSON.parse(run.stdout) as Plan;
    const actedOn = new Set(plan.actions.map((a) => `${a.policy}:${a.target.pid}`));
    const expected = new Set(CASES.flatMap((c, i) => (c.matches ? [`p${i}:${100 + i}`] : [])));
    // A pattern may also match another case's line; only each case's own line is the question here.
    for (const [i, c] of CASES.entries()) assert.equal(actedOn.has(`p${i}:${100 + i}`), expected.has(`p${i}:${100 + i}`), `${c.pattern} on case ${i}`);
    const cut = CASES.flatMap((c, i) => (c.cmdline.length > MATCH_LENGTH ? [100 + i] : []));
    const warning = plan.warnings?.find((w) => w.startsWith('cmdline patterns saw only the first 2,048 characters'));
    assert.ok(warning, JSON.stringify(plan.warnings));
    assert.match(warning, new RegExp(`^cmdline patterns saw only the first 2,048 characters of ${cut.length} longer command lines: pid ${cut[0]} \\(x, `));
    assert.match(warning, /pid 104 \(x, 2,100,000 characters\)/);
  });
});

describe('hardening: the cost of matching crafted command lines is bounded by count', function () {
  // 100 processes × 10 cmdline policies, each line 2 MiB built against a pattern in force. What
  // is counted is the work handed to the regular-expression engines, not the time it took.
  this.timeout(120000);
  const PROCESSES = 100;
  const LENGTH = 2 * 1024 * 1024;
  const policies = policySetOf(
    `policies:\n${CRAFTED_CASES.map((c, i) => `  - { name: c${i}, kind: runtime, match: { cmdline: ${JSON.stringify(c.pattern)} }, max_runtime: 1s, action: kill }`).join('\n')}\n`,
  );
  const sources = new Set(CRAFTED_CASES.map((c) => c.pattern));

  /**
   * Runs `fn`, counting the tests of the policies' patterns, the characters they were given,
   * and the subjects longer than LINEAR_SUBJECT_LENGTH that went to a backtracking regexp.
   */
  function counted<T>(fn: () => T): { result: T; tests: number; characters: number; longBacktracking: number } {
    const original = RegExp.prototype.test;
    let tests = 0;
    let characters = 0;
    let longBacktracking = 0;
    RegExp.prototype.test = function (this: RegExp, subject: string) {
      if (sources.has(this.source)) {
        tests += 1;
        characters += String(subject).length;
        if (String(subject).length > LINEAR_SUBJECT_LENGTH && !this.flags.includes('l')) longBacktracking += 1;
      }
      return original.call(this, subject);
    };
    try {
      return { result: fn(), tests, characters, longBacktracking };
    } finally {
      RegExp.prototype.test = original;
    }
  }

  /** What the documented semantics say: the pattern against the line's first MATCH_LENGTH characters. */
  function oracle(pattern: string, line: string): boolean {
    return new RegExp(pattern, 'l').test(line.slice(0, MATCH_LENGTH));
  }

  const SHAPES: Array<{ name: string; line: (unit: string, i: number) => string }> = [
    { name: 'the unit that keeps each pattern busiest, repeated', line: (unit) => repeatTo(unit, LENGTH) },
    { name: 'the pattern satisfied only past the cut', line: (unit, i) => `${repeatTo(unit, LENGTH)} ${CRAFTED_CASES[i % CRAFTED_CASES.length]!.ordinary}` },
    { name: 'an ordinary line followed by 2 MiB of the unit', line: (unit, i) => `${CRAFTED_CASES[i % CRAFTED_CASES.length]!.ordinary} ${repeatTo(unit, LENGTH)}` },
    { name: 'two-byte text (é) and a surrogate pair cut in half at the bound', line: (unit) => `${repeatTo(`${unit}é`, MATCH_LENGTH - 1)}😀${repeatTo(unit, LENGTH)}` },
    { name: 'one long word without spaces', line: () => 'x'.repeat(LENGTH) },
    { name: 'lines of 1 KiB, under the cut, that keep a backtracking engine busiest', line: (unit) => repeatTo(unit, 1024) },
  ];

  for (const shape of SHAPES) {
    it(`${shape.name}: each pattern sees at most ${MATCH_LENGTH} characters of each line, and answers as documented`, () => {
      const lines = Array.from({ length: PROCESSES }, (_, i) => shape.line(CRAFTED_CASES[i % CRAFTED_CASES.length]!.unit, i));
      const processes = lines.map((cmdline, i) => proc(1000 + i, 'worker', { cmdline, start_time: T0 - 3600 }));
      const { result, tests, characters, longBacktracking } = counted(() => evaluate(policies, snapshot(processes), emptyState(), T0));
      assert.ok(tests <= PROCESSES * CRAFTED_CASES.length, `${tests} pattern tests`);
      assert.ok(characters <= PROCESSES * CRAFTED_CASES.length * MATCH_LENGTH, `${characters} characters examined`);
      assert.equal(longBacktracking, 0, 'every subject over LINEAR_SUBJECT_LENGTH goes to the linear-time engine');
      const acted = new Set(result.plan.actions.map((a) => `${a.policy}:${a.target.pid}`));
      for (const [c, craftedCase] of CRAFTED_CASES.entries()) {
        for (const [i, line] of lines.entries()) {
          assert.equal(acted.has(`c${c}:${1000 + i}`), oracle(craftedCase.pattern, line), `${craftedCase.pattern} on line ${i}`);
        }
      }
      const cut = lines.filter((line) => line.length > MATCH_LENGTH).length;
      if (cut > 0) assert.match(result.plan.warnings?.join('\n') ?? '', new RegExp(`saw only the first 2,048 characters of ${cut} longer command lines`));
      else assert.equal(result.plan.warnings, undefined);
    });
  }

  it('ordinary command lines are matched whole, with no warning', () => {
    const processes = CRAFTED_CASES.map((c, i) => proc(1000 + i, 'worker', { cmdline: c.ordinary, start_time: T0 - 3600 }));
    const { plan } = evaluate(policies, snapshot(processes), emptyState(), T0);
    const acted = new Set(plan.actions.map((a) => `${a.policy}:${a.target.pid}`));
    for (const [i, c] of CRAFTED_CASES.entries()) assert.ok(acted.has(`c${i}:${1000 + i}`), `${c.pattern} on ${c.ordinary}`);
    assert.equal(plan.warnings, undefined);
  });
});

describe('hardening: host text with newlines, escapes and odd Unicode', function () {
  this.timeout(60000);
  const ODD_NAME = 'w\nBcc: x@y\u202e';
  const ODD_ARG = '\u001b[2J\u202egnp.exe\nSubject: forged\u0085\ud800';
  let work: string;
  let config: string;
  let odd: Child;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'pg-odd-'));
    const sendmail = await writeCaptureScript(work);
    config = join(work, 'p.yaml');
    await writeFile(
      config,
      `settings: { state_dir: ${join(work, 'state')} }
notifiers:
  ops: { mail: { to: ops@example.com, sendmail: ${sendmail} -t -i, subject: "procguard: {{action}} {{target.name}} {{target.cmdline}}" } }
policies:
  - { name: odd, kind: memory, match: { cmdline: pg-odd-marker }, max_rss: 1KB, action: kill, notify: [{ to: ops }] }
`,
    );
    const script = `require('fs').writeFileSync('/proc/self/comm', ${JSON.stringify(ODD_NAME)}); setInterval(() => {}, 1e9)`;
    odd = await spawnChild(process.execPath, ['-e', script, 'pg-odd-marker', ODD_ARG]);
    await eventually(async () => (await readFile(`/proc/${odd.pid}/comm`, 'utf8')).startsWith('w\n'), 5000, 'the odd name');
  });
  afterEach(async () => {
    killAllChildren();
    await rm(work, { recursive: true, force: true });
  });

  it('the table keeps each row on one line and shows the hidden characters escaped', async () => {
    const run = await runProcguard(['check', '-c', config]);
    assert.equal(run.code, 1, run.stderr);
    assert.doesNotMatch(run.stdout, /[\u0000-\u0009\u000b-\u001f\u0085\u202e]/);
    const row = run.stdout.split('\n').find((line) => line.startsWith('kill'));
    assert.ok(row, run.stdout);
    assert.match(row, new RegExp(`w\\\\nBcc: x@y\\\\u202e \\(pid ${odd.pid}\\)`));
  });

  it('the JSON plan carries the name exactly, escaped as JSON', async () => {
    const run = await runProcguard(['check', '-c', config, '--json']);
    const plan = JSON.parse(run.stdout) as Plan;
    assert.equal(plan.actions[0]?.target.name, (await readFile(`/proc/${odd.pid}/comm`, 'utf8')).replace(/\n$/, ''));
    assert.doesNotMatch(run.stdout, /[\u0000-\u0009\u000b-\u001f\u0085\u202e]/);
  });

  it('apply mails with one Subject line and no forged header', async () => {
    const run = await runProcguard(['apply', '-c', config]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const [mail, ...more] = await readCaptured(work);
    assert.equal(more.length, 0);
    assert.ok(mail);
    assert.equal(mail.headers.has('bcc'), false);
    assert.equal(mail.headers.has('subject'), true);
    const subject = decodeMimeWords(mail.headers.get('subject') ?? '');
    assert.doesNotMatch(subject, /[\r\n\u001b\u202e]/);
    assert.match(subject, /procguard: kill w\\nBcc: x@y\\u202e /);
    assert.doesNotMatch(mail.body, /\u001b|\u202e/);
  });
});

/** RFC 2047 Q-encoded words (nodemailer's choice for a subject that is not ASCII), decoded. */
function decodeMimeWords(header: string): string {
  return header.replace(/=\?UTF-8\?Q\?([^?]*)\?=\s*/gi, (_, text: string) =>
    Buffer.from(
      text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
      'latin1',
    ).toString('utf8'),
  );
}

describe('hardening: pidfiles others can write', function () {
  this.timeout(30000);
  const NOBODY = 65534;
  let work: string;
  let rootVictim: Child;
  let nobodys: ChildProcess | undefined;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'pg-pidfile-'));
    await chmod(work, 0o755);
    rootVictim = await spawnChild('sleep', ['4747']);
  });
  afterEach(async () => {
    killAllChildren();
    nobodys?.kill('SIGKILL');
    nobodys = undefined;
    await rm(work, { recursive: true, force: true });
  });

  async function checkWith(pidfile: string): Promise<Plan & { code: number | null; stderr: string }> {
    const config = join(work, 'p.yaml');
    await writeFile(config, `settings: { state_dir: ${join(work, 'state')} }\npolicies:\n  - { name: by-pidfile, kind: memory, match: { pidfile: ${pidfile} }, max_rss: 1KB, action: kill }\n`);
    const run = await runProcguard(['check', '-c', config, '--json']);
    assert.doesNotMatch(run.stderr, STACK_TRACE);
    return { ...(JSON.parse(run.stdout) as Plan), code: run.code, stderr: run.stderr };
  }

  it("a pidfile owned by another user naming root's process is ignored, saying why", async () => {
    const pidfile = join(work, 'app.pid');
    await writeFile(pidfile, `${rootVictim.pid}\n`);
    await chown(pidfile, NOBODY, NOBODY);
    const plan = await checkWith(pidfile);
    assert.equal(plan.code, 3);
    assert.deepEqual(plan.actions, []);
    assert.deepEqual(
      plan.errors.map((e) => e.message),
      [
        `pidfile ${pidfile} is owned by uid ${NOBODY}, not by root; it names pid ${rootVictim.pid}, which runs as uid 0, so it is ignored (a pidfile that a user other than root can change may only name that user's processes; fix with: chown root ${pidfile})`,
      ],
    );
  });

  it("a pidfile owned by another user naming that user's own process is used", async () => {
    nobodys = spawn('sleep', ['4848'], { uid: NOBODY, gid: NOBODY, stdio: 'ignore' });
    await eventually(() => existsSync(`/proc/${nobodys!.pid}`), 5000, 'the process of nobody');
    const pidfile = join(work, 'app.pid');
    await writeFile(pidfile, `${nobodys.pid}\n`);
    await chown(pidfile, NOBODY, NOBODY);
    const plan = await checkWith(pidfile);
    assert.equal(plan.code, 1, plan.stderr);
    assert.deepEqual(
      plan.actions.map((a) => [a.action, a.target.pid]),
      [['kill', nobodys.pid]],
    );
  });

  it('a pidfile anyone can write is ignored; a FIFO is not waited for', async () => {
    const writable = join(work, 'open.pid');
    await writeFile(writable, `${rootVictim.pid}\n`);
    await chmod(writable, 0o666);
    const plan = await checkWith(writable);
    assert.equal(plan.code, 3);
    assert.deepEqual(plan.actions, []);
    assert.match(
      plan.errors[0]?.message ?? '',
      /pidfile \S+open\.pid is writable by group and others \(mode 0666\), so anyone could choose the process procguard acts on; ignored \(fix with: chmod go-w \S+open\.pid\)/,
    );

    const fifo = join(work, 'fifo.pid');
    execFileSync('mkfifo', [fifo]);
    const fromFifo = await checkWith(fifo);
    assert.equal(fromFifo.code, 3);
    assert.deepEqual(
      fromFifo.errors.map((e) => e.message),
      [`${fifo} is not a regular file`],
    );
  });
});

describe('hardening: a state directory others could tamper with', function () {
  this.timeout(30000);
  let work: string;
  let stateDir: string;
  let config: string;
  let victim: Child;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'pg-statedir-'));
    stateDir = join(work, 'state');
    await mkdir(stateDir, { mode: 0o700 });
    config = join(work, 'p.yaml');
    victim = await spawnChild('sleep', ['4949']);
    await writeFile(config, `settings: { state_dir: ${stateDir} }\npolicies:\n  - { name: kill-marker, kind: memory, match: { cmdline: "^sleep 4949$" }, max_rss: 1KB, action: kill }\n`);
  });
  afterEach(async () => {
    killAllChildren();
    await rm(work, { recursive: true, force: true });
  });

  const alive = (): boolean => victim.state() !== undefined && victim.state() !== 'Z';

  it('a state directory anyone can write (mode 1777): apply and resume refuse it and do nothing', async () => {
    await chmod(stateDir, 0o1777);
    for (const args of [
      ['apply', '-c', config],
      ['resume', '--all', '-c', config],
    ]) {
      const run = await runProcguard(args);
      assert.equal(run.code, 3, run.stdout + run.stderr);
      assert.match(
        run.stderr,
        new RegExp(`Refused: state directory ${stateDir.replace(/[./]/g, '\\$&')} is writable by group and others \\(mode 1777\\), and procguard runs as root; fix with: chmod go-w`),
      );
      assert.doesNotMatch(run.stderr, STACK_TRACE);
    }
    assert.ok(alive());
    assert.deepEqual(await readdir(stateDir), []);
  });

  it('state.json as a symbolic link or a FIFO: apply stops at once saying so, and the link target is untouched', async () => {
    const target = join(work, 'precious');
    await writeFile(target, 'precious\n');
    await symlink(target, join(stateDir, 'state.json'));
    const linked = await runProcguard(['apply', '-c', config]);
    assert.equal(linked.code, 3);
    assert.match(linked.stderr, /cannot read the state file \S+state\.json: it is a symbolic link; nothing was done/);
    assert.equal(await readFile(target, 'utf8'), 'precious\n');

    await rm(join(stateDir, 'state.json'));
    execFileSync('mkfifo', [join(stateDir, 'state.json')]);
    const fifo = await runProcguard(['apply', '-c', config]);
    assert.equal(fifo.code, 3);
    assert.match(fifo.stderr, /cannot read the state file \S+state\.json: is not a regular file; nothing was done/);
    assert.ok(alive());
  });

  it('audit.log as a symbolic link: the entry is not written through it, and the failure is reported', async () => {
    const target = join(work, 'precious');
    await writeFile(target, 'precious\n');
    await symlink(target, join(stateDir, 'audit.log'));
    const run = await runProcguard(['apply', '-c', config]);
    assert.equal(run.code, 3);
    assert.match(run.stderr, /cannot append to the audit log in \S+: ELOOP/);
    assert.equal(await readFile(target, 'utf8'), 'precious\n');
  });
});
