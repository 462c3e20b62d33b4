// What the policies need read about the host as a whole, beyond its processes: its memory
// (/proc/meminfo) and its pressure stall information (/proc/pressure/*). Each is read only
// when a policy needs it; the name of the first such policy goes into the error a host that
// cannot give it reports.

export type PressureResource = 'cpu' | 'io' | 'memory';

export const PRESSURE_RESOURCES: readonly PressureResource[] = ['cpu', 'io', 'memory'];

/** What one policy needs: the kind says (PolicyKind.hostNeeds). */
export interface PolicyHostNeeds {
  memory?: boolean;
  pressure?: readonly PressureResource[];
}

/** What a set of policies needs, each by the name of the first policy that does. */
export interface HostNeeds {
  memory?: string;
  pressure: Partial<Record<PressureResource, string>>;
}

export const NO_HOST_NEEDS: HostNeeds = { pressure: {} };

/** Everything, for `procguard snapshot`: what is missing is then a warning, not an error. */
export const ALL_HOST_FIELDS: HostNeeds = { memory: '', pressure: { cpu: '', io: '', memory: '' } };

export function combineHostNeeds(policies: readonly { name: string; needs: PolicyHostNeeds | undefined }[]): HostNeeds {
  const combined: HostNeeds = { pressure: {} };
  for (const { name, needs } of policies) {
    if (needs?.memory) combined.memory ??= name;
    for (const resource of needs?.pressure ?? []) combined.pressure[resource] ??= name;
  }
  return combined;
}

/** "memory pressure (PSI)", "the host's memory": what a policy needs, in words. */
export function pressureText(resource: PressureResource): string {
  return `${resource} pressure (PSI, /proc/pressure/${resource})`;
}
