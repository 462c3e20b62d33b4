// `diff --base`: the policies a change starts from, as a directory or as a git revision of the
// repository holding the -c paths. A revision is read with `git archive` into a temporary
// directory, never checked out over the work tree; the revision string reaches git only after
// `git rev-parse --verify --end-of-options` has turned it into a commit id, so it can never be
// taken for an option.

import { spawn } from 'node:child_process';
import { mkdtemp, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ExitCode } from '../shared/exit-codes.js';
import { CliFailure } from './context.js';

export interface BaseConfig {
  /** The -c paths of the base: the directory given, or the -c paths inside the extracted revision. */
  paths: string[];
  /** What the base is, for messages: the directory, or "REV (COMMIT)". */
  label: string;
  /** Removes the temporary directory of a revision. */
  dispose(): Promise<void>;
}

/** A revision as a person writes it: a branch, a tag, a commit id, HEAD~1, origin/main, main@{1}. Never an option. */
const REVISION = /^[A-Za-z0-9_][A-Za-z0-9_./~^@{}+-]*$/;

export async function resolveBase(base: string, config: readonly string[], cwd: string): Promise<BaseConfig> {
  const asPath = resolve(cwd, base);
  const info = await stat(asPath).catch(() => undefined);
  if (info) return { paths: [asPath], label: base, dispose: async () => {} };
  if (!REVISION.test(base) || base.includes('..')) {
    throw new CliFailure(`--base ${JSON.stringify(base)} is neither a directory nor a git revision`, ExitCode.INVALID);
  }
  if (config.length === 0 || config.includes('-')) throw new CliFailure('--base REVISION needs the -c paths of the policies inside the repository', ExitCode.INVALID);
  const paths = await Promise.all(config.map(async (path) => realpath(resolve(cwd, path)).catch(() => resolve(cwd, path))));
  const repositoryDir = (await stat(paths[0]!).catch(() => undefined))?.isDirectory() ? paths[0]! : dirname(paths[0]!);
  const top = (await git(['rev-parse', '--show-toplevel'], repositoryDir, `${repositoryDir} is not inside a git repository`)).trim();
  const commit = (await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${base}^{commit}`], top, `--base ${base}: no such revision in ${top}`)).trim();
  if (!/^[0-9a-f]{40,64}$/.test(commit)) throw new CliFailure(`--base ${base}: git answered ${JSON.stringify(commit)}, not a commit id`, ExitCode.INVALID);

  const inside = paths.map((path) => {
    const rel = relative(top, path);
    if (rel.startsWith('..') || rel.startsWith(sep)) throw new CliFailure(`${path} is outside the git repository ${top}`, ExitCode.INVALID);
    return rel;
  });
  const directory = await mkdtemp(join(tmpdir(), 'procguard-base-'));
  const dispose = (): Promise<void> => rm(directory, { recursive: true, force: true });
  try {
    // Each -c path with what sits beside it (templates named relative to a policy file).
    const trees = [...new Set(await Promise.all(inside.map(async (rel, i) => ((await stat(paths[i]!).catch(() => undefined))?.isDirectory() ? rel : dirname(rel)))))];
    const pathspecs = trees.map((tree) => (tree === '' ? '.' : tree));
    const listed = await git(['ls-tree', '--name-only', commit, '--', ...pathspecs], top, `--base ${base}: cannot list ${pathspecs.join(', ')}`);
    if (listed.trim() === '') throw new CliFailure(`--base ${base}: ${inside.join(', ')} did not exist in ${commit.slice(0, 12)}`, ExitCode.INVALID);
    await extract(top, commit, pathspecs, directory);
    return { paths: inside.map((rel) => join(directory, rel)), label: `${base} (${commit.slice(0, 12)})`, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** `git archive COMMIT -- PATHS | tar -x`: the files as committed, owned by whoever runs procguard. */
function extract(top: string, commit: string, pathspecs: string[], directory: string): Promise<void> {
  return new Promise((done, fail) => {
    const archive = spawn('git', [...GIT_SAFETY, 'archive', '--format=tar', commit, '--', ...pathspecs], { cwd: top, stdio: ['ignore', 'pipe', 'pipe'], env: gitEnv() });
    const tar = spawn('tar', ['-x', '--no-same-owner', '--no-same-permissions', '-C', directory], { stdio: ['pipe', 'ignore', 'pipe'] });
    let errors = '';
    archive.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    tar.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    archive.stdout.pipe(tar.stdin);
    archive.on('error', (error) => fail(new CliFailure(`git archive: ${error.message}`, ExitCode.INVALID)));
    tar.on('error', (error) => fail(new CliFailure(`tar: ${error.message}`, ExitCode.INVALID)));
    let archiveCode: number | null = null;
    archive.on('close', (code) => (archiveCode = code));
    tar.on('close', (code) => {
      if (code === 0 && archiveCode === 0) done();
      else fail(new CliFailure(`could not read ${pathspecs.join(', ')} at ${commit.slice(0, 12)}: ${errors.trim() || `exit ${archiveCode}/${code}`}`, ExitCode.INVALID));
    });
  });
}

function git(args: string[], cwd: string, problem: string): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn('git', [...GIT_SAFETY, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: gitEnv() });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', (error) => fail(new CliFailure(`${problem}: git: ${error.message}`, ExitCode.INVALID)));
    child.on('close', (code) => (code === 0 ? done(out) : fail(new CliFailure(`${problem}${err.trim() ? `: ${err.trim().split('\n')[0]}` : ''}`, ExitCode.INVALID))));
  });
}

/** No program named by the repository's own configuration runs: the file-system monitor is off. */
const GIT_SAFETY = ['-c', 'core.fsmonitor=false'];

/** git without a pager or prompts, its messages in English. */
function gitEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GIT_PAGER: 'cat', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };
}
