#include "fluxscore/dns/ip.h"

#include <arpa/inet.h>

#include <cstring>

namespace fluxscore::dns {

namespace {

// Dotted quad, inet_pton rules (four decimal parts 0-255, no leading zeros, nothing else).
bool ParseV4(std::string_view t, uint32_t& out) {
  if (t.size() < 7 || t.size() > 15) return false;
  uint32_t v = 0;
  size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (i >= t.size() || t[i] != '.') return false;
      ++i;
    }
    const size_t start = i;
    uint32_t x = 0;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9' && i - start < 3) x = x * 10 + static_cast<uint32_t>(t[i++] - '0');
    if (i == start || x > 255 || (i - start > 1 && t[start] == '0')) return false;
    v = (v << 8) | x;
  }
  if (i != t.size()) return false;
  out = v;
  return true;
}

}  // namespace

std::optional<IpAddr> IpAddr::Parse(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  if (text.find(':') == std::string_view::npos) {
    uint32_t v;
    if (!ParseV4(text, v)) return std::nullopt;
    return FromV4(v);
  }
  char buf[46];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddr a;
  if (text.find(':') == std::string_view::npos) {
    in_addr v4;
    if (inet_pton(AF_INET, buf, &v4) != 1) return std::nullopt;
    a.bytes[10] = a.bytes[11] = 0xff;
    std::memcpy(a.bytes.data() + 12, &v4, 4);
    return a;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, buf, &v6) != 1) return std::nullopt;
  std::memcpy(a.bytes.data(), &v6, 16);
  return a;
}

IpAddr IpAddr::FromV4(uint32_t h) {
  IpAddr a;
  a.bytes[10] = a.bytes[11] = 0xff;
  a.bytes[12] = static_cast<uint8_t>(h >> 24);
  a.bytes[13] = static_cast<uint8_t>(h >> 16);
  a.bytes[14] = static_cast<uint8_t>(h >> 8);
  a.bytes[15] = static_cast<uint8_t>(h);
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

bool IpAddr::is_v4() const {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(bytes.data(), kPrefix, 12) == 0;
}

uint32_t IpAddr::v4() const {
  return (uint32_t{bytes[12]} << 24) | (uint32_t{bytes[13]} << 16) | (uint32_t{bytes[14]} << 8) |
         uint32_t{bytes[15]};
}

U128 IpAddr::ToU128() const {
  U128 v = 0;
  for (uint8_t b : bytes) v = (v << 8) | b;
  return v;
}

std::string IpAddr::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  if (is_v4()) {
    inet_ntop(AF_INET, bytes.data() + 12, buf, sizeof buf);
  } else {
    inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  }
  return buf;
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
