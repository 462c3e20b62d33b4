// A supervisor whose hosts: does not select this host is never asked: not connected to, no error
// for it, while one for this host is (a socket that does not exist, so the error says it was tried).
import assert from 'node:assert/strict';
import { collectSnapshot } from '../../src/collectors/collect.js';
import { policySetOf } from '../helpers/snapshots.js';

const POLICIES = `
inventory:
  web1: { labels: { role: web } }
  db1: { labels: { role: db } }
supervisors:
  web: { url: "unix:///nonexistent-procguard-fleet/web.sock", hosts: { labels: { role: web } } }
  db: { url: "unix:///nonexistent-procguard-fleet/db.sock", hosts: { names: ["db*"] } }
policies:
  - { name: cap, kind: memory, match: { program: "*" }, max_rss: 1GiB }
`;

describe('collecting for a host of a fleet', () => {
  const table: Array<[string, string[]]> = [
    ['web1', ['supervisor:web']],
    ['db1', ['supervisor:db']],
    ['cache1', []],
  ];
  for (const [host, asked] of table) {
    it(`on ${host}, asks ${asked.join(', ') || 'no supervisor'}`, async () => {
      const snapshot = await collectSnapshot(policySetOf(POLICIES), { env: {}, hostname: host, loadavgPath: null, self: process.pid });
      assert.equal(snapshot.host, host);
      assert.deepEqual(
        (snapshot.errors ?? []).map((e) => e.source).filter((s) => s.startsWith('supervisor:')),
        asked,
      );
    });
  }
});
