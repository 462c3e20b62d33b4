// The normalized policy set the engine sees: settings, supervisors, notifiers and the policies of
// every registered kind (src/policy/kinds), built from the files by normalize.ts. The parts every
// kind shares (matchers, actions, notify rules, defaults) are in base.ts.

export * from './base.js';
import type { Inventory, NotifierConfig, Settings, SupervisorConfig } from './base.js';

/** A normalized policy of any registered kind (src/policy/kinds). */
export type Policy = import('./kinds/index.js').Policy;
export type PolicyKind = Policy['kind'];

export interface PolicySet {
  /** The files the set was read from, in order. */
  files: string[];
  settings: Settings;
  supervisors: SupervisorConfig[];
  notifiers: NotifierConfig[];
  policies: Policy[];
  /** The fleet's hosts and their labels (`inventory:`), when the files have one. */
  inventory?: Inventory;
}
