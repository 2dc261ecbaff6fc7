#!/usr/bin/env bash
# Ingest + enrich + aggregate benchmark of `fluxscore features` on a generated Zeek dns.log.
# Usage: bench/dns_ingest.sh [LINES] [BUILD_DIR]   (defaults: 10000000, build/release)
# Writes the log once (cached) under build/bench-work/, then runs the TSV and the JSON form,
# each with --threads 1 and --threads 2 (THREADS="1 2" by default), printing lines/s (wall
# clock, and per second of CPU time: user + system, the "per core" figure) and peak resident
# memory (/usr/bin/time).
set -euo pipefail
LINES=${1:-10000000}
BUILD=${2:-build/release}
source "$(dirname "$0")/dns_common.sh"
ASN=()
if [ -f data/ipdb/asn-ipv4.csv ]; then  # scripts/fetch-ipdata.sh
  ASN=(--asn-db data/ipdb/asn-ipv4.csv --asn-db data/ipdb/asn-ipv6.csv
       --country-db data/ipdb/iptoasn-country.mmdb)
fi
for fmt in tsv json; do
  LOG=$WORK/dns-$LINES.$fmt
  [ -s "$LOG" ] || "$GEN" "$LINES" 1 "$fmt" > "$LOG"
  BYTES=$(stat -c %s "$LOG")
  for threads in ${THREADS:-1 2}; do
    /usr/bin/time -f "%e %M %U %S" -o "$WORK/time.txt" "$BIN" features "$LOG" "${ASN[@]}" --progress off \
        --threads "$threads" -o /dev/null 2> "$WORK/features-$fmt.txt" || { cat "$WORK/features-$fmt.txt"; exit 1; }
    read -r SECS KB USER SYS < "$WORK/time.txt"
    python3 - "$fmt" "$LINES" "$BYTES" "$SECS" "$KB" "$USER" "$SYS" "$WORK/features-$fmt.txt" "$threads" <<'PY'
import sys
fmt, lines, size, secs, kb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
cpu, summary, threads = float(sys.argv[6]) + float(sys.argv[7]), sys.argv[8], sys.argv[9]
print(f"{fmt}: {lines:,} lines, {size/1e6:.0f} MB in {secs:.2f} s = {lines/secs/1e6:.2f} M lines/s, "
      f"{size/secs/1e6:.0f} MB/s, peak RSS {kb/1024:.0f} MiB (--threads {threads}); "
      f"CPU {cpu:.2f} s (user {sys.argv[6]} + sys {sys.argv[7]}) = {lines/cpu/1e6:.2f} M lines per CPU-second")
print("  " + open(summary).read().strip().replace("\n", "\n  "))
PY
  done
done
