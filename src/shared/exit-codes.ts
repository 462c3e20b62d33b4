// Exit codes of the command line (README.md, "The command line"), named once. Library code never exits; main sets process.exitCode.

export const ExitCode = {
  OK: 0,
  /** check: actions are planned. test: a policy test failed. */
  ACTIONS_PLANNED: 1,
  /** Invalid policy files, snapshot or command line. */
  INVALID: 2,
  /** A collector, action or notifier failed, or another run holds the lock. */
  FAILED: 3,
  /** A bug in procguard itself (EX_SOFTWARE). */
  INTERNAL_ERROR: 70,
  /** procguard memmon: a bad command line, as memmon's usage() exits. */
  MEMMON_USAGE: 255,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
