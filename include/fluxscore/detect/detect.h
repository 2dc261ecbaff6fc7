// Fast-flux detection: what `fluxscore detect` produces for each scored domain, and the analyst
// report. The detector joins the DNS pipeline (fluxscore/dns) and the PMML engine
// (fluxscore/pmml/model.h); neither of those knows about the other.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace fluxscore::detect {

// How many of a domain's distinct answer IPs fall in one network / country (descending count).
struct NetworkCount {
  uint32_t asn = 0;  // 0 = unknown (no match in the ASN data)
  std::string org;   // organisation name, "" when unknown
  uint64_t ips = 0;
};
struct CountryCount {
  std::string country;  // ISO 3166 alpha-2, "" = unknown
  uint64_t ips = 0;
};
// How many address answers carried one TTL value (ascending TTL).
struct TtlCount {
  uint32_t ttl = 0;
  uint64_t answers = 0;
};

// The decisive evidence an analyst checks before acting.
struct Evidence {
  std::vector<std::string> ips;  // a sample of the distinct answer IPs (at most 32, sorted)
  std::vector<NetworkCount> networks;
  std::vector<CountryCount> countries;
  std::vector<TtlCount> ttls;
};

// One step of the decision path: the condition of the node the row went to ("distinct_asns >
// 12.5"), and the value the row had for that condition's field.
struct PathStep {
  std::string condition;
  std::string field;
  double value = 0;  // NaN when missing
};

struct Detection {
  std::string domain;
  int64_t window_start = 0;
  bool flux = false;
  double probability = 0;            // probability of the flux class
  std::vector<PathStep> path;        // root to leaf; empty for models that are not single trees
  std::string leaf;                  // the leaf's outcome, e.g. "flux (412 of 415 training rows)"
  std::vector<std::pair<std::string, double>> features;  // every feature column, NaN = empty
  Evidence evidence;
};

// "distinct_asns > 12.5 and ttl_mean <= 240 → flux"
std::string PathInWords(const Detection& d);

// The model's tree, for drawing: nodes in pre-order, parent -1 for the root.
struct TreeNodeView {
  int32_t parent = -1;
  int32_t depth = 0;
  std::string condition;   // "" for the root (True)
  bool leaf = false;
  std::string outcome;     // leaves: "flux" / "benign"
  double flux_share = 0;   // leaves: share of flux among training rows (0..1)
  double rows = 0;         // training rows that reached the node (NaN when unknown)
};

// What the run did, for the report's summary and the CLI's stderr summary.
struct RunSummary {
  std::vector<std::string> inputs;
  std::string model;             // path or "default (models/fast-flux.pmml)"
  std::string model_description;
  int64_t window_seconds = 86400;
  uint64_t records_read = 0, records_used = 0, records_rejected = 0;
  std::vector<std::pair<std::string, uint64_t>> rejected_by_reason;
  uint64_t keys = 0;          // (domain, window) pairs seen
  uint64_t prefiltered = 0;   // ... dropped by --min-ips
  uint64_t scored = 0;        // ... scored by the model
  uint64_t flagged = 0;       // ... with verdict flux
  uint32_t min_ips = 3;
  double threshold = 0.5;
  double seconds = 0;
  uint64_t peak_memory_bytes = 0;
  std::string generated_at;   // ISO 8601 UTC
};

// One self-contained HTML page (no external resources): summary, detections table, per-domain
// charts (IPs by network and by country, TTLs), and the model's tree when `tree` is non-empty.
// `detections` is the list to show (the caller decides whether benign rows are included).
void WriteHtmlReport(std::ostream& out, const RunSummary& summary,
                     const std::vector<Detection>& detections,
                     const std::vector<TreeNodeView>& tree);

}  // namespace fluxscore::detect
