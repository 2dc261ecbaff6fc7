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

// Index of segments by the first 16 bits of their starts: index[h] is the first segment whose
// start's top 16 bits are h or more (65537 entries). A lookup then searches only the segments of
// its address's top 16 bits and the one in force where they begin (segments start ascending, the
// first at 0, each in force up to the next start).
template <typename Top16>
std::vector<uint32_t> IndexBy16(size_t n, Top16 top16) {
  std::vector<uint32_t> index(65537);
  size_t k = 0;
  for (uint32_t h = 0; h <= 65536; ++h) {
    while (k < n && top16(k) < h) ++k;
    index[h] = static_cast<uint32_t>(k);
  }
  return index;
}
// The segment in force at an address whose top 16 bits are h: the last i in the index's range
// for h (and the segment before it) with at_or_below(i), found by a branch-free binary search.
template <typename AtOrBelow>
size_t FindBy16(const std::vector<uint32_t>& index, uint32_t h, AtOrBelow at_or_below) {
  size_t lo = index[h];
  const size_t hi = index[h + 1];
  if (lo > 0) --lo;  // the segment that began before this block
  size_t n = hi - lo;
  while (n > 1) {
    const size_t half = n / 2;
    lo = at_or_below(lo + half) ? lo + half : lo;
    n -= half;
  }
  return lo;
}

// IPv4 segments with their /16 index.
template <typename Segment>
class V4Segments {
 public:
  void Assign(std::vector<Segment> segs) {
    segs_ = std::move(segs);
    index_ = IndexBy16(segs_.size(), [this](size_t i) { return segs_[i].start >> 16; });
  }
  const Segment& Find(uint32_t x) const {
    return segs_[FindBy16(index_, x >> 16, [&](size_t i) { return segs_[i].start <= x; })];
  }
  const std::vector<Segment>& segments() const { return segs_; }
  size_t size() const { return segs_.size(); }

 private:
  std::vector<Segment> segs_;
  std::vector<uint32_t> index_;
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
    const auto top16 = static_cast<uint32_t>(x >> 112);
    return v6_value_[FindBy16(v6_index_, top16, [&](size_t i) { return v6_start_[i] <= x; })];
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
  std::vector<uint32_t> v6_index_;  // IndexBy16 of v6_start_
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
