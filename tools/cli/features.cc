// fluxscore features: DNS logs -> per-domain fast-flux feature rows.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "commands.h"
#include "fluxscore/dns/enrich.h"
#include "fluxscore/dns/features.h"
#include "fluxscore/dns/ingest.h"

namespace fluxscore::cli {

int64_t ParseDuration(const std::string& s) {
  if (s.empty()) return -1;
  size_t pos = 0;
  long long v;
  try {
    v = std::stoll(s, &pos);
  } catch (...) {
    return -1;
  }
  if (v <= 0) return -1;
  const std::string unit = s.substr(pos);
  if (unit.empty() || unit == "s") return v;
  if (unit == "m") return v * 60;
  if (unit == "h") return v * 3600;
  if (unit == "d") return v * 86400;
  return -1;
}

uint64_t ParseBytes(const std::string& s) {
  if (s.empty()) return 0;
  size_t pos = 0;
  unsigned long long v;
  try {
    v = std::stoull(s, &pos);
  } catch (...) {
    return 0;
  }
  std::string unit = s.substr(pos);
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
  if (unit.empty()) return v;
  if (unit == "K" || unit == "k") return v << 10;
  if (unit == "M" || unit == "m") return v << 20;
  if (unit == "G" || unit == "g") return v << 30;
  return 0;
}

namespace {

std::string Human(double v) {
  if (v >= 1e9) return fmt::format("{:.2f} G", v / 1e9);
  if (v >= 1e6) return fmt::format("{:.2f} M", v / 1e6);
  if (v >= 1e3) return fmt::format("{:.1f} k", v / 1e3);
  return fmt::format("{:.0f} ", v);
}

}  // namespace

int RunFeatures(const FeaturesArgs& a) {
  using namespace fluxscore::dns;
  auto fail = [](const std::string& msg, int rc = 2) {
    std::fprintf(stderr, "fluxscore features: %s\n", msg.c_str());
    return rc;
  };
  auto fmt_r = ParseLogFormat(a.format);
  if (!fmt_r.ok()) return fail(fmt_r.status().message());
  const int64_t window = ParseDuration(a.window);
  if (window <= 0) return fail(fmt::format("--window '{}': expected a duration such as 24h, 30m, 1d, 3600", a.window));
  const uint64_t budget = ParseBytes(a.memory);
  if (budget == 0) return fail(fmt::format("--memory '{}': expected a size such as 512M or 2G", a.memory));
  if (a.key != "fqdn" && a.key != "registered") return fail("--key must be fqdn or registered");
  if (a.output_format != "csv" && a.output_format != "jsonl") return fail("--output-format must be csv or jsonl");

  auto psl = PublicSuffixList::Load(a.psl);
  if (!psl.ok()) return fail(psl.status().message());
  auto words = WordList::Load(a.words);
  if (!words.ok()) return fail(words.status().message());
  Enricher enricher;
  for (const std::string& p : a.asn_dbs) {
    Status st = enricher.AddAsnSource(p);
    if (!st.ok()) return fail(st.message());
  }
  for (const std::string& p : a.country_dbs) {
    Status st = enricher.AddCountrySource(p);
    if (!st.ok()) return fail(st.message());
  }

  FeatureOptions opts;
  opts.window_seconds = window;
  opts.key = a.key == "registered" ? KeyMode::kRegistered : KeyMode::kFqdn;
  opts.psl = &*psl;
  opts.min_ips = a.min_ips;
  opts.sample_cap = a.sample_cap;
  opts.memory_budget = budget;
  Aggregator agg(opts);
  IngestStats stats(a.strict);

  const bool show_progress = a.progress == "on" || (a.progress == "auto" && !a.quiet && isatty(2));
  const auto t0 = std::chrono::steady_clock::now();
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
    Status st = ReadLog(logs[i], *fmt_r, agg, stats, progress, &used);
    bytes_before += file_bytes;
    if (!st.ok()) {
      if (show_progress) std::fprintf(stderr, "\n");
      std::fprintf(stderr, "fluxscore features: %s\n", st.message().c_str());
      rc = 2;
      if (stats.strict()) break;
      // An unreadable or corrupt input stops that input only; the others are still read,
      // and the run exits non-zero.
    }
  }
  if (show_progress) std::fprintf(stderr, "\n");
  Status budget_st = agg.budget_status();
  if (!budget_st.ok()) {
    std::fprintf(stderr, "fluxscore features: %s\n", budget_st.message().c_str());
    return 3;
  }
  if (rc != 0 && stats.strict()) return rc;

  FinishStats fs;
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (a.output != "-") {
    file.open(a.output);
    if (!file) return fail(fmt::format("{}: cannot write", a.output));
    out = &file;
  }
  {
    FeatureWriter writer(*out, a.output_format == "jsonl");
    agg.Finish(&enricher, &*words, &fs, [&](const FeatureRow& r) { writer.Write(r); });
  }
  out->flush();
  if (!*out) return fail(fmt::format("{}: write failed", a.output));

  if (!a.quiet) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
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
                 "%llu keys (domain x %s window): %llu rows written, %llu below --min-ips %u; "
                 "%llu keys sampled beyond %u IPs\n",
                 static_cast<unsigned long long>(fs.keys), a.window.c_str(),
                 static_cast<unsigned long long>(fs.passed), static_cast<unsigned long long>(fs.filtered),
                 a.min_ips, static_cast<unsigned long long>(fs.sampled_keys), a.sample_cap);
    if (enricher.has_asn() || enricher.has_country()) {
      std::string parts;
      if (enricher.has_asn()) parts += fmt::format("; no ASN: {}", fs.unknown_asn);
      if (enricher.has_country()) parts += fmt::format("; no country: {}", fs.unknown_country);
      std::fprintf(stderr, "answer IPs looked up: %llu%s\n",
                   static_cast<unsigned long long>(fs.address_ips), parts.c_str());
    } else {
      std::fprintf(stderr, "no --asn-db / --country-db: ASN and country columns are empty\n");
    }
    std::fprintf(stderr, "%.2f s, %s records/s, state ~%llu MiB\n", s,
                 Human(static_cast<double>(stats.read) / s).c_str(),
                 static_cast<unsigned long long>(agg.approx_bytes() >> 20));
  }
  return rc;
}

}  // namespace fluxscore::cli
