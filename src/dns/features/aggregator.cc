#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

#include "common/huge_pages.h"

#include "dns/features/entropy.h"
#include "dns/features/ip_sketch.h"
#include "dns/features/key_table.h"
#include "dns/features/set_arena.h"
#include "dns/features/sketch.h"
#include "fluxscore/dns/enrich.h"
#include "fluxscore/dns/features.h"

namespace fluxscore::dns {
namespace {
using features_internal::ChunkedStore;
using features_internal::HashKey;
using features_internal::KeyTable;

using U128 = unsigned __int128;

// EXPOSURE's TTL ranges: [0,1), [1,10), [10,100), [100,300), [300,900), >= 900 seconds.
constexpr uint32_t kTtlRangeStarts[] = {0, 1, 10, 100, 300, 900};
constexpr size_t kTtlRanges = 6;

size_t TtlRange(uint32_t ttl) {
  size_t r = 0;
  while (r + 1 < kTtlRanges && ttl >= kTtlRangeStarts[r + 1]) ++r;
  return r;
}

// (time in microseconds, TTL) of one record's address answers: the record's smallest TTL.
// Packed to 12 bytes (4-byte aligned): the event lists are the largest part of the state.
struct __attribute__((packed, aligned(4))) TtlEvent {
  int64_t t_us;
  uint32_t ttl;
  bool operator<(const TtlEvent& o) const { return t_us != o.t_us ? t_us < o.t_us : ttl < o.ttl; }
};
static_assert(sizeof(TtlEvent) == 12);
static_assert(std::is_trivially_copyable_v<TtlEvent>);

// 192 bytes, aligned to whole cache lines: every record of a key touches all of it.
struct alignas(64) KeyState {
  uint64_t queries = 0;
  uint64_t addr_records = 0;   // records with at least one address answer (= TTL events)
  uint64_t addr_answers = 0;   // address answers over those records
  uint32_t answers_max = 0;
  uint32_t cname_depth = 0;
  uint32_t ttl_min = UINT32_MAX, ttl_max = 0;
  uint64_t ttl_sum = 0;
  U128 ttl_sumsq = 0;
  // Address answers per TTL range but the last (the last one: addr_answers minus these).
  uint64_t ttl_range[kTtlRanges - 1] = {};
  // The sets' members live in the Aggregator's SetArena (huge pages; see set_arena.h).
  CompactVec<TtlEvent, ArenaAlloc> ttl_events;  // the first sample_cap of the addr_records events by (time, TTL)
  // What this key's previous record inserted into ips / ttls: the sum of its address answers'
  // hashes (0: none) and its last address TTL (UINT64_MAX: none). A value inserted once is a
  // member or, in a saturated sample, above its threshold for good — so inserting it again is a
  // no-op and is skipped; busy names repeat their answers and TTLs from record to record. Not
  // part of the serialised state (a restored state starts without them).
  uint64_t last_ip_sum = 0;
  uint64_t last_ttl = UINT64_MAX;
  BasicIpSketch<ArenaAlloc> ips;  // IPv4 members are 8-byte hashes (see ip_sketch.h)
  // Lazy (BottomK::Append): most records bring a new client; Impl::NormalizeClients before reads.
  BottomK<NoValue, ArenaAlloc> clients;
  BottomK<NoValue, ArenaAlloc> ttls;  // a TTL is recovered from its hash (TtlOfHash): 8 bytes a member

  uint64_t TtlRangeCount(size_t r) const {
    if (r + 1 < kTtlRanges) return ttl_range[r];
    uint64_t rest = addr_answers;
    for (uint64_t x : ttl_range) rest -= x;
    return rest;
  }
  size_t bytes() const { return sizeof(KeyState) + ips.bytes() + sets_bytes(); }
  // The same without the IPv6 side list of `ips` (Flush's accounting per record: that list's
  // growth is reported by IpSketch::Insert instead of reading its header for every record).
  size_t bytes_but_v6() const { return sizeof(KeyState) + ips.hash_bytes() + sets_bytes(); }
  size_t sets_bytes() const { return ttl_events.heap_bytes() + clients.bytes() + ttls.bytes(); }
};

static_assert(sizeof(KeyState) == 192, "a key's state is three cache lines; keep it so");

uint64_t TtlHash(uint32_t ttl) { return Mix64(ttl + 0x9E3779B97F4A7C15ULL); }
uint32_t TtlOfHash(uint64_t h) { return static_cast<uint32_t>(Unmix64(h) - 0x9E3779B97F4A7C15ULL); }

void AddEvent(CompactVec<TtlEvent, ArenaAlloc>& ev, TtlEvent e, size_t cap) {
  if (ev.size() >= cap && !(e < ev.back())) return;  // a full sample keeps the earliest events
  if (ev.empty() || !(e < ev.back())) {
    ev.push_back(e);
  } else {
    ev.insert(static_cast<size_t>(std::upper_bound(ev.begin(), ev.end(), e) - ev.begin()), e);
  }
  if (ev.size() > cap) ev.pop_back();
}

// (The key table, its state store and HashKey: dns/features/key_table.h.)

// Map key: the window start (8 bytes, big-endian so that sorting keys sorts windows... not
// relied on) followed by the domain.
std::string_view MakeKey(std::string& buf, int64_t window, std::string_view name) {
  buf.resize(8 + name.size());
  uint64_t w = static_cast<uint64_t>(window);
  for (int i = 7; i >= 0; --i) {
    buf[static_cast<size_t>(i)] = static_cast<char>(w & 0xff);
    w >>= 8;
  }
  std::memcpy(buf.data() + 8, name.data(), name.size());
  return buf;
}

int64_t KeyWindow(std::string_view key) {
  uint64_t w = 0;
  for (size_t i = 0; i < 8; ++i) w = (w << 8) | static_cast<unsigned char>(key[i]);
  return static_cast<int64_t>(w);
}

// The evidence of one key's row: (ASN, organisation) and country of each sampled IP, counted in
// runs after a stable sort (ASN 0 and "" = no match); TTLs of the first responses; up to 32 IPs.
void BuildEvidence(const KeyState& s, const Enricher* enricher, RowEvidence& ev) {
  std::vector<std::pair<uint32_t, std::string_view>> ev_asn;
  std::vector<std::string_view> ev_cc;
  if (enricher != nullptr) {
    s.ips.ForEach([&](uint64_t, const IpAddr& ip) {
      if (auto a = enricher->Asn(ip)) {
        ev_asn.emplace_back(a->asn, a->org);
      } else {
        ev_asn.emplace_back(0, std::string_view());
      }
      if (auto cc = enricher->Country(ip)) {
        ev_cc.push_back(*cc);
      } else {
        ev_cc.emplace_back();
      }
    });
  }
  // Per ASN (ascending), its IP count and the first non-empty organisation of its IPs.
  std::stable_sort(ev_asn.begin(), ev_asn.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < ev_asn.size();) {
    RowEvidence::Network n;
    n.asn = ev_asn[i].first;
    size_t j = i;
    for (; j < ev_asn.size() && ev_asn[j].first == n.asn; ++j)
      if (n.org.empty()) n.org.assign(ev_asn[j].second);
    n.ips = j - i;
    ev.networks.push_back(std::move(n));
    i = j;
  }
  std::stable_sort(ev.networks.begin(), ev.networks.end(),
                   [](const auto& a, const auto& b) { return a.ips > b.ips; });
  std::sort(ev_cc.begin(), ev_cc.end());
  for (size_t i = 0; i < ev_cc.size();) {
    size_t j = i + 1;
    while (j < ev_cc.size() && ev_cc[j] == ev_cc[i]) ++j;
    ev.countries.emplace_back(std::string(ev_cc[i]), j - i);
    i = j;
  }
  std::stable_sort(ev.countries.begin(), ev.countries.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  thread_local std::vector<uint32_t> ttl_values;  // counted in runs after sorting
  ttl_values.clear();
  for (const TtlEvent& e : s.ttl_events) ttl_values.push_back(e.ttl);
  std::sort(ttl_values.begin(), ttl_values.end());
  for (size_t i = 0; i < ttl_values.size();) {
    size_t j = i + 1;
    while (j < ttl_values.size() && ttl_values[j] == ttl_values[i]) ++j;
    ev.ttls.emplace_back(ttl_values[i], j - i);
    i = j;
  }
  std::vector<IpAddr> sample;
  // The 32 of smallest hash: a uniform sample, the same whatever the input order.
  s.ips.ForEach([&](uint64_t, const IpAddr& ip) { sample.push_back(ip); });
  if (sample.size() > 32) sample.resize(32);
  std::sort(sample.begin(), sample.end());
  for (const IpAddr& ip : sample) ev.ips.push_back(ip.ToString());
}

}  // namespace

struct Aggregator::Impl {
  // The per-key sets' memory. First member: destroyed last, after the states whose sets free
  // into it while destroy_scope (second member, destroyed just before it) keeps it current.
  SetArena arena;
  std::optional<ArenaScope> destroy_scope;
  ~Impl() {
    StopDrainThread();
    destroy_scope.emplace(&arena);
  }
  FeatureOptions opts;
  KeyTable<KeyState> keys;
  uint64_t heap_bytes = 0;  // the per-key vectors' capacity, tracked by deltas
  uint64_t dropped = 0;     // records not aggregated (over budget): complete after Flush
  uint64_t dropped_in_add = 0;  // those Add turned away (the adding thread's count until Flush)
  uint32_t since_check = 0;
  // Set by the drains (which then drop every later record); read by Add on the adding thread.
  std::atomic<bool> over_budget{false};

  // Records are not aggregated as they arrive: Add encodes each one (key, time, client hash,
  // CNAME count, address answers) into the buffer of its shard — the top bits of its key's
  // hash — and when a shard's buffer is full, Drain aggregates all buffers, shard after shard.
  // A shard's keys are 1/kShards of all keys, so while its records are aggregated their states
  // and sets stay in the cache: a busy name's lines are fetched once per drain instead of once
  // per record. (Measured on the 10M-line benchmark log, its lines reordered by hand into 64
  // hash shards per 1M / 3M lines / whole file: user time 12.5 s → 10.5 / 9.6 / 9.4 s.) Each
  // key's records stay in arrival order, so every result is that of one-at-a-time aggregation;
  // only the order in which keys are created changes. Every public method drains first (Flush).
  //
  // With opts.threads >= 2 there are two sets of buffers: when a shard's buffer is full, its set
  // goes to the drain thread (after the set before it has been drained) and Add goes on into
  // the other set. Sets are drained whole and in the order they were filled, so the records
  // reach the pipeline in the same order as with one set and one thread. The adding thread
  // touches only its set, the drain thread only the other set and the state; the hand-over
  // (a mutex) orders the two. Every public method but Add waits for the drain thread first.
  static constexpr unsigned kShardBits = 6;
  static constexpr size_t kShards = size_t{1} << kShardBits;
  struct BufferSet {
    char* mem = nullptr;  // kShards regions of region_bytes, in shard_mem
    std::array<size_t, kShards> used{};
    uint64_t records = 0;
    std::array<size_t, kShards> high{};  // bytes of each region ever used (resident pages)
  };
  std::unique_ptr<char[]> shard_mem;  // the sets' regions (allocated on first use)
  size_t shard_mem_bytes = 0;
  size_t region_bytes = 0;
  std::array<BufferSet, 2> sets;
  size_t adding = 0;  // sets[adding] takes Add's records
  static size_t EncodedSize(const DnsRecord& r, size_t key_len);
  static char* Encode(char* out, uint64_t hash, int64_t window, std::string_view name, double ts,
                      const DnsRecord& r);
  void Buffer(uint64_t hash, int64_t window, std::string_view name, double ts, const DnsRecord& r);
  void DrainRegion(const char* p, const char* end);  // into the pipeline
  void DrainSet(BufferSet& set);  // every record of the set aggregated, the set empty
  void Drain();  // every buffered record aggregated, the buffers empty (waits for the thread)

  // The drain thread (started at the first hand-over).
  struct DrainThread {
    std::thread thread;
    std::mutex mu;
    std::condition_variable cv;
    int draining = -1;  // the set being drained, -1 when idle
    bool stop = false;
    std::exception_ptr error;  // thrown by a drain, rethrown by WaitForDrain
  };
  std::unique_ptr<DrainThread> drain_thread;
  void HandOver();     // sets[adding] to the drain thread; Add goes on into the other set
  void WaitForDrain();  // the drain thread idle (its error, if any, rethrown here)
  void DrainLoop();
  void StopDrainThread();

  // The buffered records are aggregated in batches of kBatch, in a three-stage pipeline: the key
  // of each record is hashed and its slot prefetched when it is decoded; when a batch is full, (1) it finds
  // its keys and prefetches their states, (2) the batch before it reads its states and
  // prefetches their sets, (3) the batch before that one updates its states, in arrival order.
  // A batch's memory accesses are issued a batch of decoding (microseconds) before they
  // are needed, and the cache misses of up to 3 * kBatch records overlap. Results are those of
  // one-at-a-time aggregation: keys are found (and created) and updated in the order the
  // records enter the pipeline.
  //
  // A record's address answers (the only answers the state keeps anything of but a count of
  // CNAMEs), in answer order.
  struct PendingAnswer {
    IpAddr addr;
    uint64_t hash;  // IpHash(addr) (used twice: the answer-set sum, the set)
    uint32_t ttl;
  };
  struct Pending {
    double ts;
    bool has_client;
    uint64_t client_hash;  // IpHash of the client address
    uint32_t n_cname;      // CNAME answers of the record
    uint32_t ans_begin, ans_end;
    uint64_t hash;
    uint32_t state;       // the entry's reference (KeyTable: a state's index, or kSingle)
    bool confirmed;       // state is the key's (else its bytes are still to be compared)
    bool created;         // the record made its key's entry: a single that holds it
    uint64_t key_offset;  // of the entry's bytes in the key arena, when not confirmed
    std::string_view key;  // in the shard buffer being drained
    std::string_view body;  // the encoded record after its key: a new single's payload
  };
  static constexpr size_t kBatch = 32;
  struct Batch {
    std::array<Pending, kBatch> pending{};
    size_t n = 0;
    int stage = 0;  // the stages done (0: filling)
    std::vector<PendingAnswer> answers;
  };
  static constexpr size_t kStages = 3;
  std::array<Batch, kStages> batches;
  size_t filling = 0;  // batches[filling] takes new records; the older ones follow it in the ring

  // The encoded record from its `ts` on (what a single keeps): into q and answers (appended).
  static const char* DecodeBody(const char* p, Pending& q, std::vector<PendingAnswer>& answers);
  // Adds one record to a state; *heap grows by its IPv6 side list's growth (see bytes_but_v6).
  void Update(KeyState& s, const Pending& r, const std::vector<PendingAnswer>& answers, uint64_t* heap) const;
  // A single's record (its payload) into a fresh state: the state one-at-a-time aggregation
  // gives a key seen once.
  void Replay(KeyState& s, const char* payload, uint64_t* heap) const;
  // The state of a key that has an entry, a single made full (*promoted) by replaying its record.
  uint32_t MakeFull(std::string_view key, uint64_t h, bool* promoted);
  // The full state of a key, its entry created (*created) or a single made full.
  KeyState& FullState(std::string_view key, uint64_t h, bool* created);
  // Whether an entry passes the prefilter (ips.Count() >= min_ips; a single's answered from its
  // payload, replayed only when it has more address answers than the sample cap).
  bool PassesPrefilter(uint32_t ref, const char* payload, std::optional<KeyState>& scratch) const;
  // The state of an entry for reading: the full state, or a single's replayed into `scratch`
  // from its payload (in the key table: after the key's bytes there; KeyTable::Found::payload).
  const KeyState& StateOf(uint32_t ref, const char* payload, std::optional<KeyState>& scratch) const;
  void FindKeys(Batch& b);       // stage 1
  void PrefetchSets(Batch& b);   // stage 2
  void UpdateStates(Batch& b);   // stage 3 (and empties the batch)
  void Advance();                // batches[filling] is full: one step of the pipeline
  void NormalizeClients() {      // every key's client set sorted and deduplicated (reads need it)
    const ArenaScope scope(&arena);
    const size_t cap = opts.sample_cap;
    for (size_t i = 0; i < keys.states.size(); ++i) keys.states[i].clients.Normalize(cap);
  }
  void FlushPipeline();          // all records in the pipeline aggregated
  void Flush() {                 // all records aggregated
    Drain();
    dropped += dropped_in_add;
    dropped_in_add = 0;
  }

  // The state's size for the memory budget: the key table and the sets' members; those are
  // counted both ways, by their capacities (heap_bytes) and by what the arena has mapped (class
  // rounding, free blocks and the last chunk's tail included), whichever is larger.
  uint64_t Bytes() const {
    uint64_t buffers = 0;
    for (const BufferSet& set : sets)
      for (size_t b : set.high) buffers += b;
    return keys.bytes() + std::max<uint64_t>(heap_bytes, arena.mapped()) + buffers;
  }
  void Recount() {
    uint64_t b = 0;
    keys.states.ForEach([&](const KeyState& s) { b += s.bytes() - sizeof(KeyState); });
    heap_bytes = b;
    over_budget = Bytes() > opts.memory_budget;
  }
};

Aggregator::Aggregator(FeatureOptions opts) : impl_(std::make_unique<Impl>()) {
  impl_->opts = opts;
  if (impl_->opts.sample_cap < 2) impl_->opts.sample_cap = 2;
}
Aggregator::~Aggregator() = default;
Aggregator::Aggregator(Aggregator&&) noexcept = default;

void Aggregator::Add(const DnsRecord& r) {
  Impl& m = *impl_;
  if (m.over_budget.load(std::memory_order_relaxed)) {
    // (The flag never goes back, and the drains set it while they aggregate records added
    // before this one: every later record would be dropped there too.)
    ++m.dropped_in_add;
    return;
  }
  const FeatureOptions& o = m.opts;
  const int64_t w = o.window_seconds;
  // Readers reject timestamps beyond ±2^40 s; direct API callers get them clamped (no overflow).
  const double ts = std::isnan(r.ts) ? 0.0 : std::clamp(r.ts, -1099511627776.0, 1099511627776.0);
  const double wd = std::floor(ts / static_cast<double>(w));
  const int64_t window = static_cast<int64_t>(wd) * w;
  std::string_view name = r.qname;
  if (o.key == KeyMode::kRegistered && o.psl != nullptr) name = o.psl->Registered(name);
  // HashKey of the key bytes (window big-endian, then the name) without building them.
  const uint64_t hash =
      features_internal::HashKeyParts(__builtin_bswap64(static_cast<uint64_t>(window)), name);
  m.Buffer(hash, window, name, ts, r);
}

// The encoded record: hash u64 | key length u32 | key bytes (window big-endian, name) | ts f64 |
// has_client u8 | client hash u64 | CNAME answers u32 | address answers u32 | per address
// answer: TTL u32, family u8 (4 or 6), 4 or 16 address bytes.
// The body is what follows the key bytes (a single's payload); its address-answer count is at:
constexpr size_t kBodyAddrCount = 8 + 1 + 8 + 4;
// At most this many bytes (every answer taken as an IPv6 address): Encode writes this much or less.
size_t Aggregator::Impl::EncodedSize(const DnsRecord& r, size_t key_len) {
  return 8 + 4 + key_len + 8 + 1 + 8 + 4 + 4 + r.answers.size() * (5 + 16);
}

namespace {
template <typename T>
char* Put(char* out, T v) {
  std::memcpy(out, &v, sizeof v);
  return out + sizeof v;
}
template <typename T>
const char* Get(const char* in, T* v) {
  std::memcpy(v, in, sizeof *v);
  return in + sizeof *v;
}
}  // namespace

char* Aggregator::Impl::Encode(char* out, uint64_t hash, int64_t window, std::string_view name, double ts,
                               const DnsRecord& r) {
  out = Put(out, hash);
  out = Put(out, static_cast<uint32_t>(8 + name.size()));
  out = Put(out, __builtin_bswap64(static_cast<uint64_t>(window)));
  std::memcpy(out, name.data(), name.size());
  out += name.size();
  out = Put(out, ts);
  out = Put(out, static_cast<uint8_t>(r.has_client));
  out = Put(out, r.has_client ? IpHash(r.client) : uint64_t{0});
  char* const counts = out;  // (written once known)
  out += 8;
  uint32_t n_cname = 0, n_addr = 0;
  for (const Answer& a : r.answers) {
    n_cname += a.type == kTypeCNAME;
    if (!a.is_address) continue;
    ++n_addr;
    out = Put(out, a.ttl);
    if (a.addr.is_v4()) {
      out = Put(out, uint8_t{4});
      out = Put(out, a.addr.v4());
    } else {
      out = Put(out, uint8_t{6});
      std::memcpy(out, a.addr.bytes.data(), 16);
      out += 16;
    }
  }
  Put(Put(counts, n_cname), n_addr);
  return out;
}

void Aggregator::Impl::Buffer(uint64_t hash, int64_t window, std::string_view name, double ts,
                              const DnsRecord& r) {
  const size_t need = EncodedSize(r, 8 + name.size());
  if (shard_mem == nullptr) {
    // A sixteenth of the budget, at most 128 MiB, at least 64 KiB a shard, shared by the sets.
    // The regions' pages are touched as they fill: a small log costs a few pages per shard.
    const size_t n_sets = opts.threads >= 2 ? 2 : 1;
    region_bytes = std::clamp<uint64_t>(opts.memory_budget / 16 / kShards / n_sets, 64u << 10, (2u << 20) / n_sets);
    shard_mem_bytes = n_sets * kShards * region_bytes;
    shard_mem.reset(new char[shard_mem_bytes]);
    for (size_t i = 0; i < n_sets; ++i) sets[i].mem = shard_mem.get() + i * kShards * region_bytes;
  }
  const size_t sh = hash >> (64 - kShardBits);
  if (sets[adding].used[sh] + need > region_bytes) {
    if (need > region_bytes) {  // a record larger than a region: aggregated on its own
      Drain();
      std::unique_ptr<char[]> one(new char[need]);
      const char* end = Encode(one.get(), hash, window, name, ts, r);
      const ArenaScope scope(&arena);
      DrainRegion(one.get(), end);
      FlushPipeline();
      return;
    }
    if (opts.threads >= 2) {
      HandOver();
    } else {
      Drain();
    }
  }
  BufferSet& set = sets[adding];
  char* const region = set.mem + sh * region_bytes;
  set.used[sh] = static_cast<size_t>(Encode(region + set.used[sh], hash, window, name, ts, r) - region);
  ++set.records;
}

__attribute__((always_inline)) inline const char* Aggregator::Impl::DecodeBody(
    const char* p, Pending& q, std::vector<PendingAnswer>& answers) {
  uint32_t n_addr;
  uint8_t has_client;
  p = Get(p, &q.ts);
  p = Get(p, &has_client);
  q.has_client = has_client != 0;
  p = Get(p, &q.client_hash);
  p = Get(p, &q.n_cname);
  p = Get(p, &n_addr);
  q.ans_begin = static_cast<uint32_t>(answers.size());
  // Each answer written in its place once, its hash from the encoded bytes: an answer built
  // aside and copied in was read back (16-byte loads) right after being stored in smaller
  // pieces, which the CPU cannot forward — a stall per answer.
  answers.resize(q.ans_begin + n_addr);
  for (uint32_t k = 0; k < n_addr; ++k) {
    PendingAnswer& a = answers[q.ans_begin + k];
    uint8_t family;
    p = Get(p, &a.ttl);
    p = Get(p, &family);
    if (family == 4) {
      uint32_t v4;
      p = Get(p, &v4);
      a.addr = IpAddr::FromV4(v4);
      a.hash = IpHashV4(v4);
    } else {
      IpAddr v6;
      std::memcpy(v6.bytes.data(), p, 16);
      p += 16;
      a.hash = IpHash(v6);
      a.addr = v6;
    }
  }
  q.ans_end = static_cast<uint32_t>(answers.size());
  return p;
}

void Aggregator::Impl::DrainRegion(const char* p, const char* end) {
  while (p < end) {
    // Decoded into the filling batch's next entry, which it only joins while within budget.
    Batch& b = batches[filling];
    Pending& q = b.pending[b.n];
    uint32_t len;
    p = Get(p, &q.hash);
    p = Get(p, &len);
    q.key = std::string_view(p, len);
    p += len;
    const char* const body = p;
    p = DecodeBody(p, q, b.answers);
    q.body = std::string_view(body, static_cast<size_t>(p - body));
    if (over_budget) {  // the state reached the budget: the rest is counted, not aggregated
      ++dropped;
      b.answers.resize(q.ans_begin);
      continue;
    }
    keys.PrefetchSlot(q.hash);
    if (++b.n == kBatch) Advance();
  }
}

void Aggregator::Impl::DrainSet(BufferSet& set) {
  if (set.records == 0) return;
  {
    const ArenaScope scope(&arena);
    for (size_t sh = 0; sh < kShards; ++sh) {
      set.high[sh] = std::max(set.high[sh], set.used[sh]);
      const char* region = set.mem + sh * region_bytes;
      DrainRegion(region, region + set.used[sh]);
    }
  }
  FlushPipeline();  // (the pipeline's keys point into the regions: emptied after it)
  set.used.fill(0);
  set.records = 0;
}

void Aggregator::Impl::Drain() {
  WaitForDrain();
  DrainSet(sets[adding]);
}

void Aggregator::Impl::HandOver() {
  WaitForDrain();
  if (drain_thread == nullptr) {
    drain_thread = std::make_unique<DrainThread>();
    drain_thread->thread = std::thread([this] { DrainLoop(); });
  }
  {
    const std::lock_guard<std::mutex> lock(drain_thread->mu);
    drain_thread->draining = static_cast<int>(adding);
  }
  drain_thread->cv.notify_all();
  adding ^= 1;
}

void Aggregator::Impl::WaitForDrain() {
  if (drain_thread == nullptr) return;
  DrainThread& t = *drain_thread;
  std::unique_lock<std::mutex> lock(t.mu);
  t.cv.wait(lock, [&t] { return t.draining < 0; });
  if (t.error != nullptr) std::rethrow_exception(std::exchange(t.error, nullptr));
}

void Aggregator::Impl::DrainLoop() {
  DrainThread& t = *drain_thread;
  std::unique_lock<std::mutex> lock(t.mu);
  for (;;) {
    t.cv.wait(lock, [&t] { return t.draining >= 0 || t.stop; });
    if (t.draining < 0) return;  // stopped
    BufferSet& set = sets[static_cast<size_t>(t.draining)];
    lock.unlock();
    std::exception_ptr error;
    try {
      DrainSet(set);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    t.error = error;
    t.draining = -1;
    t.cv.notify_all();
  }
}

void Aggregator::Impl::StopDrainThread() {
  if (drain_thread == nullptr) return;
  {
    const std::lock_guard<std::mutex> lock(drain_thread->mu);
    drain_thread->stop = true;
  }
  drain_thread->cv.notify_all();
  drain_thread->thread.join();  // (after the set it may be draining)
  drain_thread.reset();
}

void Aggregator::Impl::Advance() {
  const ArenaScope scope(&arena);
  // The ring: batches[filling] (full) is the newest, the one after it the oldest.
  Batch& newest = batches[filling];
  Batch& middle = batches[(filling + kStages - 1) % kStages];
  Batch& oldest = batches[(filling + 1) % kStages];
  if (oldest.n > 0) UpdateStates(oldest);
  if (middle.n > 0) PrefetchSets(middle);
  FindKeys(newest);
  filling = (filling + 1) % kStages;  // the oldest, now empty
}

void Aggregator::Impl::FlushPipeline() {
  const ArenaScope scope(&arena);
  for (size_t k = 1; k <= kStages; ++k) {  // oldest first; the filling batch last
    Batch& b = batches[(filling + k) % kStages];
    if (b.n == 0) continue;
    if (b.stage < 1) FindKeys(b);
    UpdateStates(b);
  }
}

void Aggregator::Impl::FindKeys(Batch& b) {
  for (size_t i = 0; i < b.n; ++i) {
    Pending& p = b.pending[i];
    bool created;
    // A new key's entry is a single that keeps this record (its body) until a second one.
    p.state = keys.FindOrInsertUnconfirmed(p.key, p.hash, &created, &p.key_offset, true, p.body);
    p.confirmed = created;
    p.created = created;
    if (KeyTable<KeyState>::IsSingle(p.state)) continue;  // (its bytes: prefetched by the lookup)
    const char* st = reinterpret_cast<const char*>(&keys.states[p.state]);
    __builtin_prefetch(st);
    __builtin_prefetch(st + 64);
    __builtin_prefetch(st + 128);
  }
  b.stage = 1;
}

void Aggregator::Impl::PrefetchSets(Batch& b) {
  // Measured (2026-11-29): for a searched set, prefetching its middle beats prefetching the line
  // an interpolated search will read first (ingest 4 alternating runs: user 15.3 s vs 16.1 s) or
  // the key bytes.
  for (size_t i = 0; i < b.n; ++i) {
    if (KeyTable<KeyState>::IsSingle(b.pending[i].state)) continue;
    const KeyState& s = keys.states[b.pending[i].state];
    // The client set takes the record's client at its end (lazy; a saturated set: its middle).
    if (!s.clients.items().empty())
      __builtin_prefetch(s.clients.items().data() + (s.clients.saturated() ? s.clients.items().size() / 2
                                                                            : s.clients.items().size() - 1));
    if (const size_t n = s.ips.size(); n > 0) {
      if (n <= 64) {  // searched whole (branch-free binary search): every line of it
        const char* d = static_cast<const char*>(s.ips.data());
        for (size_t off = 0; off < n * 8; off += 64) __builtin_prefetch(d + off);
        __builtin_prefetch(d + n * 8 - 1);
      } else {
        __builtin_prefetch(s.ips.middle());
      }
    }
    if (const auto t = s.ttls.items(); !t.empty() && t.size() <= 8) __builtin_prefetch(t.data());
    if (!s.ttl_events.empty()) __builtin_prefetch(&s.ttl_events.back());
  }
  b.stage = 2;
}

void Aggregator::Impl::UpdateStates(Batch& b) {
  for (size_t i = 0; i < b.n; ++i) {
    Pending& p = b.pending[i];
    if (!p.confirmed && !keys.KeyBytesEqual(p.key_offset, p.key))
      p.state = keys.FindOrInsertHashed(p.key, p.hash, &p.created, true, p.body);
    if (p.created) continue;  // the new single holds the record
    // A key seen before: its entry may still be a single (or have been made full by a record
    // ahead of this one in the pipeline since FindKeys).
    bool promoted = false;
    if (KeyTable<KeyState>::IsSingle(p.state)) p.state = MakeFull(p.key, p.hash, &promoted);
    KeyState& s = keys.states[p.state];
    // (A state made now counts from a fresh one's size: its replayed sets are new too.)
    const size_t heap_before = promoted ? sizeof(KeyState) : s.bytes_but_v6();
    Update(s, p, b.answers, &heap_bytes);
    heap_bytes += s.bytes_but_v6() - heap_before;
  }
  if ((since_check += static_cast<uint32_t>(b.n)) >= 256) {
    since_check = 0;
    over_budget = Bytes() > opts.memory_budget;
  }
  b.n = 0;
  b.stage = 0;
  b.answers.clear();
}

void Aggregator::Impl::Replay(KeyState& s, const char* payload, uint64_t* heap) const {
  thread_local std::vector<PendingAnswer> answers;
  answers.clear();
  Pending q{};
  DecodeBody(payload, q, answers);
  Update(s, q, answers, heap);
}

uint32_t Aggregator::Impl::MakeFull(std::string_view key, uint64_t h, bool* promoted) {
  return keys.MakeFull(key, h, promoted, [&](KeyState& s, const char* payload) { Replay(s, payload, &heap_bytes); });
}

KeyState& Aggregator::Impl::FullState(std::string_view key, uint64_t h, bool* created) {
  uint32_t ref = keys.FindOrInsertHashed(key, h, created);
  bool promoted;
  if (KeyTable<KeyState>::IsSingle(ref)) ref = MakeFull(key, h, &promoted);
  return keys.states[ref];
}

const KeyState& Aggregator::Impl::StateOf(uint32_t ref, const char* payload,
                                          std::optional<KeyState>& scratch) const {
  if (!KeyTable<KeyState>::IsSingle(ref)) return keys.states[ref];
  scratch.reset();  // (sets freed into, and taken from, the current arena)
  scratch.emplace();
  uint64_t heap = 0;
  Replay(*scratch, payload, &heap);
  scratch->clients.Normalize(opts.sample_cap);
  return *scratch;
}

bool Aggregator::Impl::PassesPrefilter(uint32_t ref, const char* payload, std::optional<KeyState>& scratch) const {
  const double min_ips = opts.min_ips;
  if (!KeyTable<KeyState>::IsSingle(ref)) return keys.states[ref].ips.Count() >= min_ips;
  // At most its address answers are distinct: most singles below the prefilter stop here.
  uint32_t n_addr;
  std::memcpy(&n_addr, payload + kBodyAddrCount, sizeof n_addr);
  if (n_addr < min_ips) return false;
  thread_local std::vector<PendingAnswer> answers;
  answers.clear();
  Pending q{};
  DecodeBody(payload, q, answers);
  // Up to the cap, the set holds every distinct hash (IpSketch: equal hashes, one member).
  if (answers.size() > opts.sample_cap) return StateOf(ref, payload, scratch).ips.Count() >= min_ips;
  const auto by_hash = [](const PendingAnswer& a, const PendingAnswer& b) { return a.hash < b.hash; };
  const auto same_hash = [](const PendingAnswer& a, const PendingAnswer& b) { return a.hash == b.hash; };
  std::sort(answers.begin(), answers.end(), by_hash);
  return static_cast<double>(std::unique(answers.begin(), answers.end(), same_hash) - answers.begin()) >= min_ips;
}

__attribute__((always_inline)) inline void Aggregator::Impl::Update(
    KeyState& s, const Pending& r, const std::vector<PendingAnswer>& pending_answers, uint64_t* heap) const {
  const size_t cap = opts.sample_cap;
  ++s.queries;
  if (r.has_client) s.clients.Append(r.client_hash, cap);
  uint32_t rec_ttl = UINT32_MAX;
  // The same address answers as the key's previous record (equal sums of 64-bit hashes — the
  // sets already take equal 64-bit hashes for equal values): nothing new for the IP set.
  uint64_t ip_sum = 0;
  for (uint32_t k = r.ans_begin; k < r.ans_end; ++k) ip_sum += pending_answers[k].hash;
  const uint32_t addresses = r.ans_end - r.ans_begin;  // (pending answers are address answers)
  // A key's first addresses size its IP set exactly: most keys of a big log are seen once.
  if (addresses > 0 && s.ips.empty()) s.ips.Reserve(std::min<size_t>(addresses, cap));
  const bool same_ips = ip_sum != 0 && ip_sum == s.last_ip_sum;
  if (ip_sum != 0) s.last_ip_sum = ip_sum;
  uint64_t rec_ttl_last = s.last_ttl;  // TTL last inserted for this key
  for (uint32_t k = r.ans_begin; k < r.ans_end; ++k) {
    const PendingAnswer& a = pending_answers[k];
    if (!same_ips) {
      size_t v6_growth = 0;
      s.ips.Insert(a.hash, a.addr, cap, &v6_growth);
      *heap += v6_growth;
    }
    // The answers of one response usually share their TTL: insert each value once (a set).
    if (a.ttl != rec_ttl_last) s.ttls.Insert(TtlHash(a.ttl), NoValue(), cap);
    rec_ttl_last = a.ttl;
    s.last_ttl = a.ttl;
    s.ttl_min = std::min(s.ttl_min, a.ttl);
    s.ttl_max = std::max(s.ttl_max, a.ttl);
    s.ttl_sum += a.ttl;
    s.ttl_sumsq += static_cast<U128>(a.ttl) * a.ttl;
    if (const size_t tr = TtlRange(a.ttl); tr + 1 < kTtlRanges) ++s.ttl_range[tr];
    rec_ttl = std::min(rec_ttl, a.ttl);
  }
  s.cname_depth = std::max(s.cname_depth, r.n_cname);
  if (addresses > 0) {
    ++s.addr_records;
    s.addr_answers += addresses;
    s.answers_max = std::max(s.answers_max, addresses);
    const TtlEvent e{static_cast<int64_t>(std::llround(r.ts * 1e6)), rec_ttl};
    AddEvent(s.ttl_events, e, cap);
  }
}

Status Aggregator::Merge(const Aggregator& other) {
  Impl& m = *impl_;
  m.Flush();
  other.impl_->Flush();
  m.NormalizeClients();
  other.impl_->NormalizeClients();
  const Impl& x = *other.impl_;
  if (m.opts.window_seconds != x.opts.window_seconds || m.opts.key != x.opts.key ||
      m.opts.sample_cap != x.opts.sample_cap)
    return Status::InvalidArgument("cannot merge aggregations with different window, key or sample cap");
  const size_t cap = m.opts.sample_cap;
  const ArenaScope scope(&m.arena);
  std::optional<KeyState> scratch;  // (a single of x replayed; its sets in m's arena)
  x.keys.ForEach([&](std::string_view key, uint32_t ref) {
    const KeyState& b = x.StateOf(ref, key.data() + key.size(), scratch);
    bool created;
    KeyState& a = m.FullState(key, HashKey(key), &created);
    a.queries += b.queries;
    a.addr_records += b.addr_records;
    a.addr_answers += b.addr_answers;
    a.answers_max = std::max(a.answers_max, b.answers_max);
    a.cname_depth = std::max(a.cname_depth, b.cname_depth);
    a.ttl_min = std::min(a.ttl_min, b.ttl_min);
    a.ttl_max = std::max(a.ttl_max, b.ttl_max);
    a.ttl_sum += b.ttl_sum;
    a.ttl_sumsq += b.ttl_sumsq;
    for (size_t i = 0; i + 1 < kTtlRanges; ++i) a.ttl_range[i] += b.ttl_range[i];
    std::vector<TtlEvent> ev;
    ev.reserve(a.ttl_events.size() + b.ttl_events.size());
    std::merge(a.ttl_events.begin(), a.ttl_events.end(), b.ttl_events.begin(), b.ttl_events.end(),
               std::back_inserter(ev));
    if (ev.size() > cap) ev.resize(cap);
    a.ttl_events.Assign(ev.data(), ev.size());
    a.ips.Merge(b.ips, cap);
    a.clients.Merge(b.clients, cap);
    a.ttls.Merge(b.ttls, cap);
  });
  scratch.reset();
  m.dropped += x.dropped;
  m.Recount();
  return Status::Ok();
}

namespace {

constexpr char kStateMagic[8] = {'F', 'X', 'A', 'G', 'G', 'v', '1', '\n'};

class ByteWriter {
 public:
  template <typename T>
  void Put(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    out.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  void PutBytes(std::string_view b) {
    Put<uint64_t>(b.size());
    out.append(b);
  }
  std::string out;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  template <typename T>
  bool Get(T* v) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (in_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool GetBytes(std::string_view* b, uint64_t max) {
    uint64_t n;
    if (!Get(&n) || n > max || in_.size() - pos_ < n) return false;
    *b = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  // A count of items of `item_bytes` each that must fit in the rest of the input.
  bool GetCount(uint64_t* n, size_t item_bytes) {
    return Get(n) && *n <= (in_.size() - pos_) / std::max<size_t>(1, item_bytes);
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

template <typename T, typename A, typename PutValue>
void PutSketch(ByteWriter& w, const BottomK<T, A>& k, PutValue put_value) {
  w.Put<uint8_t>(k.saturated() ? 1 : 0);
  w.Put<uint64_t>(k.items().size());
  for (const auto& it : k.items()) {
    w.Put(it.hash);
    put_value(it.hash, it.value);
  }
}

template <typename T, typename A, typename GetValue>
bool GetSketch(ByteReader& r, BottomK<T, A>& k, size_t value_bytes, size_t cap, GetValue get_value) {
  uint8_t sat;
  uint64_t n;
  if (!r.Get(&sat) || sat > 1 || !r.GetCount(&n, 8 + value_bytes) || n > cap) return false;
  std::vector<typename BottomK<T, A>::Item> items(n);
  for (auto& it : items) {
    if (!r.Get(&it.hash) || !get_value(it.hash, it.value)) return false;
  }
  for (size_t i = 1; i < items.size(); ++i)
    if (!(items[i - 1].hash < items[i].hash)) return false;  // strictly ascending hashes
  k.Restore(std::move(items), sat == 1);
  return true;
}

// The address set: as GetSketch, and each hash must be its address's IpHash.
template <typename Sketch>
bool GetIps(ByteReader& r, Sketch& ips, size_t cap) {
  uint8_t sat;
  uint64_t n;
  if (!r.Get(&sat) || sat > 1 || !r.GetCount(&n, 8 + 16) || n > cap) return false;
  std::vector<IpMember> members(n);
  for (auto& m : members)
    if (!r.Get(&m.hash) || !r.Get(&m.addr.bytes) || IpHash(m.addr) != m.hash) return false;
  for (size_t i = 1; i < members.size(); ++i)
    if (!(members[i - 1].hash < members[i].hash)) return false;  // strictly ascending hashes
  ips.Restore(members, sat == 1);
  return true;
}

}  // namespace

std::string Aggregator::Serialize(uint32_t part, uint32_t parts) const {
  impl_->Flush();
  impl_->NormalizeClients();
  const Impl& m = *impl_;
  if (parts == 0) parts = 1;
  ByteWriter w;
  w.out.append(kStateMagic, sizeof kStateMagic);
  w.Put<int64_t>(m.opts.window_seconds);
  w.Put<uint8_t>(m.opts.key == KeyMode::kRegistered ? 1 : 0);
  w.Put<uint32_t>(m.opts.sample_cap);
  w.Put<uint64_t>(part == 0 ? m.dropped : 0);  // dropped records travel with part 0 only
  std::vector<std::pair<std::string_view, uint32_t>> chosen;  // (key, reference)
  m.keys.ForEach([&](std::string_view key, uint32_t ref) {
    if (parts == 1 || HashKey(key) % parts == part) chosen.emplace_back(key, ref);
  });
  w.Put<uint64_t>(chosen.size());
  const ArenaScope scope(&impl_->arena);
  std::optional<KeyState> scratch;
  for (const auto& [key, ref] : chosen) {
    const KeyState& s = m.StateOf(ref, key.data() + key.size(), scratch);
    w.PutBytes(key);
    w.Put(s.queries);
    w.Put(s.addr_records);
    w.Put(s.addr_answers);
    w.Put(s.answers_max);
    w.Put(s.cname_depth);
    w.Put(s.ttl_min);
    w.Put(s.ttl_max);
    w.Put(s.ttl_sum);
    w.Put(s.ttl_sumsq);
    for (size_t i = 0; i < kTtlRanges; ++i) w.Put(s.TtlRangeCount(i));
    w.Put(s.addr_records);  // (the format's event total: one event per record with addresses)
    w.Put<uint64_t>(s.ttl_events.size());
    for (const TtlEvent& e : s.ttl_events) {
      w.Put<int64_t>(int64_t{e.t_us});
      w.Put<uint32_t>(uint32_t{e.ttl});
    }
    w.Put<uint8_t>(s.ips.saturated() ? 1 : 0);
    w.Put<uint64_t>(s.ips.size());
    s.ips.ForEach([&](uint64_t h, const IpAddr& a) {
      w.Put(h);
      w.Put(a.bytes);
    });
    PutSketch(w, s.clients, [](uint64_t, const NoValue&) {});
    PutSketch(w, s.ttls, [&](uint64_t h, const NoValue&) { w.Put(TtlOfHash(h)); });
  }
  scratch.reset();
  return std::move(w.out);
}

Status Aggregator::MergeSerialized(std::string_view bytes) {
  const FeatureOptions& o = impl_->opts;
  auto corrupt = [](std::string_view what) {
    return Status::DataError(fmt::format("aggregation state: {}", what));
  };
  if (bytes.size() < sizeof kStateMagic || std::memcmp(bytes.data(), kStateMagic, sizeof kStateMagic) != 0)
    return corrupt("not a fluxscore aggregation state (bad magic or version)");
  ByteReader r(bytes.substr(sizeof kStateMagic));
  int64_t window;
  uint8_t key;
  uint32_t cap;
  uint64_t dropped, nkeys;
  if (!r.Get(&window) || !r.Get(&key) || !r.Get(&cap) || !r.Get(&dropped) || !r.GetCount(&nkeys, 16))
    return corrupt("truncated header");
  if (window != o.window_seconds || key != (o.key == KeyMode::kRegistered ? 1 : 0) ||
      cap != o.sample_cap)
    return Status::InvalidArgument(fmt::format(
        "aggregation state made with window {} s, key {}, sample cap {}; this aggregator has "
        "window {} s, key {}, sample cap {}",
        window, key ? "registered" : "fqdn", cap, o.window_seconds,
        o.key == KeyMode::kRegistered ? "registered" : "fqdn", o.sample_cap));
  // Parse everything into a fresh aggregator first, so that corrupt input leaves this one as it was.
  Aggregator part(o);
  Impl& p = *part.impl_;
  p.dropped = dropped;
  std::optional<ArenaScope> parse_scope(std::in_place, &p.arena);  // (part's sets are built)
  for (uint64_t k = 0; k < nkeys; ++k) {
    std::string_view kb;
    if (!r.GetBytes(&kb, 8 + 4096)) return corrupt(fmt::format("truncated key {}", k));
    if (kb.size() < 8) return corrupt(fmt::format("key {} too short", k));
    bool created;
    KeyState& s = p.FullState(kb, HashKey(kb), &created);
    if (!created) return corrupt(fmt::format("key {} repeated", k));
    bool ok = r.Get(&s.queries) && r.Get(&s.addr_records) && r.Get(&s.addr_answers) &&
              r.Get(&s.answers_max) && r.Get(&s.cname_depth) && r.Get(&s.ttl_min) &&
              r.Get(&s.ttl_max) && r.Get(&s.ttl_sum) && r.Get(&s.ttl_sumsq);
    uint64_t ranges[kTtlRanges], in_ranges = 0;
    for (uint64_t& x : ranges) {
      ok = ok && r.Get(&x);
      in_ranges += x;  // (wraps only for corrupt input, which then fails the check below)
    }
    if (ok && in_ranges != s.addr_answers)
      return corrupt(fmt::format("TTL range counts of key {} disagree with its answers", k));
    std::copy(ranges, ranges + kTtlRanges - 1, s.ttl_range);
    uint64_t nev = 0, events_total = 0;
    ok = ok && r.Get(&events_total) && r.GetCount(&nev, 12) && nev <= cap;
    if (!ok) return corrupt(fmt::format("truncated state of key {}", k));
    if (events_total != s.addr_records || nev > events_total)
      return corrupt(fmt::format("TTL event count of key {} disagrees with its records", k));
    std::vector<TtlEvent> events(nev);
    for (TtlEvent& e : events) {
      int64_t t_us;
      uint32_t ttl;
      if (!r.Get(&t_us) || !r.Get(&ttl)) return corrupt(fmt::format("truncated TTL events of key {}", k));
      e = TtlEvent{t_us, ttl};
    }
    if (!std::is_sorted(events.begin(), events.end()))
      return corrupt(fmt::format("TTL events of key {} out of order", k));
    s.ttl_events.Assign(events.data(), events.size());
    // The state format keeps each TTL beside its hash; they must agree.
    uint32_t t;
    if (!GetIps(r, s.ips, cap) || !GetSketch(r, s.clients, 0, cap, [](uint64_t, NoValue&) { return true; }) ||
        !GetSketch(r, s.ttls, 4, cap, [&](uint64_t h, NoValue&) { return r.Get(&t) && TtlHash(t) == h; }))
      return corrupt(fmt::format("bad sample sets of key {}", k));
  }
  if (!r.done()) return corrupt("trailing bytes");
  parse_scope.reset();
  p.Recount();
  return Merge(part);
}

Status Aggregator::budget_status() const {
  impl_->Flush();
  if (!impl_->over_budget.load()) return Status::Ok();
  return Status::DataError(fmt::format(
      "memory budget exceeded: the aggregation state reached about {} MiB (budget {} MiB) with "
      "{} keys; {} later records were not aggregated. Raise --memory, shorten --window, or use "
      "--key registered",
      impl_->Bytes() >> 20, impl_->opts.memory_budget >> 20, impl_->keys.size(),
      impl_->dropped));
}

uint64_t Aggregator::dropped_records() const {
  impl_->Flush();
  return impl_->dropped;
}
uint64_t Aggregator::approx_bytes() const {
  impl_->Flush();
  return impl_->Bytes();
}
size_t Aggregator::keys() const {
  impl_->Flush();
  return impl_->keys.size();
}

const std::vector<FeatureColumn>& FeatureColumns() {
  static const std::vector<FeatureColumn> cols = {
      {"queries", true},          {"clients", true},           {"distinct_ips", true},
      {"distinct_24", true},      {"distinct_16", true},       {"prefix16_entropy", false},
      {"distinct_asns", true},    {"distinct_countries", true}, {"as_fraction", false},
      {"asn_entropy", false},     {"country_entropy", false},  {"answers_mean", false},
      {"answers_max", true},      {"ip_growth_ratio", false},  {"ttl_min", true},
      {"ttl_max", true},          {"ttl_mean", false},         {"ttl_std", false},
      {"ttl_distinct", true},     {"ttl_changes", true},       {"cname_depth", true},
      {"name_length", true},      {"name_digit_ratio", false}, {"name_vowel_ratio", false},
      {"name_entropy", false},    {"name_word_ratio", false},  {"name_labels", true},
      {"holz_score", false},      {"ttl_share_0_1", false},    {"ttl_share_1_10", false},
      {"ttl_share_10_100", false}, {"ttl_share_100_300", false}, {"ttl_share_300_900", false},
      {"ttl_share_900_inf", false}, {"unknown_asn_ips", true},  {"ips_sampled", true},
  };
  return cols;
}

namespace {

// Distinct groups among n members, and the Shannon entropy (bits) of the group sizes divided by
// log2(n): FluxBuster's normalised diversity; 0 when n < 2. Sorts `keys`.
struct Groups {
  size_t groups = 0;
  double entropy = 0;
};
Groups GroupCounts(std::vector<uint32_t>& keys) {
  Groups g;
  const size_t n = keys.size();
  if (n == 0) return g;
  std::sort(keys.begin(), keys.end());
  double h = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && keys[j] == keys[i]) ++j;
    ++g.groups;
    h -= PLog2P(j - i, n);
    i = j;
  }
  g.entropy = n < 2 ? 0 : h / Log2(n);
  return g;
}

}  // namespace

bool Aggregator::Evidence(std::string_view domain, int64_t window_start, const Enricher* enricher,
                          RowEvidence* out) const {
  impl_->Flush();
  std::string buf;
  const std::string_view key = MakeKey(buf, window_start, domain);
  const auto found = impl_->keys.Find(key);
  if (!found) return false;
  *out = RowEvidence{};
  const ArenaScope scope(&impl_->arena);
  std::optional<KeyState> scratch;
  BuildEvidence(impl_->StateOf(found->ref, found->payload, scratch), enricher, *out);
  return true;
}

std::vector<FeatureRow> Aggregator::Finish(const Enricher* enricher, const WordList* words,
                                           FinishStats* stats) const {
  std::vector<FeatureRow> rows;
  Finish(enricher, words, stats, [&](const FeatureRow& r) { rows.push_back(r); });
  return rows;
}

namespace {

// Finish's rows in chunks of this many: with threads >= 2, a helper thread computes the odd
// chunks while the calling thread computes the even ones and hands every row to the callback
// in order.
constexpr size_t kFinishChunk = 1024;

void AddStats(FinishStats& to, const FinishStats& from) {
  to.passed += from.passed;
  to.address_ips += from.address_ips;
  to.unknown_asn += from.unknown_asn;
  to.unknown_country += from.unknown_country;
  to.sampled_keys += from.sampled_keys;
}

// Rows 0..rows-1 computed by compute(j, row, stats, scratch) on two threads and passed to fn in
// order, on the calling thread. The helper's chunks go through two slots (it runs at most two
// chunks ahead); it replays singles into its own arena. An exception on either side stops both
// and is rethrown here.
template <typename Compute>
void ParallelRows(size_t rows, FinishStats& st, std::optional<KeyState>& scratch, Compute& compute,
                  const std::function<void(const FeatureRow&)>& fn) {
  struct Slot {
    std::vector<FeatureRow> rows;
    FinishStats st;
    bool ready = false;
  };
  std::array<Slot, 2> slots;
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  std::exception_ptr helper_error;
  const size_t chunks = (rows + kFinishChunk - 1) / kFinishChunk;
  const auto chunk_end = [rows](size_t c) { return std::min(rows, (c + 1) * kFinishChunk); };
  std::thread helper([&] {
    SetArena arena;
    const ArenaScope scope(&arena);
    std::optional<KeyState> own_scratch;
    try {
      for (size_t c = 1; c < chunks; c += 2) {
        Slot& slot = slots[(c / 2) % 2];
        {
          std::unique_lock<std::mutex> lock(mu);
          cv.wait(lock, [&] { return !slot.ready || stop; });
          if (stop) break;
        }
        const size_t begin = c * kFinishChunk;
        slot.rows.resize(chunk_end(c) - begin);
        slot.st = FinishStats{};
        for (size_t j = begin; j < chunk_end(c); ++j) compute(j, slot.rows[j - begin], slot.st, own_scratch);
        {
          const std::lock_guard<std::mutex> lock(mu);
          slot.ready = true;
        }
        cv.notify_all();
      }
    } catch (...) {
      const std::lock_guard<std::mutex> lock(mu);
      helper_error = std::current_exception();
      stop = true;
      cv.notify_all();
    }
    own_scratch.reset();  // (its sets back into `arena` while it is current)
  });
  try {
    FeatureRow row;
    for (size_t c = 0; c < chunks; ++c) {
      if (c % 2 == 0) {
        for (size_t j = c * kFinishChunk; j < chunk_end(c); ++j) {
          compute(j, row, st, scratch);
          fn(row);
        }
        continue;
      }
      Slot& slot = slots[(c / 2) % 2];
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return slot.ready || helper_error != nullptr; });
        if (helper_error != nullptr) std::rethrow_exception(helper_error);
      }
      for (const FeatureRow& r : slot.rows) fn(r);
      AddStats(st, slot.st);
      {
        const std::lock_guard<std::mutex> lock(mu);
        slot.ready = false;
      }
      cv.notify_all();
    }
  } catch (...) {
    {
      const std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    cv.notify_all();
    helper.join();
    throw;
  }
  helper.join();
}

}  // namespace

void Aggregator::Finish(const Enricher* enricher, const WordList* words, FinishStats* stats,
                        const std::function<void(const FeatureRow&)>& fn) const {
  impl_->Flush();
  impl_->NormalizeClients();
  const Impl& m = *impl_;
  FinishStats st;
  // The keys that pass the prefilter, sorted by window then domain.
  // Sort entries carry the window and the domain's first 16 bytes (big-endian, so integer
  // order is byte order; names of one site often share their first 8): most comparisons never
  // touch the key bytes.
  struct SortEntry {  // 40 bytes
    int64_t window;
    uint64_t prefix, prefix2;
    const char* domain;  // (the key: the domain with the 8 window bytes before it)
    uint32_t domain_len;
    uint32_t ref;
    std::string_view name() const { return std::string_view(domain, domain_len); }
    std::string_view key() const { return std::string_view(domain - 8, domain_len + 8); }
  };
  static_assert(std::is_trivially_copyable_v<SortEntry> && std::is_trivially_destructible_v<SortEntry>);
  const ArenaScope scope(&impl_->arena);  // (singles are replayed into a scratch state)
  std::optional<KeyState> scratch;
  // The entries go into the record buffers when they fit: Flush has emptied those, and their
  // pages are resident already, where a fresh array's pages would each cost their zeroing
  // (47 MB for the 1.2M rows of the 10M-line benchmark log). Nothing is buffered while Finish
  // runs (its callback may ask for Evidence, which drains nothing then).
  std::vector<SortEntry> own;
  SortEntry* entries;
  if (m.shard_mem != nullptr && m.keys.size() * sizeof(SortEntry) <= m.shard_mem_bytes) {
    static_assert(alignof(SortEntry) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);  // (new char[])
    entries = reinterpret_cast<SortEntry*>(m.shard_mem.get());
  } else {
    own.resize(m.keys.size());
    entries = own.data();
  }
  size_t rows = 0;
  m.keys.ForEach([&](std::string_view key, uint32_t ref) {
    if (!m.PassesPrefilter(ref, key.data() + key.size(), scratch)) {
      ++st.filtered;
      return;
    }
    const std::string_view domain = key.substr(8);
    uint64_t prefix = 0, prefix2 = 0;
    for (size_t b = 0; b < 8; ++b)
      prefix = (prefix << 8) | (b < domain.size() ? static_cast<unsigned char>(domain[b]) : 0u);
    for (size_t b = 8; b < 16; ++b)
      prefix2 = (prefix2 << 8) | (b < domain.size() ? static_cast<unsigned char>(domain[b]) : 0u);
    new (&entries[rows++]) SortEntry{KeyWindow(key), prefix, prefix2, domain.data(),
                                     static_cast<uint32_t>(domain.size()), ref};
  }, [&](std::string_view, uint32_t ref) {
    if (!KeyTable<KeyState>::IsSingle(ref)) __builtin_prefetch(&m.keys.states[ref].ips);
  });
  // (Zero padding: a name that is a prefix of another ties with it on the integers and is
  // ordered by the full comparison, as is a name with a NUL byte.)
  std::sort(entries, entries + rows, [](const SortEntry& a, const SortEntry& b) {
    if (a.window != b.window) return a.window < b.window;
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    if (a.prefix2 != b.prefix2) return a.prefix2 < b.prefix2;
    return a.name() < b.name();
  });
  const auto& cols = FeatureColumns();
  st.keys = m.keys.size();
  // Rows go in name order, states were created in record order: every row's state, sets and
  // key bytes are cache misses. They are prefetched a few rows ahead (the state and the key
  // bytes — with a single's payload after them — 8 rows ahead, the sets 4 rows ahead, once the
  // state has arrived).
  constexpr size_t kAheadState = 8, kAheadSets = 4;
  // Row j into `row`, its counts into `st` (a single's state replayed into `scratch`, whose
  // sets come from the calling thread's current arena).
  auto compute = [&](size_t j, FeatureRow& row, FinishStats& st, std::optional<KeyState>& scratch) {
    if (j + kAheadState < rows) {
      const SortEntry& ahead = entries[j + kAheadState];
      __builtin_prefetch(ahead.domain - 8);
      if (KeyTable<KeyState>::IsSingle(ahead.ref)) {
        __builtin_prefetch(ahead.domain + ahead.domain_len);
        __builtin_prefetch(ahead.domain + ahead.domain_len + 64);
      } else {
        const char* state = reinterpret_cast<const char*>(&m.keys.states[ahead.ref]);
        __builtin_prefetch(state);
        __builtin_prefetch(state + 64);
        __builtin_prefetch(state + 128);
      }
    }
    if (j + kAheadSets < rows && !KeyTable<KeyState>::IsSingle(entries[j + kAheadSets].ref)) {
      const KeyState& a = m.keys.states[entries[j + kAheadSets].ref];
      if (!a.ips.empty()) __builtin_prefetch(a.ips.middle());
      if (!a.ttl_events.empty()) __builtin_prefetch(a.ttl_events.data());
    }
    const std::string_view key = entries[j].key();
    const KeyState& s = m.StateOf(entries[j].ref, key.data() + key.size(), scratch);
    const double distinct_ips = s.ips.Count();
    ++st.passed;
    row.window_start = KeyWindow(key);
    row.domain.assign(key.substr(8));
    row.values.assign(cols.size(), NAN);
    double* v = row.values.data();
    size_t c = 0;
    auto put = [&](double x) { v[c++] = x; };
    // IP spread over the (sampled) distinct addresses: group keys, sorted, counted in runs.
    thread_local std::vector<uint32_t> p24, p16, asns, countries;
    p24.clear();
    p16.clear();
    asns.clear();
    countries.clear();
    row.evidence = RowEvidence{};
    if (m.opts.evidence) BuildEvidence(s, enricher, row.evidence);
    s.ips.ForEach([&](uint64_t, const IpAddr& ip) {
      if (ip.is_v4()) {
        p24.push_back(ip.v4() >> 8);
        p16.push_back(ip.v4() >> 16);
      }
      if (enricher != nullptr) {
        ++st.address_ips;
        const IpInfo info = enricher->Lookup(ip);
        if (info.has_asn) {
          asns.push_back(info.asn);
        } else {
          ++st.unknown_asn;
        }
        if (info.has_country) {
          uint32_t code = 0;
          for (char ch : info.country.substr(0, 4)) code = (code << 8) | static_cast<unsigned char>(ch);
          countries.push_back(code);
        } else {
          ++st.unknown_country;
        }
      }
    });
    const size_t known_asn = asns.size();
    const Groups g24 = GroupCounts(p24), g16 = GroupCounts(p16), gasn = GroupCounts(asns),
                 gcc = GroupCounts(countries);
    if (s.ips.saturated()) ++st.sampled_keys;
    const bool have_asn = enricher != nullptr && enricher->has_asn();
    const bool have_country = enricher != nullptr && enricher->has_country();
    put(static_cast<double>(s.queries));
    put(s.clients.Count());
    put(distinct_ips);
    put(static_cast<double>(g24.groups));
    put(static_cast<double>(g16.groups));
    put(g16.entropy);
    put(have_asn ? static_cast<double>(gasn.groups) : NAN);
    put(have_country ? static_cast<double>(gcc.groups) : NAN);
    put(have_asn && known_asn > 0 ? static_cast<double>(gasn.groups) / static_cast<double>(known_asn) : NAN);
    put(have_asn ? gasn.entropy : NAN);
    put(have_country ? gcc.entropy : NAN);
    const bool any = s.addr_records > 0;
    put(any ? static_cast<double>(s.addr_answers) / static_cast<double>(s.addr_records) : NAN);
    put(static_cast<double>(s.answers_max));
    put(any ? distinct_ips / static_cast<double>(s.addr_records) : NAN);
    const uint64_t nt = s.addr_answers;
    if (nt > 0) {
      put(s.ttl_min);
      put(s.ttl_max);
      const double mean = static_cast<double>(s.ttl_sum) / static_cast<double>(nt);
      put(mean);
      // Population variance from exact integer sums: (n·Σx² − (Σx)²) / n².
      const U128 num = static_cast<U128>(nt) * s.ttl_sumsq -
                       static_cast<U128>(s.ttl_sum) * static_cast<U128>(s.ttl_sum);
      put(std::sqrt(static_cast<double>(num)) / static_cast<double>(nt));
      put(s.ttls.Count());
      uint64_t changes = 0;
      for (size_t i = 1; i < s.ttl_events.size(); ++i)
        changes += s.ttl_events[i].ttl != s.ttl_events[i - 1].ttl;
      double ch = static_cast<double>(changes);
      if (s.addr_records > s.ttl_events.size() && s.ttl_events.size() > 1)
        ch = std::round(ch * static_cast<double>(s.addr_records - 1) /
                        static_cast<double>(s.ttl_events.size() - 1));
      put(ch);
    } else {
      c += 6;
    }
    put(static_cast<double>(s.cname_depth));
    const NameFeatures nf = ComputeNameFeatures(row.domain, m.opts.psl, words);
    put(nf.length);
    put(nf.digit_ratio);
    put(nf.vowel_ratio);
    put(nf.entropy);
    put(words != nullptr ? nf.word_ratio : NAN);
    put(nf.labels);
    put(have_asn ? 1.32 * distinct_ips + 18.54 * static_cast<double>(gasn.groups) : NAN);
    for (size_t i = 0; i < kTtlRanges; ++i)
      put(nt > 0 ? static_cast<double>(s.TtlRangeCount(i)) / static_cast<double>(nt) : NAN);
    put(have_asn ? static_cast<double>(s.ips.size() - known_asn) : NAN);
    put(s.ips.saturated() ? 1 : 0);
  };
  if (m.opts.threads < 2 || rows < 4 * kFinishChunk) {
    FeatureRow row;
    for (size_t j = 0; j < rows; ++j) {
      compute(j, row, st, scratch);
      fn(row);
    }
  } else {
    ParallelRows(rows, st, scratch, compute, fn);
  }
  if (stats != nullptr) *stats = st;
}

}  // namespace fluxscore::dns
