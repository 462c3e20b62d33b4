// Every policy set shipped in policies/ and examples/ validates without errors, and without
// warnings but the one saying that policies/ needs a supervisor from the host.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { formatDiagnostic } from '../src/policy/diagnostics.js';
import { discoverPolicySets, loadPolicyFiles } from '../src/policy/load.js';
import { isHubDocument, validateHubFiles } from '../src/hub/config.js';
import { validatePolicyFiles } from '../src/policy/validate.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * policies/ matches supervisord programs and leaves the supervisor to the host (a supervisors:
 * file beside it, or SUPERVISOR_SERVER_URL inside supervisord): validated alone, it says so.
 */
const EXPECTED_WARNINGS: Record<string, string[]> = {
  policies: [
    `${ROOT}policies/memory-audit.yaml:10:7: warning: The policy "memory-audit-all-programs" and 1 other policy match supervisord programs but no supervisors are configured: procguard asks the supervisord named by SUPERVISOR_SERVER_URL only when that is set where it runs (e.g. inside supervisord as an event listener, or in cron's environment)`,
  ],
  examples: [],
};

describe('shipped policies and examples', () => {
  for (const folder of ['policies', 'examples']) {
    it(`${folder}/: every policy set is valid and has no warning but the one for a host's supervisor`, async () => {
      const sets = await discoverPolicySets(`${ROOT}${folder}`);
      assert.ok(sets.length > 0);
      for (const set of sets) {
        // uid 1000: the check of file modes depends on the checkout's umask, not on the policies
        const loaded = await loadPolicyFiles([set], { uid: 1000 });
        assert.ok(loaded.files.length > 0, `${set} holds policy files`);
        // A hub's file (examples/hub/) is checked as one, as procguard validate does.
        const hubFiles = loaded.files.filter((file) => isHubDocument(file.data));
        if (hubFiles.length > 0) {
          assert.equal(hubFiles.length, loaded.files.length, `${set} mixes hub and policy files`);
          const hub = validateHubFiles(hubFiles, loaded.diagnostics);
          assert.deepEqual(hub.diagnostics.map(formatDiagnostic), []);
          assert.ok(hub.config && hub.config.agents.length > 0);
          continue;
        }
        const result = validatePolicyFiles(loaded.files, loaded.diagnostics);
        assert.deepEqual(result.diagnostics.map(formatDiagnostic), set === `${ROOT}${folder}` ? EXPECTED_WARNINGS[folder] : []);
        assert.ok(result.policySet && result.policySet.policies.length > 0);
      }
    });
  }

  it("policies/ protects root's sshd, supervisord and journald from the OOM killer by user and exe, puts supervised programs back to 0, and audits memory", async () => {
    const loaded = await loadPolicyFiles([`${ROOT}policies`], { uid: 1000 });
    const set = validatePolicyFiles(loaded.files, loaded.diagnostics).policySet;
    const exe = (n: { exact: string } | { regex: unknown }): string => ('exact' in n ? n.exact : 'a pattern');
    const oom = set?.policies.filter((p) => p.kind === 'oom').map((p) => [p.name, p.kind === 'oom' ? p.oomScoreAdj : 0, p.match.user, p.match.exe?.map(exe), p.match.program]);
    assert.deepEqual(oom, [
      ['oom-protect-sshd', -1000, ['root'], ['/usr/sbin/sshd'], undefined],
      ['oom-protect-supervisord', -1000, ['root'], ['a pattern'], undefined],
      ['oom-supervised-programs-default', 0, undefined, undefined, ['*']],
      ['oom-protect-journald', -900, ['root'], ['/usr/lib/systemd/systemd-journald', '/lib/systemd/systemd-journald'], undefined],
    ]);
    const audit = set?.policies.find((p) => p.name === 'memory-audit-all-programs');
    assert.equal(audit?.mode, 'audit');
    assert.deepEqual(audit?.match.program, ['*']);
  });
});
