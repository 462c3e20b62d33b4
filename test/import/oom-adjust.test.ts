// import oom-adjust: the article's own oom_adjust.conf becomes valid policies that mean the same.
import assert from 'node:assert/strict';
import { OomAdjustError, oomAdjustPolicies } from '../../src/import/import.js';
import type { OomPolicy } from '../../src/policy/model.js';
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

  it('a malformed line is an error with its line number', () => {
    assert.throws(() => oomAdjustPolicies('sshd -17\nnamed\n', 'x'), (e: unknown) => e instanceof OomAdjustError && e.line === 2 && /expected "NAME ADJ"/.test(e.message));
    assert.throws(() => oomAdjustPolicies('sshd -18\n', 'x'), /must be a whole number from -17 to 15, not "-18"/);
  });
});
