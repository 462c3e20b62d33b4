// The command line: verbs, options, help and usage errors (exit 2), built with commander.

import { Argument, Command, CommanderError, Option } from 'commander';
import { ExitCode } from '../shared/exit-codes.js';
import type { CliIo } from '../shared/io.js';
import { InvalidArgumentError } from 'commander';
import { DURATION_UNITS_HELP, parseDuration } from '../shared/units.js';
import { CliFailure } from './failure.js';
import { VERSION } from './version.js';
import { DEFAULTS } from '../policy/model.js';
import type { ListenerStreams } from '../modes/eventlistener.js';

// Each verb's module is loaded when the verb runs: `validate` never loads the daemon's file
// watcher, nor `check` the mail library, which keeps every start short.

const CONFIG_HELP = 'policy file or conf.d directory (repeatable; default $PROCGUARD_CONFIG or /etc/procguard)';
const CONFIG_OR_STDIN_HELP = 'policy file, conf.d directory, or - for standard input (repeatable; default $PROCGUARD_CONFIG or /etc/procguard)';

/**
 * The event listener's protocol streams: supervisord's pipes to this process. Made only for
 * the verbs that use them: touching process.stdin opens it, about 5 ms of every command's start.
 */
const listenerStreams = (): ListenerStreams => ({ input: process.stdin, output: process.stdout });

export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const cli = defineProgram(io);
  try {
    await cli.program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CliFailure) {
      io.stderr(`procguard: ${error.message}\n`);
      return error.exitCode as ExitCode;
    }
    if (!(error instanceof CommanderError)) throw error;
    const asked = ['commander.helpDisplayed', 'commander.version'].includes(error.code);
    return asked ? ExitCode.OK : ExitCode.INVALID;
  }
  return cli.exitCode();
}

/**
 * Every verb and option of the command line. `--help`, the manual page (npm run gen:man) and
 * the shell completion (procguard completion) are all read from this one definition.
 */
export function defineProgram(io: CliIo): { program: Command; exitCode: () => ExitCode } {
  let exitCode: ExitCode = ExitCode.OK;
  const program = new Command('procguard')
    .description('Declarative policies for the processes on this host: memory caps, OOM priorities, load pauses, runtime limits.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError(true)
    .exitOverride();

  program
    .command('validate')
    .summary('check policy files: syntax, schema, references, templates')
    .description(
      'Parse, schema-check and cross-check policy files. Every problem is printed as FILE:LINE:COL: error|warning: message. ' +
        '-c paths form one configuration, as the daemon loads it; each PATH argument is checked on its own ' +
        '(a file, or every directory under it that holds *.yaml/*.yml files).\n' +
        'Exit status: 0 valid (warnings allowed), 2 invalid.',
    )
    .argument('[paths...]', 'policy files or directories to check, each on its own; - for standard input')
    .addOption(new Option('-c, --config <path>', CONFIG_OR_STDIN_HELP).argParser(collect).default([]))
    .option('--json', 'print the diagnostics as a JSON array, the same as --format json')
    .addOption(new Option('--format <format>', 'text, json, github (workflow commands: annotations on the lines), junit (XML), sarif (2.1.0, for code scanning), markdown').default('text'))
    .action(async (paths: string[], options: { config: string[]; json?: boolean; format?: string }) => {
      exitCode = await (await import('./validate.js')).runValidate(paths, options, io);
    });

  program
    .command('check')
    .summary('evaluate the policies against this host (or a snapshot) and print the plan; never acts')
    .description(
      'Collect a snapshot of this host (or read one with --snapshot), evaluate every policy and print the plan: ' +
        'the actions and notifications procguard would carry out, each with its reason. Never acts, never writes state.\n' +
        'Exit status: 0 nothing to do, 1 actions planned, 2 invalid configuration or usage, 3 a collector failed.',
    )
    .addOption(new Option('-c, --config <path>', CONFIG_OR_STDIN_HELP).argParser(collect).default([]))
    .option('--dry-run', 'the default: never act (accepted for symmetry with apply)')
    .option('--snapshot <file>', 'evaluate this snapshot (procguard snapshot --json) instead of the live host')
    .option('--state <file>', 'the state to start from (default: STATE_DIR/state.json when it exists; none with --snapshot)')
    .option('--json', 'print the plan as JSON (schemas/plan.schema.json)')
    .option('--verbose', 'list every matched process with its value against the limit')
    .action(async (options: { config: string[]; snapshot?: string; state?: string; json?: boolean; verbose?: boolean }) => {
      exitCode = await (await import('./check.js')).runCheck(options, io);
    });

  program
    .command('plan')
    .summary("evaluate the policies against every host's snapshot: one plan per host and a summary")
    .description(
      "Evaluate the policy set against each host's snapshot (procguard snapshot --json > snapshots/HOST.json on each host), " +
        'as that host: its name and its labels (settings.labels and the inventory). Prints one plan per host and a summary: ' +
        'the hosts that would act and the actions by policy. Each snapshot is a first cycle (no state). A snapshot that cannot be ' +
        "read is that host's error; the other hosts are still planned. Never acts.\n" +
        'Exit status: 0 no host would act, 1 a host would act, 2 invalid policies, usage or a broken snapshot, 3 a snapshot carries a collector error.',
    )
    .addOption(new Option('-c, --config <path>', CONFIG_OR_STDIN_HELP).argParser(collect).default([]))
    .addOption(new Option('--snapshots <paths...>', 'snapshot files, or directories of *.json snapshots (one per host)').makeOptionMandatory())
    .option('--json', 'print an array of plans (schemas/plan.schema.json), the same as --format json')
    .addOption(new Option('--format <format>', 'text, json, markdown (a pull-request comment), junit (a test suite per host), github (a notice per action)').default('text'))
    .option('--verbose', 'list every matched process with its value against the limit')
    .action(async (options: { config: string[]; snapshots: string[]; json?: boolean; format?: string; verbose?: boolean }) => {
      exitCode = await (await import('./plan.js')).runPlan(options, io);
    });

  program
    .command('diff')
    .summary("what a change to the policies does, host by host, against the hosts' snapshots")
    .description(
      'Plan the policies of -c and those of --base (a directory, or a git revision of the repository holding the -c paths, read ' +
        'with git archive, never checked out) against every snapshot, and print what the change does, host by host: the ' +
        'policies added, removed or changed (a limit from one value to another), the actions that appear or disappear, and ' +
        'the processes newly matched or no longer matched.\n' +
        'Exit status: 0 no difference, 1 differences, 2 invalid policies, usage, base or a broken snapshot.',
    )
    .addOption(new Option('-c, --config <path>', CONFIG_HELP).argParser(collect).default([]))
    .addOption(new Option('--base <dir|revision>', 'the policies before the change: a directory, or a git revision (main, HEAD~1, a commit id)').makeOptionMandatory())
    .addOption(new Option('--snapshots <paths...>', 'snapshot files, or directories of *.json snapshots (one per host)').makeOptionMandatory())
    .option('--json', 'print the differences as JSON, the same as --format json')
    .addOption(new Option('--format <format>', 'text, json, markdown (a pull-request comment), github (an annotation on each changed policy)').default('text'))
    .action(async (options: { config: string[]; base: string; snapshots: string[]; json?: boolean; format?: string }) => {
      exitCode = await (await import('./diff.js')).runDiff(options, io);
    });

  program
    .command('apply')
    .summary('one cycle: collect, evaluate, act, save state (for cron)')
    .description(
      'Take the lock in STATE_DIR, collect a snapshot, evaluate every policy, carry out the plan (supervisord, signals, ' +
        'oom_score_adj, mail, exec), save the state atomically and append every action and notification to STATE_DIR/audit.log. ' +
        'Prints the plan with final statuses: done, failed (with the error), skipped (with the reason).\n' +
        'Exit status: 0 ok, 2 invalid configuration or usage, 3 a collector, action or notification failed, or the lock stayed busy.',
    )
    .addOption(new Option('-c, --config <path>', CONFIG_OR_STDIN_HELP).argParser(collect).default([]))
    .option('--dry-run', 'act on nothing: the same as procguard check')
    .option('--json', 'print the plan with final statuses as JSON (schemas/plan.schema.json)')
    .option('--verbose', 'list every matched process with its value against the limit')
    .option('-q, --quiet', 'print only what is new: actions carried out, failures and audit findings that began or ended (for cron, which mails any output)')
    .addOption(new Option('--wait <duration>', `how long an overlapping run waits for the lock (default ${DEFAULTS.lockWait}s)`).argParser(durationArgument))
    .option('--metrics-file <path>', "write the run's Prometheus metrics to PATH (node_exporter's textfile collector), atomically; counters go on from the file before")
    .action(async (options: { config: string[]; dryRun?: boolean; json?: boolean; verbose?: boolean; quiet?: boolean; wait?: number; metricsFile?: string }) => {
      exitCode = await (await import('./apply.js')).runApply(options, io);
    });

  program
    .command('resume')
    .summary('SIGCONT every process procguard has paused')
    .description(
      'Resume every process tree procguard paused and still owns (each pid checked against its start time, so a reused pid is ' +
        'never signalled), then clear them from the state. Works even when the configuration does not validate.\n' +
        'Exit status: 0, 2 usage, 3 a process could not be resumed (it stays in the state) or the lock stayed busy.',
    )
    .addOption(new Option('-c, --config <path>', CONFIG_OR_STDIN_HELP).argParser(collect).default([]))
    .option('--all', 'every paused process (required)')
    .option('--state-dir <dir>', 'the state directory (default: settings.state_dir)')
    .addOption(new Option('--wait <duration>', `how long to wait for the lock (default ${DEFAULTS.lockWait}s)`).argParser(durationArgument))
    .action(async (options: { config: string[]; all?: boolean; stateDir?: string; wait?: number }) => {
      exitCode = await (await import('./resume.js')).runResume(options, io);
    });

  program
    .command('status')
    .summary('what procguard sees and last did here: policies, headroom, paused, failing, supervisors')
    .description(
      'Collect a snapshot of this host (or read one with --snapshot) and show every configured policy (also those that match ' +
        'nothing) with each process it matches: its value, the limit and the headroom left. Then the process trees paused and ' +
        'since when, the actions and notifications whose latest attempt failed (since when, how many attempts), the last cycle ' +
        '(when it wrote state.json, and what it carried out) and whether each supervisor answers. Reads STATE_DIR and its audit ' +
        'log; needs no daemon, never acts, never writes.\n' +
        'Exit status: 0, 2 invalid configuration or usage, 3 a collector failed.',
    )
    .addOption(new Option('-c, --config <path>', CONFIG_HELP).argParser(collect).default([]))
    .option('--state-dir <dir>', 'the state directory to read (default: settings.state_dir)')
    .option('--snapshot <file>', 'show this snapshot (procguard snapshot --json) instead of the live host')
    .option('--json', 'print the report as JSON (docs/formats.md)')
    .action(async (options: { config: string[]; stateDir?: string; snapshot?: string; json?: boolean }) => {
      exitCode = await (await import('./status.js')).runStatus(options, io);
    });

  program
    .command('history')
    .summary('the audit log: what procguard carried out, newest last')
    .description(
      'Print the audit log of the state directory (STATE_DIR/audit.log and its rotated files audit.log.1 … , gzipped or not) ' +
        'as a table: when, policy, action, target, outcome, reason; the newest entry last. A line that is not an entry is ' +
        'skipped with a warning naming FILE:LINE. With --state-dir the configuration is not read.\n' +
        'Exit status: 0, 2 invalid configuration or usage.',
    )
    .addOption(new Option('-c, --config <path>', CONFIG_HELP).argParser(collect).default([]))
    .option('--state-dir <dir>', 'the state directory to read (default: settings.state_dir)')
    .option('--since <when>', 'only entries from this long ago (2h, 1d) or since this date (2026-05-01, 2026-05-01T10:00:00Z)')
    .option('--policy <name>', 'only entries of this policy')
    .option('--target <target>', 'only entries for this target: a pid, a namespec (web:web_0, web:* for a group) or a name')
    .option('--json', 'print the entries as a JSON array (the lines of audit.log)')
    .action(async (options: { config: string[]; stateDir?: string; since?: string; policy?: string; target?: string; json?: boolean }) => {
      exitCode = await (await import('./history.js')).runHistory(options, io);
    });

  program
    .command('run')
    .summary('the daemon: a cycle every interval, policy files reloaded when they change')
    .description(
      'Run a cycle (as apply) every interval, never two at once. The policy files are watched and reloaded when they change ' +
        'and on SIGHUP: a valid set is swapped in whole (counters of unchanged policies are kept); an invalid one is reported ' +
        'with FILE:LINE:COL and the last good set stays in force. SIGTERM or SIGINT: finish the cycle under way (a notification ' +
        'under way is cut short and kept to retry), resume every process procguard paused, save the state, exit 0. At start, processes a crashed run left paused are resumed.\n' +
        'Logs go to stderr.\nExit status: 0 stopped cleanly, 2 invalid configuration at start, 3 the state directory is unusable.',
    )
    .addOption(new Option('-c, --config <path>', CONFIG_HELP).argParser(collect).default([]))
    .addOption(new Option('--interval <duration>', 'time between cycle starts (default settings.interval, 60s)').argParser(positiveDurationArgument))
    .option(
      '--listen <address>',
      'serve a read-only status page (/), its JSON (/api/status), Prometheus metrics (/metrics) and /healthz on PORT or HOST:PORT ' +
        '(a bare port is 127.0.0.1); basic auth with PROCGUARD_LISTEN_USERNAME and PROCGUARD_LISTEN_PASSWORD',
    )
    .action(async (options: { config: string[]; interval?: number; listen?: string }) => {
      exitCode = await (await import('./run.js')).runDaemonVerb(options, io);
    });

  program
    .command('hub')
    .summary('one read-only page over many agents (run, eventlistener or memmon with --listen)')
    .description(
      'Ask every agent of the hub files (agents: and Prometheus file_sd files, read again when they change) for its /api/status ' +
        'every hub.interval, hub.concurrency at once, each within hub.timeout, and serve the fleet: a page (/), its JSON (/api/fleet), ' +
        "the hub's own Prometheus metrics (/metrics) and /healthz. An agent that does not answer is shown stale with its last answer, then offline. " +
        'Read-only; it never talks to a supervisord. Logs go to stderr.\nExit status: 0 stopped by SIGTERM or SIGINT, 2 invalid hub file or usage.',
    )
    .addOption(new Option('-c, --config <file>', 'hub file (repeatable; required)').argParser(collect).default([]))
    .option('--listen <address>', 'serve on PORT or HOST:PORT (default 127.0.0.1:9300; a bare port is 127.0.0.1); basic auth with PROCGUARD_LISTEN_USERNAME and PROCGUARD_LISTEN_PASSWORD')
    .action(async (options: { config: string[]; listen?: string }) => {
      exitCode = await (await import('../hub/hub.js')).runHub(options, io);
    });

  program
    .command('eventlistener')
    .summary('run as a supervisord [eventlistener]: one cycle per TICK_* event')
    .description(
      "Speak supervisord's event-listener protocol on stdin and stdout: one cycle (as apply) per TICK_5/TICK_60/TICK_3600 event, " +
        'every other event acknowledged untouched. stdout carries only the protocol; logs go to stderr. A failed action or mail ' +
        'is logged and the event acknowledged. SIGHUP reloads the policy files; SIGTERM resumes what procguard paused and exits. ' +
        'With no supervisors configured, SUPERVISOR_SERVER_URL, SUPERVISOR_USERNAME and SUPERVISOR_PASSWORD name the supervisord.\n' +
        'Exit status: 0 stopped, 2 invalid configuration at start, 3 the protocol broke or a paused process could not be resumed.',
    )
    .addOption(new Option('-c, --config <path>', CONFIG_HELP).argParser(collect).default([]))
    .option('--listen <address>', 'serve the status page, /api/status, /metrics and /healthz on PORT or HOST:PORT, as run --listen')
    .action(async (options: { config: string[]; listen?: string }) => {
      const companions = options.listen === undefined ? [] : [await (await import('./run.js')).statusPage(options.listen, io.env)];
      exitCode = await (await import('../modes/eventlistener.js')).runEventListenerVerb({ config: options.config, companions }, io, listenerStreams());
    });

  program
    .command('memmon')
    .summary('a drop-in for superlance memmon: procguard memmon -a 200MB -m ops@example.com')
    .description(
      "superlance memmon's options (-c -p -g -a -s -m -u -n, long forms and aliases), run as a supervisord event listener; " +
        "procguard's own --listen ADDRESS serves the status page as run --listen does.\n" +
        'Exit status: 0 stopped, 255 bad options (as memmon).',
    )
    .argument('[options...]', "memmon's options; -h for memmon's help")
    .allowUnknownOption()
    .allowExcessArguments()
    .helpOption(false)
    .action(async (args: string[]) => {
      const { statusPage } = await import('./run.js');
      exitCode = await (await import('../modes/memmon.js')).runMemmon(args, io, listenerStreams(), { statusPage: (listen) => statusPage(listen, io.env) });
    });

  program
    .command('snapshot')
    .summary('print what the collectors see on this host now')
    .description('Print the live snapshot: every process, the load averages and the supervisord programs.\nExit status: 0, or 3 when a collector failed.')
    .addOption(new Option('-c, --config <path>', CONFIG_OR_STDIN_HELP).argParser(collect).default([]))
    .option('--json', 'print JSON (schemas/snapshot.schema.json), as check --snapshot reads it')
    .action(async (options: { config: string[]; json?: boolean }) => {
      exitCode = await (await import('./snapshot.js')).runSnapshot(options, io);
    });

  program
    .command('test')
    .summary('run policy tests (*.test.yaml)')
    .description(
      'Run policy tests: each test evaluates its snapshots cycle after cycle, carrying the state, and checks the plan by subset. ' +
        'FILES are test files or directories searched for *.test.yaml (default: the current directory).\n' +
        'Exit status: 0 all pass, 1 a test failed, 2 a test file or its policies are invalid.',
    )
    .argument('[files...]', 'test files or directories')
    .addOption(new Option('--format <format>', 'text, json, github (an annotation on each failing test), junit (XML), markdown').default('text'))
    .action(async (files: string[], options: { format?: string }) => {
      exitCode = await (await import('./test.js')).runTest(files, io, options);
    });

  const importCommand = program.command('import').summary('print policies equivalent to a memmon command line or an oom_adjust.conf');
  importCommand
    .command('memmon')
    .summary('translate memmon options: procguard import memmon -- -p foo=200MB -m ops@example.com')
    .description('Print policies that do what superlance memmon does with these options (-c -p -g -a -s -m -u -n and their long forms).\nExit status: 0, 2 bad options.')
    .argument('[args...]', "memmon's options, after --")
    .allowUnknownOption()
    .helpOption(false)
    .action(async (args: string[]) => {
      exitCode = (await import('./import.js')).runImportMemmon(args, io);
    });
  importCommand
    .command('oom-adjust')
    .summary('translate an oom_adjust.conf (NAME ADJ per line)')
    .description('Print oom policies that set what an oom_adjust.conf (NAME ADJ per line) sets.\nExit status: 0, 2 a bad or unreadable file.')
    .argument('<file>', 'the oom_adjust.conf file')
    .action(async (file: string) => {
      exitCode = await (await import('./import.js')).runImportOomAdjust(file, io);
    });

  program
    .command('completion')
    .summary('print the bash or zsh completion script')
    .description(
      'Print a completion script for the shell, made from these very verbs and options. The Debian package installs them as ' +
        '/usr/share/bash-completion/completions/procguard and /usr/share/zsh/vendor-completions/_procguard; by hand: ' +
        'procguard completion bash > ~/.local/share/bash-completion/completions/procguard.\n' +
        'Exit status: 0, 2 usage.',
    )
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(['bash', 'zsh']))
    .action(async (shell: 'bash' | 'zsh') => {
      io.stdout((await import('./completion.js')).completionScript(shell, program));
    });

  return { program, exitCode: () => exitCode };
}

function positiveDurationArgument(value: string): number {
  const seconds = durationArgument(value);
  if (seconds <= 0) throw new InvalidArgumentError(`"${value}" must be longer than 0s`);
  return seconds;
}

function durationArgument(value: string): number {
  const seconds = parseDuration(value);
  if (seconds === undefined) throw new InvalidArgumentError(`"${value}" is not a duration: ${DURATION_UNITS_HELP}`);
  return seconds;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
