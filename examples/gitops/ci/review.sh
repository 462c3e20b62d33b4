#!/bin/sh
# Run by CI on a pull or merge request, after procguard is installed: what the change does on
# every host, against the target branch (BASE, e.g. origin/main), read with git archive, never
# checked out. Writes reports/diff.md for the comment that CI posts; under GitHub Actions also
# annotates each changed policy's line.
set -eu
cd "$(dirname "$0")/.."
: "${BASE:?set BASE to the target branch, e.g. origin/main}"
mkdir -p reports

status=0
procguard diff -c policies --base "$BASE" --snapshots snapshots --format markdown > reports/diff.md || status=$?
[ "$status" -le 1 ] || exit "$status"
if [ "${GITHUB_ACTIONS:-}" = true ]; then
  procguard diff -c policies --base "$BASE" --snapshots snapshots --format github || true
fi
procguard diff -c policies --base "$BASE" --snapshots snapshots || true
