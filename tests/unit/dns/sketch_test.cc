// BottomK (exact distinct set up to a cap, bottom-k sample beyond) against a reference built
// from std::set: the same members, the same saturation, after every insert, for caps from 2
// to 2048, with heavy repeats (busy names), hash 0, merges and restores.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <random>
#include <set>
#include <vector>

#include "dns/features/ip_sketch.h"
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

namespace fluxscore::dns {
namespace {

// CompactVec keeps one item of at most 8 bytes inline (no heap block); growing, copying,
// moving and restoring across that boundary must keep the items.
TEST(CompactVecTest, OneSmallItemInlineThenOnTheHeap) {
  CompactVec<uint64_t> v;
  EXPECT_EQ(v.heap_bytes(), 0u);
  v.push_back(41);
  EXPECT_EQ(v.size(), 1u);
  EXPECT_EQ(v.heap_bytes(), 0u);  // inline
  EXPECT_EQ(v[0], 41u);
  CompactVec<uint64_t> copy = v, moved = std::move(copy);
  EXPECT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0], 41u);
  v.insert(0, 7);  // to the heap, keeping the inline item
  EXPECT_GT(v.heap_bytes(), 0u);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0], 7u);
  EXPECT_EQ(v[1], 41u);
  for (uint64_t i = 0; i < 100; ++i) v.push_back(i);
  EXPECT_EQ(v.size(), 102u);
  EXPECT_EQ(v.back(), 99u);
  CompactVec<uint64_t> w;
  w.Assign(v.data() + 1, 1);
  EXPECT_EQ(w.heap_bytes(), 0u);
  EXPECT_EQ(w[0], 41u);
  w = v;
  EXPECT_EQ(w.size(), 102u);
  EXPECT_EQ(w[101], 99u);
  w.pop_back();
  w.Assign(v.data(), 0);
  EXPECT_TRUE(w.empty());
  CompactVec<uint64_t> x;
  x.push_back(5);
  x.pop_back();
  x.push_back(6);  // reuses the inline room
  EXPECT_EQ(x[0], 6u);
}

std::vector<uint64_t> NoValueHashes(const BottomK<NoValue>& k) {
  std::vector<uint64_t> v;
  for (const auto& it : k.items()) v.push_back(it.hash);
  return v;
}

// BottomK<NoValue> (8-byte members: the inline path) against the reference, with merges and
// restores of sets of every small size.
TEST(BottomKTest, EightByteMembersMatchTheReference) {
  std::mt19937_64 rng(2026);
  for (size_t cap : {2u, 3u, 64u}) {
    for (uint64_t universe : {1ull, 2ull, 5ull, 300ull}) {
      for (int trial = 0; trial < 50; ++trial) {
        BottomK<NoValue> a, b;
        Reference ra, rb;
        const int n = static_cast<int>(rng() % 6);
        for (int i = 0; i < n; ++i) {
          const uint64_t h = Mix64(rng() % universe + 1);
          ASSERT_EQ(a.Insert(h, NoValue(), cap), ra.Insert(h, cap));
          const uint64_t g = Mix64(rng() % universe + 1);
          ASSERT_EQ(b.Insert(g, NoValue(), cap), rb.Insert(g, cap));
        }
        ASSERT_EQ(NoValueHashes(a), std::vector<uint64_t>(ra.kept.begin(), ra.kept.end()));
        BottomK<NoValue> c;
        c.Restore(a.items(), a.saturated());
        c.Merge(b, cap);
        for (uint64_t h : rb.kept) ra.Insert(h, cap);
        ra.saturated = ra.saturated || rb.saturated;
        ASSERT_EQ(NoValueHashes(c), std::vector<uint64_t>(ra.kept.begin(), ra.kept.end()));
        ASSERT_EQ(c.saturated(), ra.saturated);
        BottomK<NoValue> d = c;
        const uint64_t h = Mix64(rng() % universe + 1);
        ASSERT_EQ(d.Insert(h, NoValue(), cap), ra.Insert(h, cap));
        ASSERT_EQ(NoValueHashes(d), std::vector<uint64_t>(ra.kept.begin(), ra.kept.end()));
      }
    }
  }
}

IpAddr V4(uint32_t x) { return IpAddr::FromV4(x); }
IpAddr V6(uint64_t x) {
  IpAddr a;
  a.bytes[0] = 0x20;
  a.bytes[1] = 0x01;
  for (int i = 0; i < 8; ++i) a.bytes[8 + i] = static_cast<uint8_t>(x >> (8 * i));
  return a;
}

std::vector<std::pair<uint64_t, IpAddr>> Members(const IpSketch& s) {
  std::vector<std::pair<uint64_t, IpAddr>> v;
  s.ForEach([&](uint64_t h, const IpAddr& a) { v.emplace_back(h, a); });
  return v;
}
std::vector<std::pair<uint64_t, IpAddr>> Members(const BottomK<IpAddr>& s) {
  std::vector<std::pair<uint64_t, IpAddr>> v;
  for (const auto& it : s.items()) v.emplace_back(it.hash, it.value);
  return v;
}

TEST(IpSketchTest, Ipv4AddressesComeBackFromTheirHash) {
  std::mt19937_64 rng(1);
  for (uint32_t x : {0u, 1u, 0x7f000001u, 0xffffffffu}) EXPECT_EQ(IpOfHashV4(IpHash(V4(x))), V4(x));
  for (int i = 0; i < 100000; ++i) {
    const IpAddr a = V4(static_cast<uint32_t>(rng()));
    ASSERT_EQ(IpOfHashV4(IpHash(a)), a);
  }
}

// The aggregator hashes an IPv4 answer from its 32 bits (IpHashV4): the same as IpHash of its IpAddr.
TEST(IpSketchTest, Ipv4HashFromTheAddressIsIpHash) {
  std::mt19937_64 rng(2);
  for (uint32_t x : {0u, 1u, 0xffu, 0xff00u, 0x7f000001u, 0x80000000u, 0xffffffffu})
    EXPECT_EQ(IpHashV4(x), IpHash(IpAddr::FromV4(x))) << x;
  for (int i = 0; i < 100000; ++i) {
    const uint32_t x = static_cast<uint32_t>(rng());
    ASSERT_EQ(IpHashV4(x), IpHash(IpAddr::FromV4(x))) << x;
  }
}

// The same members, values, saturation and insert results as BottomK<IpAddr> (24-byte items),
// for mixes of IPv4 and IPv6, through samples, merges and restores; also when an IPv6 value
// comes with the hash of an IPv4 member or the other way round (a 64-bit collision: the first
// value stays, as in BottomK).
TEST(IpSketchTest, MatchesBottomKOfAddresses) {
  std::mt19937_64 rng(77);
  for (size_t cap : {2u, 3u, 10u, 200u}) {
    for (int v6_percent : {0, 10, 50, 100}) {
      for (int trial = 0; trial < 12; ++trial) {
        const uint64_t universe = 1 + rng() % 600;
        auto draw = [&](uint64_t* h, IpAddr* a) {
          const uint64_t x = rng() % universe;
          if (static_cast<int>(rng() % 100) < v6_percent) {
            *a = V6(x);
            // Now and then an IPv6 value under an IPv4 hash of the universe (forced collision).
            *h = rng() % 50 == 0 ? IpHash(V4(static_cast<uint32_t>(x))) : IpHash(*a);
          } else {
            *a = V4(static_cast<uint32_t>(x));
            *h = IpHash(*a);
          }
        };
        IpSketch s, t;
        BottomK<IpAddr> rs, rt;
        for (int i = 0; i < 1500; ++i) {
          uint64_t h;
          IpAddr a;
          draw(&h, &a);
          ASSERT_EQ(s.Insert(h, a, cap), rs.Insert(h, a, cap)) << "cap " << cap << " step " << i;
          if (i % 3 == 0) {
            draw(&h, &a);
            t.Insert(h, a, cap);
            rt.Insert(h, a, cap);
          }
          if (i % 101 == 0) {
            ASSERT_EQ(Members(s), Members(rs));
          }
        }
        ASSERT_EQ(Members(s), Members(rs));
        ASSERT_EQ(s.saturated(), rs.saturated());
        ASSERT_EQ(s.Count(), rs.Count());
        ASSERT_EQ(s.size(), rs.items().size());
        s.Merge(t, cap);
        rs.Merge(rt, cap);
        ASSERT_EQ(Members(s), Members(rs));
        ASSERT_EQ(s.saturated(), rs.saturated());
        IpSketch copy = s, restored;
        const auto members = s.Members();
        restored.Restore(members, s.saturated());
        IpSketch moved = std::move(copy);
        for (int i = 0; i < 300; ++i) {
          uint64_t h;
          IpAddr a;
          draw(&h, &a);
          const int want = rs.Insert(h, a, cap);
          ASSERT_EQ(restored.Insert(h, a, cap), want);
          ASSERT_EQ(moved.Insert(h, a, cap), want);
        }
        ASSERT_EQ(Members(restored), Members(rs));
        ASSERT_EQ(Members(moved), Members(rs));
        ASSERT_GT(moved.bytes() + 1, 0u);
      }
    }
  }
}

}  // namespace
}  // namespace fluxscore::dns

namespace fluxscore::dns {
namespace {

// The lazy form: Append in any order (repeats included), Normalize at any point — the same
// members and saturation as Insert of the same hashes; inserts after a Normalize continue it.
TEST(BottomKTest, AppendThenNormalizeEqualsInsert) {
  std::mt19937_64 rng(31);
  for (size_t cap : {2u, 3u, 7u, 64u, 300u}) {
    for (uint64_t universe : {1ull, 3ull, 50ull, 400ull, 1ull << 40}) {
      for (int trial = 0; trial < 10; ++trial) {
        BottomK<NoValue> lazy, eager;
        const int n = static_cast<int>(rng() % 1500);
        for (int i = 0; i < n; ++i) {
          const uint64_t h = Mix64(rng() % universe + 1);
          lazy.Append(h, cap);
          eager.Insert(h, NoValue(), cap);
          if (rng() % 200 == 0) {  // a read in between: normalize, compare, go on appending
            lazy.Normalize(cap);
            ASSERT_EQ(NoValueHashes(lazy), NoValueHashes(eager));
            ASSERT_EQ(lazy.saturated(), eager.saturated());
          }
        }
        lazy.Normalize(cap);
        ASSERT_EQ(NoValueHashes(lazy), NoValueHashes(eager)) << "cap " << cap << " universe " << universe;
        ASSERT_EQ(lazy.saturated(), eager.saturated());
        ASSERT_EQ(lazy.Count(), eager.Count());
        ASSERT_LE(lazy.items().size(), cap);
        // Normalize again: no change; Merge of normalized lazy sets as of eager ones.
        lazy.Normalize(cap);
        ASSERT_EQ(NoValueHashes(lazy), NoValueHashes(eager));
        BottomK<NoValue> other_lazy, other_eager;
        for (int i = 0; i < 100; ++i) {
          const uint64_t h = Mix64(rng() % universe + 1);
          other_lazy.Append(h, cap);
          other_eager.Insert(h, NoValue(), cap);
        }
        other_lazy.Normalize(cap);
        lazy.Merge(other_lazy, cap);
        eager.Merge(other_eager, cap);
        ASSERT_EQ(NoValueHashes(lazy), NoValueHashes(eager));
        ASSERT_EQ(lazy.saturated(), eager.saturated());
      }
    }
  }
}

}  // namespace
}  // namespace fluxscore::dns
