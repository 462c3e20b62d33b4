#!/bin/sh
# Installs the procguard release this repository is pinned to, and prints the path of its
# command. The artefact is procguard's npm tarball (it carries everything it runs: nothing else
# is fetched); it is checked against the sha256 below before anything in it runs. Pin a release
# by filling in the three values from the release page, in the same change.
#
#   ci/install-procguard.sh            → /tmp/…/bin/procguard   (needs curl, sha256sum, npm)
set -eu

PROCGUARD_VERSION=0.1.0
PROCGUARD_URL="https://example.invalid/procguard/releases/download/v${PROCGUARD_VERSION}/procguard-${PROCGUARD_VERSION}.tgz"
PROCGUARD_SHA256=0000000000000000000000000000000000000000000000000000000000000000

case "$PROCGUARD_URL$PROCGUARD_SHA256" in
  *example.invalid* | *0000000000000000000000000000000000000000000000000000000000000000*)
    echo "ci/install-procguard.sh: fill in PROCGUARD_URL and PROCGUARD_SHA256 with the release you pin" >&2
    exit 2
    ;;
esac

dir=$(mktemp -d)
tarball="$dir/procguard-$PROCGUARD_VERSION.tgz"
curl --fail --silent --show-error --location --proto '=https,file' --output "$tarball" "$PROCGUARD_URL"
if ! echo "$PROCGUARD_SHA256  $tarball" | sha256sum --check --status -; then
  echo "ci/install-procguard.sh: $PROCGUARD_URL does not have the pinned sha256 $PROCGUARD_SHA256: not installing it" >&2
  exit 2
fi
# The tarball has no dependencies and no install scripts: npm only unpacks and links it.
npm install --global --offline --ignore-scripts --no-audit --no-fund --prefix "$dir/prefix" "$tarball" >&2
echo "$dir/prefix/bin/procguard"
