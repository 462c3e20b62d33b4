// A fleet policy repository through the built CLI: policies for some hosts only (check --verbose
// and status say "not for this host"), plan over several hosts' snapshots, diff between two
// versions of the policies, and the output formats CI reads.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcguard } from '../helpers/run-cli.js';
import { FLEET_POLICIES, writeFleet } from '../helpers/fleet.js';
import type { FleetDiff } from '../../src/cli/diff.js';
import type { Plan } from '../../src/data/types.js';
import { dataValidator } from '../helpers/data-validators.js';

describe('procguard on a fleet repository', function () {
  this.timeout(60_000);
  let dir: string;
  let fleet: { policies: string; snapshots: string };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'procguard-fleet-'));
    fleet = writeFleet(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('check --verbose lists a policy whose hosts do not select this host as not for this host, and it never acts', async () => {
    const run = await runProcguard(['check', '-c', fleet.policies, '--snapshot', join(fleet.snapshots, 'db1.json'), '--verbose']);
    assert.equal(run.stderr, '');
    assert.match(run.stdout, /^web-memory \(memory\): not for this host \(hosts: labels role=web\)$/m);
    assert.match(run.stdout, /^db-memory \(memory\): 1 matched$/m);
    assert.match(run.stdout, /^No actions\.$/m, 'web:w1 on db1 is over 250 MiB, but web-memory is not for db1');
    assert.equal(run.code, 0);
  });

  it('status says the same, in text and JSON', async () => {
    const args = ['status', '-c', fleet.policies, '--snapshot', join(fleet.snapshots, 'db1.json'), '--state-dir', join(dir, 'state')];
    const text = await runProcguard(args);
    assert.match(text.stdout, /^web-memory \(memory\): not for this host \(hosts: labels role=web\)$/m);
    const json = JSON.parse((await runProcguard([...args, '--json'])).stdout) as { policies: Array<{ name: string; for_this_host?: boolean; hosts?: string; targets: unknown[] }> };
    assert.deepEqual(
      json.policies.map((p) => [p.name, p.for_this_host, p.hosts, p.targets.length]),
      [
        ['web-memory', false, 'hosts: labels role=web', 0],
        ['db-memory', undefined, 'hosts: names db*', 1],
      ],
    );
  });

  it('on a host the policy selects, it acts', async () => {
    const run = await runProcguard(['check', '-c', fleet.policies, '--snapshot', join(fleet.snapshots, 'web1.json'), '--json']);
    assert.equal(run.code, 1);
    const plan = JSON.parse(run.stdout) as { actions: Array<{ policy: string; target: { namespec: string } }> };
    assert.deepEqual(
      plan.actions.map((a) => `${a.policy} ${a.target.namespec}`),
      ['web-memory web:w2'],
    );
  });

  describe('plan', () => {
    it('plans every host as itself: one plan per host and a summary; exit 1 when a host would act', async () => {
      const run = await runProcguard(['plan', '-c', 'policies', '--snapshots', 'snapshots'], { cwd: dir });
      assert.equal(run.stderr, '');
      assert.equal(run.code, 1);
      assert.deepEqual(
        run.stdout.split('\n').filter((l) => l.startsWith('== ')),
        ['== db1 (snapshots/db1.json) ==', '== web1 (snapshots/web1.json) ==', '== web7 (snapshots/web7.json) =='],
      );
      assert.match(run.stdout, /^restart +web:w2 \(pid 12\) +web-memory +planned +rss 300\.0 MiB > 250\.0 MiB \(cycle 1 of 1\)$/m);
      assert.ok(run.stdout.endsWith('3 hosts: 1 would act (web1), 2 nothing to do (db1, web7)\n  web-memory: restart 1 on 1 host\n'), run.stdout);
    });

    it('--json prints an array of plans, each valid against the plan schema', async () => {
      const run = await runProcguard(['plan', '-c', fleet.policies, '--snapshots', join(fleet.snapshots, 'web1.json'), join(fleet.snapshots, 'db1.json'), '--json']);
      const plans = JSON.parse(run.stdout) as Plan[];
      const validate = dataValidator('plan.schema.json');
      for (const plan of plans) assert.ok(validate(plan), JSON.stringify(validate.errors));
      assert.deepEqual(
        plans.map((p) => [p.host, p.actions.map((a) => `${a.policy} ${a.action} ${a.target.namespec}`)]),
        [
          ['web1', ['web-memory restart web:w2']],
          ['db1', []],
        ],
      );
    });

    it('a snapshot stands for as long as a policy waits: for: 3 acts as for: 1 does', async () => {
      const held = join(dir, 'held.yaml');
      writeFileSync(held, FLEET_POLICIES.replace('max_rss: 250MiB', 'max_rss: 250MiB\n    for: 3'));
      const run = await runProcguard(['plan', '-c', held, '--snapshots', join(fleet.snapshots, 'web1.json'), '--json']);
      assert.equal(run.code, 1);
      const [plan] = JSON.parse(run.stdout) as Plan[];
      assert.deepEqual(
        plan!.actions.map((a) => a.reason),
        ['rss 300.0 MiB > 250.0 MiB (cycle 3 of 3)'],
      );
    });

    it('exit 0 when no host would act', async () => {
      const run = await runProcguard(['plan', '-c', fleet.policies, '--snapshots', join(fleet.snapshots, 'db1.json'), join(fleet.snapshots, 'web7.json')]);
      assert.equal(run.code, 0);
      assert.match(run.stdout, /^2 hosts: 0 would act, 2 nothing to do \(db1, web7\)$/m);
    });

    it("a broken snapshot is that host's error; the others are still planned; exit 2", async () => {
      const broken = mkdtempSync(join(tmpdir(), 'procguard-fleet-broken-'));
      try {
        cpSync(fleet.snapshots, broken, { recursive: true });
        writeFileSync(join(broken, 'cache1.json'), '{ "version": 1, "time": "soon" }\n');
        const run = await runProcguard(['plan', '-c', fleet.policies, '--snapshots', broken, '--json']);
        assert.equal(run.code, 2);
        const plans = JSON.parse(run.stdout) as Plan[];
        assert.deepEqual(
          plans.map((p) => [p.host, p.actions.length, p.errors.map((e) => e.source)]),
          [
            ['cache1', 0, ['snapshot']],
            ['db1', 0, []],
            ['web1', 1, []],
            ['web7', 0, []],
          ],
        );
        assert.match(plans[0]!.errors[0]!.message, /cache1\.json: not a valid snapshot: .*cache1\.json:1:\d+: error: /);
      } finally {
        rmSync(broken, { recursive: true, force: true });
      }
    });

    it('invalid policies: exit 2 and nothing planned', async () => {
      const bad = join(dir, 'bad.yaml');
      writeFileSync(bad, 'policies: [{ name: x, kind: memory, match: { program: "*" }, max_rss: 1MB, hosts: { names: [] } }]\n');
      const run = await runProcguard(['plan', '-c', bad, '--snapshots', fleet.snapshots]);
      assert.equal(run.code, 2);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, /bad\.yaml:1:\d+: error: /);
    });

    it('--snapshots is required, and a format plan does not write is a usage error', async () => {
      assert.equal((await runProcguard(['plan', '-c', fleet.policies])).code, 2);
      const run = await runProcguard(['plan', '-c', fleet.policies, '--snapshots', fleet.snapshots, '--format', 'sarif']);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /plan does not write sarif: use one of text, json, markdown, junit, github/);
    });
  });

  describe('diff', () => {
    const LOWERED = FLEET_POLICIES.replace('max_rss: 250MiB', 'max_rss: 200MiB');
    const lowered = (): string => {
      const target = join(dir, 'lowered');
      mkdirSync(target, { recursive: true });
      writeFileSync(join(target, 'fleet.yaml'), LOWERED);
      return target;
    };

    it('between two directories: the limit that moved and the process it now crosses, host by host', async () => {
      const run = await runProcguard(['diff', '-c', lowered(), '--base', fleet.policies, '--snapshots', fleet.snapshots, '--json']);
      assert.equal(run.code, 1, run.stderr);
      const diff = JSON.parse(run.stdout) as FleetDiff;
      assert.deepEqual(diff.summary, ['web-memory: limit 250.0 MiB → 200.0 MiB; would now restart web:w3 (pid 13) on web7 (rss 212.0 MiB > 200.0 MiB)']);
      assert.deepEqual(
        diff.hosts.map((h) => [h.host, h.appear.map((a) => `${a.action} ${a.target}`), h.disappear.length]),
        [
          ['db1', [], 0],
          ['web1', [], 0],
          ['web7', ['restart web:w3 (pid 13)'], 0],
        ],
      );
      assert.deepEqual(
        diff.policies.map((p) => [p.policy, p.change, p.limit, p.line]),
        [['web-memory', 'changed', '250.0 MiB → 200.0 MiB', 10]],
      );
    });

    it('the other way round the action disappears, and an unchanged set has no difference (exit 0)', async () => {
      const back = JSON.parse((await runProcguard(['diff', '-c', fleet.policies, '--base', lowered(), '--snapshots', fleet.snapshots, '--json'])).stdout) as FleetDiff;
      assert.deepEqual(back.summary, ['web-memory: limit 200.0 MiB → 250.0 MiB; would no longer restart web:w3 (pid 13) on web7']);
      const same = await runProcguard(['diff', '-c', fleet.policies, '--base', fleet.policies, '--snapshots', fleet.snapshots]);
      assert.equal(same.code, 0);
      assert.match(same.stdout, /No change to the policies or to what they would do on these hosts\./);
    });

    it('a policy added or removed, and targets newly matched or no longer matched', async () => {
      const target = join(dir, 'retargeted');
      mkdirSync(target, { recursive: true });
      writeFileSync(join(target, 'fleet.yaml'), FLEET_POLICIES.replace('hosts: { names: ["db*"] }', 'hosts: { names: ["db*", "web7"] }').replace(/ {2}- name: web-memory[^]*?max_rss: 250MiB\n/, ''));
      const diff = JSON.parse((await runProcguard(['diff', '-c', target, '--base', fleet.policies, '--snapshots', fleet.snapshots, '--json'])).stdout) as FleetDiff;
      assert.deepEqual(
        diff.policies.map((p) => `${p.policy} ${p.change}`),
        ['db-memory changed', 'web-memory removed'],
      );
      const web1 = diff.hosts.find((h) => h.host === 'web1')!;
      assert.deepEqual(
        web1.disappear.map((a) => `${a.policy} ${a.action} ${a.target}`),
        ['web-memory restart web:w2 (pid 12)'],
      );
      assert.deepEqual(
        web1.no_longer_matched.map((m) => `${m.policy} ${m.target}`),
        ['web-memory web:w1 (pid 11)', 'web-memory web:w2 (pid 12)'],
      );
      assert.deepEqual(web1.newly_matched, []);
    });

    describe('against a git revision of a throwaway repository', () => {
      let repo: string;
      const git = (...args: string[]): string => execFileSync('git', args, { cwd: repo, encoding: 'utf8' });
      before(() => {
        repo = join(dir, 'repo');
        writeFleet(repo);
        git('init', '-q');
        git('-c', 'user.email=ci@example.com', '-c', 'user.name=ci', 'add', '-A');
        git('-c', 'user.email=ci@example.com', '-c', 'user.name=ci', 'commit', '-qm', 'fleet');
        writeFileSync(join(repo, 'policies', 'fleet.yaml'), LOWERED);
        git('-c', 'user.email=ci@example.com', '-c', 'user.name=ci', 'commit', '-qam', 'lower');
      });

      it('HEAD~1 against the committed change, read without touching the work tree', async () => {
        writeFileSync(join(repo, 'policies', 'fleet.yaml'), LOWERED.replace('max_rss: 1GiB', 'max_rss: 2GiB')); // uncommitted
        const run = await runProcguard(['diff', '-c', 'policies', '--base', 'HEAD~1', '--snapshots', 'snapshots'], { cwd: repo });
        assert.equal(run.code, 1, run.stderr);
        const head1 = git('rev-parse', '--short=12', 'HEAD~1').trim();
        assert.match(run.stdout, new RegExp(`^procguard diff against HEAD~1 \\(${head1}\\)$`, 'm'));
        assert.match(run.stdout, /^web-memory: limit 250\.0 MiB → 200\.0 MiB; would now restart web:w3 \(pid 13\) on web7 \(rss 212\.0 MiB > 200\.0 MiB\)$/m);
        assert.match(run.stdout, /^db-memory: limit 1\.0 GiB → 2\.0 GiB; no action changes on these hosts$/m);
        assert.equal(git('status', '--porcelain'), ' M policies/fleet.yaml\n', 'the work tree keeps its change');
        assert.deepEqual(
          readdirSync(tmpdir()).filter((n) => n.startsWith('procguard-base-')),
          [],
          'the extracted revision is removed',
        );
      });

      it('HEAD against a committed work tree: no difference', async () => {
        writeFileSync(join(repo, 'policies', 'fleet.yaml'), LOWERED);
        const run = await runProcguard(['diff', '-c', 'policies', '--base', 'HEAD', '--snapshots', 'snapshots'], { cwd: repo });
        assert.equal(run.code, 0, run.stdout + run.stderr);
      });

      it("a program the repository's git configuration names is not run", async () => {
        const marker = join(dir, 'fsmonitor-ran');
        writeFileSync(join(dir, 'fsmonitor.sh'), `#!/bin/sh\ntouch '${marker}'\n`, { mode: 0o755 });
        git('config', 'core.fsmonitor', join(dir, 'fsmonitor.sh'));
        try {
          const run = await runProcguard(['diff', '-c', 'policies', '--base', 'HEAD~1', '--snapshots', 'snapshots'], { cwd: repo });
          assert.equal(run.code, 1, run.stderr);
          assert.equal(existsSync(marker), false);
        } finally {
          git('config', '--unset', 'core.fsmonitor');
        }
      });

      it('a revision that looks like an option, or names no commit, is refused before git sees it as one', async () => {
        const table: Array<[string, RegExp]> = [
          ['--output=/tmp/procguard-fleet-injected', /--base "--output=\/tmp\/procguard-fleet-injected" is neither a directory nor a git revision/],
          ['-h', /--base "-h" is neither a directory nor a git revision/],
          ['HEAD..main', /is neither a directory nor a git revision/],
          ['no-such-branch', /--base no-such-branch: no such revision in /],
        ];
        for (const [base, message] of table) {
          const run = await runProcguard(['diff', '-c', 'policies', `--base=${base}`, '--snapshots', 'snapshots'], { cwd: repo });
          assert.equal(run.code, 2, base);
          assert.match(run.stderr, message, base);
        }
        assert.equal(existsSync('/tmp/procguard-fleet-injected'), false);
      });
    });
  });
});
