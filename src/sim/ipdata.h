// Real address space for the simulator: per-ASN lists of IPv4/IPv6 ranges read from
// ip-location-db range CSVs (`start,end,asn[,org]`), each ASN's country (through
// fluxscore::dns::Enricher, e.g. the iptoasn country .mmdb), and weighted ASN sets by category
// (eyeball ISPs, hosting, universities) globally and per country.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fluxscore/dns/enrich.h"
#include "fluxscore/dns/ip.h"
#include "fluxscore/status.h"
#include "sim/rng.h"

namespace fluxscore::sim {

using dns::U128;

// Country code packed in 16 bits ('U' << 8 | 'A'); 0 = unknown.
using Cc = uint16_t;
inline constexpr Cc MakeCc(const char* s) {
  return static_cast<Cc>((static_cast<unsigned>(s[0]) << 8) | static_cast<unsigned>(s[1]));
}

// IPv4 ranges weighted by size.
struct V4Pool {
  std::vector<uint32_t> lo, hi;
  std::vector<uint64_t> cum;  // cumulative sizes
  void Add(uint32_t a, uint32_t b) {
    lo.push_back(a);
    hi.push_back(b);
    cum.push_back((cum.empty() ? 0 : cum.back()) + (uint64_t{b} - a + 1));
  }
  bool empty() const { return lo.empty(); }
  uint64_t size() const { return cum.empty() ? 0 : cum.back(); }
  size_t PickRange(Rng& r) const;
  // A random address (avoiding .0 and .255 hosts when the range allows).
  uint32_t Draw(Rng& r) const;
  // A /24 site inside one range: prefix and the usable host interval [hmin, hmax].
  struct Site {
    uint32_t prefix = 0;
    uint32_t hmin = 1, hmax = 254;
  };
  Site DrawSite(Rng& r) const;
};

// IPv6 ranges, each equally likely (sizes are astronomically different).
struct V6Pool {
  std::vector<U128> lo, hi;
  bool empty() const { return lo.empty(); }
  // A random /64 inside a random range, as its first address.
  U128 DrawNet64(Rng& r) const;
};

struct AsnEntry {
  uint32_t asn = 0;
  std::string org;       // lower-cased
  V4Pool v4;
  V6Pool v6;
  Cc country = 0;        // country of the middle of its largest IPv4 range (0 unknown)
};

// Items with integer weights; Pick is a binary search.
class WeightedSet {
 public:
  void Add(uint32_t item, uint64_t weight) {
    if (weight == 0) return;
    items_.push_back(item);
    cum_.push_back((cum_.empty() ? 0 : cum_.back()) + weight);
  }
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  uint64_t total() const { return cum_.empty() ? 0 : cum_.back(); }
  uint32_t Pick(Rng& r) const;
  const std::vector<uint32_t>& items() const { return items_; }

 private:
  std::vector<uint32_t> items_;
  std::vector<uint64_t> cum_;
};

// A category of networks: the ASN indices, globally and by country.
struct AsnCategory {
  WeightedSet all;
  std::map<Cc, WeightedSet> by_country;
  const WeightedSet* In(Cc cc) const {
    auto it = by_country.find(cc);
    return it == by_country.end() || it->second.empty() ? nullptr : &it->second;
  }
};

class IpData {
 public:
  // Appends the ranges of one CSV (plain text). Rows with ASN 0 (not routed) are skipped.
  Status LoadAsnCsv(const std::string& path);
  Status LoadCountry(const std::string& path);
  // Assigns each ASN its country. Call once after loading.
  void Finish();

  // Index into asns() or -1.
  int Find(uint32_t asn) const {
    auto it = index_.find(asn);
    return it == index_.end() ? -1 : static_cast<int>(it->second);
  }
  const std::vector<AsnEntry>& asns() const { return asns_; }
  const AsnEntry& at(uint32_t i) const { return asns_[i]; }
  bool has_country() const { return enricher_.has_country(); }
  Cc CountryOf(const dns::IpAddr& a) const;
  uint64_t v4_ranges() const { return v4_ranges_; }
  uint64_t v6_ranges() const { return v6_ranges_; }

 private:
  Status AddRange(const dns::IpAddr& a, const dns::IpAddr& b, uint32_t asn, std::string_view org);
  std::vector<AsnEntry> asns_;
  std::unordered_map<uint32_t, uint32_t> index_;
  dns::Enricher enricher_;
  uint64_t v4_ranges_ = 0, v6_ranges_ = 0;
};

std::string CcString(Cc cc);

}  // namespace fluxscore::sim
