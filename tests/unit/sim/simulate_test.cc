// fluxscore::sim::Simulate: determinism, exact line count, time order, readability by the
// project's own readers (TSV and JSON), class properties and ground-truth coverage. Runs on a
// tiny range CSV and country CSV written by the test (real networks' numbers, a few ranges each).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "fluxscore/dns/ingest.h"
#include "fluxscore/sim/simulate.h"
#include "../temp_files.h"

namespace fluxscore::sim {
namespace {

std::string TempPath(const std::string& name) { return test::TempPath("sim-" + name); }

// Ranges of the networks the classes use (a handful each, from the ip-location-db table), some
// eyeball and hosting networks, and IPv6 for Cloudflare, Google and Akamai.
const char* kAsnCsv =
    "range_start,range_end,asn,org\n"
    "23.32.0.0,23.67.255.255,20940,Akamai International B.V.\n"
    "2.16.0.0,2.23.255.255,20940,Akamai International B.V.\n"
    "23.192.0.0,23.223.255.255,16625,\"Akamai Technologies, Inc.\"\n"
    "13.224.0.0,13.227.255.255,16509,\"Amazon.com, Inc.\"\n"
    "52.84.0.0,52.85.255.255,16509,\"Amazon.com, Inc.\"\n"
    "3.208.0.0,3.239.255.255,14618,\"Amazon.com, Inc.\"\n"
    "151.101.0.0,151.101.255.255,54113,\"Fastly, Inc.\"\n"
    "104.16.0.0,104.21.127.255,13335,\"Cloudflare, Inc.\"\n"
    "172.64.0.0,172.71.255.255,13335,\"Cloudflare, Inc.\"\n"
    "142.250.0.0,142.251.255.255,15169,Google LLC\n"
    "172.217.0.0,172.217.255.255,15169,Google LLC\n"
    "5.9.0.0,5.9.255.255,24940,Hetzner Online GmbH\n"
    "51.68.0.0,51.91.255.255,16276,OVH SAS\n"
    "64.225.0.0,64.225.127.255,14061,\"DigitalOcean, LLC\"\n"
    "24.0.0.0,24.15.255.255,7922,\"Comcast Cable Communications, LLC\"\n"
    "12.0.0.0,12.255.255.255,7018,\"AT&T Enterprises, LLC\"\n"
    "79.192.0.0,79.255.255.255,3320,Deutsche Telekom AG\n"
    "46.211.0.0,46.211.255.255,15895,\"\"\"Kyivstar\"\" PJSC\"\n"
    "93.72.0.0,93.79.255.255,13188,CONTENT DELIVERY NETWORK LTD\n"
    "178.150.0.0,178.151.255.255,21497,\"PrJSC \"\"VF UKRAINE\"\"\"\n"
    "95.24.0.0,95.31.255.255,8402,\"PJSC \"\"Vimpelcom\"\"\"\n"
    "5.136.0.0,5.143.255.255,12389,PJSC Rostelecom\n"
    "86.120.0.0,86.127.255.255,8708,DIGI ROMANIA S.A.\n"
    "78.160.0.0,78.191.255.255,9121,Turk Telekomunikasyon Anonim Sirketi\n"
    "177.0.0.0,177.15.255.255,27699,TELEFONICA BRASIL S.A\n"
    "13.64.0.0,13.107.255.255,8075,Microsoft Corporation\n"
    "17.0.0.0,17.255.255.255,714,Apple Inc.\n"
    "2606:4700::,2606:4700:ffff:ffff:ffff:ffff:ffff:ffff,13335,\"Cloudflare, Inc.\"\n"
    "2607:f8b0::,2607:f8b0:ffff:ffff:ffff:ffff:ffff:ffff,15169,Google LLC\n"
    "2a02:26f0::,2a02:26f7:ffff:ffff:ffff:ffff:ffff:ffff,20940,Akamai International B.V.\n";

const char* kCountryCsv =
    "24.0.0.0,24.15.255.255,US\n12.0.0.0,12.255.255.255,US\n79.192.0.0,79.255.255.255,DE\n"
    "46.211.0.0,46.211.255.255,UA\n93.72.0.0,93.79.255.255,UA\n178.150.0.0,178.151.255.255,UA\n"
    "95.24.0.0,95.31.255.255,RU\n5.136.0.0,5.143.255.255,RU\n86.120.0.0,86.127.255.255,RO\n"
    "78.160.0.0,78.191.255.255,TR\n177.0.0.0,177.15.255.255,BR\n5.9.0.0,5.9.255.255,DE\n"
    "51.68.0.0,51.91.255.255,FR\n64.225.0.0,64.225.127.255,US\n";

struct Fixture {
  std::string asn = TempPath("asn.csv");
  std::string country = TempPath("country.csv");
  Fixture() {
    std::ofstream(asn, std::ios::binary) << kAsnCsv;
    std::ofstream(country, std::ios::binary) << kCountryCsv;
  }
  ~Fixture() {
    std::remove(asn.c_str());
    std::remove(country.c_str());
  }
};
const Fixture& Data() {
  static Fixture f;
  return f;
}

SimOptions Opts(uint64_t lines, uint64_t seed, SimFormat fmt = SimFormat::kZeekTsv) {
  SimOptions o;
  o.lines = lines;
  o.seed = seed;
  o.format = fmt;
  o.asn_dbs = {Data().asn};
  o.country_db = Data().country;
  return o;
}

struct SimRun {
  std::string log, truth;
  SimSummary summary;
};

SimRun Sim(const SimOptions& o) {
  SimRun r;
  char* lb = nullptr;
  char* tb = nullptr;
  size_t ln = 0, tn = 0;
  std::FILE* lf = open_memstream(&lb, &ln);
  std::FILE* tf = open_memstream(&tb, &tn);
  auto res = Simulate(o, lf, tf);
  std::fclose(lf);
  std::fclose(tf);
  r.log.assign(lb, ln);
  r.truth.assign(tb, tn);
  std::free(lb);
  std::free(tb);
  EXPECT_TRUE(res.ok()) << res.status().ToString();
  if (res.ok()) r.summary = res.value();
  return r;
}

struct Collect : dns::RecordSink {
  std::vector<dns::DnsRecord> recs;
  void Add(const dns::DnsRecord& r) override { recs.push_back(r); }
};

std::vector<dns::DnsRecord> Read(const std::string& log, dns::LogFormat fmt, dns::IngestStats& st) {
  const std::string path = TempPath(fmt == dns::LogFormat::kZeekJson ? "log.json" : "log.tsv");
  std::ofstream(path, std::ios::binary) << log;
  Collect c;
  const Status s = dns::ReadLog(path, fmt, c, st);
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::remove(path.c_str());
  return std::move(c.recs);
}

std::map<std::string, std::string> Truth(const std::string& csv, std::vector<std::string>* order = nullptr) {
  std::map<std::string, std::string> m;
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "domain,class,label");
  while (std::getline(in, line)) {
    const size_t a = line.find(','), b = line.rfind(',');
    const std::string d = line.substr(0, a), cls = line.substr(a + 1, b - a - 1), label = line.substr(b + 1);
    bool flux = false;
    for (const auto& c : SimClasses())
      if (c.name == cls) flux = c.flux;
    EXPECT_EQ(label, flux ? "flux" : "benign") << line;
    m[d] = cls;
    if (order) order->push_back(d);
  }
  return m;
}

TEST(Simulate, SameSeedSameBytesOtherSeedOtherBytes) {
  const SimRun a = Sim(Opts(5000, 5)), b = Sim(Opts(5000, 5)), c = Sim(Opts(5000, 6));
  EXPECT_EQ(a.log, b.log);
  EXPECT_EQ(a.truth, b.truth);
  EXPECT_NE(a.log, c.log);
  EXPECT_NE(a.truth, c.truth);
  const SimRun j1 = Sim(Opts(3000, 5, SimFormat::kZeekJson)), j2 = Sim(Opts(3000, 5, SimFormat::kZeekJson));
  EXPECT_EQ(j1.log, j2.log);
}

TEST(Simulate, ExactLineCountTimeOrderZeroRejectsTsvAndJson) {
  for (uint64_t n : {1u, 7u, 2500u, 20000u}) {
    for (SimFormat f : {SimFormat::kZeekTsv, SimFormat::kZeekJson}) {
      SimOptions o = Opts(n, 11, f);
      o.duration = 6 * 3600;
      const SimRun r = Sim(o);
      EXPECT_EQ(r.summary.lines, n);
      dns::IngestStats st;
      const auto recs = Read(r.log, f == SimFormat::kZeekJson ? dns::LogFormat::kZeekJson : dns::LogFormat::kZeekTsv, st);
      EXPECT_EQ(st.rejected_total(), 0u) << (st.first_rejections().empty() ? "" : st.first_rejections()[0]);
      ASSERT_EQ(recs.size(), n) << "format " << static_cast<int>(f);
      for (size_t i = 0; i < recs.size(); ++i) {
        EXPECT_GE(recs[i].ts, static_cast<double>(o.start));
        EXPECT_LT(recs[i].ts, static_cast<double>(o.start + o.duration));
        if (i) {
          ASSERT_LE(recs[i - 1].ts, recs[i].ts) << "record " << i;
        }
      }
    }
  }
}

TEST(Simulate, TruthCoversExactlyTheQueryNames) {
  const SimRun r = Sim(Opts(20000, 3));
  std::vector<std::string> order;
  const auto truth = Truth(r.truth, &order);
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
  EXPECT_EQ(order.size(), truth.size());  // no duplicates
  dns::IngestStats st;
  const auto recs = Read(r.log, dns::LogFormat::kZeekTsv, st);
  std::set<std::string> names;
  for (const auto& rec : recs) names.insert(rec.qname);
  std::set<std::string> tnames;
  for (const auto& [d, c] : truth) tnames.insert(d);
  EXPECT_EQ(names, tnames);
  EXPECT_EQ(r.summary.query_names, names.size());
  // Every class appears at this size.
  std::map<std::string, int> per_class;
  for (const auto& [d, c] : truth) ++per_class[c];
  for (const auto& c : SimClasses()) EXPECT_GT(per_class[c.name], 0) << c.name;
}

TEST(Simulate, ClassProperties) {
  SimOptions o = Opts(30000, 9);
  o.mix = "single_flux=0.05,double_flux=0.02,cdn_cloudfront=0.05";
  const SimRun r = Sim(o);
  const auto truth = Truth(r.truth);
  dns::IngestStats st;
  const auto recs = Read(r.log, dns::LogFormat::kZeekTsv, st);
  int flux_answers = 0, cloudfront_answers = 0, ns_answers = 0, nx = 0, aaaa = 0;
  // (name, resolver, qtype) -> last answer: for the cache check.
  struct Last {
    double ts;
    std::vector<std::string> data;
    uint32_t ttl;
  };
  std::map<std::string, Last> last;
  int decremented_pairs = 0;
  for (const auto& rec : recs) {
    const std::string& cls = truth.at(rec.qname);
    std::vector<const dns::Answer*> addrs;
    for (const auto& a : rec.answers)
      if (a.is_address) addrs.push_back(&a);
    if (rec.rcode == 3) {
      ++nx;
      EXPECT_EQ(cls, "static");
      EXPECT_TRUE(rec.answers.empty());
    }
    if (rec.qtype == 28) {
      ++aaaa;
      for (const auto* a : addrs) EXPECT_FALSE(a->addr.is_v4());
    }
    if ((cls == "single_flux" || cls == "double_flux") && rec.qtype == 1) {
      ASSERT_FALSE(addrs.empty()) << rec.qname;
      ++flux_answers;
      const uint32_t ttl = addrs[0]->ttl;
      if (addrs.size() == 1) {
        EXPECT_LE(ttl, 30u) << rec.qname;  // the few single-IP answers
      } else {
        EXPECT_GE(addrs.size(), 3u) << rec.qname;
        EXPECT_LE(addrs.size(), 10u) << rec.qname;
        EXPECT_LE(ttl, 1800u) << rec.qname;
        EXPECT_GE(ttl, 1u);
      }
      std::set<std::string> distinct;
      for (const auto* a : addrs) distinct.insert(a->data);
      EXPECT_EQ(distinct.size(), addrs.size());
    }
    if (cls == "double_flux" && rec.qtype == 2) {
      ++ns_answers;
      ASSERT_FALSE(rec.answers.empty());
      for (const auto& a : rec.answers) {
        EXPECT_EQ(a.data.rfind("ns", 0), 0u) << a.data;
        EXPECT_EQ(a.data.substr(a.data.size() - rec.qname.size()), rec.qname);
        EXPECT_TRUE(truth.count(a.data) == 0 || truth.at(a.data) == "double_flux");
      }
    }
    if (cls == "cdn_cloudfront") {
      ++cloudfront_answers;
      ASSERT_GE(addrs.size(), 4u);
      ASSERT_LE(addrs.size(), 8u);
      const uint32_t p24 = addrs[0]->addr.v4() >> 8;
      for (const auto* a : addrs) {
        EXPECT_EQ(a->addr.v4() >> 8, p24) << rec.qname;
        EXPECT_LE(a->ttl, 60u);
      }
      ASSERT_FALSE(rec.answers[0].is_address);  // the CNAME first
      EXPECT_NE(rec.answers[0].data.find(".cloudfront.net"), std::string::npos);
    }
    // Cache: the same answer seen again through the same resolver shows TTL - elapsed.
    if (!addrs.empty()) {
      const std::string key = rec.qname + "|" + rec.resolver.ToString() + "|" + std::to_string(rec.qtype);
      std::vector<std::string> data;
      for (const auto* a : addrs) data.push_back(a->data);
      auto it = last.find(key);
      // Within the previous TTL the resolver must answer from its cache: the same addresses,
      // the TTL lower by the elapsed time (whole seconds).
      if (it != last.end() && rec.ts - it->second.ts + 1 < it->second.ttl) {
        const double elapsed = rec.ts - it->second.ts;
        EXPECT_EQ(it->second.data, data) << rec.qname;
        const double drop = static_cast<double>(it->second.ttl) - addrs[0]->ttl;
        EXPECT_NEAR(drop, elapsed, 1.01) << rec.qname;
        ++decremented_pairs;
      }
      last[key] = {rec.ts, data, addrs[0]->ttl};
    }
  }
  EXPECT_GT(flux_answers, 100);
  EXPECT_GT(cloudfront_answers, 100);
  EXPECT_GT(ns_answers, 5);
  EXPECT_GT(nx, 0);
  EXPECT_GT(aaaa, 0);
  EXPECT_GT(decremented_pairs, 100);
  EXPECT_GT(r.summary.cached_answers, 0u);
}

TEST(Simulate, FluxIsSpreadAndUnpopularBenignCdnIsNot) {
  SimOptions o = Opts(40000, 4);
  o.mix = "single_flux=0.05";
  const SimRun r = Sim(o);
  const auto truth = Truth(r.truth);
  dns::IngestStats st;
  const auto recs = Read(r.log, dns::LogFormat::kZeekTsv, st);
  std::map<std::string, std::set<std::string>> ips, clients;
  for (const auto& rec : recs) {
    clients[rec.qname].insert(rec.client.ToString());
    for (const auto& a : rec.answers)
      if (a.is_address) ips[rec.qname].insert(a.data);
  }
  size_t flux_n = 0, flux_ips = 0, flux_clients = 0, ak_n = 0, ak_ips = 0;
  for (const auto& [name, cls] : truth) {
    if (cls == "single_flux" && clients[name].size() > 0) {
      ++flux_n;
      flux_ips += ips[name].size();
      flux_clients += clients[name].size();
      EXPECT_LE(clients[name].size(), 6u) << name;
    }
    if (cls == "cdn_akamai") {
      ++ak_n;
      ak_ips += ips[name].size();
    }
  }
  ASSERT_GT(flux_n, 10u);
  ASSERT_GT(ak_n, 3u);
  EXPECT_GT(static_cast<double>(flux_ips) / flux_n, 3 * static_cast<double>(ak_ips) / ak_n);
}

TEST(Simulate, MixAndErrors) {
  SimOptions o = Opts(2000, 1);
  o.mix = "static=0,single_flux=1";
  o.domains = 50;
  const SimRun r = Sim(o);
  // Unlisted classes keep their (small) default weights: single_flux has 1 / 1.2 of the domains.
  size_t flux = 0, all = 0, stat = 0;
  for (const auto& [d, c] : Truth(r.truth)) {
    ++all;
    flux += c == "single_flux";
    stat += c == "static";
  }
  EXPECT_GT(flux, all / 2);
  EXPECT_EQ(stat, 0u);
  o.mix = "nonsense=1";
  char* b = nullptr;
  size_t n = 0;
  std::FILE* f = open_memstream(&b, &n);
  auto bad = Simulate(o, f, nullptr);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown class"), std::string::npos);
  o.mix = "";
  o.asn_dbs = {TempPath("does-not-exist.csv")};
  auto bad2 = Simulate(o, f, nullptr);
  EXPECT_FALSE(bad2.ok());
  std::fclose(f);
  std::free(b);
  EXPECT_NE(DefaultMix().find("single_flux="), std::string::npos);
}

}  // namespace
}  // namespace fluxscore::sim
