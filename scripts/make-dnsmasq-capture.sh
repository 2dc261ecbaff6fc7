#!/usr/bin/env bash
# Makes tests/data/dns/dnsmasq-12a.pcap: a capture of a real resolver (dnsmasq) answering
# flux.test.example with twelve A records (TTL 60), asked 20 times over UDP and 5 times over TCP.
#
# Usage: scripts/make-dnsmasq-capture.sh [OUTPUT.pcap]     (as root: tcpdump captures on lo)
# Needs dnsmasq (dnsmasq-base), tcpdump and dig (dnsutils / bind9-dnsutils).
# Re-runnable: takes the first free port from 53531 up, and stops what it started on exit.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/tests/data/dns/dnsmasq-12a.pcap}
name=flux.test.example
# Twelve addresses, each in a different /16 (private, shared and documentation ranges).
addrs=(10.1.0.1 10.2.0.1 172.16.5.9 172.17.6.1 192.168.7.3 198.18.1.1
       198.19.2.2 203.0.113.7 198.51.100.9 192.0.2.44 100.64.3.3 100.65.4.4)
udp_queries=20
tcp_queries=5

for tool in dnsmasq tcpdump dig; do
  command -v "$tool" >/dev/null 2>&1 || [[ -x /usr/sbin/$tool ]] || {
    echo "make-dnsmasq-capture: $tool is not installed" >&2
    exit 1
  }
done
DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
TCPDUMP=$(command -v tcpdump || echo /usr/sbin/tcpdump)

tmp=$(mktemp -d)
dnsmasq_pid=
tcpdump_pid=
cleanup() {
  for pid in $tcpdump_pid $dnsmasq_pid; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

host_records=()
for a in "${addrs[@]}"; do host_records+=("--host-record=$name,$a"); done

# dnsmasq in the foreground on 127.0.0.1; the first port it can bind.
port=
for p in $(seq 53531 53599); do
  "$DNSMASQ" --conf-file=/dev/null --no-resolv --no-hosts --no-daemon --pid-file= \
    --user=root --group=root --local-ttl=60 --port="$p" --listen-address=127.0.0.1 \
    --bind-interfaces "${host_records[@]}" >"$tmp/dnsmasq.log" 2>&1 &
  dnsmasq_pid=$!
  # Ready when it answers; gone when the port was taken.
  for _ in $(seq 50); do
    if ! kill -0 "$dnsmasq_pid" 2>/dev/null; then break; fi
    if dig @127.0.0.1 -p "$p" +time=1 +tries=1 +short "$name" A >/dev/null 2>&1; then
      port=$p
      break
    fi
    sleep 0.1
  done
  [[ -n $port ]] && break
  kill "$dnsmasq_pid" 2>/dev/null || true
  wait "$dnsmasq_pid" 2>/dev/null || true
  dnsmasq_pid=
done
if [[ -z $port ]]; then
  echo "make-dnsmasq-capture: dnsmasq did not start:" >&2
  cat "$tmp/dnsmasq.log" >&2
  exit 1
fi
echo "dnsmasq $("$DNSMASQ" --version | head -1 | awk '{print $3}') on 127.0.0.1:$port (pid $dnsmasq_pid)"

# tcpdump on lo, only this port; packet-buffered so that nothing is lost when it is stopped.
"$TCPDUMP" -i lo -n -U -Z root -w "$tmp/capture.pcap" "port $port" 2>"$tmp/tcpdump.log" &
tcpdump_pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$tmp/tcpdump.log" 2>/dev/null && break
  sleep 0.05
done
grep -q "listening on" "$tmp/tcpdump.log" || {
  echo "make-dnsmasq-capture: tcpdump did not start:" >&2
  cat "$tmp/tcpdump.log" >&2
  exit 1
}

# The queries; each answer checked: 12 A records, the 12 addresses, TTL 60.
expected=$(printf '%s\n' "${addrs[@]}" | sort)
ask() {  # ask N [+tcp]
  local i=$1 transport=${2:-}
  dig @127.0.0.1 -p "$port" +time=2 +tries=1 +noall +answer +nocookie $transport "$name" A \
    >"$tmp/answer.$i"
  local got ttls
  got=$(awk '$4 == "A" {print $5}' "$tmp/answer.$i" | sort)
  ttls=$(awk '$4 == "A" {print $2}' "$tmp/answer.$i" | sort -u)
  if [[ $got != "$expected" || $ttls != 60 ]]; then
    echo "make-dnsmasq-capture: unexpected answer $i ($transport):" >&2
    cat "$tmp/answer.$i" >&2
    exit 1
  fi
  awk '$4 == "A" {printf "%s ", $5} END {print ""}' "$tmp/answer.$i" >>"$tmp/orders"
}
for i in $(seq "$udp_queries"); do ask "u$i"; done
for i in $(seq "$tcp_queries"); do ask "t$i" +tcp; done

sleep 0.5
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" 2>/dev/null || true
tcpdump_pid=
cat "$tmp/tcpdump.log" | grep -E "packets (captured|dropped by kernel)" || true

mkdir -p "$(dirname "$out")"
cp "$tmp/capture.pcap" "$out"
echo "wrote $out ($(stat -c %s "$out") bytes): $udp_queries UDP + $tcp_queries TCP queries," \
  "each answered with ${#addrs[@]} A records, TTL 60"
echo "distinct answer orders: $(sort -u "$tmp/orders" | wc -l) of $((udp_queries + tcp_queries))"
