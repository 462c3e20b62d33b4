// Which processes a policy's `match` selects: every given key must hold, a list matches any
// of its items, `exclude` subtracts. Matchers are compiled once per policy set.

import type { Matcher, NamePattern } from '../policy/model.js';
import type { HostIndex, LiveProcess } from './host.js';

type Test = (process: LiveProcess, host: HostIndex) => boolean;

const compiled = new WeakMap<Matcher, Test>();

/** The running processes a matcher selects, in snapshot order, never an untouchable one. */
export function matchProcesses(matcher: Matcher, host: HostIndex): LiveProcess[] {
  const test = compileMatcher(matcher);
  return host.processes.filter((process) => !host.untouchable.has(process.pid) && test(process, host));
}

export function compileMatcher(matcher: Matcher): Test {
  const cached = compiled.get(matcher);
  if (cached) return cached;
  const tests: Test[] = [];
  if (matcher.program) {
    const patterns = matcher.program.map(globToRegExp);
    tests.push((p) => {
      if (!p.supervisor) return false;
      const spec = `${p.supervisor.group}:${p.supervisor.name}`;
      return patterns.some((re) => re.test(spec) || re.test(p.supervisor!.name));
    });
  }
  if (matcher.group) {
    const patterns = matcher.group.map(globToRegExp);
    tests.push((p) => p.supervisor !== undefined && patterns.some((re) => re.test(p.supervisor!.group)));
  }
  if (matcher.supervisor) {
    const names = new Set(matcher.supervisor);
    tests.push((p) => p.supervisor !== undefined && names.has(p.supervisor.server));
  }
  if (matcher.name) {
    const patterns = matcher.name;
    tests.push((p) => patterns.some((pattern) => nameMatches(pattern, p)));
  }
  if (matcher.cmdline) {
    const patterns = matcher.cmdline;
    tests.push((p) => p.cmdline !== undefined && patterns.some((re) => re.test(p.cmdline!)));
  }
  if (matcher.user) {
    const users = matcher.user;
    tests.push((p) => users.some((user) => (typeof user === 'number' ? p.uid === user : p.user === user || (p.user === undefined && String(p.uid) === user))));
  }
  if (matcher.pidfile) {
    const paths = matcher.pidfile;
    tests.push((p, host) => paths.some((path) => host.snapshot.pidfiles?.[path] === p.pid));
  }
  const exclude = matcher.exclude ? compileMatcher(matcher.exclude) : undefined;
  const test: Test = (process, host) => tests.every((t) => t(process, host)) && !(exclude && exclude(process, host));
  compiled.set(matcher, test);
  return test;
}

/**
 * pidof semantics: the name is the process name (comm, which the kernel cuts at 15
 * characters) or the base name of the command's first word.
 */
function nameMatches(pattern: NamePattern, process: LiveProcess): boolean {
  const argv0 = process.cmdline?.split(' ', 1)[0];
  const base = argv0 ? argv0.slice(argv0.lastIndexOf('/') + 1) : undefined;
  if ('exact' in pattern) return process.name === pattern.exact || base === pattern.exact;
  return pattern.regex.test(process.name) || (base !== undefined && base !== process.name && pattern.regex.test(base));
}

/** A supervisord namespec glob: `*`, `?` and `[…]`, everything else literal. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i += 1) {
    const char = glob[i]!;
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else if (char === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close === -1) source += '\\[';
      else {
        const body = glob.slice(i + 1, close);
        source += `[${body.startsWith('!') ? `^${escapeClass(body.slice(1))}` : escapeClass(body)}]`;
        i = close;
      }
    } else source += char.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

function escapeClass(body: string): string {
  return body.replace(/[\\\]^]/g, '\\$&');
}
