#!/usr/bin/env bash
# The analyst's HTML report rendered by headless Chromium: asserts on the DOM after the page's
# JavaScript ran (charts, tree, detail panel), that hostile strings stay text, and that the script
# recorded no error. Also takes a screenshot.
# Usage: report_chromium_test.sh REPORT_WRITER_BINARY SOURCE_DIR
# The screenshot is copied to $FLUXSCORE_REPORT_OUT/report.png (default: the temp dir, removed).
set -u
bin=$1
src=${2:-}
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  chromium=$(command -v chromium || command -v chromium-browser || true)
fi
if [ -z "$chromium" ] || [ ! -x "$chromium" ]; then
  echo "FAIL: Chromium not found (looked for /usr/bin/chromium, chromium, chromium-browser)." >&2
  echo "      Install it (Debian: apt-get install chromium, see scripts/install-deps.sh)." >&2
  exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fluxscore-report-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
check() {  # check NAME COMMAND... : the command must succeed
  local name=$1
  shift
  if "$@"; then pass=$((pass + 1)); echo "ok   $name"; else fail=$((fail + 1)); echo "FAIL $name"; fi
}
has() { grep -qF -- "$2" "$1"; }            # has FILE STRING
lacks() { ! grep -qF -- "$2" "$1"; }        # lacks FILE STRING
count() { grep -oF -- "$2" "$1" | wc -l; }  # count FILE STRING
eq() { [ "$1" -eq "$2" ] || { echo "     expected $2, got $1"; return 1; }; }

# chrome_run NAME ARGS... : a fresh profile per run; stderr (dbus/GPU noise) kept for debugging.
chrome_run() {
  local name=$1
  shift
  local profile="$tmp/profile-$name"
  mkdir -p "$profile"
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-dev-shm-usage --user-data-dir="$profile" --virtual-time-budget=5000 "$@" \
    2>"$tmp/$name.stderr"
}
dump() {  # dump NAME URL : the rendered DOM into $tmp/NAME.dom
  chrome_run "$1" --dump-dom "$2" >"$tmp/$1.dom"
  local rc=$?
  if [ $rc -ne 0 ] || [ ! -s "$tmp/$1.dom" ]; then
    echo "     chromium exited $rc for $2; stderr:"
    tail -5 "$tmp/$1.stderr" | sed 's/^/     /'
  fi
}
rendered_ok() {  # the page's script ran to the end and recorded no error
  has "$1" 'data-rendered="ok"' && lacks "$1" 'data-error='
}

# 1. The sample report: 3 detections (one hostile), known networks/countries/TTLs, a tree.
"$bin" "$tmp/report.html"
check "writer exits 0" test $? -eq 0
check "report written" test -s "$tmp/report.html"
for bad in 'src="http' "src='http" 'href="http' "href='http" '@import' 'url(http' '<link rel="stylesheet'; do
  check "no external reference: $bad" lacks "$tmp/report.html" "$bad"
done
check "one document" eq "$(count "$tmp/report.html" '<html')" 1
check "JSON blob present" has "$tmp/report.html" '<script type="application/json" id="fluxscore-data">'

url="file://$tmp/report.html"
dump detail0 "$url#detail=0"
d="$tmp/detail0.dom"
check "dump-dom produced a document" has "$d" '</html>'
check "script finished without error" rendered_ok "$d"
check "3 detection rows" eq "$(count "$d" '<tr class="row ')" 3
check "detail 0 opened by the fragment" has "$d" 'data-detail="0"'
check "network bar AS12389 Rostelecom = 14" \
  has "$d" '<g class="bar" data-label="AS12389 Rostelecom" data-value="14">'
check "network bar tooltip" has "$d" '<title>AS12389 Rostelecom — 14 IPs</title>'
check "network bar AS8359 = 9" has "$d" 'data-label="AS8359 MTS PJSC" data-value="9"'
check "unknown network shown as unknown" has "$d" '<g class="bar unknown" data-label="unknown" data-value="3">'
check "country bar RU = 20" has "$d" '<g class="bar" data-label="RU" data-value="20">'
check "unknown country shown as unknown" has "$d" 'data-label="unknown" data-value="2"'
check "TTL bar 60 s = 120 answers" has "$d" 'data-label="TTL 60 s" data-value="120"'
check "TTL bar 300 s = 8 answers" has "$d" 'data-label="TTL 300 s" data-value="8"'
check "bars are SVG rects" eq "$(count "$d" '<rect ')" 8
check "three charts" eq "$(count "$d" '<figure class="chart" data-chart=')" 3
check "path step with the domain's value" has "$d" '<td class="cond">ttl_mean &lt;= 900</td><td class="mono">ttl_mean</td><td class="num">88.5</td>'
check "26 sample IPs listed" eq "$(grep -o '<ul class="ips">.*</ul>' "$d" | grep -o '<li>' | wc -l)" 26
check "7 tree nodes drawn" eq "$(count "$d" '<div class="node')" 7
check "4 nodes on the path highlighted" eq "$(count "$d" ' on-path')" 4
check "leaf on the path is the flux leaf" has "$d" 'class="node leaf leaf-flux on-path end"'
check "leaf flux share" has "$d" '97.0% flux'
check "hostile domain is text" has "$d" 'evil"&gt;&lt;script&gt;alert(1)&lt;/script&gt;.example'
check "no injected script element" eq "$(count "$d" '<script')" 2
check "no alert( in an element" lacks "$d" '<script>alert'
check "verdicts distinct" has "$d" '<span class="verdict benign">benign</span>'

# 2. The hostile detection opened: attacker-controlled org names end up as text / attribute.
dump detail1 "$url#detail=1"
d="$tmp/detail1.dom"
check "hostile detail: no error" rendered_ok "$d"
check "hostile detail opened" has "$d" 'data-detail="1"'
check "hostile org as escaped label" has "$d" 'data-label="AS64512 &lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;"'
check "hostile heading is text" has "$d" '<h3>evil"&gt;&lt;script&gt;alert(1)&lt;/script&gt;.example</h3>'
check "hostile detail: still 2 script elements" eq "$(count "$d" '<script')" 2
check "invalid UTF-8 shown as U+FFFD" has "$d" 'Café �� Net'
check "NaN value shown as missing" has "$d" '– (missing)'
check "country '<b>' stays text" has "$d" 'data-label="&lt;b&gt;" data-value="3"'
check "no <b> element injected" lacks "$d" '<b>'

# 3. Thousands of detections: 2000 embedded, the rest omitted with a note; still renders.
"$bin" "$tmp/many.html" --many 2500
dump many "file://$tmp/many.html#detail=1999"
d="$tmp/many.dom"
check "many: no error" rendered_ok "$d"
check "many: 2000 rows" eq "$(count "$d" '<tr class="row ')" 2000
check "many: omitted count stated" has "$d" '500 omitted'
check "many: only the opened row has charts" eq "$(count "$d" '<figure class="chart"')" 3
check "many: long TTL list capped with a note" has "$d" '+ 16 more TTL values'

# 4. No detections, and no tree.
"$bin" "$tmp/none.html" --many 0
dump none "file://$tmp/none.html"
check "none: no error" rendered_ok "$tmp/none.dom"
check "none: says no detections" has "$tmp/none.dom" 'No detections'
"$bin" "$tmp/notree.html" --no-tree
dump notree "file://$tmp/notree.html#detail=2"
check "no tree: no error" rendered_ok "$tmp/notree.dom"
check "no tree: says so" has "$tmp/notree.dom" 'id="no-tree"'
check "no tree: detail still drawn" has "$tmp/notree.dom" 'data-label="AS15133 Edgecast" data-value="2"'

# 5. Screenshot of the sample with the first detection open.
chrome_run shot --window-size=1280,2000 --screenshot="$tmp/report.png" "$url#detail=0" >/dev/null
check "screenshot written" test -s "$tmp/report.png"
size=$(stat -c %s "$tmp/report.png" 2>/dev/null || echo 0)
check "screenshot non-trivial (>30 kB, got $size)" test "$size" -gt 30000
check "screenshot is a PNG" test "$(head -c 8 "$tmp/report.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a
if [ -n "${FLUXSCORE_REPORT_OUT:-}" ]; then
  mkdir -p "$FLUXSCORE_REPORT_OUT"
  cp "$tmp/report.png" "$FLUXSCORE_REPORT_OUT/report.png.$$" &&
    mv -f "$FLUXSCORE_REPORT_OUT/report.png.$$" "$FLUXSCORE_REPORT_OUT/report.png"
  cp "$tmp/report.html" "$FLUXSCORE_REPORT_OUT/report.html.$$" &&
    mv -f "$FLUXSCORE_REPORT_OUT/report.html.$$" "$FLUXSCORE_REPORT_OUT/report.html"
  echo "     screenshot: $FLUXSCORE_REPORT_OUT/report.png"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
