#include "pmml/eval/fast.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <utility>

#include "pmml/eval/model_math.h"

namespace fluxscore::pmml {
namespace {

// The column loops are compiled twice, for AVX2 and for baseline x86-64, and the loader picks the
// one this CPU runs (GCC function multi-versioning). The arithmetic is the same IEEE operations
// in the same order either way (no FMA: -ffp-contract=off), so results do not change. Not under
// ASan or TSan: the loader runs the resolver (instrumented code) before the sanitizer has started.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__) && \
    !defined(__SANITIZE_THREAD__)
#define FLUXSCORE_MULTIVERSION __attribute__((target_clones("avx2", "default")))
#else
#define FLUXSCORE_MULTIVERSION
#endif

// The 32-byte vector helpers below are always inlined, so the vector-return ABI GCC warns about
// (AVX vectors returned without AVX enabled) never applies.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

constexpr size_t kLanes = kFastLanes;
// Levels of a perfect tree tested column-wise (level k: 2^k nodes); measured best on rf/gb.
constexpr int32_t kVectorLevels = kColumnLevels;
// Lanes stepped together below the column-wise levels of a float32 tree (see KeySteps8).
constexpr size_t kStepLanes = 8;

// How a forest compares: doubles as doubles (FNode, PNode), float32 forests as integer keys
// (FNode32, PNode32, see FloatKey in fast_plan.h). Column is the block's column type, X the
// tile's. V holds 32 bytes of tile values as one GCC vector (lowered to AVX2 in the avx2
// clone, two SSE2 halves otherwise), M the integer vector a comparison yields.
struct DoubleDomain {
  static constexpr bool kKeys = false;
  using Column = double;
  using X = double;
  using Node = FNode;
  using PNodeT = PNode;
  using Param = double;
  using Int = int64_t;
  typedef double V __attribute__((vector_size(32)));
  typedef int64_t M __attribute__((vector_size(32)));
  [[gnu::always_inline]] static X ToTile(double v) { return v; }
  [[gnu::always_inline]] static Param VectorParam(const PNode& nd) { return nd.threshold; }
  [[gnu::always_inline]] static M LeftMask(V x, Param thr) { return ~(x > thr); }  // left iff !(x > t), NaN t too
  [[gnu::always_inline]] static uint32_t Left(X x, const PNode& nd) {
    return !(x > nd.threshold);
  }
  [[gnu::always_inline]] static size_t Child(X x, const FNode& nd) {
    return x > nd.threshold;
  }
};

template <int kVectorBytes>
struct KeyDomainW {
  static constexpr bool kKeys = true;
  using Column = float;
  using X = uint32_t;
  using Node = FNode32;
  using PNodeT = PNode32;
  using Param = int32_t;
  using Int = int32_t;
  // Keys compare unsigned; AVX2 compares signed, so both sides are offset by 2^31.
  typedef int32_t V __attribute__((vector_size(kVectorBytes)));
  typedef int32_t M __attribute__((vector_size(kVectorBytes)));
  [[gnu::always_inline]] static X ToTile(float v) { return FloatKey(v); }
  [[gnu::always_inline]] static Param VectorParam(const PNode32& nd) {  // offset (see PNode32)
    return static_cast<int32_t>(nd.left_key);
  }
  [[gnu::always_inline]] static M LeftMask(V x, Param key) { return (x ^ INT32_MIN) < key; }
  [[gnu::always_inline]] static uint32_t Left(X x, const PNode32& nd) { return x < nd.left_key; }
  [[gnu::always_inline]] static size_t Child(X x, const FNode32& nd) {
    return !(x < nd.left_key);
  }
};
// 32-byte vectors (AVX2 in the avx2 clone), and 64-byte ones for the AVX-512 variant: a whole
// 16-lane tile per compare.
using KeyDomain = KeyDomainW<32>;
using KeyDomain512 = KeyDomainW<64>;

template <size_t... J, typename F>
inline __attribute__((always_inline)) void ForLanes(std::index_sequence<J...>, F&& f) {
  (f(std::integral_constant<size_t, J>{}), ...);
}

// `levels` (>= 1) steps of 8 lanes down a perfect float32 tree, lanes J0 .. J0 + 7 of the tile
// xg: each p = 2p + (key(x) < left_key). On x86-64 the whole loop is written out: per lane and
// level load offset, load key, cmp, adc — 4 instructions (GCC's own code for a step is twice as
// long; it vectorises the position arithmetic across lanes, which is slower still, and inside
// its own loop it kept storing the positions to memory at every level). 8 positions, the two
// pointers, the counter and a temporary fit the 15 usable registers. The asm reads the tile and
// the nodes, which are written before the walk starts (WalkTreesT's compiler barrier keeps
// those stores ahead of it).
template <size_t J0>
inline __attribute__((always_inline)) void KeySteps8(const PNode32* pn, const uint32_t* xg,
                                                     int32_t levels, uint64_t (&q)[8]) {
#if defined(__x86_64__) && defined(__GNUC__)
  static_assert(sizeof(PNode32) == 8 && offsetof(PNode32, left_key) == 0 &&
                offsetof(PNode32, x_offset) == 4);
  const uint32_t* x = xg + J0;
  uint64_t t;
  uint64_t count = static_cast<uint64_t>(levels);
#define FLUXSCORE_KEY_STEP(P, D)                 \
  "movslq -4(%[pn],%[" P "],8), %[t]\n\t"        \
  "movl " D "(%[x],%[t],4), %k[t]\n\t"           \
  "cmpl -8(%[pn],%[" P "],8), %k[t]\n\t"         \
  "adcq %[" P "], %[" P "]\n\t"
  asm("1:\n\t"
      FLUXSCORE_KEY_STEP("q0", "0") FLUXSCORE_KEY_STEP("q1", "4")
      FLUXSCORE_KEY_STEP("q2", "8") FLUXSCORE_KEY_STEP("q3", "12")
      FLUXSCORE_KEY_STEP("q4", "16") FLUXSCORE_KEY_STEP("q5", "20")
      FLUXSCORE_KEY_STEP("q6", "24") FLUXSCORE_KEY_STEP("q7", "28")
      "decq %[n]\n\t"
      "jnz 1b"
      : [q0] "+r"(q[0]), [q1] "+r"(q[1]), [q2] "+r"(q[2]), [q3] "+r"(q[3]), [q4] "+r"(q[4]),
        [q5] "+r"(q[5]), [q6] "+r"(q[6]), [q7] "+r"(q[7]), [n] "+r"(count), [t] "=&r"(t)
      : [pn] "r"(pn), [x] "r"(x)
      : "cc");
#undef FLUXSCORE_KEY_STEP
#else
  for (int32_t s = 0; s < levels; ++s)
    for (size_t j = 0; j < 8; ++j) {
      const PNode32& nd = pn[q[j] - 1];
      q[j] = 2 * q[j] + (xg[nd.x_offset + J0 + j] < nd.left_key);
    }
#endif
}

// -1 in the lanes that node k0 + (their position's low L bits) of a column-wise level sends
// left: the answers of nodes k0 .. k0 + 2^L - 1, merged pairwise on the position bits (sel).
template <typename D, int32_t L>
[[gnu::always_inline]] inline typename D::M SelectLeft(const typename D::PNodeT* lv, uint32_t k0,
                                                       const typename D::X* xq,
                                                       const typename D::M* sel) {
  if constexpr (L == 0) {
    typename D::V xv;
    std::memcpy(&xv, xq + lv[k0].x_offset, sizeof xv);
    return D::LeftMask(xv, D::VectorParam(lv[k0]));
  } else {
    const typename D::M lo = SelectLeft<D, L - 1>(lv, k0, xq, sel);
    const typename D::M hi = SelectLeft<D, L - 1>(lv, k0 + (uint32_t{1} << (L - 1)), xq, sel);
    return sel[L - 1] < 0 ? hi : lo;
  }
}

// Walks every tree for the ok rows, kLanes rows (one tile) at a time, each a fixed number of
// branch-free steps: perfect trees (see fast_plan.h) by position, their top kVectorLevels levels
// column-wise, the rest lane by lane; deeper trees by the linked layout (leaves loop to
// themselves). Each tree's leaf values are added into its accumulators (or, for kTree, the
// reached leaf is recorded). Accumulation order per row is tree order, as in the row evaluator.
template <typename D>
[[gnu::always_inline]] inline void WalkTreesBody(const FastPlan& fp, FastBlock& b,
                                                 const typename D::Node* __restrict nodes,
                                                 const typename D::PNodeT* __restrict pnodes,
                                                 const typename D::Column* __restrict columns,
                                                 std::vector<typename D::X>& tile_buf) {
  using X = typename D::X;
  using PNodeT = typename D::PNodeT;
  using Node = typename D::Node;
  using V = typename D::V;
  using M = typename D::M;
  const FastForest& f = fp.forest;
  const size_t n = b.n;
  const size_t W = static_cast<size_t>(f.width);
  const int32_t* leaf_of = f.leaf_of_node.data();
  // A tile built by GatherFast holds every row: walk them all (a row that is not ok walks to
  // some bottom slot too — any key is a valid input to the compares — and is not decided).
  const bool tiled = D::kKeys && b.tiled;
  const uint32_t* rows = tiled ? b.all_rows.data() : b.rows.data();
  const size_t nrows = tiled ? n : b.rows.size();
  if (nrows == 0) return;
  // Tile the ok rows (the last tile padded with copies of the last row, whose results are not
  // used), so a walk reads lane j's value at a constant distance from its tile.
  const size_t F = fp.features.size();
  const size_t stride = F * kLanes;
  const size_t groups = (nrows + kLanes - 1) / kLanes;
  const bool dense = nrows == n;  // every row ok (or tiled): rows[i] == i
  if (!tiled) tile_buf.resize(groups * stride);
  X* __restrict tile = tile_buf.data();
  for (size_t ft = 0; ft < F && !tiled; ++ft) {
    if (!fp.features[ft].used) continue;
    const typename D::Column* __restrict col = columns + ft * kFastBlockRows;
    X* __restrict out = tile + ft * kLanes;
    if (nrows == n) {
      for (size_t g = 0; g + 1 < groups; ++g)
        for (size_t j = 0; j < kLanes; ++j) out[g * stride + j] = D::ToTile(col[g * kLanes + j]);
    } else {
      for (size_t g = 0; g + 1 < groups; ++g)
        for (size_t j = 0; j < kLanes; ++j)
          out[g * stride + j] = D::ToTile(col[rows[g * kLanes + j]]);
    }
    const size_t g = groups - 1;
    for (size_t j = 0; j < kLanes; ++j)
      out[g * stride + j] = D::ToTile(col[rows[std::min(g * kLanes + j, nrows - 1)]]);
  }
  asm volatile("" ::: "memory");  // the tile is written before any KeySteps8 reads it
  constexpr size_t kPer = sizeof(V) / sizeof(X);
  constexpr size_t kParts = kLanes / kPer;
  for (size_t t = 0; t < f.roots.size(); ++t) {
    const int32_t root = f.roots[t];
    const int32_t steps = f.steps[t];
    const bool perfect = f.perfect_base[t] >= 0;
    const PNodeT* __restrict pn = perfect ? pnodes + f.perfect_base[t] : nullptr;
    const size_t bbase = perfect ? static_cast<size_t>(f.bottom_base[t]) : 0;
    // A single tree: each bottom slot's whole result (FastForest::bottom_out), written into
    // the outputs by the walk (no leaf array, no second pass).
    const size_t ostride = f.bottom_stride;
    const double* __restrict bout =
        perfect && fp.shape == FastShape::kTree ? f.bottom_out.data() + bbase * ostride : nullptr;
    const uint8_t* __restrict bdec =
        perfect && fp.shape == FastShape::kTree ? f.bottom_decided.data() + bbase : nullptr;
    double* const* to_probs = b.to_probs;
    double* __restrict to_pred = b.to_pred;
    uint8_t* __restrict decided = b.decided.data();
    const uint8_t* __restrict okr = b.ok.data();
    const double* __restrict bvals =
        perfect && fp.shape != FastShape::kTree ? f.bottom_values.data() + bbase * W : nullptr;
    // Accumulators: one column per accumulator when W == 1; W >= 2 (classification forests,
    // tree_acc 0) row-major, the W sums of a row side by side.
    double* acc0 = b.acc.data() + static_cast<size_t>(f.tree_acc[t]) * n;
    const int32_t top = std::min(steps, kVectorLevels);
    // Where a perfect tree's lanes end: the bottom slot holds the reached leaf's values
    // (kTree: its leaf number). One loop per kind, so a lane's sink is straight-line code.
    const int sink = fp.shape == FastShape::kTree
                         ? (!fp.classification ? 6 : W == 2 ? 4 : 5)
                         : W == 1 ? 1 : W == 2 ? 2 : 3;
    // (Inlined: a lambda is compiled for the default target, not for the enclosing clone's.)
    auto perfect_tiles = [&](auto Sink) __attribute__((always_inline)) {
      constexpr int kSink = decltype(Sink)::value;
      auto add = [&](size_t row, uint64_t slot) __attribute__((always_inline)) {
        if constexpr (kSink >= 4) {  // a single tree: the row's result
          const double* o = bout + slot * (kSink == 4 ? 4 : kSink == 6 ? 1 : ostride);
          if constexpr (kSink == 4) {
            to_probs[0][row] = o[0];
            to_probs[1][row] = o[1];
            to_pred[row] = o[2];
          } else if constexpr (kSink == 5) {
            for (size_t w = 0; w < W; ++w) to_probs[w][row] = o[w];
            to_pred[row] = o[W];
          } else {
            to_pred[row] = o[0];
          }
          decided[row] = okr[row] & bdec[slot];
        } else if constexpr (kSink == 1) {
          acc0[row] = acc0[row] + bvals[slot];
        } else if constexpr (kSink == 2) {  // binary classification: one 2-wide add per row
          typedef double D2 __attribute__((vector_size(16)));
          D2 a, v;
          std::memcpy(&a, acc0 + 2 * row, sizeof a);
          std::memcpy(&v, bvals + 2 * slot, sizeof v);
          a = a + v;
          std::memcpy(acc0 + 2 * row, &a, sizeof a);
        } else {
          const double* lv = bvals + slot * W;
          double* a = acc0 + row * W;
          for (size_t w = 0; w < W; ++w) a[w] = a[w] + lv[w];
        }
      };
      for (size_t g = 0; g < groups; ++g) {
        const X* __restrict xg = tile + g * stride;
        const size_t lanes = std::min(kLanes, nrows - g * kLanes);
        const uint32_t* r = rows + g * kLanes;
        const bool full = dense && lanes == kLanes;  // lane j is row g * kLanes + j
        // The top levels column-wise: level k has 2^k nodes, and testing every lane against
        // every node of the level (keeping the answer of the lane's own node) costs a few
        // vector operations per node instead of a dependent load chain per lane. posv: the
        // position within the level.
        M posv[kParts] = {};
        for (size_t q = 0; q < kParts; ++q) {
          const X* xq = xg + q * kPer;
          M& pv = posv[q];
          // Level L: the answers of all 2^L nodes, each lane keeping its own node's by a
          // binary tree of blends on the bits of its position (2^L - 1 blends per level).
          auto level = [&](auto L) __attribute__((always_inline)) {
            constexpr int32_t l = decltype(L)::value;
            const PNodeT* lv = pn + ((uint32_t{1} << l) - 1);
            // sel[b]: bit b of the position moved to the sign bit (what blendv reads).
            M sel[l > 0 ? l : 1];
            constexpr int32_t kSign = 8 * sizeof(typename D::Int) - 1;
            for (int32_t bit = 0; bit < l; ++bit) sel[bit] = pv << (kSign - bit);
            const M left = SelectLeft<D, l>(lv, 0, xq, sel);
            pv = pv + pv - left;
          };
          if (top > 0) level(std::integral_constant<int32_t, 0>{});
          if (top > 1) level(std::integral_constant<int32_t, 1>{});
          if (top > 2) level(std::integral_constant<int32_t, 2>{});
          if (top > 3) level(std::integral_constant<int32_t, 3>{});
          static_assert(kVectorLevels == 4);
        }
        // Heap positions (from 1) below the column-wise levels; a tree no deeper than them
        // has reached its bottom slot already (slot = position - 2^steps).
        // (Through memory: lane extracts from the vectors cost more than a store and loads.)
        typename D::Int level_pos[kLanes];
        static_assert(sizeof level_pos == sizeof posv);
        std::memcpy(level_pos, posv, sizeof level_pos);
        uint64_t p[kLanes];
        if (steps > top) {
          if constexpr (D::kKeys) {
            // Half a tile at a time (see KeySteps8); a full tile's lanes go straight from
            // registers to their rows.
            auto half = [&](auto H) __attribute__((always_inline)) {
              constexpr size_t h = decltype(H)::value;
              uint64_t q[kStepLanes];
              ForLanes(std::make_index_sequence<kStepLanes>{},
                       [&](auto J) {
                         q[J.value] = static_cast<uint64_t>(level_pos[h + J.value]) +
                                      (uint64_t{1} << top);
                       });
              KeySteps8<h>(pn, xg, steps - top, q);
              if (full) {
                ForLanes(std::make_index_sequence<kStepLanes>{}, [&](auto J) {
                  add(g * kLanes + h + J.value, q[J.value] - (uint64_t{1} << steps));
                });
              } else {
                ForLanes(std::make_index_sequence<kStepLanes>{}, [&](auto J) {
                  p[h + J.value] = q[J.value] - (uint64_t{1} << steps);
                });
              }
            };
            static_assert(kLanes == 2 * kStepLanes);
            half(std::integral_constant<size_t, 0>{});
            half(std::integral_constant<size_t, kStepLanes>{});
            if (full) continue;
          } else {
            for (size_t j = 0; j < kLanes; ++j)
              p[j] = static_cast<uint64_t>(level_pos[j]) + (uint64_t{1} << top);
            for (int32_t s = top; s < steps; ++s) {
              for (size_t j = 0; j < kLanes; ++j) {
                const PNodeT& nd = pn[p[j] - 1];
                p[j] = 2 * p[j] + D::Left(xg[nd.x_offset + j], nd);
              }
            }
            for (size_t j = 0; j < kLanes; ++j) p[j] -= uint64_t{1} << steps;
          }
        } else {
          for (size_t j = 0; j < kLanes; ++j) p[j] = static_cast<uint64_t>(level_pos[j]);
        }
        if (full) {
          for (size_t j = 0; j < kLanes; ++j) add(g * kLanes + j, p[j]);
        } else {
          for (size_t j = 0; j < lanes; ++j) add(r[j], p[j]);
        }
      }
    };
    if (perfect) {
      switch (sink) {
        case 1: perfect_tiles(std::integral_constant<int, 1>{}); break;
        case 2: perfect_tiles(std::integral_constant<int, 2>{}); break;
        case 3: perfect_tiles(std::integral_constant<int, 3>{}); break;
        case 4: perfect_tiles(std::integral_constant<int, 4>{}); break;
        case 5: perfect_tiles(std::integral_constant<int, 5>{}); break;
        default: perfect_tiles(std::integral_constant<int, 6>{}); break;
      }
      continue;
    }
    for (size_t g = 0; g < groups; ++g) {
      const X* __restrict xg = tile + g * stride;
      const size_t lanes = std::min(kLanes, nrows - g * kLanes);
      const uint32_t* r = rows + g * kLanes;
      int32_t idx[kLanes];
      for (size_t j = 0; j < kLanes; ++j) idx[j] = root;
      for (int32_t s = 0; s < steps; ++s) {
        for (size_t j = 0; j < kLanes; ++j) {
          const Node& nd = nodes[idx[j]];
          idx[j] = nd.child[D::Child(xg[nd.x_offset + j], nd)];
        }
      }
      if (fp.shape == FastShape::kTree) {
        for (size_t j = 0; j < lanes; ++j) b.leaf[r[j]] = leaf_of[idx[j]];
      } else if (W == 1) {  // one value per leaf, read straight by node (boosting, regression)
        const double* nv = f.node_value.data();
        for (size_t j = 0; j < lanes; ++j) acc0[r[j]] = acc0[r[j]] + nv[idx[j]];
      } else {
        for (size_t j = 0; j < lanes; ++j) {
          const double* lv = f.leaf_values.data() + static_cast<size_t>(leaf_of[idx[j]]) * W;
          double* a = acc0 + r[j] * W;
          for (size_t w = 0; w < W; ++w) a[w] = a[w] + lv[w];
        }
      }
    }
  }
}

template <typename D>
FLUXSCORE_MULTIVERSION void WalkTreesT(const FastPlan& fp, FastBlock& b,
                                       const typename D::Node* nodes,
                                       const typename D::PNodeT* pnodes,
                                       const typename D::Column* columns,
                                       std::vector<typename D::X>& tile_buf) {
  WalkTreesBody<D>(fp, b, nodes, pnodes, columns, tile_buf);
}

#if defined(__x86_64__) && defined(__GNUC__)
// Float32 forests on AVX-512 processors (the column-wise levels compare a whole tile at once);
// FLUXSCORE_NO_AVX512 in the environment turns it off (tests use it to cover the AVX2 and
// baseline code on such machines).
#define FLUXSCORE_HAS_AVX512_WALK 1
__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl"))) void WalkTrees512(
    const FastPlan& fp, FastBlock& b) {
  WalkTreesBody<KeyDomain512>(fp, b, fp.forest.nodes32.data(), fp.forest.pnodes32.data(),
                              b.xf.data(), b.tilek);
}

bool UseAvx512() {
  static const bool cpu = __builtin_cpu_supports("avx512f") &&
                          __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512dq") &&
                          __builtin_cpu_supports("avx512vl");
  return cpu && std::getenv("FLUXSCORE_NO_AVX512") == nullptr;
}
#endif

void WalkTrees(const FastPlan& fp, FastBlock& b) {
  if (fp.float_domain) {
#ifdef FLUXSCORE_HAS_AVX512_WALK
    if (UseAvx512()) return WalkTrees512(fp, b);
#endif
    WalkTreesT<KeyDomain>(fp, b, fp.forest.nodes32.data(), fp.forest.pnodes32.data(),
                          b.xf.data(), b.tilek);
  } else {
    WalkTreesT<DoubleDomain>(fp, b, fp.forest.nodes.data(), fp.forest.pnodes.data(), b.x.data(),
                             b.tile);
  }
}

// xf[i] = col[i] as float; check[i] becomes NaN where that value is not finite (v * 0).
// Always inlined, so it is compiled for each clone of its caller (FLUXSCORE_MULTIVERSION).
template <typename T>
[[gnu::always_inline]] inline void NarrowAndCheck(const T* __restrict col, size_t n, float* __restrict xf,
                           float* __restrict check) {
  for (size_t i = 0; i < n; ++i) {
    const float v = static_cast<float>(col[i]);
    xf[i] = v;
    check[i] = check[i] + v * 0.0f;
  }
}

}  // namespace

FLUXSCORE_MULTIVERSION
void GatherFast(const FastPlan& fp, const std::vector<FastSource>& sources, size_t begin,
                size_t n, size_t next_n, size_t num_categories, FastBlock& b) {
  const size_t F = fp.features.size();
  b.n = n;
  b.x.resize(F * kFastBlockRows);
  if (fp.float_domain) b.xf.resize(F * kFastBlockRows);
  b.ok.assign(n, 1);
  // Only what a shape reads needs zeros: accumulators for forests and chains, probabilities
  // for regressions (tables may cover only some categories; trees write every category).
  const bool trees_sum = fp.shape == FastShape::kForestAverage ||
                         fp.shape == FastShape::kForestSum || fp.shape == FastShape::kChain;
  if (trees_sum) b.acc.assign(static_cast<size_t>(fp.num_acc) * n, 0.0);
  b.leaf.resize(n);
  b.decided.assign(n, 0);
  b.prediction.resize(n);
  if (fp.shape == FastShape::kRegression || fp.shape == FastShape::kChain) {
    b.probs.assign(num_categories * n, 0.0);
  } else {
    b.probs.resize(num_categories * n);
  }
  uint8_t* ok = b.ok.data();
  // check[i] stays 0 while every numeric input of row i is finite (x * 0 is NaN for NaN and
  // infinities): one vectorisable pass per feature instead of a branch per value. Rows with
  // infinities go to the row evaluator, which handles them (they are valid values there).
  // Each is zeroed when a feature first needs it.
  bool use_check = false;
  bool use_checkf = false;
  b.check.resize(n);
  b.checkf.resize(n);
  double* __restrict check = b.check.data();
  float* __restrict checkf = b.checkf.data();
  b.column.assign(F, nullptr);
  // Float32 forests whose features all come from numeric or float32 columns without intervals
  // (scikit-learn models on NumPy arrays): the row tiles the walk reads are built here, straight
  // from the columns, for every row, checking on the way that each value is finite — one pass
  // over the input instead of copy, check, then tile.
  b.tiled = false;
  if (fp.float_domain) {
    std::vector<int32_t>& tf = b.tile_features;
    tf.clear();
    bool direct = true;
    for (size_t f = 0; f < F && direct; ++f) {
      const FastFeature& ff = fp.features[f];
      const FastSource& src = sources[f];
      const bool number = src.numbers != nullptr || src.floats != nullptr;
      if (!ff.used && ff.intervals.empty() && number) continue;  // as below
      direct = ff.used && ff.intervals.empty() && number;
      tf.push_back(static_cast<int32_t>(f));
    }
    b.tiled = direct && !tf.empty();
  }
  if (b.tiled) {
    if (b.all_rows.size() != kFastBlockRows) {
      b.all_rows.resize(kFastBlockRows);
      for (size_t i = 0; i < kFastBlockRows; ++i) b.all_rows[i] = static_cast<uint32_t>(i);
    }
    const size_t stride = F * kFastLanes;
    const size_t groups = (n + kFastLanes - 1) / kFastLanes;
    b.tilek.resize(groups * stride);
    uint32_t* __restrict tile = b.tilek.data();
    // Feature by feature (each column read front to back, which the hardware prefetcher
    // follows), 16 lanes of a tile row at a time (the loops vectorise). chk[i] stays 0 while
    // every value of row i is finite (x * 0 is NaN for NaN and infinities, see check below).
    b.chk16.resize(groups * kFastLanes);
    float* __restrict chk = b.chk16.data();
    std::fill(chk, chk + groups * kFastLanes, 0.0f);
    const size_t full = n / kFastLanes;  // whole tiles; the last one, if partial, is padded
    const size_t lanes = n - full * kFastLanes;
    for (int32_t f : b.tile_features) {
      const FastSource& src = sources[static_cast<size_t>(f)];
      uint32_t* __restrict out = tile + static_cast<size_t>(f) * kFastLanes;
      auto put = [&](const auto* __restrict col) __attribute__((always_inline)) {
        for (size_t g = 0; g < full; ++g) {
          for (size_t j = 0; j < kFastLanes; ++j) {
            const float v = static_cast<float>(col[g * kFastLanes + j]);
            out[g * stride + j] = FloatKey(v);
            chk[g * kFastLanes + j] = chk[g * kFastLanes + j] + v * 0.0f;
          }
        }
        for (size_t j = 0; lanes > 0 && j < kFastLanes; ++j) {  // padded with the last row
          const float v = static_cast<float>(col[full * kFastLanes + std::min(j, lanes - 1)]);
          out[full * stride + j] = FloatKey(v);
          chk[full * kFastLanes + j] = chk[full * kFastLanes + j] + v * 0.0f;
        }
      };
      if (src.floats != nullptr) {
        put(src.floats + begin);
      } else {
        put(src.numbers + begin);  // rounded to float, as the row evaluator reads float fields
      }
      // Then ask for this column's values of the next sub-block (the hardware prefetcher
      // follows few of the many column streams at once). Spread over the features like this it
      // measured faster than all columns' prefetches at the start (19.6 vs 22.1 ms for dt10's
      // 1M rows), or each column's just before it is tiled (22.4 ms), or none (21.9 ms).
      if (src.numbers != nullptr)
        for (size_t i = 0; i < next_n; i += 8) __builtin_prefetch(src.numbers + begin + n + i);
      if (src.floats != nullptr)
        for (size_t i = 0; i < next_n; i += 16) __builtin_prefetch(src.floats + begin + n + i);
    }
    for (size_t i = 0; i < n; ++i) ok[i] = static_cast<uint8_t>(chk[i] == 0.0f);
  }
  for (size_t f = 0; f < F && !b.tiled; ++f) {
    const FastFeature& ff = fp.features[f];
    const FastSource& src = sources[f];
    double* __restrict x = b.x.data() + f * kFastBlockRows;
    // A numeric field the model never reads can change nothing: missing is harmless and every
    // number is valid. (Text cells and intervals can still make it invalid: checked below.)
    if (!ff.used && ff.intervals.empty() && (src.numbers != nullptr || src.floats != nullptr))
      continue;
    b.column[f] = x;
    // Ask for the next sub-block's values of this column while this one is converted (the
    // hardware prefetcher follows few of the many column streams at once).
    if (src.numbers != nullptr)
      for (size_t i = 0; i < next_n; i += 8) __builtin_prefetch(src.numbers + begin + n + i);
    if (src.floats != nullptr)
      for (size_t i = 0; i < next_n; i += 16) __builtin_prefetch(src.floats + begin + n + i);
    if (src.numbers != nullptr && !ff.is_float && ff.intervals.empty() &&
        fp.shape == FastShape::kRegression) {
      // Regressions read double columns in place and need no check pass: a missing (NaN) input
      // makes its table's value NaN, which RunFastKernels sends to the row evaluator; infinities
      // are valid values, on which both paths do the same arithmetic.
      b.column[f] = src.numbers + begin;
      continue;
    }
    if (fp.float_domain && ff.intervals.empty() && (src.numbers != nullptr || src.floats != nullptr)) {
      // Float32 forests read float32 values only: one pass narrows (a float32 column: its values
      // are float32 already, half the bytes to read) and checks.
      float* __restrict xf = b.xf.data() + f * kFastBlockRows;
      if (!use_checkf) std::fill(checkf, checkf + n, 0.0f);
      use_checkf = true;
      if (src.numbers != nullptr) {
        NarrowAndCheck(src.numbers + begin, n, xf, checkf);
      } else {
        NarrowAndCheck(src.floats + begin, n, xf, checkf);
      }
      continue;
    }
    if (src.floats != nullptr) {
      // Widening is exact, and a float32 value is its own float rounding (is_float).
      const float* __restrict col = src.floats + begin;
      for (size_t i = 0; i < n; ++i) x[i] = static_cast<double>(col[i]);
      if (!use_check) std::fill(check, check + n, 0.0);
      use_check = true;
      for (size_t i = 0; i < n; ++i) check[i] = check[i] + x[i] * 0.0;
    } else if (src.numbers != nullptr) {
      const double* __restrict col = src.numbers + begin;
      if (ff.is_float) {
        for (size_t i = 0; i < n; ++i) x[i] = static_cast<double>(static_cast<float>(col[i]));
      } else {
        for (size_t i = 0; i < n; ++i) x[i] = col[i];
      }
      if (!use_check) std::fill(check, check + n, 0.0);
      use_check = true;
      for (size_t i = 0; i < n; ++i) check[i] = check[i] + x[i] * 0.0;
    } else if (src.codes != nullptr) {
      const int32_t* codes = src.codes + begin;
      for (size_t i = 0; i < n; ++i) {
        Cell c = codes[i] >= 0 ? src.dict_cells[codes[i]] : Cell::Missing();
        x[i] = c.v;
        ok[i] &= static_cast<uint8_t>(c.s == CellState::kValid);
      }
    } else {
      std::fill(x, x + n, 0.0);
      std::fill(ok, ok + n, 0);
    }
    if (!ff.intervals.empty()) {
      for (size_t i = 0; i < n; ++i) {
        bool in = false;
        for (const Interval& iv : ff.intervals) in |= iv.Contains(x[i]);
        ok[i] &= static_cast<uint8_t>(in);
      }
    }
    if (fp.float_domain) {  // float features hold float values: the narrowing is exact
      float* __restrict xf = b.xf.data() + f * kFastBlockRows;
      for (size_t i = 0; i < n; ++i) xf[i] = static_cast<float>(x[i]);
    }
  }
  // The ok rows, without a branch per row (which rows are ok is data, not pattern).
  b.rows.resize(n);
  uint32_t* rows = b.rows.data();
  size_t m = 0;
  auto list = [&](auto use_c, auto use_cf) {
    for (size_t i = 0; i < n; ++i) {
      uint8_t good = ok[i];
      if constexpr (decltype(use_c)::value) good &= static_cast<uint8_t>(check[i] == 0.0);
      if constexpr (decltype(use_cf)::value) good &= static_cast<uint8_t>(checkf[i] == 0.0f);
      ok[i] = good;
      rows[m] = static_cast<uint32_t>(i);
      m += good;
    }
  };
  using Yes = std::true_type;
  using No = std::false_type;
  if (use_check && use_checkf) list(Yes{}, Yes{});
  else if (use_check) list(Yes{}, No{});
  else if (use_checkf) list(No{}, Yes{});
  else list(No{}, No{});
  b.rows.resize(m);
}

FLUXSCORE_MULTIVERSION
void RunFastKernels(const Plan& plan, const FastPlan& fp, FastBlock& b) {
  const SubModel& root = plan.root();
  const size_t k = root.target.categories.size();
  const size_t n = b.n;
  const FastForest& f = fp.forest;
  const std::vector<double>& cats = root.target.categories;
  // Where results go: the block's own buffers, or (FastBlock::prob_out / pred_out) straight
  // into the output columns.
  thread_local std::vector<double*> prob_to;
  prob_to.resize(k);
  for (size_t c = 0; c < k; ++c)
    prob_to[c] = b.prob_out.empty() || b.prob_out[c] == nullptr ? b.probs.data() + c * n
                                                                 : b.prob_out[c];
  double* const* probs = prob_to.data();
  double* pred = b.pred_out != nullptr ? b.pred_out : b.prediction.data();
  uint8_t* decided = b.decided.data();
  b.to_probs = probs;
  b.to_pred = pred;

  if (fp.shape == FastShape::kRegression || fp.shape == FastShape::kChain) {
    const SubModel& fm = plan.models[static_cast<size_t>(fp.final_model)];
    const Regression& reg = plan.regressions[static_cast<size_t>(fm.body)];
    const size_t nt = reg.tables.size();
    // Table inputs, column-major: the sum models' values after their Targets, or features.
    const double* src = b.x.data();
    thread_local std::vector<double> sums;
    if (fp.shape == FastShape::kChain) {
      WalkTrees(fp, b);
      const size_t A = static_cast<size_t>(fp.num_acc);
      sums.resize(A * n);
      for (size_t s = 0; s < A; ++s) {
        const SubModel& sm = plan.models[static_cast<size_t>(fp.sum_models[s])];
        const double* acc = b.acc.data() + s * n;
        for (uint32_t i : b.rows) sums[s * n + i] = ApplyTarget(sm.target, acc[i], false);
      }
      src = sums.data();
    }
    // y_t = sum of coef * input over the table's terms, then + intercept (the row evaluator's
    // order: ((0 + c0 x0) + c1 x1) + ... + intercept), column-wise, four terms per pass over
    // the block (the first pass starts from 0, the last adds the intercept).
    thread_local std::vector<double> y;
    y.resize(nt * n);
    for (size_t t = 0; t < nt; ++t) {
      const RegTable& table = reg.tables[t];
      double* __restrict yt = y.data() + t * n;
      const int32_t terms = table.end - table.begin;
      if (terms == 0) {
        for (size_t i = 0; i < n; ++i) yt[i] = 0.0 + table.intercept;
        continue;
      }
      for (int32_t first = 0; first < terms; first += 4) {
        const int32_t m = std::min(4, terms - first);
        double c[4] = {0, 0, 0, 0};
        const double* in[4];
        for (int32_t j = 0; j < m; ++j) {
          const size_t term = static_cast<size_t>(table.begin + first + j);
          const size_t source = static_cast<size_t>(fp.term_source[term]);
          c[j] = reg.terms[term].coef;
          in[j] = fp.shape == FastShape::kChain ? src + source * n : b.column[source];
        }
        for (int32_t j = m; j < 4; ++j) in[j] = in[0];
        const double init = 0.0;
        const bool from_zero = first == 0;
        const bool last = first + 4 >= terms;
        const double icpt = table.intercept;
        const double *__restrict i0 = in[0], *__restrict i1 = in[1], *__restrict i2 = in[2],
                     *__restrict i3 = in[3];
        // One loop per (terms in pass, first, last): the arithmetic stays in program order.
        auto pass = [&](auto M, auto Z, auto L) {
          constexpr int32_t kM = decltype(M)::value;
          for (size_t i = 0; i < n; ++i) {
            double v = decltype(Z)::value ? init : yt[i];
            v = v + c[0] * i0[i];
            if constexpr (kM > 1) v = v + c[1] * i1[i];
            if constexpr (kM > 2) v = v + c[2] * i2[i];
            if constexpr (kM > 3) v = v + c[3] * i3[i];
            if constexpr (decltype(L)::value) v = v + icpt;
            yt[i] = v;
          }
        };
        auto by_m = [&](auto Z, auto L) {
          switch (m) {
            case 1: pass(std::integral_constant<int32_t, 1>{}, Z, L); break;
            case 2: pass(std::integral_constant<int32_t, 2>{}, Z, L); break;
            case 3: pass(std::integral_constant<int32_t, 3>{}, Z, L); break;
            default: pass(std::integral_constant<int32_t, 4>{}, Z, L); break;
          }
        };
        using T = std::true_type;
        using F = std::false_type;
        if (from_zero && last) by_m(T{}, T{});
        else if (from_zero) by_m(T{}, F{});
        else if (last) by_m(F{}, T{});
        else by_m(F{}, F{});
      }
    }
    if (!fp.classification) {
      for (uint32_t i : b.rows) {
        if (std::isnan(y[i])) continue;  // a missing input (or a chain's missing leaf)
        pred[i] = ApplyTarget(fm.target, RegressionOutput(reg, y[i], false), false);
        decided[i] = 1;
      }
      return;
    }
    const bool ordinal = fm.target.field >= 0 &&
                         plan.fields[static_cast<size_t>(fm.target.field)].op_type == OpType::kOrdinal;
    // The common shapes, inline (the arithmetic of NormalizeRegression, row by row): a binary
    // logit (logit with two tables, or softmax whose second table is the empty default), and
    // softmax over any number of tables.
    const bool two = nt == 2;
    const RegTable& second = reg.tables[nt > 1 ? 1 : 0];
    const bool default_second = two && second.begin == second.end && second.intercept == 0;
    const bool binary_logit = !ordinal && two &&
                              (reg.norm == RegNorm::kLogit ||
                               (reg.norm == RegNorm::kSoftmax && default_second));
    const bool softmax = !ordinal && reg.norm == RegNorm::kSoftmax && !binary_logit;
    if (binary_logit) {
      const double* y0 = y.data();
      const double* y1 = y.data() + n;
      double* p0 = probs[static_cast<size_t>(fp.final_to_root[0])];
      double* p1 = probs[static_cast<size_t>(fp.final_to_root[1])];
      const double cat0 = reg.tables[0].category;
      const double cat1 = reg.tables[1].category;
      for (uint32_t i : b.rows) {
        if (std::isnan(y0[i]) || std::isnan(y1[i])) continue;
        const double v0 = 1.0 / (1.0 + std::exp(-y0[i]));  // Link(kLogit, y0)
        const double v1 = 1.0 - v0;
        p0[i] = v0;
        p1[i] = v1;
        // The first maximum in table order, as below.
        const double best = v0 > -INFINITY ? v0 : -INFINITY;
        double p = v0 > -INFINITY ? cat0 : 0.0;
        if (v1 > best) p = cat1;
        pred[i] = p;
        decided[i] = 1;
      }
      return;
    }
    double v[64];
    thread_local std::vector<double> big;
    double* vv = v;
    if (nt > 64) {
      big.resize(nt);
      vv = big.data();
    }
    for (uint32_t i : b.rows) {
      bool null_leaf = false;
      for (size_t t = 0; t < nt; ++t) {
        vv[t] = y[t * n + i];
        null_leaf |= std::isnan(vv[t]);
      }
      if (null_leaf) continue;
      if (softmax) {
        double sum = 0;
        for (size_t t = 0; t < nt; ++t) {
          vv[t] = std::exp(vv[t]);
          sum = sum + vv[t];
        }
        for (size_t t = 0; t < nt; ++t) vv[t] = vv[t] / sum;
      } else {
        NormalizeRegression(reg, ordinal, false, vv, nt);
      }
      double best = -INFINITY;
      double p = 0;
      for (size_t t = 0; t < nt; ++t) {
        probs[static_cast<size_t>(fp.final_to_root[t])][i] = vv[t];
        if (vv[t] > best) {
          best = vv[t];
          p = reg.tables[t].category;
        }
      }
      pred[i] = p;
      decided[i] = 1;
    }
    return;
  }

  WalkTrees(fp, b);
  switch (fp.shape) {
    case FastShape::kTree:
      if (f.perfect_base[0] >= 0) break;  // the walk wrote the results (FastForest::bottom_out)
      if (fp.classification && k == 2) {  // binary: the same, without the category loop
        const double* lvs = f.leaf_values.data();
        const int32_t* lp = f.leaf_pred.data();
        double* __restrict p0 = probs[0];
        double* __restrict p1 = probs[1];
        for (uint32_t i : b.rows) {
          const size_t leaf = static_cast<size_t>(b.leaf[i]);
          const double* lv = lvs + 2 * leaf;
          if (lp[leaf] < 0 || std::isnan(lv[0])) continue;
          p0[i] = lv[0];
          p1[i] = lv[1];
          pred[i] = cats[static_cast<size_t>(lp[leaf])];
          decided[i] = 1;
        }
        break;
      }
      for (uint32_t i : b.rows) {
        const size_t leaf = static_cast<size_t>(b.leaf[i]);
        if (fp.classification) {
          const double* lv = f.leaf_values.data() + leaf * k;
          if (f.leaf_pred[leaf] < 0 || std::isnan(lv[0])) continue;
          for (size_t c = 0; c < k; ++c) probs[c][i] = lv[c];
          pred[i] = cats[static_cast<size_t>(f.leaf_pred[leaf])];
        } else {
          const double v = f.leaf_values[leaf];
          if (std::isnan(v)) continue;
          pred[i] = ApplyTarget(root.target, v, false);
        }
        decided[i] = 1;
      }
      break;
    case FastShape::kForestAverage: {
      const double total = static_cast<double>(fp.trees);
      for (uint32_t i : b.rows) {
        if (fp.classification) {
          // Division, then the first maximum in category order (the row evaluator's choice).
          double best = -INFINITY;
          size_t at = 0;
          bool null_leaf = false;
          for (size_t c = 0; c < k; ++c) {
            const double p = b.acc[i * k + c] / total;  // row-major (see WalkTreesT)
            probs[c][i] = p;
            null_leaf |= std::isnan(p);
            if (p > best) {
              best = p;
              at = c;
            }
          }
          if (null_leaf) continue;
          pred[i] = cats[at];
        } else {
          if (std::isnan(b.acc[i])) continue;
          pred[i] = ApplyTarget(root.target, b.acc[i] / total, false);
        }
        decided[i] = 1;
      }
      break;
    }
    case FastShape::kForestSum:
      for (uint32_t i : b.rows) {
        if (std::isnan(b.acc[i])) continue;
        pred[i] = ApplyTarget(root.target, b.acc[i], false);
        decided[i] = 1;
      }
      break;
    default:
      break;
  }
}

const double* FastColumnValues(const FastPlan& fp, const FastBlock& b, size_t c) {
  const FastColumn& col = fp.columns[c];
  if (col.kind == FastColumn::kPrediction) return b.prediction.data();
  if (col.category < 0) return nullptr;  // a category the model never predicts: 0
  return b.probs.data() + static_cast<size_t>(col.category) * b.n;
}

}  // namespace fluxscore::pmml
