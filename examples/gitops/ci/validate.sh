#!/bin/sh
# Run by CI on every change to the policy repository: fails on any error, shows warnings.
# procguard comes from the release pinned (URL and sha256) in ci/install-procguard.sh.
set -eu
cd "$(dirname "$0")/.."
procguard=$(ci/install-procguard.sh)
"$procguard" validate -c policies
