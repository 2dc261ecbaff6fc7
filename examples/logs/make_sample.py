#!/usr/bin/env python3
"""Writes examples/logs/sample-dns.log: a small, deterministic Zeek dns.log (TSV) for the README
and the CLI tests. One day of traffic from up to 80 clients for: a fast-flux domain answering with 5
addresses at a time from a pool of 60 residential addresses in many networks (TTL 150), a
CDN-like name (2 addresses in one /24, TTL 20, behind a CNAME), a classic round-robin site (4
addresses, TTL 3600), an NTP-pool-like name (4 of 30 volunteer addresses, TTL 150), NXDOMAINs,
and one IPv6 site. Addresses are example values, not real hosts' roles.
Usage: python3 examples/logs/make_sample.py > examples/logs/sample-dns.log"""
import random

rng = random.Random(7)
HEADER = """#separator \\x09
#set_separator\t,
#empty_field\t(empty)
#unset_field\t-
#path\tdns
#open\t2026-11-27-00-00-00
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\tcount\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\tvector[interval]\tbool"""

# Residential-looking pool spread over many /8s (values chosen for spread, not real hosts).
flux_pool = [f"{a}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
             for a in rng.sample([2, 5, 31, 37, 46, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87,
                                  88, 89, 91, 92, 93, 94, 95, 109, 176, 178, 188, 193, 194, 195,
                                  212, 213, 217, 24, 50, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75,
                                  76, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108,
                                  110], 60)]
ntp_pool = [f"{rng.choice([45, 51, 62, 85, 129, 139, 144, 162, 185, 193, 194, 195, 203, 209])}."
            f"{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(30)]
rows = []
t = 1795910400.0  # 2026-11-27 00:00:00 UTC
for i in range(400):
    t += rng.uniform(100, 300)
    client = f"10.20.{rng.randrange(2)}.{rng.randrange(1, 41)}"
    k = rng.random()
    if k < 0.15:
        q, qt, ans = "update-kjq3.ru", 1, rng.sample(flux_pool, 5)
        ttls = [150] * 5
    elif k < 0.45:
        q, qt = "www.shop-example.com", 1
        ans = ["www.shop-example.com.edgekey.example", "e1234.a.cdn-example.net",
               f"23.45.67.{rng.choice([10, 11, 12])}", f"23.45.67.{rng.choice([13, 14])}"]
        ttls = [600, 21600, 20, 20]
    elif k < 0.65:
        q, qt, ans, ttls = "www.example.com", 1, ["93.184.216.34"], [3600]
    elif k < 0.80:
        q, qt = "files.roundrobin-example.org", 1
        ans = [f"198.51.100.{x}" for x in rng.sample([10, 11, 12, 13], 4)]
        ttls = [3600] * 4
    elif k < 0.90:
        q, qt, ans = "2.pool.ntp.org", 1, rng.sample(ntp_pool, 4)
        ttls = [150] * 4
    elif k < 0.95:
        q, qt = "ipv6.example.net", 28
        ans = [f"2001:db8:{x}::1" for x in rng.sample([1, 2, 3, 4], 3)]
        ttls = [300] * 3
    else:
        q, qt, ans, ttls = f"x{rng.randrange(10**6)}.nonexistent-example.com", 1, [], []
    rcode, rname = (3, "NXDOMAIN") if not ans else (0, "NOERROR")
    qname = "A" if qt == 1 else "AAAA"
    rows.append("\t".join([
        f"{t:.6f}", f"C{rng.randrange(16**8):08x}", client, str(rng.randrange(1024, 65535)),
        "10.20.0.53", "53", "udp", str(rng.randrange(65536)), "0.012", q, "1", "C_INTERNET",
        str(qt), qname, str(rcode), rname, "F", "F", "T", "T", "0",
        ",".join(ans) if ans else "(empty)",
        ",".join(f"{x}.000000" for x in ttls) if ttls else "(empty)", "F"]))
print(HEADER)
print("\n".join(rows))
print("#close\t2026-11-28-00-00-00")
