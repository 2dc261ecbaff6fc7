// The aggregator's key table with forced hash collisions: keys that share a 64-bit hash (and a
// length) must still get their own entries, through the one-at-a-time lookup and through the
// batched one whose byte comparison comes later (FindOrInsertUnconfirmed + KeyBytesEqual); and
// its single entries (a payload instead of a state until MakeFull).
#include "dns/features/key_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace fluxscore::dns::features_internal {
namespace {

struct State {
  int value = 0;
};

// The batched lookup as Aggregator::Impl's pipeline does it: a batch of keys first, their byte
// comparisons after the whole batch went in. With `single`, new keys are singles whose payload
// is "p:" + the key, made full (replaying the payload into value = its length) when seen again.
std::vector<uint32_t> BatchLookup(KeyTable<State>& t, const std::vector<std::string>& keys,
                                  const std::vector<uint64_t>& hashes, bool single = false) {
  std::vector<uint32_t> index(keys.size());
  std::vector<uint64_t> offset(keys.size());
  std::vector<bool> confirmed(keys.size()), created(keys.size());
  std::vector<std::string> payloads;
  for (const std::string& k : keys) payloads.push_back("p:" + k);
  for (size_t i = 0; i < keys.size(); ++i) {
    bool c;
    index[i] = t.FindOrInsertUnconfirmed(keys[i], hashes[i], &c, &offset[i], single, payloads[i]);
    confirmed[i] = c;
    created[i] = c;
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!confirmed[i] && !t.KeyBytesEqual(offset[i], keys[i])) {
      bool c;
      index[i] = t.FindOrInsertHashed(keys[i], hashes[i], &c, single, payloads[i]);
      created[i] = c;
    }
    if (single && !created[i]) {
      bool promoted;
      index[i] = t.MakeFull(keys[i], hashes[i], &promoted, [&](State& s, const char* payload) {
        EXPECT_EQ(std::string(payload, payloads[i].size()), payloads[i]);
        s.value = static_cast<int>(payloads[i].size());
      });
    }
  }
  return index;
}

// Every entry's reference, by key (ForEach).
std::map<std::string, uint32_t> Entries(const KeyTable<State>& t) {
  std::map<std::string, uint32_t> out;
  t.ForEach([&](std::string_view key, uint32_t ref) { EXPECT_TRUE(out.emplace(std::string(key), ref).second); });
  return out;
}

TEST(KeyTableTest, CollidingHashesKeepTheirOwnEntries) {
  std::mt19937_64 rng(5);
  KeyTable<State> t;
  std::map<std::string, uint32_t> seen;  // key -> index
  // Keys of a few lengths; hashes from a tiny set, so most keys of one length collide fully.
  for (int round = 0; round < 400; ++round) {
    std::vector<std::string> batch;
    std::vector<uint64_t> hashes;
    for (int i = 0; i < 32; ++i) {
      const size_t len = 8 + rng() % 3;
      std::string k(len, 'a');
      for (char& c : k) c = static_cast<char>('a' + rng() % 3);
      batch.push_back(k);
      // Slots keep the low 32 bits of a hash: hashes that differ only above them collide too.
      const uint64_t r = rng() % 8;
      hashes.push_back(r < 2 ? HashKey(k) : r < 5 ? 0x1234 + rng() % 3 : (rng() % 3) << 32 | 0x1234);
    }
    // A key's hash must be a function of the key: the first hash chosen for a key sticks.
    static std::map<std::string, uint64_t> hash_of;
    for (size_t i = 0; i < batch.size(); ++i) {
      auto [it, fresh] = hash_of.emplace(batch[i], hashes[i]);
      hashes[i] = it->second;
    }
    const std::vector<uint32_t> got = round % 2 == 0 ? BatchLookup(t, batch, hashes) : [&] {
      std::vector<uint32_t> one(batch.size());
      for (size_t i = 0; i < batch.size(); ++i) {
        bool created;
        one[i] = t.FindOrInsertHashed(batch[i], hashes[i], &created);
      }
      return one;
    }();
    for (size_t i = 0; i < batch.size(); ++i) {
      auto [it, fresh] = seen.emplace(batch[i], got[i]);
      ASSERT_EQ(it->second, got[i]) << batch[i] << " round " << round;
      ++t.states[got[i]].value;
    }
  }
  EXPECT_EQ(t.size(), seen.size());
  EXPECT_EQ(Entries(t), seen);  // every key's entry holds its own bytes
  EXPECT_GT(seen.size(), 1000u);
  // Distinct keys, distinct entries.
  std::map<uint32_t, std::string> by_index;
  for (const auto& [k, i] : seen) ASSERT_TRUE(by_index.emplace(i, k).second) << k;
}

TEST(KeyTableTest, FindSeesInsertedKeysOnly) {
  KeyTable<State> t;
  bool created;
  const uint32_t a = t.FindOrInsert("alpha", &created);
  EXPECT_TRUE(created);
  EXPECT_EQ(t.FindOrInsert("alpha", &created), a);
  EXPECT_FALSE(created);
  ASSERT_TRUE(t.Find("alpha").has_value());
  EXPECT_EQ(t.Find("alpha")->ref, a);
  EXPECT_FALSE(t.Find("alphb").has_value());
  EXPECT_FALSE(t.Find("").has_value());
}

// The states are alignas(64) (KeyState: three cache lines): every element of the chunked store
// must be aligned so, from its first, small chunks (ordinary heap) to the huge-page ones. (The
// small chunks came from plain operator new, 16-byte aligned: an -march=native build crashed on
// its 64-byte aligned stores.) Several stores, so that a lucky malloc does not hide it.
TEST(KeyTableTest, StatesAreAlignedToTheirType) {
  struct alignas(64) Wide {
    uint64_t v[24] = {};
  };
  std::vector<std::unique_ptr<ChunkedStore<Wide>>> stores;
  for (int s = 0; s < 16; ++s) {
    stores.push_back(std::make_unique<ChunkedStore<Wide>>());
    for (int i = 0; i < 20000; ++i) {
      stores.back()->emplace_back();
      const size_t at = stores.back()->size() - 1;
      ASSERT_EQ(reinterpret_cast<uintptr_t>(&(*stores.back())[at]) % 64, 0u) << "store " << s << " item " << at;
    }
  }
}

// A single holds its payload until MakeFull replays it into a new state, once; the table
// still finds the key, with the same reference from then on.
TEST(KeyTableTest, SinglesKeepTheirPayloadUntilMadeFull) {
  using T = KeyTable<State>;
  T t;
  bool created;
  const uint64_t ha = HashKey("alpha"), hb = HashKey("beta");
  EXPECT_TRUE(T::IsSingle(t.FindOrInsertHashed("alpha", ha, &created, true, "first-record")));
  EXPECT_TRUE(created);
  EXPECT_TRUE(T::IsSingle(t.FindOrInsertHashed("beta", hb, &created, true, "")));
  EXPECT_TRUE(created);
  EXPECT_EQ(t.states.size(), 0u);  // no state for a single
  EXPECT_TRUE(T::IsSingle(t.FindOrInsertHashed("alpha", ha, &created, true, "second")));
  EXPECT_FALSE(created);  // (the first payload stays)
  const auto found = t.Find("alpha");
  ASSERT_TRUE(found.has_value());
  EXPECT_TRUE(T::IsSingle(found->ref));
  EXPECT_EQ(std::string(found->payload, 12), "first-record");
  int replays = 0;
  bool promoted;
  const uint32_t ref = t.MakeFull("alpha", ha, &promoted, [&](State& s, const char* payload) {
    ++replays;
    EXPECT_EQ(std::string(payload, 12), "first-record");
    s.value = 7;
  });
  EXPECT_TRUE(promoted);
  EXPECT_FALSE(T::IsSingle(ref));
  EXPECT_EQ(t.states[ref].value, 7);
  EXPECT_EQ(t.MakeFull("alpha", ha, &promoted, [&](State&, const char*) { ++replays; }), ref);
  EXPECT_FALSE(promoted);
  EXPECT_EQ(replays, 1);
  EXPECT_EQ(t.FindOrInsertHashed("alpha", ha, &created, true, "third"), ref);
  EXPECT_FALSE(created);
  EXPECT_EQ(t.Find("alpha")->ref, ref);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.states.size(), 1u);
  const auto entries = Entries(t);
  EXPECT_EQ(entries.at("alpha"), ref);
  EXPECT_TRUE(T::IsSingle(entries.at("beta")));
}

// Singles through the batched lookup with colliding hashes: every key its own entry, each made
// full from its own payload when seen again (the table grows in between).
TEST(KeyTableTest, CollidingSinglesAreMadeFullFromTheirOwnPayload) {
  std::mt19937_64 rng(11);
  KeyTable<State> t;
  std::map<std::string, int> times;
  std::map<std::string, uint64_t> hash_of;
  for (int round = 0; round < 300; ++round) {
    std::vector<std::string> batch;
    std::vector<uint64_t> hashes;
    for (int i = 0; i < 32; ++i) {
      std::string k(8 + rng() % 3, 'a');
      for (char& c : k) c = static_cast<char>('a' + rng() % 4);
      const uint64_t r = rng() % 4;
      auto [it, fresh] = hash_of.emplace(k, r == 0 ? HashKey(k) : 0x99 + rng() % 2);
      batch.push_back(k);
      hashes.push_back(it->second);
    }
    const std::vector<uint32_t> got = BatchLookup(t, batch, hashes, true);
    for (size_t i = 0; i < batch.size(); ++i) {
      const bool first = times[batch[i]]++ == 0;
      // A key's first record made a single; any later one made it full from "p:" + key.
      if (first && std::count(batch.begin(), batch.begin() + static_cast<long>(i), batch[i]) == 0) {
        ASSERT_TRUE(KeyTable<State>::IsSingle(got[i])) << batch[i];
      } else {
        ASSERT_FALSE(KeyTable<State>::IsSingle(got[i])) << batch[i];
        ASSERT_EQ(t.states[got[i]].value, static_cast<int>(batch[i].size()) + 2) << batch[i];
      }
    }
  }
  EXPECT_EQ(t.size(), times.size());
  EXPECT_GT(times.size(), 1000u);
  size_t singles = 0;
  for (const auto& [k, ref] : Entries(t)) {
    ASSERT_EQ(KeyTable<State>::IsSingle(ref), times.at(k) == 1) << k;
    singles += KeyTable<State>::IsSingle(ref);
  }
  EXPECT_EQ(t.states.size(), times.size() - singles);
}

}  // namespace
}  // namespace fluxscore::dns::features_internal

// The aggregator hashes (window, domain) without building the key: HashKeyParts(first word, rest)
// must be HashKey of the 8 window bytes followed by the rest, for every rest length around the
// 8-byte word boundaries.
namespace fluxscore::dns {
TEST(KeyTableTest, HashKeyPartsIsHashKeyOfTheJoinedBytes) {
  std::string rest;
  for (size_t n = 0; n < 40; ++n) {
    for (uint64_t window : {uint64_t{0}, uint64_t{1795996800}, ~uint64_t{0} - 86399}) {
      std::string key(8, '\0');
      for (int i = 0; i < 8; ++i) key[static_cast<size_t>(i)] = static_cast<char>(window >> (56 - 8 * i));
      key += rest;
      uint64_t first;
      std::memcpy(&first, key.data(), 8);
      EXPECT_EQ(features_internal::HashKeyParts(first, rest), features_internal::HashKey(key)) << n;
    }
    rest.push_back(static_cast<char>('a' + n % 26));
  }
}

// Hashes read a string's last partial word with two overlapping loads (LoadTail): the word a
// memcpy of those bytes into a zeroed word gives, for every length and every byte value.
TEST(KeyTableTest, LoadTailIsTheZeroPaddedWord) {
  std::mt19937_64 rng(9);
  for (int round = 0; round < 20000; ++round) {
    unsigned char buf[16];
    for (unsigned char& c : buf) c = static_cast<unsigned char>(rng());
    const size_t at = rng() % 8, n = static_cast<size_t>(round % 8);
    uint64_t want = 0;
    std::memcpy(&want, buf + at, n);
    ASSERT_EQ(LoadTail(reinterpret_cast<const char*>(buf + at), n), want) << n;
  }
}
}  // namespace fluxscore::dns
