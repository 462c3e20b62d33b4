// Creating the state directory and its missing parents, one level at a time.
//
// Node's mkdir({ recursive: true }) never returns for a path the kernel says is missing after
// its parent exists (under /proc, or below a dangling symbolic link): it reads ENOENT as "make
// the parent first", the parent already exists, and it tries again, at 100% CPU. Here each
// missing level is created once, so the work is bounded by the number of levels and the
// kernel's answer for the last one is the error.

import { mkdir as fsMkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export type Mkdir = (path: string, options: { mode: number }) => Promise<unknown>;

/** Creates `dir` (mode 0700) and its missing parents; rejects with the error of the level that cannot be created. */
export async function makeDirectory(dir: string, mkdir: Mkdir = fsMkdir): Promise<void> {
  const missing: string[] = [];
  for (let path = resolve(dir); !(await exists(path)); path = dirname(path)) {
    missing.unshift(path);
    if (dirname(path) === path) break;
  }
  for (const path of missing) {
    try {
      await mkdir(path, { mode: 0o700 });
    } catch (error) {
      // Made by someone else in the meantime, or a dangling link: the next level says which.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
