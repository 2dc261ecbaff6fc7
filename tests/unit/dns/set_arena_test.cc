// SetArena (the per-key sets' memory): size classes, and blocks that never overlap and keep
// their bytes through allocations, frees and reallocations in any order.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <random>
#include <vector>

#include "dns/features/set_arena.h"
#include "dns/features/sketch.h"

namespace fluxscore::dns {
namespace {

TEST(SetArenaTest, ClassesAreTheSmallestThatHold) {
  for (size_t b = 1; b <= SetArena::kMaxClass; ++b) {
    const unsigned c = SetArena::Class(b);
    ASSERT_GE(SetArena::ClassSize(c), b) << b;
    if (c > 0) {
      ASSERT_LT(SetArena::ClassSize(c - 1), b) << b;
    }
  }
  EXPECT_EQ(SetArena::ClassSize(0), 16u);
  EXPECT_EQ(SetArena::ClassSize(1), 24u);
  EXPECT_EQ(SetArena::ClassSize(2), 32u);
  EXPECT_EQ(SetArena::ClassSize(SetArena::Class(SetArena::kMaxClass)), SetArena::kMaxClass);
}

TEST(SetArenaTest, BlocksKeepTheirBytes) {
  SetArena arena;
  std::mt19937_64 rng(5);
  struct Live {
    size_t bytes;
    uint8_t fill;
  };
  std::map<uint8_t*, Live> live;
  auto fill = [](uint8_t* p, const Live& l) { std::memset(p, l.fill, l.bytes); };
  auto check = [](const uint8_t* p, const Live& l) {
    for (size_t i = 0; i < l.bytes; ++i)
      if (p[i] != l.fill) return false;
    return true;
  };
  for (int step = 0; step < 60000; ++step) {
    const int op = static_cast<int>(rng() % 3);
    // Mostly small blocks, some up to beyond the largest class (malloc'd).
    const size_t bytes = rng() % 10 == 0 ? 1 + rng() % (SetArena::kMaxClass + 5000) : 1 + rng() % 300;
    if (op == 0 || live.empty()) {
      auto* p = static_cast<uint8_t*>(arena.Allocate(bytes));
      const Live l{bytes, static_cast<uint8_t>(rng())};
      fill(p, l);
      ASSERT_TRUE(live.emplace(p, l).second);
    } else {
      auto it = live.begin();
      std::advance(it, static_cast<long>(rng() % live.size()));
      ASSERT_TRUE(check(it->first, it->second)) << "step " << step;
      if (op == 1) {
        arena.Free(it->first, it->second.bytes);
        live.erase(it);
      } else {
        Live l = it->second;
        auto* q = static_cast<uint8_t*>(arena.Reallocate(it->first, l.bytes, bytes));
        ASSERT_TRUE(check(q, Live{std::min(l.bytes, bytes), l.fill})) << "step " << step;
        live.erase(it);
        l.bytes = bytes;
        l.fill = static_cast<uint8_t>(rng());
        fill(q, l);
        ASSERT_TRUE(live.emplace(q, l).second);
      }
    }
  }
  for (const auto& [p, l] : live) ASSERT_TRUE(check(p, l));
  // No two live blocks overlap.
  const uint8_t* end = nullptr;
  for (const auto& [p, l] : live) {
    if (end != nullptr) {
      ASSERT_LE(end, p);
    }
    end = p + l.bytes;
  }
}

// Sets whose members live in an arena behave as heap ones (the arena is current while they
// change; the destructors run with it current too).
TEST(SetArenaTest, SetsInAnArena) {
  SetArena arena;
  const ArenaScope scope(&arena);
  std::mt19937_64 rng(8);
  BottomK<NoValue, ArenaAlloc> a;
  BottomK<NoValue> h;
  CompactVec<uint32_t, ArenaAlloc> v;
  for (int i = 0; i < 20000; ++i) {
    const uint64_t x = Mix64(rng() % 5000 + 1);
    ASSERT_EQ(a.Insert(x, NoValue(), 700), h.Insert(x, NoValue(), 700));
    v.push_back(static_cast<uint32_t>(i));
  }
  ASSERT_EQ(a.items().size(), h.items().size());
  for (size_t i = 0; i < a.items().size(); ++i) ASSERT_EQ(a.items()[i].hash, h.items()[i].hash);
  for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(v[i], i);
  BottomK<NoValue, ArenaAlloc> b = a;
  b.Merge(a, 300);
  EXPECT_EQ(b.items().size(), 300u);
  EXPECT_GT(arena.mapped(), 0u);
}

}  // namespace
}  // namespace fluxscore::dns
