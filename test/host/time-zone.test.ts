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
    await writeFile(join(dir, 'copied'), 'TZif');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const cases: Array<[string, NodeJS.ProcessEnv, string, string]> = [
    ['TZ wins over /etc/localtime', { TZ: 'Asia/Tokyo' }, 'paris', 'Asia/Tokyo'],
    ['TZ with the leading colon of POSIX', { TZ: ':Europe/Berlin' }, 'paris', 'Europe/Berlin'],
    ['the /etc/localtime link', {}, 'paris', 'Europe/Paris'],
    ['a relative link', {}, 'relative', 'America/New_York'],
    ['a copied file, not a link: UTC', {}, 'copied', 'UTC'],
    ['no /etc/localtime: UTC', {}, 'missing', 'UTC'],
  ];
  for (const [title, env, localtime, expected] of cases) {
    it(title, () => assert.equal(localTimeZone(env, join(dir, localtime)), expected));
  }

  it('a zone name no time zone data knows is written in UTC, never an error in a mail', () => {
    assert.equal(asctime(1795266602, 'No/Such_Zone'), 'Sat Nov 21 13:10:02 2026');
    assert.equal(asctime(1795266602, 'Etc/UTC'), 'Sat Nov 21 13:10:02 2026');
  });
});
