// The host's memory (/proc/meminfo) and pressure stall information (/proc/pressure/*), read
// under the procfs collector's root from generated trees, only when a policy needs them; a
// kernel without PSI is an error naming the policy that needs it, or a warning for `snapshot`.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { collectSnapshot } from '../../src/collectors/collect.js';
import { ProcfsCollector } from '../../src/collectors/procfs/procfs.js';
import { ALL_FIELDS } from '../../src/collectors/types.js';
import { ALL_HOST_FIELDS, NO_HOST_NEEDS, type HostNeeds } from '../../src/policy/host-needs.js';
import type { PolicySet } from '../../src/policy/model.js';
import { DEFAULTS } from '../../src/policy/model.js';
import { writeProcfsTree } from '../helpers/procfs-tree.js';
import { KIB, MIB, pressureText, writeHostFiles } from '../helpers/host-files.js';
import { join } from 'node:path';

const NO_POLICIES: PolicySet = { files: [], settings: { interval: DEFAULTS.interval, stateDir: DEFAULTS.stateDir }, supervisors: [], notifiers: [], policies: [] };
const GIB = 1024 * MIB;

describe('collector: host memory and pressure', () => {
  let root: string;
  beforeEach(async () => {
    root = await writeProcfsTree([{ pid: 1, ppid: 0, comm: 'systemd', rssPages: 1, startTicks: 1 }]);
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const collect = (host: HostNeeds | undefined, fields?: typeof ALL_FIELDS) =>
    collectSnapshot(NO_POLICIES, { env: {}, processTable: new ProcfsCollector({ root }), loadavgPath: join(root, 'loadavg'), ...(host ? { host } : {}), ...(fields ? { fields } : {}) });

  it('reads total, available and swap from meminfo in bytes, and some/full averages from pressure/, when a policy needs them', async () => {
    await writeHostFiles(root, {
      meminfo: { total: 16 * GIB, available: 3 * GIB + 512 * KIB, swapTotal: 2 * GIB, swapFree: GIB },
      pressure: {
        cpu: pressureText({ avg10: 85.15, avg60: 33.78, avg300: 11.43 }, { avg10: 0, avg60: 0, avg300: 0 }),
        io: pressureText({ avg10: 3.22, avg60: 2.09, avg300: 1.23 }, { avg10: 0.02, avg60: 0.8, avg300: 0.83 }),
        memory: pressureText({ avg10: 21.5, avg60: 10, avg300: 2.25 }, { avg10: 4, avg60: 1, avg300: 0.5 }),
      },
    });
    const snapshot = await collect({ memory: 'cap', pressure: { cpu: 'a', io: 'b', memory: 'c' } });
    assert.equal(snapshot.errors, undefined);
    assert.deepEqual(snapshot.memory, { total: 16 * GIB, available: 3 * GIB + 512 * KIB, swap_total: 2 * GIB, swap_free: GIB });
    assert.deepEqual(snapshot.pressure, {
      cpu: { some: { avg10: 85.15, avg60: 33.78, avg300: 11.43 } },
      io: { some: { avg10: 3.22, avg60: 2.09, avg300: 1.23 }, full: { avg10: 0.02, avg60: 0.8, avg300: 0.83 } },
      memory: { some: { avg10: 21.5, avg60: 10, avg300: 2.25 }, full: { avg10: 4, avg60: 1, avg300: 0.5 } },
    });
  });

  it('reads neither when no policy needs them, and only the pressure resources needed', async () => {
    await writeHostFiles(root, {
      meminfo: { total: GIB, available: GIB / 2 },
      pressure: { cpu: pressureText({ avg10: 1, avg60: 1, avg300: 1 }), memory: pressureText({ avg10: 2, avg60: 2, avg300: 2 }, { avg10: 1, avg60: 1, avg300: 1 }) },
    });
    const none = await collect(undefined);
    assert.equal(none.memory, undefined);
    assert.equal(none.pressure, undefined);
    const some = await collect({ pressure: { memory: 'squeeze' } });
    assert.equal(some.memory, undefined);
    assert.deepEqual(Object.keys(some.pressure ?? {}), ['memory']);
  });

  it('estimates available memory as free + buffers + cached on a kernel without MemAvailable', async () => {
    await writeHostFiles(root, { meminfo: { total: GIB, available: 0, free: 100 * MIB, cached: 200 * MIB, noAvailableLine: true } });
    const snapshot = await collect({ memory: 'cap', pressure: {} });
    assert.equal(snapshot.memory?.available, 300 * MIB);
  });

  it('on a kernel without PSI, leaves pressure out and reports an error that says so and names the policy that needs it', async () => {
    await writeHostFiles(root, { meminfo: { total: GIB, available: GIB / 2 }, pressure: null });
    const snapshot = await collect({ memory: 'cap', pressure: { memory: 'under-pressure' } });
    assert.equal(snapshot.pressure, undefined);
    assert.deepEqual(snapshot.memory, { total: GIB, available: GIB / 2, swap_total: 0, swap_free: 0 });
    assert.equal(snapshot.errors?.length, 1);
    assert.equal(snapshot.errors[0]!.source, 'pressure');
    assert.match(
      snapshot.errors[0]!.message,
      /pressure\/memory does not exist: this kernel has no pressure stall information \(PSI needs Linux 4\.20 or later built with CONFIG_PSI\); policy "under-pressure" needs it/,
    );
  });

  it('says which line is missing from a pressure file it cannot read', async () => {
    await writeHostFiles(root, { pressure: { io: 'some avg10=1.00 avg60=1.00 avg300=1.00 total=1\n' } });
    const snapshot = await collect({ pressure: { io: 'disk' } });
    assert.match(snapshot.errors?.[0]?.message ?? '', /pressure\/io has no full line/);
  });

  it('a missing meminfo is an error naming the policy that needs it', async () => {
    await writeHostFiles(root, {});
    const snapshot = await collect({ memory: 'share-of-host', pressure: {} });
    assert.equal(snapshot.memory, undefined);
    assert.deepEqual(
      snapshot.errors?.map((e) => e.source),
      ['meminfo'],
    );
    assert.match(snapshot.errors![0]!.message, /ENOENT.*meminfo'; policy "share-of-host" needs it/);
  });

  it('procguard snapshot reads everything, and a host without PSI is then a warning, not an error', async () => {
    await writeHostFiles(root, { meminfo: { total: GIB, available: GIB / 2 }, pressure: null });
    const snapshot = await collect(ALL_HOST_FIELDS, ALL_FIELDS);
    assert.equal(snapshot.errors, undefined);
    assert.ok(snapshot.memory);
    assert.deepEqual([...new Set(snapshot.warnings?.map((w) => w.source))], ['pressure']);
    assert.equal(snapshot.warnings?.length, 3);
  });

  it('an empty need reads nothing', async () => {
    await writeHostFiles(root, { meminfo: { total: GIB, available: GIB / 2 } });
    const snapshot = await collect(NO_HOST_NEEDS);
    assert.equal(snapshot.memory, undefined);
  });
});
