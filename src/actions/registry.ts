// Every action adapter, in one explicit list. test/actions/registry.test.ts checks that each
// module under src/actions/ is registered and that every kind of work has exactly one adapter.

import { adapter as exec } from './exec/exec.js';
import { adapter as mail } from './mail/mail.js';
import { adapter as oom } from './oom/oom.js';
import { adapter as signal } from './signal/signal.js';
import { adapter as supervisor } from './supervisor/supervisor.js';
import type { Adapter, Work } from './types.js';

export const ADAPTERS: readonly Adapter[] = [supervisor, signal, oom, mail, exec];

export function adapterFor(work: Work): Adapter | undefined {
  return ADAPTERS.find((adapter) => adapter.accepts(work));
}
