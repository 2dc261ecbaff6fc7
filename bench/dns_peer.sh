#!/usr/bin/env bash
# `fluxscore features` against its pandas peer (bench/features_pandas.py: the same columns,
# written independently in vectorised pandas) on one generated Zeek dns.log, checking that
# both give the same rows and timing both (wall clock, peak RSS, /usr/bin/time).
# Usage: bench/dns_peer.sh [LINES] [BUILD_DIR]   (defaults: 1000000, build/release; FORMAT=json
# for the Zeek JSON form of the same log, default FORMAT=tsv)
# Both get the same job: the ASN range CSVs of data/ipdb (scripts/fetch-ipdata.sh), no country
# source (the peer reads no MaxMind DB: the country columns are empty on both sides), exact sets
# (--sample-cap 1048576), the default window, --min-ips, Public Suffix List and word list.
set -euo pipefail
LINES=${1:-1000000}
BUILD=${2:-build/release}
source "$(dirname "$0")/dns_common.sh"
[ -f data/ipdb/asn-ipv4.csv ] || { echo "IP data missing: bash scripts/fetch-ipdata.sh" >&2; exit 2; }
ASN=(--asn-db data/ipdb/asn-ipv4.csv --asn-db data/ipdb/asn-ipv6.csv)
FORMAT=${FORMAT:-tsv}
LOG=$WORK/dns-$LINES.$FORMAT
[ -s "$LOG" ] || "$GEN" "$LINES" 1 "$FORMAT" > "$LOG"
cat "$LOG" > /dev/null  # into the page cache for both
report() {  # NAME: the last /usr/bin/time line as seconds, lines/s, peak RSS
  read -r SECS KB < "$WORK/time.txt"
  python3 -c "import sys; s=float(sys.argv[2]); print(f'{sys.argv[1]}: {s:.2f} s = {int(sys.argv[3])/s/1e6:.3f} M lines/s, peak RSS {int(sys.argv[4])/1024:.0f} MiB')" \
    "$1" "$SECS" "$LINES" "$KB"
  echo "$SECS" > "$WORK/secs-$2.txt"
}
for threads in 1 2; do
  /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$BIN" features "$LOG" "${ASN[@]}" --sample-cap 1048576 \
      --progress off --threads "$threads" -q -o "$WORK/peer-fluxscore.csv"
  report "fluxscore features --threads $threads" "fx$threads"
done
# Debian's interpreter, which has python3-pandas (the first python3 on PATH may be another one).
/usr/bin/time -f "%e %M" -o "$WORK/time.txt" /usr/bin/python3 bench/features_pandas.py "$LOG" "${ASN[@]}" \
    -o "$WORK/peer-pandas.csv" --compare "$WORK/peer-fluxscore.csv" 2> "$WORK/peer-pandas.txt" \
    || { cat "$WORK/peer-pandas.txt"; exit 1; }
report "pandas peer (python3 $(/usr/bin/python3 -c 'import pandas; print("pandas", pandas.__version__)'))" pandas
sed 's/^/  /' "$WORK/peer-pandas.txt"
python3 -c "import sys; p=float(open(sys.argv[1]).read()); print(f'ratio: fluxscore is {p/float(open(sys.argv[2]).read()):.0f}x (one thread) and {p/float(open(sys.argv[3]).read()):.0f}x (two threads) faster than the pandas peer')" \
  "$WORK/secs-pandas.txt" "$WORK/secs-fx1.txt" "$WORK/secs-fx2.txt"
