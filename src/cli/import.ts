// `procguard import memmon -- ARGS` and `procguard import oom-adjust FILE`: print policy YAML
// that means what the old command line or oom_adjust.conf meant.

import { readFile } from 'node:fs/promises';
import { memmonPolicies, OomAdjustError, oomAdjustPolicies } from '../import/import.js';
import { MemmonUsageError, parseMemmonArgs } from '../import/memmon-options.js';
import { describeIoError } from '../policy/load.js';
import { CliFailure } from './context.js';
import { ExitCode } from './exit-codes.js';
import type { CliIo } from './io.js';

export function runImportMemmon(args: string[], io: CliIo): ExitCode {
  try {
    const options = parseMemmonArgs(args);
    if (options.help) throw new MemmonUsageError('-h asks for memmon\'s help; give the options memmon runs with');
    io.stdout(memmonPolicies(options, args));
    return ExitCode.OK;
  } catch (error) {
    if (error instanceof MemmonUsageError) throw new CliFailure(`import memmon: ${error.message}`, ExitCode.INVALID);
    throw error;
  }
}

export async function runImportOomAdjust(path: string, io: CliIo): Promise<ExitCode> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliFailure(`${path}: ${describeIoError(error)}`, ExitCode.INVALID);
  }
  try {
    io.stdout(oomAdjustPolicies(text, path));
    return ExitCode.OK;
  } catch (error) {
    if (error instanceof OomAdjustError) throw new CliFailure(`${path}:${error.line}: ${error.message}`, ExitCode.INVALID);
    throw error;
  }
}
