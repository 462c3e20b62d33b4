// npm run package, as a release is built: the Debian package's files, configuration files,
// control fields and maintainer scripts; lintian; a second build byte for byte; the units as
// installed; install, upgrade, remove and purge. dpkg installs into a throwaway root
// (--root with the scripts run outside a chroot, DPKG_ROOT set), so the test leaves this
// machine's own packages, /etc and /var alone; .ci/check-package installs it for real.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const { version } = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string };
const DEB = join(REPO, 'out', `procguard_${version}_all.deb`);
const TGZ = join(REPO, 'out', `procguard-${version}.tgz`);
const UNITS = ['procguard.service', 'procguard-apply.service', 'procguard-apply.timer'];

function run(command: string, args: string[], options: SpawnSyncOptions = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error) throw new Error(`${command} could not be run: ${result.error.message}`);
  return { status: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
}

function ok(command: string, args: string[], options: SpawnSyncOptions = {}): string {
  const result = run(command, args, options);
  assert.equal(result.status, 0, `${command} ${args.join(' ')} exited ${result.status}:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

function requireTool(tool: string, debianPackage: string): void {
  if (run('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is not installed: apt-get install -y ${debianPackage}`);
}

async function sha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** Every path under root (relative, sorted), directories marked with a trailing slash. */
async function tree(root: string, leftOut: string[] = []): Promise<string[]> {
  const found: string[] = [];
  async function walk(dir: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const rel = relative(root, path);
      if (leftOut.some((prefix) => rel === prefix || rel.startsWith(`${prefix}/`))) continue;
      found.push(entry.isDirectory() ? `${rel}/` : rel);
      if (entry.isDirectory()) await walk(path);
    }
  }
  await walk(root);
  return found.sort();
}

describe('npm run package: the Debian package and the npm tarball', function () {
  this.timeout(20 * 60 * 1000);
  let work: string;
  let first: { deb: string; tgz: string };
  let contents: string[];

  /** A throwaway root dpkg installs into: its own database, scripts run with DPKG_ROOT. */
  async function dpkgRoot(): Promise<string> {
    const root = join(work, `root-${Math.random().toString(36).slice(2)}`);
    await mkdir(join(root, 'var/lib/dpkg/updates'), { recursive: true });
    await mkdir(join(root, 'var/lib/dpkg/info'), { recursive: true });
    await mkdir(join(root, 'var/lib/systemd'), { recursive: true });
    await writeFile(join(root, 'var/lib/dpkg/status'), '');
    return root;
  }

  function dpkg(root: string, ...args: string[]): string {
    // nodejs is this machine's, not the throwaway root's: its dependency is checked in the control test.
    return ok('dpkg', [`--root=${root}`, '--force-script-chrootless', '--force-depends', '--log=/dev/null', ...args]);
  }

  before(async () => {
    requireTool('dpkg-deb', 'dpkg');
    requireTool('lintian', 'lintian');
    requireTool('systemd-analyze', 'systemd');
    work = await mkdtemp(join(tmpdir(), 'pg-package-'));
    ok('npm', ['run', '--silent', 'package'], { cwd: REPO });
    first = { deb: join(work, 'first.deb'), tgz: join(work, 'first.tgz') };
    await cp(DEB, first.deb);
    await cp(TGZ, first.tgz);
    contents = ok('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -tvf - --numeric-owner', 'sh', first.deb]).trim().split('\n');
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('installs the command, the bundle, the policies, the units, the manual pages, completion and the Debian documents', () => {
    const paths = contents.map((line) => line.split(/\s+/).slice(5).join(' '));
    for (const path of [
      './usr/bin/procguard',
      './usr/lib/procguard/procguard.js',
      './etc/procguard/README',
      './etc/procguard/memory-audit.yaml',
      './etc/procguard/oom-protect.yaml',
      './usr/lib/systemd/system/procguard.service',
      './usr/lib/systemd/system/procguard-apply.service',
      './usr/lib/systemd/system/procguard-apply.timer',
      './usr/share/man/man1/procguard.1.gz',
      './usr/share/man/man5/procguard.yaml.5.gz',
      './usr/share/bash-completion/completions/procguard',
      './usr/share/zsh/vendor-completions/_procguard',
      './usr/share/doc/procguard/copyright',
      './usr/share/doc/procguard/changelog.gz',
      './usr/share/lintian/overrides/procguard',
    ]) {
      assert.ok(paths.includes(path), `${path} is in the package`);
    }
    assert.deepEqual(
      paths.filter((path) => path.includes('/node_modules/')),
      [],
      'the bundle resolves no node_modules tree at run time',
    );
    for (const line of contents) {
      const [mode = '', owner] = line.split(/\s+/);
      assert.equal(owner, '0/0', `owned by root: ${line}`);
      const path = line.split(/\s+/).slice(5).join(' ');
      if (mode.startsWith('d')) assert.equal(mode, 'drwxr-xr-x', line);
      else if (path === './usr/bin/procguard') assert.equal(mode, '-rwxr-xr-x', line);
      else assert.equal(mode, '-rw-r--r--', line);
    }
  });

  it('names the shipped policies and /etc/procguard/README as configuration files, and nothing else', async () => {
    const dir = join(work, 'control');
    ok('dpkg-deb', ['--control', first.deb, dir]);
    const shipped = (await readdir(join(REPO, 'policies'))).filter((name) => name.endsWith('.yaml')).map((name) => `/etc/procguard/${name}`);
    assert.deepEqual((await readFile(join(dir, 'conffiles'), 'utf8')).trim().split('\n'), ['/etc/procguard/README', ...shipped].sort());
  });

  it('has the control fields Debian and the system Node.js need', () => {
    const field = (name: string): string => ok('dpkg-deb', ['--field', first.deb, name]).trim();
    assert.equal(field('Package'), 'procguard');
    assert.equal(field('Version'), version);
    assert.equal(field('Architecture'), 'all');
    assert.equal(field('Depends'), 'nodejs (>= 20.19)');
    assert.match(field('Maintainer'), /^.+ <[^@\s]+@[^@\s]+\.[a-z]+>$/);
    assert.match(field('Installed-Size'), /^[1-9][0-9]*$/);
    assert.match(field('Description'), /^declarative policies for the processes on a host\n /);
  });

  it('has maintainer scripts that parse, create the state directory and start nothing', async () => {
    const dir = join(work, 'scripts');
    ok('dpkg-deb', ['--control', first.deb, dir]);
    assert.deepEqual((await readdir(dir)).sort(), ['conffiles', 'control', 'md5sums', 'postinst', 'postrm', 'prerm']);
    for (const script of ['postinst', 'prerm', 'postrm']) {
      const text = await readFile(join(dir, script), 'utf8');
      ok('sh', ['-n', join(dir, script)]);
      assert.match(text, /^#!\/bin\/sh\n/);
      assert.match(text, /^set -e$/m);
      assert.doesNotMatch(text, /systemctl (--system )?(enable|start)|deb-systemd-invoke (start|restart)/, `${script} enables or starts nothing`);
    }
    assert.match(await readFile(join(dir, 'postinst'), 'utf8'), /chmod 0700 "\$\{DPKG_ROOT:-\}\/var\/lib\/procguard"/);
    assert.match(await readFile(join(dir, 'postrm'), 'utf8'), /rm -rf "\$\{DPKG_ROOT:-\}\/var\/lib\/procguard"/);
  });

  it('lintian reports no error and no warning that is not overridden', () => {
    const result = run('lintian', ['--fail-on', 'none', first.deb]);
    const tags = result.stdout.split('\n').filter((line) => /^[EW]: /.test(line));
    assert.deepEqual(tags, [], result.stdout + result.stderr);
  });

  it('a second build from the same commit writes byte-identical files', async () => {
    ok('npm', ['run', '--silent', 'package'], { cwd: REPO });
    assert.equal(await sha256(DEB), await sha256(first.deb), 'the .deb differs between two builds');
    assert.equal(await sha256(TGZ), await sha256(first.tgz), 'the npm tarball differs between two builds');
  });

  it('installs into a root: /var/lib/procguard mode 0700, the units pass systemd-analyze verify, the command validates /etc/procguard', async () => {
    const root = await dpkgRoot();
    dpkg(root, '--install', first.deb);
    const state = await stat(join(root, 'var/lib/procguard'));
    assert.ok(state.isDirectory());
    assert.equal(state.mode & 0o7777, 0o700);
    // The units as installed, with /usr/bin/procguard and the manual pages found in the root.
    const units = join(work, 'units');
    await mkdir(units, { recursive: true });
    for (const unit of UNITS) {
      const text = await readFile(join(root, 'usr/lib/systemd/system', unit), 'utf8');
      await writeFile(join(units, unit), text.replaceAll('/usr/bin/procguard', join(root, 'usr/bin/procguard')));
    }
    const verified = run('systemd-analyze', ['verify', ...UNITS.map((unit) => join(units, unit))], { env: { ...process.env, MANPATH: join(root, 'usr/share/man') } });
    assert.equal(verified.status, 0, verified.stderr);
    assert.equal(verified.stderr.trim(), '');
    const score = run('systemd-analyze', ['security', '--offline=yes', '--no-pager', join(units, 'procguard.service')]);
    const exposure = Number(/Overall exposure level for procguard\.service: ([0-9.]+)/.exec(score.stdout)?.[1]);
    assert.ok(exposure < 4, `systemd-analyze security: exposure ${exposure}, above 4`);
    const validate = run(process.execPath, [join(root, 'usr/lib/procguard/procguard.js'), 'validate', join(root, 'etc/procguard')]);
    assert.equal(validate.status, 0, validate.stderr);
  });

  it('an upgrade keeps an edited configuration file; remove keeps the state and the configuration; purge leaves the root as it was', async () => {
    const root = await dpkgRoot();
    const before = await tree(root);
    dpkg(root, '--install', first.deb);
    // procguard's runs leave their code cache beside the code; the package scripts remove it with the code.
    const codeCache = join(root, 'usr/lib/procguard/code-cache');
    const validateInRoot = (): void => void ok(process.execPath, [join(root, 'usr/lib/procguard/procguard.js'), 'validate', join(root, 'etc/procguard')]);
    validateInRoot();
    assert.ok(
      (await readdir(codeCache)).some((name) => name.endsWith('.v8')),
      'a run writes the code cache',
    );
    const edited = join(root, 'etc/procguard/memory-audit.yaml');
    await appendFile(edited, '# raised for this host\n');
    const editedText = await readFile(edited, 'utf8');
    // The next release: the same package with a higher version and a changed shipped policy.
    const next = join(work, 'next');
    ok('dpkg-deb', ['--raw-extract', first.deb, next]);
    const control = join(next, 'DEBIAN/control');
    await writeFile(control, (await readFile(control, 'utf8')).replace(/^Version: .*$/m, `Version: ${version}+next1`));
    await appendFile(join(next, 'etc/procguard/oom-protect.yaml'), '# shipped with the next release\n');
    const nextDeb = join(work, 'next.deb');
    ok('dpkg-deb', ['--root-owner-group', '--build', next, nextDeb]);
    dpkg(root, '--force-confold', '--install', nextDeb);
    assert.ok(!existsSync(codeCache), "an upgrade removes the old code's cache");
    validateInRoot();
    assert.equal(await readFile(edited, 'utf8'), editedText, 'the edited policy is kept');
    assert.match(await readFile(join(root, 'etc/procguard/oom-protect.yaml'), 'utf8'), /# shipped with the next release\n$/, 'an unedited policy is updated');
    assert.match(ok('dpkg-query', [`--root=${root}`, '--showformat=${Version}', '--show', 'procguard']), /\+next1$/);

    await writeFile(join(root, 'var/lib/procguard/state.json'), '{}\n');
    dpkg(root, '--remove', 'procguard');
    assert.ok((await stat(join(root, 'var/lib/procguard/state.json'))).isFile(), 'remove keeps the state');
    assert.equal(await readFile(edited, 'utf8'), editedText, 'remove keeps the configuration');
    assert.deepEqual(
      (await tree(root, ['var/lib/dpkg'])).filter((path) => path.startsWith('usr/')),
      [],
      'remove takes every file under /usr',
    );
    dpkg(root, '--purge', 'procguard');
    assert.deepEqual(
      await tree(root, ['var/lib/dpkg']),
      before.filter((path) => !path.startsWith('var/lib/dpkg/')),
      'purge leaves nothing behind',
    );
  });

  it('the npm tarball carries the bundle and no dependency, and installs with the registry unreachable', async () => {
    const listing = ok('tar', ['-tzf', first.tgz]).trim().split('\n');
    assert.ok(listing.includes('package/bundle/procguard.js'));
    assert.ok(listing.includes('package/bin/procguard.js'));
    // CommonJS scripts, whatever the type of the package around them.
    assert.ok(listing.includes('package/bin/package.json'));
    assert.ok(listing.includes('package/bundle/package.json'));
    assert.deepEqual(
      listing.filter((path) => path.includes('code-cache')),
      [],
      'no code cache: each machine writes its own',
    );
    const manifest = JSON.parse(ok('tar', ['-xzOf', first.tgz, 'package/package.json'])) as Record<string, unknown>;
    assert.equal(manifest.dependencies, undefined);
    assert.equal(manifest.optionalDependencies, undefined);
    assert.equal(manifest.peerDependencies, undefined);
    assert.equal(manifest.scripts, undefined, 'installing runs no script');
    const prefix = join(work, 'npm-prefix');
    const env = {
      ...process.env,
      npm_config_registry: 'http://127.0.0.1:9/',
      npm_config_cache: join(work, 'npm-cache'),
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
    };
    ok('npm', ['install', '--global', '--offline', '--prefix', prefix, first.tgz], { env });
    ok(join(prefix, 'bin/procguard'), ['validate', join(REPO, 'policies')], { env });
    assert.equal(ok(join(prefix, 'bin/procguard'), ['--version'], { env }).trim(), version);
  });
  it("the policy repository's CI installs only the pinned tarball: a placeholder or a wrong sha256 stops it, the right one installs and validates", async () => {
    requireTool('curl', 'curl');
    const repo = join(work, 'gitops');
    await cp(join(REPO, 'examples/gitops'), repo, { recursive: true });
    const script = join(repo, 'ci/install-procguard.sh');
    const original = await readFile(script, 'utf8');
    const env = { ...process.env, npm_config_registry: 'http://127.0.0.1:9/', npm_config_cache: join(work, 'gitops-npm-cache'), npm_config_update_notifier: 'false' };
    const placeholder = run(join(repo, 'ci/validate.sh'), [], { env });
    assert.equal(placeholder.status, 2, placeholder.stderr);
    assert.match(placeholder.stderr, /fill in PROCGUARD_URL and PROCGUARD_SHA256/);
    const pin = async (sha: string): Promise<void> => {
      await writeFile(
        script,
        original
          .replace(/^PROCGUARD_VERSION=.*$/m, `PROCGUARD_VERSION=${version}`)
          .replace(/^PROCGUARD_URL=.*$/m, `PROCGUARD_URL=file://${first.tgz}`)
          .replace(/^PROCGUARD_SHA256=.*$/m, `PROCGUARD_SHA256=${sha}`),
      );
    };
    const sha = await sha256(first.tgz);
    await pin(sha.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')));
    const wrong = run(join(repo, 'ci/validate.sh'), [], { env });
    assert.equal(wrong.status, 2, wrong.stderr);
    assert.match(wrong.stderr, /does not have the pinned sha256 .*: not installing it/);
    await pin(sha);
    const right = run(join(repo, 'ci/validate.sh'), [], { env });
    assert.equal(right.status, 0, right.stderr);
    assert.match(right.stdout, /^policies: valid: /m);
    assert.doesNotMatch(await readFile(join(REPO, 'examples/gitops/ci/validate.sh'), 'utf8'), /npx/);
  });
});
