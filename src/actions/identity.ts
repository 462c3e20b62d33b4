// Pid reuse: before any signal or write, the pid must still be the process the snapshot saw,
// with the same start time to the clock tick. A process that has exited, or whose pid now
// belongs to another (even one started within the same second), is never touched.

import { sameStartTime } from '../data/host-index.js';
import type { AdapterDeps } from './types.js';

export type Identity = { same: true } | { same: false; why: string };

export function checkIdentity(ref: { pid: number; start_time?: number | undefined }, deps: Pick<AdapterDeps, 'startTime' | 'startTimeSlack'>): Identity {
  const now = deps.startTime(ref.pid);
  if (now === undefined) return { same: false, why: `pid ${ref.pid} has exited` };
  if (ref.start_time === undefined) return { same: false, why: `pid ${ref.pid} has no start time in the snapshot to check it against` };
  const slack = deps.startTimeSlack ?? 0;
  const same = slack > 0 ? Math.abs(now - ref.start_time) <= slack : sameStartTime(now, ref.start_time);
  if (!same) return { same: false, why: `pid ${ref.pid} is now another process (started ${now}, not ${ref.start_time}); it was not signalled` };
  return { same: true };
}
