#!/usr/bin/env bash
# End-to-end tests of `fluxscore detect` on the shipped sample log with the shipped default model
# and the real IP data (scripts/fetch-ipdata.sh), including the HTML report in headless Chromium.
# Usage: detect_test.sh FLUXSCORE_BINARY SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
check() {  # check NAME COMMAND... : the command must succeed
  local name=$1
  shift
  if "$@"; then pass=$((pass + 1)); echo "ok   $name"; else fail=$((fail + 1)); echo "FAIL $name"; fi
}
sample=$src/examples/logs/sample-flux.log.gz
truth=$src/examples/logs/sample-flux-truth.csv
ipdb=$src/data/ipdb
if [ ! -f "$ipdb/asn-ipv4.csv" ]; then
  echo "FAIL: $ipdb/asn-ipv4.csv missing: run scripts/fetch-ipdata.sh (scripts/test.sh does)" >&2
  exit 1
fi
py=/usr/bin/python3

# 1. The main job: default model, default IP data, table on stdout.
"$bin" detect "$sample" >"$tmp/table.txt" 2>"$tmp/table.err"
check "detect exits 0" test $? -eq 0
check "table header" grep -q 'domain .*verdict .*prob .*IPs .*ASNs' "$tmp/table.txt"
check "table has flux rows with their reasons" grep -q 'why: .* → flux' "$tmp/table.txt"
check "default IP data announced" grep -q "IP data: .*data/ipdb" "$tmp/table.err"
check "summary counts the records" grep -q '^[0-9]* records read, [0-9]* used, 0 rejected' "$tmp/table.err"
check "summary names the model and the flagged count" grep -q 'fast-flux.pmml: TreeModel .* flagged as flux' "$tmp/table.err"
check "peak memory reported" grep -q 'peak memory [0-9]* MiB' "$tmp/table.err"

# 2. CSV: every flagged domain is a flux domain of the ground truth, and most flux names are found.
"$bin" detect "$sample" --format csv -o "$tmp/d.csv" -q
check "csv header" bash -c "head -1 '$tmp/d.csv' | grep -qx 'domain,window_start,verdict,probability,distinct_ips,distinct_asns,distinct_countries,ttl_mean,networks,countries,ttls,sample_ips,decision_path'"
$py - "$tmp/d.csv" "$truth" <<'EOF' >"$tmp/quality.txt"
import csv, sys
det = list(csv.DictReader(open(sys.argv[1])))
truth = {r["domain"]: r for r in csv.DictReader(open(sys.argv[2]))}
flagged = [r["domain"] for r in det if r["verdict"] == "flux"]
wrong = [d for d in flagged if truth[d]["label"] != "flux"]
flux = [d for d, r in truth.items() if r["label"] == "flux"]
probs = [float(r["probability"]) for r in det]
print("flagged", len(flagged), "wrong", len(wrong), "flux_names", len(flux),
      "sorted", probs == sorted(probs, reverse=True),
      "paths", all(r["decision_path"].endswith("→ flux") for r in det),
      "evidence", all(r["networks"] and r["countries"] and r["ttls"] and r["sample_ips"] for r in det))
EOF
cat "$tmp/quality.txt"
check "only flux domains flagged" grep -q ' wrong 0 ' "$tmp/quality.txt"
check "flux domains found (>= 90% of the flux names in the log)" $py -c "
import sys; w = open('$tmp/quality.txt').read().split(); d = dict(zip(w[::2], w[1::2]))
sys.exit(0 if int(d['flagged']) >= 0.9 * int(d['flux_names']) and int(d['flagged']) > 0 else 1)"
check "sorted by probability" grep -q 'sorted True' "$tmp/quality.txt"
check "every row has its decision path" grep -q 'paths True' "$tmp/quality.txt"
check "every row has its evidence" grep -q 'evidence True' "$tmp/quality.txt"
"$bin" detect "$sample" --format csv -q >"$tmp/d2.csv"
check "same input, same bytes" cmp -s "$tmp/d.csv" "$tmp/d2.csv"

# 3. --all lists benign verdicts too; --exploded gives a column per class and per feature;
#    column names follow --label-col / --probability-col.
"$bin" detect "$sample" --all --exploded --label-col label --probability-col p --format csv -q -o "$tmp/all.csv" 2>/dev/null
check "--exploded header" bash -c "head -1 '$tmp/all.csv' | grep -q '^domain,window_start,label,p(benign),p(flux),queries,clients,distinct_ips,'"
$py - "$tmp/all.csv" <<'EOF' >"$tmp/all.txt"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
ok = all(abs(float(r["p(benign)"]) + float(r["p(flux)"]) - 1) < 1e-12 for r in rows)
print("rows", len(rows), "benign", sum(r["label"] == "benign" for r in rows), "sum1", ok)
EOF
check "--all includes benign rows" bash -c "! grep -q ' benign 0 ' '$tmp/all.txt'"
check "class probabilities sum to 1" grep -q 'sum1 True' "$tmp/all.txt"
scored=$(grep -o '[0-9]* domains scored' "$tmp/table.err" | cut -d' ' -f1)
check "--all has one row per scored domain" grep -q "^rows $scored " "$tmp/all.txt"

# 4. JSON lines: nested evidence and path.
"$bin" detect "$sample" --format jsonl -q >"$tmp/d.jsonl"
check "jsonl parses, with evidence and path" $py -c "
import json, sys
rows = [json.loads(l) for l in open('$tmp/d.jsonl')]
r = rows[0]
assert rows and r['verdict'] == 'flux' and 0.5 <= r['probability'] <= 1
assert r['evidence']['networks'][0]['ips'] >= 1 and r['evidence']['countries'] and r['evidence']['ttls']
assert r['decision_path'] and r['why'].endswith('flux') and 'distinct_ips' in r['features']
"

# 5. Bad models and bad usage: clear errors, exit 2.
cat >"$tmp/reg.pmml" <<'EOF'
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
<DataDictionary><DataField name="distinct_ips" optype="continuous" dataType="double"/>
<DataField name="y" optype="continuous" dataType="double"/></DataDictionary>
<RegressionModel functionName="regression"><MiningSchema><MiningField name="distinct_ips"/>
<MiningField name="y" usageType="target"/></MiningSchema>
<RegressionTable intercept="0"><NumericPredictor name="distinct_ips" coefficient="1"/></RegressionTable>
</RegressionModel></PMML>
EOF
"$bin" detect "$sample" --model "$tmp/reg.pmml" -q 2>"$tmp/reg.err" >/dev/null
check "regression model refused (exit 2)" test $? -eq 2
check "regression model message" grep -q 'must be a classification model' "$tmp/reg.err"
sed 's/"asn_entropy"/"tld"/g' "$src/models/fast-flux.pmml" >"$tmp/tld.pmml"
"$bin" detect "$sample" --model "$tmp/tld.pmml" -q 2>"$tmp/tld.err" >/dev/null
check "unknown input refused" grep -q "input field 'tld' is not a feature column" "$tmp/tld.err"
"$bin" detect "$sample" --flux-label evil -q 2>"$tmp/label.err" >/dev/null
check "unknown flux label refused" grep -q "no category 'evil' (categories: benign, flux)" "$tmp/label.err"
"$bin" detect "$sample" --format xml -q 2>/dev/null >/dev/null
check "bad --format exits 2" test $? -eq 2
"$bin" detect /nonexistent.log -q 2>"$tmp/nofile.err" >/dev/null
check "missing log exits 2" test $? -eq 2

# 6. The analyst's report, rendered by headless Chromium.
"$bin" detect "$sample" --report "$tmp/report.html" -q >/dev/null
check "report written" test -s "$tmp/report.html"
chromium=$(command -v chromium || true)
if [ -z "$chromium" ]; then
  echo "FAIL: chromium not found (scripts/install-deps.sh installs it)"
  fail=$((fail + 1))
else
  top=$(sed -n 2p "$tmp/d.csv" | cut -d, -f1)
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$tmp/chrome" --virtual-time-budget=5000 --dump-dom \
    "file://$tmp/report.html#detail=0" >"$tmp/report.dom" 2>/dev/null
  check "report rendered without script errors" bash -c "grep -q 'data-rendered=\"ok\"' '$tmp/report.dom' && ! grep -q 'data-error=' '$tmp/report.dom'"
  check "report shows the top detection" grep -q ">$top<" "$tmp/report.dom"
  check "report draws the networks chart for it" bash -c "grep -o '<svg[^>]*>' '$tmp/report.dom' | wc -l | awk '{exit !(\$1 >= 3)}'"
  check "report draws the tree" grep -q 'distinct_\|ip_growth_ratio\|clients' "$tmp/report.dom"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
