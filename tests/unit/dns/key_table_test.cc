// The aggregator's key table with forced hash collisions: keys that share a 64-bit hash (and a
// length) must still get their own entries, through the one-at-a-time lookup and through the
// batched one whose byte comparison comes later (FindOrInsertUnconfirmed + KeyBytesEqual).
#include "dns/features/key_table.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace fluxscore::dns::features_internal {
namespace {

struct State {
  int value = 0;
};

// The batched lookup as Aggregator::Impl::Flush does it: a batch of keys first, their byte
// comparisons after the whole batch went in.
std::vector<uint32_t> BatchLookup(KeyTable<State>& t, const std::vector<std::string>& keys,
                                  const std::vector<uint64_t>& hashes) {
  std::vector<uint32_t> index(keys.size());
  std::vector<uint64_t> offset(keys.size());
  std::vector<bool> confirmed(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    bool created;
    index[i] = t.FindOrInsertUnconfirmed(keys[i], hashes[i], &created, &offset[i]);
    confirmed[i] = created;
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!confirmed[i] && !t.KeyBytesEqual(offset[i], keys[i])) {
      bool created;
      index[i] = t.FindOrInsertHashed(keys[i], hashes[i], &created);
    }
  }
  return index;
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
      ASSERT_EQ(t.Key(got[i]), batch[i]);
      ++t.states[got[i]].value;
    }
  }
  EXPECT_EQ(t.size(), seen.size());
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
  EXPECT_EQ(t.Find("alpha"), std::optional<uint32_t>(a));
  EXPECT_EQ(t.Find("alphb"), std::nullopt);
  EXPECT_EQ(t.Find(""), std::nullopt);
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
