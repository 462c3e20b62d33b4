// `procguard memmon [memmon options]`: a drop-in for superlance memmon. The options become
// the same policies `procguard import memmon` prints, run as an event listener with the
// state kept in memory (memmon had none). Like memmon: usage and exit 255 on a bad command
// line; supervisord found through SUPERVISOR_SERVER_URL; `-s` run by /bin/sh -c with the
// message on its stdin and nothing added. Unlike memmon: a failed stop or start is logged and mailed, and the listener
// keeps serving (examples/migration.md lists every difference).

import { ExitCode } from '../shared/exit-codes.js';
import type { CliIo } from '../shared/io.js';
import { plural } from '../shared/text.js';
import { memmonPolicies } from '../import/import.js';
import { MemmonUsageError, parseMemmonArgs, takeListenOption, type MemmonOptions } from '../import/memmon-options.js';
import { formatDiagnostic, hasErrors } from '../policy/diagnostics.js';
import type { PolicySet } from '../policy/model.js';
import { validatePolicyFiles } from '../policy/validate.js';
import { redactUrlPassword } from '../shared/text.js';
import { prepareTemplates } from '../policy/templates.js';
import { parseYamlFile } from '../policy/yaml-source.js';
import { createLog } from './log.js';
import { memoryStore } from './cycle.js';
import type { DaemonCompanion } from './daemon.js';
import { serveEvents, type ListenerStreams } from './eventlistener.js';
import { Service } from './service.js';

export const MEMMON_USAGE = `procguard memmon: a drop-in for superlance memmon, run as a supervisord event listener.

Usage: procguard memmon [-c] [-p processname=byte_size] [-g groupname=byte_size]
                        [-a byte_size] [-s sendmail] [-m email_address]
                        [-u email_uptime_limit] [-n memmon_name]

  -h, --help                   show this help
  -c, --cumulative             count the RSS of each process with all its children
  -p, --program NAME=SIZE      restart the program NAME (or group:name) when its RSS is over SIZE
  -g, --group, --groupname NAME=SIZE
                               the same for every process of the group NAME
  -a, --any SIZE               the same for every process supervisord runs
  -s, --sendmail_program, --sendmail COMMAND
                               the mail command (default /usr/sbin/sendmail -t -i)
  -m, --email ADDRESS          mail ADDRESS when a process is restarted, or fails to be
  -u, --uptime LIMIT           mail a restart only when the process' uptime is at most LIMIT
                               (seconds, or with s, m, h or d: 2d)
  -n, --name NAME              mail subjects start with "memmon [NAME]:"
      --listen ADDRESS         procguard's own, not memmon's: serve the status page, its
                               JSON, metrics and /healthz on PORT or HOST:PORT (as run --listen)

SIZE is bytes or a whole number with KB, MB or GB (1024-based), e.g. 200MB.

supervisord.conf:
  [eventlistener:memmon]
  command=procguard memmon -a 200MB -m ops@example.com
  events=TICK_60
`;

/** What procguard's own options (not memmon's) start: `--listen ADDRESS`, the status page. */
export interface MemmonExtras {
  /** The status page on ADDRESS; throws (a CLI failure) when the address or the login is bad. */
  statusPage?: (listen: string) => Promise<DaemonCompanion>;
}

export async function runMemmon(argv: readonly string[], io: CliIo, streams: ListenerStreams, extras: MemmonExtras = {}): Promise<ExitCode> {
  let options: MemmonOptions;
  let listen: string | undefined;
  let memmonArgv: readonly string[] = argv;
  try {
    if (argv.length === 0) throw new MemmonUsageError('give memmon options, e.g. -a 200MB -m ops@example.com');
    const own = takeListenOption(argv);
    listen = own.listen;
    memmonArgv = own.rest;
    if (listen !== undefined && !extras.statusPage) throw new MemmonUsageError('option --listen not recognized');
    options = parseMemmonArgs(own.rest);
  } catch (error) {
    if (!(error instanceof MemmonUsageError)) throw error;
    io.stderr(`procguard memmon: ${error.message}\n\n${MEMMON_USAGE}`);
    return ExitCode.MEMMON_USAGE;
  }
  if (options.help) {
    // stdout belongs to supervisord when this runs as a listener; help is for a terminal.
    io.stderr(MEMMON_USAGE);
    return ExitCode.OK;
  }
  const log = await createLog(io, 'procguard memmon');
  const built = await memmonPolicySet(options, memmonArgv);
  if ('errors' in built) {
    for (const error of built.errors) log(error, { event: 'start', level: 'error' });
    log('these options do not make valid policies', { event: 'start', level: 'error' });
    return ExitCode.MEMMON_USAGE;
  }
  const policySet = built.policySet;
  if (!io.env.SUPERVISOR_SERVER_URL) {
    log('SUPERVISOR_SERVER_URL is not set: run procguard memmon as a supervisord [eventlistener], which sets it', { event: 'start', level: 'error' });
    return ExitCode.INVALID;
  }
  // A bad address or half a login is refused before anything starts.
  const companions = listen !== undefined && extras.statusPage ? [await extras.statusPage(listen)] : [];
  const service = new Service({ env: io.env, log, config: { policySet, files: [] }, store: memoryStore() });
  const watched = policySet.policies.map((p) => p.description?.replace(/^memmon /, '')).join(' ');
  log(
    `watching ${plural(policySet.policies.length, 'rule')}${watched ? ` (${watched})` : ''} on ${redactUrlPassword(io.env.SUPERVISOR_SERVER_URL)}${options.email ? `, mail to ${options.email}` : ''}`,
  );
  if (policySet.policies.length === 0) log('warning: no -p, -g or -a was given: nothing is watched');
  return serveEvents(service, streams, companions);
}

/** The policy set memmon's options stand for: exactly what `procguard import memmon` prints. */
export async function memmonPolicySet(options: MemmonOptions, argv: readonly string[]): Promise<{ policySet: PolicySet } | { errors: string[] }> {
  const { file, diagnostics } = await parseYamlFile('memmon options', memmonPolicies(options, argv));
  await prepareTemplates([file]);
  const result = validatePolicyFiles([file], diagnostics);
  if (!result.policySet || hasErrors(result.diagnostics)) {
    return { errors: result.diagnostics.filter((d) => d.severity === 'error').map((d) => formatDiagnostic(d)) };
  }
  const policySet = result.policySet;
  // memmon hands -s to os.popen, that is to /bin/sh -c, and writes the message to it with nothing
  // added: the imported policies say so (`sendmail: [/bin/sh, -c, COMMAND]`), so a pipe or a
  // redirection keeps working.
  return { policySet };
}
