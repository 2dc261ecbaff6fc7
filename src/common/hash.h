// Hashes for the open-addressing tables of the loaders (Public Suffix List, ASN range files):
// FNV-1a over the bytes with a multiply-xorshift finaliser, so that the low bits (the table
// index) depend on every byte.
#pragma once

#include <cstdint>
#include <string_view>

namespace fluxscore {

inline uint64_t MixBits(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

inline uint64_t HashText(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL ^ s.size();
  for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return MixBits(h);
}

}  // namespace fluxscore
