// Per-domain fast-flux features over tumbling time windows, from DnsRecords, with state that
// merges exactly: Aggregate(A) merged with Aggregate(B) equals Aggregate(A ∪ B).
// Every column is defined in docs/features.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fluxscore/dns/record.h"
#include "fluxscore/status.h"

namespace fluxscore::dns {

class Enricher;  // fluxscore/dns/enrich.h

// The Public Suffix List (https://publicsuffix.org/list/): rules, wildcards, exceptions.
class PublicSuffixList {
 public:
  static Result<PublicSuffixList> Load(const std::string& path);
  // Registered domain (public suffix + one label) of a normalised name; the name itself when it
  // is a public suffix or has no label left of its suffix.
  std::string_view Registered(std::string_view name) const;
  // Length of the public suffix of `name` (bytes, without the dot before it).
  size_t SuffixLength(std::string_view name) const;
  size_t rules() const { return counts_[0] + counts_[1] + counts_[2]; }

 private:
  // The rules by text in one open-addressing table: "x" (rule x), "x" with kWildcard (rule
  // "*.x"), "x" with kException (rule "!x"); one probe per candidate suffix, no allocation.
  enum : uint8_t { kRule = 1, kWildcard = 2, kException = 4 };
  struct Entry {
    uint64_t hash = 0;
    uint32_t off = 0;    // of the text in pool_
    uint32_t len = 0;
    uint8_t kinds = 0;   // 0: empty slot
  };
  void Add(std::string_view text, uint8_t kind);
  uint8_t Kinds(std::string_view text) const;  // 0 when no rule has this text
  std::vector<Entry> table_;  // power-of-two size, at most half full
  // One bit per rule text (FilterBit of its hash) in 16 KiB: most candidate suffixes of a name
  // are no rule and are turned away here, without the probe into the table (~0.8 MiB, not in
  // cache while a big run's rows are written).
  static constexpr size_t kFilterBits = size_t{1} << 17;
  static size_t FilterBit(uint64_t hash) { return (hash >> 40) & (kFilterBits - 1); }
  std::vector<uint64_t> filter_ = std::vector<uint64_t>(kFilterBits / 64);
  std::string pool_;
  size_t used_ = 0;
  size_t counts_[3] = {};  // distinct rules, wildcard rules, exception rules
};

// Dictionary words for name_word_ratio (lower-case ASCII letters, at least 3 long).
class WordList {
 public:
  static Result<WordList> Load(const std::string& path);
  // Length of the longest substring of `label` that is a word (0 if none).
  size_t LongestWord(std::string_view label) const;
  size_t size() const { return size_; }

 private:
  // 64-bit hashes of the words (see lexical.cc) in one open-addressing table (power-of-two
  // size, at most half full; 0 marks an empty slot, so a hash of 0 is taken as 1: one more
  // collision of odds 2^-64): one probe, mostly one cache line, per lookup.
  void Insert(uint64_t h);
  bool Contains(uint64_t h) const;
  std::vector<uint64_t> table_;
  size_t size_ = 0;
  size_t max_len_ = 0;
};

enum class KeyMode { kFqdn, kRegistered };

struct FeatureOptions {
  int64_t window_seconds = 86400;
  KeyMode key = KeyMode::kFqdn;
  const PublicSuffixList* psl = nullptr;  // required for KeyMode::kRegistered and name features
  uint32_t min_ips = 3;                   // prefilter: keys with fewer distinct IPs get no row
  // Distinct sets (answer IPs, clients, TTL values) are exact up to this many members; beyond,
  // each keeps the `sample_cap` members of smallest hash (a uniform sample that merges exactly)
  // and counts are estimated from it (docs/features.md).
  uint32_t sample_cap = 2048;
  // TTL change counting keeps the first `sample_cap` (time, TTL) events by time.
  uint64_t memory_budget = uint64_t{2} << 30;  // bytes of aggregation state
  // 2 (or more): buffered records are aggregated on a second thread while the caller's thread
  // goes on reading and encoding the next ones into a second set of record buffers, and Finish
  // computes its rows on two threads; 1: everything on the caller's thread. Every result is the
  // same either way (the records of a key are aggregated in the order they were added); the
  // second set of buffers counts against the budget.
  uint32_t threads = 1;
  // Finish also fills FeatureRow::evidence (for detection reports).
  bool evidence = false;
};

// What an analyst looks at behind the numbers of one row (FeatureOptions::evidence).
struct RowEvidence {
  struct Network {
    uint32_t asn = 0;  // 0 = no match in the ASN data
    std::string org;
    uint64_t ips = 0;
  };
  std::vector<Network> networks;  // distinct IPs per ASN, most first (ties: smaller ASN first)
  std::vector<std::pair<std::string, uint64_t>> countries;  // "" = unknown; most first
  // Responses per TTL (the smallest address-answer TTL of each response) among the first
  // sample_cap responses of the window with address answers; ascending TTL.
  std::vector<std::pair<uint32_t, uint64_t>> ttls;
  std::vector<std::string> ips;  // up to 32 of the distinct answer IPs, sorted as addresses
};

// One output row: the key, its window and the feature values (NaN = empty).
struct FeatureRow {
  std::string domain;
  int64_t window_start = 0;
  std::vector<double> values;  // parallel to FeatureColumns()
  RowEvidence evidence;        // empty unless FeatureOptions::evidence
};

struct FeatureColumn {
  std::string_view name;
  bool integer;  // printed without a fraction
};
// The feature columns after `domain` and `window_start`, in output order.
const std::vector<FeatureColumn>& FeatureColumns();

struct FinishStats {
  uint64_t keys = 0;           // (key, window) pairs aggregated
  uint64_t passed = 0;         // rows produced
  uint64_t filtered = 0;       // keys with fewer than min_ips distinct IPs
  uint64_t address_ips = 0;    // distinct (key, IP) pairs looked up
  uint64_t unknown_asn = 0;    // ... with no ASN match
  uint64_t unknown_country = 0;
  uint64_t sampled_keys = 0;   // keys whose IP set went beyond sample_cap
};

class Aggregator : public RecordSink {
 public:
  explicit Aggregator(FeatureOptions opts);
  ~Aggregator() override;
  Aggregator(Aggregator&&) noexcept;

  // A key (window and query name) longer than 16 MiB throws std::length_error when its record
  // is aggregated (at a later drain: with threads >= 2, from the Add or public method that
  // next waits for the drain thread); the readers never produce one (their lines are at most
  // 1 MiB).
  void Add(const DnsRecord& r) override;
  // The features use each answer's type, TTL and address, never its text.
  bool wants_answer_data() const override { return false; }
  // Adds another aggregator's state (same window and key mode).
  Status Merge(const Aggregator& other);

  // The state as bytes, to ship a partial aggregation to another process and merge it there
  // (versioned binary format, little-endian). With parts > 1, only the keys whose (window,
  // domain) hash falls in `part` of `parts`: the same key always lands in the same part, so
  // partitions can be merged and finished independently (a shuffle by domain).
  std::string Serialize(uint32_t part = 0, uint32_t parts = 1) const;
  // Adds serialised state to this aggregator (like Merge). The bytes must come from an
  // aggregator with the same window, key mode and sample cap; errors for anything else,
  // including truncated or corrupt bytes (this aggregator is then unchanged).
  Status MergeSerialized(std::string_view bytes);

  // OK while the state fits the memory budget; once it does not, further records are counted
  // (dropped_records) but not aggregated, and this says so.
  Status budget_status() const;
  uint64_t dropped_records() const;
  // What the budget is checked against: the state (key table, states, the sets' memory) and the
  // bytes of the record buffers in use so far (records wait there before they are aggregated
  // shard by shard; together at most a sixteenth of the budget, at most 128 MiB, at least 4 MiB
  // — 8 MiB with threads >= 2, whose two sets share the rest).
  uint64_t approx_bytes() const;
  size_t keys() const;

  // Computes the rows (sorted by window_start, domain) of the keys that pass the prefilter.
  // enricher may be null (ASN/country columns then empty).
  std::vector<FeatureRow> Finish(const Enricher* enricher, const WordList* words,
                                 FinishStats* stats) const;
  // The same rows, in the same order, handed to `fn` one at a time (nothing is kept: the
  // output of a large run costs no memory beyond the aggregation state), on the calling thread
  // whatever FeatureOptions::threads. `fn` may read this aggregator (Evidence, keys) but not
  // change it (Add, Merge...); an exception from `fn` stops Finish and reaches the caller.
  void Finish(const Enricher* enricher, const WordList* words, FinishStats* stats,
              const std::function<void(const FeatureRow&)>& fn) const;
  // The evidence of one row (as FeatureOptions::evidence puts in FeatureRow::evidence), for a key
  // aggregated here; false when (domain, window_start) has no state. Lets a caller build evidence
  // only for the rows it keeps — detection explains its flagged rows, not every scored one.
  bool Evidence(std::string_view domain, int64_t window_start, const Enricher* enricher,
                RowEvidence* out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// CSV with a header line (`domain,window_start,<FeatureColumns()>`), empty cells for NaN.
void WriteFeaturesCsv(const std::vector<FeatureRow>& rows, std::ostream& out);
// One JSON object per row, null for NaN.
void WriteFeaturesJsonl(const std::vector<FeatureRow>& rows, std::ostream& out);

// Row-at-a-time form of the two writers (the CSV header is written by the constructor).
class FeatureWriter {
 public:
  FeatureWriter(std::ostream& out, bool jsonl);
  void Write(const FeatureRow& row);

 private:
  std::ostream& out_;
  bool jsonl_;
  std::string line_;       // JSON lines
  std::vector<char> csv_;  // CSV lines
  // The texts of recent fractional values, by their bits (direct-mapped): most fractional
  // columns are ratios of small counts or entropies of small groups, and repeat from row to
  // row; a hit copies the text instead of running the shortest round-trip conversion again.
  struct Memo {
    uint64_t bits = 0;
    char text[23];
    uint8_t len = 0;  // 0: empty
  };
  std::vector<Memo> memo_;
  char* Fraction(double v, char* p);
};

// Name features on their own (also used by Finish): length, labels, digit/vowel ratios,
// entropy and word ratio of the registered label.
struct NameFeatures {
  double length = 0, labels = 0, digit_ratio = 0, vowel_ratio = 0, entropy = 0, word_ratio = 0;
};
NameFeatures ComputeNameFeatures(std::string_view domain, const PublicSuffixList* psl,
                                 const WordList* words);

}  // namespace fluxscore::dns
