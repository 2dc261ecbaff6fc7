// Domain-name material for the simulator: an embedded word list (so names do not depend on the
// machine's dictionary) and generators for human-looking, brand-like and DGA-like labels.
#pragma once

#include <string>
#include <string_view>

#include "sim/rng.h"

namespace fluxscore::sim {

std::string_view Word(Rng& r);
// Two dictionary words, joined directly or (with probability p_hyphen) by a hyphen.
std::string TwoWords(Rng& r, double p_hyphen);
// A DGA-like label: random letters (consonant-heavy), sometimes with digits, 8-18 chars.
std::string DgaLabel(Rng& r);
// Picks from a list of (value, weight) with integer weights.
struct WeightedName {
  const char* name;
  unsigned weight;
};
template <size_t N>
const char* PickName(Rng& r, const WeightedName (&list)[N]) {
  unsigned total = 0;
  for (const auto& w : list) total += w.weight;
  uint64_t u = r.Below(total);
  for (const auto& w : list) {
    if (u < w.weight) return w.name;
    u -= w.weight;
  }
  return list[N - 1].name;
}

}  // namespace fluxscore::sim
