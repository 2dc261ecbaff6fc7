// Anonymous memory in whole 2 MiB pages, 2 MiB-aligned, with transparent huge pages asked for
// (madvise(MADV_HUGEPAGE): THP in "madvise" mode, the common default, needs it). For big tables
// reached at random (fewer TLB misses) and big output columns (fewer page faults).
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>

namespace fluxscore {

inline constexpr size_t kHugePage = size_t{2} << 20;

#if defined(MADV_HUGEPAGE) && defined(MAP_ANONYMOUS)
inline constexpr bool kHaveHugePageMappings = true;
#else
inline constexpr bool kHaveHugePageMappings = false;
#endif

inline size_t RoundToHugePages(size_t bytes) { return (bytes + kHugePage - 1) & ~(kHugePage - 1); }

// A zero-filled mapping of `size` bytes (a multiple of kHugePage), or nullptr when mmap fails
// or the platform has no MADV_HUGEPAGE. Release it with munmap(p, size).
inline void* MapHugePages(size_t size) {
#if defined(MADV_HUGEPAGE) && defined(MAP_ANONYMOUS)
  // Map one huge page more than needed and trim the unaligned ends.
  void* p = mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  const uintptr_t base = reinterpret_cast<uintptr_t>(p);
  const uintptr_t aligned = (base + kHugePage - 1) & ~(kHugePage - 1);
  if (aligned > base) munmap(p, aligned - base);
  const uintptr_t end = base + size + kHugePage;
  if (end > aligned + size) munmap(reinterpret_cast<void*>(aligned + size), end - aligned - size);
  madvise(reinterpret_cast<void*>(aligned), size, MADV_HUGEPAGE);
  return reinterpret_cast<void*>(aligned);
#else
  (void)size;
  return nullptr;
#endif
}

}  // namespace fluxscore
