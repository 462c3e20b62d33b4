#!/bin/sh
# Run by CI on every change to the policy repository: fails on any error, shows warnings.
set -eu
cd "$(dirname "$0")/.."
npx --yes procguard validate -c policies
