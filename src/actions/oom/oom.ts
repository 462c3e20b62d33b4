// The OOM killer's priority: opens /proc/PID/oom_score_adj, then checks that the pid is still the
// process of the snapshot, then reads and writes through that open file. A descriptor of
// /proc/PID/… keeps referring to the process it was opened for, so a pid reused after the check
// is never written: the write fails with ESRCH instead. Lowering the value needs
// CAP_SYS_RESOURCE in procguard's effective capabilities: being root is not enough where a
// container or a unit drops it, so a refusal names what /proc/self/status says.

import { open, readFile, type FileHandle } from 'node:fs/promises';
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
      if (code === 'EACCES' || code === 'EPERM') return { status: 'failed', error: `${code}: not permitted to write ${path}: ${await capabilityText()}` };
      return { status: 'failed', error: `cannot write ${path}: ${errorText(error, { code: true })}` };
    } finally {
      await handle?.close();
    }
  },
};

/** CAP_SYS_RESOURCE's bit in the capability sets of /proc/PID/status (linux/capability.h). */
const CAP_SYS_RESOURCE = 24n;

/** Why lowering was refused, in terms of procguard's own effective capabilities (CapEff in /proc/self/status). */
export async function capabilityText(): Promise<string> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  if (capEff === undefined) return 'lowering oom_score_adj needs CAP_SYS_RESOURCE, and procguard could not read its effective capabilities from /proc/self/status';
  if ((BigInt(`0x${capEff}`) >> CAP_SYS_RESOURCE) & 1n) {
    return `CAP_SYS_RESOURCE is among procguard's effective capabilities (CapEff ${capEff} in /proc/self/status), yet the kernel refused the write`;
  }
  return `lowering oom_score_adj needs CAP_SYS_RESOURCE, which is missing from procguard's effective capabilities (CapEff ${capEff} in /proc/self/status)`;
}
