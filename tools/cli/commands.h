// Subcommands of the fluxscore CLI. Each lives in its own file and uses only the public API.
// Each returns the process exit status: 0 success, 1 failure of the job (e.g. conformance cases
// failed), 2 bad usage or input/model error.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fluxscore::cli {

struct ScoreArgs {
  std::string model;
  std::string input = "-";
  std::string output = "-";
  int threads = 1;
  std::vector<std::string> missing_values = {"", "NA", "N/A"};
  std::vector<std::string> keep_columns;  // input columns copied to the output, first
  char delimiter = ',';
  bool no_kernels = false;
  bool stream = false;                // --stream: score record by record as input arrives
  std::string input_format = "csv";   // --input-format (with --stream): csv | jsonl
  std::string error_col = "error";    // --error-col (with --stream)
  bool quiet = false;                 // -q: no summary on stderr
};
int RunScore(const ScoreArgs& args);

struct InspectArgs {
  std::string model;
};
int RunInspect(const InspectArgs& args);

struct ConformanceArgs {
  std::string manifest;                 // path of MANIFEST.tsv
  std::vector<std::string> elements;    // --filter: model_element values to run (empty = all)
  std::string cases_file;               // --cases-file: run exactly the case ids listed there
  std::vector<std::string> cases;       // --case: run these case ids
  bool verbose = false;
  bool no_kernels = false;              // --no-kernels: the general row evaluator only
};
int RunConformance(const ConformanceArgs& args);

}  // namespace fluxscore::cli

namespace fluxscore::cli {

struct FeaturesArgs {
  std::vector<std::string> logs;         // files, or - for stdin
  std::string format = "auto";           // auto, zeek, zeek-json, passivedns, pcap
  std::vector<std::string> asn_dbs;      // --asn-db (repeatable; first match wins)
  std::vector<std::string> country_dbs;  // --country-db
  std::string window = "24h";
  std::string key = "fqdn";              // fqdn | registered
  uint32_t min_ips = 3;
  std::string output = "-";
  std::string output_format = "csv";     // csv | jsonl
  bool strict = false;
  std::string memory = "2G";
  uint32_t sample_cap = 2048;
  std::string psl = "/usr/share/publicsuffix/public_suffix_list.dat";
  std::string words = "/usr/share/dict/words";
  bool quiet = false;
  std::string progress = "auto";        // auto (when stderr is a terminal), on, off
  std::string threads = "auto";         // aggregation threads: auto (2 when there are 2 cores), 1, 2
};
int RunFeatures(const FeaturesArgs& args);

// Parses "24h", "30m", "3600", "1d", "90s" into seconds; -1 when invalid.
int64_t ParseDuration(const std::string& s);
// Parses "512M", "2G", "1000000" into bytes; 0 when invalid.
uint64_t ParseBytes(const std::string& s);

}  // namespace fluxscore::cli

namespace fluxscore::cli {

struct DetectArgs {
  FeaturesArgs dns;                  // logs, formats, enrichment, window, key, prefilter, ...
  std::string model;                 // "" = the shipped models/fast-flux.pmml
  bool no_default_ipdb = false;      // do not pick up data/ipdb/ when no --asn-db/--country-db
  std::string flux_label = "flux";
  double threshold = 0.5;
  bool all = false;                  // also list benign verdicts
  std::string format = "table";      // table | csv | jsonl
  std::string output = "-";
  std::string report;                // --report out.html
  std::string label_col = "verdict";
  std::string probability_col = "probability";
  bool exploded = false;             // one column per class probability and per feature
  size_t top = 50;                   // table rows shown
  int threads = 0;                   // 0: all cores (scoring), 2 aggregation threads when >= 2 cores
};
int RunDetect(const DetectArgs& args);

}  // namespace fluxscore::cli

namespace fluxscore::cli {

struct SimulateArgs {
  uint64_t lines = 100000;
  uint64_t seed = 1;
  std::string format = "zeek";                // zeek | zeek-json
  std::string output = "-";
  std::string truth;                          // ground-truth CSV (empty = none)
  std::vector<std::string> asn_dbs;           // default: data/ipdb/asn-ipv4.csv (+ -ipv6.csv)
  std::string country_db = "data/ipdb/iptoasn-country.mmdb";  // "" or "none" = no countries
  int64_t start = 1700006400;
  std::string duration = "24h";
  std::string mix;                            // class=weight,...
  uint64_t domains = 0;                       // 0 = default (about lines / 40)
  bool quiet = false;
};
int RunSimulate(const SimulateArgs& args);

}  // namespace fluxscore::cli
