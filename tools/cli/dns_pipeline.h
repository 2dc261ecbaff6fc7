// The DNS half shared by `features` and `detect`: flags -> PSL, words, enrichment, aggregation
// options; logs -> aggregator with progress; the summary printed on stderr.
#pragma once

#include <chrono>
#include <string>

#include "commands.h"
#include "fluxscore/dns/enrich.h"
#include "fluxscore/dns/features.h"
#include "fluxscore/dns/ingest.h"

namespace fluxscore::cli {

struct DnsPipeline {
  dns::PublicSuffixList psl;
  dns::WordList words;
  dns::Enricher enricher;
  dns::FeatureOptions options;
  dns::LogFormat format = dns::LogFormat::kAuto;
  std::chrono::steady_clock::time_point start;
};

// Loads what the flags name. Returns 0, or the exit status after printing "fluxscore CMD: ...".
int SetUpDns(const char* cmd, const FeaturesArgs& a, DnsPipeline& p);
// Reads every log into `agg`. Returns 0, 2 (input error; the other inputs are still read unless
// --strict) or 3 (memory budget exceeded; message printed).
int ReadLogs(const char* cmd, const FeaturesArgs& a, DnsPipeline& p, dns::Aggregator& agg,
             dns::IngestStats& stats);
// The end-of-run summary on stderr: records read/used/rejected by reason, prefilter counts,
// enrichment coverage, time and rate.
void PrintDnsSummary(const FeaturesArgs& a, const DnsPipeline& p, const dns::Aggregator& agg,
                     const dns::IngestStats& stats, const dns::FinishStats& fs);
double SecondsSince(std::chrono::steady_clock::time_point t0);
// Human-readable rate: "1.25 M".
std::string Human(double v);
// Hands the aggregation state over to process exit: freeing millions of small per-key vectors
// one by one costs seconds at the end of a large run, and the OS reclaims them at once. The
// state stays reachable from a static pointer (no leak report under LeakSanitizer).
void KeepUntilExit(dns::Aggregator&& agg);
// Peak resident memory of this process (VmHWM), 0 when unknown.
uint64_t PeakMemoryBytes();

}  // namespace fluxscore::cli
