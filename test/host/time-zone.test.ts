// The host's time zone, handed to the engine for mail dates: TZ first, then the /etc/localtime
// link, as the C library reads them; UTC when neither says.
import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asctime } from '../../src/engine/notify.js';
import { localTimeZone } from '../../src/host/time-zone.js';

describe('the host time zone', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pg-tz-'));
    await symlink('/usr/share/zoneinfo/Europe/Paris', join(dir, 'paris'));
    await symlink('../usr/share/zoneinfo/America/New_York', join(dir, 'relative'));
    await symlink('/usr/share/zoneinfo/posix/Asia/Tokyo', join(dir, 'posix'));
    await writeFile(join(dir, 'copied'), 'TZif');
    await writeFile(join(dir, 'timezone'), 'Europe/Lisbon\n');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const cases: Array<[string, NodeJS.ProcessEnv, string, string | undefined, string]> = [
    ['TZ wins over /etc/localtime', { TZ: 'Asia/Tokyo' }, 'paris', 'timezone', 'Asia/Tokyo'],
    ['TZ with the leading colon of POSIX', { TZ: ':Europe/Berlin' }, 'paris', 'timezone', 'Europe/Berlin'],
    ['an empty TZ is UTC, as for the C library', { TZ: '' }, 'paris', 'timezone', 'UTC'],
    ['the /etc/localtime link', {}, 'paris', 'timezone', 'Europe/Paris'],
    ['a relative link', {}, 'relative', 'timezone', 'America/New_York'],
    ['a link into zoneinfo/posix/', {}, 'posix', 'timezone', 'Asia/Tokyo'],
    ['a copied /etc/localtime: /etc/timezone names the zone', {}, 'copied', 'timezone', 'Europe/Lisbon'],
  ];
  for (const [title, env, localtime, timezone, expected] of cases) {
    it(title, () => assert.equal(localTimeZone(env, { localtime: join(dir, localtime), timezone: join(dir, timezone ?? 'none') }), expected));
  }

  it('a host that names its zone nowhere: the zone Node itself uses', () => {
    assert.equal(localTimeZone({}, { localtime: join(dir, 'missing'), timezone: join(dir, 'none') }), Intl.DateTimeFormat().resolvedOptions().timeZone);
  });

  it('a zone name no time zone data knows is written in UTC, never an error in a mail', () => {
    assert.equal(asctime(1795266602, 'No/Such_Zone'), 'Sat Nov 21 13:10:02 2026');
    assert.equal(asctime(1795266602, 'Etc/UTC'), 'Sat Nov 21 13:10:02 2026');
  });
});
