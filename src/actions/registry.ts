// Every adapter, in one explicit map keyed by the name a plan entry gives in `adapter` (the
// engine decides it; src/engine/arbiter.ts). test/actions/registry.test.ts checks that each
// module under src/actions/ is registered and that every name the plan schema allows has one.

import { adapter as alertmanager } from './alertmanager/alertmanager.js';
import { adapter as exec } from './exec/exec.js';
import { adapter as mail } from './mail/mail.js';
import { adapter as oom } from './oom/oom.js';
import { adapter as signal } from './signal/signal.js';
import { adapter as supervisor } from './supervisor/supervisor.js';
import { adapter as webhook } from './webhook/webhook.js';
import type { Adapter, AdapterName } from './types.js';

export const ADAPTERS: ReadonlyMap<AdapterName, Adapter> = new Map([supervisor, signal, oom, mail, exec, alertmanager, webhook].map((adapter) => [adapter.name, adapter]));
