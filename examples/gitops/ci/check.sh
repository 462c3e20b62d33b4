#!/bin/sh
# Run by CI on every push and merge request, after procguard is installed (procguard on PATH):
# validate the policies (annotations on their lines under GitHub Actions), run the policy tests
# (a JUnit report for GitLab), and plan the policies against every host's committed snapshot.
# Fails on an invalid policy, a failing test or a broken snapshot; a host that would act is
# shown, not a failure (plan exits 1 for it).
set -eu
cd "$(dirname "$0")/.."
mkdir -p reports

if [ "${GITHUB_ACTIONS:-}" = true ]; then
  procguard validate -c policies --format sarif > reports/procguard.sarif || true
  procguard validate -c policies --format github
else
  procguard validate -c policies
fi

status=0
procguard test --format junit tests > reports/policy-tests.xml || status=$?
procguard test tests || true
[ "$status" -eq 0 ] || exit "$status"

status=0
procguard plan -c policies --snapshots snapshots --format markdown > reports/plan.md || status=$?
procguard plan -c policies --snapshots snapshots || true
[ "$status" -le 1 ] || exit "$status"
