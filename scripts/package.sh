#!/usr/bin/env bash
# npm run package: out/procguard_<version>_all.deb (dpkg-deb) and out/procguard-<version>.tgz
# (npm pack), both from the bundle (npm run bundle → bundle/) and the committed man pages
# (man/). Nothing is fetched. Two runs from the same commit write byte-identical files: every
# time stamp is SOURCE_DATE_EPOCH (the last commit's time unless set), owners are root, file
# lists are sorted and gzip writes no name or time.
set -euo pipefail
cd "$(dirname "$0")/.."
umask 022
export LC_ALL=C TZ=UTC
# The packages hold no code cache: each machine writes its own (src/cli/launch.ts), and the
# completions below are written by running the bundle.
export PROCGUARD_CODE_CACHE=0

fail() {
  echo "npm run package: $*" >&2
  exit 1
}

for tool in dpkg-deb gzip git; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed (apt-get install -y dpkg gzip git)"
done

version=$(node -p 'require("./package.json").version')
# The maintainer the package names; set PROCGUARD_MAINTAINER to "Name <address>" for a release.
maintainer=${PROCGUARD_MAINTAINER:-procguard maintainers <maintainers@procguard.org>}
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null) || fail "not a git checkout: set SOURCE_DATE_EPOCH"
fi
export SOURCE_DATE_EPOCH
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  echo "npm run package: warning: the checkout has uncommitted changes: the packages hold them, under the last commit's date" >&2
fi

changelog_version=$(sed -n '1s/^procguard (\([^)]*\)).*/\1/p' packaging/deb/changelog)
[ "$changelog_version" = "$version" ] ||
  fail "packaging/deb/changelog starts with version '$changelog_version' but package.json says '$version': add an entry for $version at its top"

for page in man/procguard.1 man/procguard.yaml.5; do
  [ -f "$page" ] || fail "$page is missing (the manual pages are committed under man/)"
done

work=out/.package
rm -rf "$work"
mkdir -p "$work" out

# The bundle (what npm run bundle writes), and the npm packages it holds, for the copyright file.
node scripts/package-meta.mjs bundle "$work/bundled-packages" || fail "the bundle could not be built"
[ -f bundle/procguard.js ] || fail "the bundle has no bundle/procguard.js"
[ ! -e bundle/code-cache ] || fail "bundle/code-cache is there after a fresh build"

# --- the Debian package -------------------------------------------------------------------
root=$work/deb
install -d "$root/DEBIAN" "$root/usr/bin" "$root/usr/lib/procguard" "$root/etc/procguard" \
  "$root/usr/lib/systemd/system" "$root/usr/share/man/man1" "$root/usr/share/man/man5" \
  "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
  "$root/usr/share/doc/procguard/examples" "$root/usr/share/lintian/overrides"

install -m 0755 packaging/deb/procguard "$root/usr/bin/procguard"
cp -R bundle/. "$root/usr/lib/procguard/"
for policy in policies/*.yaml; do
  install -m 0644 "$policy" "$root/etc/procguard/"
done
install -m 0644 packaging/deb/etc-README "$root/etc/procguard/README"
for unit in procguard.service procguard-apply.service procguard-apply.timer; do
  install -m 0644 "examples/systemd/$unit" "$root/usr/lib/systemd/system/$unit"
done
gzip -9n <man/procguard.1 >"$root/usr/share/man/man1/procguard.1.gz"
gzip -9n <man/procguard.yaml.5 >"$root/usr/share/man/man5/procguard.yaml.5.gz"
node bundle/procguard.js completion bash >"$root/usr/share/bash-completion/completions/procguard" ||
  fail "procguard completion bash failed"
node bundle/procguard.js completion zsh >"$root/usr/share/zsh/vendor-completions/_procguard" ||
  fail "procguard completion zsh failed"
node scripts/package-meta.mjs copyright "$maintainer" "$work/bundled-packages" >"$root/usr/share/doc/procguard/copyright"
sed "s/@MAINTAINER@/$maintainer/" packaging/deb/changelog | gzip -9n >"$root/usr/share/doc/procguard/changelog.gz"
install -m 0644 examples/cron/procguard "$root/usr/share/doc/procguard/examples/cron.d-procguard"
for conf in examples/supervisord/*.conf; do
  install -m 0644 "$conf" "$root/usr/share/doc/procguard/examples/"
done
install -m 0644 packaging/deb/lintian-overrides "$root/usr/share/lintian/overrides/procguard"

# Modes as Debian expects them, whatever the checkout's umask or the bundle's modes were.
find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f ! -path "$root/DEBIAN/*" ! -path "$root/usr/bin/*" -exec chmod 0644 {} +

for script in postinst prerm postrm; do
  install -m 0755 "packaging/deb/$script" "$root/DEBIAN/$script"
done
(cd "$root" && find etc -type f | sort | sed 's|^|/|') >"$root/DEBIAN/conffiles"
(cd "$root" && find usr -type f | sort | xargs -d '\n' md5sum) >"$root/DEBIAN/md5sums"
# Installed-Size as dpkg-gencontrol counts it: KiB per file rounded up, 1 per directory.
installed_size=$(cd "$root" && find . -path ./DEBIAN -prune -o \( -type f -printf '%s\n' \) -o \( ! -type f -printf '1024\n' \) |
  awk '{ total += int(($1 + 1023) / 1024) } END { print total }')
sed -e "s/@VERSION@/$version/" -e "s/@MAINTAINER@/$maintainer/" -e "s/@INSTALLED_SIZE@/$installed_size/" \
  packaging/deb/control >"$root/DEBIAN/control"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

find "$root" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +
deb=out/procguard_${version}_all.deb
# One compressor thread: xz's output depends on how the input is split between threads.
dpkg-deb --root-owner-group -Zxz -z9 --threads-max=1 --build "$root" "$deb" >/dev/null

# --- the npm tarball ----------------------------------------------------------------------
stage=$work/npm
mkdir -p "$stage/bin" "$stage/bundle" "$stage/man" "$stage/policies"
node scripts/package-meta.mjs npm-manifest >"$stage/package.json"
install -m 0755 bin/procguard.js "$stage/bin/procguard.js"
install -m 0644 bin/package.json "$stage/bin/package.json"
cp -R bundle/. "$stage/bundle/"
[ ! -e "$stage/bundle/code-cache" ] || fail "the bundle's code cache would be packed"
cp man/procguard.1 man/procguard.yaml.5 "$stage/man/"
cp policies/*.yaml "$stage/policies/"
cp README.md "$stage/"
# npm pack stores fixed modes and times itself; it runs no script of the staged package.
(cd "$stage" && npm pack --ignore-scripts --silent --pack-destination "$PWD/../.." >/dev/null)
[ -f "out/procguard-${version}.tgz" ] || fail "npm pack wrote no out/procguard-${version}.tgz"

rm -rf "$work"
echo "$deb"
echo "out/procguard-${version}.tgz"
