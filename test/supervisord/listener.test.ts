// Finding who listens on a supervisor's address: which addresses are this host's, how
// /proc/net prints them, and supervisord's temporary socket name, on generated /proc trees.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { endianness, networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandIPv6, findListeners, isLocalAddress, isThisHostAddress, placeOf, plainAddress } from '../../src/supervisord/listener.js';

describe('collector: who listens on a supervisor address', () => {
  const local: Array<[string, boolean]> = [
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true], // how the URL parser writes [::ffff:127.0.0.1]
    ['0:0:0:0:0:ffff:7f00:0001', true],
    ['::ffff:0.0.0.0', true],
    ['::ffff:c000:202', false],
    ['::7f00:1', false], // IPv4-compatible, not mapped: not 127.0.0.1
    ['0.0.0.0', true],
    ['::', true],
    ['192.0.2.2', false],
    ['10.0.0.1', false],
    ['fd00::2', false],
    ['128.0.0.1', false],
  ];
  for (const [address, expected] of local) {
    it(`${address} is ${expected ? 'this host (verified before use)' : 'remote'}`, () => assert.equal(isLocalAddress(address), expected));
  }

  it('an IPv4-mapped address, however it is spelled, is the IPv4 address inside it', () => {
    for (const spelling of ['::ffff:127.0.0.1', '::ffff:7f00:1', '::FFFF:7F00:0001', '0:0:0:0:0:ffff:7f00:1', '0000:0000:0000:0000:0000:ffff:127.0.0.1'])
      assert.equal(plainAddress(spelling), '127.0.0.1', spelling);
    assert.equal(plainAddress('::1'), '::1');
    assert.equal(plainAddress('192.0.2.2'), '192.0.2.2');
  });

  it("an address of one of this host's interfaces (in any spelling) is this host; others are remote", () => {
    const interfaces = { eth0: [{ address: '192.0.2.2' }, { address: 'fd00::2' }, { address: 'fe80::fc:ff:fe00:1%eth0' }] } as unknown as Parameters<typeof isThisHostAddress>[1];
    for (const address of ['192.0.2.2', '::ffff:192.0.2.2', '::ffff:c000:202', 'fd00:0:0:0:0:0:0:2', 'fe80::fc:ff:fe00:1', '127.0.0.1', '::1'])
      assert.equal(isThisHostAddress(address, interfaces), true, address);
    for (const address of ['192.0.2.3', 'fd00::3', '203.0.113.9']) assert.equal(isThisHostAddress(address, interfaces), false, address);
  });

  it("a URL naming this host's own address or an IPv4-mapped loopback is verified like 127.0.0.1; an address not on this host is remote", async () => {
    const own = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    assert.ok(own, 'this host has a non-loopback IPv4 address');
    assert.deepEqual(await placeOf({ transport: 'http', url: `http://${own}:9001/RPC2` }), { kind: 'loopback', address: own, port: 9001, shown: `${own}:9001` });
    assert.deepEqual(await placeOf({ transport: 'http', url: 'http://[::ffff:127.0.0.1]:9001/RPC2' }), { kind: 'loopback', address: '127.0.0.1', port: 9001, shown: '127.0.0.1:9001' });
    assert.deepEqual(await placeOf({ transport: 'http', url: 'http://203.0.113.9:9001/RPC2' }), { kind: 'remote' });
  });

  it('IPv6 addresses compare however they are written', () => {
    assert.equal(expandIPv6('::1'), '0000:0000:0000:0000:0000:0000:0000:0001');
    assert.equal(expandIPv6('::ffff:127.0.0.1'), expandIPv6('0:0:0:0:0:ffff:7f00:1'));
  });

  describe('on a generated /proc', () => {
    let root: string;
    const hex = (bytes: number[]): string => {
      const words: string[] = [];
      for (let i = 0; i < bytes.length; i += 4) {
        const word = bytes.slice(i, i + 4);
        words.push(
          (endianness() === 'LE' ? word.reverse() : word)
            .map((b) => b.toString(16).padStart(2, '0'))
            .join('')
            .toUpperCase(),
        );
      }
      return words.join('');
    };
    async function processHolding(pid: number, uid: number, inode: string): Promise<void> {
      await mkdir(join(root, String(pid), 'fd'), { recursive: true });
      await symlink(`socket:[${inode}]`, join(root, String(pid), 'fd', '3'));
      await writeFile(join(root, String(pid), 'status'), `Name:\tx\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\n`);
    }
    beforeEach(async () => {
      root = await mkdtemp(join(tmpdir(), 'pg-listener-'));
    });
    afterEach(() => rm(root, { recursive: true, force: true }));

    it("supervisord's temporary name PATH.PID counts when PID holds it; PATH.N held by another process is ignored", async () => {
      await mkdir(join(root, 'net'));
      await writeFile(
        join(root, 'net', 'unix'),
        'Num       RefCount Protocol Flags    Type St Inode Path\n' +
          '0000000000000000: 00000002 00000000 00010000 0001 01 5001 /srv/sv/supervisor.sock.700\n' +
          '0000000000000000: 00000002 00000000 00010000 0001 01 5002 /srv/sv/supervisor.sock.4242\n' +
          '0000000000000000: 00000003 00000000 00000000 0001 03 5003 /srv/sv/supervisor.sock\n',
      );
      await processHolding(700, 0, '5001');
      await processHolding(900, 1234, '5002');
      const found = findListeners({ kind: 'unix', socketPath: '/srv/sv/supervisor.sock', shown: '/srv/sv/supervisor.sock' }, root);
      assert.deepEqual(found, [{ pid: 700, uids: [0, 0, 0, 0], shown: '/srv/sv/supervisor.sock' }]);
    });

    it("a socket bound in a directory that was moved away and replaced by a link to the supervisor's directory is not taken for the supervisor's", async () => {
      // The names in /proc/net/unix are the paths as bound; resolved today they would follow the link.
      await mkdir(join(root, 'net'));
      await mkdir(join(root, 'real'));
      await mkdir(join(root, 'x'));
      await symlink(join(root, 'real'), join(root, 'x', 'd'));
      await writeFile(
        join(root, 'net', 'unix'),
        'Num       RefCount Protocol Flags    Type St Inode Path\n' +
          `0000000000000000: 00000002 00000000 00010000 0001 01 5101 ${join(root, 'x', 'd', 'supervisor.sock')}\n` +
          `0000000000000000: 00000002 00000000 00010000 0001 01 5102 ${join(root, 'x', 'd', 'supervisor.sock')}.900\n` +
          `0000000000000000: 00000002 00000000 00010000 0001 01 5103 ${join(root, 'real', 'supervisor.sock')}.700\n`,
      );
      await processHolding(900, 1234, '5101');
      await processHolding(901, 1234, '5102');
      await processHolding(700, 0, '5103');
      const socketPath = join(root, 'real', 'supervisor.sock');
      assert.deepEqual(findListeners({ kind: 'unix', socketPath, shown: socketPath }, root), [{ pid: 700, uids: [0, 0, 0, 0], shown: socketPath }]);
      // Configured through the link, the path as written and its realpath are both compared (as text).
      const throughLink = join(root, 'x', 'd', 'supervisor.sock');
      const found = findListeners({ kind: 'unix', socketPath: throughLink, shown: throughLink }, root);
      assert.deepEqual(Array.isArray(found) && found.map((l) => l.pid), [900, 700]);
    });

    it('127.0.0.1:9001: the listener on that address wins over a wildcard one, as the kernel picks; every member of a group is returned', async () => {
      await mkdir(join(root, 'net'));
      const line = (address: number[], inode: string): string => `   0: ${hex(address)}:2329 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0 100 0 0 10 0\n`;
      const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
      await writeFile(join(root, 'net', 'tcp'), header + line([127, 0, 0, 1], '6001') + line([127, 0, 0, 1], '6002'));
      await writeFile(join(root, 'net', 'tcp6'), header + line(Array(16).fill(0), '6003'));
      await processHolding(800, 0, '6001');
      await processHolding(801, 0, '6002');
      await processHolding(802, 1234, '6003');
      const v4 = findListeners({ kind: 'loopback', address: '127.0.0.1', port: 9001, shown: '127.0.0.1:9001' }, root);
      assert.deepEqual(Array.isArray(v4) && v4.map((l) => l.pid), [800, 801]);
      // ::1 is only reached through the IPv6 wildcard, held by uid 1234.
      const v6 = findListeners({ kind: 'loopback', address: '::1', port: 9001, shown: '[::1]:9001' }, root);
      assert.deepEqual(v6, [{ pid: 802, uids: [1234, 1234, 1234, 1234], shown: '[::1]:9001' }]);
      assert.deepEqual(findListeners({ kind: 'loopback', address: '127.0.0.1', port: 9002, shown: '127.0.0.1:9002' }, root), { code: 'ECONNREFUSED', message: 'nothing listens on 127.0.0.1:9002' });
    });
  });
});
