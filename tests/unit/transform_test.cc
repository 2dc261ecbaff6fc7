// Transformations: DerivedField expressions (Constant, FieldRef, NormContinuous, NormDiscrete,
// Discretize, MapValues, Apply), DefineFunction, LocalTransformations, and the missing/invalid
// handling attributes (mapMissingTo, defaultValue, invalidValueTreatment).
#include <gtest/gtest.h>

#include "test_util.h"

namespace fluxscore::testing {
namespace {

// A model whose output "out" is the value of the derived field `d` defined by `derived`
// (plus any extra TransformationDictionary content).
Model DerivedModel(const std::string& derived, const std::string& extra = "",
                   const std::string& local = "", const std::string& out_type = "double") {
  std::string xml =
      "<PMML xmlns=\"http://www.dmg.org/PMML-4_4\" version=\"4.4\"><DataDictionary>"
      "<DataField name=\"a\" optype=\"continuous\" dataType=\"double\"/>"
      "<DataField name=\"b\" optype=\"continuous\" dataType=\"double\"/>"
      "<DataField name=\"s\" optype=\"categorical\" dataType=\"string\"/>"
      "<DataField name=\"y\" optype=\"continuous\" dataType=\"double\"/></DataDictionary>"
      "<TransformationDictionary>" + extra + derived + "</TransformationDictionary>"
      "<TreeModel functionName=\"regression\"><MiningSchema><MiningField name=\"a\"/>"
      "<MiningField name=\"b\"/><MiningField name=\"s\"/>"
      "<MiningField name=\"y\" usageType=\"target\"/></MiningSchema>"
      "<Output><OutputField name=\"out\" feature=\"transformedValue\" dataType=\"" + out_type +
      "\"><FieldRef field=\"d\"/></OutputField></Output>" + local +
      "<Node score=\"0\"><True/></Node></TreeModel></PMML>";
  return MustLoad(xml);
}

std::string Derived(const std::string& expr, const std::string& type = "double") {
  return "<DerivedField name=\"d\" optype=\"continuous\" dataType=\"" + type + "\">" + expr +
         "</DerivedField>";
}

Value Out(const Model& m, const Row& row) {
  auto r = m.ScoreOne(row);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? Get(*r, "out") : Value{};
}

TEST(TransformTest, ConstantAndFieldRefWithMapMissingTo) {
  EXPECT_DOUBLE_EQ(Num(Out(DerivedModel(Derived("<Constant dataType=\"double\">2.5</Constant>")), {})), 2.5);
  Model m = DerivedModel(Derived("<FieldRef field=\"a\" mapMissingTo=\"-1\"/>"));
  EXPECT_DOUBLE_EQ(Num(Out(m, {{"a", 3.0}})), 3);
  EXPECT_DOUBLE_EQ(Num(Out(m, {})), -1);
}

TEST(TransformTest, NormContinuousInterpolatesAndTreatsOutliers) {
  const std::string pts = "<LinearNorm orig=\"0\" norm=\"0\"/><LinearNorm orig=\"10\" norm=\"1\"/>"
                          "<LinearNorm orig=\"20\" norm=\"3\"/>";
  Model asis = DerivedModel(Derived("<NormContinuous field=\"a\" mapMissingTo=\"9\">" + pts + "</NormContinuous>"));
  EXPECT_DOUBLE_EQ(Num(Out(asis, {{"a", 5.0}})), 0.5);
  EXPECT_DOUBLE_EQ(Num(Out(asis, {{"a", 15.0}})), 2.0);
  EXPECT_DOUBLE_EQ(Num(Out(asis, {{"a", 30.0}})), 5.0);   // extrapolated from the last segment
  EXPECT_DOUBLE_EQ(Num(Out(asis, {{"a", -10.0}})), -1.0);
  EXPECT_DOUBLE_EQ(Num(Out(asis, {})), 9.0);
  Model miss = DerivedModel(Derived("<NormContinuous field=\"a\" outliers=\"asMissingValues\">" + pts + "</NormContinuous>"));
  EXPECT_TRUE(IsMissing(Out(miss, {{"a", 30.0}})));
  Model ext = DerivedModel(Derived("<NormContinuous field=\"a\" outliers=\"asExtremeValues\">" + pts + "</NormContinuous>"));
  EXPECT_DOUBLE_EQ(Num(Out(ext, {{"a", 30.0}})), 3.0);
  EXPECT_DOUBLE_EQ(Num(Out(ext, {{"a", -30.0}})), 0.0);
}

TEST(TransformTest, NormDiscreteIndicator) {
  Model m = DerivedModel(Derived("<NormDiscrete field=\"s\" value=\"red\" mapMissingTo=\"0.5\"/>"));
  EXPECT_DOUBLE_EQ(Num(Out(m, {{"s", std::string("red")}})), 1);
  EXPECT_DOUBLE_EQ(Num(Out(m, {{"s", std::string("blue")}})), 0);
  EXPECT_DOUBLE_EQ(Num(Out(m, {})), 0.5);
}

TEST(TransformTest, DiscretizeBinsDefaultAndMissing) {
  Model m = DerivedModel(Derived(
      "<Discretize field=\"a\" mapMissingTo=\"none\" defaultValue=\"other\">"
      "<DiscretizeBin binValue=\"low\"><Interval closure=\"openOpen\" rightMargin=\"0\"/></DiscretizeBin>"
      "<DiscretizeBin binValue=\"mid\"><Interval closure=\"closedOpen\" leftMargin=\"0\" rightMargin=\"10\"/></DiscretizeBin>"
      "</Discretize>", "string"), "", "", "string");
  EXPECT_EQ(Str(Out(m, {{"a", -1.0}})), "low");
  EXPECT_EQ(Str(Out(m, {{"a", 0.0}})), "mid");
  EXPECT_EQ(Str(Out(m, {{"a", 10.0}})), "other");
  EXPECT_EQ(Str(Out(m, {})), "none");
}

TEST(TransformTest, MapValuesOverTwoColumns) {
  Model m = DerivedModel(Derived(
      "<MapValues outputColumn=\"out\" defaultValue=\"-1\" mapMissingTo=\"-2\" dataType=\"double\">"
      "<FieldColumnPair field=\"s\" column=\"colour\"/><FieldColumnPair field=\"a\" column=\"size\"/>"
      "<InlineTable><row><colour>red</colour><size>1</size><out>10</out></row>"
      "<row><colour>red</colour><size>2</size><out>20</out></row>"
      "<row><colour>blue</colour><size>1</size><out>30</out></row></InlineTable></MapValues>"));
  EXPECT_DOUBLE_EQ(Num(Out(m, {{"s", std::string("red")}, {"a", 2.0}})), 20);
  EXPECT_DOUBLE_EQ(Num(Out(m, {{"s", std::string("blue")}, {"a", 1.0}})), 30);
  EXPECT_DOUBLE_EQ(Num(Out(m, {{"s", std::string("blue")}, {"a", 2.0}})), -1);
  EXPECT_DOUBLE_EQ(Num(Out(m, {{"s", std::string("red")}})), -2);
}

TEST(TransformTest, ApplyMapMissingToAndDefaultValue) {
  Model m = DerivedModel(Derived(
      "<Apply function=\"+\" mapMissingTo=\"100\"><FieldRef field=\"a\"/><FieldRef field=\"b\"/></Apply>"));
  EXPECT_DOUBLE_EQ(Num(Out(m, {{"a", 1.0}, {"b", 2.0}})), 3);
  EXPECT_DOUBLE_EQ(Num(Out(m, {{"a", 1.0}})), 100);
  // defaultValue replaces a missing result (here: if without else and a false condition).
  Model d = DerivedModel(Derived(
      "<Apply function=\"if\" defaultValue=\"7\"><Apply function=\"greaterThan\">"
      "<FieldRef field=\"a\"/><Constant>0</Constant></Apply><Constant>1</Constant></Apply>"));
  EXPECT_DOUBLE_EQ(Num(Out(d, {{"a", 5.0}})), 1);
  EXPECT_DOUBLE_EQ(Num(Out(d, {{"a", -5.0}})), 7);
}

TEST(TransformTest, ApplyInvalidValueTreatment) {
  const std::string ln = "<Apply function=\"ln\" invalidValueTreatment=\"%s\"><FieldRef field=\"a\"/></Apply>";
  auto with = [&](const std::string& t) {
    std::string e = ln;
    e.replace(e.find("%s"), 2, t);
    return DerivedModel(Derived(e));
  };
  EXPECT_TRUE(IsMissing(Out(with("asMissing"), {{"a", -1.0}})));
  auto r = with("returnInvalid").ScoreOne({{"a", -1.0}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("function 'ln' returned an invalid result"), std::string::npos);
  EXPECT_NEAR(Num(Out(with("returnInvalid"), {{"a", 1.0}})), 0.0, 0);
}

TEST(TransformTest, IfEvaluatesOnlyTheTakenBranch) {
  // ln(-1) in the untaken branch must not invalidate the row.
  Model m = DerivedModel(Derived(
      "<Apply function=\"if\"><Apply function=\"isMissing\"><FieldRef field=\"b\"/></Apply>"
      "<Constant>0</Constant><Apply function=\"ln\"><FieldRef field=\"b\"/></Apply></Apply>"));
  EXPECT_DOUBLE_EQ(Num(Out(m, {})), 0);
  EXPECT_NEAR(Num(Out(m, {{"b", 1.0}})), 0.0, 0);
}

TEST(TransformTest, DefineFunctionIsInlined) {
  const std::string fn =
      "<DefineFunction name=\"scale\" optype=\"continuous\" dataType=\"double\">"
      "<ParameterField name=\"x\"/><ParameterField name=\"k\"/>"
      "<Apply function=\"*\"><FieldRef field=\"x\"/><FieldRef field=\"k\"/></Apply></DefineFunction>";
  Model m = DerivedModel(Derived("<Apply function=\"scale\"><FieldRef field=\"a\"/><Constant>3</Constant></Apply>"), fn);
  EXPECT_DOUBLE_EQ(Num(Out(m, {{"a", 2.0}})), 6);
}

TEST(TransformTest, DefineFunctionBodyCannotSeeFields) {
  const std::string fn =
      "<DefineFunction name=\"leak\" optype=\"continuous\" dataType=\"double\">"
      "<ParameterField name=\"x\"/><FieldRef field=\"a\"/></DefineFunction>";
  std::string xml = "<PMML xmlns=\"http://www.dmg.org/PMML-4_4\" version=\"4.4\"><DataDictionary>"
                    "<DataField name=\"a\" optype=\"continuous\" dataType=\"double\"/>"
                    "<DataField name=\"y\" optype=\"continuous\" dataType=\"double\"/></DataDictionary>"
                    "<TransformationDictionary>" + fn +
                    "<DerivedField name=\"d\" optype=\"continuous\" dataType=\"double\"><Apply "
                    "function=\"leak\"><FieldRef field=\"a\"/></Apply></DerivedField>"
                    "</TransformationDictionary><TreeModel functionName=\"regression\"><MiningSchema>"
                    "<MiningField name=\"a\"/><MiningField name=\"y\" usageType=\"target\"/></MiningSchema>"
                    "<Node score=\"0\"><SimplePredicate field=\"d\" operator=\"equal\" value=\"1\"/></Node>"
                    "</TreeModel></PMML>";
  Status s = LoadError(xml);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'a' is not a parameter of the function"), std::string::npos) << s.message();
}

TEST(TransformTest, LocalTransformationsOverrideGlobal) {
  Model m = DerivedModel(Derived("<Constant>1</Constant>"), "",
                         "<LocalTransformations>" + Derived("<Constant>2</Constant>") +
                             "</LocalTransformations>");
  EXPECT_DOUBLE_EQ(Num(Out(m, {})), 2);
}

TEST(TransformTest, DerivedFieldTypeConversionToString) {
  Model m = DerivedModel(Derived("<FieldRef field=\"a\"/>", "string"), "", "", "string");
  EXPECT_EQ(Str(Out(m, {{"a", 3.0}})), "3");
  EXPECT_EQ(Str(Out(m, {{"a", 2.5}})), "2.5");
}

TEST(TransformTest, DerivedFieldsChainInDependencyOrder) {
  Model m = DerivedModel(
      Derived("<Apply function=\"*\"><FieldRef field=\"e\"/><Constant>2</Constant></Apply>"),
      "<DerivedField name=\"e\" optype=\"continuous\" dataType=\"double\"><Apply function=\"+\">"
      "<FieldRef field=\"a\"/><Constant>1</Constant></Apply></DerivedField>");
  EXPECT_DOUBLE_EQ(Num(Out(m, {{"a", 4.0}})), 10);
}

TEST(TransformTest, UnknownFunctionIsUnsupportedAtLoad) {
  Status s = LoadError(
      "<PMML xmlns=\"http://www.dmg.org/PMML-4_4\" version=\"4.4\"><DataDictionary>"
      "<DataField name=\"a\" optype=\"continuous\" dataType=\"double\"/>"
      "<DataField name=\"y\" optype=\"continuous\" dataType=\"double\"/></DataDictionary>"
      "<TransformationDictionary><DerivedField name=\"d\" optype=\"continuous\" dataType=\"double\">"
      "<Apply function=\"frobnicate\"><FieldRef field=\"a\"/></Apply></DerivedField>"
      "</TransformationDictionary><TreeModel functionName=\"regression\"><MiningSchema>"
      "<MiningField name=\"a\"/><MiningField name=\"y\" usageType=\"target\"/></MiningSchema>"
      "<Node score=\"0\"><SimplePredicate field=\"d\" operator=\"equal\" value=\"1\"/></Node>"
      "</TreeModel></PMML>");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kUnsupported);
  EXPECT_NE(s.message().find("frobnicate"), std::string::npos);
}

}  // namespace
}  // namespace fluxscore::testing
