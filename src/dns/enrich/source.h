// Internals of the enrichment sources (include/fluxscore/dns/enrich.h): the source interface,
// the flattened range table, and the loaders for each format.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fluxscore/dns/enrich.h"
#include "fluxscore/dns/ip.h"
#include "fluxscore/status.h"

namespace fluxscore::dns::enrich_internal {

enum class Kind { kAsn, kCountry };

// A source's answers for IPv4 addresses as runs: starts ascending, the first at 0, each value in
// force up to the next start. The value is the ASN (ASN sources) or the country index (country
// sources), kNoValue where the source knows nothing.
struct V4Run {
  uint32_t start;
  uint64_t value;
};
inline constexpr uint64_t kNoValue = UINT64_MAX;

// Appends a run unless it continues the last one's value.
inline void AppendRun(std::vector<V4Run>& runs, uint32_t start, uint64_t value) {
  if (!runs.empty() && runs.back().value == value) return;
  runs.push_back({start, value});
}

// One loaded source. Lookups are const and touch no mutable state.
class Source {
 public:
  virtual ~Source() = default;
  virtual bool FindAsn(const IpAddr& a, AsnHit* hit) const = 0;
  virtual bool FindCountry(const IpAddr& a, std::string_view* code) const = 0;
  // The source's IPv4 answers as runs (FindAsn's ASN or FindCountry's country for every IPv4
  // address); false when it cannot tell them cheaply (then lookups ask the source itself).
  virtual bool ExportV4(std::vector<V4Run>* runs) const = 0;
  // "path: format, details" (no newline).
  virtual std::string Describe() const = 0;
};

// IPv4 segments (starts ascending, the first at 0, each in force up to the next start) with the
// index of the first segment starting in each /16: a lookup reads one index entry and searches
// the few segments of its /16 (and the one in force at the /16's start).
template <typename Segment>
class V4Segments {
 public:
  void Assign(std::vector<Segment> segs) {
    segs_ = std::move(segs);
    index_.resize(65537);
    size_t k = 0;
    for (uint32_t h = 0; h <= 65536; ++h) {
      const uint64_t lim = uint64_t{h} << 16;
      while (k < segs_.size() && segs_[k].start < lim) ++k;
      index_[h] = static_cast<uint32_t>(k);
    }
  }
  const Segment& Find(uint32_t x) const {
    const uint32_t h = x >> 16;
    uint32_t lo = index_[h];
    const uint32_t hi = index_[h + 1];
    if (lo > 0) --lo;  // the segment that began before this /16 (segs_[0].start == 0 always)
    const Segment* base = segs_.data() + lo;
    uint32_t n = hi - lo;
    while (n > 1) {
      const uint32_t half = n / 2;
      base = base[half].start <= x ? base + half : base;
      n -= half;
    }
    return *base;
  }
  const std::vector<Segment>& segments() const { return segs_; }
  size_t size() const { return segs_.size(); }

 private:
  std::vector<Segment> segs_;
  std::vector<uint32_t> index_;  // 65537 entries: first segment starting at or after h << 16
};

// Country codes: index = (first - 'A') * 26 + (second - 'A'); the views point into a static table.
inline constexpr uint32_t kCountryCodes = 26 * 26;
// Upper-cases a two-letter code; nullopt unless exactly two ASCII letters.
std::optional<uint32_t> CountryIndex(std::string_view code);
std::string_view CountryCode(uint32_t index);

// Input range [start, end] (inclusive, in the 128-bit space where IPv4 is ::ffff:a.b.c.d) with a
// value and the line it came from (ties between identical ranges: the earlier line wins).
struct RangeInput {
  U128 start;
  U128 end;
  uint32_t value;
  uint32_t line;
};

// Non-overlapping segments covering the whole address space, each with a value or kNone.
// IPv4 (::ffff:0:0/96) and the rest are kept apart so that IPv4 searches run on 32-bit keys with
// a first-16-bit index.
class SegmentTable {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // Applies the overlap rule (enrich.h) and flattens. Reorders `ranges`.
  static SegmentTable Build(std::vector<RangeInput>& ranges);

  uint32_t Find(const IpAddr& a) const {
    if (a.is_v4()) return FindV4(a.v4());
    return FindV6(a.ToU128());
  }
  uint32_t FindV4(uint32_t x) const { return v4_.Find(x).value; }  // (on the line searched last)
  uint32_t FindV6(U128 x) const {
    const U128* base = v6_start_.data();
    size_t n = v6_start_.size();
    while (n > 1) {
      const size_t half = n / 2;
      base = base[half] <= x ? base + half : base;
      n -= half;
    }
    return v6_value_[static_cast<size_t>(base - v6_start_.data())];
  }
  size_t segments() const { return v4_.size() + v6_start_.size(); }
  // f(start, value) for each IPv4 segment, ascending (the first starts at 0).
  template <typename F>
  void ForEachV4(F&& f) const {
    for (const V4Segment& s : v4_.segments()) f(s.start, s.value);
  }

 private:
  // Start (offset within ::ffff:0:0/96; [0] starts at 0) and value side by side: the value of the
  // segment found is on the cache line its start was compared on — one miss less per lookup
  // than parallel arrays, which was most of an ASN lookup's cost in Finish.
  struct V4Segment {
    uint32_t start;
    uint32_t value;
  };
  V4Segments<V4Segment> v4_;
  std::vector<U128> v6_start_;      // [0] == 0; the IPv4 block is one kNone segment here
  std::vector<uint32_t> v6_value_;
};

// Every source's IPv4 answers merged (Enricher::Lookup): per segment the ASN of the first ASN
// source that knows the address and the country of the first country source that does.
class V4Table {
 public:
  static constexpr uint16_t kNoCountry = 0xFFFF;
  struct Segment {
    uint32_t start;
    uint32_t asn;
    uint16_t country;  // index (CountryCode), kNoCountry: unknown
    uint16_t has_asn;
  };
  // From each source's runs (ExportV4), in source order.
  static V4Table Merge(const std::vector<std::vector<V4Run>>& asn,
                       const std::vector<std::vector<V4Run>>& country);
  const Segment& Find(uint32_t x) const { return segs_.Find(x); }
  size_t size() const { return segs_.size(); }

 private:
  V4Segments<Segment> segs_;
};

// Loaders. `path` is used in messages.
Result<std::unique_ptr<Source>> LoadTable(const std::string& path, Kind kind);
Result<std::unique_ptr<Source>> OpenMmdb(const std::string& path, Kind kind);

}  // namespace fluxscore::dns::enrich_internal
