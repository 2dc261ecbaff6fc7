// Shared DNS pipeline of `features` and `detect` (see dns_pipeline.h).
#include "dns_pipeline.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <thread>

namespace fluxscore::cli {

std::string Human(double v) {
  if (v >= 1e9) return fmt::format("{:.2f} G", v / 1e9);
  if (v >= 1e6) return fmt::format("{:.2f} M", v / 1e6);
  if (v >= 1e3) return fmt::format("{:.1f} k", v / 1e3);
  return fmt::format("{:.0f} ", v);
}

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void KeepUntilExit(dns::Aggregator&& agg) {
  static dns::Aggregator* kept = nullptr;
  delete kept;  // a second run in the same process frees the first
  kept = new dns::Aggregator(std::move(agg));
}

uint64_t PeakMemoryBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10) << 10;
  }
  return 0;
}

int SetUpDns(const char* cmd, const FeaturesArgs& a, DnsPipeline& p) {
  using namespace fluxscore::dns;
  p.start = std::chrono::steady_clock::now();
  auto fail = [&](const std::string& msg) {
    std::fprintf(stderr, "fluxscore %s: %s\n", cmd, msg.c_str());
    return 2;
  };
  auto fmt_r = ParseLogFormat(a.format);
  if (!fmt_r.ok()) return fail(fmt_r.status().message());
  p.format = *fmt_r;
  const int64_t window = ParseDuration(a.window);
  if (window <= 0) return fail(fmt::format("--window '{}': expected a duration such as 24h, 30m, 1d, 3600", a.window));
  const uint64_t budget = ParseBytes(a.memory);
  if (budget == 0) return fail(fmt::format("--memory '{}': expected a size such as 512M or 2G", a.memory));
  if (a.key != "fqdn" && a.key != "registered") return fail("--key must be fqdn or registered");
  auto psl = PublicSuffixList::Load(a.psl);
  if (!psl.ok()) return fail(psl.status().message());
  p.psl = std::move(*psl);
  auto words = WordList::Load(a.words);
  if (!words.ok()) return fail(words.status().message());
  p.words = std::move(*words);
  for (const std::string& path : a.asn_dbs) {
    Status st = p.enricher.AddAsnSource(path);
    if (!st.ok()) return fail(st.message());
  }
  for (const std::string& path : a.country_dbs) {
    Status st = p.enricher.AddCountrySource(path);
    if (!st.ok()) return fail(st.message());
  }
  p.options.window_seconds = window;
  p.options.key = a.key == "registered" ? KeyMode::kRegistered : KeyMode::kFqdn;
  p.options.psl = &p.psl;
  p.options.min_ips = a.min_ips;
  p.options.sample_cap = a.sample_cap;
  p.options.memory_budget = budget;
  p.options.threads = a.threads == "auto" ? (std::thread::hardware_concurrency() >= 2 ? 2 : 1)
                                          : static_cast<uint32_t>(std::stoul(a.threads));
  return 0;
}

int ReadLogs(const char* cmd, const FeaturesArgs& a, DnsPipeline& p, dns::Aggregator& agg,
             dns::IngestStats& stats) {
  using namespace fluxscore::dns;
  const bool show_progress = a.progress == "on" || (a.progress == "auto" && !a.quiet && isatty(2));
  const auto t0 = p.start;
  auto last = t0;
  uint64_t bytes_before = 0;  // raw bytes of the files already finished
  std::vector<std::string> logs = a.logs.empty() ? std::vector<std::string>{"-"} : a.logs;
  int rc = 0;
  for (size_t i = 0; i < logs.size(); ++i) {
    uint64_t file_bytes = 0;
    ProgressFn progress;
    if (show_progress) {
      progress = [&](uint64_t off, uint64_t size) {
        file_bytes = off;
        const auto now = std::chrono::steady_clock::now();
        if (now - last < std::chrono::milliseconds(500)) return;
        last = now;
        const double s = std::chrono::duration<double>(now - t0).count();
        const double bps = static_cast<double>(bytes_before + off) / s;
        std::string eta;
        if (size > 0 && off > 0 && off <= size)
          eta = fmt::format(", ETA {:.0f} s", static_cast<double>(size - off) / (static_cast<double>(off) / s));
        std::fprintf(stderr, "\r[%zu/%zu] %s: %srecords/s, %sB/s%s   ", i + 1, logs.size(),
                     logs[i].c_str(), Human(static_cast<double>(stats.read) / s).c_str(),
                     Human(bps).c_str(), eta.c_str());
      };
    }
    LogFormat used = LogFormat::kAuto;
    Status st = ReadLog(logs[i], p.format, agg, stats, progress, &used);
    bytes_before += file_bytes;
    if (!st.ok()) {
      if (show_progress) std::fprintf(stderr, "\n");
      std::fprintf(stderr, "fluxscore %s: %s\n", cmd, st.message().c_str());
      rc = 2;
      if (stats.strict()) break;
      // An unreadable or corrupt input stops that input only; the others are still read,
      // and the run exits non-zero.
    }
  }
  if (show_progress) std::fprintf(stderr, "\n");
  Status budget_st = agg.budget_status();
  if (!budget_st.ok()) {
    std::fprintf(stderr, "fluxscore %s: %s\n", cmd, budget_st.message().c_str());
    return 3;
  }
  return rc;
}

void PrintDnsSummary(const FeaturesArgs& a, const DnsPipeline& p, const dns::Aggregator& agg,
                     const dns::IngestStats& stats, const dns::FinishStats& fs) {
  const double s = SecondsSince(p.start);
  std::string rej;
  for (const auto& [reason, n] : stats.rejected()) rej += fmt::format("; {}: {}", reason, n);
  std::fprintf(stderr, "%llu records read, %llu used, %llu rejected%s\n",
               static_cast<unsigned long long>(stats.read), static_cast<unsigned long long>(stats.used),
               static_cast<unsigned long long>(stats.rejected_total()), rej.c_str());
  for (const std::string& f : stats.first_rejections()) std::fprintf(stderr, "  rejected: %s\n", f.c_str());
  if (!stats.skipped.empty()) {
    std::string sk;
    for (const auto& [k, n] : stats.skipped) sk += fmt::format("{}{}: {}", sk.empty() ? "" : "; ", k, n);
    std::fprintf(stderr, "skipped (not records): %s\n", sk.c_str());
  }
  std::fprintf(stderr,
               "%llu keys (domain x %s window): %llu rows, %llu below --min-ips %u; "
               "%llu keys sampled beyond %u IPs\n",
               static_cast<unsigned long long>(fs.keys), a.window.c_str(),
               static_cast<unsigned long long>(fs.passed), static_cast<unsigned long long>(fs.filtered),
               a.min_ips, static_cast<unsigned long long>(fs.sampled_keys), a.sample_cap);
  if (p.enricher.has_asn() || p.enricher.has_country()) {
    std::string parts;
    if (p.enricher.has_asn()) parts += fmt::format("; no ASN: {}", fs.unknown_asn);
    if (p.enricher.has_country()) parts += fmt::format("; no country: {}", fs.unknown_country);
    std::fprintf(stderr, "answer IPs looked up: %llu%s\n",
                 static_cast<unsigned long long>(fs.address_ips), parts.c_str());
  } else {
    std::fprintf(stderr, "no --asn-db / --country-db: ASN and country columns are empty\n");
  }
  std::fprintf(stderr, "%.2f s, %s records/s, state and record buffers ~%llu MiB (--memory %llu MiB), peak memory %llu MiB\n", s,
               Human(static_cast<double>(stats.read) / s).c_str(),
               static_cast<unsigned long long>(agg.approx_bytes() >> 20),
               static_cast<unsigned long long>(p.options.memory_budget >> 20),
               static_cast<unsigned long long>(PeakMemoryBytes() >> 20));
}

}  // namespace fluxscore::cli
