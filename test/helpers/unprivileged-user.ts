// An unprivileged local user for the tests that play an attacker on a host where procguard
// runs as root: created once if missing (and left, as a system user without a home), and
// commands run as that user through runuser.

import { execFileSync } from 'node:child_process';

export interface UnprivilegedUser {
  name: string;
  uid: number;
  gid: number;
  /** Runs argv as the user and returns its stdout; throws when it fails. */
  run(argv: readonly string[]): string;
  /** Runs a shell command line as the user. */
  sh(script: string): string;
}

export function unprivilegedUser(name: string): UnprivilegedUser {
  if (process.getuid?.() !== 0) throw new Error(`these tests act as the user ${name} and must run as root`);
  const id = (flag: string): number => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
  try {
    id('-u');
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name]);
  }
  const run = (argv: readonly string[]): string => execFileSync('runuser', ['-u', name, '--', ...argv], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { name, uid: id('-u'), gid: id('-g'), run, sh: (script) => run(['sh', '-c', script]) };
}
