// The OOM killer's priority: writes /proc/PID/oom_score_adj after checking that the pid is
// still the process of the snapshot. Lowering the value needs CAP_SYS_RESOURCE (root).

import { readFile, writeFile } from 'node:fs/promises';
import { checkIdentity } from '../identity.js';
import { errorText, type Adapter, type AdapterDeps, type Outcome, type Work } from '../types.js';

export const adapter: Adapter = {
  name: 'oom',
  accepts: (work: Work): boolean => work.type === 'action' && work.action.action === 'set_oom_score_adj',
  async execute(work: Work, deps: AdapterDeps): Promise<Outcome> {
    if (work.type !== 'action' || work.action.value === undefined) return { status: 'failed', error: 'set_oom_score_adj needs a value' };
    const { target, value } = work.action;
    const identity = checkIdentity(target, deps);
    if (!identity.same) return { status: 'skipped', reason: identity.why.replace('was not signalled', 'was not changed') };
    const path = `${deps.procRoot}/${target.pid}/oom_score_adj`;
    try {
      const before = (await readFile(path, 'utf8')).trim();
      if (before === String(value)) return { status: 'done', detail: `oom_score_adj of pid ${target.pid} is already ${value}` };
      await writeFile(path, `${value}\n`);
      return { status: 'done', detail: `oom_score_adj of pid ${target.pid}: ${before} → ${value}` };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ESRCH') return { status: 'skipped', reason: `pid ${target.pid} has exited` };
      if (code === 'EACCES' || code === 'EPERM') {
        return { status: 'failed', error: `${code}: not permitted to write ${path} (lowering oom_score_adj needs root or CAP_SYS_RESOURCE; procguard runs as uid ${process.getuid?.() ?? '?'})` };
      }
      return { status: 'failed', error: `cannot write ${path}: ${errorText(error)}` };
    }
  },
};
