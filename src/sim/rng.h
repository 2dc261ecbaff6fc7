// Deterministic random numbers for the simulator: splitmix64 as a stream generator and as a
// hash, so that any quantity can be derived from (seed, key...) without stored state. Only
// integer arithmetic and IEEE doubles built from integers: the same bytes on every platform
// (std:: distributions are implementation-defined and are not used).
#pragma once

#include <cmath>
#include <cstdint>

namespace fluxscore::sim {

inline uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
inline uint64_t H(uint64_t a) { return Mix64(a + 0x9e3779b97f4a7c15ULL); }
inline uint64_t H(uint64_t a, uint64_t b) { return Mix64(H(a) ^ (b + 0x632be59bd9b4e019ULL)); }
inline uint64_t H(uint64_t a, uint64_t b, uint64_t c) { return H(H(a, b), c); }
inline uint64_t H(uint64_t a, uint64_t b, uint64_t c, uint64_t d) { return H(H(a, b, c), d); }

// splitmix64 stream.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    s_ += 0x9e3779b97f4a7c15ULL;
    return Mix64(s_);
  }
  // [0, 1) with 53 bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // (0, 1]: safe for log().
  double UniformPos() { return static_cast<double>((Next() >> 11) + 1) * 0x1.0p-53; }
  // [0, n), n > 0 (Lemire's multiply-shift; bias < n / 2^64, irrelevant here).
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }
  // [lo, hi] inclusive.
  int64_t Range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }
  bool Chance(double p) { return Uniform() < p; }
  double Normal() {  // Box-Muller, one value
    const double u1 = UniformPos(), u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Log-normal with the given median and sigma of the log.
  double LogNormal(double median, double sigma) { return median * std::exp(sigma * Normal()); }

 private:
  uint64_t s_;
};

}  // namespace fluxscore::sim
