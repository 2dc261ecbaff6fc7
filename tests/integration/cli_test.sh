#!/usr/bin/env bash
# End-to-end tests of the fluxscore CLI. Usage: cli_test.sh FLUXSCORE_BINARY SOURCE_DIR
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
model=$src/examples/models/fastflux_tree.pmml
data=$src/examples/data/domain_features.csv

# 1. Scoring the sample: exact rows for known domains.
"$bin" score --model "$model" --input "$data" --keep domain --output "$tmp/out.csv" 2>"$tmp/err.txt"
check "score exits 0" test $? -eq 0
check "header" grep -qx 'domain,label,probability_flux,confidence,node,holz_flagged' "$tmp/out.csv"
check "benign small domain" grep -qx 'www.example.com,benign,0.02,0.98,few-ips,false' "$tmp/out.csv"
check "flux domain" grep -q '^update-kjq3.ru,flux,0.948905109489051[0-9]*,0.95,short-ttl,true$' "$tmp/out.csv"
check "missing TTL takes defaultChild with penalty" \
  grep -q '^xz91ffa.info,flux,0.948905109489051[0-9]*,0.855,short-ttl,true$' "$tmp/out.csv"
check "row count" test "$(wc -l <"$tmp/out.csv")" -eq 11
check "summary on stderr" grep -q '10 rows read, 10 scored, 0 rejected' "$tmp/err.txt"

# 2. stdin/stdout and threads give the same bytes.
"$bin" score --model "$model" --input - --keep domain --threads 4 <"$data" >"$tmp/out2.csv" 2>/dev/null
check "stdin/stdout with 4 threads identical" cmp -s "$tmp/out.csv" "$tmp/out2.csv"

# 3. --missing: with only "?" as missing marker, the literal NA in ttl_mean is an invalid number,
#    which this model treats asMissing, so the result is unchanged.
"$bin" score --model "$model" --input "$data" --keep domain --missing '?,' >"$tmp/out3.csv" 2>/dev/null
check "--missing honoured" grep -q '^xz91ffa.info,flux,' "$tmp/out3.csv"

# 4. An invalid value under returnInvalid fails only that row, reported with its line.
printf 'distinct_ips,distinct_asns,distinct_countries,ttl_mean,tld\n3,1,1,60,com\n4.5,1,1,60,com\n' >"$tmp/bad.csv"
"$bin" score --model "$model" --input "$tmp/bad.csv" >"$tmp/out4.csv" 2>"$tmp/err4.txt"
check "row error exit 0" test $? -eq 0
check "row error reported with line" grep -q "bad.csv:3: row 2 not scored: invalid value '4.5' for field 'distinct_ips'" "$tmp/err4.txt"
check "row error summary" grep -q '2 rows read, 1 scored, 1 rejected' "$tmp/err4.txt"
check "rejected row has empty outputs" grep -qx ',,,,' "$tmp/out4.csv"

# 5. Bad model: clear error, exit 2.
printf '<PMML version="4.4"><DataDictionary/><TreeModel functionName="regression"><MiningSchema/>\n<Node><SimplePredicate field="x" operator="equal" value="1"/></Node></TreeModel></PMML>' >"$tmp/bad.pmml"
"$bin" score --model "$tmp/bad.pmml" --input "$data" >/dev/null 2>"$tmp/err5.txt"
check "bad model exit 2" test $? -eq 2
check "bad model message has line and path" grep -q "bad.pmml:2: /PMML/TreeModel/Node/SimplePredicate: reference to undefined field 'x'" "$tmp/err5.txt"

# 6. Missing input file: exit 2.
"$bin" score --model "$model" --input "$tmp/nope.csv" >/dev/null 2>"$tmp/err6.txt"
check "missing input exit 2" test $? -eq 2

# 7. inspect
"$bin" inspect "$model" >"$tmp/inspect.txt"
check "inspect exit 0" test $? -eq 0
check "inspect shows tree size" grep -q '8 nodes, 5 leaves, depth 4' "$tmp/inspect.txt"
check "inspect shows strategy" grep -q 'missing values: defaultChild (penalty 0.9)' "$tmp/inspect.txt"
printf '<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><DataDictionary/>\n<NeuralNetwork functionName="regression"/></PMML>' >"$tmp/nn.pmml"
"$bin" inspect "$tmp/nn.pmml" >"$tmp/inspect2.txt" 2>&1
check "inspect unsupported exit 2" test $? -eq 2
check "inspect names unsupported element" grep -q 'nn.pmml:2: /PMML/NeuralNetwork: model element <NeuralNetwork> is not supported' "$tmp/inspect2.txt"

# inspect lists every unsupported element, not only the first.
printf '<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><DataDictionary>\n<DataField name="a" optype="continuous" dataType="double"/></DataDictionary>\n<MiningModel functionName="regression"><MiningSchema><MiningField name="a"/></MiningSchema>\n<Segmentation multipleModelMethod="sum"><Segment><True/>\n<NeuralNetwork functionName="regression"/></Segment><Segment><True/>\n<Scorecard functionName="regression"/></Segment></Segmentation></MiningModel></PMML>' >"$tmp/two.pmml"
"$bin" inspect "$tmp/two.pmml" >"$tmp/inspect3.txt" 2>&1
check "inspect lists the first unsupported element" grep -q 'two.pmml:5: .*Segment\[1\]/NeuralNetwork' "$tmp/inspect3.txt"
check "inspect lists the second unsupported element" grep -q 'two.pmml:6: .*Segment\[2\]/Scorecard: <Scorecard> is not supported' "$tmp/inspect3.txt"

# 8. usage errors exit 2
"$bin" score >/dev/null 2>&1
check "usage error exit 2" test $? -eq 2
"$bin" --help >"$tmp/help.txt"
check "--help lists subcommands" grep -q 'conformance' "$tmp/help.txt"


# 9. features: DNS logs -> per-domain rows.
log=$src/examples/logs/sample-dns.log
"$bin" features "$log" --sample-cap 1 -o /dev/null >"$tmp/cap.txt" 2>&1
check "--sample-cap below 2 is a usage error (exit 2)" test $? -eq 2
check "--sample-cap names its range" grep -q 'sample-cap' "$tmp/cap.txt"
"$bin" features "$log" -o "$tmp/f.csv" 2>"$tmp/f.err"
check "features exits 0" test $? -eq 0
check "features header" grep -q '^domain,window_start,queries,clients,distinct_ips,distinct_24,distinct_16,prefix16_entropy,distinct_asns,distinct_countries,as_fraction,asn_entropy,country_entropy,answers_mean,answers_max,ip_growth_ratio,ttl_min,ttl_max,ttl_mean,ttl_std,ttl_distinct,ttl_changes,cname_depth,name_length,name_digit_ratio,name_vowel_ratio,name_entropy,name_word_ratio,name_labels,holz_score' "$tmp/f.csv"
check "flux domain row: 60 IPs in 60 /16s, TTL 150" grep -q '^update-kjq3.ru,1795910400,[0-9]*,[0-9]*,60,60,60,' "$tmp/f.csv"
check "prefilter drops single-IP names" bash -c "! grep -q '^www.example.com,' '$tmp/f.csv'"
check "features summary" grep -q '^400 records read, 400 used, 0 rejected' "$tmp/f.err"
gzip -c "$log" | "$bin" features - -q >"$tmp/f2.csv"
check "gzip on stdin gives the same rows" cmp -s "$tmp/f.csv" "$tmp/f2.csv"
"$bin" features "$log" --output-format jsonl -q >"$tmp/f.jsonl"
check "jsonl rows" test "$(wc -l <"$tmp/f.jsonl")" -eq "$(($(wc -l <"$tmp/f.csv") - 1))"
check "jsonl null for missing enrichment" grep -q '"distinct_asns":null' "$tmp/f.jsonl"
"$bin" features "$log" --asn-db "$src/tests/data/ipdb/asn.csv" --country-db "$src/tests/data/ipdb/country.csv" -q -o "$tmp/f3.csv"
check "enriched run fills ASN columns" bash -c "grep '^update-kjq3.ru,' '$tmp/f3.csv' | cut -d, -f9 | grep -qx '[0-9][0-9]*'"
"$bin" features --asn-db "$src/tests/data/ipdb/asn.csv" "$log" -q -o "$tmp/f4.csv"
check "options before the logs take one value each" test "$(wc -l <"$tmp/f4.csv")" -eq "$(wc -l <"$tmp/f.csv")"
"$bin" features "$src/tests/data/dns/dnsmasq-12a.pcap" --min-ips 1 -q -o "$tmp/p.csv"
check "dnsmasq capture: 25 queries, 12 IPs, TTL 60" grep -q '^flux.test.example,[0-9]*,25,1,12,12,' "$tmp/p.csv"
check "dnsmasq capture: TTLs" bash -c "grep '^flux.test.example,' '$tmp/p.csv' | cut -d, -f17-20 | grep -qx '60,60,60,0'"
printf '#separator \\x09\n#fields\tts\tquery\n1.0\tok.example\nnot-a-time\tx.example\n' >"$tmp/bad.log"
"$bin" features "$tmp/bad.log" --format zeek -q -o /dev/null
check "bad records alone do not fail the run" test $? -eq 0
"$bin" features "$tmp/bad.log" --format zeek --strict -o /dev/null 2>"$tmp/strict.err"
check "--strict exits 2" test $? -eq 2
check "--strict names file and line" grep -q "bad.log:4: bad ts" "$tmp/strict.err"
"$bin" features /nonexistent/dns.log -o /dev/null 2>"$tmp/nofile.err"
check "missing log exits 2" test $? -eq 2
check "missing log message" grep -q '/nonexistent/dns.log: cannot open' "$tmp/nofile.err"
"$bin" features "$log" --memory 1K -o /dev/null 2>"$tmp/mem.err"
check "memory budget exit 3" test $? -eq 3
check "memory budget message" grep -q 'memory budget exceeded' "$tmp/mem.err"
"$bin" features --help >"$tmp/fhelp.txt"
check "features --help lists --min-ips" grep -q -- '--min-ips' "$tmp/fhelp.txt"

# 10. simulate: deterministic labelled traffic that `features` reads without rejections.
#     Uses the real address data when fetched (data/ipdb), else the tiny test fixtures.
sim_db=(--asn-db "$src/tests/data/ipdb/asn.csv" --country-db "$src/tests/data/ipdb/country.csv")
if [ -f "$src/data/ipdb/asn-ipv4.csv" ] && [ -f "$src/data/ipdb/iptoasn-country.mmdb" ]; then
  sim_db=(--asn-db "$src/data/ipdb/asn-ipv4.csv" --asn-db "$src/data/ipdb/asn-ipv6.csv"
          --country-db "$src/data/ipdb/iptoasn-country.mmdb")
fi
"$bin" simulate --lines 20000 --seed 7 "${sim_db[@]}" -o "$tmp/sim1.log" --truth "$tmp/truth1.csv" 2>"$tmp/sim.err"
check "simulate exits 0" test $? -eq 0
"$bin" simulate --lines 20000 --seed 7 "${sim_db[@]}" -o "$tmp/sim2.log" --truth "$tmp/truth2.csv" -q
check "simulate: same seed, same log" cmp -s "$tmp/sim1.log" "$tmp/sim2.log"
check "simulate: same seed, same truth" cmp -s "$tmp/truth1.csv" "$tmp/truth2.csv"
check "simulate: 20000 records" test "$(grep -vc '^#' "$tmp/sim1.log")" -eq 20000
check "simulate: summary on stderr" grep -q '^20000 lines written' "$tmp/sim.err"
check "simulate: truth header" bash -c "head -1 '$tmp/truth1.csv' | grep -qx 'domain,class,label'"
"$bin" features "$tmp/sim1.log" "${sim_db[@]}" -o "$tmp/simf.csv" 2>"$tmp/simf.err"
check "features on simulated log: 0 rejected" grep -q '^20000 records read, 20000 used, 0 rejected' "$tmp/simf.err"
# --threads 2: with --memory 128M the record buffers are two sets of 4 MiB, handed to the drain
# thread several times over 200k lines (~20 MB encoded); the rows are those of one thread.
"$bin" simulate --lines 200000 --seed 11 "${sim_db[@]}" -q -o "$tmp/sim3.log"
"$bin" features "$tmp/sim3.log" "${sim_db[@]}" --memory 128M --threads 1 -q -o "$tmp/simt1.csv"
"$bin" features "$tmp/sim3.log" "${sim_db[@]}" --memory 128M --threads 2 -q -o "$tmp/simt2.csv"
check "features --threads 2 exits 0" test $? -eq 0
check "features --threads 1 and 2: same rows" cmp -s "$tmp/simt1.csv" "$tmp/simt2.csv"
check "features --threads: rows written" test "$(wc -l <"$tmp/simt2.csv")" -gt 100
"$bin" features "$tmp/sim3.log" --threads 3 -q -o /dev/null 2>"$tmp/thr.err"
check "features --threads 3 is a usage error (exit 2)" test $? -eq 2
"$bin" simulate --lines 3000 --seed 7 --format zeek-json "${sim_db[@]}" -q | "$bin" features - -q -o /dev/null 2>"$tmp/simj.err"
check "simulate --format zeek-json | features" test $? -eq 0
"$bin" simulate --lines 100 --mix bogus=1 "${sim_db[@]}" -q -o /dev/null 2>"$tmp/simbad.err"
check "simulate: bad --mix exits 2" test $? -eq 2

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
