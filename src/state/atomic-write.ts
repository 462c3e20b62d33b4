// Writing a file of the state directory so that a crash at any moment leaves either the old
// file or the new one: a temporary file created afresh (never through a link someone left
// under its name), written, fsynced and renamed over the file.

import { constants } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';

/** Replaces `path` with `text` atomically; on failure the old file is left whole and the error thrown. */
export async function writeFileAtomically(path: string, text: string, mode = 0o600): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    await unlink(temporary).catch(() => undefined);
    const file = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
    try {
      // The mode as asked, whatever the umask.
      await file.chmod(mode);
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}
