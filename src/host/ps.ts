// ps(1), where there is no /proc: elapsed times, and a process' start time computed from one.

import { spawnSync } from 'node:child_process';

/** ps etime: [[dd-]hh:]mm:ss. */
export function parseElapsed(text: string): number | undefined {
  const match = /^(?:(?:(\d+)-)?(\d+):)?(\d+):(\d+)$/.exec(text);
  if (!match) return undefined;
  const [, days = '0', hours = '0', minutes = '0', seconds = '0'] = match;
  return ((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds);
}

/** ps time, the CPU used (user + system): [dd-][hh:]mm:ss, with hundredths on the BSDs (mm:ss.hh). */
export function parseCpuTime(text: string): number | undefined {
  const match = /^(?:(?:(\d+)-)?(\d+):)?(\d+):(\d+(?:\.\d+)?)$/.exec(text);
  if (!match) return undefined;
  const [, days = '0', hours = '0', minutes = '0', seconds = '0'] = match;
  return ((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds);
}

/** Where there is no /proc: the start time as the ps collector computes it (now − etime). */
export function startTimeFromPs(pid: number): number | undefined {
  const result = spawnSync('ps', ['-o', 'etime=,stat=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [etime, stat] = result.stdout.trim().split(/\s+/);
  if (result.status !== 0 || !etime || stat?.startsWith('Z')) return undefined;
  const seconds = parseElapsed(etime);
  return seconds === undefined ? undefined : Math.floor(Date.now() / 1000) - seconds;
}
