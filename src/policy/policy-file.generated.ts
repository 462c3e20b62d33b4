// Generated from schemas/policy.schema.json by `npm run gen:types`. Do not edit by hand.

/**
 * Exactly one of mail, exec, alertmanager or webhook.
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "notifier".
 */
export type Notifier = Notifier1 & Notifier2;
export type Notifier1 = {
  [k: string]: unknown;
};
/**
 * Send mail, through a sendmail program (the default) or an SMTP server.
 */
export type MailNotifier = {
  /**
   * The recipient address, or a list of them.
   *
   * @minItems 1
   */
  to: string | [string, ...string[]];
  /**
   * The sender address (From:); default procguard@HOSTNAME, with this host's name.
   */
  from?: string;
  /**
   * A sendmail-compatible program. A string is its command line, split into argv at spaces and run without a shell; procguard adds -i, and the recipients unless it has -t. The default transport: /usr/sbin/sendmail -t -i. A list is the argv exactly, run without a shell, with nothing added: the message on stdin, the recipients in its To: header, as memmon piped it to -s ([/bin/sh, -c, "sendmail -t | logger"] runs a command through the shell as memmon did). Not with smtp.
   *
   * @minItems 1
   */
  sendmail?: string | [string, ...string[]];
  smtp?: SmtpTransport;
  /**
   * The subject line: a Handlebars template over the event ({{host}}, {{policy}}, {{action}}, {{target.namespec}}, …); the default names the policy, the action, the target, the host and what was seen against the limit.
   */
  subject?: string;
  /**
   * The message text: a Handlebars template over the event, as subject (not with body_file); the default says what was done and why.
   */
  body?: string;
  /**
   * A file holding the body template, relative to this policy file (not with body).
   */
  body_file?: string;
};
/**
 * Send through this SMTP server instead of a sendmail program (not with sendmail).
 */
export type SmtpTransport =
  | string
  | {
      /**
       * smtp://host:port, or smtps://host:port for TLS from the first byte.
       */
      url: string;
      /**
       * The SMTP login.
       */
      username?: string;
      /**
       * The variable of procguard's environment that holds the password (not with password_file).
       */
      password_env?: string;
      /**
       * A file holding the password on its one line (not with password_env), owned by root or procguard's user and readable by its owner alone.
       */
      password_file?: string;
    };
/**
 * Run a program (argv, no shell) with the event as JSON on its standard input.
 *
 * @minItems 1
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
 * The policy's name, unique across all files: lower-case letters, digits, '.', '_' and '-', up to 64 characters. Plans, logs, mail and the audit log name the policy by it.
 *
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
 * Whom to tell when the policy acts, fails or its flapping guard stops it: one rule per notifier.
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "notify".
 */
export type NotifyRules = NotifyRule[];
/**
 * What to do with the process: restart (supervisord's stopProcess then startProcess, as memmon does), stop (supervisord's stopProcess), kill (SIGTERM, then SIGKILL after grace), or {signal: NAME} (send that signal). restart and stop need a supervisord program.
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
 * What to do with the process: restart (supervisord's stopProcess then startProcess, as memmon does), stop (supervisord's stopProcess), kill (SIGTERM, then SIGKILL after grace), or {signal: NAME} (send that signal). restart and stop need a supervisord program.
 */
export type Action1 =
  | ('restart' | 'stop' | 'kill')
  | {
      signal: SignalName;
    };
/**
 * What to do with the process: restart (supervisord's stopProcess then startProcess), stop (supervisord's stopProcess), kill (SIGTERM, then SIGKILL after grace), or {signal: NAME} (send that signal). restart and stop need a supervisord program.
 */
export type Action2 =
  | ('restart' | 'stop' | 'kill')
  | {
      signal: SignalName;
    };
/**
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "mail".
 */
export type MailNotifier1 = Mail;
/**
 * smtp://host:port, smtps://host:port, or an object with credentials.
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "smtp".
 */
export type SmtpTransport1 =
  | string
  | {
      /**
       * smtp://host:port, or smtps://host:port for TLS from the first byte.
       */
      url: string;
      /**
       * The SMTP login.
       */
      username?: string;
      /**
       * The variable of procguard's environment that holds the password (not with password_file).
       */
      password_env?: string;
      /**
       * A file holding the password on its one line (not with password_env), owned by root or procguard's user and readable by its owner alone.
       */
      password_file?: string;
    };
/**
 * argv of a program (no shell); the event is written as JSON to its stdin.
 *
 * @minItems 1
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "exec".
 */
export type ExecNotifier1 = [string, ...string[]];
/**
 * restart, stop, kill or {signal: NAME}
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "action".
 */
export type Action3 =
  | ('restart' | 'stop' | 'kill')
  | {
      signal: SignalName;
    };
/**
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "labelKey".
 */
export type LabelKey = string;
/**
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "hostName".
 */
export type HostName = string;
/**
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "objectName".
 */
export type ObjectName = string;
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
 * Seconds, or an integer with s, m, h or d: 90s, 2d.
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "duration".
 */
export type Duration = number | string;

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
  /**
   * The hosts of the fleet by hostname, each with its labels: a host takes its labels from its own entry; validate and plan read the whole list.
   */
  inventory?: {
    [k: string]: InventoryHost;
  };
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
   * Time between the starts of two cycles of the daemon (procguard run); run --interval overrides it.
   */
  interval?: number | string;
  /**
   * Directory for the state file, lock and audit log: an absolute path. procguard creates it, mode 0700, when it is missing.
   */
  state_dir?: string;
  labels?: Labels;
}
/**
 * This host's labels for hosts: selectors, added to the inventory's labels for this host and taking precedence over them. Typically set in a small host-local file beside the repository's policies.
 */
export interface Labels {
  [k: string]: string | number | boolean;
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
  /**
   * The user name supervisord's [unix_http_server] or [inet_http_server] section asks for.
   */
  username?: string;
  /**
   * The variable of procguard's environment that holds the password (not with password_file).
   */
  password_env?: string;
  /**
   * A file holding the password on its one line (not with password_env). It must be a regular file owned by root or procguard's user, readable and writable by its owner alone.
   */
  password_file?: string;
  /**
   * For a supervisord on this host (unix socket or loopback address): the user it runs as when not root, by name or numeric uid. procguard sends nothing, credentials included, to a socket held by a process of any other user (root and procguard's own user are always accepted).
   */
  user?: string | number;
  /**
   * How long one XML-RPC request may take before it counts as failed.
   */
  timeout?: number | string;
  hosts?: HostSelector;
}
/**
 * The hosts this entry is for, by hostname glob and/or labels; elsewhere it takes no part.
 */
export interface HostSelector {
  /**
   * Hostname globs; the host is selected when any of them matches its whole name.
   *
   * @minItems 1
   */
  names?: [string, ...string[]];
  labels?: Labels1;
}
/**
 * Labels the host must all carry, with these values.
 */
export interface Labels1 {
  [k: string]: string | number | boolean;
}
export interface Notifier2 {
  mail?: MailNotifier;
  exec?: ExecNotifier;
  alertmanager?: AlertmanagerNotifier;
  webhook?: WebhookNotifier;
  hosts?: HostSelector1;
  env?: ExecEnvironment;
  /**
   * How long one delivery may take, all of it: connecting, the greeting, every SMTP command and the data, the whole run of sendmail or the exec command, or the HTTP request of alertmanager and webhook (default 30s). Past it the delivery is cut short, counted as failed and tried again on a later cycle.
   */
  timeout?: number | string;
}
/**
 * Post alerts to Alertmanager's v2 API: one per lasting condition (firing, then resolved), one short-lived alert per action.
 */
export interface AlertmanagerNotifier {
  /**
   * Alertmanager's address, e.g. http://alertmanager.example.com:9093 (the path /api/v2/alerts is added). No credentials in it.
   */
  url: string;
  /**
   * More labels on every alert, e.g. { env: prod, team: web }; they cannot replace procguard's own.
   */
  labels?: {
    [k: string]: string;
  };
}
/**
 * POST the event as JSON to a URL, signed with HMAC-SHA256 under a secret read from the environment.
 */
export interface WebhookNotifier {
  /**
   * Where the event is POSTed, e.g. https://hooks.example.com/procguard. No credentials in it.
   */
  url: string;
  /**
   * The variable of procguard's environment that holds the signing secret (never written in a policy file, never logged).
   */
  secret_env: string;
}
/**
 * The hosts this entry is for, by hostname glob and/or labels; elsewhere it takes no part.
 */
export interface HostSelector1 {
  /**
   * Hostname globs; the host is selected when any of them matches its whole name.
   *
   * @minItems 1
   */
  names?: [string, ...string[]];
  labels?: Labels1;
}
/**
 * For exec only: the variables the command gets (see the mapping below).
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
  /**
   * The kind of policy: memory, oom, load, runtime or cpu.
   */
  kind: 'memory';
  /**
   * Free text for the people who read the file.
   */
  description?: string;
  mode?: Mode;
  match: Match;
  hosts?: HostSelector2;
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
   * For action kill: how long to wait between SIGTERM and SIGKILL.
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
  exclude?: Match1;
}
/**
 * A nested match: the processes it selects are left out.
 */
export interface Match1 {
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
  exclude?: Match1;
}
/**
 * The hosts this entry is for. A host is selected when its name matches one of names (globs: * any characters, ? one, [abc] one of a set) and it carries every label of labels; a selector with both needs both. Elsewhere the entry is inactive: a policy never acts, a notifier is never sent to, a supervisor is never asked.
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "hosts".
 */
export interface HostSelector2 {
  /**
   * Hostname globs; the host is selected when any of them matches its whole name.
   *
   * @minItems 1
   */
  names?: [string, ...string[]];
  labels?: Labels1;
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
  /**
   * How many actions on one target the window allows.
   */
  count: number;
  /**
   * The length of the window.
   */
  within: number | string;
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
  /**
   * The kind of policy: memory, oom, load, runtime or cpu.
   */
  kind: 'oom';
  /**
   * Free text for the people who read the file.
   */
  description?: string;
  mode?: Mode;
  match: Match;
  hosts?: HostSelector2;
  notify?: NotifyRules;
  /**
   * The value written to /proc/PID/oom_score_adj: -1000 (never chosen by the OOM killer) to 1000 (chosen first). Exactly one of oom_score_adj and oom_adj.
   */
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
  /**
   * The kind of policy: memory, oom, load, runtime or cpu.
   */
  kind: 'load';
  /**
   * Free text for the people who read the file.
   */
  description?: string;
  mode?: Mode;
  match: Match;
  hosts?: HostSelector2;
  notify?: NotifyRules;
  /**
   * What the band is read against: loadavg (the default, /proc/loadavg), or the share of time tasks stalled waiting for the CPU, IO or memory (pressure stall information, /proc/pressure/*, the some line), in percent.
   */
  source?: 'loadavg' | 'cpu_pressure' | 'io_pressure' | 'memory_pressure';
  /**
   * Pause the matched process trees while the reading is above this: a load average (see average), or a percentage (0 to 100) with a pressure source.
   */
  pause_above: number;
  /**
   * Resume them when the reading is at or below this; default pause_above / 2.
   */
  resume_below?: number;
  /**
   * Which average: with loadavg over 1, 5 or 15 minutes (1m, the default, 5m, 15m); with a pressure source over 10, 60 or 300 seconds (10s, the default, 60s, 300s).
   */
  average?: '1m' | '5m' | '15m' | '10s' | '60s' | '300s';
  /**
   * Never keep a process stopped longer than this.
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
  /**
   * The kind of policy: memory, oom, load, runtime or cpu.
   */
  kind: 'runtime';
  /**
   * Free text for the people who read the file.
   */
  description?: string;
  mode?: Mode;
  match: Match;
  hosts?: HostSelector2;
  notify?: NotifyRules;
  /**
   * How long a process may run (its uptime, from /proc) before the action.
   */
  max_runtime: number | string;
  action?: Action1;
  /**
   * For action kill: how long to wait between SIGTERM and SIGKILL.
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
  /**
   * The kind of policy: memory, oom, load, runtime or cpu.
   */
  kind: 'cpu';
  /**
   * Free text for the people who read the file.
   */
  description?: string;
  mode?: Mode;
  match: Match;
  hosts?: HostSelector2;
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
   * Consecutive over-limit cycles before acting (the first cycle that sees a process only measures).
   */
  for?: number;
  action?: Action2;
  /**
   * For action kill: how long to wait between SIGTERM and SIGKILL.
   */
  grace?: number | string;
  max_actions?: MaxActions;
  only_when?: OnlyWhen;
}
/**
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "inventoryHost".
 */
export interface InventoryHost {
  labels?: Labels2;
}
/**
 * This host's labels.
 */
export interface Labels2 {
  [k: string]: string | number | boolean;
}
/**
 * The variables an exec notifier's command gets besides the minimal set every child of procguard gets (PATH, HOME, LANG, LC_*, TZ, USER, LOGNAME, TMPDIR, as procguard has them); nothing else of procguard's environment reaches it. NAME: "value" sets a value; NAME: { from_env: VAR } passes procguard's own variable VAR under NAME, the way to hand the command a secret (a token from systemd's EnvironmentFile=) without writing it in a policy file. A from_env variable that is not set fails the delivery.
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "execEnv".
 */
export interface ExecEnvironment1 {
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
export interface Mail {
  /**
   * The recipient address, or a list of them.
   *
   * @minItems 1
   */
  to: string | [string, ...string[]];
  /**
   * The sender address (From:); default procguard@HOSTNAME, with this host's name.
   */
  from?: string;
  /**
   * A sendmail-compatible program. A string is its command line, split into argv at spaces and run without a shell; procguard adds -i, and the recipients unless it has -t. The default transport: /usr/sbin/sendmail -t -i. A list is the argv exactly, run without a shell, with nothing added: the message on stdin, the recipients in its To: header, as memmon piped it to -s ([/bin/sh, -c, "sendmail -t | logger"] runs a command through the shell as memmon did). Not with smtp.
   *
   * @minItems 1
   */
  sendmail?: string | [string, ...string[]];
  smtp?: SmtpTransport;
  /**
   * The subject line: a Handlebars template over the event ({{host}}, {{policy}}, {{action}}, {{target.namespec}}, …); the default names the policy, the action, the target, the host and what was seen against the limit.
   */
  subject?: string;
  /**
   * The message text: a Handlebars template over the event, as subject (not with body_file); the default says what was done and why.
   */
  body?: string;
  /**
   * A file holding the body template, relative to this policy file (not with body).
   */
  body_file?: string;
}
/**
 * Alerts posted to Alertmanager's v2 API (URL/api/v2/alerts): an action that keeps failing is one alert, firing when the failure begins (renewed while it lasts) and resolved when it ends; every other action is a short-lived alert (it ends after 5 minutes). Labels: alertname (ProcguardFailing or ProcguardAction), host, policy, kind, action, program (the namespec, or the process name), supervisor (when it is a program), and the labels given here.
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "alertmanager".
 */
export interface AlertmanagerNotifier1 {
  /**
   * Alertmanager's address, e.g. http://alertmanager.example.com:9093 (the path /api/v2/alerts is added). No credentials in it.
   */
  url: string;
  /**
   * More labels on every alert, e.g. { env: prod, team: web }; they cannot replace procguard's own.
   */
  labels?: {
    [k: string]: string;
  };
}
/**
 * The event as JSON (what an exec notifier reads on stdin), POSTed to url and signed: X-Procguard-Timestamp is the time in epoch seconds, X-Procguard-Signature is sha256=HEX, the HMAC-SHA256 with the secret of TIMESTAMP.BODY (the timestamp, a dot, the raw body). A receiver recomputes it, compares in constant time and refuses an old timestamp (a replay).
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "webhook".
 */
export interface WebhookNotifier1 {
  /**
   * Where the event is POSTed, e.g. https://hooks.example.com/procguard. No credentials in it.
   */
  url: string;
  /**
   * The variable of procguard's environment that holds the signing secret (never written in a policy file, never logged).
   */
  secret_env: string;
}
/**
 * Host labels: KEY: VALUE (role: web, env: prod); numbers and booleans are compared as their text.
 *
 * This interface was referenced by `PolicyFile`'s JSON-Schema
 * via the `definition` "labels".
 */
export interface Labels3 {
  [k: string]: string | number | boolean;
}
