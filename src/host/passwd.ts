// uid → user name from /etc/passwd, for the snapshot, the supervisor socket check and messages.

import { readFileSync } from 'node:fs';

/** uid → user name from a passwd file; an unreadable file gives an empty map (names are optional). */
export function readUsers(path: string): Map<number, string> {
  try {
    return parsePasswd(readFileSync(path, 'utf8'));
  } catch {
    return new Map();
  }
}

export function parsePasswd(text: string): Map<number, string> {
  const users = new Map<number, string>();
  for (const line of text.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && uid && /^\d+$/.test(uid) && !users.has(Number(uid))) users.set(Number(uid), name);
  }
  return users;
}
