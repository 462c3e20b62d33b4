// Runs the built procguard binary as an operator would, and captures what it prints.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/procguard.js', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run as this user (runuser -u USER), as cron or an unprivileged operator would. */
  asUser?: string;
  /** Milliseconds after which a run that never ends is killed, instead of left spinning. */
  timeout?: number;
}

export function runProcguard(args: string[], options: RunOptions = {}): Promise<CliRun> {
  const [command, commandArgs] = options.asUser === undefined ? [process.execPath, [BIN, ...args]] : ['runuser', ['-u', options.asUser, '--', process.execPath, BIN, ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, {
      cwd: options.cwd,
      env: options.env ?? { PATH: process.env.PATH ?? '/usr/bin:/bin', TZ: 'UTC' },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A stack trace or a raw JavaScript error must never reach an operator. */
export const STACK_TRACE = /\n\s+at .+:\d+:\d+|TypeError|ReferenceError|SyntaxError: |Cannot read properties/;
