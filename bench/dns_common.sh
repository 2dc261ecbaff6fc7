# Sourced by bench/dns_ingest.sh and bench/dns_peer.sh, with LINES and BUILD set: goes to the
# repository root and sets WORK (build/bench-work, created), GEN (the log generator) and BIN
# (the CLI), or exits with a message when they are not built.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
WORK=build/bench-work
mkdir -p "$WORK"
GEN=$BUILD/bench/fluxscore_make_dns_log
BIN=$BUILD/fluxscore
[ -x "$GEN" ] && [ -x "$BIN" ] || { echo "build first: cmake --build --preset release -j2" >&2; exit 2; }
