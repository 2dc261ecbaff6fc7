// Labelled DNS traffic simulator: a Zeek dns.log (TSV or JSON lines) of client <-> recursive
// resolver traffic for benign and fast-flux domain classes, with answer addresses drawn from real
// address ranges of real networks (an ip-location-db `start,end,asn,org` range CSV) and, where a
// class needs countries, a country database read through fluxscore::dns::Enricher.
//
// Streaming: memory grows with the number of domains, not with the number of lines. The output
// is a pure function of the options (same options and seed -> same bytes); the simulator uses
// its own generators (splitmix64 hashing), never std:: random distributions.
//
// Model, parameters and their sources: docs/simulation.md.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "fluxscore/status.h"

namespace fluxscore::sim {

enum class SimFormat { kZeekTsv, kZeekJson };

struct SimOptions {
  uint64_t lines = 100000;            // exactly this many records are written
  uint64_t seed = 1;
  SimFormat format = SimFormat::kZeekTsv;
  std::vector<std::string> asn_dbs;   // range CSVs start,end,asn[,org] (IPv4 and/or IPv6)
  std::string country_db;             // any Enricher country source (.mmdb, CSV); empty = none
  int64_t start = 1700006400;         // epoch seconds of the first possible record
  int64_t duration = 86400;           // seconds; records lie in [start, start + duration)
  std::string mix;                    // "class=weight,..." overriding the default mix
  uint64_t domains = 0;               // distinct domains (0 = default: max(400, lines / 40))
};

// One class of the traffic model.
struct SimClassInfo {
  std::string name;
  bool flux = false;
  double default_weight = 0;  // default share of domains (weights are normalised)
};
// Every class, in the order used for the truth file and the summary.
const std::vector<SimClassInfo>& SimClasses();
// The default mix as "class=weight,..." (what --mix overrides).
std::string DefaultMix();

struct SimSummary {
  uint64_t lines = 0;
  uint64_t query_names = 0;                 // distinct query names in the log (= truth rows)
  std::vector<uint64_t> names_per_class;    // indexed like SimClasses()
  std::vector<uint64_t> lines_per_class;
  uint64_t fresh_answers = 0;               // answers from the authoritative model
  uint64_t cached_answers = 0;              // answers from the resolver cache
  uint64_t nxdomain = 0;
  uint64_t clients = 0;                     // size of the client population
  std::vector<std::string> notes;           // e.g. ASNs of the curated lists missing in the data
};

// Writes the log to `log` and, when `truth` is not null, the ground truth CSV
// (`domain,class,label`, one row per query name of the log, sorted by domain).
// Errors: InvalidArgument (bad options or --mix), IoError/DataError (address data).
Result<SimSummary> Simulate(const SimOptions& options, std::FILE* log, std::FILE* truth);

}  // namespace fluxscore::sim
