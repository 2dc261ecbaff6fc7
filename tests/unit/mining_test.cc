// MiningModel: every multipleModelMethod, segment predicates and weights, modelChain outputs,
// selectFirst exposure, segmentId outputs; RegressionModel: every normalizationMethod.
#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"

namespace fluxscore::testing {
namespace {

const char* kFields =
    "<DataField name=\"a\" optype=\"continuous\" dataType=\"double\"/>"
    "<DataField name=\"y\" optype=\"continuous\" dataType=\"double\"/>"
    "<DataField name=\"c\" optype=\"categorical\" dataType=\"string\"><Value value=\"p\"/>"
    "<Value value=\"q\"/></DataField>";

// A regression tree predicting `value` (independent of input).
std::string Leaf(const std::string& value, const std::string& id = "") {
  return "<Segment" + (id.empty() ? std::string() : " id=\"" + id + "\"") + " weight=\"" +
         "WEIGHT\"><True/><TreeModel functionName=\"regression\"><MiningSchema>"
         "<MiningField name=\"a\"/></MiningSchema><Node score=\"" + value +
         "\"><True/></Node></TreeModel></Segment>";
}

std::string WithWeight(std::string s, const std::string& w) {
  s.replace(s.find("WEIGHT"), 6, w);
  return s;
}

double Regress(const std::string& method, const std::vector<std::pair<std::string, std::string>>& segs,
               const Row& row = {{"a", 1.0}}) {
  std::string body;
  for (const auto& [v, w] : segs) body += WithWeight(Leaf(v), w);
  Model m = MustLoad(Doc(kFields, "<MiningModel functionName=\"regression\"><MiningSchema>"
                                  "<MiningField name=\"a\"/><MiningField name=\"y\" usageType=\"target\"/>"
                                  "</MiningSchema><Segmentation multipleModelMethod=\"" + method +
                                  "\">" + body + "</Segmentation></MiningModel>"));
  auto r = m.ScoreOne(row);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return Num(Get(*r, "y"));
}

TEST(MiningModelTest, RegressionCombinations) {
  std::vector<std::pair<std::string, std::string>> s = {{"1", "1"}, {"4", "2"}, {"10", "1"}};
  EXPECT_DOUBLE_EQ(Regress("sum", s), 15);
  EXPECT_DOUBLE_EQ(Regress("average", s), 5);
  EXPECT_DOUBLE_EQ(Regress("weightedSum", s), 1 + 8 + 10);
  EXPECT_DOUBLE_EQ(Regress("weightedAverage", s), 19.0 / 4);
  EXPECT_DOUBLE_EQ(Regress("median", s), 4);
  EXPECT_DOUBLE_EQ(Regress("median", {{"1", "1"}, {"4", "1"}, {"10", "1"}, {"20", "1"}}), 7);
  EXPECT_DOUBLE_EQ(Regress("weightedMedian", {{"1", "1"}, {"4", "1"}, {"10", "5"}}), 10);
  EXPECT_DOUBLE_EQ(Regress("max", s), 10);
  EXPECT_DOUBLE_EQ(Regress("selectFirst", s), 1);
  EXPECT_DOUBLE_EQ(Regress("modelChain", s), 10);
}

std::string Vote(const std::string& cls, const std::string& w, double pp) {
  return "<Segment weight=\"" + w + "\"><True/><TreeModel functionName=\"classification\">"
         "<MiningSchema><MiningField name=\"a\"/><MiningField name=\"c\" usageType=\"target\"/>"
         "</MiningSchema><Node score=\"" + cls + "\"><True/><ScoreDistribution value=\"p\" "
         "probability=\"" + std::to_string(pp) + "\"/><ScoreDistribution value=\"q\" probability=\"" +
         std::to_string(1 - pp) + "\"/></Node></TreeModel></Segment>";
}

Row Classify(const std::string& method, const std::string& segs) {
  Model m = MustLoad(Doc(kFields, "<MiningModel functionName=\"classification\"><MiningSchema>"
                                  "<MiningField name=\"a\"/><MiningField name=\"c\" usageType=\"target\"/>"
                                  "</MiningSchema><Output><OutputField name=\"pp\" feature=\"probability\" "
                                  "value=\"p\"/></Output><Segmentation multipleModelMethod=\"" + method +
                                  "\">" + segs + "</Segmentation></MiningModel>"));
  auto r = m.ScoreOne({{"a", 1.0}});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return *r;
}

TEST(MiningModelTest, ClassificationCombinations) {
  std::string segs = Vote("p", "1", 0.75) + Vote("q", "3", 0.25) + Vote("p", "1", 0.5);
  Row mv = Classify("majorityVote", segs);
  EXPECT_EQ(Str(Get(mv, "c")), "p");
  EXPECT_DOUBLE_EQ(Num(Get(mv, "pp")), 2.0 / 3);
  Row wmv = Classify("weightedMajorityVote", segs);
  EXPECT_EQ(Str(Get(wmv, "c")), "q");
  EXPECT_DOUBLE_EQ(Num(Get(wmv, "pp")), 2.0 / 5);
  Row avg = Classify("average", segs);
  EXPECT_DOUBLE_EQ(Num(Get(avg, "pp")), 0.5);
  Row wavg = Classify("weightedAverage", segs);
  EXPECT_DOUBLE_EQ(Num(Get(wavg, "pp")), (0.75 + 0.75 + 0.5) / 5);
  Row med = Classify("median", segs);
  EXPECT_DOUBLE_EQ(Num(Get(med, "pp")), 0.5);
  Row mx = Classify("max", segs);
  EXPECT_EQ(Str(Get(mx, "c")), "p");
  EXPECT_DOUBLE_EQ(Num(Get(mx, "pp")), 0.75);
}

TEST(MiningModelTest, SegmentPredicatesSelectSegments) {
  std::string segs =
      "<Segment><SimplePredicate field=\"a\" operator=\"lessThan\" value=\"0\"/>"
      "<TreeModel functionName=\"regression\"><MiningSchema><MiningField name=\"a\"/></MiningSchema>"
      "<Node score=\"-1\"><True/></Node></TreeModel></Segment>"
      "<Segment><True/><TreeModel functionName=\"regression\"><MiningSchema><MiningField name=\"a\"/>"
      "</MiningSchema><Node score=\"1\"><True/></Node></TreeModel></Segment>";
  Model m = MustLoad(Doc(kFields, "<MiningModel functionName=\"regression\"><MiningSchema>"
                                  "<MiningField name=\"a\"/><MiningField name=\"y\" usageType=\"target\"/>"
                                  "</MiningSchema><Segmentation multipleModelMethod=\"selectFirst\">" +
                                  segs + "</Segmentation></MiningModel>"));
  EXPECT_DOUBLE_EQ(Num(Get(*m.ScoreOne({{"a", -5.0}}), "y")), -1);
  EXPECT_DOUBLE_EQ(Num(Get(*m.ScoreOne({{"a", 5.0}}), "y")), 1);
}

TEST(MiningModelTest, ModelChainPassesOutputsForward) {
  Model m = MustLoad(Doc(
      kFields,
      "<MiningModel functionName=\"regression\"><MiningSchema><MiningField name=\"a\"/>"
      "<MiningField name=\"y\" usageType=\"target\"/></MiningSchema>"
      "<Segmentation multipleModelMethod=\"modelChain\">"
      "<Segment><True/><TreeModel functionName=\"regression\"><MiningSchema><MiningField name=\"a\"/>"
      "</MiningSchema><Output><OutputField name=\"first\" feature=\"predictedValue\"/></Output>"
      "<Node score=\"3\"><True/></Node></TreeModel></Segment>"
      "<Segment><True/><RegressionModel functionName=\"regression\"><MiningSchema>"
      "<MiningField name=\"first\"/><MiningField name=\"a\"/></MiningSchema>"
      "<RegressionTable intercept=\"1\"><NumericPredictor name=\"first\" coefficient=\"2\"/>"
      "<NumericPredictor name=\"a\" coefficient=\"10\"/></RegressionTable></RegressionModel>"
      "</Segment></Segmentation></MiningModel>"));
  EXPECT_DOUBLE_EQ(Num(Get(*m.ScoreOne({{"a", 0.5}}), "y")), 1 + 6 + 5);
  // No Output on the top model: the last segment's output fields are exposed (here none), and
  // the first segment's "first" stays internal.
  EXPECT_EQ(m.outputs().size(), 1u);
}

TEST(MiningModelTest, SelectAllListsEverySegmentAndSegmentIdOutputsReachOne) {
  std::string segs = WithWeight(Leaf("1", "s1"), "1") + WithWeight(Leaf("2", "s2"), "1");
  Model m = MustLoad(Doc(kFields, "<MiningModel functionName=\"regression\"><MiningSchema>"
                                  "<MiningField name=\"a\"/><MiningField name=\"y\" usageType=\"target\"/>"
                                  "</MiningSchema><Output><OutputField name=\"second\" "
                                  "feature=\"predictedValue\" segmentId=\"s2\"/></Output>"
                                  "<Segmentation multipleModelMethod=\"selectAll\">" + segs +
                                  "</Segmentation></MiningModel>"));
  auto r = m.ScoreOne({{"a", 0.0}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Str(Get(*r, "y")), "[1, 2]");
  EXPECT_DOUBLE_EQ(Num(Get(*r, "second")), 2);
}

// RegressionModel normalizations on two tables (p: y = a, q: y = 0 unless stated).
double P(const std::string& norm, double a, const std::string& q_table = "") {
  std::string qt = q_table.empty() ? "<RegressionTable intercept=\"0\" targetCategory=\"q\"/>" : q_table;
  Model m = MustLoad(Doc(kFields, "<RegressionModel functionName=\"classification\" "
                                  "normalizationMethod=\"" + norm + "\"><MiningSchema>"
                                  "<MiningField name=\"a\"/><MiningField name=\"c\" usageType=\"target\"/>"
                                  "</MiningSchema><Output><OutputField name=\"pp\" feature=\"probability\" "
                                  "value=\"p\"/></Output><RegressionTable intercept=\"0\" targetCategory=\"p\">"
                                  "<NumericPredictor name=\"a\" coefficient=\"1\"/></RegressionTable>" + qt +
                                  "</RegressionModel>"));
  return Num(Get(*m.ScoreOne({{"a", a}}), "pp"));
}

TEST(RegressionModelTest, BinaryNormalizations) {
  const double x = 0.3;
  EXPECT_DOUBLE_EQ(P("logit", x), 1 / (1 + std::exp(-x)));
  EXPECT_DOUBLE_EQ(P("probit", x), 0.5 * std::erfc(-x / std::sqrt(2.0)));
  EXPECT_DOUBLE_EQ(P("cloglog", x), 1 - std::exp(-std::exp(x)));
  EXPECT_DOUBLE_EQ(P("loglog", x), std::exp(-std::exp(-x)));
  EXPECT_DOUBLE_EQ(P("cauchit", x), 0.5 + std::atan(x) / M_PI);
  EXPECT_DOUBLE_EQ(P("none", x), x);
  EXPECT_DOUBLE_EQ(P("none", 7), 1.0);  // clamped to [0, 1]
  // softmax with an empty second table is the binary logit (jpmml); with a real one, softmax.
  EXPECT_DOUBLE_EQ(P("softmax", x), 1 / (1 + std::exp(-x)));
  std::string q = "<RegressionTable intercept=\"0.5\" targetCategory=\"q\"/>";
  EXPECT_DOUBLE_EQ(P("softmax", x, q), std::exp(x) / (std::exp(x) + std::exp(0.5)));
  EXPECT_DOUBLE_EQ(P("simplemax", x, q), x / (x + 0.5));
}

TEST(RegressionModelTest, RegressionNormalizationsAndTerms) {
  auto value = [&](const std::string& norm) {
    Model m = MustLoad(Doc(kFields, "<RegressionModel functionName=\"regression\" "
                                    "normalizationMethod=\"" + norm + "\"><MiningSchema>"
                                    "<MiningField name=\"a\"/><MiningField name=\"c\"/>"
                                    "<MiningField name=\"y\" usageType=\"target\"/></MiningSchema>"
                                    "<RegressionTable intercept=\"0.5\">"
                                    "<NumericPredictor name=\"a\" exponent=\"2\" coefficient=\"2\"/>"
                                    "<CategoricalPredictor name=\"c\" value=\"q\" coefficient=\"1\"/>"
                                    "<PredictorTerm coefficient=\"3\"><FieldRef field=\"a\"/>"
                                    "<FieldRef field=\"a\"/></PredictorTerm></RegressionTable>"
                                    "</RegressionModel>"));
    return Num(Get(*m.ScoreOne({{"a", 0.5}, {"c", std::string("q")}}), "y"));
  };
  const double y = 2 * 0.25 + 1 + 3 * 0.25 + 0.5;
  EXPECT_DOUBLE_EQ(value("none"), y);
  EXPECT_DOUBLE_EQ(value("exp"), std::exp(y));
  EXPECT_DOUBLE_EQ(value("logit"), 1 / (1 + std::exp(-y)));
}

}  // namespace
}  // namespace fluxscore::testing
