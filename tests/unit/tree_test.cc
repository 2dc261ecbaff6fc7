// TreeModel semantics: predicates under three-valued logic, missing-value strategies,
// noTrueChildStrategy, score distributions, targets and outputs.
#include <gtest/gtest.h>

#include "test_util.h"

namespace fluxscore::testing {
namespace {

const char* kFields =
    "<DataField name=\"a\" optype=\"continuous\" dataType=\"double\"/>"
    "<DataField name=\"b\" optype=\"continuous\" dataType=\"double\"/>"
    "<DataField name=\"c\" optype=\"continuous\" dataType=\"double\"/>"
    "<DataField name=\"s\" optype=\"categorical\" dataType=\"string\"/>"
    "<DataField name=\"y\" optype=\"categorical\" dataType=\"string\"/>";
const char* kSchema =
    "<MiningSchema><MiningField name=\"a\"/><MiningField name=\"b\"/><MiningField name=\"c\"/>"
    "<MiningField name=\"s\"/><MiningField name=\"y\" usageType=\"target\"/></MiningSchema>";

// A tree whose first child carries `pred`: "T" when it is TRUE, else falls to "F" (True), and
// when the predicate is UNKNOWN under missingValueStrategy="nullPrediction" no prediction.
Model PredicateTree(const std::string& pred) {
  return MustLoad(Doc(kFields,
                      std::string("<TreeModel functionName=\"classification\" "
                                  "missingValueStrategy=\"nullPrediction\">") +
                          kSchema +
                          "<Node><True/><Node score=\"T\">" + pred +
                          "</Node><Node score=\"F\"><True/></Node></Node></TreeModel>"));
}

// "T", "F" or "U" (no prediction = the predicate was UNKNOWN).
std::string Eval(const Model& m, const Row& row) {
  auto r = m.ScoreOne(row);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  Value v = Get(*r, "y");
  return IsMissing(v) ? "U" : Str(v);
}

std::string Simple(const char* field, const char* op, const char* value) {
  return std::string("<SimplePredicate field=\"") + field + "\" operator=\"" + op +
         "\" value=\"" + value + "\"/>";
}

Value Tri(char t) {  // 'T' -> a=1 (a>0 TRUE), 'F' -> a=-1, 'U' -> missing
  return t == 'T' ? Value{1.0} : t == 'F' ? Value{-1.0} : Value{};
}

std::string Compound(const char* op, int n) {
  std::string s = std::string("<CompoundPredicate booleanOperator=\"") + op + "\">";
  const char* names[] = {"a", "b", "c"};
  for (int i = 0; i < n; ++i) s += Simple(names[i], "greaterThan", "0");
  return s + "</CompoundPredicate>";
}

void CheckTruthTable(const char* op, int n, const std::map<std::string, char>& table) {
  Model m = PredicateTree(Compound(op, n));
  for (const auto& [inputs, expected] : table) {
    Row row;
    const char* names[] = {"a", "b", "c"};
    for (int i = 0; i < n; ++i) row[names[i]] = Tri(inputs[static_cast<size_t>(i)]);
    EXPECT_EQ(Eval(m, row), std::string(1, expected)) << op << "(" << inputs << ")";
  }
}

TEST(PredicateTest, AndTruthTable) {
  CheckTruthTable("and", 2, {{"TT", 'T'}, {"TF", 'F'}, {"FT", 'F'}, {"FF", 'F'}, {"TU", 'U'},
                             {"UT", 'U'}, {"FU", 'F'}, {"UF", 'F'}, {"UU", 'U'}});
}

TEST(PredicateTest, OrTruthTable) {
  CheckTruthTable("or", 2, {{"TT", 'T'}, {"TF", 'T'}, {"FT", 'T'}, {"FF", 'F'}, {"TU", 'T'},
                            {"UT", 'T'}, {"FU", 'U'}, {"UF", 'U'}, {"UU", 'U'}});
}

TEST(PredicateTest, XorTruthTableThreeWay) {
  CheckTruthTable("xor", 3, {{"TTT", 'T'}, {"TTF", 'F'}, {"TFF", 'T'}, {"FFF", 'F'},
                             {"FTF", 'T'}, {"TUF", 'U'}, {"UFF", 'U'}});
}

TEST(PredicateTest, SurrogateTakesFirstKnownChild) {
  CheckTruthTable("surrogate", 3, {{"TFF", 'T'}, {"FTT", 'F'}, {"UTF", 'T'}, {"UFT", 'F'},
                                   {"UUT", 'T'}, {"UUF", 'F'}, {"UUU", 'U'}});
}

TEST(PredicateTest, TrueAndFalse) {
  EXPECT_EQ(Eval(PredicateTree("<True/>"), {}), "T");
  EXPECT_EQ(Eval(PredicateTree("<False/>"), {}), "F");
}

TEST(PredicateTest, SimplePredicateOperators) {
  struct Case { const char* op; double x; const char* expected; };
  for (const Case& c : {Case{"equal", 2, "T"}, Case{"equal", 3, "F"}, Case{"notEqual", 3, "T"},
                        Case{"lessThan", 1, "T"}, Case{"lessThan", 2, "F"},
                        Case{"lessOrEqual", 2, "T"}, Case{"greaterThan", 2, "F"},
                        Case{"greaterThan", 2.5, "T"}, Case{"greaterOrEqual", 2, "T"}}) {
    Model m = PredicateTree(Simple("a", c.op, "2"));
    EXPECT_EQ(Eval(m, {{"a", c.x}}), c.expected) << c.op << " " << c.x;
    EXPECT_EQ(Eval(m, {}), "U") << c.op << " with a missing value is UNKNOWN";
  }
}

TEST(PredicateTest, IsMissingAndIsNotMissingNeverUnknown) {
  Model m = PredicateTree("<SimplePredicate field=\"a\" operator=\"isMissing\"/>");
  EXPECT_EQ(Eval(m, {}), "T");
  EXPECT_EQ(Eval(m, {{"a", 1.0}}), "F");
  Model n = PredicateTree("<SimplePredicate field=\"a\" operator=\"isNotMissing\"/>");
  EXPECT_EQ(Eval(n, {}), "F");
  EXPECT_EQ(Eval(n, {{"a", 1.0}}), "T");
}

TEST(PredicateTest, IsInAndIsNotInWithQuotedEntriesAndMissing) {
  const char* arr = "<Array n=\"3\" type=\"string\">red \"dark blue\" \"say \\\"hi\\\"\"</Array>";
  Model in = PredicateTree(std::string("<SimpleSetPredicate field=\"s\" booleanOperator=\"isIn\">") +
                           arr + "</SimpleSetPredicate>");
  EXPECT_EQ(Eval(in, {{"s", std::string("red")}}), "T");
  EXPECT_EQ(Eval(in, {{"s", std::string("dark blue")}}), "T");
  EXPECT_EQ(Eval(in, {{"s", std::string("say \"hi\"")}}), "T");
  EXPECT_EQ(Eval(in, {{"s", std::string("dark")}}), "F");
  EXPECT_EQ(Eval(in, {}), "U");
  Model out = PredicateTree(
      std::string("<SimpleSetPredicate field=\"s\" booleanOperator=\"isNotIn\">") + arr +
      "</SimpleSetPredicate>");
  EXPECT_EQ(Eval(out, {{"s", std::string("red")}}), "F");
  EXPECT_EQ(Eval(out, {{"s", std::string("green")}}), "T");
  EXPECT_EQ(Eval(out, {}), "U");
}

TEST(PredicateTest, IsInOverNumbers) {
  Model m = PredicateTree(
      "<SimpleSetPredicate field=\"a\" booleanOperator=\"isIn\"><Array type=\"real\">1.5 2 "
      "-3e0</Array></SimpleSetPredicate>");
  EXPECT_EQ(Eval(m, {{"a", 2.0}}), "T");
  EXPECT_EQ(Eval(m, {{"a", -3.0}}), "T");
  EXPECT_EQ(Eval(m, {{"a", 2.5}}), "F");
}

// ------------------------------------------------------------------ missing value strategies
// root(True, score R) -> [n1: a>0 score A1 (rc 60) -> [leaf a>5 "X" | leaf True "Y"]] ,
//                        [n2: a<=0 score B (rc 40)]
std::string StrategyDoc(const std::string& attrs) {
  return Doc(kFields,
             "<TreeModel functionName=\"classification\" " + attrs + ">" + kSchema +
                 "<Output><OutputField name=\"conf\" feature=\"confidence\"/>"
                 "<OutputField name=\"node\" feature=\"entityId\"/>"
                 "<OutputField name=\"pX\" feature=\"probability\" value=\"X\"/></Output>"
                 "<Node id=\"r\" score=\"R\" recordCount=\"100\" defaultChild=\"n2\"><True/>"
                 "<ScoreDistribution value=\"X\" recordCount=\"50\" confidence=\"0.5\"/>"
                 "<ScoreDistribution value=\"Y\" recordCount=\"50\" confidence=\"0.5\"/>"
                 "<Node id=\"n1\" score=\"X\" recordCount=\"60\">" +
                 Simple("a", "greaterThan", "0") +
                 "<ScoreDistribution value=\"X\" recordCount=\"45\" confidence=\"0.75\"/>"
                 "<ScoreDistribution value=\"Y\" recordCount=\"15\" confidence=\"0.25\"/>"
                 "</Node>"
                 "<Node id=\"n2\" score=\"Y\" recordCount=\"40\">" +
                 Simple("a", "lessOrEqual", "0") +
                 "<ScoreDistribution value=\"X\" recordCount=\"10\" confidence=\"0.25\"/>"
                 "<ScoreDistribution value=\"Y\" recordCount=\"30\" confidence=\"0.75\"/>"
                 "</Node></Node></TreeModel>");
}

TEST(MissingValueStrategyTest, NoneFallsToNoTrueChildStrategy) {
  Model m = MustLoad(StrategyDoc("missingValueStrategy=\"none\""));
  auto r = m.ScoreOne({});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(IsMissing(Get(*r, "y")));  // returnNullPrediction by default
  Model last = MustLoad(
      StrategyDoc("missingValueStrategy=\"none\" noTrueChildStrategy=\"returnLastPrediction\""));
  auto r2 = last.ScoreOne({});
  EXPECT_EQ(Str(Get(*r2, "y")), "R");
  EXPECT_EQ(Str(Get(*r2, "node")), "r");
}

TEST(MissingValueStrategyTest, LastPredictionReturnsParent) {
  Model m = MustLoad(StrategyDoc("missingValueStrategy=\"lastPrediction\""));
  auto r = m.ScoreOne({});
  EXPECT_EQ(Str(Get(*r, "y")), "R");
  EXPECT_DOUBLE_EQ(Num(Get(*r, "pX")), 0.5);
  auto known = m.ScoreOne({{"a", 1.0}});
  EXPECT_EQ(Str(Get(*known, "y")), "X");
  EXPECT_DOUBLE_EQ(Num(Get(*known, "pX")), 0.75);
}

TEST(MissingValueStrategyTest, NullPredictionGivesNoResult) {
  Model m = MustLoad(StrategyDoc("missingValueStrategy=\"nullPrediction\""));
  auto r = m.ScoreOne({});
  EXPECT_TRUE(IsMissing(Get(*r, "y")));
  EXPECT_TRUE(IsMissing(Get(*r, "conf")));
}

TEST(MissingValueStrategyTest, DefaultChildAppliesPenaltyPerLevel) {
  Model m = MustLoad(
      StrategyDoc("missingValueStrategy=\"defaultChild\" missingValuePenalty=\"0.8\""));
  auto r = m.ScoreOne({});
  EXPECT_EQ(Str(Get(*r, "y")), "Y");
  EXPECT_EQ(Str(Get(*r, "node")), "n2");
  EXPECT_DOUBLE_EQ(Num(Get(*r, "conf")), 0.75 * 0.8);
  auto known = m.ScoreOne({{"a", 1.0}});
  EXPECT_DOUBLE_EQ(Num(Get(*known, "conf")), 0.75);
}

TEST(MissingValueStrategyTest, WeightedConfidenceWeighsUnknownChildrenByRecords) {
  Model m = MustLoad(StrategyDoc("missingValueStrategy=\"weightedConfidence\""));
  auto r = m.ScoreOne({});
  // X: 0.75*60/100 + 0.25*40/100 = 0.55; Y: 0.25*0.6 + 0.75*0.4 = 0.45
  EXPECT_EQ(Str(Get(*r, "y")), "X");
  EXPECT_NEAR(Num(Get(*r, "conf")), 0.55, 1e-15);
}

TEST(MissingValueStrategyTest, AggregateNodesSumsLeafRecordCounts) {
  Model m = MustLoad(StrategyDoc("missingValueStrategy=\"aggregateNodes\""));
  auto r = m.ScoreOne({});
  // X: 45 + 10 = 55, Y: 15 + 30 = 45 of 100
  EXPECT_EQ(Str(Get(*r, "y")), "X");
  EXPECT_NEAR(Num(Get(*r, "conf")), 0.55, 1e-15);
  EXPECT_NEAR(Num(Get(*r, "pX")), 0.55, 1e-15);
}

TEST(TreeTest, ProbabilitiesFromRecordCountsAndDefaultEntityIds) {
  Model m = MustLoad(Doc(kFields, std::string("<TreeModel functionName=\"classification\">") +
                                      kSchema +
                                      "<Output><OutputField name=\"p\" feature=\"probability\"/>"
                                      "<OutputField name=\"id\" feature=\"entityId\"/></Output>"
                                      "<Node><True/><Node>" + Simple("a", "lessThan", "0") +
                                      "<ScoreDistribution value=\"X\" recordCount=\"1\"/>"
                                      "<ScoreDistribution value=\"Y\" recordCount=\"3\"/></Node>"
                                      "<Node score=\"X\"><True/></Node></Node></TreeModel>"));
  auto r = m.ScoreOne({{"a", -1.0}});
  EXPECT_EQ(Str(Get(*r, "y")), "Y");  // no score: the most probable class
  EXPECT_DOUBLE_EQ(Num(Get(*r, "p")), 0.75);
  EXPECT_EQ(Str(Get(*r, "id")), "2");  // implicit ids: depth-first position
  auto r2 = m.ScoreOne({{"a", 1.0}});
  EXPECT_EQ(Str(Get(*r2, "id")), "3");
}

TEST(TreeTest, RootPredicateFalseGivesNoPrediction) {
  Model m = PredicateTree("<True/>");
  Model f = MustLoad(Doc(kFields, std::string("<TreeModel functionName=\"classification\">") +
                                      kSchema + "<Node score=\"A\"><False/></Node></TreeModel>"));
  auto r = f.ScoreOne({});
  EXPECT_TRUE(IsMissing(Get(*r, "y")));
}

TEST(TreeTest, RegressionWithTargetsRescaleClampAndCast) {
  const char* fields =
      "<DataField name=\"a\" optype=\"continuous\" dataType=\"double\"/>"
      "<DataField name=\"y\" optype=\"continuous\" dataType=\"double\"/>";
  Model m = MustLoad(Doc(
      fields,
      "<TreeModel functionName=\"regression\"><MiningSchema><MiningField name=\"a\"/>"
      "<MiningField name=\"y\" usageType=\"target\"/></MiningSchema>"
      "<Targets><Target field=\"y\" min=\"0\" max=\"10\" rescaleFactor=\"2\" "
      "rescaleConstant=\"0.5\" castInteger=\"floor\"/></Targets>"
      "<Node><True/><Node score=\"3.3\">" + Simple("a", "lessThan", "0") +
      "</Node><Node score=\"42\"><True/></Node></Node></TreeModel>"));
  EXPECT_DOUBLE_EQ(Num(Get(*m.ScoreOne({{"a", -1.0}}), "y")), 7.0);   // floor(3.3*2+0.5)
  EXPECT_DOUBLE_EQ(Num(Get(*m.ScoreOne({{"a", 1.0}}), "y")), 20.0);   // clamp 10, *2 + .5, floor
}

TEST(TreeTest, MillionDeepTreeScoresWithoutStackOverflow) {
  const int depth = 1000000;
  std::string xml;
  xml.reserve(static_cast<size_t>(depth) * 80);
  xml += "<PMML xmlns=\"http://www.dmg.org/PMML-4_4\" version=\"4.4\"><DataDictionary>"
         "<DataField name=\"a\" optype=\"continuous\" dataType=\"double\"/>"
         "<DataField name=\"y\" optype=\"continuous\" dataType=\"double\"/></DataDictionary>"
         "<TreeModel functionName=\"regression\"><MiningSchema><MiningField name=\"a\"/>"
         "<MiningField name=\"y\" usageType=\"target\"/></MiningSchema>";
  for (int i = 0; i < depth; ++i) xml += "<Node score=\"1\"><True/>";
  xml += "<Node score=\"7\"><True/></Node>";
  for (int i = 0; i < depth; ++i) xml += "</Node>";
  xml += "</TreeModel></PMML>";
  auto m = pmml::Model::LoadString(xml, "deep.pmml");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto r = m->ScoreOne({{"a", 1.0}});
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(Num(Get(*r, "y")), 7.0);
}

}  // namespace
}  // namespace fluxscore::testing
