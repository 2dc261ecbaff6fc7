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
};
int RunFeatures(const FeaturesArgs& args);

// Parses "24h", "30m", "3600", "1d", "90s" into seconds; -1 when invalid.
int64_t ParseDuration(const std::string& s);
// Parses "512M", "2G", "1000000" into bytes; 0 when invalid.
uint64_t ParseBytes(const std::string& s);

}  // namespace fluxscore::cli
