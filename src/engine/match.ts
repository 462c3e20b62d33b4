// Which processes a policy's `match` selects: every given key must hold, a list matches any
// of its items, `exclude` subtracts. Matchers are compiled once per policy set.

import type { Matcher, NamePattern } from '../policy/model.js';
import { MATCH_LENGTH } from '../policy/pattern.js';
import { argv0Base, processLookup, type HostIndex, type LiveProcess, type ProcessLookup } from '../data/host-index.js';
import type { PidfileEntry, SupervisorEntry } from '../data/types.js';

type Test = (process: LiveProcess, host: HostIndex) => boolean;

/** The processes that can possibly match: looked up by a literal key, or all of them. */
type Candidates = (host: HostIndex) => readonly LiveProcess[];

interface CompiledMatcher {
  test: Test;
  candidates: Candidates;
}

const compiled = new WeakMap<Matcher, CompiledMatcher>();

/** The running processes a matcher selects, in snapshot order, never an untouchable one. */
export function matchProcesses(matcher: Matcher, host: HostIndex): LiveProcess[] {
  const { test, candidates } = compile(matcher);
  return candidates(host).filter((process) => !host.untouchable.has(process.pid) && test(process, host));
}

/**
 * The programs of remote supervisors that a matcher's supervisord keys (program, group,
 * supervisor) select: they run on another host, so nothing here can measure or act on them.
 */
export function remoteProgramsMatched(matcher: Matcher, remote: readonly SupervisorEntry[]): SupervisorEntry[] {
  if (remote.length === 0 || (!matcher.program && !matcher.group && !matcher.supervisor)) return [];
  const programs = matcher.program?.map(globToRegExp);
  const groups = matcher.group?.map(globToRegExp);
  return remote.filter((entry) => {
    if (programs && !programs.some((re) => re.test(`${entry.group}:${entry.name}`) || re.test(entry.name))) return false;
    if (groups && !groups.some((re) => re.test(entry.group))) return false;
    return !matcher.supervisor || matcher.supervisor.includes(entry.server);
  });
}

export function compileMatcher(matcher: Matcher): Test {
  return compile(matcher).test;
}

function compile(matcher: Matcher): CompiledMatcher {
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
    tests.push((p, host) => {
      if (p.cmdline === undefined) return false;
      if (p.cmdline.length > MATCH_LENGTH) host.cutCommandLines.add(p);
      return patterns.some((re) => re.test(p.cmdline!));
    });
  }
  if (matcher.exe) {
    const patterns = matcher.exe;
    tests.push((p) => p.exe !== undefined && patterns.some((pattern) => ('exact' in pattern ? p.exe === pattern.exact : pattern.regex.test(p.exe!))));
  }
  if (matcher.user) {
    const users = matcher.user;
    tests.push((p) => users.some((user) => (typeof user === 'number' ? p.uid === user : p.user === user || (p.user === undefined && String(p.uid) === user))));
  }
  if (matcher.pidfile) {
    const paths = matcher.pidfile;
    tests.push((p, host) => paths.some((path) => pidfileNames(host.snapshot.pidfiles?.[path], p)));
  }
  const exclude = matcher.exclude ? compileMatcher(matcher.exclude) : undefined;
  const test: Test = (process, host) => tests.every((t) => t(process, host)) && !(exclude && exclude(process, host));
  const result = { test, candidates: candidatesOf(matcher) };
  compiled.set(matcher, result);
  return result;
}

/**
 * Where a matcher's literal keys let it look its processes up instead of testing every one:
 * literal namespecs or program names, literal groups, exact process names. The first such key
 * wins; the full test still runs on each candidate.
 */
function candidatesOf(matcher: Matcher): Candidates {
  const lookups: ((lookup: ProcessLookup) => readonly LiveProcess[][])[] = [];
  if (matcher.program?.every(isLiteralGlob)) {
    const programs = matcher.program;
    lookups.push((lookup) => programs.map((p) => (p.includes(':') ? lookup.byNamespec.get(p) : lookup.byProgram.get(p)) ?? []));
  } else if (matcher.group?.every(isLiteralGlob)) {
    const groups = matcher.group;
    lookups.push((lookup) => groups.map((g) => lookup.byGroup.get(g) ?? []));
  } else if (matcher.name?.every((pattern) => 'exact' in pattern)) {
    const names = matcher.name.map((pattern) => (pattern as { exact: string }).exact);
    lookups.push((lookup) => names.map((n) => lookup.byName.get(n) ?? []));
  } else if (matcher.name) {
    // A regex is tried once per distinct name (comm, or argv[0]'s base for a cut one), not once per process.
    const patterns = matcher.name;
    lookups.push((lookup) => {
      const lists: LiveProcess[][] = [];
      for (const [name, processes] of lookup.byName) if (patterns.some((pattern) => ('exact' in pattern ? pattern.exact === name : pattern.regex.test(name)))) lists.push(processes);
      return lists;
    });
  }
  const [find] = lookups;
  if (!find) return (host) => host.processes;
  return (host) => {
    const lookup = processLookup(host);
    const lists = find(lookup).filter((list) => list.length > 0);
    if (lists.length <= 1) return lists[0] ?? [];
    const merged = [...new Set(lists.flat())];
    return merged.sort((a, b) => lookup.order.get(a)! - lookup.order.get(b)!);
  };
}

function isLiteralGlob(glob: string): boolean {
  return !/[*?[]/.test(glob);
}

/**
 * pidof semantics: the process name (comm); for a name the kernel cut at 15 characters, also
 * the base name of the command's first word.
 */
function nameMatches(pattern: NamePattern, process: LiveProcess): boolean {
  const base = argv0Base(process);
  if ('exact' in pattern) return process.name === pattern.exact || base === pattern.exact;
  return pattern.regex.test(process.name) || (base !== undefined && base !== process.name && pattern.regex.test(base));
}

/**
 * Whether a pidfile's entry names this process: its pid, and, when a user other than root
 * could change the pidfile, a process of that user only (as the process table saw it, so
 * a pid reused by another user's process since the pidfile was read is not matched).
 */
function pidfileNames(entry: PidfileEntry | number | null | undefined, process: LiveProcess): boolean {
  if (entry === null || entry === undefined) return false;
  if (typeof entry === 'number') return entry === process.pid;
  return entry.pid === process.pid && (entry.uid === undefined || process.uid === entry.uid);
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
