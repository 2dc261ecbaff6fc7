// The terms p·log2(p) of Shannon entropies over counts (p = count / n), from a table for the
// small totals that most rows have (a name's label, a row's handful of addresses): each term is
// computed once, by the same operations as inline, so sums over them are bit for bit the same.
#pragma once

#include <cmath>
#include <cstdint>

namespace fluxscore::dns {

inline double PLog2PComputed(uint64_t count, uint64_t n) {
  const double p = static_cast<double>(count) / static_cast<double>(n);
  return p * std::log2(p);
}

struct EntropyTable {
  static constexpr uint64_t kMaxN = 64;
  double plog2p[kMaxN + 1][kMaxN + 1];
  double log2[kMaxN + 1];
  EntropyTable() {
    for (uint64_t m = 1; m <= kMaxN; ++m) {
      log2[m] = std::log2(static_cast<double>(m));
      for (uint64_t c = 1; c <= m; ++c) plog2p[m][c] = PLog2PComputed(c, m);
    }
  }
  static const EntropyTable& Get() {
    static const EntropyTable table;
    return table;
  }
};

// p·log2(p) for p = count / n, 0 < count <= n.
inline double PLog2P(uint64_t count, uint64_t n) {
  return n <= EntropyTable::kMaxN ? EntropyTable::Get().plog2p[n][count] : PLog2PComputed(count, n);
}

// log2(n), n > 0.
inline double Log2(uint64_t n) {
  return n <= EntropyTable::kMaxN ? EntropyTable::Get().log2[n] : std::log2(static_cast<double>(n));
}

}  // namespace fluxscore::dns
