// Generated from schemas/policy.schema.json by `npm run gen:types`. Do not edit by hand.

/**
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "envName".
 */
export type EnvName = string;
/**
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "path".
 */
export type Path = string;
/**
 * Exactly one of mail or exec.
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "notifier".
 */
export type Notifier = Notifier1 & Notifier2;
export type Notifier1 = {
  [k: string]: unknown;
};
/**
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "mail".
 */
export type MailNotifier = Mail;
/**
 * smtp://host:port, smtps://host:port, or an object with credentials.
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "smtp".
 */
export type SmtpTransport =
  | string
  | {
      url: string;
      username?: string;
      password_env?: EnvName;
      password_file?: Path;
    };
/**
 * argv of a program (no shell); the event is written as JSON to its stdin.
 *
 * @minItems 1
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "exec".
 */
export type ExecNotifier = [string, ...string[]];
/**
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "policy".
 */
export type Policy = MemoryPolicy | OomPolicy | LoadPolicy | RuntimePolicy | CpuPolicy;
/**
 * Act on a process whose memory is over a limit (superlance memmon): its resident (max_rss), proportional (max_pss), unique (max_uss) or swapped-out (max_swap) memory, exactly one of them.
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "memoryPolicy".
 */
export type MemoryPolicy = MemoryPolicy1 & MemoryPolicy2;
export type MemoryPolicy1 = {
  [k: string]: unknown;
};
/**
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "policyName".
 */
export type PolicyName = string;
/**
 * enforce: act; audit: plan and report, never act.
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "mode".
 */
export type Mode = 'enforce' | 'audit';
/**
 * supervisord namespec glob against group:name and bare name; "*" = every supervised process.
 *
 * @minItems 1
 */
export type StringOrList = string | [string, ...string[]];
/**
 * supervisord group.
 *
 * @minItems 1
 */
export type StringOrList1 = string | [string, ...string[]];
/**
 * Name of a configured supervisor.
 *
 * @minItems 1
 */
export type StringOrList2 = string | [string, ...string[]];
/**
 * Process name (comm) exactly, or /regex/.
 *
 * @minItems 1
 */
export type StringOrList3 = string | [string, ...string[]];
/**
 * Regular expression on the full command line.
 *
 * @minItems 1
 */
export type StringOrList4 = string | [string, ...string[]];
/**
 * The executable the process runs: the resolved /proc/PID/exe path exactly, or /regex/. Unlike name and cmdline, which any process can choose, it names the file the kernel executed; a binary deleted or replaced since (an upgrade) still matches its old path. Pair it with user: root to protect a root daemon, since any user may run the same binary.
 *
 * @minItems 1
 */
export type StringOrList5 = string | [string, ...string[]];
/**
 * Path of a file holding a pid.
 *
 * @minItems 1
 */
export type StringOrList6 = string | [string, ...string[]];
/**
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "notify".
 */
export type NotifyRules = NotifyRule[];
/**
 * restart, stop, kill or {signal: NAME}
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "action".
 */
export type Action =
  | ('restart' | 'stop' | 'kill')
  | {
      signal: SignalName;
    };
/**
 * A signal name such as HUP or SIGUSR1.
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "signalName".
 */
export type SignalName = string;
/**
 * Seconds, or an integer with s, m, h or d: 90s, 2d.
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "duration".
 */
export type Duration = number | string;
/**
 * Set the OOM-killer priority of processes (oom_adjust.sh).
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "oomPolicy".
 */
export type OomPolicy = OomPolicy1 & OomPolicy2;
export type OomPolicy1 = {
  [k: string]: unknown;
};
/**
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "objectName".
 */
export type ObjectName = string;
/**
 * @minItems 1
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "stringOrList".
 */
export type StringOrList7 = string | [string, ...string[]];
/**
 * Bytes, a number with KB, MB, GB (1024-based, any case) or KiB, MiB, GiB (200MB), or a share of the host's memory (MemTotal of /proc/meminfo) from 0% to 100%: 15%, 12.5%.
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "memoryLimit".
 */
export type MemoryLimit = number | string;
/**
 * Bytes, or a number with KB, MB, GB (1024-based, any case) or KiB, MiB, GiB: 200MB.
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "size".
 */
export type Size = number | string;

/**
 * One procguard policy file (/etc/procguard/*.yaml). Every section is optional; sections are merged across files and every name must be unique across all files.
 */
export interface PolicyFile {
  settings?: Settings;
  /**
   * supervisord XML-RPC endpoints, by name.
   */
  supervisors?: {
    [k: string]: Supervisor;
  };
  /**
   * Where notifications go, by name.
   */
  notifiers?: {
    [k: string]: Notifier;
  };
  /**
   * Policies, evaluated in file order.
   */
  policies?: Policy[];
}
/**
 * Global settings; at most one file may set each key.
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "settings".
 */
export interface Settings {
  /**
   * Tag in mail subjects, like memmon -n.
   */
  name?: string;
  /**
   * Daemon tick.
   */
  interval?: number | string;
  /**
   * Directory for the state file, lock and audit log.
   */
  state_dir?: string;
}
/**
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "supervisor".
 */
export interface Supervisor {
  /**
   * unix:///path/to/supervisor.sock or http://host:port (path /RPC2 is implied).
   */
  url: string;
  username?: string;
  password_env?: EnvName;
  password_file?: Path;
  /**
   * For a supervisord on this host (unix socket or loopback address): the user it runs as when not root, by name or numeric uid. procguard sends nothing, credentials included, to a socket held by a process of any other user (root and procguard's own user are always accepted).
   */
  user?: string | number;
  /**
   * Per-request timeout.
   */
  timeout?: number | string;
}
export interface Notifier2 {
  mail?: MailNotifier;
  exec?: ExecNotifier;
  env?: ExecEnvironment;
  /**
   * How long one delivery may take, all of it: connecting, the greeting, every SMTP command and the data, or the whole run of sendmail or the exec command (default 30s). Past it the delivery is cut short, counted as failed and tried again on a later cycle.
   */
  timeout?: number | string;
}
export interface Mail {
  /**
   * @minItems 1
   */
  to: string | [string, ...string[]];
  /**
   * Default procguard@<hostname>.
   */
  from?: string;
  /**
   * A sendmail-compatible program. A string is its command line, split into argv at spaces and run without a shell; procguard adds -i, and the recipients unless it has -t. The default transport: /usr/sbin/sendmail -t -i. A list is the argv exactly, run without a shell, with nothing added: the message on stdin, the recipients in its To: header, as memmon piped it to -s ([/bin/sh, -c, "sendmail -t | logger"] runs a command through the shell as memmon did).
   *
   * @minItems 1
   */
  sendmail?: string | [string, ...string[]];
  smtp?: SmtpTransport;
  /**
   * Handlebars template.
   */
  subject?: string;
  /**
   * Handlebars template.
   */
  body?: string;
  /**
   * Handlebars template file, relative to this policy file.
   */
  body_file?: string;
}
/**
 * The variables an exec notifier's command gets besides the minimal set every child of procguard gets (PATH, HOME, LANG, LC_*, TZ, USER, LOGNAME, TMPDIR, as procguard has them); nothing else of procguard's environment reaches it. NAME: "value" sets a value; NAME: { from_env: VAR } passes procguard's own variable VAR under NAME, the way to hand the command a secret (a token from systemd's EnvironmentFile=) without writing it in a policy file. A from_env variable that is not set fails the delivery.
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "execEnv".
 */
export interface ExecEnvironment {
  /**
   * a string, or { from_env: VARIABLE }
   */
  [k: string]:
    | string
    | {
        /**
         * The name of a variable in procguard's environment.
         */
        from_env: string;
      };
}
export interface MemoryPolicy2 {
  name: PolicyName;
  kind: 'memory';
  description?: string;
  mode?: Mode;
  match: Match;
  notify?: NotifyRules;
  /**
   * Resident set size limit (a size, or N% of the host's memory); the action fires when RSS is strictly greater. RSS counts every page a process maps once per process, so summed over a tree or group of forked workers it counts their shared pages many times: use max_pss for those.
   */
  max_rss?: number | string;
  /**
   * Proportional set size limit (a size, or N% of the host's memory), from /proc/PID/smaps_rollup: each shared page is divided among the processes sharing it, so a sum over a tree or group is the memory it really uses.
   */
  max_pss?: number | string;
  /**
   * Unique set size limit (a size, or N% of the host's memory): the pages only this process uses (Private_Clean + Private_Dirty of /proc/PID/smaps_rollup), what ending it would free.
   */
  max_uss?: number | string;
  /**
   * Limit on the process' memory swapped out (a size, or N% of the host's memory), from Swap of /proc/PID/smaps_rollup.
   */
  max_swap?: number | string;
  /**
   * process: each process alone; tree: with all its descendants (memmon -c); group: sum over all matched processes, act on the largest. The chosen measure is summed.
   */
  scope?: 'process' | 'tree' | 'group';
  /**
   * Consecutive over-limit cycles before acting.
   */
  for?: number;
  action?: Action;
  /**
   * kill: time between TERM and KILL.
   */
  grace?: number | string;
  max_actions?: MaxActions;
  only_when?: OnlyWhen;
}
/**
 * Which processes a policy applies to: all given keys must hold; a list matches any item; exclude subtracts the processes its nested match selects.
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "match".
 */
export interface Match {
  program?: StringOrList;
  group?: StringOrList1;
  supervisor?: StringOrList2;
  name?: StringOrList3;
  cmdline?: StringOrList4;
  exe?: StringOrList5;
  /**
   * User name or numeric uid.
   *
   * @minItems 1
   */
  user?: string | number | [string | number, ...(string | number)[]];
  pidfile?: StringOrList6;
  exclude?: Match;
}
export interface NotifyRule {
  /**
   * Name of a notifier.
   */
  to: string;
  /**
   * Notify only when the target's uptime is at most this (memmon -u).
   */
  uptime_at_most?: number | string;
}
/**
 * Flapping guard: after count actions within the window, stop acting on that target and notify once.
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "maxActions".
 */
export interface MaxActions {
  count: number;
  within: Duration;
}
/**
 * Act only while the host is short of memory: while any condition given holds. Otherwise the policy still measures and counts its cycles, but holds its action and says why.
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "onlyWhen".
 */
export interface OnlyWhen {
  /**
   * The host's available memory (MemAvailable) is strictly below this: a size (1GB) or a share of its memory (10%).
   */
  memory_available_below?: number | string;
  /**
   * The host's memory pressure (PSI: some avg10 of /proc/pressure/memory, the percent of the last 10 seconds some task waited for memory) is strictly above this percentage. A host without PSI is a collector error.
   */
  memory_pressure_above?: number;
}
export interface OomPolicy2 {
  name: PolicyName;
  kind: 'oom';
  description?: string;
  mode?: Mode;
  match: Match;
  notify?: NotifyRules;
  oom_score_adj?: number;
  /**
   * Legacy -17..15 scale, converted as the kernel does.
   */
  oom_adj?: number;
}
/**
 * SIGSTOP the matched process trees while the load average is high, SIGCONT when it falls (dmon -L/-l).
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "loadPolicy".
 */
export interface LoadPolicy {
  name: PolicyName;
  kind: 'load';
  description?: string;
  mode?: Mode;
  match: Match;
  notify?: NotifyRules;
  /**
   * What the band is read against: loadavg (the default, /proc/loadavg), or the share of time tasks stalled waiting for the CPU, IO or memory (pressure stall information, /proc/pressure/*, the some line), in percent.
   */
  source?: 'loadavg' | 'cpu_pressure' | 'io_pressure' | 'memory_pressure';
  /**
   * Pause while the reading is above this: a load average, or a percentage (0 to 100) with a pressure source.
   */
  pause_above: number;
  /**
   * Resume when the reading is at or below this. Default pause_above / 2.
   */
  resume_below?: number;
  /**
   * loadavg: 1m (default), 5m or 15m; a pressure source: 10s (default), 60s or 300s.
   */
  average?: '1m' | '5m' | '15m' | '10s' | '60s' | '300s';
  /**
   * Seconds, or an integer with s, m, h or d: 90s, 2d.
   */
  max_pause?: number | string;
}
/**
 * Act on a process that has run too long (dmon -t).
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "runtimePolicy".
 */
export interface RuntimePolicy {
  name: PolicyName;
  kind: 'runtime';
  description?: string;
  mode?: Mode;
  match: Match;
  notify?: NotifyRules;
  max_runtime: Duration;
  action?: Action;
  /**
   * Seconds, or an integer with s, m, h or d: 90s, 2d.
   */
  grace?: number | string;
  max_actions?: MaxActions;
}
/**
 * Act on a process that keeps using more CPU than a share of one core (PM2's max CPU restart). The rate is the CPU time used between two consecutive cycles over the time between them: the first cycle that sees a process is measuring.
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "cpuPolicy".
 */
export interface CpuPolicy {
  name: PolicyName;
  kind: 'cpu';
  description?: string;
  mode?: Mode;
  match: Match;
  notify?: NotifyRules;
  /**
   * CPU limit as a percentage of one core: 100% is one core busy, 250% two and a half (threaded programs); the action fires when the rate is strictly greater.
   */
  max_cpu: string;
  /**
   * process: each process alone; tree: with all its descendants; group: summed over all matched processes, act on the busiest. A sum counts the processes present in both cycles.
   */
  scope?: 'process' | 'tree' | 'group';
  /**
   * Consecutive over-limit cycles before acting.
   */
  for?: number;
  action?: Action;
  /**
   * Seconds, or an integer with s, m, h or d: 90s, 2d.
   */
  grace?: number | string;
  max_actions?: MaxActions;
  only_when?: OnlyWhen;
}
