// fluxscore simulate: labelled DNS traffic (Zeek dns.log TSV or JSON) + ground truth CSV.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "fluxscore/sim/simulate.h"

namespace fluxscore::cli {

int RunSimulate(const SimulateArgs& a) {
  auto fail = [](const std::string& msg) {
    std::fprintf(stderr, "fluxscore simulate: %s\n", msg.c_str());
    return 2;
  };
  sim::SimOptions o;
  o.lines = a.lines;
  o.seed = a.seed;
  if (a.format == "zeek") o.format = sim::SimFormat::kZeekTsv;
  else if (a.format == "zeek-json") o.format = sim::SimFormat::kZeekJson;
  else return fail("--format must be zeek or zeek-json");
  const int64_t d = ParseDuration(a.duration);
  if (d <= 0) return fail(fmt::format("--duration '{}': expected a duration such as 24h, 30m, 1d, 3600", a.duration));
  o.duration = d;
  o.start = a.start;
  o.mix = a.mix;
  o.domains = a.domains;
  o.asn_dbs = a.asn_dbs;
  if (o.asn_dbs.empty()) {
    o.asn_dbs.push_back("data/ipdb/asn-ipv4.csv");
    if (std::filesystem::exists("data/ipdb/asn-ipv6.csv")) o.asn_dbs.push_back("data/ipdb/asn-ipv6.csv");
  }
  for (const auto& p : o.asn_dbs)
    if (!std::filesystem::exists(p))
      return fail(fmt::format("{}: no such file (real ranges: scripts/fetch-ipdata.sh, or pass --asn-db)", p));
  if (a.country_db != "none") o.country_db = a.country_db;
  if (!o.country_db.empty() && !std::filesystem::exists(o.country_db))
    return fail(fmt::format("{}: no such file (pass --country-db none to run without countries)", o.country_db));

  std::FILE* log = stdout;
  if (a.output != "-") {
    log = std::fopen(a.output.c_str(), "wb");
    if (!log) return fail(fmt::format("{}: cannot create", a.output));
  }
  std::FILE* truth = nullptr;
  if (!a.truth.empty()) {
    truth = std::fopen(a.truth.c_str(), "wb");
    if (!truth) {
      if (log != stdout) std::fclose(log);
      return fail(fmt::format("{}: cannot create", a.truth));
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto r = sim::Simulate(o, log, truth);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  bool close_ok = true;
  if (log != stdout) close_ok &= std::fclose(log) == 0;
  if (truth) close_ok &= std::fclose(truth) == 0;
  if (!r.ok()) return fail(r.status().message());
  if (!close_ok) return fail("cannot write the output");
  if (!a.quiet) {
    const auto& s = r.value();
    const auto& cls = sim::SimClasses();
    std::fprintf(stderr, "%llu lines written in %.2f s (%.2f M lines/s); %llu query names, %llu clients\n",
                 static_cast<unsigned long long>(s.lines), secs, static_cast<double>(s.lines) / secs / 1e6,
                 static_cast<unsigned long long>(s.query_names), static_cast<unsigned long long>(s.clients));
    std::fprintf(stderr, "answers: %llu fresh, %llu from the resolver cache, %llu NXDOMAIN\n",
                 static_cast<unsigned long long>(s.fresh_answers),
                 static_cast<unsigned long long>(s.cached_answers),
                 static_cast<unsigned long long>(s.nxdomain));
    std::fprintf(stderr, "%-16s %-6s %10s %12s\n", "class", "label", "names", "lines");
    for (size_t i = 0; i < cls.size(); ++i)
      std::fprintf(stderr, "%-16s %-6s %10llu %12llu\n", cls[i].name.c_str(), cls[i].flux ? "flux" : "benign",
                   static_cast<unsigned long long>(s.names_per_class[i]),
                   static_cast<unsigned long long>(s.lines_per_class[i]));
    for (const auto& n : s.notes) std::fprintf(stderr, "note: %s\n", n.c_str());
  }
  return 0;
}

}  // namespace fluxscore::cli
