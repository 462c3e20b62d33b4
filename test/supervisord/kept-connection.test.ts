// The collector's connection to supervisord, kept open from cycle to cycle as the daemon runs
// them: one connection while it stays open, its listener verified when it was opened, and a
// new verification before any new connection (a restarted supervisord, or another user's
// listener at its socket path once it is gone).

import assert from 'node:assert/strict';
import { chmod } from 'node:fs/promises';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { collectSnapshot } from '../../src/collectors/collect.js';
import { fieldsNeeded } from '../../src/engine/fields-needed.js';
import type { Snapshot } from '../../src/data/types.js';
import type { PolicySet } from '../../src/policy/model.js';
import { impostorDir, removeDir, startImpostor, testUser, type Impostor } from '../helpers/impostor.js';
import { yaml } from '../helpers/policy-files.js';
import { policySetOf } from '../helpers/snapshots.js';
import { PASSWORD, requireSupervisord, startSupervisord, USERNAME, type Supervisord } from '../helpers/supervisord.js';

const USER = 'pgtest-kept';
const PROGRAMS = `
[group:kept]
programs=k1,k2

[program:k1]
command=sleep 2890001
startsecs=0

[program:k2]
command=sleep 2890002
startsecs=0
`;

const ENV = { SV_PASSWORD: PASSWORD };

function policiesFor(sv: Supervisord): PolicySet {
  return policySetOf(yaml`
    supervisors:
      main: { url: "${sv.unixUrl}", username: ${USERNAME}, password_env: SV_PASSWORD }
    policies:
      - { name: kept-memory, kind: memory, match: { group: kept }, max_rss: 1GB }
  `);
}

function cycle(policySet: PolicySet): Promise<Snapshot> {
  return collectSnapshot(policySet, { env: ENV, self: process.pid, secondPass: fieldsNeeded(policySet) });
}

function supervisordPid(sv: Supervisord): number {
  return Number(readFileSync(`${sv.dir}/supervisord.pid`, 'utf8').trim());
}

/** The sockets a process holds, by inode. */
function socketsOf(pid: number): Set<string> {
  const sockets = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (link.startsWith('socket:')) sockets.add(link);
    } catch {
      // closed meanwhile
    }
  }
  return sockets;
}

function joined(snapshot: Snapshot): { pid: number; ppid: number | undefined }[] {
  return snapshot.processes.filter((p) => p.supervisor?.group === 'kept' && p.pid > 0).map((p) => ({ pid: p.pid, ppid: p.ppid }));
}

describe('the collector keeps its connection to supervisord between cycles', function () {
  this.timeout(60000);
  let sv: Supervisord | undefined;
  let impostor: Impostor | undefined;
  let dir: string | undefined;
  const orphans: number[] = [];

  before(() => requireSupervisord());
  afterEach(async () => {
    await impostor?.stop();
    impostor = undefined;
    await sv?.stop();
    sv = undefined;
    await removeDir(dir);
    dir = undefined;
    for (const pid of orphans.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });

  it('asks over one connection cycle after cycle: supervisord holds the same socket for it, and no error', async () => {
    sv = await startSupervisord(PROGRAMS);
    const policySet = policiesFor(sv);
    const pid = supervisordPid(sv);
    const before = socketsOf(pid);
    const first = await cycle(policySet);
    assert.equal(first.errors, undefined);
    assert.equal(joined(first).length, 2);
    const kept = [...socketsOf(pid)].filter((s) => !before.has(s));
    assert.equal(kept.length, 1, 'one connection is open after the first cycle');
    for (let i = 0; i < 3; i += 1) {
      const next = await cycle(policySet);
      assert.equal(next.errors, undefined);
      assert.deepEqual(joined(next), joined(first));
      assert.deepEqual(
        [...socketsOf(pid)].filter((s) => !before.has(s)),
        kept,
        'the same connection, none other',
      );
    }
  });

  it('a supervisord restarted between cycles is verified again: its programs are joined to the new supervisord, not refused', async () => {
    sv = await startSupervisord(PROGRAMS);
    const policySet = policiesFor(sv);
    const first = await cycle(policySet);
    assert.deepEqual(
      joined(first).map((p) => p.ppid),
      [supervisordPid(sv), supervisordPid(sv)],
    );
    await sv.terminate();
    await sv.restart();
    const after = await cycle(policySet);
    assert.equal(after.errors, undefined);
    assert.deepEqual(
      joined(after).map((p) => p.ppid),
      [supervisordPid(sv), supervisordPid(sv)],
    );
    assert.notDeepEqual(joined(after), joined(first));
  });

  it("supervisord gone and another user's listener at its socket path: the next cycle sends it nothing and joins nothing", async () => {
    const user = testUser(USER);
    sv = await startSupervisord(PROGRAMS);
    const policySet = policiesFor(sv);
    const first = await cycle(policySet);
    assert.equal(joined(first).length, 2);
    orphans.push(...joined(first).map((p) => p.pid));
    await sv.kill9();
    // Anyone may now put a socket where supervisord's was (a sticky directory all can write).
    await chmod(dirname(sv.socket), 0o1777);
    await removeDir(sv.socket);
    dir = await impostorDir(user);
    impostor = await startImpostor(user, dir, { unix: sv.socket }, orphans[0]!);
    const after = await cycle(policySet);
    assert.deepEqual(await impostor.received(), [], 'no connection, no request, no credentials');
    assert.deepEqual(joined(after), []);
    assert.match(after.errors?.map((e) => e.message).join('\n') ?? '', /is held by pid \d+ \(user pgtest-kept\).*nothing was sent/);
  });
});
