import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatDiagnostic } from '../../src/policy/diagnostics.js';
import { configPaths, discoverPolicySets, loadPolicyFiles, MAX_POLICY_FILE_BYTES, permissionProblem, type ForeignDirectory } from '../../src/policy/load.js';
import { validatePolicyFiles } from '../../src/policy/validate.js';

const OOM = (name: string) => `policies:\n  - { name: ${name}, kind: oom, match: { name: ${name} }, oom_score_adj: 0 }\n`;

describe('loading policy files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'procguard-load-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function write(path: string, text: string | Buffer, mode = 0o644): Promise<string> {
    const full = join(dir, path);
    await mkdir(join(full, '..'), { recursive: true });
    await writeFile(full, text);
    await chmod(full, mode);
    return full;
  }

  async function loadAndValidate(paths: string[], uid = 1000) {
    const loaded = await loadPolicyFiles(paths, { uid });
    return validatePolicyFiles(loaded.files, loaded.diagnostics);
  }

  it('a directory contributes its *.yaml and *.yml files in lexical order, conf.d style', async () => {
    await write('20-b.yml', OOM('b'));
    await write('10-a.yaml', OOM('a'));
    await write('30-c.yaml', OOM('c'));
    await write('.hidden.yaml', 'not: [valid');
    await write('web.test.yaml', 'tests: []');
    await write('README.md', '# not a policy');
    await write('10-a.yaml.orig', 'garbage: [');
    await write('sub/99-z.yaml', 'garbage: [');
    const result = await loadAndValidate([dir]);
    assert.deepEqual(result.diagnostics, []);
    assert.deepEqual(
      result.policySet?.policies.map((p) => p.name),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(
      result.policySet?.files,
      ['10-a.yaml', '20-b.yml', '30-c.yaml'].map((f) => join(dir, f)),
    );
  });

  it('-c may be given several times, files and directories, in that order', async () => {
    const single = await write('one.yaml', OOM('z-first'));
    await write('conf.d/a.yaml', OOM('a'));
    const result = await loadAndValidate([single, join(dir, 'conf.d')]);
    assert.deepEqual(
      result.policySet?.policies.map((p) => p.name),
      ['z-first', 'a'],
    );
  });

  it('one file given twice (the same path, a directory and a file in it, two spellings) is read once, with one warning naming both', async () => {
    const file = await write('conf.d/p.yaml', `policies:\n  - { name: a, kind: oom, match: { name: a }, oom_score_adj: 0 }\n  - { name: b, kind: oom, match: { name: b }, oom_score_adj: 0 }\n`);
    const conf = join(dir, 'conf.d');
    const cases: Array<[string, string]> = [
      [file, file],
      [conf, file],
      [file, join(conf, '..', 'conf.d', 'p.yaml')],
    ];
    for (const [first, second] of cases) {
      const result = await loadAndValidate([first, second]);
      assert.deepEqual(result.diagnostics.map(formatDiagnostic), [`${second}:1:1: warning: Policy file ${second} is given twice, as ${first} and as ${second}; it is read once`]);
      assert.deepEqual(
        result.policySet?.policies.map((p) => p.name),
        ['a', 'b'],
      );
    }
  });

  it('-c paths win over $PROCGUARD_CONFIG, which wins over /etc/procguard', () => {
    assert.deepEqual(configPaths(['a', 'b'], { PROCGUARD_CONFIG: '/x' }), ['a', 'b']);
    assert.deepEqual(configPaths([], { PROCGUARD_CONFIG: '/srv/procguard' }), ['/srv/procguard']);
    assert.deepEqual(configPaths([], {}), ['/etc/procguard']);
    assert.deepEqual(configPaths([], { PROCGUARD_CONFIG: '  ' }), ['/etc/procguard']);
  });

  it('a missing path and an empty directory are errors', async () => {
    await mkdir(join(dir, 'empty'));
    const result = await loadAndValidate([join(dir, 'missing.yaml'), join(dir, 'empty')]);
    assert.deepEqual(result.diagnostics.map(formatDiagnostic), [
      `${dir}/empty:1:1: error: No policy files (*.yaml, *.yml) in directory ${dir}/empty`,
      `${dir}/missing.yaml:1:1: error: Cannot read ${dir}/missing.yaml: no such file or directory`,
    ]);
  });

  it('as root, a policy file writable by group or others is refused, with the fix', async () => {
    const file = await write('a.yaml', OOM('a'), 0o664);
    const result = await loadAndValidate([file], 0);
    assert.deepEqual(result.diagnostics.map(formatDiagnostic), [
      `${file}:1:1: error: Refused: policy file ${file} is writable by group (mode 0664), and procguard runs as root; fix with: chmod go-w ${file}`,
    ]);
    assert.equal(result.policySet, undefined);
  });

  it('as root, a conf.d directory writable by others is refused', async () => {
    await write('conf.d/a.yaml', OOM('a'));
    await chmod(join(dir, 'conf.d'), 0o777);
    const result = await loadAndValidate([join(dir, 'conf.d')], 0);
    assert.match(result.diagnostics.map(formatDiagnostic).join('\n'), /Refused: directory .*conf\.d is writable by group and others \(mode 0777\)/);
  });

  it('not as root, the same file is accepted: procguard can only act as that user', async () => {
    const file = await write('a.yaml', OOM('a'), 0o666);
    const result = await loadAndValidate([file], 1000);
    assert.deepEqual(result.diagnostics, []);
  });

  it('as root, a file owned by another user is refused; root and the running user are fine', () => {
    assert.equal(
      permissionProblem('/etc/procguard/a.yaml', { mode: 0o100644, uid: 1000 }, 0, 'policy file'),
      'Refused: policy file /etc/procguard/a.yaml is owned by uid 1000, not by root, and procguard runs as root; fix with: chown root /etc/procguard/a.yaml',
    );
    assert.equal(permissionProblem('/a.yaml', { mode: 0o100644, uid: 0 }, 0, 'policy file'), undefined);
    assert.equal(permissionProblem('/a.yaml', { mode: 0o100600, uid: 0 }, 0, 'policy file'), undefined);
    assert.equal(permissionProblem('/a.yaml', { mode: 0o100666, uid: 1000 }, 1000, 'policy file'), undefined);
  });

  it('binary, non-UTF-8 and oversized files get a clear error', async () => {
    const binary = await write('bin.yaml', Buffer.from([0x70, 0x6f, 0x00, 0x01, 0x02]));
    const latin1 = await write('latin1.yaml', Buffer.from('settings: { name: caf\xe9 }\n', 'latin1'));
    const huge = await write('huge.yaml', `# ${'x'.repeat(MAX_POLICY_FILE_BYTES)}\n`);
    const result = await loadAndValidate([binary, latin1, huge]);
    assert.deepEqual(result.diagnostics.map(formatDiagnostic), [
      `${binary}:1:1: error: Policy file ${binary} is binary, not text (a NUL byte at offset 2)`,
      `${huge}:1:1: error: Policy file ${huge} is larger than ${MAX_POLICY_FILE_BYTES / 1024 / 1024} MiB`,
      `${latin1}:1:1: error: Policy file ${latin1} is not valid UTF-8 text`,
    ]);
  });

  it('body_file is read relative to the policy file and checked as a template at its own lines', async () => {
    await write('policies/templates/body.hbs', 'Restarted {{target.namespec}}\nat {{time}} on {{hots}}\n');
    const file = await write(
      'policies/a.yaml',
      'notifiers:\n  ops:\n    mail: { to: ops@example.com, body_file: templates/body.hbs }\npolicies:\n  - { name: m, kind: memory, match: { program: "*" }, max_rss: 1GB, notify: [{ to: ops }] }\nsupervisors:\n  main: { url: "unix:///run/supervisor.sock" }\n',
    );
    const result = await loadAndValidate([file]);
    assert.deepEqual(result.diagnostics.map(formatDiagnostic), [
      `${dir}/policies/templates/body.hbs:2:18: warning: body_file of notifier "ops": unknown field "hots"; fields: host, name, policy, kind, mode, action, status, reason, target.pid, target.name, target.namespec, target.cmdline, target.user, target.supervisor, rss, limit, measure.value, measure.limit, measure.unit, result, uptime, time`,
    ]);
    const notifier = result.policySet?.notifiers[0];
    assert.equal(notifier?.type === 'mail' && notifier.body, 'Restarted {{target.namespec}}\nat {{time}} on {{hots}}\n');
  });

  it('a missing body_file is an error at the body_file key', async () => {
    const file = await write(
      'a.yaml',
      'notifiers:\n  ops:\n    mail:\n      to: ops@example.com\n      body_file: nowhere.hbs\npolicies:\n  - { name: m, kind: memory, match: { program: "*" }, max_rss: 1GB, notify: [{ to: ops }] }\nsupervisors:\n  main: { url: "unix:///run/supervisor.sock" }\n',
    );
    const result = await loadAndValidate([file]);
    assert.deepEqual(result.diagnostics.map(formatDiagnostic), [`${file}:5:18: error: body_file of notifier "ops": Cannot read ${dir}/nowhere.hbs: no such file or directory`]);
  });

  it('validate PATH finds every directory holding policy files, skipping hidden ones', async () => {
    await write('repo/policies/a.yaml', OOM('a'));
    await write('repo/hosts/web/b.yaml', OOM('b'));
    await write('repo/hosts/db/c.yml', OOM('c'));
    await write('repo/.github/workflows/ci.yml', 'on: push');
    await write('repo/tests/web.test.yaml', 'tests: []');
    assert.deepEqual(await discoverPolicySets(join(dir, 'repo')), [join(dir, 'repo/hosts/db'), join(dir, 'repo/hosts/web'), join(dir, 'repo/policies')]);
    const file = join(dir, 'repo/policies/a.yaml');
    assert.deepEqual(await discoverPolicySets(file), [file]);
  });

  it("validate PATH passes over another tool's YAML found on the way, but never a misspelt policy file nor a directory it is given", async () => {
    await write('fleet/policies/a.yaml', OOM('a'));
    await write('fleet/prometheus/prometheus.yml', 'global: { scrape_interval: 15s }\nscrape_configs: []\n');
    await write('fleet/prometheus/rules.yml', 'groups: []\n');
    await write('fleet/typo/b.yaml', 'polices:\n  - { name: b, kind: oom, match: { name: sshd }, oom_score_adj: -1000 }\n');
    await write('fleet/mixed/c.yaml', OOM('c'));
    await write('fleet/mixed/d.yml', 'groups: []\n');
    const foreign: ForeignDirectory[] = [];
    assert.deepEqual(await discoverPolicySets(join(dir, 'fleet'), foreign), [join(dir, 'fleet/mixed'), join(dir, 'fleet/policies'), join(dir, 'fleet/typo')]);
    assert.deepEqual(foreign, [
      {
        directory: join(dir, 'fleet/prometheus'),
        files: [
          { name: 'prometheus.yml', keys: ['global', 'scrape_configs'] },
          { name: 'rules.yml', keys: ['groups'] },
        ],
      },
    ]);
    // Named on the command line, a directory is judged whatever it holds.
    assert.deepEqual(await discoverPolicySets(join(dir, 'fleet/prometheus')), [join(dir, 'fleet/prometheus')]);
  });
});
