// Shared by the reader differential tests (zeek_tsv_diff_test.cc, zeek_json_diff_test.cc): a
// sink that keeps every record, per-process temporary paths, and the comparison of a former
// reader's run with the current reader's run on one file.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "dns/ingest/readers.h"
#include "../temp_files.h"

namespace fluxscore::dns::reader_diff {

struct Collect : RecordSink {
  bool want = true;
  std::vector<DnsRecord> recs;
  void Add(const DnsRecord& r) override { recs.push_back(r); }
  bool wants_answer_data() const override { return want; }
};

// Random choices for the log generators (each test's Gen adds its format's pieces).
struct Rng {
  std::mt19937_64 rng;
  explicit Rng(uint64_t seed) : rng(seed) {}
  size_t Below(size_t n) { return static_cast<size_t>(rng() % n); }
  bool Chance(int percent) { return Below(100) < static_cast<size_t>(percent); }
  template <size_t N>
  std::string Pick(const std::array<const char*, N>& a) { return a[Below(N)]; }
};

// Rounds of a generated-log test: `quick` unless the variable `env` says how many.
inline int Rounds(const char* env, int quick) {
  const char* v = std::getenv(env);
  return v != nullptr ? std::atoi(v) : quick;
}

using test::TempPath;

// Whether the two readers gave the same records (every field, also those a flag says are not
// set: they must hold the same leftovers), counts, rejections, messages and status on `path`.
// Read(ByteStream&, RecordSink&, IngestStats&) runs a reader; `verbose_env` names the variable
// that prints each run's counts.
template <typename RefRead, typename NewRead>
void ExpectSameRun(RefRead ref_read, NewRead new_read, const std::string& path, bool strict, bool want_data,
                   size_t rejections_kept, const char* verbose_env) {
  Collect ref_sink, new_sink;
  ref_sink.want = new_sink.want = want_data;
  IngestStats ref_stats(strict, rejections_kept), new_stats(strict, rejections_kept);
  ByteStream ref_in, new_in;
  ASSERT_TRUE(ref_in.Open(path).ok());
  ASSERT_TRUE(new_in.Open(path).ok());
  const Status ref_st = ref_read(ref_in, ref_sink, ref_stats);
  const Status new_st = new_read(new_in, new_sink, new_stats);
  ASSERT_EQ(ref_st.ok(), new_st.ok());
  ASSERT_EQ(ref_st.ToString(), new_st.ToString());
  ASSERT_EQ(ref_stats.read, new_stats.read);
  ASSERT_EQ(ref_stats.used, new_stats.used);
  ASSERT_EQ(ref_stats.skipped, new_stats.skipped);
  ASSERT_EQ(ref_stats.rejected(), new_stats.rejected());
  ASSERT_EQ(ref_stats.first_rejections(), new_stats.first_rejections());
  ASSERT_EQ(ref_sink.recs.size(), new_sink.recs.size());
  if (std::getenv(verbose_env) != nullptr) {
    std::string counts = fmt::format("read {} used {}", new_stats.read, new_stats.used);
    for (const auto& [reason, n] : new_stats.rejected()) counts += fmt::format(", {} {}", reason, n);
    fmt::print("{}{}\n", counts, new_st.ok() ? "" : " / " + new_st.ToString());
  }
  for (size_t i = 0; i < ref_sink.recs.size(); ++i) {
    const DnsRecord& a = ref_sink.recs[i];
    const DnsRecord& b = new_sink.recs[i];
    ASSERT_EQ(std::memcmp(&a.ts, &b.ts, sizeof a.ts), 0) << i;
    ASSERT_EQ(a.has_client, b.has_client) << i;
    ASSERT_EQ(a.client, b.client) << i;
    ASSERT_EQ(a.has_resolver, b.has_resolver) << i;
    ASSERT_EQ(a.resolver, b.resolver) << i;
    ASSERT_EQ(a.qname, b.qname) << i;
    ASSERT_EQ(a.qtype, b.qtype) << i;
    ASSERT_EQ(a.rcode, b.rcode) << i;
    ASSERT_EQ(a.answers.size(), b.answers.size()) << i;
    for (size_t k = 0; k < a.answers.size(); ++k) {
      const Answer& x = a.answers[k];
      const Answer& y = b.answers[k];
      ASSERT_EQ(x.type, y.type) << i << " " << k;
      ASSERT_EQ(x.ttl, y.ttl) << i << " " << k;
      ASSERT_EQ(x.is_address, y.is_address) << i << " " << k;
      ASSERT_EQ(x.addr, y.addr) << i << " " << k;
      if (want_data) {
        ASSERT_EQ(x.data, y.data) << i << " " << k;
      } else {
        ASSERT_TRUE(y.data.empty()) << i << " " << k;
      }
    }
  }
}

}  // namespace fluxscore::dns::reader_diff
