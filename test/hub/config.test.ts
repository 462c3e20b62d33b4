// Hub files: checked against schemas/hub.schema.json with the policy files' diagnostics
// (FILE:LINE:COL, every problem at once, did-you-mean), recognised by `procguard validate`
// by their top-level keys, refused by `procguard hub` when invalid or not a hub file.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFullYamlParser, parseYamlFileSync } from '../../src/policy/yaml-source.js';
import { validateHubFiles } from '../../src/hub/config.js';
import { parseFileSd } from '../../src/hub/file-sd.js';
import { formatDiagnostic } from '../../src/policy/diagnostics.js';
import { runProcguard, STACK_TRACE } from '../helpers/run-cli.js';

await loadFullYamlParser();

function check(...texts: string[]): { lines: string[]; config?: ReturnType<typeof validateHubFiles>['config'] } {
  const files = texts.map((text, i) => parseYamlFileSync(`hub${i + 1}.yaml`, text).file);
  const result = validateHubFiles(files);
  return { lines: result.diagnostics.map(formatDiagnostic), ...(result.config ? { config: result.config } : {}) };
}

describe('hub: the hub file', () => {
  it('a valid file: defaults, agents with labels and credentials by environment variable, file_sd resolved beside the file', () => {
    const { lines, config } = check(`hub: { interval: 30s, timeout: 4s }
agents:
  - name: web1
    url: http://web1.example.com:9301/
    username: ops
    password_env: PROCGUARD_AGENT_PASSWORD
    labels: { env: prod, role: web }
  - name: db1
    url: https://db1.example.com:9301
    ca_file: /etc/procguard/ca.pem
file_sd: [ hub.d/*.json ]
`);
    // A password sent in the clear to another host is worth a warning, not a refusal.
    assert.deepEqual(lines, [
      'hub1.yaml:6:5: warning: Agent "web1" is asked with a password over plain http:// to another host: anyone on the way can read it; serve the agent over https:// (a TLS proxy) or on a private network',
    ]);
    assert.equal(config!.intervalMs, 30_000);
    assert.equal(config!.timeoutMs, 4_000);
    assert.equal(config!.concurrency, 64);
    assert.equal(config!.agents[0]!.url, 'http://web1.example.com:9301');
    assert.deepEqual(config!.agents[0]!.labels, { env: 'prod', role: 'web' });
    assert.equal(config!.agents[0]!.passwordEnv, 'PROCGUARD_AGENT_PASSWORD');
    assert.equal(config!.agents[1]!.caFile, '/etc/procguard/ca.pem');
    assert.equal(config!.fileSd[0], join(process.cwd(), 'hub.d/*.json'));
  });

  it('every problem at once, each at FILE:LINE:COL, with did-you-mean', () => {
    const { lines, config } = check(`hub:
  intervall: 15s
  concurrency: 0
agents:
  - name: web1
    url: web1.example.com:9301
    password: hunter2
  - name: web2
    url: http://ops:hunter2@web2.example.com:9301
    labels: { 1env: prod }
  - url: http://web3:9301
targetz: []
`);
    assert.equal(config, undefined);
    const text = lines.join('\n');
    assert.match(text, /^hub1\.yaml:2:3: error: Unexpected key "intervall" in hub; did you mean "interval"\?/m);
    assert.match(text, /^hub1\.yaml:3:16: error: "concurrency" in hub must be between 1 and 4096, not 0/m);
    assert.match(text, /^hub1\.yaml:6:10: error: "url" in agent "web1" must be http:\/\/host:port or https:\/\/host:port/m);
    assert.match(text, /^hub1\.yaml:7:5: error: Unexpected key "password" in agent "web1"; did you mean "password_env"\?/m);
    assert.match(text, /^hub1\.yaml:9:10: error: .*give credentials as username and password_env/m);
    assert.match(text, /^hub1\.yaml:10:15: error: Invalid label name "1env" in "labels" of agent "web2"/m);
    assert.match(text, /^hub1\.yaml:11:5: error: Agent #3 is missing required key "name"/m);
    assert.match(text, /^hub1\.yaml:12:1: error: Unexpected key "targetz" at the top level; did you mean "agents"\?/m);
    assert.doesNotMatch(text, /hunter2/, 'a password written into the file is never shown');
  });

  it('checks across files: hub set twice, an agent name used twice, timeout past the interval, ca_file on http, a lone password_env', () => {
    const { lines, config } = check(
      `hub: { interval: 5s, timeout: 10s }
agents:
  - { name: web1, url: "http://web1:9301", ca_file: ca.pem }
`,
      `hub: { interval: 5s }
agents:
  - { name: web1, url: "http://web1:9301", password_env: PW }
`,
    );
    assert.equal(config, undefined);
    const text = lines.join('\n');
    assert.match(text, /^hub1\.yaml:1:31: error: "timeout" in hub \(10s\) is longer than "interval" \(5s\)/m);
    assert.match(text, /^hub1\.yaml:3:44: error: Agent "web1" sets "ca_file" but its URL is not https:\/\//m);
    assert.match(text, /^hub2\.yaml:1:1: error: "hub" is set in two files; the first is hub1\.yaml:1:6/m);
    assert.match(text, /^hub2\.yaml:3:13: error: Duplicate agent "web1": first defined at hub1\.yaml:3:13/m);
    assert.match(text, /^hub2\.yaml:3:44: error: Agent "web1" sets "password_env" without "username"; give both or neither/m);
  });

  it('file_sd files: targets and labels; __scheme__ picks https; Prometheus-internal labels dropped; problems at FILE:LINE:COL', async () => {
    const good = await parseFileSd(
      'sd.json',
      JSON.stringify([
        { targets: ['web1:9301', 'web2:9301'], labels: { env: 'prod', __meta_x: 'y' } },
        { targets: ['db1:9301'], labels: { __scheme__: 'https', role: 'db' } },
      ]),
    );
    assert.deepEqual(good.diagnostics, []);
    assert.deepEqual(
      good.agents.map((a) => [a.name, a.url, a.labels]),
      [
        ['web1:9301', 'http://web1:9301', { env: 'prod' }],
        ['web2:9301', 'http://web2:9301', { env: 'prod' }],
        ['db1:9301', 'https://db1:9301', { role: 'db' }],
      ],
    );
    const bad = await parseFileSd('sd.yaml', '- targets: [ "web1" ]\n  labelz: {}\n- labels: { env: 1 }\n');
    const text = bad.diagnostics.map(formatDiagnostic).join('\n');
    assert.deepEqual(bad.agents, []);
    assert.match(text, /^sd\.yaml:1:14: error: Target "web1" must be HOST:PORT/m);
    assert.match(text, /^sd\.yaml:2:3: error: Unexpected key "labelz" in target group #1/m);
    assert.match(text, /^sd\.yaml:3:18: error: Label "env" must be a string/m);
    assert.match(text, /^sd\.yaml:3:3: error: Target group #2 needs "targets"/m);
  });

  describe('the CLI', function () {
    this.timeout(20000);
    let work: string;
    before(async () => {
      work = await mkdtemp(join(tmpdir(), 'pg-hub-config-'));
      await writeFile(join(work, 'hub.yaml'), 'hub: { interval: 10s }\nagents:\n  - { name: web1, url: "http://127.0.0.1:9301", labels: { env: prod } }\n');
      await writeFile(join(work, 'bad-hub.yaml'), 'agents:\n  - { name: web1, url: "http://127.0.0.1:9301", lables: {} }\n');
      await writeFile(join(work, 'policy.yaml'), 'policies:\n  - { name: m, kind: memory, match: { program: web }, max_rss: 1GB }\n');
    });
    after(async () => {
      await rm(work, { recursive: true, force: true });
    });

    it('validate knows a hub file by its top-level keys, beside policy files', async () => {
      const ok = await runProcguard(['validate', join(work, 'hub.yaml'), join(work, 'policy.yaml')]);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, /hub\.yaml: valid hub configuration: 1 agent, 0 file_sd paths in 1 file/);
      assert.match(ok.stdout, /policy\.yaml: valid: 1 policy/);
      const bad = await runProcguard(['validate', '-c', join(work, 'bad-hub.yaml')]);
      assert.equal(bad.code, 2);
      assert.match(bad.stdout, /bad-hub\.yaml:2:49: error: Unexpected key "lables" in agent "web1"; did you mean "labels"\?/);
      assert.match(bad.stdout, /invalid hub configuration: 1 error in 1 file/);
      assert.doesNotMatch(bad.stdout + bad.stderr, STACK_TRACE);
    });

    it('hub refuses an invalid hub file, a policy file and no file, with exit 2 and no stack trace', async () => {
      const bad = await runProcguard(['hub', '-c', join(work, 'bad-hub.yaml'), '--listen', '127.0.0.1:0']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /bad-hub\.yaml:2:49: error: Unexpected key "lables"/);
      const policy = await runProcguard(['hub', '-c', join(work, 'policy.yaml'), '--listen', '127.0.0.1:0']);
      assert.equal(policy.code, 2);
      assert.match(policy.stderr, /policy\.yaml:1:1: error: .*policy\.yaml is not a hub file/);
      const none = await runProcguard(['hub']);
      assert.equal(none.code, 2);
      assert.match(none.stderr, /give the hub file\(s\) with -c FILE/);
      const address = await runProcguard(['hub', '-c', join(work, 'hub.yaml'), '--listen', 'nowhere']);
      assert.equal(address.code, 2);
      assert.match(address.stderr, /--listen "nowhere" is not an address/);
      for (const run of [bad, policy, none, address]) assert.doesNotMatch(run.stdout + run.stderr, STACK_TRACE);
    });
  });
});
