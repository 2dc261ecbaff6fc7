// Distinct-value sets that are exact up to a cap and a uniform, exactly mergeable sample
// beyond it: the `cap` members of smallest 64-bit hash ("bottom-k" / KMV sketch).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <span>
#include <stdexcept>
#include <type_traits>

#include "dns/features/set_arena.h"

namespace fluxscore::dns {

inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ULL;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBULL;
  x ^= x >> 31;
  return x;
}

// The inverse of Mix64 (each step of it is a bijection on 64-bit words).
inline uint64_t Unmix64(uint64_t x) {
  x ^= (x >> 31) ^ (x >> 62);
  x *= 0x319642B2D24D8EC3ULL;  // inverse of 0x94D049BB133111EB mod 2^64
  x ^= (x >> 27) ^ (x >> 54);
  x *= 0x96DE1B173F119089ULL;  // inverse of 0xBF58476D1CE4E5B9 mod 2^64
  x ^= (x >> 30) ^ (x >> 60);
  return x;
}

struct NoValue {
  bool operator==(const NoValue&) const { return true; }
};

// A vector of trivially copyable items in 16 bytes (pointer, 32-bit size, 31-bit capacity and
// one spare flag bit) instead of std::vector's 24 + a separate flag: several of them sit in
// every per-key state, and smaller states mean fewer cache lines per record. Items of at most 8
// bytes are kept inline, in the pointer's place, while there is only one: most sets of a
// high-cardinality log (one-shot names) hold a single client, TTL or address, and need no heap
// block at all.
template <typename Item, typename Alloc = HeapAlloc>
class CompactVec {
  static_assert(std::is_trivially_copyable_v<Item>);
  static constexpr bool kInline = sizeof(Item) <= sizeof(void*) && alignof(Item) <= alignof(void*);

 public:
  CompactVec() = default;
  CompactVec(const CompactVec& o) { Assign(o.data(), o.size_); flag_ = o.flag_; }
  CompactVec& operator=(const CompactVec& o) {
    if (this != &o) {
      Assign(o.data(), o.size_);
      flag_ = o.flag_;
    }
    return *this;
  }
  CompactVec(CompactVec&& o) noexcept { Take(o); }
  CompactVec& operator=(CompactVec&& o) noexcept {
    if (this != &o) {
      Release();
      Take(o);
    }
    return *this;
  }
  ~CompactVec() { Release(); }

  size_t size() const { return size_; }
  size_t capacity() const { return cap_; }
  // Bytes of the heap block (0 while empty or inline).
  size_t heap_bytes() const { return is_inline() ? 0 : size_t{cap_} * sizeof(Item); }
  bool empty() const { return size_ == 0; }
  Item* data() {
    if constexpr (kInline) {
      if (cap_ == 1) return &u_.one;
    }
    return u_.ptr;
  }
  const Item* data() const { return const_cast<CompactVec*>(this)->data(); }
  const Item& operator[](size_t i) const { return data()[i]; }
  const Item& back() const { return data()[size_ - 1]; }
  const Item* begin() const { return data(); }
  const Item* end() const { return data() + size_; }
  bool flag() const { return flag_; }
  void set_flag(bool f) { flag_ = f; }

  void reserve(size_t n) {
    if (n <= cap_) return;
    if (n > kMaxCap) throw std::length_error("CompactVec: too many items");
    Item* p;
    if constexpr (kInline) {
      if (n == 1) {  // (cap_ == 0: nothing to keep)
        cap_ = 1;
        return;
      }
    }
    if (is_inline()) {
      p = static_cast<Item*>(Alloc::Allocate(n * sizeof(Item)));
      if (size_ > 0) std::memcpy(static_cast<void*>(p), data(), sizeof(Item));
    } else {
      p = static_cast<Item*>(Alloc::Reallocate(u_.ptr, size_t{cap_} * sizeof(Item), n * sizeof(Item)));
    }
    u_.ptr = p;
    cap_ = static_cast<uint32_t>(n);
  }
  void insert(size_t pos, const Item& v) {
    if (size_ == cap_) {  // most sets stay tiny: start small (kFirstCap), then double
      if (size_ == kMaxCap) throw std::length_error("CompactVec: too many items");
      reserve(cap_ == 0 ? kFirstCap : std::min(kMaxCap, size_t{cap_} * 2));
    }
    Item* d = data();
    std::memmove(static_cast<void*>(d + pos + 1), d + pos, (size_ - pos) * sizeof(Item));
    d[pos] = v;
    ++size_;
  }
  void push_back(const Item& v) { insert(size_, v); }
  void pop_back() { --size_; }
  void truncate(size_t n) {
    if (n < size_) size_ = static_cast<uint32_t>(n);
  }
  void Assign(const Item* items, size_t n) {
    size_ = 0;
    reserve(n);
    if (n > 0) std::memcpy(static_cast<void*>(data()), items, n * sizeof(Item));
    size_ = static_cast<uint32_t>(n);
  }

 private:
  static constexpr size_t kMaxCap = (size_t{1} << 31) - 1;
  // Most sets of a high-cardinality log hold one or two members (one-shot names): one small
  // item inline, then two (8 or 12-byte items: glibc's smallest chunk), else four.
  static constexpr size_t kFirstCap = kInline ? 1 : sizeof(Item) <= 12 ? 2 : 4;
  bool is_inline() const { return kInline && cap_ == 1; }
  void Release() {
    if (!is_inline() && u_.ptr != nullptr) Alloc::Free(u_.ptr, size_t{cap_} * sizeof(Item));
  }
  void Take(CompactVec& o) {
    std::memcpy(static_cast<void*>(&u_), &o.u_, sizeof u_);
    size_ = o.size_;
    cap_ = o.cap_;
    flag_ = o.flag_;
    o.u_.ptr = nullptr;
    o.size_ = 0;
    o.cap_ = 0;
    o.flag_ = 0;
  }
  union Storage {
    Item* ptr = nullptr;
    std::conditional_t<kInline, Item, char> one;  // the only item, while capacity is 1
  } u_;
  uint32_t size_ = 0;
  uint32_t cap_ : 31 = 0;
  uint32_t flag_ : 1 = 0;
};

template <typename T, typename Alloc = HeapAlloc>
class BottomK {
 public:
  struct Item {
    uint64_t hash;
    [[no_unique_address]] T value;  // NoValue takes no space: client sets are 8 bytes a member
  };

  // Returns the number of members added (0 or 1).
  int Insert(uint64_t h, const T& v, size_t cap) {
    if (saturated() && h >= items_.back().hash) return 0;
    const size_t pos = LowerBound(h);
    if (pos < items_.size() && items_[pos].hash == h) return 0;  // 64-bit hashes: equal hash = same value
    items_.insert(pos, Item{h, v});
    if (items_.size() > cap) {
      items_.pop_back();
      items_.set_flag(true);
      return 0;
    }
    return 1;
  }

  // The lazy form, for sets that take a new member on most inserts (a busy name's clients):
  // Append puts h at the end, unsorted and maybe repeated — one write, no search, no memmove —
  // and a full vector is sorted and deduplicated (Normalize) before it grows, so it holds at
  // most twice its distinct members. Before any other use (Count, items, Insert, LowerBound,
  // Merge, a copy that is read) the set must be Normalize()d; it then equals the set the same
  // hashes would have made through Insert, in any order. A saturated set is kept normalized:
  // its inserts are Insert's (the threshold needs the greatest member).
  void Append(uint64_t h, size_t cap) {
    if (saturated()) {
      Insert(h, T(), cap);
      return;
    }
    if (items_.size() == items_.capacity() && items_.size() > 1) {  // full: compact first
      Normalize(cap);
      if (saturated()) {
        Insert(h, T(), cap);
        return;
      }
    }
    items_.push_back(Item{h, T()});
  }
  // Sorts and deduplicates the members (equal hashes: the first appended stays), keeping the cap
  // smallest (then saturated). A set made by Insert only is left as it is.
  void Normalize(size_t cap) {
    Item* d = items_.data();
    const size_t n = items_.size();
    size_t i = 1;
    while (i < n && d[i - 1].hash < d[i].hash) ++i;
    if (i < n) {
      const auto by_hash = [](const Item& a, const Item& b) { return a.hash < b.hash; };
      if constexpr (std::is_same_v<T, NoValue>) {
        // Equal hashes are equal items: no order to keep. [0, i) is sorted (what the last
        // Normalize left, usually about half): the rest is sorted aside and merged into it
        // from the back, instead of sorting the whole vector again.
        thread_local std::vector<Item> rest;
        rest.assign(d + i, d + n);
        std::sort(rest.begin(), rest.end(), by_hash);
        size_t a = i, b = rest.size(), out = n;
        while (b > 0) d[--out] = a > 0 && rest[b - 1].hash < d[a - 1].hash ? d[--a] : rest[--b];
      } else {
        std::stable_sort(d, d + n, by_hash);
      }
      const size_t m = static_cast<size_t>(
          std::unique(d, d + n, [](const Item& a, const Item& b) { return a.hash == b.hash; }) - d);
      items_.truncate(m);
    }
    if (items_.size() > cap) {
      items_.truncate(cap);
      items_.set_flag(true);
    }
  }

  // Position of the first member whose hash is >= h. Member hashes are uniform over the 64-bit
  // range (mixes), and over [0, last member] once the set is a bottom-k sample, so h's rank is
  // guessed by interpolation (off by ~sqrt(n)/2 on average), then bracketed by galloping from
  // the guess and found by binary search in the bracket: one or two cache lines instead of
  // log2(n) dependent loads; O(log n) loads in the worst case (clustered hashes).
  // Sets of up to 64 members (8 cache lines at most) are searched whole by a branch-free
  // binary search: the comparisons of a search for a random hash are coin flips, so a branchy
  // search mispredicts about half of them.
  size_t LowerBound(uint64_t h) const {
    const size_t n = items_.size();
    const Item* d = items_.data();
    auto search = [d, h](size_t lo, size_t hi) {
      if (lo == hi) return lo;
      const Item* base = d + lo;
      size_t len = hi - lo;
      while (len > 1) {
        const size_t half = len / 2;
        base += static_cast<size_t>(base[half].hash < h) * half;  // (no branch)
        len -= half;
      }
      return static_cast<size_t>(base - d) + static_cast<size_t>(base->hash < h);
    };
    if (n <= 64) return search(0, n);
    const size_t g = Guess(h);
    size_t lo, hi, step = 8;
    if (d[g].hash < h) {  // the answer is after g
      lo = g + 1;
      hi = std::min(n, lo + step);
      while (hi < n && d[hi - 1].hash < h) {
        lo = hi;
        step *= 2;
        hi = std::min(n, hi + step);
      }
    } else {  // the answer is g or before it
      hi = g;
      lo = hi >= step ? hi - step : 0;
      while (lo > 0 && d[lo].hash >= h) {
        hi = lo;
        step *= 2;
        lo = hi >= step ? hi - step : 0;
      }
    }
    return search(lo, hi);
  }

  void Merge(const BottomK& o, size_t cap) {
    CompactVec<Item, Alloc> out;
    out.reserve(std::min(cap + 1, items_.size() + o.items_.size()));
    size_t i = 0, j = 0;
    while ((i < items_.size() || j < o.items_.size()) && out.size() <= cap) {
      if (j == o.items_.size() || (i < items_.size() && items_[i].hash < o.items_[j].hash)) {
        out.push_back(items_[i++]);
      } else if (i == items_.size() || o.items_[j].hash < items_[i].hash) {
        out.push_back(o.items_[j++]);
      } else {
        out.push_back(items_[i++]);
        ++j;
      }
    }
    out.set_flag(saturated() || o.saturated() || out.size() > cap);
    out.truncate(cap);
    items_ = std::move(out);
  }

  // Exact count while not saturated; else the KMV estimate (k - 1) / (h_k / 2^64).
  double Count() const {
    if (!saturated()) return static_cast<double>(items_.size());
    const double k = static_cast<double>(items_.size());
    const double hk = (static_cast<double>(items_.back().hash) + 1.0) / 18446744073709551616.0;
    return std::round((k - 1) / hk);
  }

  // Room for n members (no effect if there is already).
  void Reserve(size_t n) { items_.reserve(n); }

  bool saturated() const { return items_.flag(); }
  std::span<const Item> items() const { return {items_.data(), items_.size()}; }
  // Restores a state written from items() and saturated() (deserialisation).
  void Restore(std::span<const Item> items, bool saturated) {
    items_.Assign(items.data(), items.size());
    items_.set_flag(saturated);
  }
  size_t bytes() const { return items_.heap_bytes(); }

 private:
  // Interpolated rank of h, in [0, n) (n > 0): over the whole 64-bit range while the set is
  // exact (no load needed), over [0, last member] once it is a sample.
  size_t Guess(uint64_t h) const {
    const size_t n = items_.size();
    if (!saturated()) return static_cast<size_t>((static_cast<unsigned __int128>(h) * n) >> 64);
    const uint64_t last = items_.back().hash;
    if (h >= last) return n - 1;
    const double frac = static_cast<double>(h) / (static_cast<double>(last) + 1.0);
    return std::min(n - 1, static_cast<size_t>(frac * static_cast<double>(n)));
  }

  CompactVec<Item, Alloc> items_;  // ascending hash; its flag: saturated (a sample beyond the cap)
};

}  // namespace fluxscore::dns
