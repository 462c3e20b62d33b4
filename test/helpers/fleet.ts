// A policy repository for three hosts (web1, web7, db1): an inventory, host-targeted policies
// and each host's snapshot, written as files the way a fleet repository holds them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Snapshot } from '../../src/data/types.js';
import { MiB, program, snapshot } from './snapshots.js';

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
