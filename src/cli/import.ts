// `procguard import memmon -- ARGS` and `procguard import oom-adjust FILE`: print policy YAML
// that means what the old command line or oom_adjust.conf meant.

import { memmonPolicies, OomAdjustError, oomAdjustPolicies } from '../import/import.js';
import { MemmonUsageError, parseMemmonArgs } from '../import/memmon-options.js';
import { readTextFile } from '../shared/bounded-read.js';
import { CliFailure } from './context.js';
import { ExitCode } from '../shared/exit-codes.js';
import type { CliIo } from '../shared/io.js';

export function runImportMemmon(args: string[], io: CliIo): ExitCode {
  try {
    const options = parseMemmonArgs(args);
    if (options.help) throw new MemmonUsageError("-h asks for memmon's help; give the options memmon runs with");
    io.stdout(memmonPolicies(options, args));
    return ExitCode.OK;
  } catch (error) {
    if (error instanceof MemmonUsageError) throw new CliFailure(`import memmon: ${error.message}`, ExitCode.INVALID);
    throw error;
  }
}

/** oom_adjust.conf is a few lines; far more is not one (/dev/zero, a log named by mistake). */
export const MAX_OOM_ADJUST_BYTES = 1024 * 1024;

export async function runImportOomAdjust(path: string, io: CliIo): Promise<ExitCode> {
  // A regular file of at most 1 MiB of text: a FIFO or a device is refused at once, not read or waited on.
  const text = await readTextFile(path, MAX_OOM_ADJUST_BYTES, 'file');
  if (typeof text !== 'string') throw new CliFailure(`import oom-adjust: ${text.message}`, ExitCode.INVALID);
  try {
    io.stdout(oomAdjustPolicies(text, path));
    return ExitCode.OK;
  } catch (error) {
    if (error instanceof OomAdjustError) throw new CliFailure(`${path}:${error.line}: ${error.message}`, ExitCode.INVALID);
    throw error;
  }
}
