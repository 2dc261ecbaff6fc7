// fluxscore command-line interface: thin wrappers over the public API, one file per subcommand.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "commands.h"

int main(int argc, char** argv) {
  using namespace fluxscore::cli;
  CLI::App app{"fluxscore: fast-flux detection in DNS logs (detect), the DNS feature pipeline (features), a traffic simulator (simulate), and a fast PMML engine (score, inspect, conformance)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("fluxscore 0.1.0"));

  ScoreArgs score;
  std::string missing_csv;
  std::string keep_csv;
  auto* sc = app.add_subcommand(
      "score", "Score a CSV table with a PMML model; --stream: record by record from a pipe "
               "(CSV or JSON lines), each result written as soon as it is scored");
  sc->add_option("--model,-m", score.model, "PMML file (or archive.zip!member.xml)")->required();
  sc->add_option("--input,-i", score.input, "input CSV with a header row; - for stdin")
      ->capture_default_str();
  sc->add_option("--output,-o", score.output, "output CSV; - for stdout")->capture_default_str();
  sc->add_option("--threads,-t", score.threads, "worker threads (0 = all cores)")
      ->capture_default_str();
  sc->add_option("--missing", missing_csv,
                 "comma-separated cell values read as missing (default: empty, NA, N/A)");
  sc->add_option("--keep", keep_csv,
                 "comma-separated input columns copied to the output before the results");
  sc->add_option("--delimiter", score.delimiter, "field delimiter of input and output")
      ->capture_default_str();
  sc->add_flag("--no-kernels", score.no_kernels,
               "score with the general row evaluator only (results are identical)");
  sc->add_flag("--stream", score.stream,
               "stream: read records as they arrive, write and flush each result before waiting "
               "for more input; a bad record gives an error row, not an abort (docs/streaming.md)");
  sc->add_option("--input-format", score.input_format,
                 "with --stream: csv (header row) or jsonl (one JSON object per line); the "
                 "output has the same format")
      ->capture_default_str();
  sc->add_option("--error-col", score.error_col,
                 "with --stream: name of the output column holding each record's error")
      ->capture_default_str();
  sc->add_flag("--quiet,-q", score.quiet, "no summary on stderr");

  InspectArgs inspect;
  auto* ic = app.add_subcommand("inspect", "Describe a PMML model: fields, types, structure, "
                                           "and anything unsupported");
  ic->add_option("model", inspect.model, "PMML file")->required();

  ConformanceArgs conf;
  std::string filter_csv;
  auto* cc = app.add_subcommand("conformance",
                                "Run PMML conformance cases listed in a MANIFEST.tsv");
  cc->add_option("--manifest", conf.manifest, "path of MANIFEST.tsv")->required();
  cc->add_option("--filter", filter_csv, "model elements to run, comma separated (e.g. TreeModel)");
  cc->add_option("--cases-file", conf.cases_file, "run exactly the case ids listed in this file");
  cc->add_option("--case", conf.cases, "run this case id (repeatable)");
  cc->add_flag("--verbose,-v", conf.verbose, "print timings");
  cc->add_flag("--no-kernels", conf.no_kernels,
               "score with the general row evaluator only (results are identical)");

  // DNS input options shared by features and detect.
  auto add_dns_options = [](CLI::App* fc, FeaturesArgs& feat, const char* format_flag) {
    fc->add_option("logs", feat.logs, "log files (default: stdin)");
    fc->add_option(format_flag, feat.format, "log format: auto, zeek, zeek-json, passivedns or pcap")
        ->capture_default_str();
    fc->add_option("--asn-db", feat.asn_dbs,
                   "IP -> ASN source: .mmdb, start,end,asn,org CSV or prefix/len<TAB>asn table "
                   "(repeatable; first match wins)")
        ->allow_extra_args(false);
    fc->add_option("--country-db", feat.country_dbs,
                   "IP -> country source: .mmdb, start,end,country CSV or prefix table (repeatable)")
        ->allow_extra_args(false);
    fc->add_option("--window", feat.window, "tumbling window: 24h, 30m, 1d, 3600, ...")
        ->capture_default_str();
    fc->add_option("--key", feat.key, "fqdn, or registered (registered domain by the PSL)")
        ->capture_default_str();
    fc->add_option("--min-ips", feat.min_ips, "prefilter: rows only for keys with at least N "
                                              "distinct answer IPs")
        ->capture_default_str();
    fc->add_flag("--strict", feat.strict, "stop at the first bad record (exit 2)");
    fc->add_option("--memory", feat.memory, "budget for the aggregation state and its record buffers (e.g. 512M, 4G)")
        ->capture_default_str();
    fc->add_option("--sample-cap", feat.sample_cap,
                   "distinct sets exact up to this size, sampled beyond")
        ->check(CLI::Range(2u, 1u << 30))
        ->capture_default_str();
    fc->add_option("--psl", feat.psl, "Public Suffix List file")->capture_default_str();
    fc->add_option("--words", feat.words, "word list for name_word_ratio")->capture_default_str();
    fc->add_option("--progress", feat.progress, "auto (when stderr is a terminal), on or off")
        ->capture_default_str();
    fc->add_flag("--quiet,-q", feat.quiet, "no summary on stderr");
  };

  FeaturesArgs feat;
  auto* fc = app.add_subcommand(
      "features", "Per-domain fast-flux features from DNS logs (Zeek TSV/JSON, passivedns, "
                  "pcap/pcapng; gzip or plain; - for stdin). Columns: docs/features.md");
  add_dns_options(fc, feat, "--format");
  fc->add_option("--output,-o", feat.output, "output file; - for stdout")->capture_default_str();
  fc->add_option("--output-format", feat.output_format, "csv or jsonl")->capture_default_str();
  fc->add_option("--threads", feat.threads,
                 "1: read and aggregate on one thread; 2: aggregate on a second thread while "
                 "reading goes on (same results); auto: 2 when there are 2 or more cores")
      ->check(CLI::IsMember({"auto", "1", "2"}))
      ->capture_default_str();

  DetectArgs det;
  auto* dc = app.add_subcommand(
      "detect", "Fast-flux detection: DNS logs -> features -> prefilter -> model (default: the "
                "shipped models/fast-flux.pmml) -> detections sorted by probability, with evidence "
                "and the decision path");
  add_dns_options(dc, det.dns, "--input-format");
  dc->add_option("--model", det.model, "PMML classification model whose inputs are feature "
                                       "names (default: models/fast-flux.pmml)");
  dc->add_flag("--no-default-ipdb", det.no_default_ipdb,
               "without --asn-db/--country-db, do not use data/ipdb/ (fetched by "
               "scripts/fetch-ipdata.sh)");
  dc->add_option("--flux-label", det.flux_label, "the model's target category meaning fast flux")
      ->capture_default_str();
  dc->add_option("--threshold", det.threshold, "verdict flux iff probability(flux) >= this")
      ->capture_default_str();
  dc->add_flag("--all", det.all, "list benign verdicts too (default: flux only)");
  dc->add_option("--format", det.format, "table, csv or jsonl")->capture_default_str();
  dc->add_option("--output,-o", det.output, "output file; - for stdout")->capture_default_str();
  dc->add_option("--report", det.report, "also write a self-contained HTML report for analysts");
  dc->add_option("--label-col", det.label_col, "name of the verdict column")->capture_default_str();
  dc->add_option("--probability-col", det.probability_col,
                 "name of the probability column (with --exploded: prefix of one column per class)")
      ->capture_default_str();
  dc->add_flag("--exploded", det.exploded,
               "one column per class probability and per feature instead of the summary columns");
  dc->add_option("--top", det.top, "rows shown by --format table")->capture_default_str();
  dc->add_option("--threads", det.threads,
                 "scoring threads (0 = all cores); 2 or more, or 0 on a machine with 2 or more "
                 "cores, also aggregate on a second thread while reading goes on (same results)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();

  SimulateArgs simargs;
  auto* simc = app.add_subcommand(
      "simulate", "Labelled, realistic DNS traffic as a Zeek dns.log (benign and fast-flux "
                  "classes, answers from real address ranges; deterministic by seed). "
                  "Model: docs/simulation.md");
  simc->add_option("--lines", simargs.lines, "records to write")->capture_default_str();
  simc->add_option("--seed", simargs.seed, "random seed")->capture_default_str();
  simc->add_option("--format", simargs.format, "zeek (TSV) or zeek-json")->capture_default_str();
  simc->add_option("--output,-o", simargs.output, "log file; - for stdout")->capture_default_str();
  simc->add_option("--truth", simargs.truth, "ground truth CSV: domain,class,label");
  simc->add_option("--asn-db", simargs.asn_dbs,
                   "start,end,asn,org range CSV (repeatable; default data/ipdb/asn-ipv4.csv and "
                   "asn-ipv6.csv)")
      ->allow_extra_args(false);
  simc->add_option("--country-db", simargs.country_db,
                   "country source (.mmdb or range CSV); none = no countries")
      ->capture_default_str();
  simc->add_option("--start", simargs.start, "epoch seconds of the start")->capture_default_str();
  simc->add_option("--duration", simargs.duration, "time span: 24h, 30m, 1d, 3600, ...")
      ->capture_default_str();
  simc->add_option("--mix", simargs.mix,
                   "class weights (share of domains), e.g. single_flux=0.05,static=0.6; "
                   "unlisted classes keep their default");
  simc->add_option("--domains", simargs.domains, "distinct domains (default max(400, lines/40))");
  simc->add_flag("--quiet,-q", simargs.quiet, "no summary on stderr");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  auto split = [](const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (true) {
      size_t comma = s.find(',', start);
      out.push_back(s.substr(start, comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return out;
  };
  if (*sc) {
    if (sc->count("--missing")) score.missing_values = split(missing_csv);
    if (!keep_csv.empty()) score.keep_columns = split(keep_csv);
    return RunScore(score);
  }
  if (*ic) return RunInspect(inspect);
  if (*fc) return RunFeatures(feat);
  if (*simc) return RunSimulate(simargs);
  if (*dc) {
    det.dns.threads = det.threads == 0 ? "auto" : det.threads >= 2 ? "2" : "1";
    return RunDetect(det);
  }
  if (*cc) {
    if (!filter_csv.empty()) conf.elements = split(filter_csv);
    return RunConformance(conf);
  }
  return 2;
}
