// BottomK (exact distinct set up to a cap, bottom-k sample beyond) against a reference built
// from std::set: the same members, the same saturation, after every insert, for caps from 2
// to 2048, with heavy repeats (busy names), hash 0, merges and restores.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <random>
#include <set>
#include <vector>

#include "dns/features/sketch.h"

namespace fluxscore::dns {
namespace {

struct Reference {
  std::set<uint64_t> kept;
  bool saturated = false;
  int Insert(uint64_t h, size_t cap) {
    if (kept.count(h)) return 0;
    if (saturated && h >= *kept.rbegin()) return 0;
    kept.insert(h);
    if (kept.size() > cap) {
      kept.erase(std::prev(kept.end()));
      saturated = true;
      return 0;
    }
    return 1;
  }
};

template <typename T>
std::vector<uint64_t> Hashes(const BottomK<T>& k) {
  std::vector<uint64_t> v;
  for (const auto& it : k.items()) v.push_back(it.hash);
  return v;
}

void ExpectSame(const BottomK<uint32_t>& k, const Reference& r) {
  ASSERT_EQ(Hashes(k), std::vector<uint64_t>(r.kept.begin(), r.kept.end()));
  ASSERT_EQ(k.saturated(), r.saturated);
  for (const auto& it : k.items()) ASSERT_EQ(it.value, static_cast<uint32_t>(it.hash * 7));
}

TEST(BottomKTest, MatchesAnExactReference) {
  std::mt19937_64 rng(12345);
  for (size_t cap : {2u, 5u, 47u, 48u, 49u, 100u, 700u, 2048u}) {
    for (uint64_t universe : {3ull, 40ull, 60ull, 500ull, 5000ull, 1ull << 40}) {
      BottomK<uint32_t> k;
      Reference r;
      for (int step = 0; step < 6000; ++step) {
        // Hashes from a small universe repeat a lot; mixing keeps them spread like real ones;
        // value 0 of the universe is hash 0 itself.
        const uint64_t x = rng() % universe;
        const uint64_t h = x == 0 ? 0 : Mix64(x);
        const int added = k.Insert(h, static_cast<uint32_t>(h * 7), cap);
        ASSERT_EQ(added, r.Insert(h, cap)) << "cap " << cap << " universe " << universe << " step " << step;
        if (step % 97 == 0) ExpectSame(k, r);
      }
      ExpectSame(k, r);
    }
  }
}

// The rank of a hash is guessed by interpolation (uniform hashes); hashes that are not uniform
// (all near 0, all near 2^64, in two tight clusters, powers of two) make the guess far off and
// exercise the galloping in both directions. Membership and order must stay exact.
TEST(BottomKTest, ClusteredHashesStayExact) {
  std::mt19937_64 rng(4242);
  const std::vector<std::function<uint64_t(uint64_t)>> shapes = {
      [](uint64_t x) { return x; },                           // all near 0
      [](uint64_t x) { return ~uint64_t{0} - x; },            // all near 2^64
      [](uint64_t x) { return (x % 2 ? uint64_t{1} << 63 : 0) + x / 2; },  // two clusters
      [](uint64_t x) { return uint64_t{1} << (x % 64); },     // powers of two
      [](uint64_t x) { return x * 0x0000100000000000ull; },   // evenly spaced, wrapping
  };
  for (size_t shape = 0; shape < shapes.size(); ++shape) {
    for (size_t cap : {17u, 100u, 2048u}) {
      BottomK<uint32_t> k;
      Reference r;
      for (int step = 0; step < 8000; ++step) {
        const uint64_t h = shapes[shape](rng() % 3000);
        ASSERT_EQ(k.Insert(h, static_cast<uint32_t>(h * 7), cap), r.Insert(h, cap))
            << "shape " << shape << " cap " << cap << " step " << step;
        if (step % 211 == 0) ExpectSame(k, r);
      }
      ExpectSame(k, r);
    }
  }
}

TEST(BottomKTest, MergeAndRestoreMatchTheReference) {
  std::mt19937_64 rng(7);
  const size_t cap = 300;
  for (int trial = 0; trial < 20; ++trial) {
    BottomK<uint32_t> a, b;
    Reference ra, rb;
    const uint64_t universe = 50 + rng() % 2000;
    for (int i = 0; i < 400; ++i) {
      uint64_t h = Mix64(rng() % universe + 1);
      a.Insert(h, static_cast<uint32_t>(h * 7), cap);
      ra.Insert(h, cap);
      h = Mix64(rng() % universe + 1);
      b.Insert(h, static_cast<uint32_t>(h * 7), cap);
      rb.Insert(h, cap);
    }
    a.Merge(b, cap);
    for (uint64_t h : rb.kept) ra.Insert(h, cap);
    ra.saturated = ra.saturated || rb.saturated;
    ExpectSame(a, ra);
    // Keep inserting after the merge: the merged set must go on behaving like the reference.
    for (int i = 0; i < 2000; ++i) {
      const uint64_t h = Mix64(rng() % universe + 1);
      ASSERT_EQ(a.Insert(h, static_cast<uint32_t>(h * 7), cap), ra.Insert(h, cap));
    }
    ExpectSame(a, ra);
    BottomK<uint32_t> c;
    c.Restore(a.items(), a.saturated());
    for (int i = 0; i < 2000; ++i) {
      const uint64_t h = Mix64(rng() % (universe * 2) + 1);
      ASSERT_EQ(c.Insert(h, static_cast<uint32_t>(h * 7), cap), ra.Insert(h, cap));
    }
    ExpectSame(c, ra);
  }
}

}  // namespace
}  // namespace fluxscore::dns

namespace fluxscore::dns {
namespace {

TEST(Mix64Test, UnmixInvertsMix) {
  std::mt19937_64 rng(99);
  for (uint64_t x : {0ull, 1ull, 0x9E3779B97F4A7C15ull, ~0ull}) EXPECT_EQ(Unmix64(Mix64(x)), x);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t x = rng();
    ASSERT_EQ(Unmix64(Mix64(x)), x);
    ASSERT_EQ(Mix64(Unmix64(x)), x);
  }
}

}  // namespace
}  // namespace fluxscore::dns
