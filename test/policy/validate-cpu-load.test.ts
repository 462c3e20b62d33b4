// validate on cpu policies and on the load kind's pressure sources: each problem at its file,
// line and column, in the user's terms, with a did-you-mean where one fits.
import assert from 'node:assert/strict';
import { diagnosticLines, yaml } from '../helpers/policy-files.js';

interface Case {
  name: string;
  policy: string;
  expected: string[];
}

const cases: Case[] = [
  {
    name: 'a cpu policy with every key is valid',
    policy: yaml`
      - name: hot
        kind: cpu
        match: { exe: /usr/bin/worker }
        max_cpu: 250%
        scope: tree
        for: 3
        action: kill
        grace: 5s
        max_actions: { count: 2, within: 1h }
        only_when: { memory_pressure_above: 20, memory_available_below: 10% }
    `,
    expected: [],
  },
  {
    name: 'max_cpu without its percent sign suggests it',
    policy: yaml`
      - { name: hot, kind: cpu, match: { name: worker }, max_cpu: 80 }
    `,
    expected: ['a.yaml:2:61: error: Invalid CPU share 80 for "max_cpu" in policy "hot": write a percentage of one core, e.g. "80%" (100% is one core, 250% two and a half); did you mean "80%"?'],
  },
  {
    name: 'max_cpu as a fraction of cores is refused with the form to write',
    policy: yaml`
      - { name: hot, kind: cpu, match: { name: worker }, max_cpu: 2 cores }
    `,
    expected: ['a.yaml:2:61: error: Invalid CPU share "2 cores" for "max_cpu" in policy "hot": write a percentage of one core, e.g. "80%" (100% is one core, 250% two and a half)'],
  },
  {
    name: 'a cpu policy needs max_cpu, and a misspelt key gets its hint',
    policy: yaml`
      - { name: hot, kind: cpu, match: { name: worker }, cpu_limit: 80% }
    `,
    expected: [
      'a.yaml:2:3: error: Policy "hot" (kind cpu) is missing required key "max_cpu"',
      'a.yaml:2:52: error: Unexpected key "cpu_limit" in policy "hot"; did you mean "max_cpu"? Allowed keys: name, kind, description, mode, match, hosts, notify, max_cpu, scope, for, action, grace, max_actions, only_when',
    ],
  },
  {
    name: 'max_cpu 0% is a warning: every process that uses any CPU is acted on',
    policy: yaml`
      - { name: hot, kind: cpu, match: { name: worker, user: root }, max_cpu: 0%, action: stop }
    `,
    expected: ['a.yaml:2:73: warning: "max_cpu" is 0% in policy "hot": every matched process that uses any CPU between two cycles is acted on'],
  },
  {
    name: 'a pressure source with a pressure average and a band in percent is valid',
    policy: yaml`
      - { name: backoff, kind: load, source: io_pressure, average: 60s, match: { name: rsync }, pause_above: 40, resume_below: 10 }
    `,
    expected: [],
  },
  {
    name: 'average 10s with source loadavg (the default) says why and what to set',
    policy: yaml`
      - { name: backoff, kind: load, match: { name: rsync }, pause_above: 4, average: 10s }
    `,
    expected: [
      'a.yaml:2:81: error: "average" 10s does not fit policy "backoff": source loadavg (the default) reads the load average, so use 1m, 5m or 15m (the load averages); for 10s, 60s or 300s set source: cpu_pressure, io_pressure or memory_pressure',
    ],
  },
  {
    name: 'average 5m with a pressure source names the pressure averages',
    policy: yaml`
      - { name: backoff, kind: load, source: cpu_pressure, match: { name: rsync }, pause_above: 40, average: 5m }
    `,
    expected: ['a.yaml:2:104: error: "average" 5m does not fit policy "backoff": source cpu_pressure reads pressure stall averages, so use 10s, 60s or 300s (the averages of /proc/pressure)'],
  },
  {
    name: 'a misspelt source gets the nearest, and nothing is judged against it',
    policy: yaml`
      - { name: backoff, kind: load, source: cpu_presure, match: { name: rsync }, pause_above: 40, average: 60s }
    `,
    expected: ['a.yaml:2:40: error: "source" in policy "backoff" must be one of loadavg, cpu_pressure, io_pressure, memory_pressure, not "cpu_presure"; did you mean "cpu_pressure"?'],
  },
  {
    name: 'a pressure band above 100 percent is an error',
    policy: yaml`
      - { name: backoff, kind: load, source: memory_pressure, match: { name: rsync }, pause_above: 400, resume_below: 200 }
    `,
    expected: [
      'a.yaml:2:94: error: "pause_above" is 400 in policy "backoff", but source memory_pressure is a percentage of time stalled: at most 100',
      'a.yaml:2:113: error: "resume_below" is 200 in policy "backoff", but source memory_pressure is a percentage of time stalled: at most 100',
    ],
  },
];

describe('validate: cpu policies and pressure sources', () => {
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(diagnosticLines({ 'a.yaml': `policies:\n${c.policy}` }), c.expected);
    });
  }
});
