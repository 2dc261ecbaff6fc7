#include "fluxscore/dns/ip.h"

#include <arpa/inet.h>

#include <cstring>

#include "dns/parse_v4.h"

namespace fluxscore::dns {

namespace {

// Hex digit values by byte, -1 for other bytes.
struct HexTable {
  int8_t v[256];
  constexpr HexTable() : v() {
    for (int c = 0; c < 256; ++c) {
      v[c] = c >= '0' && c <= '9'   ? static_cast<int8_t>(c - '0')
             : c >= 'a' && c <= 'f' ? static_cast<int8_t>(c - 'a' + 10)
             : c >= 'A' && c <= 'F' ? static_cast<int8_t>(c - 'A' + 10)
                                    : int8_t{-1};
    }
  }
};
constexpr HexTable kHex;

int HexValue(char c) { return kHex.v[static_cast<unsigned char>(c)]; }

// glibc's inet_pton4 and inet_pton6 (2.26 and later) on [src, end), step for step, so the fast
// path accepts and refuses exactly what inet_pton does. inet_pton stops at a NUL byte (it takes
// a C string); these return -1 when they meet one, and the caller asks inet_pton itself.
int PtonV4(const char* src, const char* end, uint8_t* dst) {
  uint8_t tmp[4] = {0, 0, 0, 0};
  int k = 0, octets = 0;
  bool saw_digit = false;
  while (src < end) {
    const char ch = *src++;
    if (ch >= '0' && ch <= '9') {
      const unsigned v = tmp[k] * 10u + static_cast<unsigned>(ch - '0');
      if (saw_digit && tmp[k] == 0) return 0;
      if (v > 255) return 0;
      tmp[k] = static_cast<uint8_t>(v);
      if (!saw_digit) {
        if (++octets > 4) return 0;
        saw_digit = true;
      }
    } else if (ch == '.' && saw_digit) {
      if (octets == 4) return 0;
      tmp[++k] = 0;
      saw_digit = false;
    } else {
      return ch == '\0' ? -1 : 0;
    }
  }
  if (octets < 4) return 0;
  std::memcpy(dst, tmp, 4);
  return 1;
}

// The usual IPv6 text, group by group: 1-4 hex digits per group, single ':' between groups, and
// either eight groups or at most seven with one "::" (which may start or end the text). Writes
// the address and returns true only for such text, which inet_pton6 accepts with the same bytes;
// false for anything else (a dotted quad, '%', a NUL, bad text), which PtonV6 then decides.
bool PtonV6Plain(const char* p, const char* end, uint8_t* dst) {
  uint16_t w[8];
  int g = 0, gap = -1;  // groups read; the group count before "::"
  if (p < end && *p == ':') {
    if (end - p < 2 || p[1] != ':') return false;
    gap = 0;
    p += 2;
  }
  while (p < end) {
    const char* start = p;
    unsigned v = 0;
    int d;
    while (p < end && (d = HexValue(*p)) >= 0) {
      v = (v << 4) | static_cast<unsigned>(d);
      ++p;
    }
    if (p == start || p - start > 4 || g == 8) return false;
    w[g++] = static_cast<uint16_t>(v);
    if (p == end) break;
    if (*p != ':' || ++p == end) return false;  // a byte other than ':', or a trailing ':'
    if (*p == ':') {
      if (gap >= 0) return false;
      gap = g;
      ++p;
    }
  }
  if (gap < 0 ? g != 8 : g == 8) return false;  // ("::" must stand for at least one group)
  std::memset(dst, 0, 16);
  const int tail = gap < 0 ? 0 : 8 - g;  // the zero groups "::" stands for, after group `gap`
  for (int i = 0; i < g; ++i) {
    const int at = 2 * (gap >= 0 && i >= gap ? i + tail : i);
    dst[at] = static_cast<uint8_t>(w[i] >> 8);
    dst[at + 1] = static_cast<uint8_t>(w[i]);
  }
  return true;
}

int PtonV6(const char* src, const char* end, uint8_t* dst) {
  if (PtonV6Plain(src, end, dst)) return 1;
  uint8_t tmp[16] = {};
  int tp = 0, colonp = -1;
  if (src == end) return 0;
  if (*src == ':') {
    ++src;
    if (src == end || *src != ':') return 0;  // (":\0...": inet_pton sees ":", also 0)
  }
  const char* curtok = src;
  int xdigits_seen = 0;
  unsigned val = 0;
  while (src < end) {
    const char ch = *src++;
    const int digit = HexValue(ch);
    if (digit >= 0) {
      if (xdigits_seen == 4) return 0;
      val = (val << 4) | static_cast<unsigned>(digit);
      ++xdigits_seen;
      continue;
    }
    if (ch == ':') {
      curtok = src;
      if (xdigits_seen == 0) {
        if (colonp >= 0) return 0;
        colonp = tp;
        continue;
      }
      if (src == end) return 0;
      if (tp + 2 > 16) return 0;
      tmp[tp++] = static_cast<uint8_t>(val >> 8);
      tmp[tp++] = static_cast<uint8_t>(val);
      xdigits_seen = 0;
      val = 0;
      continue;
    }
    if (ch == '.' && tp + 4 <= 16) {
      const int r = PtonV4(curtok, end, tmp + tp);
      if (r <= 0) return r;
      tp += 4;
      xdigits_seen = 0;
      break;
    }
    return ch == '\0' ? -1 : 0;
  }
  if (xdigits_seen > 0) {
    if (tp + 2 > 16) return 0;
    tmp[tp++] = static_cast<uint8_t>(val >> 8);
    tmp[tp++] = static_cast<uint8_t>(val);
  }
  if (colonp >= 0) {
    if (tp == 16) return 0;  // "::" would stand for no group
    const int n = tp - colonp;
    std::memmove(tmp + 16 - n, tmp + colonp, static_cast<size_t>(n));
    std::memset(tmp + colonp, 0, static_cast<size_t>(16 - n - colonp));
    tp = 16;
  }
  if (tp != 16) return 0;
  std::memcpy(dst, tmp, 16);
  return 1;
}

}  // namespace

std::optional<IpAddr> IpAddr::Parse(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  // A dotted quad has no ':', so trying it first and IPv6 only for text with a ':' is the same
  // as choosing by the ':'. Text without a ':' is never IPv6 (PtonV6 refuses it too).
  IpAddr a;
  uint32_t v;
  if (ParseV4(text, v)) return FromV4(v);
  const int r = PtonV6(text.data(), text.data() + text.size(), a.bytes.data());
  if (r > 0) return a;
  if (r == 0) return std::nullopt;
  // A NUL byte: inet_pton reads up to it.
  if (text.find(':') == std::string_view::npos) return std::nullopt;
  char buf[46];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  in6_addr v6;
  if (inet_pton(AF_INET6, buf, &v6) != 1) return std::nullopt;
  std::memcpy(a.bytes.data(), &v6, 16);
  return a;
}

IpAddr IpAddr::FromU128(U128 v) {
  IpAddr a;
  for (int i = 15; i >= 0; --i) {
    a.bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(v);
    v >>= 8;
  }
  return a;
}

U128 IpAddr::ToU128() const {
  uint64_t hi = 0, lo = 0;  // big-endian halves
  for (int i = 0; i < 8; ++i) {
    hi = (hi << 8) | bytes[static_cast<size_t>(i)];
    lo = (lo << 8) | bytes[static_cast<size_t>(8 + i)];
  }
  return (static_cast<U128>(hi) << 64) | lo;
}

namespace {

// Writes byte values b[0..3] as a dotted quad (no leading zeros); returns the end.
char* WriteQuad(char* p, const uint8_t* b) {
  for (int i = 0; i < 4; ++i) {
    const unsigned v = b[i];
    if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
    *p++ = '.';
  }
  return p - 1;
}

}  // namespace

std::string IpAddr::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  // The texts inet_ntop writes (glibc), without its sprintf calls.
  if (is_v4()) return std::string(buf, static_cast<size_t>(WriteQuad(buf, bytes.data() + 12) - buf));
  // IPv6: lower-case hex groups without leading zeros; the longest run of two or more zero
  // groups (the first of equal runs) written as "::"; ::a.b.c.d for the first 96 bits zero
  // (but ::1 and ::); ::ffff:a.b.c.d cannot occur here (is_v4).
  uint16_t w[8];
  for (int i = 0; i < 8; ++i) w[i] = static_cast<uint16_t>(bytes[2 * i] << 8 | bytes[2 * i + 1]);
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (w[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && w[j] == 0) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  if (best_len < 2) best = -1;
  char* p = buf;
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      *p++ = ':';
      if (best + best_len == 8) *p++ = ':';
      i += best_len - 1;
      continue;
    }
    if (i > 0) *p++ = ':';
    if (i == 6 && best == 0 && best_len == 6) {  // ::a.b.c.d
      p = WriteQuad(p, bytes.data() + 12);
      break;
    }
    const unsigned v = w[i];
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const unsigned d = (v >> shift) & 15;
      if (d != 0 || started || shift == 0) {
        *p++ = kHex[d];
        started = true;
      }
    }
  }
  return std::string(buf, static_cast<size_t>(p - buf));
}

size_t IpAddrHash::operator()(const IpAddr& a) const noexcept {
  uint64_t hi, lo;
  std::memcpy(&hi, a.bytes.data(), 8);
  std::memcpy(&lo, a.bytes.data() + 8, 8);
  uint64_t h = (hi * 0x9E3779B97F4A7C15ULL) ^ lo;
  h ^= h >> 31;
  h *= 0xBF58476D1CE4E5B9ULL;
  h ^= h >> 29;
  return static_cast<size_t>(h);
}

}  // namespace fluxscore::dns
