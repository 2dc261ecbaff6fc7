// Hashes of byte strings for open-addressing tables: FNV-1a over 8-byte words (the last one
// zero-padded), then a multiply-xorshift finaliser, so that the low bits (the table index) depend
// on every byte. A word at a time: a name's eight bytes cost one multiply, not eight.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace fluxscore {

inline uint64_t MixBits(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

inline uint64_t HashWord(uint64_t h, uint64_t w) {
  h = (h ^ w) * 0x100000001b3ULL;
  return h ^ (h >> 29);
}
// The n < 8 bytes at p as a little-endian word, zero-padded (what a memcpy of n bytes into a
// zeroed word gives), from two overlapping loads inside [p, p + n): a memcpy of a variable size
// is a call, and its narrow stores read back as one word stall the load.
inline uint64_t LoadTail(const char* p, size_t n) {
  if (n >= 4) {
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    return a | uint64_t{b} << (8 * (n - 4));
  }
  if (n == 0) return 0;
  const auto byte = [&](size_t k) { return uint64_t{static_cast<unsigned char>(p[k])} << (8 * k); };
  return byte(0) | byte(n / 2) | byte(n - 1);
}

// The words of `bytes` into h, the last (partial or empty) one zero-padded; no finaliser.
inline uint64_t HashWords(uint64_t h, std::string_view bytes) {
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, bytes.data() + i, 8);
    h = HashWord(h, w);
  }
  return (h ^ LoadTail(bytes.data() + i, bytes.size() - i)) * 0x100000001b3ULL;
}

// The loaders' tables (Public Suffix List, organisations of ASN files).
inline uint64_t HashText(std::string_view s) { return MixBits(HashWords(0xcbf29ce484222325ULL ^ s.size(), s)); }

}  // namespace fluxscore
