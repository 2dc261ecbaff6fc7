// IPv4 and IPv6 addresses as one value type (IPv4 held as IPv4-mapped IPv6, ::ffff:a.b.c.d).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace fluxscore::dns {

using U128 = unsigned __int128;

struct IpAddr {
  std::array<uint8_t, 16> bytes{};

  // Strict text forms only: dotted quad (no leading zeros beyond "0", no spaces) or RFC 4291
  // IPv6 text (inet_pton rules, including embedded IPv4). Anything else: nullopt.
  static std::optional<IpAddr> Parse(std::string_view text);
  static IpAddr FromV4(uint32_t host_order) {  // ::ffff:a.b.c.d (inline: per parsed address)
    IpAddr a;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    // Bytes 8..15 as one little-endian word: 0, 0, 0xff, 0xff, then the address big-endian.
    const uint64_t hi = uint64_t{0xFFFF0000} | uint64_t{__builtin_bswap32(host_order)} << 32;
    std::memcpy(a.bytes.data() + 8, &hi, 8);
#else
    a.bytes[10] = a.bytes[11] = 0xff;
    a.bytes[12] = static_cast<uint8_t>(host_order >> 24);
    a.bytes[13] = static_cast<uint8_t>(host_order >> 16);
    a.bytes[14] = static_cast<uint8_t>(host_order >> 8);
    a.bytes[15] = static_cast<uint8_t>(host_order);
#endif
    return a;
  }
  static IpAddr FromU128(U128 v);

  bool is_v4() const {  // ::ffff:0:0/96 (inline: called per address in hot loops)
    static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(bytes.data(), kPrefix, 12) == 0;
  }
  uint32_t v4() const {  // host order; only meaningful when is_v4()
    return (uint32_t{bytes[12]} << 24) | (uint32_t{bytes[13]} << 16) | (uint32_t{bytes[14]} << 8) |
           uint32_t{bytes[15]};
  }
  U128 ToU128() const;  // big-endian value of the 16 bytes (IPv4: 0xffff'xxxxxxxx)
  std::string ToString() const;  // IPv4 dotted quad, IPv6 RFC 5952 (inet_ntop)

  auto operator<=>(const IpAddr&) const = default;
  bool operator==(const IpAddr&) const = default;
};

struct IpAddrHash {
  size_t operator()(const IpAddr& a) const noexcept;
};

}  // namespace fluxscore::dns
