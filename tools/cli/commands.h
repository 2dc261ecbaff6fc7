// Subcommands of the fluxscore CLI. Each lives in its own file and uses only the public API.
// Each returns the process exit status: 0 success, 1 failure of the job (e.g. conformance cases
// failed), 2 bad usage or input/model error.
#pragma once

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
