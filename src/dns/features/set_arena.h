// Where the per-key sets of an aggregation keep their members. HeapAlloc: malloc/realloc/free.
// ArenaAlloc: blocks from the SetArena made current on this thread by an ArenaScope — the
// Aggregator's own arena, in 2 MiB-aligned mappings with transparent huge pages asked for.
//
// Why: a record updates three or four small sets of a random key; with 4 KiB pages most of
// those accesses also miss the TLB, and in a virtual machine a TLB miss walks two page tables.
// Measured on the 10M-line ingest benchmark with glibc's own huge-page switch
// (GLIBC_TUNABLES=glibc.malloc.hugetlb=1, 3 alternating runs): user 11.8-13.4 s vs 13.6-14.6 s.
//
// Rules (the Aggregator keeps them): sets of an arena are created, grown and destroyed only
// while that arena is current; a block freed while no arena is current stays in its arena
// until the arena goes (never corruption, at worst memory kept a little longer).
#pragma once

#include <sys/mman.h>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "common/huge_pages.h"

namespace fluxscore::dns {

struct HeapAlloc {
  static void* Allocate(size_t bytes) {
    void* p = std::malloc(bytes);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  static void* Reallocate(void* p, size_t /*old_bytes*/, size_t bytes) {
    void* q = std::realloc(p, bytes);
    if (q == nullptr) throw std::bad_alloc();
    return q;
  }
  static void Free(void* p, size_t /*bytes*/) { std::free(p); }
};

// Blocks in size classes from 16 bytes to kMaxClass in steps of 1.5x and 4/3x (16, 24, 32, 48,
// 64, 96, ...: at most a third wasted, a sixth on average), carved from big mappings and
// recycled through one free list per class; bigger blocks come from malloc. Memory goes back
// to the system when the arena is destroyed.
class SetArena {
 public:
  static constexpr size_t kMinClass = 16;
  static constexpr size_t kMaxClass = size_t{1} << 16;
  static constexpr size_t kChunk = size_t{32} << 20;

  SetArena() = default;
  SetArena(const SetArena&) = delete;
  SetArena& operator=(const SetArena&) = delete;
  ~SetArena() {
    for (const Mapping& m : mappings_) {
      if (m.huge) {
        munmap(m.base, m.size);
      } else {
        std::free(m.base);
      }
    }
  }

  void* Allocate(size_t bytes) {
    if (bytes > kMaxClass) return HeapAlloc::Allocate(bytes);
    const unsigned c = Class(bytes);
    if (FreeBlock* f = free_[c]) {
      free_[c] = f->next;
      return f;
    }
    const size_t size = ClassSize(c);
    if (static_cast<size_t>(end_ - next_) < size) NewChunk();
    void* p = next_;
    next_ += size;
    return p;
  }
  void Free(void* p, size_t bytes) {
    if (p == nullptr) return;
    if (bytes > kMaxClass) {
      HeapAlloc::Free(p, bytes);
      return;
    }
    FreeBlock* f = static_cast<FreeBlock*>(p);
    const unsigned c = Class(bytes);
    f->next = free_[c];
    free_[c] = f;
  }
  void* Reallocate(void* p, size_t old_bytes, size_t bytes) {
    if (p == nullptr) return Allocate(bytes);
    if (old_bytes > kMaxClass && bytes > kMaxClass) return HeapAlloc::Reallocate(p, old_bytes, bytes);
    if (old_bytes <= kMaxClass && bytes <= kMaxClass && Class(old_bytes) == Class(bytes)) return p;
    void* q = Allocate(bytes);
    std::memcpy(q, p, old_bytes < bytes ? old_bytes : bytes);
    Free(p, old_bytes);
    return q;
  }
  // The class of a block of `bytes` (1 .. kMaxClass): the smallest ClassSize that holds it.
  static unsigned Class(size_t bytes) {
    if (bytes <= kMinClass) return 0;
    const unsigned k = static_cast<unsigned>(std::bit_width(bytes - 1));  // 2^(k-1) < bytes <= 2^k
    const size_t half_step = (size_t{3} << k) >> 2;                       // 1.5 * 2^(k-1)
    return bytes <= half_step ? 2 * (k - 5) + 1 : 2 * (k - 4);
  }
  static size_t ClassSize(unsigned c) { return (c % 2 == 0 ? size_t{16} : size_t{24}) << (c / 2); }
  // Bytes mapped for blocks of up to kMaxClass (the blocks themselves are counted by their users).
  size_t mapped() const { return mapped_; }

  // The arena of this thread's current ArenaScope (nullptr: none).
  static SetArena*& Current() {
    thread_local SetArena* current = nullptr;
    return current;
  }

 private:
  struct FreeBlock {
    FreeBlock* next;
  };
  struct Mapping {
    void* base;
    size_t size;
    bool huge;
  };
  void NewChunk() {
    // The first chunks small and on the ordinary heap (a small aggregation stays small), then
    // a few of one huge page, then kChunk each.
    const size_t n = mappings_.size();
    const size_t size = n < 4 ? kMaxClass : n < 8 ? kHugePage : kChunk;
    void* p = size >= kHugePage ? MapHugePages(size) : nullptr;
    bool huge = p != nullptr;
    if (p == nullptr) {
      p = std::aligned_alloc(4096, size);
      if (p == nullptr) throw std::bad_alloc();
      huge = false;
    }
    mappings_.push_back({p, size, huge});
    mapped_ += size;
    next_ = static_cast<char*>(p);
    end_ = next_ + size;
  }
  static constexpr unsigned kClasses = 25;  // 16 B .. 64 KiB
  FreeBlock* free_[kClasses] = {};
  char* next_ = nullptr;
  char* end_ = nullptr;
  std::vector<Mapping> mappings_;
  size_t mapped_ = 0;
};

// Makes `arena` this thread's current arena until the scope ends (then the previous one again).
class ArenaScope {
 public:
  explicit ArenaScope(SetArena* arena) : prev_(SetArena::Current()) { SetArena::Current() = arena; }
  ~ArenaScope() { SetArena::Current() = prev_; }
  ArenaScope(const ArenaScope&) = delete;
  ArenaScope& operator=(const ArenaScope&) = delete;

 private:
  SetArena* prev_;
};

struct ArenaAlloc {
  static SetArena& Arena() {
    SetArena* a = SetArena::Current();
    if (a == nullptr) {
      // A programming error (a set of an aggregation changed outside its ArenaScope).
      std::fputs("fluxscore: internal error: aggregation set allocated outside its arena\n", stderr);
      std::abort();
    }
    return *a;
  }
  static void* Allocate(size_t bytes) { return Arena().Allocate(bytes); }
  static void* Reallocate(void* p, size_t old_bytes, size_t bytes) {
    return Arena().Reallocate(p, old_bytes, bytes);
  }
  static void Free(void* p, size_t bytes) {
    if (SetArena* a = SetArena::Current()) {
      a->Free(p, bytes);
    } else if (bytes > SetArena::kMaxClass) {
      HeapAlloc::Free(p, bytes);
    }  // else: the block stays in its arena until the arena goes
  }
};

}  // namespace fluxscore::dns
