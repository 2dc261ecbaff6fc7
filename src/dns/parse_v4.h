// The dotted-quad parser shared by IpAddr::Parse and the readers' inline address path
// (dns/ingest/common.h): one definition, inlined where addresses are parsed per log line.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace fluxscore::dns {

// Dotted quad, inet_pton rules: four decimal parts 0-255 of one to three digits, no leading
// zeros ("0" itself is fine), separated by single dots, nothing else.
[[gnu::always_inline]] inline bool ParseV4(std::string_view t, uint32_t& out) {
  const size_t n = t.size();
  if (n < 7 || n > 15) return false;
  // The text in a zero-padded 16-byte buffer, from two overlapping loads that stay inside it:
  // the NUL after the text ends the last part, so the parts need no bounds checks.
  unsigned char s[16];
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  uint64_t lo, hi = 0;
  if (n >= 8) {
    std::memcpy(&lo, t.data(), 8);
    if (n > 8) {
      std::memcpy(&hi, t.data() + n - 8, 8);
      hi >>= 8 * (16 - n);  // bytes 8 .. n-1 of the text, then zeros
    }
  } else {
    uint32_t a, b;
    std::memcpy(&a, t.data(), 4);
    std::memcpy(&b, t.data() + 3, 4);
    lo = a | (uint64_t{b} << 24);  // bytes 0..6 (byte 3 from both), then a zero
  }
  std::memcpy(s, &lo, 8);
  std::memcpy(s + 8, &hi, 8);
#else
  std::memset(s, 0, sizeof s);
  std::memcpy(s, t.data(), n);
#endif
  const unsigned char* q = s;
  uint32_t v = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (*q != '.') return false;
      ++q;
    }
    // q[1] is read only when q[0] is a digit of the text, and q[2] only when q[1] is: all
    // inside the buffer (the text ends by position 15 with a zero after it).
    uint32_t x = static_cast<uint32_t>(q[0]) - '0';
    if (x > 9) return false;
    const uint32_t d1 = static_cast<uint32_t>(q[1]) - '0';
    if (d1 > 9) {
      q += 1;
    } else {
      if (x == 0) return false;  // leading zero
      x = x * 10 + d1;
      const uint32_t d2 = static_cast<uint32_t>(q[2]) - '0';
      if (d2 > 9) {
        q += 2;
      } else {
        x = x * 10 + d2;
        if (x > 255) return false;
        q += 3;
      }
    }
    v = (v << 8) | x;
  }
  if (q != s + n) return false;
  out = v;
  return true;
}

}  // namespace fluxscore::dns
