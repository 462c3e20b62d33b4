// A password_file (supervisord or SMTP credentials). procguard sends what it reads to a server,
// so a file another user could choose would be a way to send any file root can read, such as
// /etc/shadow. It is read only when it is a regular file, not a link, owned by root or
// procguard's user, readable and writable by its owner alone, along a path no other user can
// change (path-walk.ts), and through the handle that was checked.

import { MAX_SECRET_FILE_BYTES, type ReadProblem } from '../shared/bounded-read.js';
import { describeWriter, readWalkedFile, untrustedWriters } from './path-walk.js';

/** The password a password_file holds (its one line, without the newline), or why it was refused. */
export async function readSecretFile(path: string, uid: number = process.getuid?.() ?? -1): Promise<string | ReadProblem> {
  const trusted = uid === 0 ? [0] : [0, uid];
  const read = await readWalkedFile(path, MAX_SECRET_FILE_BYTES, {
    followLastLink: false,
    accept: (walked) => {
      const [writer] = untrustedWriters(walked, trusted);
      if (writer) return refused(`${describeWriter('password file', path, writer)}, so that user could choose what procguard sends as the password; fix with: ${writer.fix}`);
      const mode = walked.stats.mode & 0o7777;
      if (walked.stats.isFile() && mode & 0o066) {
        return refused(`password file ${path} can be read or written by group or others (mode ${mode.toString(8).padStart(4, '0')}); fix with: chmod 600 ${path}`);
      }
      return undefined;
    },
  });
  if ('code' in read) return read;
  if (read.bytes.length > MAX_SECRET_FILE_BYTES) {
    return { code: 'io', message: `${path} is larger than ${MAX_SECRET_FILE_BYTES} bytes`, reason: `is larger than ${MAX_SECRET_FILE_BYTES} bytes` };
  }
  return read.bytes.toString('utf8').replace(/\r?\n$/, '');
}

function refused(reason: string): ReadProblem {
  return { code: 'permission', message: `Refused: ${reason}`, reason };
}
