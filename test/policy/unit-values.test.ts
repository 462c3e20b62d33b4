// Sizes and durations are parsed once: the schema's formats, the cross-file checks and the
// normalizer read the same number for the same text.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MemoryPolicy } from '../../src/policy/kinds/memory.js';
import type { RuntimePolicy } from '../../src/policy/kinds/runtime.js';
import { loadPolicySet } from '../../src/policy/policy-set.js';
import { textsParsedSoFar } from '../../src/policy/unit-values.js';

describe('policy units: parsed once', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pg-units-once-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('each size or duration text of a set is parsed once, from validation to the normalized policy', async () => {
    // Texts no other test writes, so that none is remembered from before.
    const file = join(dir, 'policies.yaml');
    await writeFile(
      file,
      `policies:
  - { name: web, kind: memory, match: { program: web }, max_rss: 7731MB, action: kill, grace: 17s, max_actions: { count: 2, within: 43m } }
  - { name: jobs, kind: runtime, match: { program: jobs }, max_runtime: 19h, action: kill, grace: 17s }
supervisors:
  main: { url: "unix:///run/supervisor.sock" }
`,
      { mode: 0o600 },
    );
    const before = textsParsedSoFar();
    const { policySet, diagnostics } = await loadPolicySet([file]);
    assert.deepEqual(diagnostics, []);
    // 7731MB, 17s, 43m and 19h: four distinct texts, each parsed once though the schema, the
    // checks and the normalizer all read them (17s twice).
    assert.equal(textsParsedSoFar() - before, 4);
    const [web, jobs] = policySet!.policies as [MemoryPolicy, RuntimePolicy];
    assert.deepEqual([web.limit, web.grace, web.maxActions?.within], [{ bytes: 7731 * 1024 * 1024 }, 17, 43 * 60]);
    assert.deepEqual([jobs.maxRuntime, jobs.grace], [19 * 3600, 17]);

    // Loaded again (a reload): nothing is parsed again.
    await loadPolicySet([file]);
    assert.equal(textsParsedSoFar() - before, 4);
  });
});
