// import oom-adjust: the article's own oom_adjust.conf becomes valid policies that mean the same.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OomAdjustError, oomAdjustPolicies } from '../../src/import/import.js';
import type { OomPolicy } from '../../src/policy/kinds/oom.js';
import { runProcguard } from '../helpers/run-cli.js';
import { policySetOf } from '../helpers/snapshots.js';

const CONF = `# Adjust process oom_adj values so they are more or less likely to be killed in an oom event
# procname oom_adj

# Keep sshd ALIVE
sshd -17

# DNS is very important to me too
named -8

# I'd prefer that MySQL stays alive, but it's not required
mysqld -1

# Apache2 is a memory hog, but I'll give it a fighting chance
# I'm giving it 0 since the workers will respawn at 0 anyway
apache2 0

# These services can be killed first
pure-ftpd 10
pure-ftpd-mysql 10
fail2ban-server 10
Xorg 15
\tignored-because-indented 3
`;

describe('import oom-adjust', () => {
  it('keeps every entry as oom_adj, by name, with the comment above it as description', () => {
    const set = policySetOf(oomAdjustPolicies(CONF, '/etc/oom_adjust.conf'));
    const policies = set.policies as OomPolicy[];
    assert.deepEqual(
      policies.map((p) => [p.name, p.match.name, p.oomScoreAdj]),
      [
        ['oom-sshd', [{ exact: 'sshd' }], -1000],
        ['oom-named', [{ exact: 'named' }], -470],
        ['oom-mysqld', [{ exact: 'mysqld' }], -58],
        ['oom-apache2', [{ exact: 'apache2' }], 0],
        ['oom-pure-ftpd', [{ exact: 'pure-ftpd' }], 588],
        ['oom-pure-ftpd-mysql', [{ exact: 'pure-ftpd-mysql' }], 588],
        ['oom-fail2ban-server', [{ exact: 'fail2ban-server' }], 588],
        ['oom-xorg', [{ exact: 'Xorg' }], 1000],
      ],
    );
    assert.equal(policies[0]?.description, 'Keep sshd ALIVE');
    assert.equal(policies[3]?.description, "Apache2 is a memory hog, but I'll give it a fighting chance I'm giving it 0 since the workers will respawn at 0 anyway");
    assert.match(oomAdjustPolicies(CONF, 'x'), /oom_adj: -17\n/);
  });

  it('a process title such as "php-fpm:" becomes the process name php-fpm, with a note saying why', () => {
    const policies = policySetOf(oomAdjustPolicies('# PHP workers can go first\nphp-fpm: 10\nmaster: -5\n', 'x')).policies as OomPolicy[];
    assert.deepEqual(
      policies.map((p) => [p.name, p.match.name]),
      [
        ['oom-php-fpm', [{ exact: 'php-fpm' }]],
        ['oom-master', [{ exact: 'master' }]],
      ],
    );
    assert.equal(
      policies[0]?.description,
      'PHP workers can go first (oom_adjust.conf says "php-fpm:", the start of its process title; procguard matches the process name php-fpm, which is the executable\'s: a versioned binary such as php-fpm8.2 has that name, see procguard snapshot)',
    );
    assert.match(policies[1]?.description ?? '', /^oom_adjust\.conf line 3 \(oom_adjust\.conf says "master:"/);
  });

  it('a malformed line is an error with its line number', () => {
    assert.throws(
      () => oomAdjustPolicies('sshd -17\nnamed\n', 'x'),
      (e: unknown) => e instanceof OomAdjustError && e.line === 2 && /expected "NAME ADJ"/.test(e.message),
    );
    assert.throws(() => oomAdjustPolicies('sshd -18\n', 'x'), /must be a whole number from -17 to 15, not "-18"/);
  });
});

describe('import oom-adjust FILE: what is not a small text file', function () {
  this.timeout(30000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pg-import-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('/dev/zero, a FIFO nobody writes to, a directory, 2 MiB of text and a binary file: exit 2 at once with a clear message', async () => {
    const fifo = join(dir, 'oom_adjust.fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const big = join(dir, 'big.conf');
    await writeFile(big, 'sshd -17\n'.repeat(240 * 1024));
    const binary = join(dir, 'binary.conf');
    await writeFile(binary, Buffer.from([0x73, 0x73, 0x68, 0x64, 0, 0x2d, 0x31, 0x37, 10]));
    const cases: Array<[string, string]> = [
      ['/dev/zero', 'procguard: import oom-adjust: /dev/zero is not a regular file\n'],
      [fifo, `procguard: import oom-adjust: ${fifo} is not a regular file\n`],
      [dir, `procguard: import oom-adjust: ${dir} is not a regular file\n`],
      [big, `procguard: import oom-adjust: File ${big} is larger than 1 MiB\n`],
      [binary, `procguard: import oom-adjust: File ${binary} is binary, not text (a NUL byte at offset 4)\n`],
      [join(dir, 'missing.conf'), `procguard: import oom-adjust: Cannot read ${join(dir, 'missing.conf')}: no such file or directory\n`],
    ];
    for (const [path, expected] of cases) {
      const run = await runProcguard(['import', 'oom-adjust', path]);
      assert.deepEqual([run.code, run.stdout, run.stderr], [2, '', expected], path);
    }
  });
});
