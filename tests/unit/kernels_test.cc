// The compiled batch kernels must agree bit for bit with the row evaluator, and results must not
// depend on threads or block sizes. Models are generated with a fixed seed: a classification
// tree, a random forest (average, with segments that know only some classes), a regression forest
// (sum with Targets), a gradient-boosting chain (sum -> logit) and a softmax regression.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <regex>
#include <string>

#include "fluxscore/pmml/model.h"

namespace fluxscore {
namespace {

constexpr int kFeatures = 5;

bool g_all_float = false;  // every feature a float field: the float32 kernels
bool g_binary = false;     // the target has two categories (a, c) instead of three
bool g_no_interval = false;  // x4 without its valid-value interval

std::string Fields(bool classification) {
  std::string s = "<DataDictionary>";
  for (int f = 0; f < kFeatures; ++f) {
    s += "<DataField name=\"x" + std::to_string(f) + "\" optype=\"continuous\" dataType=\"" +
         (f % 2 || g_all_float ? "float" : "double") + "\">";
    if (f == 4 && !g_no_interval) s += "<Interval closure=\"closedClosed\" leftMargin=\"-2\" rightMargin=\"2\"/>";
    s += "</DataField>";
  }
  if (classification)
    s += std::string("<DataField name=\"y\" optype=\"categorical\" dataType=\"string\">"
                     "<Value value=\"a\"/>") +
         (g_binary ? "" : "<Value value=\"b\"/>") + "<Value value=\"c\"/></DataField>";
  else
    s += "<DataField name=\"y\" optype=\"continuous\" dataType=\"double\"/>";
  return s + "</DataDictionary>";
}

std::string Schema(bool with_target) {
  std::string s = "<MiningSchema>";
  if (with_target) s += "<MiningField name=\"y\" usageType=\"target\"/>";
  for (int f = 0; f < kFeatures; ++f)
    s += "<MiningField name=\"x" + std::to_string(f) + "\"" +
         (f == 4 ? " invalidValueTreatment=\"asMissing\" missingValueReplacement=\"0.5\"" : "") +
         "/>";
  return s + "</MiningSchema>";
}

// A random binary tree of the given depth. classes: labels a leaf may mention (empty: regression).
// early > 0: off the leftmost path, a node becomes a leaf with that probability (ragged trees:
// leaves above the bottom level; the leftmost path still reaches `depth`).
std::string Tree(std::mt19937& rng, int depth, const std::vector<std::string>& classes,
                 const std::string& extra_attrs = "", double early = 0) {
  std::uniform_real_distribution<double> stop(0.0, 1.0);
  std::uniform_int_distribution<int> feat(0, kFeatures - 1);
  std::normal_distribution<double> thr(0.0, 0.7);
  std::uniform_int_distribution<int> count(0, 40);
  std::string s = "<TreeModel functionName=\"" +
                  std::string(classes.empty() ? "regression" : "classification") + "\"" +
                  extra_attrs + ">" + Schema(false);
  std::function<void(int, const std::string&, bool)> node = [&](int d, const std::string& pred,
                                                                bool spine) {
    if (d == depth || (!spine && d > 0 && stop(rng) < early)) {
      if (classes.empty()) {
        s += "<Node score=\"" + std::to_string(thr(rng)) + "\">" + pred + "</Node>";
        return;
      }
      s += "<Node>" + pred;
      for (const std::string& c : classes)
        s += "<ScoreDistribution value=\"" + c + "\" recordCount=\"" +
             std::to_string(count(rng) + 1) + "\"/>";
      s += "</Node>";
      return;
    }
    std::string f = "x" + std::to_string(feat(rng));
    char t[32];
    std::snprintf(t, sizeof t, "%.9g", static_cast<double>(static_cast<float>(thr(rng))));
    s += "<Node" + std::string(classes.empty() ? " score=\"0.25\"" : "") + ">" + pred;
    node(d + 1, "<SimplePredicate field=\"" + f + "\" operator=\"lessOrEqual\" value=\"" + t + "\"/>",
         spine);
    node(d + 1, "<SimplePredicate field=\"" + f + "\" operator=\"greaterThan\" value=\"" + t + "\"/>",
         false);
    s += "</Node>";
  };
  node(0, "<True/>", true);
  return s + "</TreeModel>";
}

std::string Doc(bool classification, const std::string& model) {
  return "<PMML xmlns=\"http://www.dmg.org/PMML-4_4\" version=\"4.4\">" + Fields(classification) +
         model + "</PMML>";
}

std::string ProbOutputs() {
  return "<Output><OutputField name=\"pa\" feature=\"probability\" value=\"a\"/>"
         "<OutputField name=\"pc\" feature=\"probability\" value=\"c\"/></Output>";
}

// Two-category targets (binary trees and forests: their own leaf and output paths), in
// float32 and in double: a tree of `tree_depth` and an averaging forest of trees of the given
// depths, appended to *out.
void AddBinaryModels(std::mt19937& rng, int tree_depth, const std::vector<std::string>& tree_classes,
                     std::initializer_list<int> forest_depths,
                     std::vector<std::pair<std::string, std::string>>* out) {
  g_binary = true;
  for (bool all_float : {true, false}) {
    g_all_float = all_float;
    const std::string suffix = all_float ? "-float32" : "-double";
    std::string t = Tree(rng, tree_depth, tree_classes, "", 0.2);
    t.replace(t.find(Schema(false)), Schema(false).size(), Schema(true) + ProbOutputs());
    out->emplace_back("binary-tree" + suffix, Doc(true, t));
    std::string s = "<MiningModel functionName=\"classification\">" + Schema(true) +
                    ProbOutputs() + "<Segmentation multipleModelMethod=\"average\">";
    for (int depth : forest_depths)
      s += "<Segment><True/>" + Tree(rng, depth, {"a", "c"}, "", 0.25) + "</Segment>";
    out->emplace_back("binary-forest" + suffix, Doc(true, s + "</Segmentation></MiningModel>"));
  }
  g_all_float = false;
  g_binary = false;
}

std::vector<std::pair<std::string, std::string>> Models() {
  std::mt19937 rng(1234);
  std::vector<std::pair<std::string, std::string>> out;
  {  // single classification tree, root model with the target
    std::string t = Tree(rng, 6, {"a", "b", "c"});
    t.replace(t.find(Schema(false)), Schema(false).size(), Schema(true) + ProbOutputs());
    out.emplace_back("tree", Doc(true, t));
  }
  {  // random forest: segments know 2 or 3 classes
    std::string s = "<MiningModel functionName=\"classification\">" + Schema(true) + ProbOutputs() +
                    "<Segmentation multipleModelMethod=\"average\">";
    for (int i = 0; i < 7; ++i) {
      std::vector<std::string> cls = i % 3 ? std::vector<std::string>{"c", "a", "b"}
                                           : std::vector<std::string>{"b", "c"};
      s += "<Segment><True/>" + Tree(rng, 5, cls) + "</Segment>";
    }
    out.emplace_back("forest", Doc(true, s + "</Segmentation></MiningModel>"));
  }
  {  // random forest over float fields only: the float32 kernels
    g_all_float = true;
    std::string s = "<MiningModel functionName=\"classification\">" + Schema(true) + ProbOutputs() +
                    "<Segmentation multipleModelMethod=\"average\">";
    for (int i = 0; i < 5; ++i) s += "<Segment><True/>" + Tree(rng, 6, {"a", "b", "c"}) + "</Segment>";
    out.emplace_back("forest-float32", Doc(true, s + "</Segmentation></MiningModel>"));
    g_all_float = false;
  }
  // Ragged forests: leaves above the bottom level, and trees deeper than kPerfectMaxDepth (12)
  // next to shallow ones, so the perfect layout (always-left padding, column-wise top levels)
  // and the linked layout both run, in float32 and in double.
  for (bool all_float : {true, false}) {
    g_all_float = all_float;
    std::string s = "<MiningModel functionName=\"classification\">" + Schema(true) + ProbOutputs() +
                    "<Segmentation multipleModelMethod=\"average\">";
    for (int depth : {1, 3, 7, 12, 13, 15, 2})
      s += "<Segment><True/>" + Tree(rng, depth, {"a", "b", "c"}, "", 0.35) + "</Segment>";
    out.emplace_back(all_float ? "forest-ragged-float32" : "forest-ragged",
                     Doc(true, s + "</Segmentation></MiningModel>"));
    g_all_float = false;
  }
  {  // regression forest: sum with Targets
    std::string s = "<MiningModel functionName=\"regression\">" + Schema(true) +
                    "<Targets><Target field=\"y\" rescaleFactor=\"0.1\" rescaleConstant=\"3.5\"/>"
                    "</Targets><Segmentation multipleModelMethod=\"sum\">";
    for (int i = 0; i < 9; ++i) s += "<Segment><True/>" + Tree(rng, 4, {}) + "</Segment>";
    out.emplace_back("sum", Doc(false, s + "</Segmentation></MiningModel>"));
  }
  {  // gradient boosting chain: sum of trees -> logistic regression
    std::string s =
        "<MiningModel functionName=\"classification\">" + Schema(true) +
        "<Segmentation multipleModelMethod=\"modelChain\"><Segment><True/>"
        "<MiningModel functionName=\"regression\">" + Schema(false) +
        "<Output><OutputField name=\"df\" optype=\"continuous\" dataType=\"double\" "
        "feature=\"predictedValue\" isFinalResult=\"false\"/></Output>"
        "<Targets><Target rescaleFactor=\"0.1\" rescaleConstant=\"-0.3\"/></Targets>"
        "<Segmentation multipleModelMethod=\"sum\">";
    for (int i = 0; i < 11; ++i)
      s += "<Segment><True/>" + Tree(rng, 3, {}, " missingValueStrategy=\"nullPrediction\"") +
           "</Segment>";
    s += "</Segmentation></MiningModel></Segment><Segment><True/>"
         "<RegressionModel functionName=\"classification\" normalizationMethod=\"logit\">"
         "<MiningSchema><MiningField name=\"df\"/><MiningField name=\"y\" usageType=\"target\"/>"
         "</MiningSchema>" + ProbOutputs() +
         "<RegressionTable intercept=\"0.0\" targetCategory=\"c\"><NumericPredictor name=\"df\" "
         "coefficient=\"1.0\"/></RegressionTable><RegressionTable intercept=\"0.0\" "
         "targetCategory=\"a\"/></RegressionModel></Segment></Segmentation></MiningModel>";
    out.emplace_back("chain", Doc(true, s));
  }
  {  // softmax regression
    std::string s = "<RegressionModel functionName=\"classification\" "
                    "normalizationMethod=\"softmax\">" + Schema(true) + ProbOutputs();
    std::normal_distribution<double> c(0.0, 1.0);
    for (const char* cat : {"a", "b", "c"}) {
      s += "<RegressionTable intercept=\"" + std::to_string(c(rng)) + "\" targetCategory=\"" +
           cat + "\">";
      for (int f = 0; f < kFeatures; ++f)
        s += "<NumericPredictor name=\"x" + std::to_string(f) + "\" coefficient=\"" +
             std::to_string(c(rng)) + "\"/>";
      s += "</RegressionTable>";
    }
    out.emplace_back("softmax", Doc(true, s + "</RegressionModel>"));
  }
  // Binary regressions as exporters write them: the second table empty (logit, or softmax with
  // the default second table: both a binary logit), and a two-table softmax.
  for (const char* norm : {"logit", "softmax", "softmax2"}) {
    const bool full_second = std::string(norm) == "softmax2";
    std::string s = std::string("<RegressionModel functionName=\"classification\" "
                                "normalizationMethod=\"") +
                    (full_second ? "softmax" : norm) + "\">" + Schema(true) + ProbOutputs();
    std::normal_distribution<double> c(0.0, 1.0);
    s += "<RegressionTable intercept=\"" + std::to_string(c(rng)) + "\" targetCategory=\"c\">";
    for (int f = 0; f < kFeatures; ++f)
      s += "<NumericPredictor name=\"x" + std::to_string(f) + "\" coefficient=\"" +
           std::to_string(c(rng)) + "\"/>";
    s += "</RegressionTable>";
    if (full_second) {
      s += "<RegressionTable intercept=\"0.25\" targetCategory=\"a\">"
           "<NumericPredictor name=\"x2\" coefficient=\"-0.5\"/></RegressionTable>";
    } else {
      s += "<RegressionTable intercept=\"0\" targetCategory=\"a\"/>";
    }
    out.emplace_back(std::string("binary-") + norm, Doc(true, s + "</RegressionModel>"));
  }
  {  // linear regression with 9 terms (passes of 4, 4 and 1 terms), with Targets
    std::string s = "<RegressionModel functionName=\"regression\">" + Schema(true) +
                    "<Targets><Target field=\"y\" rescaleFactor=\"2\" rescaleConstant=\"-1\"/>"
                    "</Targets><RegressionTable intercept=\"0.125\">";
    std::normal_distribution<double> c(0.0, 1.0);
    for (int term = 0; term < 9; ++term)
      s += "<NumericPredictor name=\"x" + std::to_string(term % kFeatures) +
           "\" coefficient=\"" + std::to_string(c(rng)) + "\"/>";
    out.emplace_back("linear", Doc(false, s + "</RegressionTable></RegressionModel>"));
  }
  AddBinaryModels(rng, 7, {"c", "a"}, {0, 2, 4, 6, 11, 13}, &out);
  return out;
}

Table Data(size_t rows) {
  std::mt19937 rng(99);
  std::normal_distribution<double> v(0.0, 1.2);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Table t;
  for (int f = 0; f < kFeatures; ++f) {
    std::vector<double> col(rows);
    for (double& x : col) x = u(rng) < 0.04 ? NAN : v(rng);  // some missing; x4 also invalid
    t.AddColumn(Column::Numeric(std::string("x").append(std::to_string(f)), std::move(col)));
  }
  return t;
}

bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void ExpectIdentical(const pmml::ScoreResult& a, const pmml::ScoreResult& b, const std::string& what) {
  ASSERT_EQ(a.outputs.num_columns(), b.outputs.num_columns()) << what;
  for (size_t c = 0; c < a.outputs.num_columns(); ++c) {
    const Column& x = a.outputs.columns()[c];
    const Column& y = b.outputs.columns()[c];
    ASSERT_EQ(x.size(), y.size());
    for (size_t r = 0; r < x.size(); ++r) {
      if (x.kind() == Column::Kind::kNumeric) {
        ASSERT_TRUE(SameBits(x.numbers()[r], y.numbers()[r]))
            << what << ": column " << x.name() << " row " << r << ": " << x.numbers()[r]
            << " vs " << y.numbers()[r];
      } else {
        ASSERT_EQ(x.CellText(r), y.CellText(r)) << what << ": column " << x.name() << " row " << r;
      }
    }
  }
  ASSERT_EQ(a.row_errors.size(), b.row_errors.size()) << what;
}

TEST(CompiledKernelsTest, EveryShapeIsCompiledAndMatchesTheRowEvaluatorBitForBit) {
  Table data = Data(5000);
  for (const auto& [name, xml] : Models()) {
    auto m = pmml::Model::LoadString(xml, name);
    ASSERT_TRUE(m.ok()) << name << ": " << m.status().ToString();
    EXPECT_TRUE(m->has_compiled_kernels()) << name;
    pmml::ScoreOptions fast, slow;
    slow.compiled_kernels = false;
    auto a = m->Score(data, fast);
    auto b = m->Score(data, slow);
    ASSERT_TRUE(a.ok() && b.ok());
    ExpectIdentical(*a, *b, name);
    // The data really exercises both paths: some rows are missing/invalid, most are not.
    size_t missing_pred = 0;
    const Column& pred = a->outputs.columns()[0];
    for (size_t r = 0; r < pred.size(); ++r) missing_pred += pred.IsMissing(r);
    EXPECT_LT(missing_pred, pred.size() / 2) << name;
  }
}

TEST(CompiledKernelsTest, ResultsDoNotDependOnThreadsOrBlockSizes) {
  Table data = Data(3000);
  for (const auto& [name, xml] : Models()) {
    auto m = pmml::Model::LoadString(xml, name);
    ASSERT_TRUE(m.ok());
    pmml::ScoreOptions base;
    auto expected = m->Score(data, base);
    ASSERT_TRUE(expected.ok());
    for (int threads : {1, 2, 8})
      for (size_t block : {size_t{1}, size_t{7}, size_t{100000}})
        for (bool kernels : {true, false}) {
          pmml::ScoreOptions o;
          o.threads = threads;
          o.block_rows = block;
          o.compiled_kernels = kernels;
          auto got = m->Score(data, o);
          ASSERT_TRUE(got.ok());
          ExpectIdentical(*expected, *got,
                          name + " threads=" + std::to_string(threads) +
                              " block=" + std::to_string(block));
        }
  }
}

}  // namespace
}  // namespace fluxscore

namespace fluxscore {
namespace {

// Inputs as text (a string column feeding numeric fields, with unparseable cells) take the
// kernels' dictionary path; results must still equal the row evaluator's.
TEST(CompiledKernelsTest, TextColumnsAndBadCellsMatchTheRowEvaluator) {
  Table numeric = Data(2000);
  Table text;
  for (size_t c = 0; c < numeric.num_columns(); ++c) {
    const Column& src = numeric.columns()[c];
    if (c % 2 == 0) {
      text.AddColumn(src);
      continue;
    }
    Column col = Column::String(src.name());
    for (size_t r = 0; r < src.size(); ++r) {
      if (r % 97 == 5) col.AppendString("not a number");
      else if (src.IsMissing(r)) col.AppendMissing();
      else col.AppendString(FormatDouble(src.numbers()[r]));
    }
    text.AddColumn(std::move(col));
  }
  for (const auto& [name, xml] : Models()) {
    auto m = pmml::Model::LoadString(xml, name);
    ASSERT_TRUE(m.ok());
    pmml::ScoreOptions fast, slow;
    slow.compiled_kernels = false;
    auto a = m->Score(text, fast);
    auto b = m->Score(text, slow);
    ASSERT_TRUE(a.ok() && b.ok());
    ExpectIdentical(*a, *b, name + " (text columns)");
    EXPECT_FALSE(a->row_errors.empty()) << name << ": unparseable cells are invalid values";
  }
}

}  // namespace
}  // namespace fluxscore

namespace fluxscore {
namespace {

// Rows without a missing or invalid value take the kernels' all-rows-ok paths (whole tiles,
// whole output columns); binary models take the two-value leaf paths. Both must still equal
// the row evaluator, and every row must be scored.
TEST(CompiledKernelsTest, CleanRowsAndBinaryModelsMatchTheRowEvaluator) {
  const size_t rows = 4100;  // two full sub-blocks and a partial one
  std::mt19937 rng(7);
  std::normal_distribution<double> v(0.0, 1.2);
  Table clean;
  for (int f = 0; f < kFeatures; ++f) {
    std::vector<double> col(rows);
    for (double& x : col) {
      x = v(rng);
      if (f == 4) x = std::clamp(x, -2.0, 2.0);  // inside x4's valid interval
    }
    clean.AddColumn(Column::Numeric("x" + std::to_string(f), std::move(col)));
  }
  std::vector<std::pair<std::string, std::string>> models;
  std::mt19937 mrng(4321);
  AddBinaryModels(mrng, 8, {"a", "c"}, {0, 1, 4, 5, 10, 13}, &models);
  for (const auto& m : Models()) models.push_back(m);
  for (const auto& [name, xml] : models) {
    auto m = pmml::Model::LoadString(xml, name);
    ASSERT_TRUE(m.ok()) << name << ": " << m.status().ToString();
    EXPECT_TRUE(m->has_compiled_kernels()) << name;
    pmml::ScoreOptions fast, slow;
    slow.compiled_kernels = false;
    auto a = m->Score(clean, fast);
    auto b = m->Score(clean, slow);
    ASSERT_TRUE(a.ok() && b.ok());
    ExpectIdentical(*a, *b, name + " (clean rows)");
    const Column& pred = a->outputs.columns()[0];
    for (size_t r = 0; r < pred.size(); ++r) ASSERT_FALSE(pred.IsMissing(r)) << name << " row " << r;
  }
}

}  // namespace
}  // namespace fluxscore

namespace fluxscore {
namespace {

// On AVX-512 processors float32 forests take their own kernel variant; FLUXSCORE_NO_AVX512
// turns it off, so both variants are checked against the row evaluator on such machines.
TEST(CompiledKernelsTest, KernelsWithoutAvx512MatchTheRowEvaluator) {
  ASSERT_EQ(setenv("FLUXSCORE_NO_AVX512", "1", 1), 0);
  Table data = Data(3000);
  for (const auto& [name, xml] : Models()) {
    auto m = pmml::Model::LoadString(xml, name);
    ASSERT_TRUE(m.ok()) << name;
    pmml::ScoreOptions fast, slow;
    slow.compiled_kernels = false;
    auto a = m->Score(data, fast);
    auto b = m->Score(data, slow);
    ASSERT_TRUE(a.ok() && b.ok());
    ExpectIdentical(*a, *b, name + " (no AVX-512)");
  }
  unsetenv("FLUXSCORE_NO_AVX512");
}

}  // namespace
}  // namespace fluxscore

namespace fluxscore {
namespace {

// With a numeric target every output column is numeric, and the kernels write straight into
// the output columns (rows they leave are then written by the row evaluator): the same models
// with integer categories, on data with missing and invalid values, in several block sizes.
TEST(CompiledKernelsTest, NumericTargetsWriteOutputsDirectlyAndMatchTheRowEvaluator) {
  Table data = Data(5000);
  auto replace_all = [](std::string s, const std::string& from, const std::string& to) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
      s.replace(at, from.size(), to);
    return s;
  };
  size_t numeric_models = 0;
  for (const auto& [name, xml] : Models()) {
    if (xml.find("<Value value=\"a\"/>") == std::string::npos) continue;  // not classification
    std::string doc = replace_all(xml, "dataType=\"string\"><Value", "dataType=\"integer\"><Value");
    for (const auto& [from, to] : {std::pair{"a", "1"}, {"b", "2"}, {"c", "3"}}) {
      doc = replace_all(doc, std::string("value=\"") + from + "\"", std::string("value=\"") + to + "\"");
      doc = replace_all(doc, std::string("targetCategory=\"") + from + "\"",
                        std::string("targetCategory=\"") + to + "\"");
    }
    auto m = pmml::Model::LoadString(doc, name + "-int");
    ASSERT_TRUE(m.ok()) << name << ": " << m.status().ToString();
    EXPECT_TRUE(m->has_compiled_kernels()) << name;
    ++numeric_models;
    pmml::ScoreOptions slow;
    slow.compiled_kernels = false;
    auto expected = m->Score(data, slow);
    ASSERT_TRUE(expected.ok());
    for (size_t c = 0; c < expected->outputs.num_columns(); ++c)
      ASSERT_EQ(expected->outputs.columns()[c].kind(), Column::Kind::kNumeric) << name;
    for (size_t block : {size_t{7}, size_t{3000}, size_t{100000}}) {
      pmml::ScoreOptions fast;
      fast.block_rows = block;
      auto got = m->Score(data, fast);
      ASSERT_TRUE(got.ok());
      ExpectIdentical(*expected, *got, name + "-int block=" + std::to_string(block));
    }
  }
  EXPECT_GE(numeric_models, 8u);
}

}  // namespace
}  // namespace fluxscore

namespace fluxscore {
namespace {

// Float32 input columns (Column::Float32View) score exactly as double columns holding the same
// values, through the kernels (float32 fields read straight from the floats, double fields
// widened) and through the row evaluator: missing values, infinities, invalid x4 values, clean
// and dirty rows, every model shape.
TEST(CompiledKernelsTest, Float32ColumnsMatchDoubleColumnsBitForBit) {
  const size_t rows = 4100;  // two full sub-blocks and a partial one
  std::mt19937 rng(2024);
  std::normal_distribution<double> v(0.0, 1.2);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (bool dirty : {false, true}) {
    std::vector<std::vector<float>> cells(kFeatures, std::vector<float>(rows));
    Table doubles, floats;
    for (int f = 0; f < kFeatures; ++f) {
      std::vector<double> col(rows);
      for (size_t r = 0; r < rows; ++r) {
        double x = v(rng);
        if (f == 4 && !dirty) x = std::clamp(x, -2.0, 2.0);
        if (dirty && u(rng) < 0.04) x = NAN;
        if (dirty && u(rng) < 0.01) x = u(rng) < 0.5 ? INFINITY : -INFINITY;
        cells[static_cast<size_t>(f)][r] = static_cast<float>(x);
        col[r] = static_cast<double>(static_cast<float>(x));  // the same values
      }
      const std::string name = "x" + std::to_string(f);
      doubles.AddColumn(Column::Numeric(name, std::move(col)));
      floats.AddColumn(Column::Float32View(name, cells[static_cast<size_t>(f)].data(), rows));
    }
    ASSERT_EQ(floats.num_rows(), rows);
    for (const auto& [name, xml] : Models()) {
      auto m = pmml::Model::LoadString(xml, name);
      ASSERT_TRUE(m.ok()) << name << ": " << m.status().ToString();
      pmml::ScoreOptions fast, slow, small;
      slow.compiled_kernels = false;
      small.block_rows = 7;
      const std::string what = name + (dirty ? " (dirty rows)" : " (clean rows)");
      auto expected = m->Score(doubles, slow);
      ASSERT_TRUE(expected.ok()) << what;
      for (const auto* opts : {&fast, &slow, &small}) {
        auto got = m->Score(floats, *opts);
        ASSERT_TRUE(got.ok()) << what;
        ExpectIdentical(*expected, *got, what + " float32");
      }
      auto fast_doubles = m->Score(doubles, fast);
      ASSERT_TRUE(fast_doubles.ok());
      ExpectIdentical(*expected, *fast_doubles, what + " double");
    }
  }
}

}  // namespace
}  // namespace fluxscore

namespace fluxscore {
namespace {

// Float32 forests whose inputs have no valid-value interval (scikit-learn's, through the
// exporter) have their row tiles built straight from the input columns and walk every row, ok
// or not; a single perfect tree writes each row's result from the walk. Against the row
// evaluator: float32 and double columns, clean and dirty rows (missing, infinite), a leaf
// without a prediction, 1/2/8 threads, blocks of 1, 7 and 100000 rows, with and without AVX-512.
TEST(CompiledKernelsTest, TilesStraightFromTheColumnsMatchTheRowEvaluator) {
  g_no_interval = true;
  std::mt19937 rng(555);
  std::vector<std::pair<std::string, std::string>> models;
  g_all_float = true;
  {  // three categories, a perfect tree with leaves above the bottom
    std::string t = Tree(rng, 9, {"a", "b", "c"}, "", 0.2);
    t.replace(t.find(Schema(false)), Schema(false).size(), Schema(true) + ProbOutputs());
    models.emplace_back("tree3", Doc(true, t));
  }
  {  // regression tree with Targets; one leaf without a score (no prediction: row evaluator)
    std::string t = Tree(rng, 8, {}, "", 0.2);
    t.replace(t.find(Schema(false)), Schema(false).size(),
              Schema(true) + "<Targets><Target field=\"y\" rescaleFactor=\"0.1\" "
                             "rescaleConstant=\"3.5\"/></Targets>");
    const std::regex leaf("<Node score=\"[^\"]*\">(<SimplePredicate[^>]*/>)</Node>");
    const std::string before = t;
    t = std::regex_replace(t, leaf, "<Node>$1</Node>", std::regex_constants::format_first_only);
    ASSERT_NE(t, before);
    models.emplace_back("regression-tree", Doc(false, t));
  }
  {  // a tree deeper than the perfect layout: the linked walk over the tiles
    std::string t = Tree(rng, 14, {"a", "b", "c"}, "", 0.3);
    t.replace(t.find(Schema(false)), Schema(false).size(), Schema(true) + ProbOutputs());
    models.emplace_back("deep-tree", Doc(true, t));
  }
  {  // ragged forest: perfect and linked trees
    std::string s = "<MiningModel functionName=\"classification\">" + Schema(true) +
                    ProbOutputs() + "<Segmentation multipleModelMethod=\"average\">";
    for (int depth : {1, 3, 7, 12, 13, 2})
      s += "<Segment><True/>" + Tree(rng, depth, {"a", "b", "c"}, "", 0.35) + "</Segment>";
    models.emplace_back("forest", Doc(true, s + "</Segmentation></MiningModel>"));
  }
  g_all_float = false;
  AddBinaryModels(rng, 10, {"c", "a"}, {0, 2, 5, 10, 13}, &models);
  g_no_interval = false;

  const size_t rows = 4100;  // two full sub-blocks and a partial one
  std::mt19937 drng(31);
  std::normal_distribution<double> v(0.0, 1.2);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (bool dirty : {false, true}) {
    std::vector<std::vector<float>> cells(kFeatures, std::vector<float>(rows));
    Table doubles, floats;
    for (int f = 0; f < kFeatures; ++f) {
      std::vector<double> col(rows);
      for (size_t r = 0; r < rows; ++r) {
        double x = v(drng);
        if (dirty && u(drng) < 0.03) x = NAN;
        if (dirty && u(drng) < 0.01) x = u(drng) < 0.5 ? INFINITY : -INFINITY;
        cells[static_cast<size_t>(f)][r] = static_cast<float>(x);
        col[r] = static_cast<double>(static_cast<float>(x));
      }
      const std::string name = "x" + std::to_string(f);
      doubles.AddColumn(Column::Numeric(name, std::move(col)));
      floats.AddColumn(Column::Float32View(name, cells[static_cast<size_t>(f)].data(), rows));
    }
    for (const auto& [name, xml] : models) {
      auto m = pmml::Model::LoadString(xml, name);
      ASSERT_TRUE(m.ok()) << name << ": " << m.status().ToString();
      EXPECT_TRUE(m->has_compiled_kernels()) << name;
      pmml::ScoreOptions slow;
      slow.compiled_kernels = false;
      auto expected = m->Score(doubles, slow);
      ASSERT_TRUE(expected.ok());
      const Column& pred = expected->outputs.columns()[0];
      size_t missing = 0;
      for (size_t r = 0; r < rows; ++r) missing += pred.IsMissing(r);
      if (!dirty && name != "regression-tree") {
        EXPECT_EQ(missing, 0u) << name;
      }
      for (bool avx512 : {true, false}) {
        if (!avx512) {
          ASSERT_EQ(setenv("FLUXSCORE_NO_AVX512", "1", 1), 0);
        }
        for (const Table* t : {&floats, &doubles})
          for (int threads : {1, 2, 8})
            for (size_t block : {size_t{1}, size_t{7}, size_t{100000}}) {
              pmml::ScoreOptions o;
              o.threads = threads;
              o.block_rows = block;
              auto got = m->Score(*t, o);
              ASSERT_TRUE(got.ok());
              ExpectIdentical(*expected, *got,
                              name + (dirty ? " dirty" : " clean") +
                                  (t == &floats ? " float32" : " double") +
                                  (avx512 ? "" : " no-avx512") +
                                  " threads=" + std::to_string(threads) +
                                  " block=" + std::to_string(block));
            }
        unsetenv("FLUXSCORE_NO_AVX512");
      }
    }
  }
}

}  // namespace
}  // namespace fluxscore

namespace fluxscore {
namespace {

// Output cells start uninitialised; every one must still be written. A probability output for a
// value that is not a target category (always 0) next to columns the kernels write directly
// (numeric target), on clean and dirty rows, in float32 and double trees.
TEST(CompiledKernelsTest, EveryOutputCellIsWrittenIncludingUnknownCategories) {
  std::mt19937 rng(77);
  Table data = Data(5000);
  for (bool all_float : {true, false}) {
    g_all_float = all_float;
    g_binary = true;
    std::string t = Tree(rng, 8, {"1", "3"}, "", 0.2);
    t.replace(t.find(Schema(false)), Schema(false).size(),
              Schema(true) +
                  "<Output><OutputField name=\"p1\" feature=\"probability\" value=\"1\"/>"
                  "<OutputField name=\"p2\" feature=\"probability\" value=\"2\"/>"
                  "<OutputField name=\"p3\" feature=\"probability\" value=\"3\"/></Output>");
    std::string doc = Doc(true, t);
    g_binary = false;
    g_all_float = false;
    for (const auto& [from, to] : {std::pair{"<Value value=\"a\"/>", "<Value value=\"1\"/>"},
                                   {"<Value value=\"c\"/>", "<Value value=\"3\"/>"},
                                   {"dataType=\"string\"><Value", "dataType=\"integer\"><Value"}}) {
      const size_t at = doc.find(from);
      ASSERT_NE(at, std::string::npos) << from;
      doc.replace(at, std::strlen(from), to);
    }
    auto m = pmml::Model::LoadString(doc, "unknown-category");
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_TRUE(m->has_compiled_kernels());
    pmml::ScoreOptions slow;
    slow.compiled_kernels = false;
    auto expected = m->Score(data, slow);
    ASSERT_TRUE(expected.ok());
    ASSERT_EQ(expected->outputs.num_columns(), 4u);
    // 600,000 rows: columns of 4.8 MB, in reused (cached) mappings that hold the previous
    // result's values; small ones from the heap, poisoned first.
    Table big = Data(600000);
    auto big_expected = m->Score(big, slow);
    ASSERT_TRUE(big_expected.ok());
    for (int round = 0; round < 3; ++round) {
      pmml::ScoreOptions fast;
      auto got = m->Score(big, fast);
      ASSERT_TRUE(got.ok());
      ExpectIdentical(*big_expected, *got, std::string(all_float ? "float32" : "double") +
                                               " 600000 rows, round " + std::to_string(round));
    }
    for (size_t block : {size_t{7}, size_t{100000}}) {
      pmml::ScoreOptions fast;
      fast.block_rows = block;
      for (int round = 0; round < 3; ++round) {
        {  // heap memory the outputs will likely reuse, holding values that are not 0
          std::vector<std::vector<double>> poison;
          for (int i = 0; i < 8; ++i) poison.emplace_back(data.num_rows(), 0.75);
        }
        auto got = m->Score(data, fast);
        ASSERT_TRUE(got.ok());
        ExpectIdentical(*expected, *got, std::string(all_float ? "float32" : "double") +
                                             " block=" + std::to_string(block));
      }
    }
  }
}

}  // namespace
}  // namespace fluxscore
