// Model::TreeNodes and Model::DecisionPaths: the explanation API of TreeModels.
#include <gtest/gtest.h>

#include "fluxscore/table.h"
#include "test_util.h"

namespace fluxscore::testing {
namespace {

const char* kFields =
    "<DataField name=\"asns\" optype=\"continuous\" dataType=\"double\"/>"
    "<DataField name=\"ttl\" optype=\"continuous\" dataType=\"float\"/>"
    "<DataField name=\"tld\" optype=\"categorical\" dataType=\"string\">"
    "<Value value=\"com\"/><Value value=\"ru\"/></DataField>"
    "<DataField name=\"y\" optype=\"categorical\" dataType=\"string\">"
    "<Value value=\"benign\"/><Value value=\"flux\"/></DataField>";

std::string Tree(const std::string& strategy) {
  return "<TreeModel functionName=\"classification\" missingValueStrategy=\"" + strategy + "\">"
         "<MiningSchema><MiningField name=\"asns\"/><MiningField name=\"ttl\"/>"
         "<MiningField name=\"tld\"/><MiningField name=\"y\" usageType=\"target\"/></MiningSchema>"
         "<Node id=\"root\"><True/>"
         " <Node id=\"few\" score=\"benign\" recordCount=\"90\">"
         "  <SimplePredicate field=\"asns\" operator=\"lessOrEqual\" value=\"12.5\"/>"
         "  <ScoreDistribution value=\"benign\" recordCount=\"88\"/>"
         "  <ScoreDistribution value=\"flux\" recordCount=\"2\"/></Node>"
         " <Node id=\"many\"><SimplePredicate field=\"asns\" operator=\"greaterThan\" value=\"12.5\"/>"
         "  <Node id=\"short\" score=\"flux\"><CompoundPredicate booleanOperator=\"and\">"
         "    <SimplePredicate field=\"ttl\" operator=\"lessOrEqual\" value=\"0.3\"/>"
         "    <SimpleSetPredicate field=\"tld\" booleanOperator=\"isIn\"><Array type=\"string\">ru com</Array></SimpleSetPredicate>"
         "   </CompoundPredicate></Node>"
         "  <Node id=\"long\" score=\"benign\"><True/></Node>"
         " </Node>"
         "</Node></TreeModel>";
}

TEST(ExplainTest, TreeNodesDescribeConditionsAndLeaves) {
  Model m = MustLoad(Doc(kFields, Tree("nullPrediction")));
  auto nodes = m.TreeNodes();
  ASSERT_TRUE(nodes.ok()) << nodes.status().ToString();
  ASSERT_EQ(nodes->size(), 5u);
  const auto& n = *nodes;
  EXPECT_EQ(n[0].parent, -1);
  EXPECT_EQ(n[0].condition, "");
  EXPECT_FALSE(n[0].leaf);
  // Find nodes by condition (the plan keeps children after their parent).
  int few = -1, shortn = -1;
  for (size_t i = 0; i < n.size(); ++i) {
    if (n[i].condition == "asns \xe2\x89\xa4 12.5") few = static_cast<int>(i);
    if (n[i].condition.find("ttl") != std::string::npos) shortn = static_cast<int>(i);
  }
  ASSERT_GE(few, 0);
  ASSERT_GE(shortn, 0);
  EXPECT_EQ(n[few].field, "asns");
  EXPECT_TRUE(n[few].leaf);
  EXPECT_EQ(n[few].score, "benign");
  EXPECT_EQ(n[few].depth, 1);
  EXPECT_DOUBLE_EQ(n[few].record_count, 90);
  ASSERT_EQ(n[few].distribution.size(), 2u);
  EXPECT_EQ(n[few].distribution[1].first, "flux");
  EXPECT_DOUBLE_EQ(n[few].distribution[1].second, 2);
  // float32 thresholds print in their short form; sets list their members; compound in parens.
  EXPECT_EQ(n[shortn].condition, "(ttl \xe2\x89\xa4 0.3 and tld in {com, ru})");
  EXPECT_EQ(n[shortn].depth, 2);
  EXPECT_EQ(n[shortn].field, "");
}

TEST(ExplainTest, DecisionPathsFollowEachRow) {
  Model m = MustLoad(Doc(kFields, Tree("nullPrediction")));
  auto nodes = m.TreeNodes();
  ASSERT_TRUE(nodes.ok());
  Table t;
  t.AddColumn(Column::Numeric("asns", {3, 40, 40, NAN}));
  t.AddColumn(Column::Numeric("ttl", {60, 0.25, 600, 60}));
  Column tld = Column::String("tld");
  tld.AppendString("com");
  tld.AppendString("ru");
  tld.AppendString("ru");
  tld.AppendString("com");
  t.AddColumn(std::move(tld));
  auto paths = m.DecisionPaths(t);
  ASSERT_TRUE(paths.ok()) << paths.status().ToString();
  ASSERT_EQ(paths->size(), 4u);
  auto conds = [&](const std::vector<int32_t>& p) {
    std::vector<std::string> c;
    for (int32_t i : p) c.push_back((*nodes)[static_cast<size_t>(i)].condition);
    return c;
  };
  EXPECT_EQ(conds((*paths)[0]), (std::vector<std::string>{"", "asns \xe2\x89\xa4 12.5"}));
  EXPECT_EQ(conds((*paths)[1]), (std::vector<std::string>{
                                    "", "asns > 12.5", "(ttl \xe2\x89\xa4 0.3 and tld in {com, ru})"}));
  EXPECT_EQ(conds((*paths)[2]), (std::vector<std::string>{"", "asns > 12.5", ""}));
  EXPECT_TRUE((*nodes)[static_cast<size_t>((*paths)[2].back())].leaf);
  // nullPrediction on a missing asns: no prediction, no path.
  EXPECT_TRUE((*paths)[3].empty());
  // The paths end where Score's prediction comes from.
  auto scored = m.Score(t);
  ASSERT_TRUE(scored.ok());
  const Column& y = scored->outputs.columns()[0];
  for (size_t r = 0; r < 3; ++r)
    EXPECT_EQ(y.CellText(r), (*nodes)[static_cast<size_t>((*paths)[r].back())].score) << r;
}

TEST(ExplainTest, LastPredictionStopsAtTheUndecidedNode) {
  Model m = MustLoad(Doc(kFields, Tree("lastPrediction")));
  auto nodes = m.TreeNodes();
  Table t;
  t.AddColumn(Column::Numeric("asns", {NAN}));
  t.AddColumn(Column::Numeric("ttl", {60}));
  auto paths = m.DecisionPaths(t);
  ASSERT_TRUE(paths.ok());
  // The root has no score: lastPrediction at the root gives no prediction, so no path.
  EXPECT_TRUE((*paths)[0].empty());
}

TEST(ExplainTest, NonTreeModelsAreRefused) {
  Model m = MustLoad(Doc(
      "<DataField name=\"x\" optype=\"continuous\" dataType=\"double\"/>"
      "<DataField name=\"y\" optype=\"continuous\" dataType=\"double\"/>",
      "<RegressionModel functionName=\"regression\"><MiningSchema><MiningField name=\"x\"/>"
      "<MiningField name=\"y\" usageType=\"target\"/></MiningSchema>"
      "<RegressionTable intercept=\"1\"><NumericPredictor name=\"x\" coefficient=\"2\"/>"
      "</RegressionTable></RegressionModel>"));
  EXPECT_FALSE(m.TreeNodes().ok());
  Table t;
  t.AddColumn(Column::Numeric("x", {1}));
  auto p = m.DecisionPaths(t);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("not a TreeModel"), std::string::npos);
}

}  // namespace
}  // namespace fluxscore::testing
