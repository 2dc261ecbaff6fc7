// Google Benchmark: TreeModel load and batch scoring on deterministic synthetic trees.
// A complete binary tree of depth D over 20 double features (thresholds and inputs from a fixed
// seed), scored over a 100k-row column table with 1 and 2 threads.
#include <benchmark/benchmark.h>

#include <functional>
#include <random>
#include <string>

#include "fluxscore/pmml/model.h"

namespace {

std::string TreeXml(int depth, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> feat(0, 19);
  std::normal_distribution<double> thr(0.0, 1.0);
  std::string s =
      "<PMML xmlns=\"http://www.dmg.org/PMML-4_4\" version=\"4.4\"><DataDictionary>";
  for (int f = 0; f < 20; ++f)
    s += "<DataField name=\"x" + std::to_string(f) + "\" optype=\"continuous\" dataType=\"double\"/>";
  s += "<DataField name=\"y\" optype=\"categorical\" dataType=\"string\"><Value value=\"0\"/>"
       "<Value value=\"1\"/></DataField></DataDictionary>"
       "<TreeModel functionName=\"classification\"><MiningSchema>";
  for (int f = 0; f < 20; ++f) s += "<MiningField name=\"x" + std::to_string(f) + "\"/>";
  s += "<MiningField name=\"y\" usageType=\"target\"/></MiningSchema>"
       "<Output><OutputField name=\"p1\" feature=\"probability\" value=\"1\"/></Output>";
  // Recursive generation of a complete tree (generator only; the engine itself is iterative).
  std::function<void(int, const std::string&)> node = [&](int d, const std::string& pred) {
    s += "<Node>" + pred;
    if (d == depth) {
      int a = static_cast<int>(rng() % 100);
      s += "<ScoreDistribution value=\"0\" recordCount=\"" + std::to_string(a) +
           "\"/><ScoreDistribution value=\"1\" recordCount=\"" + std::to_string(100 - a) + "\"/>";
    } else {
      std::string f = std::string("x").append(std::to_string(feat(rng)));
      std::string t = std::to_string(thr(rng));
      node(d + 1, "<SimplePredicate field=\"" + f + "\" operator=\"lessOrEqual\" value=\"" + t + "\"/>");
      node(d + 1, "<SimplePredicate field=\"" + f + "\" operator=\"greaterThan\" value=\"" + t + "\"/>");
    }
    s += "</Node>";
  };
  node(0, "<True/>");
  s += "</TreeModel></PMML>";
  return s;
}

fluxscore::Table Inputs(size_t rows) {
  std::mt19937 rng(42);
  std::normal_distribution<double> v(0.0, 1.0);
  fluxscore::Table t;
  for (int f = 0; f < 20; ++f) {
    std::vector<double> col(rows);
    for (double& x : col) x = v(rng);
    t.AddColumn(fluxscore::Column::Numeric(std::string("x").append(std::to_string(f)), std::move(col)));
  }
  return t;
}

void BM_TreeLoad(benchmark::State& state) {
  std::string xml = TreeXml(static_cast<int>(state.range(0)), 7);
  for (auto _ : state) {
    auto m = fluxscore::pmml::Model::LoadString(xml);
    benchmark::DoNotOptimize(m.ok());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * xml.size()));
}
BENCHMARK(BM_TreeLoad)->Arg(10)->Unit(benchmark::kMillisecond)->UseRealTime();  // load runs on its own thread

void BM_TreeScore(benchmark::State& state) {
  auto m = fluxscore::pmml::Model::LoadString(TreeXml(static_cast<int>(state.range(0)), 7));
  if (!m.ok()) {
    state.SkipWithError(m.status().ToString().c_str());
    return;
  }
  fluxscore::Table t = Inputs(100000);
  fluxscore::pmml::ScoreOptions o;
  o.threads = static_cast<int>(state.range(1));
  for (auto _ : state) {
    auto r = m->Score(t, o);
    benchmark::DoNotOptimize(r.ok());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * t.num_rows()));
}
BENCHMARK(BM_TreeScore)->Args({10, 1})->Args({10, 2})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
