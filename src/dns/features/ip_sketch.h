// A key's set of distinct answer addresses: a BottomK of 8-byte address hashes (exact up to a
// cap, a uniform bottom-k sample beyond). IPv4 addresses are not stored at all: their hash is
// invertible (IpHash below), so the member's hash gives the address back. IPv6 members, whose
// 128 bits cannot come back from 64, are kept beside the hashes, (hash, address) in hash order.
// A member is IPv6 exactly when its hash is in that side list.
//
// The same members, sample and first-seen values as a BottomK<IpAddr> (24-byte items): a third
// of the memory and of the cache lines for IPv4, and a single IPv4 member sits inline.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <span>
#include <stdexcept>
#include <vector>

#include "dns/features/sketch.h"
#include "fluxscore/dns/ip.h"

namespace fluxscore::dns {

inline constexpr uint64_t kIpHashSalt = 0x5851F42D4C957F2DULL;

// Mix64(hi ^ Mix64(lo ^ salt)) of the address's two 8-byte halves: a bijection of lo when hi is
// 0, which it is for every IPv4 address (::ffff:a.b.c.d).
inline uint64_t IpHash(const IpAddr& a) {
  uint64_t hi, lo;
  std::memcpy(&hi, a.bytes.data(), 8);
  std::memcpy(&lo, a.bytes.data() + 8, 8);
  return Mix64(hi ^ Mix64(lo ^ kIpHashSalt));
}

// IpHash(IpAddr::FromV4(v4)) from the address itself (its low half as IpAddr lays it out: 0, 0,
// 0xff, 0xff, then the address big-endian), without reading back an IpAddr just written.
inline uint64_t IpHashV4(uint32_t v4) {
  const uint8_t b[8] = {0, 0, 0xff, 0xff, static_cast<uint8_t>(v4 >> 24), static_cast<uint8_t>(v4 >> 16),
                        static_cast<uint8_t>(v4 >> 8), static_cast<uint8_t>(v4)};
  uint64_t lo;
  std::memcpy(&lo, b, 8);
  return Mix64(Mix64(lo ^ kIpHashSalt));
}

// The address with hi = 0 whose IpHash is h (IpHash(IpOfHashV4(h)) == h for every h); it is an
// IPv4 address for the hash of one.
inline IpAddr IpOfHashV4(uint64_t h) {
  const uint64_t lo = Unmix64(Unmix64(h)) ^ kIpHashSalt;
  IpAddr a;
  std::memcpy(a.bytes.data() + 8, &lo, 8);
  return a;
}

// A member: its hash and address.
struct IpMember {
  uint64_t hash;
  IpAddr addr;
};

template <typename Alloc = HeapAlloc>
class BasicIpSketch {
 public:
  using V6 = IpMember;

  BasicIpSketch() = default;
  BasicIpSketch(const BasicIpSketch& o) : hashes_(o.hashes_) { CopyV6(o); }
  BasicIpSketch& operator=(const BasicIpSketch& o) {
    if (this != &o) {
      hashes_ = o.hashes_;
      FreeV6();
      CopyV6(o);
    }
    return *this;
  }
  BasicIpSketch(BasicIpSketch&& o) noexcept : hashes_(std::move(o.hashes_)), v6_(o.v6_) { o.v6_ = nullptr; }
  BasicIpSketch& operator=(BasicIpSketch&& o) noexcept {
    if (this != &o) {
      hashes_ = std::move(o.hashes_);
      FreeV6();
      v6_ = o.v6_;
      o.v6_ = nullptr;
    }
    return *this;
  }
  ~BasicIpSketch() { FreeV6(); }

  // h must be IpHash(a). Returns the number of members added (0 or 1), as BottomK::Insert; a
  // value whose hash is a member already keeps the member's first value. *v6_growth (if given)
  // is increased by the bytes the IPv6 side list grew by.
  int Insert(uint64_t h, const IpAddr& a, size_t cap, size_t* v6_growth = nullptr) {
    if (!a.is_v4()) {
      const size_t before = v6_bytes();
      const int added = InsertV6(h, a, cap);
      if (v6_growth != nullptr) *v6_growth += v6_bytes() - before;
      return added;
    }
    const int added = hashes_.Insert(h, NoValue(), cap);
    if (v6_ != nullptr && hashes_.saturated()) TrimV6();
    return added;
  }

  // f(hash, address) for each member, ascending hash.
  template <typename F>
  void ForEach(F&& f) const {
    const V6* v = v6_items();
    const V6* vend = v + v6_size();
    for (const auto& item : hashes_.items()) {
      if (v != vend && v->hash == item.hash) {
        f(item.hash, v->addr);
        ++v;
      } else {
        f(item.hash, IpOfHashV4(item.hash));
      }
    }
  }

  void Merge(const BasicIpSketch& o, size_t cap) {
    std::vector<V6> a = Members(), b = o.Members(), out;
    out.reserve(std::min(cap + 1, a.size() + b.size()));
    size_t i = 0, j = 0;
    while ((i < a.size() || j < b.size()) && out.size() <= cap) {
      if (j == b.size() || (i < a.size() && a[i].hash < b[j].hash)) {
        out.push_back(a[i++]);
      } else if (i == a.size() || b[j].hash < a[i].hash) {
        out.push_back(b[j++]);
      } else {  // the same hash: this side's value
        out.push_back(a[i++]);
        ++j;
      }
    }
    const bool sat = saturated() || o.saturated() || out.size() > cap;
    if (out.size() > cap) out.resize(cap);
    Restore(out, sat);
  }

  // Restores a state of (hash, address) members in strictly ascending hash, each hash the
  // IpHash of its address (the caller checks both).
  void Restore(std::span<const V6> members, bool saturated) {
    std::vector<typename BottomK<NoValue, Alloc>::Item> hashes;
    hashes.reserve(members.size());
    FreeV6();
    for (const V6& m : members) {
      hashes.push_back({m.hash, NoValue()});
      if (!m.addr.is_v4()) AppendV6(m);
    }
    hashes_.Restore(hashes, saturated);
  }

  std::vector<V6> Members() const {
    std::vector<V6> out;
    out.reserve(size());
    ForEach([&](uint64_t h, const IpAddr& a) { out.push_back({h, a}); });
    return out;
  }

  double Count() const { return hashes_.Count(); }
  size_t size() const { return hashes_.items().size(); }
  bool empty() const { return hashes_.items().empty(); }
  bool saturated() const { return hashes_.saturated(); }
  void Reserve(size_t n) { hashes_.Reserve(n); }
  size_t bytes() const { return hashes_.bytes() + v6_bytes(); }
  // The same without the IPv6 side list (whose header is not read: one cache miss less).
  size_t hash_bytes() const { return hashes_.bytes(); }
  // The middle of the member hashes, for a prefetch.
  const void* middle() const { return hashes_.items().data() + size() / 2; }
  const void* data() const { return hashes_.items().data(); }

 private:
  // IPv6 members: a header and `cap` items in one heap block (8 bytes in the state when absent).
  struct V6Header {
    uint32_t size, cap;
  };
  static_assert(sizeof(V6Header) % alignof(V6) == 0);
  V6* v6_items() const {
    return v6_ == nullptr ? nullptr : reinterpret_cast<V6*>(reinterpret_cast<char*>(v6_) + sizeof(V6Header));
  }
  size_t v6_size() const { return v6_ == nullptr ? 0 : v6_->size; }
  size_t v6_bytes() const { return v6_ == nullptr ? 0 : sizeof(V6Header) + v6_->cap * sizeof(V6); }

  int InsertV6(uint64_t h, const IpAddr& a, size_t cap) {
    const auto members = hashes_.items();
    const size_t pos = hashes_.LowerBound(h);
    if (pos < members.size() && members[pos].hash == h) return 0;  // a member already
    const int added = hashes_.Insert(h, NoValue(), cap);
    if (v6_ != nullptr && hashes_.saturated()) TrimV6();
    // It stayed in unless a full sample dropped it (or never took it): then it is above the
    // greatest member, as a sample only ever loses its greatest.
    const auto now = hashes_.items();
    if (!now.empty() && h <= now.back().hash) {
      V6* v = v6_items();
      const size_t n = v6_size();
      const size_t k = static_cast<size_t>(
          std::lower_bound(v, v + n, h, [](const V6& x, uint64_t y) { return x.hash < y; }) - v);
      InsertV6At(k, V6{h, a});
    }
    return added;
  }
  // Drops the IPv6 entries whose hash left the sample (always the greatest ones).
  void TrimV6() {
    const auto members = hashes_.items();
    const uint64_t last = members.empty() ? 0 : members.back().hash;
    V6* v = v6_items();
    while (v6_->size > 0 && (members.empty() || v[v6_->size - 1].hash > last)) --v6_->size;
  }
  void AppendV6(const V6& m) { InsertV6At(v6_size(), m); }
  void InsertV6At(size_t k, const V6& m) {
    const size_t n = v6_size();
    if (v6_ == nullptr || n == v6_->cap) {
      const size_t cap = n == 0 ? 1 : n * 2;
      if (cap > UINT32_MAX) throw std::length_error("IpSketch: too many IPv6 members");
      v6_ = static_cast<V6Header*>(Alloc::Reallocate(v6_, v6_bytes(), sizeof(V6Header) + cap * sizeof(V6)));
      v6_->size = static_cast<uint32_t>(n);
      v6_->cap = static_cast<uint32_t>(cap);
    }
    V6* v = v6_items();
    std::memmove(static_cast<void*>(v + k + 1), v + k, (n - k) * sizeof(V6));
    v[k] = m;
    ++v6_->size;
  }
  void FreeV6() {
    if (v6_ != nullptr) Alloc::Free(v6_, v6_bytes());
    v6_ = nullptr;
  }
  void CopyV6(const BasicIpSketch& o) {
    const V6* v = o.v6_items();
    for (size_t i = 0; i < o.v6_size(); ++i) AppendV6(v[i]);
  }

  BottomK<NoValue, Alloc> hashes_;
  V6Header* v6_ = nullptr;
};

using IpSketch = BasicIpSketch<HeapAlloc>;

}  // namespace fluxscore::dns
