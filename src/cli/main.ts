// procguard's entry point: runs the command line and sets the exit code, nothing else.

import { errorText } from '../shared/errors.js';
import { ExitCode } from '../shared/exit-codes.js';
import { processIo } from '../shared/io.js';
import { VERSION } from './version.js';

// A reader that goes away (`procguard snapshot --json | head`) ends the output quietly, as it
// does for any Unix tool: no stack trace, and the verb's own exit status. Later writes to the
// closed stream are dropped by Node. stderr is guarded too (`procguard check 2>&1 | head`):
// a failure there has nowhere to be reported.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') return;
  process.stderr.write(`procguard: cannot write the output: ${error.message}\n`);
  process.exitCode = ExitCode.INTERNAL_ERROR;
});
process.stderr.on('error', () => undefined);

/** Runs the command line; the exit status is left in process.exitCode. */
async function main(args: string[]): Promise<void> {
  try {
    // `procguard --version` alone, as packaging and monitoring scripts ask it, answers before the
    // command line's definitions load; with anything else it is the command line's own option.
    if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) process.stdout.write(`${VERSION}\n`);
    else process.exitCode = await (await import('./program.js')).runCli(args, processIo);
  } catch (error) {
    const message = errorText(error);
    process.stderr.write(`procguard: internal error: ${message}\n`);
    if (process.env.PROCGUARD_DEBUG && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`);
    else process.stderr.write('procguard: set PROCGUARD_DEBUG=1 for details, and please report this\n');
    process.exitCode = ExitCode.INTERNAL_ERROR;
  }
}

// No top-level await: the bundled build runs this module as a CommonJS function body
// (src/cli/launch.ts), which has none.
void main(process.argv.slice(2));
