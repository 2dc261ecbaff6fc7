// Per-domain features: hand-computed golden values, identical rows from every log format,
// exact merging of random splits, memory budget, hostile volumes.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <map>

#include <cstring>
#include <unistd.h>

#include <cmath>
#include <limits>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fluxscore/dns/enrich.h"
#include "fluxscore/dns/features.h"
#include "fluxscore/dns/ingest.h"
#include "../temp_files.h"

namespace fluxscore::dns {
namespace {


std::string TempFile(const std::string& name, const std::string& content) {
  return test::WriteTempFile(name, content);
}

const PublicSuffixList& Psl() {
  static PublicSuffixList psl = *PublicSuffixList::Load("/usr/share/publicsuffix/public_suffix_list.dat");
  return psl;
}
const WordList& Words() {
  static WordList w = *WordList::Load("/usr/share/dict/words");
  return w;
}

// A response as the test writes it in every format.
struct Rr {
  std::string type;  // A, AAAA, CNAME
  std::string owner, data;
  uint32_t ttl;
};
struct Resp {
  double ts;
  std::string client, qname;
  int qtype, rcode;
  std::vector<Rr> rrs;
};

std::string TsText(double ts) {
  char b[32];
  std::snprintf(b, sizeof b, "%.6f", ts);
  return b;
}

std::string AsZeekTsv(const std::vector<Resp>& rs) {
  std::string s =
      "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"
      "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tqtype\trcode\t"
      "answers\tTTLs\n";
  for (const Resp& r : rs) {
    std::string a, t;
    for (const Rr& rr : r.rrs) {
      a.append(a.empty() ? "" : ",").append(rr.data);
      t.append(t.empty() ? "" : ",").append(std::to_string(rr.ttl)).append(".000000");
    }
    s += TsText(r.ts) + "\tC1\t" + r.client + "\t4000\t10.53.0.1\t53\tudp\t" + r.qname + "\t" +
         std::to_string(r.qtype) + "\t" + std::to_string(r.rcode) + "\t" +
         (a.empty() ? "(empty)" : a) + "\t" + (t.empty() ? "(empty)" : t) + "\n";
  }
  return s;
}

// unset_as_null: every member of Zeek's dns.log, an unset one as null, as Zeek writes them with
// LogAscii::json_include_unset_fields=T (else an unset member is left out, Zeek's default).
std::string AsZeekJson(const std::vector<Resp>& rs, bool unset_as_null = false) {
  std::string s;
  for (const Resp& r : rs) {
    std::string a, t;
    for (const Rr& rr : r.rrs) {
      a.append(a.empty() ? "\"" : ",\"").append(rr.data).append("\"");
      t.append(t.empty() ? "" : ",").append(std::to_string(rr.ttl)).append(".0");
    }
    const std::string lists = r.rrs.empty() ? (unset_as_null ? ",\"answers\":null,\"TTLs\":null" : "")
                                            : ",\"answers\":[" + a + "],\"TTLs\":[" + t + "]";
    if (unset_as_null) {
      s += "{\"ts\":" + TsText(r.ts) + ",\"uid\":\"C1\",\"id.orig_h\":\"" + r.client +
           "\",\"id.orig_p\":4000,\"id.resp_h\":\"10.53.0.1\",\"id.resp_p\":53,\"proto\":\"udp\","
           "\"trans_id\":null,\"rtt\":null,\"query\":\"" + r.qname + "\",\"qclass\":null,\"qclass_name\":null,"
           "\"qtype\":" + std::to_string(r.qtype) + ",\"qtype_name\":null,\"rcode\":" + std::to_string(r.rcode) +
           ",\"rcode_name\":null,\"AA\":false,\"TC\":false,\"RD\":true,\"RA\":true,\"Z\":0" + lists +
           ",\"rejected\":false}\n";
      continue;
    }
    s += "{\"ts\":" + TsText(r.ts) + ",\"id.orig_h\":\"" + r.client +
         "\",\"id.resp_h\":\"10.53.0.1\",\"query\":\"" + r.qname + "\",\"qtype\":" +
         std::to_string(r.qtype) + ",\"rcode\":" + std::to_string(r.rcode) + lists + "}\n";
  }
  return s;
}

std::string AsPassiveDns(const std::vector<Resp>& rs) {
  std::string s;
  for (const Resp& r : rs) {
    const std::string head = TsText(r.ts) + "||" + r.client + "||10.53.0.1||IN||";
    if (r.rcode == 3) {
      s += head + r.qname + ".||" + (r.qtype == 28 ? "AAAA" : "A") + "||NXDOMAIN||0||1\n";
      continue;
    }
    for (const Rr& rr : r.rrs)
      s += head + rr.owner + ".||" + rr.type + "||" + rr.data + (rr.type == "CNAME" ? "." : "") +
           "||" + std::to_string(rr.ttl) + "||1\n";
  }
  return s;
}

// DNS wire name, no compression.
void PutName(std::string& m, const std::string& name) {
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    m.push_back(static_cast<char>(dot - start));
    m.append(name, start, dot - start);
    start = dot + 1;
  }
  m.push_back(0);
}
void Put16(std::string& m, uint32_t v) {
  m.push_back(static_cast<char>(v >> 8));
  m.push_back(static_cast<char>(v));
}
void Put32(std::string& m, uint32_t v) {
  Put16(m, v >> 16);
  Put16(m, v & 0xffff);
}
void PutLe32(std::string& m, uint32_t v) {
  for (int i = 0; i < 4; ++i) m.push_back(static_cast<char>(v >> (8 * i)));
}

// The responses as a classic pcap of Ethernet/IPv4/UDP packets from 10.53.0.1:53.
std::string AsPcap(const std::vector<Resp>& rs) {
  std::string f;
  PutLe32(f, 0xa1b2c3d4);
  f += std::string("\x02\x00\x04\x00", 4);  // version 2.4
  PutLe32(f, 0);
  PutLe32(f, 0);
  PutLe32(f, 65535);
  PutLe32(f, 1);  // Ethernet
  uint16_t id = 1;
  for (const Resp& r : rs) {
    std::string dns;
    Put16(dns, id++);
    Put16(dns, 0x8180 | static_cast<uint32_t>(r.rcode));
    Put16(dns, 1);
    Put16(dns, static_cast<uint32_t>(r.rrs.size()));
    Put16(dns, 0);
    Put16(dns, 0);
    PutName(dns, r.qname);
    Put16(dns, static_cast<uint32_t>(r.qtype));
    Put16(dns, 1);
    for (const Rr& rr : r.rrs) {
      PutName(dns, rr.owner);
      const uint32_t type = rr.type == "A" ? 1 : rr.type == "AAAA" ? 28 : 5;
      Put16(dns, type);
      Put16(dns, 1);
      Put32(dns, rr.ttl);
      std::string rdata;
      if (type == 1 || type == 28) {
        auto ip = IpAddr::Parse(rr.data);
        rdata = type == 1 ? std::string(reinterpret_cast<const char*>(ip->bytes.data()) + 12, 4)
                          : std::string(reinterpret_cast<const char*>(ip->bytes.data()), 16);
      } else {
        PutName(rdata, rr.data);
      }
      Put16(dns, static_cast<uint32_t>(rdata.size()));
      dns += rdata;
    }
    std::string udp;
    Put16(udp, 53);
    Put16(udp, 40000);
    Put16(udp, static_cast<uint32_t>(8 + dns.size()));
    Put16(udp, 0);
    udp += dns;
    std::string ip;
    ip.push_back(0x45);
    ip.push_back(0);
    Put16(ip, static_cast<uint32_t>(20 + udp.size()));
    Put32(ip, 0);
    ip.push_back(64);
    ip.push_back(17);
    Put16(ip, 0);
    Put32(ip, IpAddr::Parse("10.53.0.1")->v4());
    Put32(ip, IpAddr::Parse(r.client)->v4());
    ip += udp;
    std::string eth(12, '\x01');
    Put16(eth, 0x0800);
    eth += ip;
    const double whole = std::floor(r.ts);
    PutLe32(f, static_cast<uint32_t>(whole));
    PutLe32(f, static_cast<uint32_t>(std::lround((r.ts - whole) * 1e6)));
    PutLe32(f, static_cast<uint32_t>(eth.size()));
    PutLe32(f, static_cast<uint32_t>(eth.size()));
    f += eth;
  }
  return f;
}

// The golden traffic (window 1 day, all in the window starting at 0).
std::vector<Resp> Golden() {
  return {
      {1000, "10.0.0.1", "flux.example.net", 1, 0,
       {{"A", "flux.example.net", "1.1.1.1", 60}, {"A", "flux.example.net", "2.2.2.2", 60},
        {"A", "flux.example.net", "3.3.3.3", 60}}},
      {2000, "10.0.0.2", "flux.example.net", 1, 0,
       {{"A", "flux.example.net", "4.4.4.4", 120}, {"A", "flux.example.net", "1.1.1.1", 120}}},
      {3000, "10.0.0.1", "flux.example.net", 1, 0,
       {{"CNAME", "flux.example.net", "x.other.net", 300}, {"A", "x.other.net", "5.5.5.5", 60}}},
      {4000, "10.0.0.3", "flux.example.net", 1, 3, {}},
      {5000, "10.0.0.4", "small.example.com", 1, 0, {{"A", "small.example.com", "9.9.9.9", 30}}},
      {6000, "10.0.0.5", "v6.example.org", 28, 0,
       {{"AAAA", "v6.example.org", "2001:db8::1", 300}, {"AAAA", "v6.example.org", "2001:db8::2", 300},
        {"AAAA", "v6.example.org", "2001:db8:1::3", 900}}},
  };
}

Enricher GoldenEnricher() {
  Enricher e;
  std::string asn = TempFile("golden-asn.csv",
                             "1.0.0.0,1.255.255.255,100,Org One\n2.0.0.0,2.255.255.255,100,Org One\n"
                             "3.0.0.0,3.255.255.255,200,\"Two, Inc\"\n4.0.0.0,4.255.255.255,300,Three\n");
  std::string cc = TempFile("golden-cc.csv",
                            "1.0.0.0,1.255.255.255,US\n2.0.0.0,3.255.255.255,DE\n"
                            "4.0.0.0,5.255.255.255,RU\n");
  EXPECT_TRUE(e.AddAsnSource(asn).ok());
  EXPECT_TRUE(e.AddCountrySource(cc).ok());
  return e;
}

FeatureOptions Opts() {
  FeatureOptions o;
  o.psl = &Psl();
  return o;
}

double Col(const FeatureRow& r, std::string_view name) {
  const auto& cols = FeatureColumns();
  for (size_t i = 0; i < cols.size(); ++i)
    if (cols[i].name == name) return r.values[i];
  ADD_FAILURE() << "no column " << name;
  return NAN;
}

std::vector<FeatureRow> RowsOf(const std::string& path, const Enricher* e, FeatureOptions o = Opts()) {
  Aggregator agg(o);
  IngestStats stats;
  Status st = ReadLog(path, LogFormat::kAuto, agg, stats);
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(stats.rejected_total(), 0u) << path;
  return agg.Finish(e, &Words(), nullptr);
}

TEST(FeaturesTest, GoldenValuesComputedByHand) {
  Enricher e = GoldenEnricher();
  FinishStats fs;
  Aggregator agg(Opts());
  IngestStats stats;
  ASSERT_TRUE(ReadLog(TempFile("golden.log", AsZeekTsv(Golden())), LogFormat::kAuto, agg, stats).ok());
  std::vector<FeatureRow> rows = agg.Finish(&e, &Words(), &fs);
  EXPECT_EQ(fs.keys, 3u);
  EXPECT_EQ(fs.filtered, 1u);  // small.example.com: 1 address < 3
  ASSERT_EQ(rows.size(), 2u);
  const FeatureRow& f = rows[0];
  EXPECT_EQ(f.domain, "flux.example.net");
  EXPECT_EQ(f.window_start, 0);
  EXPECT_EQ(Col(f, "queries"), 4);
  EXPECT_EQ(Col(f, "clients"), 3);
  EXPECT_EQ(Col(f, "distinct_ips"), 5);
  EXPECT_EQ(Col(f, "distinct_24"), 5);
  EXPECT_EQ(Col(f, "distinct_16"), 5);
  EXPECT_DOUBLE_EQ(Col(f, "prefix16_entropy"), 1.0);
  EXPECT_EQ(Col(f, "distinct_asns"), 3);  // 5.5.5.5 has no ASN
  EXPECT_EQ(Col(f, "distinct_countries"), 3);
  EXPECT_DOUBLE_EQ(Col(f, "as_fraction"), 3.0 / 4.0);
  EXPECT_DOUBLE_EQ(Col(f, "asn_entropy"), 1.5 / 2.0);  // groups 2,1,1 of 4
  const double hc = -(0.2 * std::log2(0.2) + 2 * 0.4 * std::log2(0.4));
  EXPECT_NEAR(Col(f, "country_entropy"), hc / std::log2(5.0), 1e-15);
  EXPECT_DOUBLE_EQ(Col(f, "answers_mean"), 2.0);  // (3 + 2 + 1) / 3 records with addresses
  EXPECT_EQ(Col(f, "answers_max"), 3);
  EXPECT_DOUBLE_EQ(Col(f, "ip_growth_ratio"), 5.0 / 3.0);
  EXPECT_EQ(Col(f, "ttl_min"), 60);
  EXPECT_EQ(Col(f, "ttl_max"), 120);
  EXPECT_DOUBLE_EQ(Col(f, "ttl_mean"), 80.0);  // 60,60,60,120,120,60 (CNAME's 300 excluded)
  EXPECT_DOUBLE_EQ(Col(f, "ttl_std"), std::sqrt(800.0));
  EXPECT_EQ(Col(f, "ttl_distinct"), 2);
  EXPECT_EQ(Col(f, "ttl_changes"), 2);  // 60 -> 120 -> 60
  EXPECT_EQ(Col(f, "cname_depth"), 1);
  EXPECT_EQ(Col(f, "name_length"), 16);
  EXPECT_EQ(Col(f, "name_labels"), 3);
  EXPECT_DOUBLE_EQ(Col(f, "name_digit_ratio"), 0.0);
  EXPECT_DOUBLE_EQ(Col(f, "name_vowel_ratio"), 3.0 / 7.0);  // "example"
  EXPECT_NEAR(Col(f, "name_entropy"), (2.0 / 7) * std::log2(3.5) + (5.0 / 7) * std::log2(7.0), 1e-15);
  EXPECT_DOUBLE_EQ(Col(f, "name_word_ratio"), 1.0);
  EXPECT_DOUBLE_EQ(Col(f, "holz_score"), 1.32 * 5 + 18.54 * 3);
  EXPECT_DOUBLE_EQ(Col(f, "ttl_share_10_100"), 4.0 / 6.0);
  EXPECT_DOUBLE_EQ(Col(f, "ttl_share_100_300"), 2.0 / 6.0);
  EXPECT_DOUBLE_EQ(Col(f, "ttl_share_900_inf"), 0.0);
  EXPECT_EQ(Col(f, "unknown_asn_ips"), 1);
  EXPECT_EQ(Col(f, "ips_sampled"), 0);
  const FeatureRow& v6 = rows[1];
  EXPECT_EQ(v6.domain, "v6.example.org");
  EXPECT_EQ(Col(v6, "distinct_ips"), 3);
  EXPECT_EQ(Col(v6, "distinct_24"), 0);
  EXPECT_EQ(Col(v6, "prefix16_entropy"), 0);
  EXPECT_EQ(Col(v6, "distinct_asns"), 0);
  EXPECT_TRUE(std::isnan(Col(v6, "as_fraction")));
  EXPECT_EQ(Col(v6, "ttl_share_900_inf"), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(Col(v6, "name_word_ratio"), 1.0);  // registered label "example"
}

TEST(FeaturesTest, EveryFormatGivesTheSameRows) {
  Enricher e = GoldenEnricher();
  const auto tsv = RowsOf(TempFile("g.log", AsZeekTsv(Golden())), &e);
  const auto json = RowsOf(TempFile("g.json", AsZeekJson(Golden())), &e);
  const auto json_nulls = RowsOf(TempFile("g-nulls.json", AsZeekJson(Golden(), true)), &e);
  const auto pdns = RowsOf(TempFile("g.pdns", AsPassiveDns(Golden())), &e);
  const auto pcap = RowsOf(TempFile("g.pcap", AsPcap(Golden())), &e);
  std::ostringstream a, b, b2, c, d;
  WriteFeaturesCsv(tsv, a);
  WriteFeaturesCsv(json, b);
  WriteFeaturesCsv(json_nulls, b2);
  WriteFeaturesCsv(pdns, c);
  WriteFeaturesCsv(pcap, d);
  EXPECT_EQ(a.str(), b.str());
  EXPECT_EQ(a.str(), b2.str());
  EXPECT_EQ(a.str(), c.str());
  EXPECT_EQ(a.str(), d.str());
  EXPECT_EQ(tsv.size(), 2u);
}

// Random traffic: many domains, random addresses, TTLs, clients and times over three days.
std::vector<DnsRecord> RandomTraffic(uint32_t seed, size_t n) {
  std::mt19937_64 rng(seed);
  std::vector<DnsRecord> out;
  for (size_t i = 0; i < n; ++i) {
    DnsRecord r;
    r.ts = static_cast<double>(rng() % (3 * 86400)) + static_cast<double>(rng() % 1000000) / 1e6;
    r.qname = "d" + std::to_string(rng() % 40) + ".example.com";
    r.has_client = true;
    r.client = IpAddr::FromV4(0x0a000000u + static_cast<uint32_t>(rng() % 300));
    r.qtype = 1;
    r.rcode = 0;
    const size_t answers = rng() % 6;
    for (size_t k = 0; k < answers; ++k) {
      Answer a;
      a.ttl = static_cast<uint32_t>((rng() % 4) * 100 + (rng() % 2));
      if (rng() % 7 == 0) {
        a.type = kTypeCNAME;
        a.data = "c.example.net";
      } else {
        a.type = kTypeA;
        a.is_address = true;
        a.addr = IpAddr::FromV4(static_cast<uint32_t>(rng() % 5000) * 7919u + 0x01000000u);
        a.data = a.addr.ToString();
      }
      r.answers.push_back(a);
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::string Csv(const std::vector<FeatureRow>& rows) {
  std::ostringstream s;
  WriteFeaturesCsv(rows, s);
  return s.str();
}

// Evidence on demand (Aggregator::Evidence, what detect uses for the rows it shows) is the
// evidence Finish puts in each row with FeatureOptions::evidence, sampled sets included.
TEST(AggregatorTest, EvidenceOnDemandEqualsFinishEvidence) {
  Enricher e = GoldenEnricher();
  const std::vector<DnsRecord> traffic = RandomTraffic(17, 20000);
  for (uint32_t cap : {2048u, 5u}) {
    FeatureOptions o = Opts();
    o.sample_cap = cap;
    o.min_ips = 1;
    o.evidence = true;
    Aggregator agg(o);
    for (const DnsRecord& r : traffic) agg.Add(r);
    const std::vector<FeatureRow> rows = agg.Finish(&e, &Words(), nullptr);
    ASSERT_GT(rows.size(), 40u);
    size_t with_networks = 0;
    for (const FeatureRow& row : rows) {
      RowEvidence ev;
      ASSERT_TRUE(agg.Evidence(row.domain, row.window_start, &e, &ev)) << row.domain;
      const RowEvidence& want = row.evidence;
      ASSERT_EQ(ev.networks.size(), want.networks.size()) << row.domain;
      for (size_t i = 0; i < ev.networks.size(); ++i) {
        EXPECT_EQ(ev.networks[i].asn, want.networks[i].asn);
        EXPECT_EQ(ev.networks[i].org, want.networks[i].org);
        EXPECT_EQ(ev.networks[i].ips, want.networks[i].ips);
      }
      EXPECT_EQ(ev.countries, want.countries) << row.domain;
      EXPECT_EQ(ev.ttls, want.ttls) << row.domain;
      EXPECT_EQ(ev.ips, want.ips) << row.domain;
      with_networks += !ev.networks.empty() && !ev.ips.empty() && !ev.ttls.empty();
    }
    EXPECT_EQ(with_networks, rows.size());
    RowEvidence none;
    EXPECT_FALSE(agg.Evidence("not-aggregated.example", rows[0].window_start, &e, &none));
    EXPECT_FALSE(agg.Evidence(rows[0].domain, rows[0].window_start + 1, &e, &none));
  }
}

// `r` with 4000 IPv6 answers more: ~84 KB encoded, more than a 64 KiB shard buffer.
DnsRecord Oversized(DnsRecord r) {
  for (uint32_t k = 0; k < 4000; ++k) {
    Answer a;
    a.type = kTypeAAAA;
    a.is_address = true;
    a.addr = *IpAddr::Parse(fmt::format("2001:db8::{:x}:{:x}", k / 7, k));
    a.ttl = 30 + k % 3;
    r.answers.push_back(a);
  }
  return r;
}

// Add buffers records per key-hash shard and aggregates them shard after shard when a buffer is
// full (or before any read). Whatever the buffer size — one drain, many drains, a drain after
// every record (keys() drains) — and with a record larger than a whole shard buffer (aggregated
// on its own), the rows are those of one-at-a-time aggregation in record order.
TEST(AggregatorTest, ShardBuffersGiveTheOneAtATimeResult) {
  Enricher e = GoldenEnricher();
  for (uint32_t cap : {4096u, 16u}) {
    std::vector<DnsRecord> traffic = RandomTraffic(cap, 20000);
    const DnsRecord big = Oversized(traffic[100]);
    traffic.insert(traffic.begin() + 10000, big);
    FeatureOptions o = Opts();
    o.sample_cap = cap;
    o.min_ips = 1;
    FeatureOptions small = o;
    small.memory_budget = 16u << 20;  // 64 KiB shard buffers: many drains
    Aggregator one_drain(o), many(small), each(o);
    for (const DnsRecord& r : traffic) {
      one_drain.Add(r);
      many.Add(r);
      each.Add(r);
      ASSERT_GT(each.keys(), 0u);  // drains: this one aggregates record by record
    }
    const std::string want = Csv(each.Finish(&e, &Words(), nullptr));
    EXPECT_EQ(Csv(one_drain.Finish(&e, &Words(), nullptr)), want) << cap;
    EXPECT_EQ(Csv(many.Finish(&e, &Words(), nullptr)), want) << cap;
    EXPECT_NE(want.find(big.qname), std::string::npos);
    EXPECT_EQ(one_drain.Serialize().size(), each.Serialize().size());
  }
}

// With FeatureOptions::threads = 2 the buffers come in two sets: a full set is handed to a drain
// thread while Add fills the other. 300k records in 64 KiB shard buffers: dozens of hand-overs,
// a record larger than a shard buffer among them (the caller's thread waits for the drain
// thread, then aggregates it), public methods called while a drain may be running. Rows and
// serialized state are those of one thread, which are those of one-at-a-time aggregation.
TEST(AggregatorTest, DrainThreadGivesTheOneThreadResult) {
  Enricher e = GoldenEnricher();
  for (uint32_t cap : {4096u, 16u}) {
    std::vector<DnsRecord> traffic = RandomTraffic(cap + 1, 300000);
    const DnsRecord big = Oversized(traffic[100]);
    traffic.insert(traffic.begin() + 150000, big);
    FeatureOptions o = Opts();
    o.sample_cap = cap;
    o.min_ips = 1;
    o.memory_budget = 128u << 20;  // shard buffers of 128 KiB (one set), 64 KiB (two sets)
    FeatureOptions o2 = o;
    o2.threads = 2;
    Aggregator one(o), two(o2), asked(o2);
    for (size_t i = 0; i < traffic.size(); ++i) {
      one.Add(traffic[i]);
      two.Add(traffic[i]);
      asked.Add(traffic[i]);
      if (i % 4999 == 0) {
        ASSERT_GT(asked.keys(), 0u);
      }
    }
    const std::string want = Csv(one.Finish(&e, &Words(), nullptr));
    EXPECT_NE(want.find(big.qname), std::string::npos);
    EXPECT_EQ(Csv(two.Finish(&e, &Words(), nullptr)), want) << cap;
    EXPECT_EQ(Csv(asked.Finish(&e, &Words(), nullptr)), want) << cap;
    EXPECT_EQ(two.Serialize(), one.Serialize()) << cap;
    EXPECT_EQ(two.dropped_records(), 0u);
  }
}

TEST(AggregatorTest, MergeOfRandomSplitsEqualsOnePass) {
  Enricher e = GoldenEnricher();
  for (uint32_t cap : {4096u, 16u}) {  // exact sets, and sampled sets beyond 16 members
    for (uint32_t seed = 1; seed <= 5; ++seed) {
      FeatureOptions o = Opts();
      o.sample_cap = cap;
      o.min_ips = 1;
      const auto traffic = RandomTraffic(seed, 20000);
      Aggregator whole(o), a(o), b(o);
      std::mt19937 split(seed * 77);
      for (const DnsRecord& r : traffic) {
        whole.Add(r);
        (split() % 3 == 0 ? a : b).Add(r);
      }
      ASSERT_TRUE(a.Merge(b).ok());
      const std::string one = Csv(whole.Finish(&e, &Words(), nullptr));
      const std::string merged = Csv(a.Finish(&e, &Words(), nullptr));
      EXPECT_EQ(one, merged) << "cap " << cap << " seed " << seed;
      EXPECT_GT(one.size(), 1000u);
      if (cap == 16) {
        EXPECT_NE(one.find(",1\n"), std::string::npos);  // some keys sampled
      }
    }
  }
}

// Busy names repeat their answers: each key's records draw from a few answer lists (the same
// addresses in rotated orders, TTLs counting down), so the aggregator's "same answers as the
// key's previous record" shortcut fires often. Any order of the records, and any split merged
// back, must give the rows of the records in time order — exact sets and sampled ones alike.
TEST(AggregatorTest, RepeatedAnswerListsGiveTheSameRowsInAnyOrder) {
  Enricher e = GoldenEnricher();
  std::mt19937_64 rng(99);
  std::vector<DnsRecord> traffic;
  for (int i = 0; i < 30000; ++i) {
    DnsRecord r;
    r.ts = static_cast<double>(i) * 2.5;
    const uint32_t key = static_cast<uint32_t>(rng() % 25);
    r.qname = "busy" + std::to_string(key) + ".example.org";
    r.has_client = true;
    r.client = IpAddr::FromV4(0x0a000000u + static_cast<uint32_t>(rng() % 50));
    const uint32_t list = static_cast<uint32_t>(rng() % 4);
    const uint32_t size = 1 + (key + list) % 6;
    const uint32_t rot = static_cast<uint32_t>(rng() % size);
    const uint32_t ttl = 300 - static_cast<uint32_t>((i / 7) % 5);
    for (uint32_t k = 0; k < size; ++k) {
      Answer a;
      a.type = kTypeA;
      a.is_address = true;
      a.addr = IpAddr::FromV4(0x02000000u + key * 1000 + list * 10 + (k + rot) % size);
      a.data = a.addr.ToString();
      a.ttl = ttl + (rng() % 9 == 0 ? 1000 : 0);
      r.answers.push_back(a);
    }
    traffic.push_back(std::move(r));
  }
  for (uint32_t cap : {4096u, 16u, 3u}) {
    FeatureOptions o = Opts();
    o.sample_cap = cap;
    o.min_ips = 1;
    Aggregator in_order(o), reversed(o), shuffled(o), a(o), b(o);
    for (const DnsRecord& r : traffic) in_order.Add(r);
    for (auto it = traffic.rbegin(); it != traffic.rend(); ++it) reversed.Add(*it);
    std::vector<size_t> perm(traffic.size());
    for (size_t i = 0; i < perm.size(); ++i) perm[i] = i;
    std::shuffle(perm.begin(), perm.end(), rng);
    for (size_t i : perm) shuffled.Add(traffic[i]);
    for (size_t i = 0; i < traffic.size(); ++i) (i % 1000 < 500 ? a : b).Add(traffic[i]);
    ASSERT_TRUE(a.Merge(b).ok());
    const std::vector<FeatureRow> rows = in_order.Finish(&e, &Words(), nullptr);
    if (cap == 4096) {  // exact sets: the distinct counts of std::sets of the same traffic
      std::map<std::string, std::set<uint32_t>> ips, ttls, clients;
      for (const DnsRecord& r : traffic) {
        clients[r.qname].insert(r.client.v4());
        for (const Answer& a : r.answers) {
          ips[r.qname].insert(a.addr.v4());
          ttls[r.qname].insert(a.ttl);
        }
      }
      ASSERT_EQ(rows.size(), ips.size());
      for (const FeatureRow& f : rows) {
        EXPECT_EQ(Col(f, "distinct_ips"), static_cast<double>(ips[f.domain].size())) << f.domain;
        EXPECT_EQ(Col(f, "ttl_distinct"), static_cast<double>(ttls[f.domain].size())) << f.domain;
        EXPECT_EQ(Col(f, "clients"), static_cast<double>(clients[f.domain].size())) << f.domain;
      }
    }
    const std::string want = Csv(rows);
    EXPECT_EQ(Csv(reversed.Finish(&e, &Words(), nullptr)), want) << "cap " << cap;
    EXPECT_EQ(Csv(shuffled.Finish(&e, &Words(), nullptr)), want) << "cap " << cap;
    EXPECT_EQ(Csv(a.Finish(&e, &Words(), nullptr)), want) << "cap " << cap;
    EXPECT_GT(want.size(), 1000u);
  }
}

// A record of `qname` with one A answer (address and TTL as given).
DnsRecord OneA(std::string qname, uint32_t addr, uint32_t ttl = 0) {
  DnsRecord r;
  r.qname = std::move(qname);
  r.answers.resize(1);
  r.answers[0].type = kTypeA;
  r.answers[0].is_address = true;
  r.answers[0].addr = IpAddr::FromV4(addr);
  r.answers[0].ttl = ttl;
  return r;
}

// A name seen once is kept as its encoded record (a single) until Finish; its row, computed
// by hand here, must be that record's: duplicate answers counted once, the CNAME's TTL left out.
TEST(AggregatorTest, NameSeenOnceGivesTheRowOfItsRecord) {
  DnsRecord r = OneA("once.example.com", 0x0a000001, 300);
  r.ts = 86400.25;
  r.has_client = true;
  r.client = IpAddr::FromV4(0xc0a80001);
  Answer cname;
  cname.type = kTypeCNAME;
  cname.ttl = 7;
  r.answers.insert(r.answers.begin(), cname);
  for (uint32_t a : {0x0a000102u, 0x0a000001u}) {  // a new /24, then the first address again
    Answer x = r.answers[1];
    x.addr = IpAddr::FromV4(a);
    x.ttl = 60;
    r.answers.push_back(x);
  }
  Answer v6 = r.answers[1];
  v6.type = kTypeAAAA;
  v6.addr = *IpAddr::Parse("2001:db8::5");
  v6.ttl = 60;
  r.answers.push_back(v6);
  FeatureOptions o = Opts();
  o.min_ips = 3;
  Aggregator agg(o);
  agg.Add(r);
  agg.Add(OneA("other.example.com", 0x0b000001, 5));  // (one answer: below --min-ips)
  FinishStats st;
  const auto rows = agg.Finish(nullptr, nullptr, &st);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(st.filtered, 1u);
  const FeatureRow& row = rows[0];
  EXPECT_EQ(row.domain, "once.example.com");
  EXPECT_EQ(row.window_start, 86400);
  EXPECT_EQ(Col(row, "queries"), 1);
  EXPECT_EQ(Col(row, "clients"), 1);
  EXPECT_EQ(Col(row, "distinct_ips"), 3);  // 10.0.0.1 (twice), 10.0.1.2, 2001:db8::5
  EXPECT_EQ(Col(row, "distinct_24"), 2);
  EXPECT_EQ(Col(row, "distinct_16"), 1);
  EXPECT_EQ(Col(row, "answers_mean"), 4);  // four address answers
  EXPECT_EQ(Col(row, "answers_max"), 4);
  EXPECT_EQ(Col(row, "ip_growth_ratio"), 3);
  EXPECT_EQ(Col(row, "ttl_min"), 60);
  EXPECT_EQ(Col(row, "ttl_max"), 300);
  EXPECT_EQ(Col(row, "ttl_mean"), (300 + 60 + 60 + 60) / 4.0);
  EXPECT_EQ(Col(row, "ttl_distinct"), 2);
  EXPECT_EQ(Col(row, "ttl_changes"), 0);
  EXPECT_EQ(Col(row, "cname_depth"), 1);
  EXPECT_EQ(Col(row, "ttl_share_10_100"), 0.75);
  EXPECT_EQ(Col(row, "ttl_share_100_300"), 0);
  EXPECT_EQ(Col(row, "ttl_share_300_900"), 0.25);
  // The same record twice: no longer a single; its sets hold each value once.
  agg.Add(r);
  const auto twice = agg.Finish(nullptr, nullptr, nullptr);
  ASSERT_EQ(twice.size(), 1u);
  EXPECT_EQ(Col(twice[0], "queries"), 2);
  EXPECT_EQ(Col(twice[0], "distinct_ips"), 3);
  EXPECT_EQ(Col(twice[0], "answers_mean"), 4);
  EXPECT_EQ(Col(twice[0], "ttl_mean"), (300 + 60 + 60 + 60) / 4.0);
}

// Finish answers the prefilter for singles from their payload (address answers, distinct
// hashes) and replays them only for rows; an aggregation whose keys are all full states (made
// through Serialize + MergeSerialized) must give the same rows and counts, also for records
// with repeated answers and with more answers than the sample cap.
TEST(AggregatorTest, SinglesPassThePrefilterAsFullStatesDo) {
  Enricher e = GoldenEnricher();
  std::mt19937_64 rng(23);
  for (uint32_t cap : {2048u, 4u}) {
    FeatureOptions o = Opts();
    o.sample_cap = cap;
    o.min_ips = 3;
    Aggregator singles(o);
    for (int i = 0; i < 3000; ++i) {
      DnsRecord r = OneA(fmt::format("n{}.example.org", i), 0x0a000000u + static_cast<uint32_t>(rng() % 64), 60);
      r.ts = i;
      const size_t more = rng() % 8;  // 1..8 answers, drawn from 64 addresses: repeats
      for (size_t k = 0; k < more; ++k) {
        Answer a = r.answers[0];
        a.addr = IpAddr::FromV4(0x0a000000u + static_cast<uint32_t>(rng() % 64));
        a.ttl = 30 + static_cast<uint32_t>(rng() % 3);
        r.answers.push_back(a);
      }
      singles.Add(r);
    }
    Aggregator full(o);
    ASSERT_TRUE(full.MergeSerialized(singles.Serialize()).ok());
    FinishStats a, b;
    const std::string want = Csv(full.Finish(&e, &Words(), &b));
    EXPECT_EQ(Csv(singles.Finish(&e, &Words(), &a)), want) << cap;
    EXPECT_EQ(a.filtered, b.filtered);
    EXPECT_GT(a.filtered, 100u);
    EXPECT_GT(a.passed, 1000u);
    EXPECT_EQ(a.passed, b.passed);
  }
}

// With threads = 2 Finish computes the rows in chunks on two threads (a helper takes every other
// chunk and replays its singles into its own arena) and hands them over in order: 30k keys —
// singles and full states, sampled and exact sets, with and without evidence — give the rows and
// counts of one thread. A callback that throws stops both threads; the exception reaches the
// caller.
TEST(AggregatorTest, FinishOnTwoThreadsGivesTheOneThreadRows) {
  Enricher e = GoldenEnricher();
  std::mt19937_64 rng(23);
  std::vector<DnsRecord> traffic;
  for (size_t i = 0; i < 120000; ++i) {
    const uint64_t k = rng() % 30000;
    DnsRecord r = OneA(fmt::format("n{}.s{}.example.com", k, k % 97), 0, 60 + static_cast<uint32_t>(rng() % 3) * 240);
    r.ts = static_cast<double>(rng() % 86400);
    r.answers.clear();
    const size_t answers = 1 + rng() % 4;
    for (size_t a = 0; a < answers; ++a) {
      Answer ans;
      ans.type = kTypeA;
      ans.is_address = true;
      ans.addr = IpAddr::FromV4(static_cast<uint32_t>(rng() % (k % 7 == 0 ? 5000 : 40)) * 7919u + 0x01000000u);
      ans.ttl = 300;
      r.answers.push_back(ans);
    }
    traffic.push_back(std::move(r));
  }
  for (const bool evidence : {false, true}) {
    FeatureOptions o = Opts();
    o.min_ips = 1;
    o.sample_cap = 16;
    o.evidence = evidence;
    FeatureOptions o2 = o;
    o2.threads = 2;
    Aggregator one(o), two(o2);
    for (const DnsRecord& r : traffic) {
      one.Add(r);
      two.Add(r);
    }
    FinishStats st1, st2;
    const std::vector<FeatureRow> rows1 = one.Finish(&e, &Words(), &st1);
    const std::vector<FeatureRow> rows2 = two.Finish(&e, &Words(), &st2);
    ASSERT_GT(rows1.size(), 20000u);
    EXPECT_EQ(Csv(rows2), Csv(rows1)) << evidence;
    for (size_t i = 0; evidence && i < rows1.size(); ++i) {
      EXPECT_EQ(rows2[i].evidence.ips, rows1[i].evidence.ips) << i;
      EXPECT_EQ(rows2[i].evidence.ttls, rows1[i].evidence.ttls) << i;
      EXPECT_EQ(rows2[i].evidence.countries, rows1[i].evidence.countries) << i;
      ASSERT_EQ(rows2[i].evidence.networks.size(), rows1[i].evidence.networks.size()) << i;
    }
    EXPECT_EQ(st2.keys, st1.keys);
    EXPECT_EQ(st2.passed, st1.passed);
    EXPECT_EQ(st2.filtered, st1.filtered);
    EXPECT_EQ(st2.address_ips, st1.address_ips);
    EXPECT_EQ(st2.unknown_asn, st1.unknown_asn);
    EXPECT_EQ(st2.unknown_country, st1.unknown_country);
    EXPECT_EQ(st2.sampled_keys, st1.sampled_keys);
    EXPECT_GT(st1.sampled_keys, 0u);
    // A callback that throws, early (chunk 0) and late (a helper's chunk).
    for (const size_t at : {size_t{10}, size_t{5000}}) {
      size_t seen = 0;
      EXPECT_THROW(two.Finish(&e, &Words(), nullptr,
                              [&](const FeatureRow&) {
                                if (++seen == at) throw std::runtime_error("stop");
                              }),
                   std::runtime_error);
      EXPECT_EQ(seen, at);
    }
  }
}

TEST(AggregatorTest, AbsurdTimestampsFromTheApiDoNotOverflow) {
  FeatureOptions o = Opts();
  o.min_ips = 1;
  Aggregator agg(o);
  DnsRecord r = OneA("far.example", 0x01020304);
  for (double ts : {1e50, -1e50, 1e300, std::nan("")}) {
    r.ts = ts;
    agg.Add(r);
  }
  auto rows = agg.Finish(nullptr, nullptr, nullptr);
  EXPECT_EQ(rows.size(), 3u);  // clamped to the first / last representable windows, NaN to 0
}

TEST(AggregatorTest, SerializedPartitionsMergeToTheOnePassResult) {
  Enricher e = GoldenEnricher();
  for (uint32_t cap : {4096u, 16u}) {
    FeatureOptions o = Opts();
    o.sample_cap = cap;
    o.min_ips = 1;
    const auto traffic = RandomTraffic(3, 20000);
    Aggregator whole(o), a(o), b(o);
    std::mt19937 split(99);
    for (const DnsRecord& r : traffic) {
      whole.Add(r);
      (split() % 2 == 0 ? a : b).Add(r);
    }
    // Whole state through bytes.
    Aggregator c(o);
    ASSERT_TRUE(c.MergeSerialized(a.Serialize()).ok());
    ASSERT_TRUE(c.MergeSerialized(b.Serialize()).ok());
    const std::string one = Csv(whole.Finish(&e, &Words(), nullptr));
    EXPECT_EQ(Csv(c.Finish(&e, &Words(), nullptr)), one) << "cap " << cap;
    // A shuffle by domain: 3 reducers, each merging its part of a and of b.
    std::vector<FeatureRow> rows;
    size_t keys = 0;
    for (uint32_t part = 0; part < 3; ++part) {
      Aggregator r(o);
      ASSERT_TRUE(r.MergeSerialized(a.Serialize(part, 3)).ok());
      ASSERT_TRUE(r.MergeSerialized(b.Serialize(part, 3)).ok());
      keys += r.keys();
      EXPECT_GT(r.keys(), 0u);
      for (auto& row : r.Finish(&e, &Words(), nullptr)) rows.push_back(std::move(row));
    }
    EXPECT_EQ(keys, whole.keys());
    std::sort(rows.begin(), rows.end(), [](const FeatureRow& x, const FeatureRow& y) {
      return x.window_start != y.window_start ? x.window_start < y.window_start : x.domain < y.domain;
    });
    EXPECT_EQ(Csv(rows), one) << "cap " << cap;
  }
}

TEST(AggregatorTest, CorruptSerializedStateIsRefusedAndChangesNothing) {
  FeatureOptions o = Opts();
  o.min_ips = 1;
  const auto traffic = RandomTraffic(5, 300);
  Aggregator a(o);
  for (const DnsRecord& r : traffic) a.Add(r);
  const std::string bytes = a.Serialize();
  Aggregator target(o);
  for (size_t n = 0; n < bytes.size(); n += 1 + n / 50) {
    EXPECT_FALSE(target.MergeSerialized(std::string_view(bytes).substr(0, n)).ok()) << n;
  }
  EXPECT_EQ(target.keys(), 0u);
  std::mt19937 rng(7);
  for (int i = 0; i < 200; ++i) {  // random byte flips: refused or accepted, never a crash
    std::string bad = bytes;
    bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    Aggregator t(o);
    (void)t.MergeSerialized(bad);
  }
  FeatureOptions other = o;
  other.window_seconds = 3600;
  Aggregator h(other);
  Status st = h.MergeSerialized(bytes);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("window 86400 s"), std::string::npos) << st.message();
  EXPECT_FALSE(target.MergeSerialized("not a state").ok());
}

TEST(AggregatorTest, StateWhoseTtlDisagreesWithItsHashIsRefused) {
  // The state stores each sampled TTL beside its hash; the aggregator keeps only the hash and
  // recovers the TTL from it, so a TTL that does not match its hash is corruption.
  FeatureOptions o = Opts();
  o.min_ips = 1;
  Aggregator a(o);
  DnsRecord r = OneA("one.example.com", 0x0b000001u, 300);
  r.ts = 10;
  a.Add(r);
  const std::string bytes = a.Serialize();
  ASSERT_GE(bytes.size(), 4u);
  uint32_t ttl;
  std::memcpy(&ttl, bytes.data() + bytes.size() - 4, 4);  // the last member of the last TTL set
  EXPECT_EQ(ttl, 300u);
  Aggregator ok(o);
  ASSERT_TRUE(ok.MergeSerialized(bytes).ok());
  std::string bad = bytes;
  bad[bad.size() - 4] ^= 1;  // TTL 301 beside the hash of 300
  Aggregator t(o);
  Status st = t.MergeSerialized(bad);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("bad sample sets"), std::string::npos) << st.message();
}

TEST(AggregatorTest, SampledDistinctCountIsCloseAndMemoryStaysBounded) {
  FeatureOptions o = Opts();
  o.sample_cap = 1024;
  // (A small budget keeps the record buffers small — their size is a sixteenth of it, at least
  // 64 KiB a shard: what is measured below is the state.)
  o.memory_budget = 16u << 20;
  Aggregator agg(o);
  DnsRecord r = OneA("many.example.com", 0);
  for (uint32_t i = 0; i < 200000; ++i) {
    r.ts = i;
    r.answers[0].addr = IpAddr::FromV4(0x0b000000u + i);
    r.answers[0].ttl = 60 + i % 2;
    agg.Add(r);
  }
  auto rows = agg.Finish(nullptr, nullptr, nullptr);
  ASSERT_EQ(rows.size(), 3u);  // 200000 s spans three 1-day windows
  double total = 0;
  for (const auto& row : rows) {
    total += Col(row, "distinct_ips");
    EXPECT_EQ(Col(row, "ips_sampled"), 1);
  }
  EXPECT_NEAR(total, 200000, 200000 * 0.1);  // KMV with k = 1024: ~3% standard error
  EXPECT_LT(agg.approx_bytes(), 1u << 20);
}

TEST(AggregatorTest, MillionRandomSubdomainsStayWithinTheBudgetOrSaySo) {
  FeatureOptions o = Opts();
  o.memory_budget = 64u << 20;
  Aggregator agg(o);
  DnsRecord r = OneA("", 0x01020304);
  std::mt19937_64 rng(5);
  for (int i = 0; i < 1000000; ++i) {
    r.ts = i * 0.01;
    r.qname = std::to_string(rng()) + ".victim.example.com";
    agg.Add(r);
  }
  // 1M keys of a few hundred bytes each do not fit 64 MiB: the aggregator stops growing and
  // reports it instead of being killed.
  Status st = agg.budget_status();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("memory budget exceeded"), std::string::npos);
  EXPECT_GT(agg.dropped_records(), 0u);
  EXPECT_LT(agg.approx_bytes(), (64u << 20) + (8u << 20));
  // With the drains on a second thread (its second set of record buffers comes out of the same
  // budget, so the records dropped are not the same ones).
  {
    FeatureOptions o2 = o;
    o2.threads = 2;
    Aggregator agg2(o2);
    std::mt19937_64 rng2(5);
    for (int i = 0; i < 1000000; ++i) {
      r.ts = i * 0.01;
      r.qname = std::to_string(rng2()) + ".victim.example.com";
      agg2.Add(r);
    }
    const Status st2 = agg2.budget_status();
    ASSERT_FALSE(st2.ok());
    EXPECT_NE(st2.message().find("memory budget exceeded"), std::string::npos);
    EXPECT_GT(agg2.dropped_records(), 0u);
    EXPECT_EQ(agg2.dropped_records() + agg2.keys(), 1000000u);  // every record a new key
    EXPECT_LT(agg2.approx_bytes(), (64u << 20) + (8u << 20));
  }
  // With --key registered the same traffic is one key.
  o.key = KeyMode::kRegistered;
  Aggregator reg(o);
  for (int i = 0; i < 100000; ++i) {
    r.qname = std::to_string(rng()) + ".victim.example.com";
    reg.Add(r);
  }
  EXPECT_TRUE(reg.budget_status().ok());
  EXPECT_EQ(reg.keys(), 1u);
}

// Fractional columns print fmt's shortest round-trip text ("{}"), whole values included (they
// take an integer fast path): CSV and JSON lines both. One writer for all rows, the values twice:
// its memo of recent texts (by the value's bits, direct-mapped) is filled, hit and overwritten.
// Every column of every row against a second, deliberately naive implementation of
// docs/features.md (std::map/std::set per key, no sketches, no shortcuts), on random traffic
// that mixes names seen once (kept as encoded singles), busy names (full states, repeated
// answer lists), IPv4 and IPv6 answers with duplicates inside a record, CNAME and other
// non-address answers, records without addresses or clients, out-of-order timestamps with
// ties, addresses with and without a known ASN / country, and two windows. The name columns
// come from ComputeNameFeatures (tested on its own in LexicalTest); everything aggregated is
// recomputed here from the definitions. Counts must be equal; fractional columns equal to
// 1e-12 relative (the aggregator takes logs from a table and the TTL deviation from integer
// sums; the reference uses std::log2 and long double).
TEST(AggregatorTest, EveryColumnMatchesANaiveReferenceOfTheDefinitions) {
  Enricher e = GoldenEnricher();
  std::mt19937_64 rng(4242);
  auto pick = [&](uint64_t n) { return static_cast<uint32_t>(rng() % n); };
  const uint32_t ttl_values[] = {0, 1, 5, 9, 10, 60, 99, 100, 299, 300, 600, 899, 900, 3600, 86400};
  auto random_v4 = [&]() {
    // First octets 1..5 have an ASN and/or country in GoldenEnricher, 8 and 100 have neither;
    // few /16s and /24s so that prefixes repeat.
    const uint32_t first[] = {1, 2, 3, 4, 5, 8, 100};
    return IpAddr::FromV4(first[pick(7)] << 24 | pick(3) << 16 | pick(4) << 8 | pick(40));
  };
  auto record = [&](const std::string& name, double ts, bool busy) {
    DnsRecord r;
    r.ts = ts;
    r.qname = name;
    r.has_client = pick(10) != 0;
    if (r.has_client) r.client = IpAddr::FromV4(0x0a000000u + pick(busy ? 400 : 5));
    r.qtype = pick(4) == 0 ? 28 : 1;
    r.rcode = pick(8) == 0 ? 3 : 0;
    const size_t n = r.rcode == 3 ? 0 : pick(busy ? 9 : 7);
    for (size_t k = 0; k < n; ++k) {
      Answer a;
      a.ttl = ttl_values[pick(std::size(ttl_values))];
      const uint32_t kind = pick(10);
      if (kind == 0) {
        a.type = kTypeCNAME;
        a.data = "alias" + std::to_string(pick(3)) + ".example.net";
      } else if (kind == 1) {
        a.type = 16;  // TXT: neither an address nor a CNAME
        a.data = "v=spf1 -all";
      } else if (kind == 2 && !r.answers.empty() && r.answers.back().is_address) {
        a = r.answers.back();  // the same address twice in one record
      } else if (kind == 3) {
        a.type = kTypeAAAA;
        a.is_address = true;
        a.addr = *IpAddr::Parse(fmt::format("2001:db8:{:x}::{:x}", pick(3), pick(50)));
        a.data = a.addr.ToString();
      } else {
        a.type = kTypeA;
        a.is_address = true;
        a.addr = random_v4();
        a.data = a.addr.ToString();
      }
      r.answers.push_back(a);
    }
    return r;
  };
  std::vector<DnsRecord> traffic;
  for (int i = 0; i < 4000; ++i)  // names seen once (a few collide: seen twice or more)
    traffic.push_back(record(fmt::format("n{}.once{}.example.com", pick(3500), pick(2)),
                             pick(2 * 86400) + pick(4) * 0.25, false));
  for (int i = 0; i < 12000; ++i)  // busy names, timestamps in any order, ties (whole seconds)
    traffic.push_back(record(fmt::format("www.busy{}.co.uk", pick(30)), 86000 + pick(800), true));
  std::shuffle(traffic.begin(), traffic.end(), rng);

  // The reference: per (window, name), the definitions applied literally.
  struct Ref {
    uint64_t queries = 0, addr_records = 0, addr_answers = 0, answers_max = 0, cname_depth = 0;
    std::set<IpAddr> clients, ips;
    std::vector<uint32_t> ttls;                          // every address answer's TTL
    std::vector<std::pair<int64_t, uint32_t>> events;  // (time in µs, smallest TTL) per record
  };
  std::map<std::pair<int64_t, std::string>, Ref> ref;
  for (const DnsRecord& r : traffic) {
    const int64_t window = static_cast<int64_t>(std::floor(r.ts / 86400)) * 86400;
    Ref& k = ref[{window, r.qname}];
    ++k.queries;
    if (r.has_client) k.clients.insert(r.client);
    uint64_t addr = 0, cnames = 0;
    uint32_t smallest = UINT32_MAX;
    for (const Answer& a : r.answers) {
      cnames += a.type == kTypeCNAME;
      if (!a.is_address) continue;
      ++addr;
      k.ips.insert(a.addr);
      k.ttls.push_back(a.ttl);
      smallest = std::min(smallest, a.ttl);
    }
    k.answers_max = std::max(k.answers_max, addr);
    k.cname_depth = std::max(k.cname_depth, cnames);
    if (addr > 0) {
      ++k.addr_records;
      k.addr_answers += addr;
      k.events.push_back({static_cast<int64_t>(std::llround(r.ts * 1e6)), smallest});
    }
  }
  auto normalised_entropy = [](const std::map<uint64_t, uint64_t>& groups, uint64_t n) {
    if (n < 2) return 0.0;
    double h = 0;
    for (const auto& [g, c] : groups) {
      const double p = static_cast<double>(c) / static_cast<double>(n);
      h -= p * std::log2(p);
    }
    return h / std::log2(static_cast<double>(n));
  };

  for (uint32_t min_ips : {1u, 3u}) {
    FeatureOptions o = Opts();
    o.min_ips = min_ips;
    Aggregator agg(o);
    for (const DnsRecord& r : traffic) agg.Add(r);
    FinishStats st;
    const std::vector<FeatureRow> rows = agg.Finish(&e, &Words(), &st);
    size_t want_rows = 0, singles = 0;
    for (const auto& [key, k] : ref) {
      want_rows += k.ips.size() >= min_ips;
      singles += k.queries == 1 && k.ips.size() >= min_ips;
    }
    ASSERT_EQ(rows.size(), want_rows) << "min_ips " << min_ips;
    EXPECT_EQ(st.filtered, ref.size() - want_rows);
    EXPECT_GT(singles, 1000u);  // the rows of singles are exercised
    for (const FeatureRow& row : rows) {
      auto it = ref.find({row.window_start, row.domain});
      ASSERT_NE(it, ref.end()) << row.domain << " " << row.window_start;
      const Ref& k = it->second;
      std::map<std::string, double> want;
      want["queries"] = static_cast<double>(k.queries);
      want["clients"] = static_cast<double>(k.clients.size());
      want["distinct_ips"] = static_cast<double>(k.ips.size());
      std::set<uint32_t> p24, p16;
      std::map<uint64_t, uint64_t> by16, by_asn, by_country;
      uint64_t v4 = 0, known_asn = 0, known_country = 0;
      for (const IpAddr& ip : k.ips) {
        if (ip.is_v4()) {
          ++v4;
          p24.insert(ip.v4() >> 8);
          p16.insert(ip.v4() >> 16);
          ++by16[ip.v4() >> 16];
        }
        if (auto h = e.Asn(ip)) {
          ++known_asn;
          ++by_asn[h->asn];
        }
        if (auto c = e.Country(ip)) {
          ++known_country;
          ++by_country[static_cast<uint64_t>((*c)[0]) << 8 | static_cast<uint64_t>((*c)[1])];
        }
      }
      want["distinct_24"] = static_cast<double>(p24.size());
      want["distinct_16"] = static_cast<double>(p16.size());
      want["prefix16_entropy"] = normalised_entropy(by16, v4);
      want["distinct_asns"] = static_cast<double>(by_asn.size());
      want["distinct_countries"] = static_cast<double>(by_country.size());
      want["as_fraction"] = known_asn > 0 ? static_cast<double>(by_asn.size()) / static_cast<double>(known_asn) : NAN;
      want["asn_entropy"] = normalised_entropy(by_asn, known_asn);
      want["country_entropy"] = normalised_entropy(by_country, known_country);
      const bool any = k.addr_records > 0;
      want["answers_mean"] = any ? static_cast<double>(k.addr_answers) / static_cast<double>(k.addr_records) : NAN;
      want["answers_max"] = static_cast<double>(k.answers_max);
      want["ip_growth_ratio"] = any ? static_cast<double>(k.ips.size()) / static_cast<double>(k.addr_records) : NAN;
      const char* ttl_cols[] = {"ttl_min", "ttl_max", "ttl_mean", "ttl_std", "ttl_distinct", "ttl_changes"};
      for (const char* c : ttl_cols) want[c] = NAN;
      if (any) {
        long double sum = 0;
        for (uint32_t t : k.ttls) sum += t;
        const long double mean = sum / k.ttls.size();
        long double var = 0;
        for (uint32_t t : k.ttls) var += (t - mean) * (t - mean);
        want["ttl_min"] = *std::min_element(k.ttls.begin(), k.ttls.end());
        want["ttl_max"] = *std::max_element(k.ttls.begin(), k.ttls.end());
        want["ttl_mean"] = static_cast<double>(mean);
        want["ttl_std"] = static_cast<double>(std::sqrt(var / k.ttls.size()));
        want["ttl_distinct"] = static_cast<double>(std::set<uint32_t>(k.ttls.begin(), k.ttls.end()).size());
        auto events = k.events;
        std::sort(events.begin(), events.end());  // by time, ties: smaller TTL first
        uint64_t changes = 0;
        for (size_t i = 1; i < events.size(); ++i) changes += events[i].second != events[i - 1].second;
        want["ttl_changes"] = static_cast<double>(changes);
      }
      want["cname_depth"] = static_cast<double>(k.cname_depth);
      const NameFeatures nf = ComputeNameFeatures(row.domain, &Psl(), &Words());
      want["name_length"] = static_cast<double>(row.domain.size());
      want["name_digit_ratio"] = nf.digit_ratio;
      want["name_vowel_ratio"] = nf.vowel_ratio;
      want["name_entropy"] = nf.entropy;
      want["name_word_ratio"] = nf.word_ratio;
      want["name_labels"] = static_cast<double>(std::count(row.domain.begin(), row.domain.end(), '.') + 1);
      want["holz_score"] = 1.32 * static_cast<double>(k.ips.size()) + 18.54 * static_cast<double>(by_asn.size());
      const std::pair<const char*, std::pair<uint32_t, uint32_t>> shares[] = {
          {"ttl_share_0_1", {0, 1}},       {"ttl_share_1_10", {1, 10}},      {"ttl_share_10_100", {10, 100}},
          {"ttl_share_100_300", {100, 300}}, {"ttl_share_300_900", {300, 900}}, {"ttl_share_900_inf", {900, UINT32_MAX}}};
      for (const auto& [name, range] : shares) {
        uint64_t in = 0;
        for (uint32_t t : k.ttls) in += t >= range.first && (t < range.second || range.second == UINT32_MAX);
        want[name] = any ? static_cast<double>(in) / static_cast<double>(k.ttls.size()) : NAN;
      }
      want["unknown_asn_ips"] = static_cast<double>(k.ips.size() - known_asn);
      want["ips_sampled"] = 0;

      const auto& cols = FeatureColumns();
      ASSERT_EQ(want.size(), cols.size());
      for (size_t c = 0; c < cols.size(); ++c) {
        const std::string name(cols[c].name);
        ASSERT_EQ(want.count(name), 1u) << name;
        const double w = want[name], got = row.values[c];
        if (std::isnan(w)) {
          EXPECT_TRUE(std::isnan(got)) << row.domain << " " << name << " = " << got;
        } else if (cols[c].integer) {
          EXPECT_EQ(got, w) << row.domain << " " << name;
        } else {
          EXPECT_NEAR(got, w, 1e-12 * std::max(1.0, std::fabs(w))) << row.domain << " " << name;
        }
      }
    }
  }
}

TEST(FeatureWriterTest, NumbersPrintAsShortestRoundTrip) {
  const auto& cols = FeatureColumns();
  std::vector<size_t> fractional;
  for (size_t i = 0; i < cols.size(); ++i)
    if (!cols[i].integer) fractional.push_back(i);
  ASSERT_GE(fractional.size(), 5u);
  std::vector<double> values = {0.0, -0.0, 5.0, -3.0, 9.0, 10.0, 42.0, 99.0, 100.0, 101.0, -10.0, 5.4, 0.1 + 0.2, 1e15, 1e16, 123456789012345.0,
                                9007199254740991.0, 9007199254740992.0, -9007199254740993.0,
                                1e300, 2.5e-7, std::numeric_limits<double>::infinity(),
                                std::numeric_limits<double>::denorm_min()};
  std::mt19937_64 rng(3);
  for (int i = 0; i < 2000; ++i) {
    const int e = static_cast<int>(rng() % 60);
    double v = std::ldexp(static_cast<double>(rng() >> 11) / 9007199254740992.0, e);
    values.push_back((rng() & 1) ? std::floor(v) : v);
  }
  // The non-whole path (Dragonbox digits laid out like fmt): any finite bit pattern, ratios of
  // small integers (shares, means), and the neighbours of the powers of ten where fmt switches
  // between fixed and exponent notation (1e-5/1e-4, 1e15/1e16) or changes digit counts.
  for (int i = 0; i < 20000; ++i) {
    uint64_t bits = rng();
    double v;
    std::memcpy(&v, &bits, 8);
    if (std::isfinite(v)) values.push_back(v);
    values.push_back(static_cast<double>(rng() % 100000) / static_cast<double>(1 + rng() % 9999));
    values.push_back(-static_cast<double>(rng() % 1000) / 7.0);
  }
  for (int e = -320; e <= 308; ++e) {
    const double p10 = std::pow(10.0, e);
    for (double v : {p10, std::nextafter(p10, 0.0), std::nextafter(p10, 1e308), 1.5 * p10, 9.999 * p10})
      values.push_back(v);
  }
  for (bool jsonl : {false, true}) {
    std::ostringstream out;
    FeatureWriter w(out, jsonl);
    for (size_t start = 0; start < 2 * values.size(); start += fractional.size()) {
      out.str("");  // (the header, then each row on its own)
      FeatureRow row;
      row.domain = "x.example";
      row.values.assign(cols.size(), 1.0);
      std::vector<std::string> want;
      for (size_t k = 0; k < fractional.size(); ++k) {
        const double v = values[(start + k) % values.size()];
        row.values[fractional[k]] = v;
        want.push_back(fmt::format("{}", v));
      }
      w.Write(row);
      const std::string text = out.str();
      for (size_t k = 0; k < fractional.size(); ++k) {
        const std::string name(cols[fractional[k]].name);
        const std::string field = jsonl ? "\"" + name + "\":" + want[k] + "," : "," + want[k];
        if (jsonl) {
          const size_t at = text.find("\"" + name + "\":");
          ASSERT_NE(at, std::string::npos) << name;
          const size_t end = text.find_first_of(",}", at + name.size() + 3);
          EXPECT_EQ(text.substr(at + name.size() + 3, end - at - name.size() - 3), want[k]) << name;
        } else {
          // Column k of the CSV line: domain, window_start, then the feature columns.
          std::vector<std::string> parts;
          std::stringstream ss(text.substr(0, text.size() - 1));
          for (std::string p; std::getline(ss, p, ',');) parts.push_back(p);
          ASSERT_EQ(parts.size(), cols.size() + 2);
          EXPECT_EQ(parts[fractional[k] + 2], want[k]) << name << " " << field;
        }
      }
    }
  }
}

TEST(LexicalTest, PublicSuffixListAndWords) {
  const auto& psl = Psl();
  EXPECT_EQ(psl.Registered("www.example.co.uk"), "example.co.uk");
  EXPECT_EQ(psl.Registered("example.com"), "example.com");
  EXPECT_EQ(psl.Registered("a.b.c.example.com"), "example.com");
  EXPECT_EQ(psl.Registered("co.uk"), "co.uk");
  EXPECT_EQ(psl.Registered("foo.bar.ck"), "foo.bar.ck");  // *.ck: bar.ck is a suffix
  EXPECT_EQ(psl.Registered("www.ck"), "www.ck");          // !www.ck
  EXPECT_EQ(psl.Registered("a.www.ck"), "www.ck");
  EXPECT_EQ(psl.Registered("host.unknowntld"), "host.unknowntld");  // default rule *
  EXPECT_EQ(Words().LongestWord("astrotravels"), 7u);  // "travels"
  EXPECT_EQ(Words().LongestWord("xqzkv"), 0u);
  NameFeatures nf = ComputeNameFeatures("a1b2.x7.example.com", &psl, &Words());
  EXPECT_DOUBLE_EQ(nf.length, 19);
  EXPECT_DOUBLE_EQ(nf.labels, 4);
  EXPECT_DOUBLE_EQ(nf.digit_ratio, 0);  // registered label "example"
  nf = ComputeNameFeatures("k3j9x2.biz", &psl, &Words());
  EXPECT_DOUBLE_EQ(nf.digit_ratio, 0.5);
  EXPECT_DOUBLE_EQ(nf.vowel_ratio, 0);
  EXPECT_DOUBLE_EQ(nf.entropy, std::log2(6.0));
}

// The list's algorithm written out with three std::sets (rules, "*.x" bases, "!x" exceptions)
// against PublicSuffixList on random names made of the real list's rules, wildcard bases and
// exceptions with random labels in front (and unknown TLDs).
TEST(LexicalTest, PublicSuffixListMatchesSetReference) {
  std::set<std::string> rules, wild, exc;
  std::vector<std::string> all;
  std::ifstream in("/usr/share/publicsuffix/public_suffix_list.dat");
  std::string line;
  while (std::getline(in, line)) {
    const size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line.compare(b, 2, "//") == 0) continue;
    const size_t e = line.find_first_of(" \t\r", b);
    std::string rule = line.substr(b, e == std::string::npos ? std::string::npos : e - b);
    for (char& c : rule)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (rule[0] == '!') {
      exc.insert(rule.substr(1));
      all.push_back(rule.substr(1));
    } else if (rule.size() > 2 && rule[0] == '*' && rule[1] == '.') {
      wild.insert(rule.substr(2));
      all.push_back(rule.substr(2));
    } else {
      rules.insert(rule);
      all.push_back(rule);
    }
  }
  ASSERT_GT(all.size(), 5000u);
  EXPECT_EQ(Psl().rules(), rules.size() + wild.size() + exc.size());
  auto reference = [&](std::string_view name) {
    size_t best = 0, pos = 0;
    for (;;) {
      const std::string suffix(name.substr(pos));
      if (exc.count(suffix)) {
        const size_t dot = suffix.find('.');
        return dot == std::string::npos ? size_t{0} : suffix.size() - dot - 1;
      }
      if (rules.count(suffix)) best = std::max(best, suffix.size());
      const size_t dot = suffix.find('.');
      if (dot != std::string::npos && wild.count(suffix.substr(dot + 1))) best = std::max(best, suffix.size());
      if (best != 0 || dot == std::string::npos) break;
      pos += dot + 1;
    }
    if (best == 0) {
      const size_t last = name.rfind('.');
      best = last == std::string_view::npos ? name.size() : name.size() - last - 1;
    }
    return best;
  };
  std::mt19937 rng(17);
  const std::vector<std::string> labels = {"www", "a", "b1", "example", "xn--p1ai", "ck", "uk", "co"};
  for (int i = 0; i < 200000; ++i) {
    std::string name = rng() % 10 == 0 ? "tld" + std::to_string(rng() % 50) : all[rng() % all.size()];
    for (unsigned k = rng() % 4; k > 0; --k) name = labels[rng() % labels.size()] + "." + name;
    ASSERT_EQ(Psl().SuffixLength(name), reference(name)) << name;
  }
}

}  // namespace
}  // namespace fluxscore::dns
