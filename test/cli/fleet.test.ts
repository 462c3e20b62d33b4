// A fleet policy repository through the built CLI: policies for some hosts only (check --verbose
// and status say "not for this host"), plan over several hosts' snapshots, diff between two
// versions of the policies, and the output formats CI reads.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcguard } from '../helpers/run-cli.js';
import { MiB, program, snapshot } from '../helpers/snapshots.js';
import type { Snapshot } from '../../src/data/types.js';

export const FLEET_POLICIES = `inventory:
  web1: { labels: { role: web, env: prod } }
  web7: { labels: { role: web, env: prod } }
  db1: { labels: { role: db, env: prod } }
policies:
  - name: web-memory
    kind: memory
    match: { program: "web:*" }
    hosts: { labels: { role: web } }
    max_rss: 250MiB
  - name: db-memory
    kind: memory
    match: { program: "db:*" }
    hosts: { names: ["db*"] }
    max_rss: 1GiB
`;

/** Snapshots of three hosts: web7's w3 uses 212 MiB, under 250 MiB and over 200 MiB. */
export function fleetSnapshots(): Record<string, Snapshot> {
  return {
    web1: snapshot([program(11, 'web:w1', { rss: 120 * MiB }), program(12, 'web:w2', { rss: 300 * MiB })], { host: 'web1' }),
    web7: snapshot([program(11, 'web:w1', { rss: 150 * MiB }), program(13, 'web:w3', { rss: 212 * MiB })], { host: 'web7' }),
    db1: snapshot([program(21, 'db:main', { rss: 512 * MiB }), program(22, 'web:w1', { rss: 900 * MiB })], { host: 'db1' }),
  };
}

export function writeFleet(dir: string, policies = FLEET_POLICIES): { policies: string; snapshots: string } {
  mkdirSync(join(dir, 'policies'), { recursive: true });
  mkdirSync(join(dir, 'snapshots'), { recursive: true });
  writeFileSync(join(dir, 'policies', 'fleet.yaml'), policies);
  for (const [host, snap] of Object.entries(fleetSnapshots())) writeFileSync(join(dir, 'snapshots', `${host}.json`), `${JSON.stringify(snap, null, 2)}\n`);
  return { policies: join(dir, 'policies'), snapshots: join(dir, 'snapshots') };
}

describe('procguard on a fleet repository', function () {
  this.timeout(60_000);
  let dir: string;
  let fleet: { policies: string; snapshots: string };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'procguard-fleet-'));
    fleet = writeFleet(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('check --verbose lists a policy whose hosts do not select this host as not for this host, and it never acts', async () => {
    const run = await runProcguard(['check', '-c', fleet.policies, '--snapshot', join(fleet.snapshots, 'db1.json'), '--verbose']);
    assert.equal(run.stderr, '');
    assert.match(run.stdout, /^web-memory \(memory\): not for this host \(hosts: labels role=web\)$/m);
    assert.match(run.stdout, /^db-memory \(memory\): 1 matched$/m);
    assert.match(run.stdout, /^No actions\.$/m, 'web:w1 on db1 is over 250 MiB, but web-memory is not for db1');
    assert.equal(run.code, 0);
  });

  it('status says the same, in text and JSON', async () => {
    const args = ['status', '-c', fleet.policies, '--snapshot', join(fleet.snapshots, 'db1.json'), '--state-dir', join(dir, 'state')];
    const text = await runProcguard(args);
    assert.match(text.stdout, /^web-memory \(memory\): not for this host \(hosts: labels role=web\)$/m);
    const json = JSON.parse((await runProcguard([...args, '--json'])).stdout) as { policies: Array<{ name: string; for_this_host?: boolean; hosts?: string; targets: unknown[] }> };
    assert.deepEqual(
      json.policies.map((p) => [p.name, p.for_this_host, p.hosts, p.targets.length]),
      [
        ['web-memory', false, 'hosts: labels role=web', 0],
        ['db-memory', undefined, 'hosts: names db*', 1],
      ],
    );
  });

  it('on a host the policy selects, it acts', async () => {
    const run = await runProcguard(['check', '-c', fleet.policies, '--snapshot', join(fleet.snapshots, 'web1.json'), '--json']);
    assert.equal(run.code, 1);
    const plan = JSON.parse(run.stdout) as { actions: Array<{ policy: string; target: { namespec: string } }> };
    assert.deepEqual(
      plan.actions.map((a) => `${a.policy} ${a.target.namespec}`),
      ['web-memory web:w2'],
    );
  });
});
