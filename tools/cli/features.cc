// fluxscore features: DNS logs -> per-domain fast-flux feature rows.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "commands.h"
#include "dns_pipeline.h"
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

int RunFeatures(const FeaturesArgs& a) {
  using namespace fluxscore::dns;
  auto fail = [](const std::string& msg, int rc = 2) {
    std::fprintf(stderr, "fluxscore features: %s\n", msg.c_str());
    return rc;
  };
  if (a.output_format != "csv" && a.output_format != "jsonl") return fail("--output-format must be csv or jsonl");
  DnsPipeline p;
  if (int rc = SetUpDns("features", a, p); rc != 0) return rc;
  Aggregator agg(p.options);
  IngestStats stats(a.strict);
  const int rc = ReadLogs("features", a, p, agg, stats);
  if (rc == 3 || (rc != 0 && stats.strict())) return rc;

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
    agg.Finish(&p.enricher, &p.words, &fs, [&](const FeatureRow& r) { writer.Write(r); });
  }
  out->flush();
  if (!*out) return fail(fmt::format("{}: write failed", a.output));
  if (!a.quiet) PrintDnsSummary(a, p, agg, stats, fs);
  KeepUntilExit(std::move(agg));
  return rc;
}

}  // namespace fluxscore::cli
