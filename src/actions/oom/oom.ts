// The OOM killer's priority: opens /proc/PID/oom_score_adj, then checks that the pid is still the
// process of the snapshot, then reads and writes through that open file. A descriptor of
// /proc/PID/… keeps referring to the process it was opened for, so a pid reused after the check
// is never written: the write fails with ESRCH instead. Lowering the value needs
// CAP_SYS_RESOURCE (root).

import { open, type FileHandle } from 'node:fs/promises';
import { checkIdentity } from '../identity.js';
import { type Adapter, type AdapterDeps, type Outcome, type Work } from '../types.js';
import { errorText } from '../../shared/errors.js';

export const adapter: Adapter = {
  name: 'oom',
  async execute(work: Work, deps: AdapterDeps): Promise<Outcome> {
    if (work.type !== 'action' || work.action.value === undefined) return { status: 'failed', error: 'set_oom_score_adj needs a value' };
    const { target, value } = work.action;
    const path = `${deps.procRoot}/${target.pid}/oom_score_adj`;
    let handle: FileHandle | undefined;
    try {
      // Opened first: if the pid is reused between this and the check, the check sees the new
      // process and refuses; if after, the handle still names the process that was checked.
      handle = await open(path, 'r+');
      const identity = checkIdentity(target, deps);
      if (!identity.same) return { status: 'skipped', reason: identity.why.replace('was not signalled', 'was not changed') };
      const { bytesRead, buffer } = await handle.read(Buffer.alloc(32), 0, 32, 0);
      const before = buffer.subarray(0, bytesRead).toString('utf8').trim();
      if (before === String(value)) return { status: 'done', detail: `oom_score_adj of pid ${target.pid} is already ${value}` };
      const text = `${value}\n`;
      await handle.write(text, 0);
      // procfs takes the value from the write (its files have size 0); a plain file, as in a
      // generated tree, is cut to it.
      if ((await handle.stat()).size > text.length) await handle.truncate(text.length);
      return { status: 'done', detail: `oom_score_adj of pid ${target.pid}: ${before} → ${value}` };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ESRCH') return { status: 'skipped', reason: `pid ${target.pid} has exited` };
      if (code === 'EACCES' || code === 'EPERM') {
        return { status: 'failed', error: `${code}: not permitted to write ${path} (lowering oom_score_adj needs root or CAP_SYS_RESOURCE; procguard runs as uid ${process.getuid?.() ?? '?'})` };
      }
      return { status: 'failed', error: `cannot write ${path}: ${errorText(error, { code: true })}` };
    } finally {
      await handle?.close();
    }
  },
};
