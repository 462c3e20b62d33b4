// Generated hosts and policy sets of a given size, shaped like a supervisord fleet: kernel
// threads, system daemons, supervised programs in groups, batch jobs with long command
// lines; policies mostly by program and group, some by name, command line and load.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ProcessEntry } from '../src/data/types.js';
import { writeProcfsTree, type FakeProcess } from '../test/helpers/procfs-tree.js';

/** Programs per supervisord group. */
const GROUP_SIZE = 10;
const DAEMONS = ['sshd', 'cron', 'rsyslogd', 'nginx', 'postgres', 'redis-server', 'dbus-daemon', 'systemd-journal', 'containerd', 'node_exporter'];

export interface GeneratedHost {
  processes: FakeProcess[];
  /** What supervisord's getAllProcessInfo would list, joined by pid. */
  programs: { pid: number; entry: NonNullable<ProcessEntry['supervisor']> }[];
}

/** `count` processes: a tenth kernel threads, a tenth supervised programs, the rest daemons, workers and jobs. */
export function generateHost(count: number): GeneratedHost {
  const processes: FakeProcess[] = [
    { pid: 1, ppid: 0, comm: 'systemd', rssPages: 3000, startTicks: 100, argv: ['/sbin/init'] },
    { pid: 2, ppid: 0, comm: 'kthreadd', rssPages: 0, startTicks: 100, kernelThread: true },
    { pid: 50, ppid: 1, comm: 'supervisord', rssPages: 5000, startTicks: 500, argv: ['/usr/bin/python3', '/usr/bin/supervisord', '-n'] },
  ];
  const programs: GeneratedHost['programs'] = [];
  const supervised = Math.max(1, Math.floor(count / 10));
  const kernel = Math.floor(count / 10);
  let pid = 100;
  for (let i = 0; i < kernel && processes.length < count; i += 1) {
    processes.push({ pid: pid++, ppid: 2, comm: `kworker/${i % 16}:${i}`, rssPages: 0, startTicks: 200, kernelThread: true });
  }
  for (let i = 0; i < supervised && processes.length < count; i += 1) {
    const group = `g${Math.floor(i / GROUP_SIZE)}`;
    const name = `${group}_p${i % GROUP_SIZE}`;
    processes.push({ pid, ppid: 50, comm: 'python3', rssPages: 20000 + (i % 7) * 9000, startTicks: 1000 + i, argv: ['/usr/bin/python3', '-m', 'app.worker', '--name', name] });
    programs.push({ pid, entry: { server: 'default', group, name, statename: 'RUNNING', start: 1795000010 } });
    pid += 1;
  }
  for (let i = 0; processes.length < count; i += 1) {
    const slot = i % 20;
    const daemon = DAEMONS[i % DAEMONS.length]!;
    if (slot === 0) processes.push({ pid, ppid: 1, comm: 'job-runner', rssPages: 30000, startTicks: 2000 + i, uid: 33, argv: ['/usr/bin/job-runner', `--job=${i % 50}`, '--queue', 'default'] });
    else if (slot === 1) processes.push({ pid, ppid: 1, comm: 'rsync', rssPages: 1500, startTicks: 9000 + i, uid: 0, argv: ['rsync', '-a', `/srv/data/${i}/`, 'backup:/srv/data/'] });
    else if (slot < 8) processes.push({ pid, ppid: 1, comm: 'bash', rssPages: 900, startTicks: 4000 + i, uid: 1000, argv: ['-bash'] });
    else if (slot < 12) processes.push({ pid, ppid: 1, comm: 'php-fpm8.2', rssPages: 9000, startTicks: 3000 + i, uid: 33, argv: ['php-fpm: pool www'] });
    else processes.push({ pid, ppid: 1, comm: daemon, rssPages: 2000 + i, startTicks: 300, uid: 0, oomScoreAdj: -500, argv: [`/usr/sbin/${daemon}`, '-D'] });
    pid += 1;
  }
  return { processes, programs };
}

export async function writeHost(host: GeneratedHost, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return writeProcfsTree(host.processes, dir);
}

/**
 * `count` policies over a host of `processes` processes: 60% memory caps by program namespec,
 * 10% by group, 10% OOM priorities by name, 10% runtime limits by name and command line, 5% memory by
 * name regex, 5% load pauses by name and command line. Every name is unique; most match something.
 */
export function generatePolicies(count: number, processes: number): Record<string, unknown>[] {
  const supervised = Math.max(1, Math.floor(processes / 10));
  const groups = Math.max(1, Math.ceil(supervised / GROUP_SIZE));
  const policies: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i += 1) {
    const slot = i % 20;
    const program = i % supervised;
    const group = `g${Math.floor(program / GROUP_SIZE)}`;
    if (slot < 12) {
      policies.push({ name: `mem-program-${i}`, kind: 'memory', match: { program: `${group}:${group}_p${program % GROUP_SIZE}` }, max_rss: `${200 + (i % 5) * 100}MB`, for: 2 });
    } else if (slot < 14) {
      policies.push({ name: `mem-group-${i}`, kind: 'memory', mode: 'audit', match: { group: `g${i % groups}` }, max_rss: '1GB' });
    } else if (slot < 16) {
      // The first of each daemon runs here; the rest name daemons of other hosts in the fleet.
      const daemon = DAEMONS[Math.floor(i / 20) % DAEMONS.length]!;
      policies.push({ name: `oom-${i}`, kind: 'oom', match: { name: i < 20 * DAEMONS.length && slot === 14 ? daemon : `${daemon}-${i}` }, oom_score_adj: -500 });
    } else if (slot < 18) {
      policies.push({ name: `runtime-${i}`, kind: 'runtime', mode: 'audit', match: { name: 'job-runner', cmdline: ` --job=${i % 50} ` }, max_runtime: '6h' });
    } else if (slot < 19) {
      policies.push({ name: `mem-name-${i}`, kind: 'memory', mode: 'audit', match: { name: `/^${DAEMONS[i % DAEMONS.length]}$/` }, max_rss: '2GB' });
    } else {
      policies.push({ name: `load-${i}`, kind: 'load', match: { name: 'rsync', cmdline: `^rsync -a /srv/data/${i}/` }, pause_above: 8, resume_below: 4 });
    }
  }
  return policies;
}

/** The policies as one file in a new directory, the way /etc/procguard holds them. */
export async function writePolicies(dir: string, policies: Record<string, unknown>[]): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'policies.yaml'), stringify({ settings: { state_dir: join(dir, 'state') }, policies }));
  return dir;
}
