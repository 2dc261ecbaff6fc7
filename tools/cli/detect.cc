// fluxscore detect: DNS logs -> features -> prefilter -> PMML model -> fast-flux detections with
// evidence and decision paths (table, CSV, JSON lines) and an optional HTML report.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "commands.h"
#include "dns_pipeline.h"
#include "fluxscore/detect/detect.h"
#include "fluxscore/detect/detector.h"

namespace fluxscore::cli {

namespace {

namespace fs = std::filesystem;

// Folders searched for the shipped model and the fetched IP data: $FLUXSCORE_HOME, the source
// tree this binary was built from, and the folders around the binary.
std::vector<fs::path> DataRoots() {
  std::vector<fs::path> roots;
  if (const char* h = std::getenv("FLUXSCORE_HOME"); h != nullptr && *h != 0) roots.emplace_back(h);
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    roots.push_back(exe.parent_path() / "..");
    roots.push_back(exe.parent_path() / ".." / "..");
    roots.push_back(exe.parent_path() / ".." / "share" / "fluxscore");
  }
#ifdef FLUXSCORE_SOURCE_DIR
  roots.emplace_back(FLUXSCORE_SOURCE_DIR);
#endif
  return roots;
}

std::string FindData(const std::string& rel) {
  for (const fs::path& r : DataRoots()) {
    std::error_code ec;
    fs::path p = r / rel;
    if (fs::is_regular_file(p, ec)) return fs::weakly_canonical(p, ec).string();
  }
  return "";
}

std::string Num(double v) {
  if (std::isnan(v)) return "";
  return FormatDouble(v);
}

double Feature(const detect::Detection& d, std::string_view name) {
  for (const auto& [n, v] : d.features)
    if (n == name) return v;
  return NAN;
}

std::string Networks(const detect::Evidence& e, size_t max) {
  std::string s;
  for (size_t i = 0; i < e.networks.size() && i < max; ++i) {
    const auto& n = e.networks[i];
    if (!s.empty()) s += "; ";
    s += n.asn == 0 ? "unknown" : fmt::format("AS{}", n.asn);
    if (!n.org.empty()) s += " " + n.org;
    s += fmt::format(": {}", n.ips);
  }
  if (e.networks.size() > max) s += fmt::format("; +{} more", e.networks.size() - max);
  return s;
}

std::string Countries(const detect::Evidence& e, size_t max) {
  std::string s;
  for (size_t i = 0; i < e.countries.size() && i < max; ++i) {
    if (!s.empty()) s += " ";
    s += fmt::format("{}:{}", e.countries[i].country.empty() ? "??" : e.countries[i].country,
                     e.countries[i].ips);
  }
  if (e.countries.size() > max) s += fmt::format(" +{} more", e.countries.size() - max);
  return s;
}

std::string Ttls(const detect::Evidence& e) {
  std::string s;
  for (const auto& t : e.ttls) s += fmt::format("{}{}:{}", s.empty() ? "" : " ", t.ttl, t.answers);
  return s;
}

std::string Ips(const detect::Evidence& e) {
  std::string s;
  for (const auto& ip : e.ips) s += (s.empty() ? "" : " ") + ip;
  return s;
}

std::string CsvCell(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) {
    if (c == '"') o += '"';
    o += c;
  }
  return o + "\"";
}

std::string JsonString(std::string_view s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\r': o += "\\r"; break;
      case '\t': o += "\\t"; break;
      default:
        if (c < 0x20) o += fmt::format("\\u{:04x}", c);
        else o += static_cast<char>(c);
    }
  }
  return o + "\"";
}

std::string JsonNum(double v) { return std::isnan(v) ? "null" : FormatDouble(v); }

std::string IsoTime(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void WriteCsv(std::ostream& out, const std::vector<detect::Detection>& ds, const DetectArgs& a,
              const std::vector<std::string>& categories) {
  std::string h = "domain,window_start," + CsvCell(a.label_col);
  if (a.exploded) {
    for (const std::string& c : categories) h.append(",").append(CsvCell(a.probability_col + "(" + c + ")"));
    for (const auto& c : dns::FeatureColumns()) h.append(",").append(c.name);
  } else {
    h.append(",").append(CsvCell(a.probability_col)).append(",distinct_ips,distinct_asns,distinct_countries,ttl_mean");
  }
  h += ",networks,countries,ttls,sample_ips,decision_path";
  out << h << "\n";
  for (const auto& d : ds) {
    std::string line = CsvCell(d.domain) + "," + std::to_string(d.window_start) + "," +
                       (d.flux ? "flux" : "benign");
    if (a.exploded) {
      for (const std::string& c : categories) {
        double p = d.probability;
        if (c != a.flux_label) p = std::isnan(p) ? p : (categories.size() == 2 ? 1.0 - p : NAN);
        line.append(",").append(Num(p));
      }
      for (const auto& [n, v] : d.features) line.append(",").append(Num(v));
    } else {
      for (const double v : {d.probability, Feature(d, "distinct_ips"), Feature(d, "distinct_asns"),
                             Feature(d, "distinct_countries"), Feature(d, "ttl_mean")})
        line.append(",").append(Num(v));
    }
    for (const std::string& cell : {Networks(d.evidence, 1000), Countries(d.evidence, 1000), Ttls(d.evidence),
                                    Ips(d.evidence), d.path.empty() ? std::string() : detect::PathInWords(d)})
      line.append(",").append(CsvCell(cell));
    out << line << "\n";
  }
}

void WriteJsonl(std::ostream& out, const std::vector<detect::Detection>& ds, const DetectArgs& a,
                const std::vector<std::string>& categories) {
  for (const auto& d : ds) {
    std::string o = "{\"domain\":" + JsonString(d.domain) +
                    ",\"window_start\":" + std::to_string(d.window_start) + "," +
                    JsonString(a.label_col) + ":" + (d.flux ? "\"flux\"" : "\"benign\"");
    if (a.exploded) {
      for (const std::string& c : categories) {
        double p = d.probability;
        if (c != a.flux_label) p = std::isnan(p) ? p : (categories.size() == 2 ? 1.0 - p : NAN);
        o.append(",").append(JsonString(a.probability_col + "(" + c + ")")).append(":").append(JsonNum(p));
      }
      for (const auto& [n, v] : d.features) o.append(",").append(JsonString(n)).append(":").append(JsonNum(v));
    } else {
      o.append(",").append(JsonString(a.probability_col)).append(":").append(JsonNum(d.probability)).append(",\"features\":{");
      bool first = true;
      for (const auto& [n, v] : d.features) {
        o.append(first ? "" : ",").append(JsonString(n)).append(":").append(JsonNum(v));
        first = false;
      }
      o += "}";
    }
    o += ",\"evidence\":{\"networks\":[";
    for (size_t i = 0; i < d.evidence.networks.size(); ++i) {
      const auto& n = d.evidence.networks[i];
      o += fmt::format("{}{{\"asn\":{},\"org\":{},\"ips\":{}}}", i ? "," : "",
                       n.asn == 0 ? "null" : std::to_string(n.asn), JsonString(n.org), n.ips);
    }
    o += "],\"countries\":[";
    for (size_t i = 0; i < d.evidence.countries.size(); ++i) {
      const auto& c = d.evidence.countries[i];
      o += fmt::format("{}{{\"country\":{},\"ips\":{}}}", i ? "," : "",
                       c.country.empty() ? "null" : JsonString(c.country), c.ips);
    }
    o += "],\"ttls\":[";
    for (size_t i = 0; i < d.evidence.ttls.size(); ++i)
      o += fmt::format("{}{{\"ttl\":{},\"responses\":{}}}", i ? "," : "", d.evidence.ttls[i].ttl,
                       d.evidence.ttls[i].answers);
    o += "],\"sample_ips\":[";
    for (size_t i = 0; i < d.evidence.ips.size(); ++i)
      o.append(i ? "," : "").append(JsonString(d.evidence.ips[i]));
    o += "]},\"decision_path\":[";
    for (size_t i = 0; i < d.path.size(); ++i)
      o += fmt::format("{}{{\"condition\":{},\"field\":{},\"value\":{}}}", i ? "," : "",
                       JsonString(d.path[i].condition), JsonString(d.path[i].field),
                       JsonNum(d.path[i].value));
    o += "],\"leaf\":" + JsonString(d.leaf) + ",\"why\":" +
         JsonString(d.path.empty() ? "" : detect::PathInWords(d)) + "}";
    out << o << "\n";
  }
}

void WriteTable(std::ostream& out, const std::vector<detect::Detection>& ds, size_t top) {
  if (ds.empty()) {
    out << "no detections\n";
    return;
  }
  size_t w = 6;
  for (size_t i = 0; i < ds.size() && i < top; ++i) w = std::max(w, ds[i].domain.size());
  w = std::min<size_t>(w, 60);
  out << fmt::format("{:>4}  {:<{}}  {:<6}  {:>5}  {:>4}  {:>4}  {:>3}  {:>7}  {}\n", "#", "domain", w,
                     "verdict", "prob", "IPs", "ASNs", "CCs", "TTLmean", "top networks");
  for (size_t i = 0; i < ds.size() && i < top; ++i) {
    const auto& d = ds[i];
    std::string dom = d.domain.size() > w ? d.domain.substr(0, w - 1) + "~" : d.domain;
    out << fmt::format("{:>4}  {:<{}}  {:<7} {:>5}  {:>4}  {:>4}  {:>3}  {:>7}  {}\n", i + 1, dom, w,
                       d.flux ? "flux" : "benign",
                       std::isnan(d.probability) ? std::string("-") : fmt::format("{:.3f}", d.probability),
                       Num(Feature(d, "distinct_ips")), Num(Feature(d, "distinct_asns")),
                       Num(Feature(d, "distinct_countries")),
                       std::isnan(Feature(d, "ttl_mean")) ? std::string("-")
                                                          : fmt::format("{:.0f}", Feature(d, "ttl_mean")),
                       Networks(d.evidence, 3));
    if (!d.path.empty()) out << fmt::format("{:>4}  why: {}\n", "", detect::PathInWords(d));
    out << fmt::format("{:>4}  countries: {}  TTLs: {}\n", "", Countries(d.evidence, 8),
                       Ttls(d.evidence).substr(0, 80));
  }
  if (ds.size() > top) out << fmt::format("... {} more (see --top, --format csv)\n", ds.size() - top);
}

}  // namespace

int RunDetect(const DetectArgs& args) {
  using namespace fluxscore::dns;
  auto fail = [](const std::string& msg, int rc = 2) {
    std::fprintf(stderr, "fluxscore detect: %s\n", msg.c_str());
    return rc;
  };
  if (args.format != "table" && args.format != "csv" && args.format != "jsonl")
    return fail("--format must be table, csv or jsonl");
  if (!(args.threshold >= 0 && args.threshold <= 1)) return fail("--threshold must be within [0, 1]");
  FeaturesArgs a = args.dns;
  // Default enrichment: the IP data fetched by scripts/fetch-ipdata.sh, when present.
  if (a.asn_dbs.empty() && a.country_dbs.empty() && !args.no_default_ipdb) {
    for (const char* rel : {"data/ipdb/asn-ipv4.csv", "data/ipdb/asn-ipv6.csv"}) {
      std::string p = FindData(rel);
      if (!p.empty()) a.asn_dbs.push_back(p);
    }
    std::string c = FindData("data/ipdb/iptoasn-country.mmdb");
    if (!c.empty()) a.country_dbs.push_back(c);
    if (!a.quiet) {
      if (a.asn_dbs.empty() && a.country_dbs.empty())
        std::fprintf(stderr, "fluxscore detect: warning: no IP data (run scripts/fetch-ipdata.sh or "
                             "pass --asn-db/--country-db): ASN and country features are empty\n");
      else
        std::fprintf(stderr, "IP data: %s\n",
                     fs::path(a.asn_dbs.empty() ? a.country_dbs[0] : a.asn_dbs[0]).parent_path().c_str());
    }
  }
  std::string model_path = args.model;
  if (model_path.empty()) {
    model_path = FindData("models/fast-flux.pmml");
    if (model_path.empty())
      return fail("the default model models/fast-flux.pmml was not found (set FLUXSCORE_HOME to "
                  "the fluxscore folder, or pass --model)");
  }
  detect::DetectorOptions dopt;
  dopt.flux_label = args.flux_label;
  dopt.threshold = args.threshold;
  dopt.threads = args.threads;
  dopt.explain_benign = args.all;  // only shown detections need their evidence and path
  auto det = detect::Detector::Load(model_path, dopt);
  if (!det.ok()) return fail(det.status().message());

  DnsPipeline p;
  if (int rc = SetUpDns("detect", a, p); rc != 0) return rc;
  // Evidence is built only for the detections shown (agg.Evidence below), not for every row.
  p.options.evidence = false;
  Aggregator agg(p.options);
  IngestStats stats(a.strict);
  const int rc = ReadLogs("detect", a, p, agg, stats);
  if (rc == 3 || (rc != 0 && stats.strict())) return rc;
  // Rows are scored in batches as Finish produces them; only the detections to be shown (flux,
  // or all with --all) are kept, so the evidence of the benign majority is never held at once.
  FinishStats fst;
  std::vector<std::string> row_errors;
  std::vector<detect::Detection> shown;
  uint64_t scored_rows = 0, flagged = 0;
  Status score_error = Status::Ok();
  std::vector<FeatureRow> batch;
  constexpr size_t kScoreBatch = 4096;
  auto score_batch = [&] {
    if (batch.empty() || !score_error.ok()) return;
    auto scored = det->Score(batch, &row_errors);
    batch.clear();
    if (!scored.ok()) {
      score_error = scored.status();
      return;
    }
    for (detect::Detection& d : *scored) {
      ++scored_rows;
      flagged += d.flux;
      if (!d.flux && !args.all) continue;
      RowEvidence ev;
      if (agg.Evidence(d.domain, d.window_start, &p.enricher, &ev)) detect::Detector::SetEvidence(d, ev);
      shown.push_back(std::move(d));
    }
  };
  agg.Finish(&p.enricher, &p.words, &fst, [&](const FeatureRow& r) {
    batch.push_back(r);
    if (batch.size() == kScoreBatch) score_batch();
  });
  score_batch();
  if (!score_error.ok()) return fail(score_error.message());
  std::stable_sort(shown.begin(), shown.end(), [](const auto& x, const auto& y) {
    const double px = std::isnan(x.probability) ? -1 : x.probability;
    const double py = std::isnan(y.probability) ? -1 : y.probability;
    if (px != py) return px > py;
    return x.domain < y.domain;
  });

  std::vector<std::string> categories = det->model().outputs()[0].values;
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (args.output != "-") {
    file.open(args.output);
    if (!file) return fail(fmt::format("{}: cannot write", args.output));
    out = &file;
  }
  if (args.format == "csv") WriteCsv(*out, shown, args, categories);
  else if (args.format == "jsonl") WriteJsonl(*out, shown, args, categories);
  else WriteTable(*out, shown, args.top);
  out->flush();
  if (!*out) return fail(fmt::format("{}: write failed", args.output));

  if (!args.report.empty()) {
    detect::RunSummary s;
    s.inputs = a.logs.empty() ? std::vector<std::string>{"-"} : a.logs;
    s.model = args.model.empty() ? "default (" + model_path + ")" : model_path;
    s.model_description = det->Describe();
    s.window_seconds = p.options.window_seconds;
    s.records_read = stats.read;
    s.records_used = stats.used;
    s.records_rejected = stats.rejected_total();
    for (const auto& [r, n] : stats.rejected()) s.rejected_by_reason.emplace_back(r, n);
    s.keys = fst.keys;
    s.prefiltered = fst.filtered;
    s.scored = fst.passed;
    s.flagged = flagged;
    s.min_ips = a.min_ips;
    s.threshold = args.threshold;
    s.seconds = SecondsSince(p.start);
    s.peak_memory_bytes = PeakMemoryBytes();
    s.generated_at = IsoTime(static_cast<int64_t>(std::time(nullptr)));
    std::ofstream rep(args.report);
    if (!rep) return fail(fmt::format("{}: cannot write", args.report));
    detect::WriteHtmlReport(rep, s, shown, det->tree());
    rep.flush();
    if (!rep) return fail(fmt::format("{}: write failed", args.report));
  }

  if (!a.quiet) {
    PrintDnsSummary(a, p, agg, stats, fst);
    std::fprintf(stderr, "model %s: %s; %llu domains scored, %llu flagged as flux (threshold %g)\n",
                 model_path.c_str(), det->Describe().c_str(),
                 static_cast<unsigned long long>(scored_rows), static_cast<unsigned long long>(flagged),
                 args.threshold);
    for (size_t i = 0; i < row_errors.size() && i < 10; ++i)
      std::fprintf(stderr, "  not scored: %s\n", row_errors[i].c_str());
    if (row_errors.size() > 10) std::fprintf(stderr, "  ... %zu rows not scored in all\n", row_errors.size());
    if (!args.report.empty()) std::fprintf(stderr, "report: %s\n", args.report.c_str());
  }
  KeepUntilExit(std::move(agg));
  return rc;
}

}  // namespace fluxscore::cli
