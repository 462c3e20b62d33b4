// Who answers on a supervisor's address, found before anything is sent to it. For a unix
// socket: who owns the socket file and its directories, and its listening entry in
// /proc/net/unix. For an address of this host: the LISTEN entries of /proc/net/tcp and
// /proc/net/tcp6 that a connection there could reach. Then the process whose /proc/PID/fd
// holds socket:[inode], and the uids it runs as (/proc/PID/status).

import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { endianness, networkInterfaces } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { SupervisorEndpoint } from '../policy/model.js';

/** Where a supervisor is: a socket on this host (verified before use), or another host. */
export type SupervisorPlace = { kind: 'unix'; socketPath: string; shown: string } | { kind: 'loopback'; address: string; port: number; shown: string } | { kind: 'remote' };

/** The process that holds a listening socket. */
export interface Listener {
  pid: number;
  /** Real, effective, saved and filesystem uid. */
  uids: number[];
  /** How the address was written in messages: a socket path or address:port. */
  shown: string;
}

/** Why no listener could be named: nothing listens (`code`), or someone cannot be seen. */
export interface NoListener {
  code?: 'ENOENT' | 'ECONNREFUSED';
  message: string;
}

/**
 * An address as the kernel takes it: an IPv4-mapped IPv6 address (::ffff:0:0/96, in any
 * spelling, such as ::ffff:7f00:1 as the URL parser writes [::ffff:127.0.0.1]) is the IPv4
 * address inside it; any other address is returned as it is.
 */
export function plainAddress(address: string): string {
  if (isIP(address) !== 6) return address;
  const groups = expandIPv6(address).split(':');
  if (groups.slice(0, 5).every((g) => g === '0000') && groups[5] === 'ffff') {
    const [hi, lo] = [Number.parseInt(groups[6]!, 16), Number.parseInt(groups[7]!, 16)];
    return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
  }
  return address;
}

/** 127.0.0.0/8, ::1, an IPv4-mapped loopback, and the unspecified addresses (a connection to 0.0.0.0 stays on this host). */
export function isLocalAddress(address: string): boolean {
  const plain = plainAddress(address);
  if (isIP(plain) === 4) return plain.startsWith('127.') || plain === '0.0.0.0';
  if (isIP(plain) === 6) return [expandIPv6('::1'), expandIPv6('::')].includes(expandIPv6(plain));
  return false;
}

/** An address of this host: a loopback or unspecified one, or one of its interfaces' (a connection there never leaves this host either). */
export function isThisHostAddress(address: string, interfaces = networkInterfaces()): boolean {
  if (isLocalAddress(address)) return true;
  const key = (a: string): string => {
    const plain = plainAddress(a.replace(/%.*$/, ''));
    return isIP(plain) === 6 ? expandIPv6(plain) : plain;
  };
  const wanted = key(address);
  return Object.values(interfaces).some((list) => (list ?? []).some((a) => key(a.address) === wanted));
}

/**
 * unix:// is local; http:// is local when its host is, or resolves to, a loopback address or
 * an address of one of this host's interfaces (an IPv4-mapped one counts as its IPv4 address). A
 * name that resolves to several addresses is local if any of them is: the connection is then
 * made to that address alone, so the one verified is the one reached.
 */
export async function placeOf(endpoint: SupervisorEndpoint): Promise<SupervisorPlace> {
  if (endpoint.transport === 'unix') return { kind: 'unix', socketPath: endpoint.socketPath, shown: endpoint.socketPath };
  const url = new URL(endpoint.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  let addresses: string[];
  if (isIP(host) !== 0) addresses = [host];
  else if (host.toLowerCase() === 'localhost' || host.toLowerCase().endsWith('.localhost')) addresses = ['127.0.0.1', '::1'];
  else
    addresses = await lookup(host, { all: true, verbatim: true }).then(
      (found) => found.map((a) => a.address),
      () => [],
    );
  const local = [...new Set(addresses.map(plainAddress))].filter((address) => isThisHostAddress(address));
  if (local.length === 0) return { kind: 'remote' };
  // Of several local addresses, the first one something listens on (localhost: 127.0.0.1, then ::1).
  const listening = local.length === 1 ? local[0]! : (local.find((address) => tcpListeners(address, port, '/proc').length > 0) ?? local[0]!);
  return { kind: 'loopback', address: listening, port, shown: showAddress(listening, port) };
}

function showAddress(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The last listener found for each address: looked at first next time, so a cycle seldom scans every process. */
const lastHolder = new Map<string, Holder>();

/** The processes listening on `place` (usually one), or why none can be named. Never sends anything. */
export function findListeners(place: Exclude<SupervisorPlace, { kind: 'remote' }>, procRoot = '/proc'): Listener[] | NoListener {
  const entries: { inode: string; pid?: number }[] = place.kind === 'unix' ? unixListeners(place.socketPath, procRoot) : tcpListeners(place.address, place.port, procRoot).map((inode) => ({ inode }));
  if (entries.length === 0) {
    if (place.kind === 'unix') {
      let exists = true;
      try {
        lstatSync(place.socketPath);
      } catch (error) {
        exists = (error as NodeJS.ErrnoException).code !== 'ENOENT';
      }
      return exists ? { code: 'ECONNREFUSED', message: `nothing listens on ${place.shown}` } : { code: 'ENOENT', message: `${place.shown} does not exist` };
    }
    return { code: 'ECONNREFUSED', message: `nothing listens on ${place.shown}` };
  }
  const inodes = new Set(entries.map((e) => e.inode));
  const holders = socketHolders(inodes, procRoot, [lastHolder.get(place.shown)]);
  // A temporary name PATH.PID counts when PID holds it: anyone may bind PATH.1234 beside it.
  const exact = entries.filter((e) => holders.has(e.inode) && (e.pid === undefined || holders.get(e.inode)!.pid === e.pid));
  // Only when nothing else listens there: a supervisord that daemonizes binds PATH.PID before
  // it forks, so the pid in the name is its parent's, long gone. Its holder is judged as any.
  const kept = exact.length > 0 ? exact : entries.filter((e) => e.pid !== undefined && holders.has(e.inode));
  const missing = entries.filter((e) => e.pid === undefined && !holders.has(e.inode));
  if (missing.length > 0 || kept.length === 0) {
    const unseen = (missing.length > 0 ? missing : entries).map((e) => e.inode);
    return { message: `no process that procguard can see holds the socket ${place.shown} (inode ${unseen.join(', ')}), so who answers there cannot be verified` };
  }
  const listeners = [...new Set(kept.map((e) => holders.get(e.inode)!.pid))].map((pid): Listener => ({ pid, uids: uidsOf(pid, procRoot), shown: place.shown }));
  lastHolder.set(
    place.shown,
    [...holders.values()].find((h) => h.pid === listeners[0]!.pid)!,
  );
  return listeners;
}

/**
 * The inodes of listening stream sockets bound to `socketPath` (as configured, or as it
 * resolves now), or to supervisord's temporary name for it: supervisord binds PATH.PID and
 * hard-links it to PATH, so the kernel knows the socket by the first name. Returned with the
 * pid such a temporary name carries, which must be the holder's.
 *
 * The names /proc/net/unix shows are compared as text only. They are the paths as they were
 * when bound: resolving one today would follow whatever now stands at its directories, so a
 * user could bind a socket in a directory of theirs, move that directory away and link its
 * old name to the supervisor's directory, and have their socket taken for the supervisor's.
 */
function unixListeners(socketPath: string, procRoot: string): { inode: string; pid?: number }[] {
  const names = new Set([socketPath, canonical(socketPath)]);
  const found: { inode: string; pid?: number }[] = [];
  for (const line of readFileSync(join(procRoot, 'net/unix'), 'utf8').split('\n').slice(1)) {
    // Num RefCount Protocol Flags Type St Inode Path: the path is the rest of the line.
    const fields = /^\S+:\s+\S+\s+\S+\s+(\S+)\s+(\S+)\s+\S+\s+(\d+)\s(.*)$/.exec(line);
    if (!fields) continue;
    const [, flags, type, inode, path] = fields as unknown as [string, string, string, string, string];
    const listening = (Number.parseInt(flags, 16) & 0x10000) !== 0; // __SO_ACCEPTCON
    if (!listening || type !== '0001' || !path.startsWith('/')) continue;
    const temporary = /^(.*)\.(\d+)$/.exec(path);
    if (names.has(path)) found.push({ inode });
    else if (temporary && names.has(temporary[1]!)) found.push({ inode, pid: Number(temporary[2]) });
  }
  return found;
}

/** A socket path as connect reaches it: links followed; when it is not there (yet), its directory's. */
function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    // not there (yet): its directory still says where it would be
  }
  try {
    return join(realpathSync(dirname(path)), basename(path));
  } catch {
    return path;
  }
}

/**
 * Who could have put the socket file where it is: its owner, and the owner of every directory
 * on its resolved path that others may write without the sticky bit. A connection reaches the
 * socket bound to that file, and a socket file is created by the process that binds it.
 */
export function socketFileOwners(socketPath: string): { path: string; uid: number; what: string }[] | NoListener {
  let real: string;
  let file: Stats;
  try {
    real = realpathSync(socketPath);
    file = statSync(real);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? { code: 'ENOENT', message: `${socketPath} does not exist` } : { message: `${socketPath}: ${code ?? String(error)}` };
  }
  if (!file.isSocket()) return { message: `${socketPath} is not a socket` };
  const owners = [{ path: real, uid: file.uid, what: 'the socket file' }];
  for (let dir = dirname(real); ; dir = dirname(dir)) {
    const stats = statSync(dir);
    const sticky = (stats.mode & 0o1000) !== 0;
    owners.push({ path: dir, uid: stats.uid, what: 'the directory' });
    if ((stats.mode & 0o022) !== 0 && !sticky) owners.push({ path: dir, uid: -1, what: 'the directory (writable by group or others)' });
    if (dir === '/') break;
  }
  return owners;
}

/**
 * The inodes of the TCP sockets a connection to address:port reaches, most specific first as
 * the kernel picks them: LISTEN entries on that very address, else on the IPv4 wildcard, else
 * on an IPv6 one that may take IPv4 (::ffff:address or ::). Several entries of one kind (a
 * SO_REUSEPORT group) are all returned: each of them may take the connection.
 */
function tcpListeners(address: string, port: number, procRoot: string): string[] {
  const plain = plainAddress(address);
  const v4 = isIP(plain) === 4 ? plain : undefined;
  const preference = v4 ? [[`4:${v4}`], ['4:0.0.0.0'], [`6:${expandIPv6(`::ffff:${v4}`)}`, `6:${expandIPv6('::')}`]] : [[`6:${expandIPv6(plain)}`], [`6:${expandIPv6('::')}`]];
  const found = new Map<string, string[]>();
  // Reading /proc/net/tcp* walks the kernel's whole table (milliseconds each): tcp6 only when tcp has no answer.
  for (const [family, file] of (v4
    ? [
        ['4', 'net/tcp'],
        ['6', 'net/tcp6'],
      ]
    : [['6', 'net/tcp6']]) as [string, string][]) {
    let text: string;
    try {
      text = readFileSync(join(procRoot, file), 'utf8');
    } catch {
      continue; // no IPv6 on this host
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== '0A') continue; // LISTEN
      const [hexAddress, hexPort] = fields[1]!.split(':');
      if (hexAddress === undefined || hexPort === undefined || Number.parseInt(hexPort, 16) !== port) continue;
      const local = `${family}:${family === '4' ? procAddress(hexAddress).join('.') : expandFromBytes(procAddress(hexAddress))}`;
      found.set(local, [...(found.get(local) ?? []), fields[9]!]);
    }
    if (preference.slice(0, -1).some((keys) => keys.some((key) => found.has(key)))) break;
  }
  for (const keys of preference) {
    const inodes = keys.flatMap((key) => found.get(key) ?? []);
    if (inodes.length > 0) return inodes;
  }
  return [];
}

/** /proc/net/tcp* print an address as 32-bit words in host byte order. */
function procAddress(hex: string): number[] {
  const bytes: number[] = [];
  for (let word = 0; word < hex.length; word += 8) {
    const chunk = [0, 2, 4, 6].map((i) => Number.parseInt(hex.slice(word + i, word + i + 2), 16));
    bytes.push(...(endianness() === 'LE' ? chunk.reverse() : chunk));
  }
  return bytes;
}

function expandFromBytes(bytes: number[]): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16).padStart(4, '0'));
  return groups.join(':');
}

/** An IPv6 address as eight four-digit groups, to compare one written any way. */
export function expandIPv6(address: string): string {
  let text = address.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const middle = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...middle, ...right].map((g) => g.padStart(4, '0')).join(':');
}

/** A process and the descriptor it held a socket by. */
interface Holder {
  pid: number;
  fd: string;
}

/**
 * Which process holds each socket inode: the hinted descriptors first (last cycle's holder: one
 * readlink), then every descriptor of every process in pid order, stopping at the first holder
 * of each. A supervisord with 100 programs holds some 500 descriptors, so looking only where it
 * held the socket last time spares a cycle 500 readlinks.
 */
function socketHolders(inodes: ReadonlySet<string>, procRoot: string, hints: readonly (Holder | undefined)[]): Map<string, Holder> {
  const holders = new Map<string, Holder>();
  const held = (pid: number, fd: string): boolean => {
    let link: string;
    try {
      link = readlinkSync(join(procRoot, String(pid), 'fd', fd));
    } catch {
      return false;
    }
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    if (inode !== undefined && inodes.has(inode) && !holders.has(inode)) holders.set(inode, { pid, fd });
    return holders.size === inodes.size;
  };
  for (const hint of hints) if (hint && held(hint.pid, hint.fd)) return holders;
  const pids = readdirSync(procRoot)
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .sort((a, b) => a - b);
  const hinted = hints.flatMap((hint) => (hint ? [hint.pid] : []));
  for (const pid of [...new Set([...hinted, ...pids])]) {
    let fds: string[];
    try {
      fds = readdirSync(join(procRoot, String(pid), 'fd'));
    } catch {
      continue; // gone, or not ours to look at
    }
    for (const fd of fds) if (held(pid, fd)) return holders;
  }
  return holders;
}

/** Real, effective, saved and filesystem uid from /proc/PID/status (not the owner of /proc/PID, which a non-dumpable process shows as root). */
export function uidsOf(pid: number, procRoot = '/proc'): number[] {
  try {
    const line = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(readFileSync(join(procRoot, String(pid), 'status'), 'utf8'));
    if (line) return line.slice(1).map(Number);
  } catch {
    // gone
  }
  return [];
}

/** The parent pid from /proc/PID/stat, undefined once the process is gone. */
export function parentOf(pid: number, procRoot = '/proc'): number | undefined {
  try {
    const stat = readFileSync(join(procRoot, String(pid), 'stat'), 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}
