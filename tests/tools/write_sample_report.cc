// Writes an analyst report with known content, for the headless-browser test of the report
// (tests/integration/report_chromium_test.sh).
//   fluxscore_write_sample_report OUT.html            3 detections (one hostile) and a tree
//   fluxscore_write_sample_report OUT.html --many N   N generated detections (N may be 0)
//   fluxscore_write_sample_report OUT.html --no-tree  the 3 detections, no tree
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "fluxscore/detect/detect.h"

using namespace fluxscore::detect;

namespace {

const double kNaN = std::nan("");

std::vector<TreeNodeView> SampleTree() {
  auto node = [](int32_t parent, int32_t depth, std::string cond, bool leaf, std::string outcome,
                 double share, double rows) {
    TreeNodeView n;
    n.parent = parent;
    n.depth = depth;
    n.condition = std::move(cond);
    n.leaf = leaf;
    n.outcome = std::move(outcome);
    n.flux_share = share;
    n.rows = rows;
    return n;
  };
  return {
      node(-1, 0, "", false, "", 0, 1000),
      node(0, 1, "distinct_ips <= 4.5", true, "benign", 0.01, 600),
      node(0, 1, "distinct_ips > 4.5", false, "", 0, 400),
      node(2, 2, "distinct_asns <= 2.5", true, "benign", 0.15, 120),
      node(2, 2, "distinct_asns > 2.5", false, "", 0, 280),
      node(4, 3, "ttl_mean <= 900", true, "flux", 0.97, 250),
      node(4, 3, "ttl_mean > 900", true, "benign", 0.3, kNaN),
  };
}

Detection Flux() {
  Detection d;
  d.domain = "cdn-update-kjq3.ru";
  d.window_start = 1714521600;  // 2024-05-01
  d.flux = true;
  d.probability = 0.987;
  d.path = {{"distinct_ips > 4.5", "distinct_ips", 26},
            {"distinct_asns > 2.5", "distinct_asns", 3},
            {"ttl_mean <= 900", "ttl_mean", 88.5}};
  d.leaf = "flux (243 of 250 training rows)";
  d.features = {{"distinct_ips", 26}, {"distinct_asns", 3}, {"distinct_countries", 2},
                {"ttl_mean", 88.5},   {"as_fraction", kNaN}, {"holz_score", 90.94}};
  for (int i = 0; i < 26; ++i) d.evidence.ips.push_back("95.31.18." + std::to_string(100 + i));
  d.evidence.networks = {{12389, "Rostelecom", 14}, {8359, "MTS PJSC", 9}, {0, "", 3}};
  d.evidence.countries = {{"RU", 20}, {"UA", 4}, {"", 2}};
  d.evidence.ttls = {{60, 120}, {300, 8}};
  return d;
}

Detection Hostile() {
  Detection d;
  d.domain = "evil\"><script>alert(1)</script>.example";
  d.window_start = 1714521600;
  d.flux = true;
  d.probability = 0.91;
  d.path = {{"distinct_ips > 4.5", "distinct_ips", 9},
            {"distinct_asns > 2.5", "distinct_asns", 4},
            {"ttl_mean <= 900", "ttl_mean", kNaN}};
  d.leaf = "flux (243 of 250 training rows)";
  d.features = {{"distinct_ips", 9}, {"distinct_asns", 4}, {"distinct_countries", 3},
                {"ttl_mean", kNaN}};
  d.evidence.ips = {"198.51.100.7", "203.0.113.9", "2001:db8::1"};
  d.evidence.networks = {{64512, "</script><script>alert(2)</script>", 5},
                         {64513, "Caf\xc3\xa9 \xff\xfe Net \xe2\x80\xa8 'q' & co", 4}};
  d.evidence.countries = {{"NL", 6}, {"<b>", 3}};
  d.evidence.ttls = {{0, 3}, {30, 40}};
  return d;
}

Detection Benign() {
  Detection d;
  d.domain = "www.example.com";
  d.window_start = 1714521600;
  d.flux = false;
  d.probability = 0.01;
  d.path = {{"distinct_ips <= 4.5", "distinct_ips", 2}};
  d.leaf = "benign (594 of 600 training rows)";
  d.features = {{"distinct_ips", 2}, {"distinct_asns", 1}, {"distinct_countries", 1},
                {"ttl_mean", 3600}};
  d.evidence.ips = {"93.184.215.14", "93.184.215.15"};
  d.evidence.networks = {{15133, "Edgecast", 2}};
  d.evidence.countries = {{"US", 2}};
  d.evidence.ttls = {{3600, 48}};
  return d;
}

Detection Generated(int i) {
  Detection d = Flux();
  d.domain = "gen-" + std::to_string(i) + ".flux.example";
  d.probability = 1.0 - i * 1e-4;
  d.flux = d.probability >= 0.5;
  d.evidence.ttls.clear();
  for (uint32_t t = 0; t < 40; ++t) d.evidence.ttls.push_back({t * 10, 1 + t % 7});
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: fluxscore_write_sample_report OUT.html [--many N | --no-tree]\n";
    return 2;
  }
  RunSummary s;
  s.inputs = {"tests/data/dns/sample.jsonl", "/var/log/dns/<odd>&\"name\".log"};
  s.model = "default (models/fast-flux.pmml)";
  s.model_description = "Fast-flux decision tree (sample)";
  s.window_seconds = 86400;
  s.records_read = 125000;
  s.records_used = 124200;
  s.records_rejected = 800;
  s.rejected_by_reason = {{"malformed JSON", 650}, {"no address answer", 150}};
  s.keys = 5400;
  s.prefiltered = 4100;
  s.scored = 1300;
  s.flagged = 2;
  s.min_ips = 3;
  s.threshold = 0.5;
  s.seconds = 3.42;
  s.peak_memory_bytes = 187ull << 20;
  s.generated_at = "2024-05-02T08:15:00Z";

  std::vector<Detection> dets;
  std::vector<TreeNodeView> tree = SampleTree();
  if (argc >= 4 && std::string(argv[2]) == "--many") {
    const int n = std::atoi(argv[3]);
    for (int i = 0; i < n; ++i) dets.push_back(Generated(i));
    s.flagged = static_cast<uint64_t>(n);
  } else {
    dets = {Flux(), Hostile(), Benign()};
    if (argc >= 3 && std::string(argv[2]) == "--no-tree") tree.clear();
  }
  std::ofstream out(argv[1], std::ios::binary);
  if (!out) {
    std::cerr << "cannot write " << argv[1] << "\n";
    return 1;
  }
  WriteHtmlReport(out, s, dets, tree);
  out.close();
  return out ? 0 : 1;
}
