// Flattening overlapping ranges into non-overlapping segments (the overlap rule in enrich.h).

#include <algorithm>
#include <utility>

#include "dns/enrich/source.h"

namespace fluxscore::dns::enrich_internal {

namespace {

constexpr U128 kMax = ~U128{0};
constexpr U128 kV4Base = U128{0xffff} << 32;     // ::ffff:0.0.0.0
constexpr U128 kV4Last = kV4Base + 0xffffffffu;  // ::ffff:255.255.255.255

using Segment = std::pair<U128, uint32_t>;  // start, value

// Appends a segment, keeping starts strictly increasing and neighbouring values distinct.
void Emit(std::vector<Segment>& out, U128 start, uint32_t value) {
  if (!out.empty() && out.back().first == start) {
    out.back().second = value;
    if (out.size() >= 2 && out[out.size() - 2].second == value) out.pop_back();
    return;
  }
  if (!out.empty() && out.back().second == value) return;
  out.emplace_back(start, value);
}

// The value in force at address x (segments cover everything from 0).
uint32_t ValueAt(const std::vector<Segment>& segs, U128 x) {
  auto it = std::upper_bound(segs.begin(), segs.end(), x,
                             [](U128 v, const Segment& s) { return v < s.first; });
  return std::prev(it)->second;
}

}  // namespace

SegmentTable SegmentTable::Build(std::vector<RangeInput>& r) {
  // Sorted so that, among the ranges containing an address, the winner is the one latest in this
  // order: greater start later; on equal starts the narrower later; on identical ranges the
  // earlier line later.
  auto before = [](const RangeInput& a, const RangeInput& b) {
    if (a.start != b.start) return a.start < b.start;
    if (a.end != b.end) return a.end > b.end;
    return a.line > b.line;
  };
  // Published range files come sorted by start: checking costs one pass, sorting n log n.
  if (!std::is_sorted(r.begin(), r.end(), before)) std::sort(r.begin(), r.end(), before);

  std::vector<Segment> segs;
  segs.reserve(r.size() * 2 + 2);
  Emit(segs, 0, kNone);
  // Ranges that have started, in sort order. The topmost one that has not ended is the winner
  // at the sweep position; ranges that ended beneath the top are dropped when they surface.
  std::vector<const RangeInput*> stack;
  size_t i = 0;
  U128 cur = 0;  // sweep position: every address below it is decided
  for (;;) {
    while (!stack.empty() && stack.back()->end < cur) stack.pop_back();
    if (i < r.size() && (stack.empty() || r[i].start <= stack.back()->end)) {
      // The next range starts while the current winner (if any) still runs; it takes over.
      cur = r[i].start;
      stack.push_back(&r[i]);
      ++i;
      Emit(segs, cur, stack.back()->value);
    } else if (!stack.empty()) {
      // The winner ends before the next start: the next live range below it (or none) resumes.
      const U128 e = stack.back()->end;
      stack.pop_back();
      if (e == kMax) break;  // nothing can start after the last address
      cur = e + 1;
      while (!stack.empty() && stack.back()->end < cur) stack.pop_back();
      Emit(segs, cur, stack.empty() ? kNone : stack.back()->value);
    } else {
      break;
    }
  }

  SegmentTable t;
  // IPv4 block: the segment in force at ::ffff:0.0.0.0, then those starting inside the block.
  std::vector<V4Segment> v4;
  v4.push_back({0, ValueAt(segs, kV4Base)});
  auto first_in = std::upper_bound(segs.begin(), segs.end(), kV4Base,
                                   [](U128 v, const Segment& s) { return v < s.first; });
  auto after = std::upper_bound(segs.begin(), segs.end(), kV4Last,
                                [](U128 v, const Segment& s) { return v < s.first; });
  for (auto it = first_in; it != after; ++it) {
    v4.push_back({static_cast<uint32_t>(it->first - kV4Base), it->second});
  }
  t.v4_.Assign(std::move(v4));

  // The rest: everything outside the block, with the block itself as one kNone segment (IPv4
  // addresses never search this half).
  std::vector<Segment> v6;
  v6.reserve(static_cast<size_t>(segs.size() - static_cast<size_t>(after - first_in)) + 2);
  for (auto it = segs.begin(); it != first_in; ++it) Emit(v6, it->first, it->second);
  Emit(v6, kV4Base, kNone);
  Emit(v6, kV4Last + 1, ValueAt(segs, kV4Last + 1));
  for (auto it = after; it != segs.end(); ++it) Emit(v6, it->first, it->second);
  t.v6_start_.reserve(v6.size());
  t.v6_value_.reserve(v6.size());
  for (const auto& [s, v] : v6) {
    t.v6_start_.push_back(s);
    t.v6_value_.push_back(v);
  }
  t.v6_index_ = IndexBy16(t.v6_start_.size(), [&](size_t i) { return static_cast<uint32_t>(t.v6_start_[i] >> 112); });
  return t;
}

}  // namespace fluxscore::dns::enrich_internal
