// fluxscore simulate: the traffic model. Parameters and sources: docs/simulation.md (the class
// table kClasses below is mirrored there; keep them in sync).
//
// Structure
//  - Domains (query names) belong to a class; each gets a seed. Everything about a domain (its
//    networks, sites, TTLs, botnet members, ...) is derived from hashes of that seed, so the only
//    per-domain state is the seed, its event counter and the resolver cache timestamps.
//  - Streams: the scheduling unit, one query name (+ NS queries for double flux as a separate
//    stream). The number of queries of every stream is drawn up front (a multinomial split of
//    exactly --lines over the streams, by weight = popularity x active time); a stream's query
//    times are then the order statistics of that many uniform times in its active interval
//    (a Poisson process conditioned on its count), generated ascending one at a time. A heap
//    keyed by next time merges the streams: O(log streams) per line, exact line count, every
//    record inside [start, start + duration).
//  - Resolver cache: per stream x resolver x (A, AAAA) the time of the last fresh answer. The
//    authoritative answer is a pure function of (stream, resolver, qtype, fetch time), so a
//    cached answer is regenerated (not stored) and shown with TTL - elapsed.
#include "fluxscore/sim/simulate.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <ctime>
#include <memory>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include "sim/ipdata.h"
#include "sim/names.h"
#include "sim/rng.h"

namespace fluxscore::sim {
namespace {

// ---------------------------------------------------------------------------------------------
// The class table. q_median/q_sigma: log-normal query volume per domain and day in relative
// units (scaled so that all streams together give --lines); q_per_client: queries per client
// (audience size = queries / q_per_client); aud_min/aud_max: fixed audience instead (flux).
// addr/ttl: addresses per answer and address TTL as generated (see the generators for the
// exact rules). aaaa: share of the name's queries that are AAAA (classes with IPv6 only).
enum Cls : uint8_t {
  kStatic,
  kAkamai,
  kAkamaiIsp,
  kCloudFront,
  kFastly,
  kCloudflare,
  kCloudLb,
  kGoogle,
  kRoundRobin,
  kDynDns,
  kNtpPool,
  kSingleFlux,
  kDoubleFlux,
  kNumClasses
};

struct ClassSpec {
  const char* name;
  bool flux;
  double mix;
  double q_median, q_sigma;
  double q_per_client;
  int aud_min, aud_max;
  double aaaa;
  int addr_min, addr_max;
  int ttl_min, ttl_max;
};

constexpr ClassSpec kClasses[kNumClasses] = {
    // name          flux   mix     qmed  qsig  q/cl  aud     aaaa  addr    ttl
    {"static",       false, 0.80,   2,    1.3,  2.0,  0, 0,   0.00, 1, 1,   300, 86400},
    {"cdn_akamai",   false, 0.03,   150,  1.2,  3.0,  0, 0,   0.15, 1, 2,   20, 20},
    {"cdn_akamai_isp", false, 0.01, 150,  1.2,  3.0,  0, 0,   0.15, 1, 2,   20, 20},
    {"cdn_cloudfront", false, 0.02, 80,   1.2,  3.0,  0, 0,   0.00, 4, 8,   60, 60},
    {"cdn_fastly",   false, 0.01,   60,   1.2,  3.0,  0, 0,   0.00, 1, 4,   30, 30},
    {"cdn_cloudflare", false, 0.03, 40,   1.2,  3.0,  0, 0,   0.35, 2, 2,   300, 300},
    {"cloud_lb",     false, 0.02,   60,   1.2,  3.0,  0, 0,   0.00, 2, 3,   60, 60},
    {"google",       false, 0.01,   200,  1.2,  3.0,  0, 0,   0.30, 1, 1,   300, 300},
    {"round_robin",  false, 0.02,   20,   1.2,  3.0,  0, 0,   0.00, 2, 8,   1800, 7200},
    {"dyndns",       false, 0.01,   15,   1.0,  5.0,  0, 0,   0.00, 1, 1,   60, 60},
    {"ntp_pool",     false, 0.01,   150,  0.8,  2.0,  0, 0,   0.00, 4, 4,   130, 150},
    {"single_flux",  true,  0.0075, 25,   0.8,  0.0,  1, 6,   0.00, 3, 10,  60, 1800},
    {"double_flux",  true,  0.0025, 25,   0.8,  0.0,  1, 6,   0.00, 3, 10,  60, 1800},
};

// Double flux: extra streams per domain, as shares of the domain's query weight.
constexpr double kNsQueryShare = 0.25;   // NS queries for the domain   [E]
constexpr double kNsHostShare = 0.15;    // A queries for each nsK.<domain>   [E]
constexpr int kNsHosts = 4;              // ns1..ns4.<domain>   [E]
constexpr double kNxShare = 0.04;        // long-tail names that do not exist (NXDOMAIN)   [E]
constexpr uint32_t kNegTtl = 900;        // negative-caching TTL (SOA minimum)   [E]
constexpr int kResolvers = 2;
constexpr double kFluxLifetimeMean = 7 * 86400.0;   // Arbor ATLAS: average 1 week [V-page]
constexpr double kDecoyShare = 0.003;    // botnet members in big-enterprise space [E]

// Curated networks (verified present in the 2026 ip-location-db table; missing ones are
// skipped and reported in the summary notes).
constexpr uint32_t kEyeballCurated[] = {
    7922, 7018, 701, 20115, 22773, 3320, 3209, 6805, 15895, 21497, 6849, 13188, 25229, 8708, 9050,
    12302, 12389, 8402, 31213, 8359, 25513, 9121, 34984, 4134, 4837, 55836, 45609, 9829, 27699,
    28573, 26615, 45899, 7552, 18403, 5617, 12741, 3269, 3215, 12322, 15557, 2856, 5089, 3352,
    9198, 6697, 8866, 8151, 7303, 3462, 4766, 4713, 7713, 8452, 58224, 8926, 5483, 5610};
constexpr uint32_t kHostingCurated[] = {24940, 16276, 14061, 63949, 20473, 16509,
                                        8560,  12876, 51167, 197540, 60781, 36351};
constexpr uint32_t kCdnAsns[] = {20940, 16625, 16509, 14618, 54113, 13335, 15169};
constexpr uint32_t kDecoyAsns[] = {8075, 714, 32934};

struct CountryWeight {
  const char* cc;
  unsigned weight;
};
// Flux member countries: ~82 % in ten countries, eastern-European heavy (Bitsight 2024 [V-2nd],
// Akamai 2017 [V-page]); the split among the ten is [E]. The rest: any eyeball network.
constexpr CountryWeight kFluxCountries[] = {{"UA", 17}, {"RU", 15}, {"RO", 13}, {"TR", 7},
                                            {"BR", 7},  {"IN", 6},  {"VN", 5},  {"CN", 5},
                                            {"US", 4},  {"DE", 3},  {"", 18}};
constexpr const char* kHomeCountry = "US";  // the enterprise's country (ISP-embedded caches)

constexpr const char* kNtpCountries[] = {
    "us", "de", "gb", "fr", "nl", "ca", "au", "jp", "br", "ru", "ua", "pl", "se", "ch", "at",
    "it", "es", "cz", "fi", "dk", "no", "be", "ro", "in", "cn", "sg", "kr", "za", "hu", "bg",
    "ie", "pt", "gr", "tr", "ar", "mx", "nz", "id", "th", "vn", "hk", "tw", "il", "lt", "lv",
    "ee", "sk", "si", "hr", "rs", "md", "by", "kz", "cl", "co", "ph", "my", "is", "lu", "ir"};
constexpr const char* kNtpVendors[] = {
    "debian", "ubuntu", "centos", "fedora", "android", "openwrt", "rhel", "opensuse", "arch",
    "freebsd", "netbsd", "openbsd", "gentoo", "amazon", "vmware", "pfsense", "opnsense",
    "europe", "north-america", "asia", "oceania", "south-america", "africa"};

// ---------------------------------------------------------------------------------------------

struct Stream {
  uint64_t seed = 0;
  uint64_t remaining = 0;
  int64_t begin_us = 0, end_us = 0;  // active interval, relative to --start
  uint32_t name = 0;                 // index into the name table
  uint32_t audience = 1;
  uint32_t aux = 0;                  // botnet (flux) or NTP zone
  uint32_t extra = 0;                // first of its CNAME chain names in the extra table
  uint8_t cls = 0;
  uint8_t kind = 0;                  // 0 A/AAAA, 1 NS queries (double flux), 2 nsK host
  bool nx = false;
  struct Slot {
    uint32_t fetch_ms1 = 0;  // fetch time in ms + 1 (0 = nothing cached)
    uint32_t ttl = 0;        // lifetime of the cached answer
  };
  Slot cache[kResolvers][2];  // per resolver, A / AAAA
};

struct NtpZone {
  std::string suffix;   // "de.pool.ntp.org"
  Cc cc = 0;            // 0 = global
  uint64_t seed = 0;    // member pool (vendor zones share the global pool)
  uint32_t pool = 0;    // members
};

struct Botnet {
  uint64_t seed = 0;
  uint32_t size = 0;
};

struct Ans {
  int rcode = 0;
  int nnames = 0;
  std::array<std::string_view, 4> names;
  std::array<std::string, 4> own;  // storage for generated names (NS answers)
  std::array<uint32_t, 4> name_ttl{};
  std::array<bool, 4> name_periodic{};  // CNAME cached on its own: TTL shown by its own clock
  std::array<uint64_t, 4> name_phase{};
  int naddr = 0;
  bool v6 = false;
  std::array<uint32_t, 12> a4{};
  std::array<U128, 12> a6{};
  uint32_t ttl = 0;  // address (or NS) TTL: the cache lifetime
};

// Output helpers ------------------------------------------------------------------------------

// An output buffer written through a raw pointer (the caller keeps enough room free).
class OutBuf {
 public:
  OutBuf() : data_(kCap) {}
  static constexpr size_t kCap = (1u << 21) + (1u << 16);
  static constexpr size_t kFlushAt = 1u << 21;
  void push_back(char c) { data_[n_++] = c; }
  void append(std::string_view v) {
    std::memcpy(data_.data() + n_, v.data(), v.size());
    n_ += v.size();
  }
  void append(const char* p, size_t len) { append(std::string_view(p, len)); }
  template <size_t N>
  void append(const char (&lit)[N]) {
    append(std::string_view(lit, N - 1));
  }
  void append_str(const char* p) { append(std::string_view(p)); }
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  const char* data() const { return data_.data(); }
  void clear() { n_ = 0; }
  bool full() const { return n_ >= kFlushAt; }

 private:
  std::vector<char> data_;
  size_t n_ = 0;
};

inline void PutU64(OutBuf& o, uint64_t v) {
  char b[24];
  int n = 24;
  do {
    b[--n] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  o.append(b + n, static_cast<size_t>(24 - n));
}
inline void PutFrac6(OutBuf& o, uint64_t micros) {  // "s.uuuuuu"
  PutU64(o, micros / 1000000);
  char b[7];
  b[0] = '.';
  uint64_t f = micros % 1000000;
  for (int i = 6; i >= 1; --i) {
    b[i] = static_cast<char>('0' + f % 10);
    f /= 10;
  }
  o.append(b, 7);
}
inline void PutV4(OutBuf& o, uint32_t a) {
  char b[16];
  int n = 0;
  for (int k = 3; k >= 0; --k) {
    const unsigned x = (a >> (8 * k)) & 0xff;
    if (x >= 100) b[n++] = static_cast<char>('0' + x / 100);
    if (x >= 10) b[n++] = static_cast<char>('0' + x / 10 % 10);
    b[n++] = static_cast<char>('0' + x % 10);
    if (k) b[n++] = '.';
  }
  o.append(b, static_cast<size_t>(n));
}
inline void PutV6(OutBuf& o, U128 v) {
  unsigned char b[16];
  for (int i = 15; i >= 0; --i) {
    b[i] = static_cast<unsigned char>(v & 0xff);
    v >>= 8;
  }
  char t[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, b, t, sizeof t);
  o.append_str(t);
}
U128 ParseV6(const char* s) {
  auto a = dns::IpAddr::Parse(s);
  return a ? a->ToU128() : 0;
}

// Weighted sampling helpers ---------------------------------------------------------------------

uint64_t WeightOf(double x) { return static_cast<uint64_t>(std::llround(x * 16.0)) + 1; }

uint64_t Binomial(Rng& r, uint64_t n, double p) {
  if (n == 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - Binomial(r, n, 1 - p);
  const double mean = static_cast<double>(n) * p;
  if (mean < 25) {
    const double q = 1 - p;
    double pmf = std::exp(static_cast<double>(n) * std::log1p(-p));
    double cdf = pmf;
    const double u = r.Uniform();
    uint64_t k = 0;
    const double limit = mean + 40 * std::sqrt(mean) + 60;
    while (u > cdf && k < n && static_cast<double>(k) < limit) {
      pmf *= static_cast<double>(n - k) / static_cast<double>(k + 1) * p / q;
      ++k;
      cdf += pmf;
    }
    return k;
  }
  const double x = mean + std::sqrt(mean * (1 - p)) * r.Normal();
  if (x <= 0) return 0;
  const uint64_t k = static_cast<uint64_t>(std::llround(x));
  return std::min(k, n);
}

bool Contains(const std::string_view hay, const char* needle) {
  return hay.find(needle) != std::string_view::npos;
}

// ---------------------------------------------------------------------------------------------

class Simulator {
 public:
  explicit Simulator(const SimOptions& o) : o_(o) {}
  Status Setup();
  Status Run(std::FILE* log, std::FILE* truth);
  SimSummary& summary() { return sum_; }

 private:
  // Setup pieces.
  Status LoadData();
  void BuildCategories();
  Status ParseMix(std::array<double, kNumClasses>& w);
  void MakeDomains();
  uint32_t AddName(const std::string& n, Cls c);
  bool NameTaken(const std::string& n);
  std::string NewName(Cls c, Rng& r);
  void DrawCounts();

  // Address helpers.
  const AsnEntry* Asn(uint32_t asn) const {
    const int i = ip_.Find(asn);
    return i < 0 ? nullptr : &ip_.at(static_cast<uint32_t>(i));
  }
  const V4Pool& V4Of(uint32_t asn) const {
    const AsnEntry* e = Asn(asn);
    if (e && !e->v4.empty()) return e->v4;
    Rng r(H(o_.seed, 0xfa11, asn));  // a network missing from the data: a fixed stand-in
    return ip_.at(any_.Pick(r)).v4;
  }
  uint32_t PickAsnIndex(const WeightedSet& s, Rng& r) const { return s.empty() ? any_.Pick(r) : s.Pick(r); }
  uint32_t FluxMember(const Botnet& b, uint32_t j) const;
  uint32_t NtpMember(const NtpZone& z, uint32_t j, int64_t t_s) const;
  uint32_t FluxMemberRaw(const Botnet& b, uint32_t j) const;
  uint32_t NtpMemberRaw(const NtpZone& z, uint32_t j, uint64_t gen) const;

  // CNAME chain targets of a stream, made once at setup.
  void MakeChain(Stream& s, std::string_view qname);
  std::string_view Extra(const Stream& s, int i) const {
    const size_t k = s.extra + static_cast<size_t>(i);
    return std::string_view(extra_.data() + extra_off_[k], extra_off_[k + 1] - extra_off_[k]);
  }
  std::string extra_;
  std::vector<uint64_t> extra_off_ = {0};

  // The authoritative model: the answer to a fresh query.
  void Generate(const Stream& s, int resolver, bool v6, int64_t fetch_ms, Ans& a) const;
  void GenFlux(const Stream& s, int resolver, int64_t fetch_ms, Ans& a) const;
  void CdnSites(const Stream& s, Ans& a, int resolver, bool v6, int64_t fetch_ms) const;

  void Emit(Stream& s, uint32_t sidx, int64_t t_us);
  void WriteHeader();
  void Flush(bool force);

  const SimOptions& o_;
  IpData ip_;
  SimSummary sum_;

  AsnCategory eyeball_, hosting_, university_;
  WeightedSet any_;
  std::vector<uint32_t> eyeball_home_;  // asn indices of eyeball ISPs in the home country
  WeightedSet flux_country_;            // index into kFluxCountries
  std::vector<uint32_t> decoys_;
  V4Pool cf_a_, cf_b_;                  // 104.21/16 and 172.67/16 of AS13335
  bool v6_ok_[kNumClasses] = {};
  U128 cf6_base_ = 0;

  std::vector<NtpZone> ntp_zones_;
  std::vector<std::pair<std::string, uint32_t>> ntp_names_;  // name, zone
  std::vector<Botnet> botnets_;

  // Names.
  std::string arena_;
  std::vector<uint64_t> name_off_;
  std::vector<uint8_t> name_len_, name_cls_, name_seen_;
  std::vector<uint64_t> taken_;  // open-addressing set of name hashes (0 = empty)
  size_t taken_count_ = 0;

  std::vector<Stream> streams_;
  std::vector<double> weight_;
  uint64_t clients_ = 0;
  std::vector<std::string> client_text_;
  std::vector<uint8_t> client_v6_;
  int64_t dur_us_ = 0;

  std::FILE* out_ = nullptr;
  OutBuf buf_;
  Rng ev_{0};
  Ans fresh_;
  // Memo of pool members (pure functions of their key; a direct-mapped cache for speed).
  static constexpr size_t kMemo = 1 << 16;
  mutable std::vector<uint64_t> memo_key_ = std::vector<uint64_t>(kMemo, 0);
  mutable std::vector<uint64_t> memo_val_ = std::vector<uint64_t>(kMemo, 0);
  template <typename F>
  uint64_t Memo(uint64_t key, F&& f) const {
    key |= 1;
    const size_t i = static_cast<size_t>(key >> 48) & (kMemo - 1);
    if (memo_key_[i] == key) return memo_val_[i];
    const uint64_t v = f();
    memo_key_[i] = key;
    memo_val_[i] = v;
    return v;
  }
  bool write_error_ = false;
};

// ---------------------------------------------------------------------------------------------
// Setup

Status Simulator::LoadData() {
  if (o_.asn_dbs.empty()) return Status::InvalidArgument("no --asn-db: a start,end,asn,org range CSV is required");
  for (const auto& p : o_.asn_dbs) FLUXSCORE_RETURN_IF_ERROR(ip_.LoadAsnCsv(p));
  if (!o_.country_db.empty()) FLUXSCORE_RETURN_IF_ERROR(ip_.LoadCountry(o_.country_db));
  ip_.Finish();
  if (ip_.v4_ranges() == 0) return Status::DataError("the --asn-db files hold no IPv4 ranges");
  return Status::Ok();
}

void Simulator::BuildCategories() {
  auto has = [](const auto& list, uint32_t asn) {
    return std::find(std::begin(list), std::end(list), asn) != std::end(list);
  };
  static constexpr const char* kEyeKeys[] = {"telecom", "telekom", "telecommunication", "broadband",
                                             "cable", "mobile", "communications", "wireless", "dsl",
                                             "fiber", "fibre", "telefonica", "vodafone", "orange",
                                             "internet service", "telco", "teleko", "cellular"};
  static constexpr const char* kHostKeys[] = {"hosting", "server", "cloud", "data center",
                                              "datacenter", "data-center", "vps", "colo",
                                              "dedicated", "host"};
  static constexpr const char* kUniKeys[] = {"universit", "college", "school", "institute",
                                             "academ", "research", "education"};
  const Cc home = MakeCc(kHomeCountry);
  for (uint32_t i = 0; i < ip_.asns().size(); ++i) {
    const AsnEntry& e = ip_.at(i);
    const uint64_t size = e.v4.size();
    if (size == 0) continue;
    const double s = static_cast<double>(size);
    any_.Add(i, WeightOf(std::sqrt(s)));
    const bool cdn = has(kCdnAsns, e.asn) || has(kDecoyAsns, e.asn);
    const bool eye_cur = has(kEyeballCurated, e.asn), host_cur = has(kHostingCurated, e.asn);
    bool host_kw = false, eye_kw = false, uni_kw = false;
    for (const char* k : kHostKeys) host_kw |= Contains(e.org, k);
    for (const char* k : kEyeKeys) eye_kw |= Contains(e.org, k);
    for (const char* k : kUniKeys) uni_kw |= Contains(e.org, k);
    auto add = [&](AsnCategory& c, uint64_t w) {
      c.all.Add(i, w);
      if (e.country) c.by_country[e.country].Add(i, w);
    };
    if (eye_cur) {
      add(eyeball_, WeightOf(4 * std::pow(s, 0.3)));
    } else if (!cdn && !host_cur && eye_kw && !host_kw && !uni_kw && size >= 1024 &&
               size <= (uint64_t{1} << 22)) {
      add(eyeball_, WeightOf(std::pow(s, 0.3)));
    }
    if (host_cur && e.asn != 16509) {
      add(hosting_, WeightOf(8 * std::pow(s, 0.4)));
    } else if (!cdn && !eye_cur && host_kw && size >= 256 && size <= (uint64_t{1} << 22)) {
      add(hosting_, WeightOf(std::pow(s, 0.4)));
    }
    if (!cdn && uni_kw && size >= 256) add(university_, WeightOf(std::pow(s, 0.3)));
    if ((eye_cur || (eye_kw && !host_kw && size >= 1024)) && e.country == home && !cdn)
      eyeball_home_.push_back(i);
  }
  if (eyeball_home_.empty()) eyeball_home_ = eyeball_.all.items();
  if (eyeball_home_.empty()) eyeball_home_ = any_.items();  // tiny data: any network
  auto missing = [&](const auto& list, const char* what) {
    std::string m;
    size_t n = 0;
    for (uint32_t asn : list)
      if (!Asn(asn)) m += fmt::format("{}AS{}", n++ ? " " : "", asn);
    if (n)
      sum_.notes.push_back(fmt::format("{} of {} curated {} networks not in the ASN data (skipped): {}", n,
                                       std::size(list), what, m));
  };
  missing(kEyeballCurated, "eyeball");
  missing(kHostingCurated, "hosting");
  missing(kCdnAsns, "CDN/cloud (a stand-in network is used)");
  for (uint32_t asn : kDecoyAsns)
    if (const AsnEntry* e = Asn(asn); e && !e->v4.empty()) decoys_.push_back(static_cast<uint32_t>(ip_.Find(asn)));
  for (size_t k = 0; k < std::size(kFluxCountries); ++k) {
    const Cc cc = kFluxCountries[k].cc[0] ? MakeCc(kFluxCountries[k].cc) : 0;
    if (cc == 0 || eyeball_.In(cc)) flux_country_.Add(static_cast<uint32_t>(k), kFluxCountries[k].weight);
  }
  // Cloudflare's proxied pairs: 104.21.0.0/16 and 172.67.0.0/16 of AS13335.
  if (const AsnEntry* cf = Asn(13335)) {
    auto clip = [&](uint32_t plo, uint32_t phi, V4Pool& out) {
      for (size_t k = 0; k < cf->v4.lo.size(); ++k) {
        const uint32_t a = std::max(plo, cf->v4.lo[k]), b = std::min(phi, cf->v4.hi[k]);
        if (a <= b) out.Add(a, b);
      }
    };
    clip(0x68150000u, 0x6815ffffu, cf_a_);
    clip(0xac430000u, 0xac43ffffu, cf_b_);
    const U128 base = ParseV6("2606:4700:3030::");
    for (size_t k = 0; k < cf->v6.lo.size(); ++k)
      if (cf->v6.lo[k] <= base && base <= cf->v6.hi[k]) cf6_base_ = base;
    if (cf_a_.empty()) cf_a_ = cf->v4;
    if (cf_b_.empty()) cf_b_ = cf->v4;
  }
  auto v6 = [&](uint32_t asn) {
    const AsnEntry* e = Asn(asn);
    return e && !e->v6.empty();
  };
  v6_ok_[kAkamai] = v6_ok_[kAkamaiIsp] = v6(20940);
  v6_ok_[kCloudflare] = v6(13335);
  v6_ok_[kGoogle] = v6(15169);
}

Status Simulator::ParseMix(std::array<double, kNumClasses>& w) {
  for (int c = 0; c < kNumClasses; ++c) w[c] = kClasses[c].mix;
  std::string_view m = o_.mix;
  while (!m.empty()) {
    const size_t comma = m.find(',');
    std::string_view item = m.substr(0, comma);
    m = comma == std::string_view::npos ? std::string_view() : m.substr(comma + 1);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos)
      return Status::InvalidArgument(fmt::format("--mix '{}': expected class=weight", item));
    const std::string_view name = item.substr(0, eq);
    const std::string val(item.substr(eq + 1));
    int c = 0;
    while (c < kNumClasses && name != kClasses[c].name) ++c;
    if (c == kNumClasses) {
      std::string all;
      for (const auto& k : kClasses) all += fmt::format("{}{}", all.empty() ? "" : ", ", k.name);
      return Status::InvalidArgument(fmt::format("--mix: unknown class '{}' (classes: {})", name, all));
    }
    char* end = nullptr;
    const double v = std::strtod(val.c_str(), &end);
    if (val.empty() || end != val.c_str() + val.size() || !(v >= 0) || !std::isfinite(v))
      return Status::InvalidArgument(fmt::format("--mix '{}': weight must be a number >= 0", item));
    w[c] = v;
  }
  double total = 0;
  for (double x : w) total += x;
  if (!(total > 0)) return Status::InvalidArgument("--mix: all weights are zero");
  return Status::Ok();
}

bool Simulator::NameTaken(const std::string& n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : n) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  h = Mix64(h) | 1;
  const size_t mask = taken_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    if (taken_[i] == 0) {
      taken_[i] = h;
      ++taken_count_;
      if (taken_count_ * 2 > taken_.size()) {  // grow
        std::vector<uint64_t> old;
        old.swap(taken_);
        taken_.assign(old.size() * 2, 0);
        const size_t m2 = taken_.size() - 1;
        for (uint64_t x : old)
          if (x)
            for (size_t j = x & m2;; j = (j + 1) & m2)
              if (taken_[j] == 0) {
                taken_[j] = x;
                break;
              }
      }
      return false;
    }
    if (taken_[i] == h) return true;
  }
}

uint32_t Simulator::AddName(const std::string& n, Cls c) {
  name_off_.push_back(arena_.size());
  name_len_.push_back(static_cast<uint8_t>(n.size()));
  name_cls_.push_back(c);
  name_seen_.push_back(0);
  arena_.append(n);
  return static_cast<uint32_t>(name_off_.size() - 1);
}

std::string Simulator::NewName(Cls c, Rng& r) {
  static constexpr WeightedName kTld[] = {
      {"com", 45}, {"net", 8}, {"org", 8}, {"de", 6}, {"io", 3},   {"co.uk", 4}, {"fr", 3},
      {"nl", 3},   {"info", 2}, {"ru", 3}, {"it", 2}, {"es", 2},   {"pl", 2},    {"ca", 2},
      {"com.au", 2}, {"jp", 2}, {"com.br", 2}, {"ch", 1}, {"se", 1}, {"us", 1}, {"eu", 1},
      {"co", 1},   {"xyz", 1}, {"online", 1}, {"app", 1}, {"dev", 1}};
  static constexpr WeightedName kSub[] = {
      {"mail", 3}, {"shop", 3}, {"blog", 3}, {"api", 3}, {"cdn", 2}, {"img", 2}, {"static", 2},
      {"m", 2}, {"portal", 1}, {"app", 2}, {"support", 1}, {"docs", 1}, {"news", 1}, {"dev", 1},
      {"login", 1}, {"store", 1}, {"media", 1}, {"status", 1}, {"my", 1}, {"secure", 1}};
  static constexpr WeightedName kCdnSub[] = {{"www", 8}, {"shop", 1}, {"store", 1}, {"img", 1},
                                             {"static", 1}, {"media", 1}, {"assets", 1}, {"m", 1},
                                             {"api", 1}, {"video", 1}};
  static constexpr WeightedName kCdnTld[] = {{"com", 10}, {"net", 2}, {"de", 1}, {"co.uk", 1}, {"fr", 1}, {"io", 1}};
  static constexpr WeightedName kFluxTld[] = {{"com", 30}, {"net", 20}, {"ru", 12}, {"info", 10}, {"biz", 6},
                                              {"org", 6},  {"su", 6},   {"top", 10}};
  static constexpr WeightedName kDynSuffix[] = {{"duckdns.org", 4}, {"ddns.net", 3}, {"no-ip.org", 2},
                                                {"dyndns.org", 2}, {"mooo.com", 1}, {"hopto.org", 1}};
  static constexpr const char* kGoogleHosts[] = {
      "www.google.com", "mail.google.com", "docs.google.com", "drive.google.com", "maps.google.com",
      "news.google.com", "play.google.com", "accounts.google.com", "calendar.google.com",
      "translate.google.com", "meet.google.com", "chat.google.com", "photos.google.com",
      "clients1.google.com", "clients2.google.com", "clients4.google.com", "ssl.gstatic.com",
      "www.gstatic.com", "fonts.gstatic.com", "fonts.googleapis.com", "www.googleapis.com",
      "storage.googleapis.com", "ajax.googleapis.com", "maps.googleapis.com",
      "content.googleapis.com", "oauth2.googleapis.com", "lh3.googleusercontent.com",
      "lh4.googleusercontent.com", "lh5.googleusercontent.com", "lh6.googleusercontent.com",
      "www.youtube.com", "i.ytimg.com", "www.google-analytics.com", "www.googletagmanager.com",
      "apis.google.com", "update.googleapis.com", "safebrowsing.googleapis.com"};
  std::string n;
  switch (c) {
    case kStatic: {
      const uint64_t form = r.Below(100);
      const std::string tld = PickName(r, kTld);
      if (form < 45) n = TwoWords(r, 0.25) + "." + tld;
      else if (form < 70) n = "www." + TwoWords(r, 0.25) + "." + tld;
      else if (form < 90) n = std::string(PickName(r, kSub)) + "." + TwoWords(r, 0.25) + "." + tld;
      else n = std::string(Word(r)) + std::to_string(r.Range(1, 9999)) + "." + tld;
      break;
    }
    case kAkamai:
    case kAkamaiIsp:
    case kCloudFront:
    case kFastly:
    case kCloudflare:
    case kCloudLb:
    case kRoundRobin: {
      std::string brand = r.Chance(0.3) ? std::string(Word(r)) : TwoWords(r, 0.1);
      const char* sub = c == kCloudLb ? (r.Chance(0.5) ? "api" : "app")
                        : c == kCloudflare && r.Chance(0.5) ? nullptr
                                                            : PickName(r, kCdnSub);
      n = sub ? std::string(sub) + "." + brand + "." + PickName(r, kCdnTld)
              : brand + "." + PickName(r, kCdnTld);
      if (c == kRoundRobin) n = std::string(PickName(r, kSub)) + "." + brand + "." + PickName(r, kTld);
      break;
    }
    case kGoogle:
      if (r.Chance(0.5)) n = kGoogleHosts[r.Below(std::size(kGoogleHosts))];
      else n = TwoWords(r, 1.0) + "-" + std::to_string(r.Range(100, 999999)) + ".appspot.com";
      break;
    case kDynDns:
      n = std::string(Word(r)) + (r.Chance(0.6) ? std::to_string(r.Range(1, 999)) : std::string(Word(r))) +
          "." + PickName(r, kDynSuffix);
      break;
    case kSingleFlux:
    case kDoubleFlux:
      n = (r.Chance(0.15) ? DgaLabel(r) : TwoWords(r, 0.35)) + "." + PickName(r, kFluxTld);
      break;
    default:
      n = TwoWords(r, 0.0) + ".example";
  }
  return n;
}

void Simulator::MakeDomains() {
  std::array<double, kNumClasses> w{};
  (void)ParseMix(w);  // validated in Setup
  const uint64_t m = o_.domains ? o_.domains : std::max<uint64_t>(400, o_.lines / 40);
  double total = 0;
  for (double x : w) total += x;
  std::array<uint64_t, kNumClasses> count{};
  double cum = 0;
  uint64_t prev = 0;
  for (int c = 0; c < kNumClasses; ++c) {
    cum += w[c];
    const uint64_t upto = static_cast<uint64_t>(std::llround(static_cast<double>(m) * cum / total));
    count[c] = upto > prev ? upto - prev : 0;
    prev = std::max(prev, upto);
  }

  // NTP zones and names: N.pool.ntp.org, N.<vendor>.pool.ntp.org (global pool),
  // N.<cc>.pool.ntp.org, and the synthetic second volunteer zone N.<cc>.pool.volunteertime.net.
  {
    Rng z(H(o_.seed, 0x4e5450));
    const uint64_t global_seed = z.Next();
    ntp_zones_.push_back({"pool.ntp.org", 0, global_seed, 250});
    for (const char* v : kNtpVendors) ntp_zones_.push_back({std::string(v) + ".pool.ntp.org", 0, global_seed, 250});
    std::vector<const char*> ccs;
    for (const char* cc : kNtpCountries) {
      const char up[3] = {static_cast<char>(cc[0] - 32), static_cast<char>(cc[1] - 32), 0};
      const Cc code = MakeCc(up);
      if (ip_.has_country()) {
        size_t nets = 0;
        for (const AsnCategory* cat : {&hosting_, &eyeball_, &university_})
          if (const WeightedSet* s = cat->In(code)) nets += s->size();
        if (nets < 3) continue;
      }
      ccs.push_back(cc);
    }
    for (const char* zone : {"pool.ntp.org", "pool.volunteertime.net"})
      for (const char* cc : ccs) {
        const char up[3] = {static_cast<char>(cc[0] - 32), static_cast<char>(cc[1] - 32), 0};
        ntp_zones_.push_back({std::string(cc) + "." + zone, MakeCc(up), z.Next(),
                              static_cast<uint32_t>(z.Range(20, 150))});
      }
    // Name order: the global zone first, then the rest shuffled (so a small count mixes kinds).
    std::vector<uint32_t> order(ntp_zones_.size() - 1);
    std::iota(order.begin(), order.end(), 1u);
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[z.Below(i)]);
    order.insert(order.begin(), 0u);
    for (uint32_t zi : order)
      for (int k = 0; k < 4; ++k)
        ntp_names_.emplace_back(std::to_string(k) + "." + ntp_zones_[zi].suffix, zi);
  }
  if (count[kNtpPool] > ntp_names_.size()) {
    sum_.notes.push_back(fmt::format("ntp_pool: {} domains requested, {} names exist; the rest are static",
                                     count[kNtpPool], ntp_names_.size()));
    count[kStatic] += count[kNtpPool] - ntp_names_.size();
    count[kNtpPool] = ntp_names_.size();
  }

  const uint64_t n_flux = count[kSingleFlux] + count[kDoubleFlux];
  const uint64_t n_bot = std::clamp<uint64_t>((n_flux + 79) / 80, 1, 64);
  {
    Rng b(H(o_.seed, 0xb07));
    for (uint64_t i = 0; i < n_bot; ++i) botnets_.push_back({b.Next(), static_cast<uint32_t>(b.Range(3000, 15000))});
  }

  taken_.assign(1024, 0);
  const double day = static_cast<double>(dur_us_);
  Rng dom(H(o_.seed, 0xd0));
  for (int ci = 0; ci < kNumClasses; ++ci) {
    const Cls c = static_cast<Cls>(ci);
    const ClassSpec& spec = kClasses[c];
    for (uint64_t i = 0; i < count[c]; ++i) {
      Stream s;
      s.seed = dom.Next();
      s.cls = c;
      Rng r(s.seed);
      std::string name;
      if (c == kNtpPool) {
        name = ntp_names_[i].first;
        s.aux = ntp_names_[i].second;
        NameTaken(name);
      } else {
        for (int tries = 0;; ++tries) {
          name = NewName(c, r);
          if (tries > 8) name = fmt::format("{}{}.{}", Word(r), r.Range(10000, 99999999), c == kGoogle ? "appspot.com" : "com");
          if (!NameTaken(name)) break;
        }
      }
      s.name = AddName(name, c);
      MakeChain(s, name);
      s.begin_us = 0;
      s.end_us = dur_us_;
      if (spec.flux) {
        // Lifetime ~ exponential, mean one week; born uniformly so that it overlaps the run.
        const double life = std::max(7200.0, -std::log(r.UniformPos()) * kFluxLifetimeMean) * 1e6;
        const double birth = -life + r.Uniform() * (life + day);
        s.begin_us = static_cast<int64_t>(std::max(0.0, birth));
        s.end_us = static_cast<int64_t>(std::min(day, birth + life));
        if (s.end_us - s.begin_us < 1800 * int64_t{1000000}) {
          s.end_us = std::min<int64_t>(dur_us_, s.begin_us + 1800 * int64_t{1000000});
          s.begin_us = std::max<int64_t>(0, s.end_us - 1800 * int64_t{1000000});
        }
        s.aux = static_cast<uint32_t>(H(s.seed, 0xb0) % botnets_.size());
      }
      if (c == kStatic) s.nx = r.Chance(kNxShare);
      const double active = static_cast<double>(s.end_us - s.begin_us) / day;
      const double q = r.LogNormal(spec.q_median, spec.q_sigma) * active;
      streams_.push_back(s);
      weight_.push_back(q);
      if (c == kDoubleFlux) {
        const std::string dom_name = name;
        Stream ns = s;
        ns.kind = 1;
        ns.seed = H(s.seed, 0x45);
        streams_.push_back(ns);
        weight_.push_back(q * kNsQueryShare);
        for (int k = 1; k <= kNsHosts; ++k) {
          Stream h = s;
          h.kind = 2;
          h.seed = H(s.seed, 0x400 + k);
          const std::string hn = fmt::format("ns{}.{}", k, dom_name);
          NameTaken(hn);
          h.name = AddName(hn, c);
          streams_.push_back(h);
          weight_.push_back(q * kNsHostShare);
        }
      }
    }
  }
}

void Simulator::MakeChain(Stream& s, std::string_view qname) {
  s.extra = static_cast<uint32_t>(extra_off_.size() - 1);
  auto add = [&](const std::string& n) {
    extra_.append(n);
    extra_off_.push_back(extra_.size());
  };
  switch (s.cls) {
    case kAkamai:
    case kAkamaiIsp: {
      const bool edgekey = H(s.seed, 20) % 3 == 0;
      add(std::string(qname) + (edgekey ? ".edgekey.net" : ".edgesuite.net"));
      add(edgekey ? fmt::format("e{}.{}.akamaiedge.net", 1000 + H(s.seed, 23) % 9000, "abcdefgx"[H(s.seed, 24) % 8])
                  : fmt::format("a{}.b.akamai.net", 1000 + H(s.seed, 23) % 9000));
      break;
    }
    case kCloudFront: {
      static constexpr char kAlnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
      std::string d = "d";
      Rng nr(H(s.seed, 30));
      for (int i = 0; i < 13; ++i) d.push_back(kAlnum[nr.Below(36)]);
      add(d + ".cloudfront.net");
      break;
    }
    case kFastly: {
      const size_t dot = qname.find('.');
      const std::string_view rest = dot == std::string_view::npos ? qname : qname.substr(dot + 1);
      add(std::string(rest.substr(0, rest.find('.'))) + ".map.fastly.net");
      break;
    }
    case kCloudLb: {
      static constexpr const char* kRegions[] = {"us-east-1", "us-east-2", "us-west-2", "eu-west-1",
                                                 "eu-central-1", "ap-southeast-1", "ap-northeast-1"};
      Rng nr(H(s.seed, 50));
      const std::string w = TwoWords(nr, 1.0);
      add(fmt::format("{}-{}.{}.elb.amazonaws.com", w, nr.Range(1000000000, 1999999999), kRegions[nr.Below(7)]));
      break;
    }
    default:
      break;
  }
}

void Simulator::DrawCounts() {
  const size_t n = streams_.size();
  std::vector<double> suffix(n + 1, 0.0);
  for (size_t i = n; i-- > 0;) suffix[i] = suffix[i + 1] + weight_[i];
  Rng r(H(o_.seed, 0xc0));
  uint64_t left = o_.lines;
  for (size_t i = 0; i < n; ++i) {
    const double p = i + 1 == n ? 1.0 : (suffix[i] > 0 ? weight_[i] / suffix[i] : 0.0);
    const uint64_t k = Binomial(r, left, p);
    streams_[i].remaining = k;
    left -= k;
  }
  // Audiences.
  for (size_t i = 0; i < n; ++i) {
    Stream& s = streams_[i];
    const ClassSpec& spec = kClasses[s.cls];
    Rng r(H(s.seed, 0xa0d));
    if (spec.q_per_client > 0) {
      const double a = static_cast<double>(s.remaining) / (spec.q_per_client * r.LogNormal(1.0, 0.5));
      s.audience = static_cast<uint32_t>(std::clamp<double>(std::round(a), 1.0, static_cast<double>(clients_)));
    } else {
      s.audience = static_cast<uint32_t>(std::min<int64_t>(r.Range(spec.aud_min, spec.aud_max),
                                                           static_cast<int64_t>(clients_)));
    }
  }
  std::vector<double>().swap(weight_);
}

Status Simulator::Setup() {
  if (o_.lines == 0) return Status::InvalidArgument("--lines must be > 0");
  if (o_.duration <= 0 || o_.duration > 40 * 86400)
    return Status::InvalidArgument("--duration must be between 1 s and 40 days");
  if (o_.start < 0) return Status::InvalidArgument("--start must be >= 0");
  std::array<double, kNumClasses> w{};
  FLUXSCORE_RETURN_IF_ERROR(ParseMix(w));
  dur_us_ = o_.duration * int64_t{1000000};
  FLUXSCORE_RETURN_IF_ERROR(LoadData());
  BuildCategories();
  // Clients: one per ~1,000 queries a day, 50 .. 100,000 [E].
  clients_ = std::clamp<uint64_t>(o_.lines / 1000, 50, 100000);
  sum_.clients = clients_;
  client_text_.resize(clients_);
  client_v6_.resize(clients_);
  for (uint64_t i = 0; i < clients_; ++i) {
    const bool v6 = H(o_.seed, 0xc11, i) % 100 < 12;  // 12 % IPv6 clients [E]
    client_v6_[i] = v6;
    client_text_[i] = v6 ? fmt::format("fd00:5ee:0:{:x}::{:x}", (i / 250) % 65536, i % 250 + 2)
                         : fmt::format("10.{}.{}.{}", 1 + (i / 64000) % 250, (i / 250) % 256, i % 250 + 2);
  }
  MakeDomains();
  DrawCounts();
  sum_.names_per_class.assign(kNumClasses, 0);
  sum_.lines_per_class.assign(kNumClasses, 0);
  ev_ = Rng(H(o_.seed, 0xe7));
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Address generation

uint32_t Simulator::FluxMember(const Botnet& b, uint32_t j) const {
  return static_cast<uint32_t>(Memo(H(b.seed, j, 0xf1), [&] { return FluxMemberRaw(b, j); }));
}

uint32_t Simulator::FluxMemberRaw(const Botnet& b, uint32_t j) const {
  Rng m(H(b.seed, j));
  if (!decoys_.empty() && m.Chance(kDecoyShare)) return ip_.at(decoys_[m.Below(decoys_.size())]).v4.Draw(m);
  const WeightedSet* set = &eyeball_.all;
  if (!flux_country_.empty()) {
    const auto& cw = kFluxCountries[flux_country_.Pick(m)];
    if (cw.cc[0])
      if (const WeightedSet* s = eyeball_.In(MakeCc(cw.cc))) set = s;
  }
  return ip_.at(PickAsnIndex(*set, m)).v4.Draw(m);
}

uint32_t Simulator::NtpMember(const NtpZone& z, uint32_t j, int64_t t_s) const {
  // 30 % of the volunteers are replaced every 12 h (phase per member) [E].
  const uint64_t hj = H(z.seed, j, 0x9e);
  uint64_t gen = 0;
  if (hj % 100 < 30) gen = static_cast<uint64_t>((t_s + static_cast<int64_t>(hj % 43200)) / 43200) + 1;
  return static_cast<uint32_t>(Memo(H(z.seed, j, gen), [&] { return NtpMemberRaw(z, j, gen); }));
}

uint32_t Simulator::NtpMemberRaw(const NtpZone& z, uint32_t j, uint64_t gen) const {
  Rng m(H(z.seed, j, gen));
  const uint64_t cat = m.Below(100);  // 45 % hosting, 40 % eyeball, 15 % university [E]
  const AsnCategory& c = cat < 45 ? hosting_ : cat < 85 ? eyeball_ : university_;
  const WeightedSet* set = nullptr;
  if (z.cc) {
    set = c.In(z.cc);
    if (!set)
      for (const AsnCategory* alt : {&hosting_, &eyeball_, &university_})
        if ((set = alt->In(z.cc))) break;
  }
  if (!set) set = c.all.empty() ? &any_ : &c.all;
  uint32_t a = 0;
  for (int tries = 0; tries < 4; ++tries) {
    a = ip_.at(PickAsnIndex(*set, m)).v4.Draw(m);
    if (!z.cc || ip_.CountryOf(dns::IpAddr::FromV4(a)) == z.cc) break;
  }
  return a;
}

// Sites of the CDN-like classes: k /24s (v6: /64s), a few hosts each; an answer takes its
// addresses from one site chosen by (resolver, time slot).
void Simulator::CdnSites(const Stream& s, Ans& a, int resolver, bool v6, int64_t fetch_ms) const {
  Rng p(H(s.seed, 1));
  int k = 0, hosts = 0, naddr = 1;
  int64_t slot_s = 3600;
  switch (s.cls) {
    case kAkamai:     k = static_cast<int>(p.Range(2, 5)); hosts = 3; naddr = p.Chance(0.6) ? 2 : 1; slot_s = p.Range(2, 6) * 3600; break;
    case kAkamaiIsp:  k = static_cast<int>(p.Range(3, 9)); hosts = 3; naddr = p.Chance(0.6) ? 2 : 1; slot_s = p.Range(1, 4) * 3600; break;
    case kCloudFront: k = static_cast<int>(p.Range(2, 5)); hosts = 8; naddr = p.Chance(0.7) ? 4 : static_cast<int>(p.Range(5, 8)); slot_s = p.Range(1, 3) * 3600; break;
    case kFastly:     k = static_cast<int>(p.Range(1, 3)); hosts = 4; { const uint64_t u = p.Below(10); naddr = u < 5 ? 1 : u < 8 ? 2 : 4; } slot_s = p.Range(1, 4) * 3600; break;
    case kGoogle:     k = static_cast<int>(p.Range(3, 6)); hosts = 4; naddr = 1; slot_s = 3600; break;
    default: break;
  }
  const int64_t fetch_s = fetch_ms / 1000;
  const int64_t phase = static_cast<int64_t>(H(s.seed, 2) % static_cast<uint64_t>(slot_s));
  const uint64_t slot = static_cast<uint64_t>((fetch_s + phase) / slot_s);
  // CloudFront rotates among its /24s answer by answer; the others stay on one site per slot.
  const uint64_t site_key = s.cls == kCloudFront ? H(slot, static_cast<uint64_t>(fetch_ms)) : slot;
  const int site = static_cast<int>(H(s.seed, 3, site_key, static_cast<uint64_t>(resolver)) % static_cast<uint64_t>(k));
  // The site's network.
  uint32_t asn = 0;
  const int isp_sites = s.cls == kAkamaiIsp ? k - static_cast<int>(1 + H(s.seed, 4) % 2) : 0;
  switch (s.cls) {
    case kAkamai: asn = H(s.seed, 5, site) % 10 < 7 ? 20940 : 16625; break;
    case kAkamaiIsp:
      asn = site < isp_sites ? ip_.at(eyeball_home_[H(s.seed, 6, site) % eyeball_home_.size()]).asn
                             : (H(s.seed, 5, site) % 10 < 7 ? 20940 : 16625);
      break;
    case kCloudFront: asn = 16509; break;
    case kFastly: asn = 54113; break;
    case kGoogle: asn = 15169; break;
    default: break;
  }
  Rng sr(H(s.seed, 7, site));
  // Pick naddr distinct hosts out of `hosts`.
  std::array<int, 8> idx{};
  for (int i = 0; i < hosts; ++i) idx[i] = i;
  Rng pick(H(s.seed, 8, static_cast<uint64_t>(fetch_ms), static_cast<uint64_t>(resolver)));
  for (int i = 0; i < naddr && i < hosts; ++i) std::swap(idx[i], idx[i + pick.Below(hosts - i)]);
  a.naddr = std::min(naddr, hosts);
  if (v6) {
    const AsnEntry* e = Asn(s.cls == kGoogle ? 15169 : 20940);
    const U128 net = e->v6.DrawNet64(sr);
    a.v6 = true;
    for (int i = 0; i < a.naddr; ++i) a.a6[i] = net + 0x1000 + static_cast<U128>(H(s.seed, 9, site, idx[i]) % 0xefff);
    return;
  }
  const uint64_t packed = Memo(H(s.seed, 7, site, 0x5173), [&] {
    const V4Pool::Site st = V4Of(asn).DrawSite(sr);
    return (uint64_t{st.prefix} << 16) | (st.hmin << 8) | st.hmax;
  });
  V4Pool::Site st;
  st.prefix = static_cast<uint32_t>(packed >> 16);
  st.hmin = (packed >> 8) & 0xff;
  st.hmax = packed & 0xff;
  const uint32_t span = st.hmax - st.hmin + 1;
  for (int i = 0; i < a.naddr; ++i) {
    // Host octet of host idx[i]: distinct per index when the /24 allows.
    const uint32_t h = static_cast<uint32_t>((H(s.seed, 10, site) + static_cast<uint64_t>(idx[i]) * 37) % span);
    a.a4[i] = st.prefix + st.hmin + h;
  }
}

void Simulator::GenFlux(const Stream& s, int resolver, int64_t fetch_ms, Ans& a) const {
  const Botnet& b = botnets_[s.aux];
  Rng p(H(s.seed, 1));
  const int lo = static_cast<int>(p.Range(3, 5));
  const int hi = static_cast<int>(p.Range(std::max(lo, 5), 10));
  // TTL regime per domain: 75 % 60-300 s, 17 % 600-1800 s, 8 % varying 60-300 per answer [E,
  // shaped by EXPOSURE / FluxBuster / Zeek gates, see docs/simulation.md].
  static constexpr uint32_t kShort[] = {60, 90, 120, 150, 180, 240, 300};
  static constexpr uint32_t kLong[] = {600, 900, 1200, 1800};
  const uint64_t regime = p.Below(100);
  uint32_t ttl = regime < 75 ? kShort[p.Below(std::size(kShort))] : kLong[p.Below(std::size(kLong))];
  Rng f(H(s.seed, 11, static_cast<uint64_t>(fetch_ms), static_cast<uint64_t>(resolver)));
  if (regime >= 92) ttl = kShort[f.Below(std::size(kShort))];
  int n = static_cast<int>(f.Range(lo, hi));
  if (f.Chance(0.05)) {  // a few single-IP answers with TTL <= 30 s
    n = 1;
    ttl = static_cast<uint32_t>(f.Range(5, 30));
  }
  a.ttl = ttl;
  a.naddr = n;
  std::array<uint32_t, 10> picked{};
  for (int i = 0; i < n; ++i) {
    uint32_t j;
    bool dup;
    do {
      j = static_cast<uint32_t>(f.Below(b.size));
      dup = false;
      for (int k = 0; k < i; ++k) dup |= picked[k] == j;
    } while (dup);
    picked[i] = j;
    a.a4[i] = FluxMember(b, j);
  }
}

void Simulator::Generate(const Stream& s, int resolver, bool v6, int64_t fetch_ms, Ans& a) const {
  a.rcode = 0;
  a.nnames = 0;
  a.naddr = 0;
  a.v6 = false;
  const int64_t fetch_s = fetch_ms / 1000;
  const std::string_view qname(arena_.data() + name_off_[s.name], name_len_[s.name]);
  auto add_name = [&](std::string_view text, uint32_t ttl, bool periodic, uint64_t phase) {
    a.names[a.nnames] = text;
    a.name_ttl[a.nnames] = ttl;
    a.name_periodic[a.nnames] = periodic;
    a.name_phase[a.nnames] = phase;
    ++a.nnames;
  };
  Rng p(H(s.seed, 1));
  switch (s.cls) {
    case kStatic: {
      static constexpr WeightedName kTtl[] = {{"300", 20}, {"600", 10}, {"1800", 10}, {"3600", 35},
                                              {"7200", 5}, {"14400", 8}, {"43200", 4}, {"86400", 8}};
      if (s.nx) {
        a.rcode = 3;
        a.ttl = kNegTtl;
        return;
      }
      a.ttl = static_cast<uint32_t>(std::atoi(PickName(p, kTtl)));
      a.naddr = 1;
      a.a4[0] = static_cast<uint32_t>(Memo(H(s.seed, 0x57a), [&] {
        const WeightedSet& set = p.Chance(0.75) && !hosting_.all.empty() ? hosting_.all : any_;
        return ip_.at(PickAsnIndex(set, p)).v4.Draw(p);
      }));
      return;
    }
    case kAkamai:
    case kAkamaiIsp: {
      a.ttl = 20;
      static constexpr uint32_t kC1[] = {600, 3600, 21600, 86400};
      static constexpr uint32_t kC2[] = {2000, 3600, 7200, 21600};
      add_name(Extra(s, 0), kC1[H(s.seed, 21) % 4], true, H(s.seed, 22));
      add_name(Extra(s, 1), kC2[H(s.seed, 25) % 4], true, H(s.seed, 26));
      CdnSites(s, a, resolver, v6, fetch_ms);
      return;
    }
    case kCloudFront: {
      static constexpr uint32_t kC[] = {60, 300, 3600};
      add_name(Extra(s, 0), kC[H(s.seed, 31) % 3], true, H(s.seed, 32));
      a.ttl = 60;
      CdnSites(s, a, resolver, false, fetch_ms);
      return;
    }
    case kFastly: {
      static constexpr uint32_t kC[] = {300, 600, 3600};
      add_name(Extra(s, 0), kC[H(s.seed, 33) % 3], true, H(s.seed, 34));
      a.ttl = 30;
      CdnSites(s, a, resolver, false, fetch_ms);
      return;
    }
    case kGoogle:
      a.ttl = 300;
      CdnSites(s, a, resolver, v6, fetch_ms);
      return;
    case kCloudflare: {
      a.ttl = 300;
      a.naddr = 2;
      Rng c(H(s.seed, 40));
      const uint32_t x = cf_a_.empty() ? V4Of(13335).Draw(c) : cf_a_.Draw(c);
      const uint32_t y = cf_b_.empty() ? V4Of(13335).Draw(c) : cf_b_.Draw(c);
      if (v6) {
        a.v6 = true;
        U128 base = cf6_base_;
        if (base == 0) base = Asn(13335)->v6.DrawNet64(c);
        const U128 n1 = base + (static_cast<U128>(c.Below(8)) << 80);
        const U128 n2 = base + (static_cast<U128>(c.Below(8)) << 80);
        a.a6[0] = n1 + (static_cast<U128>(x >> 16) << 16) + (x & 0xffff);
        a.a6[1] = n2 + (static_cast<U128>(y >> 16) << 16) + (y & 0xffff);
      } else {
        a.a4[0] = x;
        a.a4[1] = y;
      }
      if (H(s.seed, 41, static_cast<uint64_t>(fetch_ms)) & 1) {
        std::swap(a.a4[0], a.a4[1]);
        std::swap(a.a6[0], a.a6[1]);
      }
      return;
    }
    case kCloudLb: {
      static constexpr uint32_t kC[] = {60, 300, 600};
      add_name(Extra(s, 0), kC[H(s.seed, 51) % 3], true, H(s.seed, 52));
      a.ttl = 60;
      const uint32_t asn = H(s.seed, 53) % 10 < 8 ? 16509 : 14618;
      const V4Pool& pool = V4Of(asn);
      const int n = static_cast<int>(2 + H(s.seed, 54) % 2);
      for (int j = 0; j < n; ++j) {
        // Node j is replaced every 6-24 h (or not at all), phase per node [E].
        const uint64_t hj = H(s.seed, 55, j);
        const int64_t period = (hj % 4 == 0) ? int64_t{1} << 40 : static_cast<int64_t>(6 + hj % 19) * 3600;
        const uint64_t slot = static_cast<uint64_t>((fetch_s + static_cast<int64_t>(hj % 86400)) / period);
        uint32_t ip = 0;
        for (int t = 0; t < 8; ++t) {
          Rng nrng(H(s.seed, 56 + t, j, slot));
          ip = pool.Draw(nrng);
          bool same8 = false;
          for (int k = 0; k < j; ++k) same8 |= (a.a4[k] >> 24) == (ip >> 24);
          if (!same8) break;
        }
        a.a4[j] = ip;
      }
      a.naddr = n;
      const int rot = static_cast<int>(H(s.seed, 57, static_cast<uint64_t>(fetch_ms)) % n);
      std::rotate(a.a4.begin(), a.a4.begin() + rot, a.a4.begin() + n);
      return;
    }
    case kRoundRobin: {
      const uint64_t u = p.Below(100);
      a.ttl = u < 70 ? 3600 : u < 85 ? 1800 : 7200;
      const WeightedSet& set = hosting_.all.empty() ? any_ : hosting_.all;
      const V4Pool& pool = ip_.at(set.Pick(p)).v4;
      const V4Pool::Site st = pool.DrawSite(p);
      const uint32_t span = st.hmax - st.hmin + 1;
      const int n = static_cast<int>(std::min<uint64_t>(p.Range(2, 8), span));
      const uint32_t first = static_cast<uint32_t>(p.Below(span));
      const uint32_t step = p.Chance(0.5) && 2 * static_cast<uint32_t>(n) <= span ? 2 : 1;
      for (int i = 0; i < n; ++i) a.a4[i] = st.prefix + st.hmin + (first + static_cast<uint32_t>(i) * step) % span;
      a.naddr = n;
      const int rot = static_cast<int>(H(s.seed, 60, static_cast<uint64_t>(fetch_ms)) % n);
      std::rotate(a.a4.begin(), a.a4.begin() + rot, a.a4.begin() + n);
      return;
    }
    case kDynDns: {
      a.ttl = 60;
      const uint32_t asn_i = PickAsnIndex(eyeball_.all, p);
      const int64_t period = p.Range(4, 48) * 3600;  // home lease changes every 4-48 h [E]
      const uint64_t slot = static_cast<uint64_t>((fetch_s + static_cast<int64_t>(H(s.seed, 61) % static_cast<uint64_t>(period))) / period);
      Rng lr(H(s.seed, 62, slot));
      a.naddr = 1;
      a.a4[0] = ip_.at(asn_i).v4.Draw(lr);
      return;
    }
    case kNtpPool: {
      const NtpZone& z = ntp_zones_[s.aux];
      Rng f(H(s.seed, 70, static_cast<uint64_t>(fetch_ms), static_cast<uint64_t>(resolver)));
      a.ttl = static_cast<uint32_t>(f.Range(130, 150));
      a.naddr = static_cast<int>(std::min<uint32_t>(4, z.pool));
      std::array<uint32_t, 4> picked{};
      for (int i = 0; i < a.naddr; ++i) {
        uint32_t j;
        bool dup;
        do {
          j = static_cast<uint32_t>(f.Below(z.pool));
          dup = false;
          for (int k = 0; k < i; ++k) dup |= picked[k] == j;
        } while (dup);
        picked[i] = j;
        a.a4[i] = NtpMember(z, j, fetch_s);
      }
      return;
    }
    case kSingleFlux:
    case kDoubleFlux: {
      if (s.kind == 1) {  // NS answer: 2-4 of ns1..ns4.<domain>, rotating every 1-6 h
        static constexpr uint32_t kNsTtl[] = {300, 600, 900, 1800};
        a.ttl = kNsTtl[H(s.seed, 80) % 4];
        const int64_t period = static_cast<int64_t>(1 + H(s.seed, 81) % 6) * 3600;
        const uint64_t slot = static_cast<uint64_t>(fetch_s / period);
        const int n = static_cast<int>(2 + H(s.seed, 82, slot) % 3);
        const int base = static_cast<int>(H(s.seed, 83, slot) % kNsHosts);
        for (int i = 0; i < n; ++i) {
          a.own[i] = fmt::format("ns{}.{}", (base + i) % kNsHosts + 1, qname);
          add_name(a.own[i], a.ttl, false, 0);
        }
        return;
      }
      GenFlux(s, resolver, fetch_ms, a);
      return;
    }
    default:
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Output

void Simulator::Flush(bool force) {
  if (buf_.empty() || (!force && !buf_.full())) return;
  if (std::fwrite(buf_.data(), 1, buf_.size(), out_) != buf_.size()) write_error_ = true;
  buf_.clear();
}

std::string ZeekTime(int64_t epoch) {
  const time_t t = static_cast<time_t>(epoch);
  struct tm tm;
  gmtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%d-%H-%M-%S", &tm);
  return b;
}

void Simulator::WriteHeader() {
  if (o_.format != SimFormat::kZeekTsv) return;
  buf_.append(
      "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"
      "#open\t");
  buf_.append(ZeekTime(o_.start));
  buf_.append("\n"
      "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\t"
      "qclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\t"
      "rejected\n"
      "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\t"
      "count\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\t"
      "vector[interval]\tbool\n");
}

void Simulator::Emit(Stream& s, uint32_t sidx, int64_t t_us) {
  const bool json = o_.format == SimFormat::kZeekJson;
  // Who asks, through which resolver.
  const uint64_t ci = H(s.seed, 0xc1, ev_.Below(s.audience)) % clients_;
  const int resolver = static_cast<int>(ci % kResolvers);
  const bool cv6 = client_v6_[ci];
  uint16_t qtype = 1;
  if (s.kind == 1) qtype = 2;
  else if (v6_ok_[s.cls] && kClasses[s.cls].aaaa > 0 && ev_.Chance(kClasses[s.cls].aaaa)) qtype = 28;
  const bool v6 = qtype == 28;
  const int64_t t_ms = t_us / 1000;
  Stream::Slot& slot = s.cache[resolver][v6 ? 1 : 0];
  bool cached = false;
  int64_t fetch_ms = t_ms;
  if (slot.fetch_ms1) {
    const int64_t f = static_cast<int64_t>(slot.fetch_ms1) - 1;
    if (t_ms < f + int64_t{slot.ttl} * 1000) {
      cached = true;
      fetch_ms = f;
    }
  }
  Generate(s, resolver, v6, fetch_ms, fresh_);
  if (!cached) {
    slot.fetch_ms1 = static_cast<uint32_t>(t_ms + 1);
    slot.ttl = fresh_.ttl;
  }
  const Ans& a = fresh_;
  const uint32_t elapsed = static_cast<uint32_t>((t_ms - fetch_ms) / 1000);
  const int64_t t_s = (o_.start * 1000000 + t_us) / 1000000;
  if (cached) ++sum_.cached_answers;
  else ++sum_.fresh_answers;
  if (a.rcode == 3) ++sum_.nxdomain;
  ++sum_.lines_per_class[s.cls];
  name_seen_[s.name] = 1;
  (void)sidx;

  const std::string_view qname(arena_.data() + name_off_[s.name], name_len_[s.name]);
  const uint64_t u1 = ev_.Next(), u2 = ev_.Next();
  char uid[18];
  static constexpr char kB62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  uid[0] = 'C';
  uint64_t x = u1;
  for (int i = 1; i < 11; ++i, x /= 62) uid[i] = kB62[x % 62];
  x = u2;
  for (int i = 11; i < 18; ++i, x /= 62) uid[i] = kB62[x % 62];
  const uint64_t port = 1024 + (u2 >> 40) % 64512;
  const uint64_t trans = (u2 >> 20) & 0xffff;
  // rtt: cached 0.1-2 ms, fresh 5-250 ms [E].
  const uint64_t rtt_us = cached ? 100 + (u1 >> 44) % 1900 : 5000 + (u1 >> 40) % 245000;
  const char* resolver_text = cv6 ? (resolver ? "fd00:5ee::54" : "fd00:5ee::53") : (resolver ? "10.0.0.54" : "10.0.0.53");
  const char* qtype_name = qtype == 1 ? "A" : qtype == 28 ? "AAAA" : "NS";
  const bool nx = a.rcode == 3;
  const bool empty = a.nnames == 0 && a.naddr == 0;
  auto name_ttl = [&](int i) -> uint64_t {
    if (a.name_periodic[i]) {
      const uint64_t T = a.name_ttl[i];
      return T - (static_cast<uint64_t>(t_s) + a.name_phase[i]) % T;
    }
    return a.name_ttl[i] - std::min(elapsed, a.name_ttl[i] - 1);
  };
  const uint64_t addr_ttl = a.ttl - std::min(elapsed, a.ttl - 1);
  OutBuf& o = buf_;
  if (!json) {
    PutFrac6(o, static_cast<uint64_t>(o_.start) * 1000000 + static_cast<uint64_t>(t_us));
    o.push_back('\t');
    o.append(uid, 18);
    o.push_back('\t');
    o.append(std::string_view(client_text_[ci]));
    o.push_back('\t');
    PutU64(o, port);
    o.push_back('\t');
    o.append_str(resolver_text);
    o.append("\t53\tudp\t");
    PutU64(o, trans);
    o.push_back('\t');
    PutFrac6(o, rtt_us);
    o.push_back('\t');
    o.append(qname);
    o.append("\t1\tC_INTERNET\t");
    PutU64(o, qtype);
    o.push_back('\t');
    o.append_str(qtype_name);
    o.append_str(nx ? "\t3\tNXDOMAIN\tF\tF\tT\tT\t0\t" : "\t0\tNOERROR\tF\tF\tT\tT\t0\t");
    if (empty) {
      o.append("-\t-\tF\n");
    } else {
      bool first = true;
      for (int i = 0; i < a.nnames; ++i, first = false) {
        if (!first) o.push_back(',');
        o.append(a.names[i]);
      }
      for (int i = 0; i < a.naddr; ++i, first = false) {
        if (!first) o.push_back(',');
        if (a.v6) PutV6(o, a.a6[i]);
        else PutV4(o, a.a4[i]);
      }
      o.push_back('\t');
      first = true;
      for (int i = 0; i < a.nnames; ++i, first = false) {
        if (!first) o.push_back(',');
        PutU64(o, name_ttl(i));
        o.append(".000000");
      }
      for (int i = 0; i < a.naddr; ++i, first = false) {
        if (!first) o.push_back(',');
        PutU64(o, addr_ttl);
        o.append(".000000");
      }
      o.append("\tF\n");
    }
  } else {
    o.append("{\"ts\":");
    PutFrac6(o, static_cast<uint64_t>(o_.start) * 1000000 + static_cast<uint64_t>(t_us));
    o.append(",\"uid\":\"");
    o.append(uid, 18);
    o.append("\",\"id.orig_h\":\"");
    o.append(std::string_view(client_text_[ci]));
    o.append("\",\"id.orig_p\":");
    PutU64(o, port);
    o.append(",\"id.resp_h\":\"");
    o.append_str(resolver_text);
    o.append("\",\"id.resp_p\":53,\"proto\":\"udp\",\"trans_id\":");
    PutU64(o, trans);
    o.append(",\"rtt\":");
    PutFrac6(o, rtt_us);
    o.append(",\"query\":\"");
    o.append(qname);
    o.append("\",\"qclass\":1,\"qclass_name\":\"C_INTERNET\",\"qtype\":");
    PutU64(o, qtype);
    o.append(",\"qtype_name\":\"");
    o.append_str(qtype_name);
    o.append_str(nx ? "\",\"rcode\":3,\"rcode_name\":\"NXDOMAIN\"" : "\",\"rcode\":0,\"rcode_name\":\"NOERROR\"");
    o.append(",\"AA\":false,\"TC\":false,\"RD\":true,\"RA\":true,\"Z\":0");
    if (!empty) {
      o.append(",\"answers\":[");
      bool first = true;
      for (int i = 0; i < a.nnames; ++i, first = false) {
        if (!first) o.push_back(',');
        o.push_back('"');
        o.append(a.names[i]);
        o.push_back('"');
      }
      for (int i = 0; i < a.naddr; ++i, first = false) {
        if (!first) o.push_back(',');
        o.push_back('"');
        if (a.v6) PutV6(o, a.a6[i]);
        else PutV4(o, a.a4[i]);
        o.push_back('"');
      }
      o.append("],\"TTLs\":[");
      first = true;
      for (int i = 0; i < a.nnames; ++i, first = false) {
        if (!first) o.push_back(',');
        PutU64(o, name_ttl(i));
        o.append(".0");
      }
      for (int i = 0; i < a.naddr; ++i, first = false) {
        if (!first) o.push_back(',');
        PutU64(o, addr_ttl);
        o.append(".0");
      }
      o.push_back(']');
    }
    o.append(",\"rejected\":false}\n");
  }
  Flush(false);
}

struct HeapItem {
  int64_t t;
  uint32_t s;
};

// The next of `k` remaining uniform times in (t, end): t + (end - t)(1 - U^(1/k)).
int64_t NextTime(int64_t t, int64_t end, uint64_t k, uint64_t h) {
  const double u = static_cast<double>((h >> 11) + 1) * 0x1.0p-53;
  const double frac = -std::expm1(std::log(u) / static_cast<double>(k));
  int64_t next = t + static_cast<int64_t>(static_cast<double>(end - t) * frac);
  return std::clamp(next, t, end - 1);
}

Status Simulator::Run(std::FILE* log, std::FILE* truth) {
  out_ = log;
  WriteHeader();
  // A 4-ary min-heap on (time, stream): the top is replaced in place (one sift) while its
  // stream has events left.
  std::vector<HeapItem> heap;
  heap.reserve(streams_.size());
  for (uint32_t i = 0; i < streams_.size(); ++i) {
    Stream& s = streams_[i];
    if (s.remaining == 0) continue;
    heap.push_back({NextTime(s.begin_us, s.end_us, s.remaining, H(s.seed, 0x7, s.remaining)), i});
  }
  auto less = [](const HeapItem& a, const HeapItem& b) { return a.t != b.t ? a.t < b.t : a.s < b.s; };
  auto sift_down = [&](size_t i) {
    const size_t n = heap.size();
    const HeapItem x = heap[i];
    for (;;) {
      const size_t c = 4 * i + 1;
      if (c >= n) break;
      size_t best = c;
      const size_t end = std::min(c + 4, n);
      for (size_t k = c + 1; k < end; ++k)
        if (less(heap[k], heap[best])) best = k;
      if (!less(heap[best], x)) break;
      heap[i] = heap[best];
      i = best;
    }
    heap[i] = x;
  };
  if (heap.size() > 1)
    for (size_t i = (heap.size() - 2) / 4 + 1; i-- > 0;) sift_down(i);
  uint64_t lines = 0;
  while (!heap.empty()) {
    const HeapItem it = heap[0];
    Stream& s = streams_[it.s];
    Emit(s, it.s, it.t);
    ++lines;
    if (--s.remaining > 0) {
      heap[0].t = NextTime(it.t, s.end_us, s.remaining, H(s.seed, 0x7, s.remaining));
    } else {
      heap[0] = heap.back();
      heap.pop_back();
    }
    if (!heap.empty()) {
      sift_down(0);
      __builtin_prefetch(&streams_[heap[0].s]);
    }
    if (write_error_) return Status::IoError("cannot write the log (disk full or closed pipe?)");
  }
  if (o_.format == SimFormat::kZeekTsv) buf_.append("#close\t" + ZeekTime(o_.start + o_.duration) + "\n");
  Flush(true);
  if (std::fflush(out_) != 0 || write_error_) return Status::IoError("cannot write the log");
  sum_.lines = lines;

  // Ground truth: every query name of the log, sorted.
  std::vector<uint32_t> seen;
  for (uint32_t i = 0; i < name_seen_.size(); ++i)
    if (name_seen_[i]) {
      seen.push_back(i);
      ++sum_.names_per_class[name_cls_[i]];
    }
  sum_.query_names = seen.size();
  if (truth) {
    auto view = [&](uint32_t i) { return std::string_view(arena_.data() + name_off_[i], name_len_[i]); };
    std::sort(seen.begin(), seen.end(), [&](uint32_t a, uint32_t b) { return view(a) < view(b); });
    std::string t = "domain,class,label\n";
    for (uint32_t i : seen) {
      t.append(view(i));
      t.push_back(',');
      t.append(kClasses[name_cls_[i]].name);
      t.append(kClasses[name_cls_[i]].flux ? ",flux\n" : ",benign\n");
      if (t.size() > (1u << 20)) {
        if (std::fwrite(t.data(), 1, t.size(), truth) != t.size()) return Status::IoError("cannot write the truth file");
        t.clear();
      }
    }
    if (std::fwrite(t.data(), 1, t.size(), truth) != t.size() || std::fflush(truth) != 0)
      return Status::IoError("cannot write the truth file");
  }
  return Status::Ok();
}

}  // namespace

const std::vector<SimClassInfo>& SimClasses() {
  static const std::vector<SimClassInfo> v = [] {
    std::vector<SimClassInfo> out;
    for (const auto& c : kClasses) out.push_back({c.name, c.flux, c.mix});
    return out;
  }();
  return v;
}

std::string DefaultMix() {
  std::string s;
  for (const auto& c : kClasses) s += fmt::format("{}{}={}", s.empty() ? "" : ",", c.name, c.mix);
  return s;
}

Result<SimSummary> Simulate(const SimOptions& options, std::FILE* log, std::FILE* truth) {
  auto sim = std::make_unique<Simulator>(options);
  FLUXSCORE_RETURN_IF_ERROR(sim->Setup());
  FLUXSCORE_RETURN_IF_ERROR(sim->Run(log, truth));
  return std::move(sim->summary());
}

}  // namespace fluxscore::sim
