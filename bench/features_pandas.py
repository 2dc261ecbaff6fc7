#!/usr/bin/env python3
"""An independent pandas implementation of `fluxscore features` (docs/features.md) for Zeek
dns.log TSV and Zeek JSON lines: the speed peer of bench/dns_peer.sh and, in
tests/python/test_features_reference.py, a second reading of the definitions that the C++ rows
must equal.

It is written the way a researcher would write it in pandas (vectorised where pandas allows:
read_csv, explode, groupby; the Public Suffix List, the word search and IPv6 parsing per distinct
value in Python), shares no code with fluxscore, and computes all 38 of its columns.

Addresses compare as values, and an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4
address a.b.c.d, as in docs/features.md. Records fluxscore would reject (bad ts, no query name
or one that is not a DNS name, a client that is not an address, bad TTL, answers and TTLs of
different lengths, text that looks like an address but does not parse) are dropped and counted,
so the record counts can be compared too. IP data: range CSVs only (`start,end,asn[,org]`,
`start,end,country`; IPv4 and IPv6), not MaxMind DB files.

Scope: TSV with one header block (no concatenated files), no `\\xNN` escapes and lines that all
have the #fields count; JSON lines as Zeek writes them (Python's json module decides what is
malformed); exact sets: compare with `fluxscore features --sample-cap` above every key's
cardinality (ips_sampled is then 0).

    features_pandas.py LOG [--asn-db F ...] [--country-db F ...] [--window SECONDS] [--min-ips N]
                       [--key fqdn|registered] [--psl F] [--words F] [-o OUT.csv]
                       [--compare FLUXSCORE_CSV]
"""
import argparse
import bisect
import csv
import functools
import json
import ipaddress
import re
import sys
import time

import numpy as np
import pandas as pd

COLUMNS = [  # all of `fluxscore features`' columns, in its order
    "domain", "window_start", "queries", "clients", "distinct_ips", "distinct_24", "distinct_16",
    "prefix16_entropy", "distinct_asns", "distinct_countries", "as_fraction", "asn_entropy",
    "country_entropy", "answers_mean", "answers_max", "ip_growth_ratio", "ttl_min", "ttl_max", "ttl_mean",
    "ttl_std", "ttl_distinct", "ttl_changes", "cname_depth", "name_length", "name_digit_ratio",
    "name_vowel_ratio", "name_entropy", "name_word_ratio", "name_labels", "holz_score",
    "ttl_share_0_1", "ttl_share_1_10", "ttl_share_10_100", "ttl_share_100_300", "ttl_share_300_900",
    "ttl_share_900_inf", "unknown_asn_ips", "ips_sampled",
]
FLOAT_COLUMNS = {"prefix16_entropy", "as_fraction", "asn_entropy", "country_entropy", "answers_mean",
                 "ip_growth_ratio", "ttl_mean", "ttl_std", "holz_score", "name_digit_ratio", "name_vowel_ratio",
                 "name_entropy", "name_word_ratio"} | {c for c in COLUMNS if c.startswith("ttl_share")}
TTL_BINS = [0, 1, 10, 100, 300, 900, np.inf]
NAME_TYPES = {0, 1, 5, 28, 255}  # qtypes whose name answers are CNAMEs (docs/features.md)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ADDR_LIKE = re.compile(r"^(?:[0-9.]+|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*)$")


def read_header(path):
    """The `#` lines before the first record: separator, set separator, empty and unset marks,
    field names, and how many lines they take. Or the one line of field names (and the defaults)
    that Zeek writes with the filter option tsv=T."""
    h = {"sep": "\t", "set_sep": ",", "empty": "(empty)", "unset": "-", "fields": None, "lines": 0}
    unescape = lambda s: re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), s)
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            if h["lines"] == 0 and line.startswith("ts\t"):
                h["fields"], h["lines"] = line.rstrip("\n").split("\t"), 1
                break
            if not line.startswith("#"):
                break
            h["lines"] += 1
            line = line.rstrip("\n")
            if line.startswith("#separator "):
                h["sep"] = unescape(line[len("#separator "):])
                continue
            key, _, value = line.partition(h["sep"])
            if key == "#set_separator":
                h["set_sep"] = unescape(value)
            elif key == "#empty_field":
                h["empty"] = unescape(value)
            elif key == "#unset_field":
                h["unset"] = unescape(value)
            elif key == "#fields":
                h["fields"] = value.split(h["sep"])
    if not h["fields"]:
        raise ValueError(f"{path}: no #fields header")
    return h


V6_BASE = 1 << 32  # address ids: an IPv4 address is its 32-bit value, an IPv6 one V6_BASE + an index
_QUAD = r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$"


def parse_v4(texts):
    """Dotted quads of a Series of text as int64 (-1 where the text is not one); as Python's
    ipaddress reads them: four decimal octets of at most 255, no leading zero."""
    m = texts.str.extract(_QUAD)
    ok = m.notna().all(axis=1).to_numpy()
    out = np.full(len(texts), -1, dtype=np.int64)
    if ok.any():
        octets = m[ok]
        v = octets.astype(np.int64).to_numpy()
        lead0 = (octets.apply(lambda c: c.str.len() > 1) & octets.apply(lambda c: c.str.startswith("0"))).any(axis=1)
        good = (v <= 255).all(axis=1) & ~lead0.to_numpy()
        vals = (v[:, 0] << 24) | (v[:, 1] << 16) | (v[:, 2] << 8) | v[:, 3]
        idx = np.flatnonzero(ok)
        out[idx[good]] = vals[good]
    return out


class RangeTable:
    """The value of an address from one range CSV (`start,end,asn[,org]` or
    `start,end,country`; a country as a number): of the ranges containing it, the one with the
    greatest start; on equal starts the narrower; on identical ranges the later line. IPv4
    lookups vectorised (np.searchsorted), IPv6 ones through Python integers."""

    def __init__(self, path, kind="asn"):
        t = pd.read_csv(path, header=None, usecols=[0, 1, 2], names=["start", "end", "value"], dtype=str,
                        na_filter=False, comment=None)
        t["line"] = np.arange(len(t))
        if kind == "asn":
            t = t[pd.to_numeric(t["value"], errors="coerce").notna()]  # (a header line)
            t = t.assign(value=t["value"].astype(np.int64))
        else:  # a country code as a number: its two letters, upper-cased
            t = t[t["value"].str.fullmatch("[A-Za-z]{2}")]
            t = t.assign(value=t["value"].str.upper().map(lambda c: ord(c[0]) * 256 + ord(c[1])).astype(np.int64))
        self.v4 = self._sorted(t.assign(s=parse_v4(t["start"]), e=parse_v4(t["end"])).query("s >= 0 and e >= 0"))
        six = t[t["start"].str.contains(":", regex=False)]
        self.v6 = self._sorted(six.assign(s=[int(ipaddress.ip_address(x)) for x in six["start"]],
                                          e=[int(ipaddress.ip_address(x)) for x in six["end"]]))
        self.v6 = {k: list(v) for k, v in self.v6.items()}

    @staticmethod
    def _sorted(t):
        # by start, then wider first, then earlier line: among ranges with the same start the
        # winner is the last one containing the address
        t = t.assign(neg_e=-t["e"] if t["e"].dtype != object else [-x for x in t["e"]])
        t = t.sort_values(["s", "neg_e", "line"], kind="stable")
        e = t["e"].to_numpy()
        return {"s": t["s"].to_numpy(), "e": e, "max_e": np.maximum.accumulate(e) if len(e) else e,
                "value": t["value"].to_numpy()}

    @staticmethod
    def _walk(tab, x, j):
        while j >= 0 and tab["max_e"][j] >= x:  # no range at or before j contains x once max_e < x
            if tab["e"][j] >= x:
                return tab["value"][j]
            j -= 1
        return None

    def lookup_v4(self, x):
        """Values of int64 IPv4 addresses (float, NaN: no range)."""
        tab = self.v4
        j = np.searchsorted(tab["s"], x, side="right") - 1
        out = np.full(len(x), np.nan)
        if len(tab["s"]) == 0:
            return out
        jj = np.maximum(j, 0)
        hit = (j >= 0) & (tab["e"][jj] >= x)
        out[hit] = tab["value"][jj[hit]]
        for i in np.flatnonzero(~hit & (j >= 0) & (tab["max_e"][jj] >= x)):  # overlapping ranges
            a = self._walk(tab, x[i], j[i])
            out[i] = np.nan if a is None else a
        return out

    def lookup_v6(self, x):
        tab = self.v6
        a = self._walk(tab, x, bisect.bisect_right(tab["s"], x) - 1)
        return np.nan if a is None else a


def _canonical(text):
    """One text per address: IPv6 in its canonical form, ::ffff:a.b.c.d as a.b.c.d; None when
    the text is not an address."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    return str(ip.ipv4_mapped if ip.version == 6 and ip.ipv4_mapped is not None else ip)


@functools.lru_cache(maxsize=8)
def range_table(path, kind="asn"):
    return RangeTable(path, kind)


class Psl:
    """The Public Suffix List's algorithm (publicsuffix.org/list): the longest matching rule,
    "*.x" wildcards, "!x" exceptions (one label less), the default rule "*"; both sections."""

    def __init__(self, path):
        self.rules, self.wild, self.exc = set(), set(), set()
        with open(path, encoding="utf-8") as f:
            for line in f:
                words = line.split()
                if not words or words[0].startswith("//"):
                    continue
                r = words[0].translate(_ASCII_LOWER)
                if r.startswith("!"):
                    self.exc.add(r[1:])
                elif r.startswith("*."):
                    self.wild.add(r[2:])
                else:
                    self.rules.add(r)

    def registered(self, name):
        """Public suffix + one label; the name itself when nothing is left of its suffix."""
        labels = name.split(".")
        suffix = None
        for i in range(len(labels)):  # longest candidate first
            cand = ".".join(labels[i:])
            if cand in self.exc:
                suffix = len(labels) - i - 1
                break
            if cand in self.rules or (i + 1 < len(labels) and ".".join(labels[i + 1:]) in self.wild):
                suffix = len(labels) - i
                break
        if suffix is None:
            suffix = 1
        return name if suffix >= len(labels) else ".".join(labels[-suffix - 1:])


class Words:
    """Dictionary words (lower-cased, letters a-z only, at least 3 long)."""

    def __init__(self, path):
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            ws = (w.strip().translate(_ASCII_LOWER) for w in f)
            self.words = {w for w in ws if len(w) >= 3 and re.fullmatch("[a-z]+", w)}
        self.max_len = max(map(len, self.words))

    def longest(self, label):
        best = 0
        for i in range(len(label)):
            for j in range(i + max(3, best + 1), min(len(label), i + self.max_len) + 1):
                if label[i:j] in self.words:
                    best = j - i
        return best


@functools.lru_cache(maxsize=2)
def psl_and_words(psl_path, words_path):
    return Psl(psl_path), Words(words_path)


def name_features(domains, psl, words):
    """name_digit_ratio, name_vowel_ratio, name_entropy, name_word_ratio of the registered
    label (bytes), per distinct domain."""
    rows = []
    for d in domains:
        label = psl.registered(d).split(".")[0].encode("utf-8", "surrogateescape")
        n = len(label)
        counts = np.bincount(np.frombuffer(label, dtype=np.uint8), minlength=256)
        p = counts[counts > 0] / n
        text = label.decode("ascii", "replace")  # (a non-ASCII byte is no letter of a word)
        rows.append((d, sum(c in b"0123456789" for c in label) / n, sum(c in b"aeiou" for c in label) / n,
                     float(-(p * np.log2(p)).sum()), words.longest(text) / n))
    return pd.DataFrame(rows, columns=["domain", "name_digit_ratio", "name_vowel_ratio", "name_entropy",
                                       "name_word_ratio"])


def _entropy(counts, n):
    """Normalised entropy of groups of sizes `counts` (a Series indexed by key) over n members."""
    p = counts / n.reindex(counts.index.droplevel(-1)).to_numpy()
    h = (-(p * np.log2(p))).groupby(level=list(range(counts.index.nlevels - 1))).sum()
    nn = n.reindex(h.index)
    out = h / np.log2(nn.where(nn >= 2))
    return out.where(nn >= 2, 0.0)


_U16 = r"^[0-9]{1,5}$"


def _u16(texts, unset_mark):
    """qtype / rcode text: 0 when unset, else decimal digits up to 65535 (NaN: bad)."""
    t = texts.where(texts != unset_mark, "0")
    v = pd.to_numeric(t.where(t.str.match(_U16), None), errors="coerce")
    return v.where(v <= 65535)


def read_tsv(path):
    """A Zeek TSV log as the record columns: ts (float), client (text or None), query name
    (text; "" when unset or empty), qtype (number), answers and TTLs (lists of text), and the
    records rejected already (bad ts, no query name, bad qtype or rcode, answers and TTLs of
    different lengths)."""
    h = read_header(path)
    fields = h["fields"]
    want = ["ts", "id.orig_h", "query", "qtype", "rcode", "answers", "TTLs"]
    df = pd.read_csv(path, sep=h["sep"], names=fields, usecols=[f for f in want if f in fields],
                     skiprows=h["lines"], header=None, dtype=str, na_filter=False, quoting=csv.QUOTE_NONE,
                     engine="c", encoding="utf-8", encoding_errors="surrogateescape")
    for f in want:
        if f not in df:
            df[f] = h["unset"]
    df = df[~df["ts"].str.startswith("#")].reset_index(drop=True)  # (the #close trailer)
    unset, empty = h["unset"], h["empty"]
    ts = pd.to_numeric(df["ts"], errors="coerce")
    q = df["query"].where(~df["query"].isin([unset, empty, ""]), None)
    client = df["id.orig_h"].where(~df["id.orig_h"].isin([unset, ""]), None)
    qtype = _u16(df["qtype"], unset)
    rcode = _u16(df["rcode"], unset)
    answers = df["answers"].where(~df["answers"].isin([unset, empty]), "")
    ttls = df["TTLs"].where(~df["TTLs"].isin([unset, empty]), "")
    n_ans = answers.str.count(re.escape(h["set_sep"])) + (answers != "")
    n_ttl = ttls.str.count(re.escape(h["set_sep"])) + (ttls != "")
    split = lambda col: col.str.split(h["set_sep"], regex=False).where(col != "", pd.Series([[]] * len(col)))
    rejected = ts.isna() | q.isna() | qtype.isna() | rcode.isna() | (n_ans != n_ttl)
    return ts, client, q.fillna(""), qtype, split(answers), split(ttls), rejected


def read_json(path):
    """Zeek JSON lines as read_tsv's columns: ts as epoch seconds or ISO 8601 text; a missing key
    and a null value are unset (Zeek writes unset fields as null with
    LogAscii::json_include_unset_fields=T), as in fluxscore; a value of another wrong type rejects
    the record; a line that is not a JSON object is rejected."""
    rows, bad = [], []
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                r = json.loads(line)
                if not isinstance(r, dict):
                    raise ValueError("not an object")
            except ValueError:
                r = {}
                bad.append(len(rows))
            rows.append(r)
    cols = ["ts", "id.orig_h", "query", "qtype", "rcode", "answers", "TTLs"]
    df = pd.DataFrame({c: pd.Series([r.get(c) for r in rows], dtype=object) for c in cols})  # (as parsed)
    # a number is epoch seconds, or whole milliseconds when an integer of 12 or more digits (Zeek's
    # JSON::TS_MILLIS); true and false are not numbers
    as_seconds = lambda v: (v / 1000 if isinstance(v, int) and len(str(abs(v))) >= 12 else v) \
        if isinstance(v, (int, float)) and not isinstance(v, bool) else None
    ts = pd.to_numeric(df["ts"].map(as_seconds), errors="coerce")
    iso = df["ts"].map(lambda v: isinstance(v, str))
    if iso.any():
        t = pd.to_datetime(df["ts"][iso], utc=True, errors="coerce")
        ts[iso] = (t - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
    q = df["query"].where(df["query"].map(lambda v: isinstance(v, str) and v != ""), None)
    client = df["id.orig_h"].where(df["id.orig_h"].map(lambda v: isinstance(v, str)), None)
    # a client that is there (not null) but not a string is a bad client address
    present = lambda col: pd.Series([r.get(col) is not None for r in rows], dtype=bool)
    bad_client = df["id.orig_h"].map(lambda v: not isinstance(v, str)) & present("id.orig_h")
    # qtype / rcode: 0 when unset (missing or null), else an integer up to 65535
    num = lambda col: pd.to_numeric(df[col].where(df[col].map(lambda v: isinstance(v, int) and 0 <= v <= 65535)),
                                    errors="coerce").where(present(col), 0)
    qtype, rcode = num("qtype"), num("rcode")
    as_list = lambda col: df[col].map(lambda v: [x if isinstance(x, str) else repr(x) for x in v]
                                      if isinstance(v, list) else [])
    answers, ttls = as_list("answers"), as_list("TTLs")
    rejected = ts.isna() | q.isna() | qtype.isna() | rcode.isna() | (answers.map(len) != ttls.map(len)) | bad_client
    rejected[bad] = True
    return ts, client, q.fillna(""), qtype, answers, ttls, rejected


def features(path, asn_paths=(), window=86400, min_ips=3, stats=None, country_paths=(),
             psl_path="/usr/share/publicsuffix/public_suffix_list.dat", words_path="/usr/share/dict/words",
             key_by="fqdn"):
    """The feature rows of one Zeek log (TSV, or JSON lines when its first byte is `{`), sorted
    as fluxscore sorts them."""
    stats = {} if stats is None else stats
    t0 = time.perf_counter()
    with open(path, "rb") as f:
        is_json = f.read(1) == b"{"
    ts, client, q, qtype, answers, ttls, rejected = (read_json if is_json else read_tsv)(path)
    stats["read_s"] = time.perf_counter() - t0
    stats["read"] = len(ts)

    rec = pd.DataFrame({"ts": ts, "client": client, "qtype": qtype, "answers": answers, "ttls": ttls})
    n_ans = answers.map(len)
    name = q.str.translate(_ASCII_LOWER)
    name = name.where(~name.str.endswith("."), name.str[:-1])
    rec["domain"] = name
    # a name that cannot be a DNS name is rejected: after the dot is removed, 1 to 253 bytes,
    # labels of 1 to 63 bytes, no control characters or spaces, valid UTF-8 (read with
    # surrogateescape: an invalid byte is a lone surrogate)
    label_ok = ~name.str.contains(r"^$|^\.|\.\.|\.$|[^.]{64,}")  # in characters: bytes when ASCII
    non_ascii = name.str.contains("[^\x00-\x7f]")
    label_ok[non_ascii] = name[non_ascii].map(
        lambda n: all(1 <= len(x.encode("utf-8", "surrogateescape")) <= 63 for x in n.split(".")))
    nbytes = name.str.len()
    nbytes[non_ascii] = name[non_ascii].str.encode("utf-8", "surrogateescape").str.len()
    rejected |= ~label_ok.astype(bool) | (nbytes > 253) | name.str.contains("[\x00-\x20\x7f\udc80-\udcff]")
    if key_by == "registered":  # the key: the name's registered domain
        psl = psl_and_words(psl_path, words_path)[0]
        reg = {n: psl.registered(n) for n in pd.unique(name[~rejected])}
        rec["domain"] = name.map(reg)
    # clients by value (one text per address, None for text that is not one, once per distinct
    # text); a client that is not an address is rejected (an unset one is no client)
    canon = {c: _canonical(c) for c in pd.unique(client.dropna())}
    rec["client"] = client.map(canon)
    rejected |= client.notna() & rec["client"].isna()
    # the window from the integer seconds of ts (exact, no float rounding at a boundary)
    secs = np.floor(ts.fillna(0)).astype(np.int64)
    rec["window_start"] = secs // window * window

    # one row per answer
    ans = rec.loc[~rejected & (n_ans > 0), ["answers", "ttls", "qtype"]].explode(["answers", "ttls"])
    ans.index.name = "rec"
    ans = ans.reset_index()
    ttl = pd.to_numeric(ans["ttls"], errors="coerce")
    bad_ttl = ttl.isna() | (ttl < 0) | (ttl > 2147483647) | (ttl != np.floor(ttl))
    # answers: addresses (an id: an IPv4 address is its value, an IPv6 one V6_BASE + an index
    # of its canonical text, ::ffff:a.b.c.d is a.b.c.d; parsed once per distinct text), TXT /
    # unknown types, names (CNAMEs for the name-query types), or text that looks like an address
    # and does not parse (the record is rejected)
    addr_id = parse_v4(ans["answers"])
    maybe6 = (addr_id < 0) & ans["answers"].str.contains(":", regex=False).to_numpy()
    v6_ids, v6_ints = {}, {}  # text -> id; id -> 128-bit value (for the lookups)
    for text in pd.unique(ans["answers"][maybe6]):
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            continue
        if ip.version == 6 and ip.ipv4_mapped is not None:
            v6_ids[text] = int(ip.ipv4_mapped)
        else:
            v6_ids[text] = v6_ints.setdefault(int(ip), V6_BASE + len(v6_ints))
    v6_ints = {i: value for value, i in v6_ints.items()}
    addr_id[maybe6] = ans["answers"][maybe6].map(v6_ids).fillna(-1).astype(np.int64).to_numpy()
    ans["addr_id"] = addr_id
    ans["is_addr"] = addr_id >= 0
    ans["ttl"] = ttl
    looks = ans["answers"].str.match(_ADDR_LIKE) & ~ans["is_addr"]
    bad_rec = set(ans.loc[bad_ttl | looks, "rec"])
    rejected |= rec.index.isin(bad_rec)
    stats["rejected"] = int(rejected.sum())
    stats["used"] = stats["read"] - stats["rejected"]
    rec = rec[~rejected]
    ans = ans[~ans["rec"].isin(bad_rec)].copy()
    other = ~ans["answers"].str.startswith("TXT ") & ~ans["answers"].str.match(r"^<unknown type=.*>$")
    ans["cname"] = ~ans["is_addr"] & other & ans["qtype"].isin(NAME_TYPES)
    ans["ttl"] = ans["ttl"].astype(np.int64)
    ans["domain"] = rec.loc[ans["rec"], "domain"].to_numpy()
    ans["window_start"] = rec.loc[ans["rec"], "window_start"].to_numpy()
    key = ["window_start", "domain"]

    # per key: queries and clients
    g = rec.groupby(key, sort=False)
    out = pd.DataFrame({"queries": g.size()})
    out["clients"] = rec.groupby(key, sort=False)["client"].nunique()  # (NaN: no client)

    # per record: address answers and CNAMEs
    per_rec = ans.groupby("rec").agg(n_addr=("is_addr", "sum"), n_cname=("cname", "sum"))
    per_rec = per_rec.join(rec[key])
    with_addr = per_rec[per_rec["n_addr"] > 0]
    gr = with_addr.groupby(key, sort=False)
    out["answers_max"] = gr["n_addr"].max()
    out["answers_mean"] = gr["n_addr"].sum() / gr.size()
    out["cname_depth"] = per_rec.groupby(key, sort=False)["n_cname"].max()
    recs_with_addr = gr.size()

    # the key's distinct addresses
    addr = ans.loc[ans["is_addr"], key + ["ttl", "addr_id"]].rename(columns={"addr_id": "ip"})
    ips = addr.drop_duplicates(key + ["ip"])[key + ["ip"]]
    out["distinct_ips"] = ips.groupby(key, sort=False).size()
    v4 = ips[ips["ip"] < V6_BASE]
    v4 = v4.assign(p24=v4["ip"] // 256, p16=v4["ip"] // 65536)
    g4 = v4.groupby(key, sort=False)
    out["distinct_24"] = g4["p24"].nunique()
    out["distinct_16"] = g4["p16"].nunique()
    n4 = g4.size()
    out["prefix16_entropy"] = _entropy(v4.groupby(key + ["p16"]).size(), n4)
    out["ip_growth_ratio"] = out["distinct_ips"] / recs_with_addr

    # ASN and country of every distinct address; the first source with a match wins
    uniq = np.sort(ips["ip"].unique())
    is4 = uniq < V6_BASE
    for col, kind, paths in (("asn", "asn", asn_paths), ("country", "country", country_paths)):
        if not paths:
            continue
        val = np.full(len(uniq), np.nan)
        for path in paths:
            t = range_table(path, kind)
            todo = np.isnan(val) & is4
            val[todo] = t.lookup_v4(uniq[todo])
            for i in np.flatnonzero(np.isnan(val) & ~is4):
                val[i] = t.lookup_v6(v6_ints[int(uniq[i])])
        ips = ips.assign(**{col: val[np.searchsorted(uniq, ips["ip"].to_numpy())]})
        known = ips[ips[col].notna()]
        gk = known.groupby(key, sort=False)
        n_known = gk.size()
        if kind == "asn":
            out["distinct_asns"] = gk["asn"].nunique()
            out["as_fraction"] = out["distinct_asns"] / n_known
            out["asn_entropy"] = _entropy(known.groupby(key + ["asn"]).size(), n_known)  # (none known: 0, below)
            out["unknown_asn_ips"] = ips[ips["asn"].isna()].groupby(key, sort=False).size()
        else:
            out["distinct_countries"] = gk["country"].nunique()
            out["country_entropy"] = _entropy(known.groupby(key + ["country"]).size(), n_known)

    # TTLs of the address answers, each answer of each record once
    gt = addr.groupby(key, sort=False)["ttl"]
    out["ttl_min"] = gt.min()
    out["ttl_max"] = gt.max()
    out["ttl_mean"] = gt.mean()
    out["ttl_std"] = gt.std(ddof=0)
    out["ttl_distinct"] = gt.nunique()
    n_ttl_all = gt.size()
    bins = pd.cut(addr["ttl"], TTL_BINS, right=False, labels=False)
    shares = addr.assign(bin=bins).groupby(key + ["bin"]).size().unstack(fill_value=0)
    shares = shares.reindex(columns=range(len(TTL_BINS) - 1), fill_value=0)
    for i, name_ in enumerate(["0_1", "1_10", "10_100", "100_300", "300_900", "900_inf"]):
        out["ttl_share_" + name_] = shares[i] / n_ttl_all

    # TTL changes: records with address answers by time (ties: smaller TTL first), each as its
    # smallest address-answer TTL; neighbours that differ
    rec_ttl = ans[ans["is_addr"]].groupby("rec")["ttl"].min()
    seq = rec.loc[rec_ttl.index, key + ["ts"]].assign(ttl=rec_ttl.to_numpy())
    seq = seq.sort_values(key + ["ts", "ttl"], kind="stable")
    prev = seq.groupby(key, sort=False)["ttl"].shift()
    out["ttl_changes"] = (prev.notna() & (prev != seq["ttl"])).groupby([seq[k] for k in key], sort=False).sum()

    out = out.reset_index()
    out["distinct_ips"] = out["distinct_ips"].fillna(0)
    out = out[out["distinct_ips"] >= min_ips].copy()
    if asn_paths:
        for c in ("distinct_asns", "unknown_asn_ips", "asn_entropy"):
            out[c] = out[c].fillna(0)
        out["holz_score"] = 1.32 * out["distinct_ips"] + 18.54 * out["distinct_asns"]
    else:
        for c in ("distinct_asns", "as_fraction", "asn_entropy", "unknown_asn_ips", "holz_score"):
            out[c] = np.nan
    if country_paths:
        for c in ("distinct_countries", "country_entropy"):
            out[c] = out[c].fillna(0)
    else:
        for c in ("distinct_countries", "country_entropy"):
            out[c] = np.nan
    out["ips_sampled"] = 0  # exact sets only (see the module's docstring)
    for c in ("distinct_24", "distinct_16", "ttl_changes", "cname_depth", "prefix16_entropy"):
        out[c] = out[c].fillna(0)
    out["name_length"] = out["domain"].map(lambda n: len(n.encode("utf-8", "surrogateescape")))
    out["name_labels"] = out["domain"].str.count(r"\.") + 1
    if psl_path and words_path:
        psl, words = psl_and_words(psl_path, words_path)
        out = out.merge(name_features(out["domain"].unique(), psl, words), on="domain", how="left")
    else:
        for c in ("name_digit_ratio", "name_vowel_ratio", "name_entropy", "name_word_ratio"):
            out[c] = np.nan
    stats["rows"] = len(out)
    return out.sort_values(["window_start", "domain"])[COLUMNS].reset_index(drop=True)


def compare(ref, fluxscore_csv, rtol=1e-9):
    """Differences between the reference rows and a `fluxscore features` CSV, on the reference's
    columns: the same keys in the same order; counts exactly, ratios and means within rtol.
    Returns a list of messages (empty: equal)."""
    fx = pd.read_csv(fluxscore_csv, dtype={"domain": str}, keep_default_na=False, na_values=[""])
    problems = []
    if len(fx) != len(ref):
        problems.append(f"{len(ref)} rows here, {len(fx)} in {fluxscore_csv}")
    n = min(len(fx), len(ref))
    for c in COLUMNS:
        a, b = ref[c].iloc[:n].reset_index(drop=True), fx[c].iloc[:n].reset_index(drop=True)
        if c == "domain":
            bad = a != b
        else:
            a, b = a.astype(float).to_numpy(), b.astype(float).to_numpy()
            close = np.isclose(a, b, rtol=rtol, atol=rtol) if c in FLOAT_COLUMNS else a == b
            bad = pd.Series(~(close | (np.isnan(a) & np.isnan(b))))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            problems.append(f"{c}: {int(bad.sum())} rows differ, first {ref['domain'].iloc[i]} "
                            f"{ref['window_start'].iloc[i]}: {a[i]} here, {b[i]} in fluxscore")
    return problems


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("log")
    ap.add_argument("--asn-db", action="append", default=[], help="start,end,asn[,org] range CSV (repeatable)")
    ap.add_argument("--country-db", action="append", default=[], help="start,end,country range CSV (repeatable)")
    ap.add_argument("--psl", default="/usr/share/publicsuffix/public_suffix_list.dat")
    ap.add_argument("--words", default="/usr/share/dict/words")
    ap.add_argument("--window", type=int, default=86400, help="seconds (default 86400)")
    ap.add_argument("--key", choices=["fqdn", "registered"], default="fqdn")
    ap.add_argument("--min-ips", type=int, default=3)
    ap.add_argument("-o", "--output", default="-")
    ap.add_argument("--compare", metavar="FLUXSCORE_CSV",
                    help="check the rows against `fluxscore features` output (exit 1 on a difference)")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    stats = {}
    rows = features(a.log, a.asn_db, a.window, a.min_ips, stats, a.country_db, a.psl, a.words, a.key)
    rows.to_csv(sys.stdout if a.output == "-" else a.output, index=False)
    secs = time.perf_counter() - t0
    print(f"pandas reference: {stats['read']} records read, {stats['used']} used, {stats['rejected']} rejected; "
          f"{stats['rows']} rows; {secs:.2f} s = {stats['read'] / secs / 1e6:.3f} M lines/s "
          f"(of which reading the log {stats['read_s']:.2f} s)", file=sys.stderr)
    if a.compare:
        problems = compare(rows, a.compare)
        for p in problems:
            print("differs: " + p, file=sys.stderr)
        if problems:
            sys.exit(1)
        print(f"same rows as {a.compare} ({len(rows)} rows, {len(COLUMNS)} columns)", file=sys.stderr)


if __name__ == "__main__":
    main()
