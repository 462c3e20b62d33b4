// Generated from schemas/snapshot.schema.json by `npm run gen:types`. Do not edit by hand.

/**
 * This interface was referenced by `Snapshot`'s JSON-Schema
 * via the `definition` "pid".
 */
export type Pid = number;
/**
 * Up to the end of year 9999.
 *
 * This interface was referenced by `Snapshot`'s JSON-Schema
 * via the `definition` "epochSeconds".
 */
export type EpochSeconds = number;
/**
 * Epoch seconds, possibly with a fraction; up to the end of year 9999.
 *
 * This interface was referenced by `Snapshot`'s JSON-Schema
 * via the `definition` "epochTime".
 */
export type EpochTime = number;
/**
 * This interface was referenced by `Snapshot`'s JSON-Schema
 * via the `definition` "bytes".
 */
export type Bytes = number;

/**
 * What procguard's collectors saw on one host at one instant (`procguard snapshot --json`; `procguard check --snapshot FILE`). Times are epoch seconds, sizes are bytes.
 */
export interface Snapshot {
  /**
   * Format version.
   */
  version: 1;
  /**
   * When the snapshot was taken; uptime = time - start_time.
   */
  time: number;
  /**
   * Host name.
   */
  host: string;
  /**
   * 1, 5 and 15-minute load averages. Absent when the load collector failed.
   *
   * @minItems 3
   * @maxItems 3
   */
  load?: [number, number, number];
  /**
   * Seconds since the host booted, with a fraction (/proc/uptime), when the process table was read: the steady clock CPU rates are measured on, which no change of the wall clock moves. Absent from the ps collector: rates then use time.
   */
  since_boot?: number;
  memory?: HostMemory;
  pressure?: Pressure;
  /**
   * The pid of the procguard process that took the snapshot; it and its ancestors are never acted on.
   */
  self?: number;
  /**
   * What each pidfile a policy names (match.pidfile) says: the pid, and the only uid its process may run as when a user other than root could change the pidfile; null when the file is missing, holds no pid or is ignored. A bare pid (the form of earlier snapshots) is a pidfile only root could change.
   */
  pidfiles?: {
    [k: string]: PidfileEntry | Pid | null;
  };
  processes: ProcessEntry[];
  /**
   * Collectors that failed; the rest of the snapshot is still evaluated.
   */
  errors?: CollectorError[];
  /**
   * What a collector read but the operator should fix, e.g. one supervisord configured twice (a unix and an inet entry); each becomes a warning of the plan.
   */
  warnings?: CollectorError[];
}
/**
 * The host's memory from /proc/meminfo, in bytes: what `N%` memory limits and `only_when.memory_available_below` are measured against. Read only when a policy needs it (every field with `procguard snapshot`); absent when it was not needed, or could not be read (an entry of `errors` then says why).
 */
export interface HostMemory {
  /**
   * MemTotal: the memory the kernel manages; `N%` limits are shares of it.
   */
  total: number;
  /**
   * MemAvailable: how much could be given to programs without swapping (MemFree + Buffers + Cached on kernels before 3.14).
   */
  available: number;
  /**
   * SwapTotal.
   */
  swap_total: number;
  /**
   * SwapFree.
   */
  swap_free: number;
}
/**
 * Pressure stall information from /proc/pressure/{cpu,io,memory}: the share of time, in percent, that some (or all: full) runnable tasks were stalled on the resource, averaged over 10, 60 and 300 seconds. Read only for the resources a policy needs (every one with `procguard snapshot`). A resource is absent when it was not needed or the kernel has no PSI (before Linux 4.20, built without CONFIG_PSI, or booted with psi=0): when a policy needs it, an entry of `errors` says why; otherwise an entry of `warnings` does.
 */
export interface Pressure {
  cpu?: CpuPressure;
  io?: PressureLines;
  memory?: PressureLines1;
}
/**
 * /proc/pressure/cpu (its `full` line, which newer kernels print, is not kept: at the system level it is undefined).
 */
export interface CpuPressure {
  some: PressureAverages;
}
/**
 * At least one runnable task waited for a CPU.
 */
export interface PressureAverages {
  avg10: number;
  avg60: number;
  avg300: number;
}
/**
 * /proc/pressure/io.
 */
export interface PressureLines {
  some: PressureAverages1;
  full: PressureAverages2;
}
/**
 * At least one task stalled.
 */
export interface PressureAverages1 {
  avg10: number;
  avg60: number;
  avg300: number;
}
/**
 * Every non-idle task stalled at once.
 */
export interface PressureAverages2 {
  avg10: number;
  avg60: number;
  avg300: number;
}
/**
 * /proc/pressure/memory: time lost to reclaim, swapping and refaults. `only_when.memory_pressure_above` compares `memory.some.avg10`.
 */
export interface PressureLines1 {
  some: PressureAverages1;
  full: PressureAverages2;
}
/**
 * This interface was referenced by `Snapshot`'s JSON-Schema
 * via the `definition` "pidfileEntry".
 */
export interface PidfileEntry {
  pid: Pid;
  /**
   * A user other than root could change the pidfile: it names a process only when that process runs as this uid (the process entry's uid).
   */
  uid?: number;
}
/**
 * One process, or (pid 0) a supervisord program with no process here: not running, on a remote supervisor, or naming a pid that is not its supervisord's child.
 *
 * This interface was referenced by `Snapshot`'s JSON-Schema
 * via the `definition` "process".
 */
export interface ProcessEntry {
  /**
   * 0 only for a supervisord program with no process here (see the entry's description).
   */
  pid: number;
  ppid?: number;
  /**
   * The process name (comm).
   */
  name?: string;
  /**
   * The command line, arguments joined by spaces: the whole line, or its first 64 KiB when cmdline_truncated is true.
   */
  cmdline?: string;
  /**
   * The command line went on past the 64 KiB the collector read.
   */
  cmdline_truncated?: true;
  /**
   * The resolved path of /proc/PID/exe, without the kernel's " (deleted)" suffix; read only for processes a policy with match.exe needs.
   */
  exe?: string;
  user?: string;
  uid?: number;
  /**
   * Resident set size in bytes.
   */
  rss?: number;
  /**
   * Proportional set size in bytes (Pss of /proc/PID/smaps_rollup): each page shared with other processes counted as its share. Read only for the processes a max_pss, max_uss or max_swap policy matches (their descendants with scope: tree), and for PSS and USS only where RSS is over the limit.
   */
  pss?: number;
  /**
   * Unique set size in bytes: Private_Clean + Private_Dirty of /proc/PID/smaps_rollup, the memory ending the process would free. Read as pss is.
   */
  uss?: number;
  /**
   * Bytes of the process' memory swapped out (Swap of /proc/PID/smaps_rollup). Read as pss is.
   */
  swap?: number;
  /**
   * When the process started, in epoch seconds with the kernel's clock-tick precision (1/100 s on Linux, whole seconds from ps): boot time + field 22 of /proc/PID/stat / USER_HZ. A pid is checked against it, to the tick, before every signal.
   */
  start_time?: number;
  /**
   * Seconds of CPU the process has used since it started, user + system (fields 14 and 15 of /proc/PID/stat / USER_HZ; whole seconds from procps' ps). A cpu policy's rate is its change between two cycles.
   */
  cpu_time?: number;
  /**
   * The kernel's one-letter state: R, S, D, T, Z, …
   */
  state?: string;
  oom_score_adj?: number;
  /**
   * A kernel thread; never matched.
   */
  kernel_thread?: boolean;
  supervisor?: SupervisorEntry;
}
/**
 * The supervisord program running this process, joined by pid.
 *
 * This interface was referenced by `Snapshot`'s JSON-Schema
 * via the `definition` "supervisorEntry".
 */
export interface SupervisorEntry {
  /**
   * The name of the configured supervisor.
   */
  server: string;
  group: string;
  name: string;
  statename: 'STOPPED' | 'STARTING' | 'RUNNING' | 'BACKOFF' | 'STOPPING' | 'EXITED' | 'FATAL' | 'UNKNOWN';
  /**
   * When supervisord last started it; 0 = never. Informational: uptime comes from the process' own start_time.
   */
  start?: number;
  /**
   * The supervisor is at a non-loopback address: the program runs on another host, is listed with pid 0 and is never joined to this host's processes.
   */
  remote?: true;
}
/**
 * This interface was referenced by `Snapshot`'s JSON-Schema
 * via the `definition` "collectorError".
 */
export interface CollectorError {
  /**
   * procfs, ps, loadavg, meminfo, pressure, pidfile, supervisor:NAME
   */
  source: string;
  message: string;
}
/**
 * This interface was referenced by `Snapshot`'s JSON-Schema
 * via the `definition` "hostMemory".
 */
export interface HostMemory1 {
  /**
   * MemTotal: the memory the kernel manages; `N%` limits are shares of it.
   */
  total: number;
  /**
   * MemAvailable: how much could be given to programs without swapping (MemFree + Buffers + Cached on kernels before 3.14).
   */
  available: number;
  /**
   * SwapTotal.
   */
  swap_total: number;
  /**
   * SwapFree.
   */
  swap_free: number;
}
/**
 * Percent of wall time stalled, averaged over the last 10, 60 and 300 seconds.
 *
 * This interface was referenced by `Snapshot`'s JSON-Schema
 * via the `definition` "pressureAverages".
 */
export interface PressureAverages3 {
  avg10: number;
  avg60: number;
  avg300: number;
}
/**
 * This interface was referenced by `Snapshot`'s JSON-Schema
 * via the `definition` "pressureSomeFull".
 */
export interface PressureLines2 {
  some: PressureAverages1;
  full: PressureAverages2;
}
/**
 * This interface was referenced by `Snapshot`'s JSON-Schema
 * via the `definition` "pressure".
 */
export interface Pressure1 {
  cpu?: CpuPressure;
  io?: PressureLines;
  memory?: PressureLines1;
}
