// The aggregator's key table: keys (window start + domain) in one arena, found through an
// open-addressing table of (hash, place) slots, with a state per key in a chunked store. Internal
// to src/dns/features (a header so that its unit test can force hash collisions).
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/hash.h"
#include "common/huge_pages.h"
#include "dns/features/sketch.h"

namespace fluxscore::dns::features_internal {

// Memory of 2 MiB and more for the key table's slots and states: its own mapping, 2 MiB-aligned,
// with transparent huge pages asked for (madvise mode, the common default, needs it). Every
// record reaches a random slot and a random state: with 4 KiB pages a table of 200k keys spans
// thousands of pages and most of those accesses also miss the TLB; with 2 MiB pages a few dozen
// entries cover it. Smaller blocks come from the ordinary allocator, aligned to a cache line:
// the states are alignas(64), and a block from plain operator new (16-byte aligned) held them
// misaligned — undefined behaviour that an -march=native build turned into a crash (its
// 64-byte aligned vector stores fault on a misaligned address).
class HugeBlocks {
 public:
  static constexpr size_t kHuge = kHugePage;
  static constexpr std::align_val_t kAlign{64};
  static void* Allocate(size_t bytes) {
    if (kHaveHugePageMappings && bytes >= kHuge) {
      void* p = MapHugePages(RoundToHugePages(bytes));
      if (p == nullptr) throw std::bad_alloc();
      return p;
    }
    return ::operator new(bytes, kAlign);
  }
  static void Free(void* p, size_t bytes) {
    if (kHaveHugePageMappings && bytes >= kHuge) {
      munmap(p, RoundToHugePages(bytes));
      return;
    }
    ::operator delete(p, kAlign);
  }
};

template <typename T>
struct HugeAllocator {
  static_assert(alignof(T) <= 64, "HugeBlocks aligns to 64 bytes");
  using value_type = T;
  HugeAllocator() = default;
  template <typename U>
  HugeAllocator(const HugeAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(HugeBlocks::Allocate(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { HugeBlocks::Free(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const HugeAllocator<U>&) const { return true; }
};

// States in chunks that double: [0, 64), [64, 128), [128, 256), ... (no copies when growing,
// stable addresses, a small aggregation stays small); chunks of 2 MiB and more get huge pages.
// Element i is in chunk bit_width(i / 64).
template <typename T>
class ChunkedStore {
  static_assert(alignof(T) <= 64, "HugeBlocks aligns to 64 bytes");

 public:
  ChunkedStore() = default;
  ChunkedStore(const ChunkedStore&) = delete;
  ChunkedStore& operator=(const ChunkedStore&) = delete;
  ~ChunkedStore() {
    for (size_t i = 0; i < size_; ++i) (*this)[i].~T();
    for (size_t k = 0; k < chunks_.size(); ++k) HugeBlocks::Free(chunks_[k], Capacity(k) * sizeof(T));
  }
  T& operator[](size_t i) {
    const unsigned k = Chunk(i);
    return chunks_[k][i - Start(k)];
  }
  const T& operator[](size_t i) const {
    const unsigned k = Chunk(i);
    return chunks_[k][i - Start(k)];
  }
  void emplace_back() {
    const unsigned k = Chunk(size_);
    if (k == chunks_.size()) chunks_.push_back(static_cast<T*>(HugeBlocks::Allocate(Capacity(k) * sizeof(T))));
    new (&(*this)[size_]) T();
    ++size_;
  }
  size_t size() const { return size_; }
  template <typename F>
  void ForEach(F&& f) const {
    for (size_t i = 0; i < size_; ++i) f((*this)[i]);
  }

 private:
  static unsigned Chunk(size_t i) { return static_cast<unsigned>(std::bit_width(i >> 6)); }
  static size_t Start(unsigned k) { return k == 0 ? 0 : size_t{32} << k; }
  static size_t Capacity(unsigned k) { return k == 0 ? 64 : size_t{32} << k; }
  std::vector<T*> chunks_;
  size_t size_ = 0;
};

// HashWords (common/hash.h) with Mix64 as finaliser: fast for short keys, good enough spread.
inline uint64_t HashTail(uint64_t h, std::string_view bytes) { return Mix64(HashWords(h, bytes)); }
inline uint64_t HashKey(std::string_view k) { return HashTail(0xcbf29ce484222325ULL ^ k.size(), k); }

// HashKey of the key whose first 8 bytes, loaded as a little-endian word, are `first` and whose
// other bytes are `rest` (the aggregator's window + domain, without building the key).
inline uint64_t HashKeyParts(uint64_t first, std::string_view rest) {
  return HashTail(HashWord(0xcbf29ce484222325ULL ^ (8 + rest.size()), first), rest);
}

// An array of trivially copyable T that grows without copying or touching its old pages again:
// its own anonymous mapping, grown with mremap (the key bytes and their offsets reach tens of
// MiB in a big run; a vector's doubling would copy them and fault in fresh pages each time).
template <typename T>
class GrowArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  GrowArray() = default;
  GrowArray(const GrowArray&) = delete;
  GrowArray& operator=(const GrowArray&) = delete;
  ~GrowArray() {
    if (p_ != nullptr) munmap(p_, cap_bytes_);
  }
  void append(const T* v, size_t n) {
    if ((size_ + n) * sizeof(T) > cap_bytes_) Grow((size_ + n) * sizeof(T));
    std::memcpy(p_ + size_, v, n * sizeof(T));
    size_ += n;
  }
  void push_back(const T& v) { append(&v, 1); }
  const T* data() const { return p_; }
  size_t size() const { return size_; }
  size_t capacity_bytes() const { return cap_bytes_; }
  // The pages written so far: what the array costs in memory (the mapping's untouched rest
  // costs none — capacity doubles, and counting it made the memory budget jump by as much).
  size_t resident_bytes() const { return (size_ * sizeof(T) + 4095) & ~size_t{4095}; }
  const T& operator[](size_t i) const { return p_[i]; }

 private:
  void Grow(size_t need) {
    size_t cap = std::max<size_t>({need, cap_bytes_ * 2, 4096});
    cap = (cap + 4095) & ~size_t{4095};
    void* p = p_ == nullptr ? mmap(nullptr, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                            : mremap(p_, cap_bytes_, cap, MREMAP_MAYMOVE);
    if (p == MAP_FAILED) throw std::bad_alloc();
    p_ = static_cast<T*>(p);
    cap_bytes_ = cap;
  }
  T* p_ = nullptr;
  size_t size_ = 0;
  size_t cap_bytes_ = 0;
};

// Keys (window start + domain) in one arena, found through an open-addressing table of slots
// that hold each key's place in the arena and a reference to its state. No allocation per
// lookup and one per new key at most (amortised arena/store growth).
//
// An entry is one of two kinds (its reference says which):
// - full: a State in `states` (the reference is its index);
// - single (kSingle): no State yet. The entry's bytes in the arena are its key followed by a
//   payload the caller gave when it created the entry — the aggregator's encoding of the key's
//   first record. Most keys of a big log are seen once; as singles they cost their key, their
//   payload and a slot instead of a State and its sets. MakeFull turns a single into a full
//   entry when its key is seen again (the caller replays the payload into the new State).
template <typename State>
class KeyTable {
 public:
  static constexpr uint32_t kSingle = uint32_t{1} << 31;
  static bool IsSingle(uint32_t ref) { return ref == kSingle; }

  // The reference of the key's entry, inserting a new full one (created=true) if absent.
  uint32_t FindOrInsert(std::string_view key, bool* created) {
    return FindOrInsertHashed(key, HashKey(key), created);
  }
  // The same with the key's HashKey already computed. A new entry is a single with `payload`
  // after its key when `single`, else full. The slot holds the key's place in the arena, so a
  // lookup touches the slot and the key bytes only.
  uint32_t FindOrInsertHashed(std::string_view key, uint64_t h, bool* created, bool single = false,
                              std::string_view payload = {}) {
    if ((count_ + 1) * 4 > slots_.size() * 3) Grow();
    const uint32_t tag = static_cast<uint32_t>(h);
    const size_t mask = slots_.size() - 1;
    for (size_t i = tag & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.ref == kEmpty) {
        if (key.size() > kMaxKeyLen) throw std::length_error("aggregation key longer than 16 MiB");
        s.tag = tag;
        s.place = Place(arena_.size(), key.size());
        arena_.append(key.data(), key.size());
        if (single) {
          arena_.append(payload.data(), payload.size());
          s.ref = kSingle;
        } else {
          s.ref = NewState();
        }
        ++count_;
        *created = true;
        return s.ref;
      }
      if (s.tag == tag && Len(s) == key.size() &&
          std::memcmp(arena_.data() + Offset(s), key.data(), key.size()) == 0) {
        *created = false;
        return s.ref;
      }
    }
  }
  // The batched form (Aggregator::Impl's pipeline): the reference of the first entry with the
  // key's tag and length, its bytes not compared yet but prefetched, or of a new entry for the
  // key (*created; made as FindOrInsertHashed makes it). *offset is where the entry's bytes
  // are, for KeyBytesEqual once they have arrived; when they differ (two keys of one tag and
  // length), FindOrInsertHashed finds or inserts the right entry.
  uint32_t FindOrInsertUnconfirmed(std::string_view key, uint64_t h, bool* created, uint64_t* offset,
                                   bool single = false, std::string_view payload = {}) {
    if ((count_ + 1) * 4 > slots_.size() * 3) Grow();
    const uint32_t tag = static_cast<uint32_t>(h);
    const size_t mask = slots_.size() - 1;
    for (size_t i = tag & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.ref == kEmpty) return FindOrInsertHashed(key, h, created, single, payload);
      if (s.tag == tag && Len(s) == key.size()) {
        __builtin_prefetch(arena_.data() + Offset(s));
        *offset = Offset(s);
        *created = false;
        return s.ref;
      }
    }
  }
  bool KeyBytesEqual(uint64_t offset, std::string_view key) const {
    return std::memcmp(arena_.data() + offset, key.data(), key.size()) == 0;
  }
  // The full entry of `key`, which must have an entry: a single becomes full — a new State,
  // then replay(state, payload) with the payload it was created with (*promoted = true); a
  // full one is returned as it is. Returns the state's index.
  template <typename Replay>
  uint32_t MakeFull(std::string_view key, uint64_t h, bool* promoted, Replay&& replay) {
    Slot* const found = const_cast<Slot*>(Locate(key, h));
    if (found == nullptr) throw std::logic_error("KeyTable::MakeFull: no entry for the key");
    Slot& s = *found;
    *promoted = IsSingle(s.ref);
    if (*promoted) {
      const uint32_t ref = NewState();
      replay(states[ref], arena_.data() + Offset(s) + Len(s));
      s.ref = ref;
    }
    return s.ref;
  }
  // The key's entry: its reference and, for a single, where its payload begins.
  struct Found {
    uint32_t ref;
    const char* payload;
  };
  std::optional<Found> Find(std::string_view key) const {
    const Slot* s = Locate(key, HashKey(key));
    if (s == nullptr) return std::nullopt;
    return Found{s->ref, arena_.data() + Offset(*s) + Len(*s)};
  }
  // f(key, ref) for every entry, in table order (a single's payload begins at key.data() +
  // key.size()). The views stay valid until the next insertion. Table order is not the order
  // of the bytes in the arena: each entry's bytes (and the line after them: a single's payload)
  // are prefetched 16 slots ahead, and ahead(key, ref) is called there too (for more prefetches).
  template <typename F, typename Ahead>
  void ForEach(F&& f, Ahead&& ahead) const {
    constexpr size_t kAhead = 16;
    const size_t n = slots_.size();
    for (size_t i = 0; i < n; ++i) {
      if (i + kAhead < n) {
        const Slot& a = slots_[i + kAhead];
        if (a.ref != kEmpty) {
          const char* k = arena_.data() + Offset(a);
          __builtin_prefetch(k);
          __builtin_prefetch(k + Len(a));
          ahead(std::string_view(k, Len(a)), a.ref);
        }
      }
      const Slot& s = slots_[i];
      if (s.ref != kEmpty) f(std::string_view(arena_.data() + Offset(s), Len(s)), s.ref);
    }
  }
  template <typename F>
  void ForEach(F&& f) const {
    ForEach(f, [](std::string_view, uint32_t) {});
  }
  void PrefetchSlot(uint64_t h) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[static_cast<uint32_t>(h) & (slots_.size() - 1)]);
  }
  size_t size() const { return count_; }
  size_t bytes() const {
    return slots_.capacity() * sizeof(Slot) + arena_.resident_bytes() + states.size() * sizeof(State);
  }

  ChunkedStore<State> states;  // of the full entries

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  // 16 bytes: the low 32 bits of the key's hash (its place in the table and a first filter:
  // keys that share them are told apart by their bytes), the reference, and where its bytes are.
  struct Slot {
    uint32_t tag = 0;
    uint32_t ref = kEmpty;
    uint64_t place = 0;  // offset in arena_ << 24 | length of the key
  };
  // A key is at most this long (the readers' lines: at most 1 MiB).
  static constexpr size_t kMaxKeyLen = (size_t{1} << 24) - 1;
  static uint64_t Place(uint64_t offset, size_t len) { return offset << 24 | len; }
  static uint64_t Offset(const Slot& s) { return s.place >> 24; }
  static size_t Len(const Slot& s) { return static_cast<size_t>(s.place & kMaxKeyLen); }
  uint32_t NewState() {
    if (states.size() >= kSingle) throw std::length_error("more than 2^31 aggregation keys");
    states.emplace_back();
    return static_cast<uint32_t>(states.size() - 1);
  }
  // The slot of the key (whose HashKey is h), or null when it has none.
  const Slot* Locate(std::string_view key, uint64_t h) const {
    if (slots_.empty()) return nullptr;
    const uint32_t tag = static_cast<uint32_t>(h);
    const size_t mask = slots_.size() - 1;
    for (size_t i = tag & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.ref == kEmpty) return nullptr;
      if (s.tag == tag && Len(s) == key.size() &&
          std::memcmp(arena_.data() + Offset(s), key.data(), key.size()) == 0)
        return &s;
    }
  }
  void Grow() {
    std::vector<Slot, HugeAllocator<Slot>> old = std::move(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, Slot());
    const size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.ref == kEmpty) continue;
      size_t i = s.tag & mask;
      while (slots_[i].ref != kEmpty) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }
  std::vector<Slot, HugeAllocator<Slot>> slots_;
  GrowArray<char> arena_;  // key bytes (and singles' payloads)
  size_t count_ = 0;
};

}  // namespace fluxscore::dns::features_internal
