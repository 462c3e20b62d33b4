// The snapshot indexed once per evaluation: processes by pid, children by parent, and the
// processes no policy may ever touch (pid 1, kernel threads, procguard and its ancestors).

import type { ProcessEntry, Snapshot, Target } from './types.js';

/** A process that is running: pid > 0 and every process field present. */
export interface LiveProcess extends ProcessEntry {
  ppid: number;
  name: string;
  rss: number;
  start_time: number;
}

export interface HostIndex {
  snapshot: Snapshot;
  /** Running processes, in snapshot order. */
  processes: LiveProcess[];
  byPid: Map<number, LiveProcess>;
  children: Map<number, LiveProcess[]>;
  /** Never matched by any policy, with why. */
  untouchable: Map<number, string>;
  /** Built on first use: the processes by the keys a matcher can look up instead of scanning. */
  lookup?: ProcessLookup;
  /** Processes whose command line a `cmdline` pattern saw only the start of (pattern.ts MATCH_LENGTH). */
  cutCommandLines: Set<LiveProcess>;
}

/** Running processes by namespec, program name, group and process name; each list in snapshot order. */
export interface ProcessLookup {
  byNamespec: Map<string, LiveProcess[]>;
  byProgram: Map<string, LiveProcess[]>;
  byGroup: Map<string, LiveProcess[]>;
  /** comm, and for a name the kernel cut short, also the base name of argv[0]. */
  byName: Map<string, LiveProcess[]>;
  /** Each process' place in the snapshot, to merge lists back into snapshot order. */
  order: Map<LiveProcess, number>;
}

/**
 * How much of a command line the collectors read: far more than any pattern sees (pattern.ts
 * MATCH_LENGTH) or a person reads, and a bound on what a user's 2 MiB command lines cost.
 */
export const COMMAND_LINE_READ_LENGTH = 64 * 1024;

/** USER_HZ: the clock ticks per second of start times in /proc/PID/stat (100 on every Linux). */
export const CLOCK_TICKS = 100;

/**
 * Whether two start times (epoch seconds with a fraction) are the same clock tick: a pid whose
 * process started one tick later is another process. Both come from boot time + ticks / USER_HZ,
 * so they round to the same whole tick exactly when the kernel's field 22 is the same.
 */
export function sameStartTime(a: number, b: number): boolean {
  return Math.round(a * CLOCK_TICKS) === Math.round(b * CLOCK_TICKS);
}

/** comm is cut at TASK_COMM_LEN - 1 characters. */
export const COMM_LENGTH = 15;

export function indexSnapshot(snapshot: Snapshot): HostIndex {
  const processes = snapshot.processes.filter(isLive);
  const byPid = new Map<number, LiveProcess>();
  const children = new Map<number, LiveProcess[]>();
  for (const process of processes) {
    byPid.set(process.pid, process);
    const siblings = children.get(process.ppid);
    if (siblings) siblings.push(process);
    else children.set(process.ppid, [process]);
  }

  const untouchable = new Map<number, string>();
  for (const process of processes) {
    if (process.pid === 1) untouchable.set(process.pid, 'pid 1 (init)');
    else if (process.kernel_thread === true) untouchable.set(process.pid, 'a kernel thread');
    // ppid 0: the kernel's own (kthreadd), or a parent outside this pid namespace: not ours to judge.
    else if (process.ppid === 0) untouchable.set(process.pid, 'a process without a visible parent');
  }
  if (snapshot.self !== undefined) {
    untouchable.set(snapshot.self, 'procguard itself');
    const seen = new Set<number>([snapshot.self]);
    for (let parent = byPid.get(snapshot.self)?.ppid; parent !== undefined && parent > 0 && !seen.has(parent); parent = byPid.get(parent)?.ppid) {
      seen.add(parent);
      if (!untouchable.has(parent)) untouchable.set(parent, 'an ancestor of procguard');
    }
  }
  return { snapshot, processes, byPid, children, untouchable, cutCommandLines: new Set() };
}

export function processLookup(host: HostIndex): ProcessLookup {
  if (host.lookup) return host.lookup;
  const lookup: ProcessLookup = { byNamespec: new Map(), byProgram: new Map(), byGroup: new Map(), byName: new Map(), order: new Map() };
  host.processes.forEach((process, index) => {
    lookup.order.set(process, index);
    if (process.supervisor) {
      add(lookup.byNamespec, `${process.supervisor.group}:${process.supervisor.name}`, process);
      add(lookup.byProgram, process.supervisor.name, process);
      add(lookup.byGroup, process.supervisor.group, process);
    }
    add(lookup.byName, process.name, process);
    const base = argv0Base(process);
    if (base !== undefined && base !== process.name) add(lookup.byName, base, process);
  });
  host.lookup = lookup;
  return lookup;
}

function add(map: Map<string, LiveProcess[]>, key: string, process: LiveProcess): void {
  const list = map.get(key);
  if (list) list.push(process);
  else map.set(key, [process]);
}

/**
 * The base name of argv[0], consulted only when the kernel cut the process name at 15
 * characters (pidof's fallback), so a name matches the same whatever else was collected.
 */
export function argv0Base(process: ProcessEntry): string | undefined {
  if (process.name === undefined || process.name.length !== COMM_LENGTH || process.cmdline === undefined) return undefined;
  const space = process.cmdline.indexOf(' ');
  const argv0 = space === -1 ? process.cmdline : process.cmdline.slice(0, space);
  const base = argv0.slice(argv0.lastIndexOf('/') + 1);
  // No file name is longer than NAME_MAX, so a longer base names no program: it is a user's
  // text, and as a Map key (V8 hashes strings this long by their length alone) it would make
  // the name lookup quadratic in the number of such processes.
  return base.length > 0 && base.length <= NAME_MAX ? base : undefined;
}

/** The longest file name Linux allows (bytes; a name of more characters is longer still). */
const NAME_MAX = 255;

function isLive(process: ProcessEntry): process is LiveProcess {
  return process.pid > 0 && process.ppid !== undefined && process.name !== undefined && process.rss !== undefined && process.start_time !== undefined;
}

/** The process and all its descendants, parents before children; safe on a looping ppid chain. */
export function processTree(host: HostIndex, root: LiveProcess): LiveProcess[] {
  const tree: LiveProcess[] = [root];
  const seen = new Set<number>([root.pid]);
  for (let i = 0; i < tree.length; i += 1) {
    for (const child of host.children.get(tree[i]!.pid) ?? []) {
      if (seen.has(child.pid)) continue;
      seen.add(child.pid);
      tree.push(child);
    }
  }
  return tree;
}

/** Whether any proper ancestor of `process` is in `pids`; safe on a looping ppid chain. */
export function hasAncestorIn(host: HostIndex, process: LiveProcess, pids: ReadonlySet<number>): boolean {
  const seen = new Set<number>();
  for (let parent = process.ppid; parent > 0 && !seen.has(parent); parent = host.byPid.get(parent)?.ppid ?? 0) {
    if (pids.has(parent)) return true;
    seen.add(parent);
  }
  return false;
}

export function namespec(process: ProcessEntry): string | undefined {
  return process.supervisor ? `${process.supervisor.group}:${process.supervisor.name}` : undefined;
}

/** How a plan names a process. */
export function targetOf(process: LiveProcess): Target {
  const spec = namespec(process);
  return {
    pid: process.pid,
    start_time: process.start_time,
    name: process.name,
    ...(process.cmdline !== undefined ? { cmdline: process.cmdline } : {}),
    ...(process.user !== undefined ? { user: process.user } : {}),
    ...(process.supervisor ? { supervisor: process.supervisor.server } : {}),
    ...(spec !== undefined ? { namespec: spec } : {}),
  };
}

/** "web:w1 (pid 11)" or "rsync (pid 4242)": a target for people. */
export function describeTarget(target: Target): string {
  return `${target.namespec ?? target.name} (pid ${target.pid})`;
}

/**
 * What a policy remembers a target by across cycles: a supervisord program keeps its key
 * across restarts (its pid changes); any other process is its pid and start time.
 */
export function targetKey(process: LiveProcess): string {
  if (process.supervisor) return `supervisor:${process.supervisor.server}:${namespec(process)}`;
  return `pid:${process.pid}:${Math.round(process.start_time * CLOCK_TICKS)}`;
}

/**
 * Uptime in whole seconds, from the process' own start time in /proc: never from supervisord's
 * `start`, which is only what whoever answers on its address says.
 */
export function uptimeOf(process: LiveProcess, time: number): number {
  return Math.max(0, Math.floor(time - process.start_time));
}
