"""`fluxscore features` against a second, independent implementation of docs/features.md:
bench/features_pandas.py (pandas, no shared code). Every row and all 38 columns must agree, and
so must the counts of records used and rejected, on hand-made edge cases and on simulated days,
in Zeek TSV and Zeek JSON.
Countries come from a range CSV made here from the real ASN ranges (a country per ASN: every
address of a range has one), since the reference reads no MaxMind DB."""
import csv
import json
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "bench"))
import features_pandas as ref  # noqa: E402

BIN = os.environ.get("FLUXSCORE_BIN", os.path.join(REPO, "build", "release", "fluxscore"))
ASN = [os.path.join(REPO, "data", "ipdb", "asn-ipv4.csv"), os.path.join(REPO, "data", "ipdb", "asn-ipv6.csv")]
HAVE_IPDB = all(os.path.exists(p) for p in ASN)

HEADER = ("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
          "#fields\tts\tuid\tid.orig_h\tquery\tqtype\trcode\tanswers\tTTLs\n")
# Cases: non-canonical IPv6 text (answers and clients), an upper-case name with a trailing dot,
# a CNAME before addresses, TXT and unknown-type data, NXDOMAIN, an unset client, answers and
# TTLs of different lengths, text that looks like an address and is not, a fractional TTL, an
# unset query name, a CNAME query, IPv4-mapped IPv6 answers and clients (the IPv4 address),
# private addresses (no ASN), and records in two windows of an hour.
EDGE = """\
100.5	C1	10.0.0.1	WWW.Flux.Example.	1	0	1.2.3.4,1.2.4.5,5.6.7.8	60.000000,60.000000,30.000000
100.7	C2	2001:DB8:0::1	www.flux.example	28	0	2001:db8::10,2001:0db8:0:0::10,2001:db8::11	60,60,60
100.7	C2b	2001:db8::1	www.flux.example	28	0	2606:4700:3033::ac43:34ee	20
101	C3	-	www.flux.example	1	0	cname.target.net,9.9.9.9,8.8.8.8	300,60,60
102	C4	10.0.0.2	www.flux.example	16	0	TXT 5 hello	60
103	C5	10.0.0.3	www.flux.example	1	3	-	-
104	C6	10.0.0.4	www.flux.example	1	0	1.2.3.4,1.2.3.5	60
105	C7	10.0.0.4	www.flux.example	1	0	1.2.3.999	60
106	C8	10.0.0.4	www.flux.example	1	0	1.2.3.7	6.5
107	C9	10.0.0.5	-	1	0	1.2.3.8	60
3700	C10	10.0.0.5	www.flux.example	1	0	7.7.7.7,7.7.8.8,7.8.8.8,<unknown type=99>	10,10,10,10
3701	C11	10.0.0.6	other.example	1	0	(empty)	(empty)
3702	C12	10.0.0.6	other.example	5	0	a.b.c,d.e.f	5,5
3703	C13	10.0.0.6	other.example	1	0	10.1.1.1,10.1.1.2,10.1.1.3,::ffff:10.9.1.4,::ffff:10.1.1.2	100,100,100,100,100
3704	C14	::ffff:10.0.0.6	other.example	1	0	10.1.1.1,10.1.2.1	900,3600
"""


C253 = ".".join(["c" * 63] * 3 + ["c" * 61])  # the longest name: 253 bytes


# The edge cases in Zeek JSON, with JSON's own: ts in ISO 8601, missing keys, null values (unset,
# as a missing key is: Zeek writes them with LogAscii::json_include_unset_fields=T), values of the
# wrong type, a truncated line, a line that is an array, a qtype beyond 16 bits.
EDGE_JSON = """\
{"ts":100.5,"id.orig_h":"10.0.0.1","query":"WWW.Flux.Example.","qtype":1,"rcode":0,"answers":["1.2.3.4","1.2.4.5","5.6.7.8"],"TTLs":[60.0,60.0,30.0]}
{"ts":"1970-01-01T00:01:41.500000Z","id.orig_h":"2001:DB8:0::1","query":"www.flux.example","qtype":28,"answers":["2001:db8::10","2001:0db8:0:0::10"],"TTLs":[60,60]}
{"ts":102,"query":"www.flux.example","qtype":1,"rcode":0,"answers":["cname.target.net","9.9.9.9"],"TTLs":[300.0,60.0]}
{"ts":103,"id.orig_h":null,"query":"www.flux.example","qtype":1,"rcode":3}
{"ts":104,"id.orig_h":"10.0.0.4","query":"www.flux.example","qtype":1,"answers":["1.2.3.4","1.2.3.5"],"TTLs":[60]}
{"ts":105,"id.orig_h":"10.0.0.4","query":"www.flux.example","qtype":1,"answers":["1.2.3.999"],"TTLs":[60]}
{"ts":106,"id.orig_h":"10.0.0.4","query":"www.flux.example","qtype":1,"answers":["1.2.3.7"],"TTLs":[6.5]}
{"ts":107,"id.orig_h":"10.0.0.5","qtype":1,"answers":["1.2.3.8"],"TTLs":[60]}
{"ts":108,"id.orig_h":"10.0.0.5","query":"www.flux.example","qtype":1,"answers":["1.2.3.9"],"TTLs":[60]
[1,2,3]
{"ts":3700,"id.orig_h":"10.0.0.5","query":"www.flux.example","qtype":1,"rcode":0,"answers":["7.7.7.7","7.7.8.8","<unknown type=99>"],"TTLs":[10,10,10]}
{"ts":"bogus","query":"www.flux.example"}
{"ts":109,"id.orig_h":"bogus","query":"www.flux.example","answers":["1.1.1.1"],"TTLs":[1]}
{"ts":110,"id.orig_h":"10.0.0.9","query":"www.flux.example","qtype":70000,"answers":["1.1.1.1"],"TTLs":[1]}
{"ts":111,"id.orig_h":"::ffff:10.0.0.5","query":"other.example","qtype":1,"answers":["10.1.1.1","::ffff:10.1.1.2","10.1.1.2"],"TTLs":[5,5,5]}
{"ts":112,"id.orig_h":"10.0.0.1","query":"other.example","qtype":null,"answers":["10.1.1.9"],"TTLs":[1]}
{"ts":113,"id.orig_h":"10.0.0.1","query":"other.example","rcode":null}
{"ts":114,"id.orig_h":"10.0.0.1","query":null}
{"ts":null,"id.orig_h":"10.0.0.1","query":"other.example"}
{"ts":115,"id.orig_h":"10.0.0.1","query":"other.example","answers":null,"TTLs":null,"id.resp_h":null}
"""


def names_log():
    """Query names, timestamps, TTLs and clients that are kept or rejected by the rules of
    docs/features.md: empty labels, a space, a 300-byte label, a 254-byte name, invalid UTF-8,
    upper-case non-ASCII (kept as it is), unset and empty names, a ts in exponent form and a
    negative one, a negative and an empty TTL, an unset qtype, a client that is not an address."""
    ok3 = "1.1.1.1,2.2.2.2,3.3.3.3\t1,1,1"
    names = ["A.B..", ".", "..", "a..b", "x y.com", "\u00dcn\u00ef.COM", "-", "(empty)", "a.b.c.",
             "a" * 300 + ".com", ".".join(["b" * 63] * 3 + ["b" * 62]), C253 + ".", C253, "\udcff.com",
             "ok\udcc3\udca9.com",
             # registered labels by the Public Suffix List: a two-label suffix, an exception to a
             # wildcard, a wildcard, a name that is a suffix, a private-section suffix, no rule
             "a.b.example.co.uk", "foo.city.kawasaki.jp", "x1.y.kawasaki.jp", "co.uk", "me.blogspot.com",
             "q9.unknowntld"]
    lines = [f"5\tC\t10.0.0.1\t{n}\t1\t0\t{ok3}" for n in names]
    lines += [f"1e3\tC\t10.0.0.1\tts.example\t1\t0\t{ok3}", f"-5\tC\t10.0.0.1\tts.example\t1\t0\t{ok3}",
              "7\tC\t10.0.0.1\tttl.example\t1\t0\t1.1.1.1,2.2.2.2,3.3.3.3\t1,-1,1",
              "9\tC\t10.0.0.1\tttl.example\t1\t0\t1.1.1.1,2.2.2.2,3.3.3.3\t1,,1",
              f"8\tC\t10.0.0.1\tttl.example\t-\t-\t{ok3}", "9\tC\tbogus\tttl.example\t1\t0\t1.1.1.1\t1"]
    return (HEADER + "\n".join(lines) + "\n").encode("utf-8", "surrogateescape")


def run_fluxscore(log, out, *flags):
    r = subprocess.run([BIN, "features", str(log), "-o", str(out), "--progress", "off", *flags],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    m = re.search(r"(\d+) records read, (\d+) used, (\d+) rejected", r.stderr)
    assert m, r.stderr
    return dict(read=int(m.group(1)), used=int(m.group(2)), rejected=int(m.group(3)))


@pytest.fixture(scope="module")
def country_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("ipdb") / "country.csv"
    codes = ["US", "DE", "RU", "CN", "BR", "UA", "RO", "IN", "FR", "NL", "GB", "TR"]
    with open(path, "w", newline="") as out:
        w = csv.writer(out)
        for src in ASN:
            with open(src, newline="") as f:
                for r in csv.reader(f):
                    w.writerow([r[0], r[1], codes[int(r[2]) % len(codes)]])
    return str(path)


def check_same(log, tmp_path, window=86400, min_ips=3, asn=True, country=None, key="fqdn"):
    flags = ["--window", str(window), "--min-ips", str(min_ips), "--sample-cap", "1048576", "--key", key]
    if asn:
        flags += [a for p in ASN for a in ("--asn-db", p)]
    if country:
        flags += ["--country-db", country]
    counts = run_fluxscore(log, tmp_path / "fluxscore.csv", *flags)
    stats = {}
    rows = ref.features(str(log), ASN if asn else (), window, min_ips, stats, [country] if country else [],
                        key_by=key)
    assert {k: stats[k] for k in counts} == counts
    assert ref.compare(rows, tmp_path / "fluxscore.csv") == []
    return rows


@pytest.mark.skipif(not HAVE_IPDB, reason="data/ipdb missing (scripts/fetch-ipdata.sh)")
@pytest.mark.parametrize("window", [86400, 3600])
def test_edge_cases(tmp_path, window, country_csv):
    log = tmp_path / "edge.log"
    log.write_text(HEADER + EDGE)
    rows = check_same(log, tmp_path, window=window, min_ips=1, country=country_csv)
    # the reference itself, on values worked out by hand (the day window): www.flux.example has
    # 7 records used (C1-C5, C10; C6-C9 rejected) and 11 addresses: 1.2.3.4 1.2.4.5 5.6.7.8
    # 2001:db8::10 (twice, in two spellings) 2001:db8::11 2606:4700:3033::ac43:34ee 9.9.9.9
    # 8.8.8.8 7.7.7.7 7.7.8.8 7.8.8.8 (1.2.3.5 came with a rejected record), 8 of them /24s;
    # one CNAME (C3); address TTLs from 10 (C10) to 60; at most 3 addresses in one record
    if window == 86400:
        www = rows[rows["domain"] == "www.flux.example"].iloc[0]
        assert (www["queries"], www["distinct_ips"], www["distinct_24"], www["cname_depth"]) == (7, 11, 8, 1)
        assert (www["ttl_min"], www["ttl_max"], www["answers_max"]) == (10, 60, 3)
    # other.example: 10.1.1.1 10.1.1.2 10.1.1.3 10.9.1.4 10.1.2.1 (::ffff:10.1.1.2 is 10.1.1.2),
    # in 3 /24s and 2 /16s; one client (::ffff:10.0.0.6 is 10.0.0.6)
    other = rows[rows["domain"] == "other.example"].iloc[-1]
    if window == 86400:
        assert (other["distinct_ips"], other["distinct_24"], other["distinct_16"], other["clients"]) == (5, 3, 2, 1)


def test_names_times_and_clients(tmp_path):
    log = tmp_path / "names.log"
    log.write_bytes(names_log())
    rows = check_same(log, tmp_path, min_ips=1, asn=False)
    # kept: a.b.c, the upper-case non-ASCII name (ASCII letters lower-cased only), the 253-byte
    # name with and without its dot (one key), the valid UTF-8 name, ts.example in two windows,
    # ttl.example
    by = rows.set_index("domain")
    assert rows["domain"].tolist() == [
        "ts.example", "a.b.c", "a.b.example.co.uk", C253, "co.uk", "foo.city.kawasaki.jp", "me.blogspot.com",
        "ok\u00e9.com", "q9.unknowntld", "ts.example", "ttl.example", "x1.y.kawasaki.jp", "\u00dcn\u00ef.com"]
    assert rows["queries"].tolist() == [1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1]  # ttl.example: one of four kept
    assert by.loc["ok\u00e9.com", "name_length"] == 8  # bytes (7 characters)
    # registered labels: example (a word), city (an exception: a word), x1 (a wildcard), co, me
    # (blogspot.com is a suffix), q9 (no rule: the last label is the suffix)
    assert by.loc["a.b.example.co.uk", "name_word_ratio"] == 1 and by.loc["a.b.example.co.uk", "name_vowel_ratio"] == 3 / 7
    assert by.loc["foo.city.kawasaki.jp", "name_word_ratio"] == 1
    assert by.loc["x1.y.kawasaki.jp", "name_digit_ratio"] == 0.5 and by.loc["q9.unknowntld", "name_digit_ratio"] == 0.5
    assert by.loc["co.uk", "name_entropy"] == 1 and by.loc["me.blogspot.com", "name_entropy"] == 1


@pytest.mark.skipif(not HAVE_IPDB, reason="data/ipdb missing (scripts/fetch-ipdata.sh)")
@pytest.mark.parametrize("seed,window,min_ips", [(11, 86400, 3), (12, 3600, 1)])
def test_simulated_day(tmp_path, seed, window, min_ips, country_csv):
    log = tmp_path / "sim.log"
    subprocess.run([BIN, "simulate", "--lines", "30000", "--seed", str(seed), "-q", "-o", str(log)], check=True,
                   cwd=REPO)
    rows = check_same(log, tmp_path, window=window, min_ips=min_ips, country=country_csv)
    assert len(rows) > 100 and rows["distinct_asns"].max() > 20  # flux domains among them
    assert rows["distinct_countries"].max() > 5 and rows["name_word_ratio"].max() == 1
    # The same day as Zeek writes it with the filter option tsv=T: one line of field names, no #
    # lines. The same rows.
    lines = log.read_text().splitlines(keepends=True)
    fields = next(x for x in lines if x.startswith("#fields\t"))[len("#fields\t"):]
    names_only = tmp_path / "sim-tsv-mode.log"
    names_only.write_text(fields + "".join(x for x in lines if not x.startswith("#")))
    same = check_same(names_only, tmp_path, window=window, min_ips=min_ips, country=country_csv)
    pd.testing.assert_frame_equal(same.reset_index(drop=True), rows.reset_index(drop=True))


@pytest.mark.skipif(not HAVE_IPDB, reason="data/ipdb missing (scripts/fetch-ipdata.sh)")
def test_zeek_json(tmp_path, country_csv):
    log = tmp_path / "edge.json"
    log.write_text(EDGE_JSON)
    rows = check_same(log, tmp_path, min_ips=1, country=country_csv)
    # other.example: 4 of 6 records (a null qtype and a null rcode are unset; a null query or ts
    # rejects the record, as a missing one does); www.flux.example: 5 of 14 (a null client is unset)
    assert rows["queries"].tolist() == [4, 5]
    assert rows["distinct_ips"].tolist() == [3, 7]  # ::ffff:10.1.1.2 is 10.1.1.2
    sim = tmp_path / "sim.json"
    subprocess.run([BIN, "simulate", "--lines", "30000", "--seed", "14", "--format", "zeek-json", "-q", "-o", str(sim)],
                   check=True, cwd=REPO)
    check_same(sim, tmp_path, window=3600, min_ips=1, country=country_csv)
    # The same day as Zeek writes it with LogAscii::json_timestamps=JSON::TS_MILLIS and
    # json_include_unset_fields=T, every seventh query unanswered (no rcode, rtt or answers: null).
    zeek = tmp_path / "sim-ms-nulls.json"
    with open(sim) as f, open(zeek, "w") as out:
        for i, line in enumerate(f):
            r = json.loads(line)
            r["ts"] = round(r["ts"] * 1000)
            if i % 7 == 0:
                r.update(rtt=None, rcode=None, rcode_name=None, answers=None, TTLs=None)
            out.write(json.dumps(r, separators=(",", ":")) + "\n")
    check_same(zeek, tmp_path, window=3600, min_ips=1, country=country_csv)
    assert run_fluxscore(zeek, tmp_path / "ms.csv")["used"] == 30000  # every record


@pytest.mark.skipif(not HAVE_IPDB, reason="data/ipdb missing (scripts/fetch-ipdata.sh)")
def test_registered_key(tmp_path, country_csv):
    log = tmp_path / "names.log"
    log.write_bytes(names_log())
    rows = check_same(log, tmp_path, min_ips=1, key="registered")
    # example.co.uk, city.kawasaki.jp, x1.y.kawasaki.jp, co.uk, me.blogspot.com, q9.unknowntld
    assert {"example.co.uk", "city.kawasaki.jp", "x1.y.kawasaki.jp", "co.uk", "me.blogspot.com",
            "q9.unknowntld", "b.c"} <= set(rows["domain"])
    sim = tmp_path / "sim.log"
    subprocess.run([BIN, "simulate", "--lines", "30000", "--seed", "13", "-q", "-o", str(sim)], check=True, cwd=REPO)
    check_same(sim, tmp_path, window=3600, min_ips=1, country=country_csv, key="registered")


def test_without_ip_data(tmp_path):
    log = tmp_path / "edge.log"
    log.write_text(HEADER + EDGE)
    rows = check_same(log, tmp_path, min_ips=1, asn=False)
    assert rows["distinct_asns"].isna().all() and rows["holz_score"].isna().all()
    assert rows["distinct_countries"].isna().all()


def test_compare_finds_a_changed_cell(tmp_path):
    log = tmp_path / "edge.log"
    log.write_text(HEADER + EDGE)
    run_fluxscore(log, tmp_path / "f.csv", "--min-ips", "1")
    rows = ref.features(str(log), (), 86400, 1)
    assert ref.compare(rows, tmp_path / "f.csv") == []
    fx = pd.read_csv(tmp_path / "f.csv", dtype={"domain": str})
    for col, delta in (("ttl_changes", 1), ("ttl_std", 1e-3), ("clients", 1), ("name_entropy", 1e-6)):
        bad = fx.copy()
        bad.loc[0, col] = bad.loc[0, col] + delta
        bad.to_csv(tmp_path / "bad.csv", index=False)
        problems = ref.compare(rows, tmp_path / "bad.csv")
        assert len(problems) == 1 and problems[0].startswith(col + ":"), problems
    assert np.isnan(rows["holz_score"]).all()
