// DataDictionary validity and MiningSchema treatments: missingValueReplacement,
// invalidValueTreatment (returnInvalid/asIs/asMissing/asValue), outliers, float fields,
// usageType="predicted" (PMML 3.x).
#include <gtest/gtest.h>

#include "test_util.h"

namespace fluxscore::testing {
namespace {

// Regression tree that echoes which branch the input took: a<0 -> -1, a>=0 -> 1,
// a missing -> 0 (isMissing branch first).
Model EchoModel(const std::string& field_decl, const std::string& mining_attrs) {
  return MustLoad(Doc(
      field_decl + "<DataField name=\"y\" optype=\"continuous\" dataType=\"double\"/>",
      "<TreeModel functionName=\"regression\"><MiningSchema><MiningField name=\"a\" " +
          mining_attrs +
          "/><MiningField name=\"y\" usageType=\"target\"/></MiningSchema>"
          "<Output><OutputField name=\"a_seen\" feature=\"transformedValue\">"
          "<FieldRef field=\"a\"/></OutputField></Output>"
          "<Node><True/>"
          "<Node score=\"0\"><SimplePredicate field=\"a\" operator=\"isMissing\"/></Node>"
          "<Node score=\"-1\"><SimplePredicate field=\"a\" operator=\"lessThan\" value=\"0\"/></Node>"
          "<Node score=\"1\"><True/></Node></Node></TreeModel>"));
}

const std::string kRanged =
    "<DataField name=\"a\" optype=\"continuous\" dataType=\"double\">"
    "<Interval closure=\"closedClosed\" leftMargin=\"-10\" rightMargin=\"10\"/></DataField>";

TEST(MiningSchemaTest, MissingValueReplacement) {
  Model m = EchoModel(kRanged, "missingValueReplacement=\"-5\"");
  auto r = m.ScoreOne({});
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(Num(Get(*r, "a_seen")), -5);
  EXPECT_DOUBLE_EQ(Num(Get(*r, "y")), -1);
}

TEST(MiningSchemaTest, InvalidValueReturnInvalidIsARowError) {
  Model m = EchoModel(kRanged, "");
  auto r = m.ScoreOne({{"a", 50.0}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kDataError);
  EXPECT_NE(r.status().message().find("invalid value '50' for field 'a'"), std::string::npos);
}

TEST(MiningSchemaTest, InvalidValueAsIsKeepsTheValue) {
  Model m = EchoModel(kRanged, "invalidValueTreatment=\"asIs\"");
  auto r = m.ScoreOne({{"a", 50.0}});
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(Num(Get(*r, "a_seen")), 50);
  EXPECT_DOUBLE_EQ(Num(Get(*r, "y")), 1);
}

TEST(MiningSchemaTest, InvalidValueAsMissingThenReplaced) {
  Model m = EchoModel(kRanged, "invalidValueTreatment=\"asMissing\"");
  auto r = m.ScoreOne({{"a", 50.0}});
  EXPECT_DOUBLE_EQ(Num(Get(*r, "y")), 0);
  Model rep = EchoModel(kRanged, "invalidValueTreatment=\"asMissing\" missingValueReplacement=\"-2\"");
  EXPECT_DOUBLE_EQ(Num(Get(*rep.ScoreOne({{"a", 50.0}}), "a_seen")), -2);
}

TEST(MiningSchemaTest, InvalidValueAsValue) {
  Model m = EchoModel(kRanged, "invalidValueTreatment=\"asValue\" invalidValueReplacement=\"-3\"");
  EXPECT_DOUBLE_EQ(Num(Get(*m.ScoreOne({{"a", 50.0}}), "a_seen")), -3);
}

TEST(MiningSchemaTest, NonNumericTextForNumericFieldIsInvalid) {
  Model m = EchoModel(kRanged, "invalidValueTreatment=\"asMissing\"");
  EXPECT_DOUBLE_EQ(Num(Get(*m.ScoreOne({{"a", std::string("abc")}}), "y")), 0);
}

TEST(MiningSchemaTest, OutliersAsMissingValuesAndAsExtremeValues) {
  const std::string plain = "<DataField name=\"a\" optype=\"continuous\" dataType=\"double\"/>";
  Model miss = EchoModel(plain, "outliers=\"asMissingValues\" lowValue=\"-1\" highValue=\"1\"");
  EXPECT_DOUBLE_EQ(Num(Get(*miss.ScoreOne({{"a", -4.0}}), "y")), 0);
  EXPECT_DOUBLE_EQ(Num(Get(*miss.ScoreOne({{"a", -0.5}}), "y")), -1);
  Model ext = EchoModel(plain, "outliers=\"asExtremeValues\" lowValue=\"-1\" highValue=\"1\"");
  EXPECT_DOUBLE_EQ(Num(Get(*ext.ScoreOne({{"a", -4.0}}), "a_seen")), -1);
  EXPECT_DOUBLE_EQ(Num(Get(*ext.ScoreOne({{"a", 9.0}}), "a_seen")), 1);
  EXPECT_DOUBLE_EQ(Num(Get(*ext.ScoreOne({{"a", 0.25}}), "a_seen")), 0.25);
}

TEST(DataDictionaryTest, CategoricalValidInvalidAndMissingValues) {
  const std::string field =
      "<DataField name=\"a\" optype=\"categorical\" dataType=\"string\">"
      "<Value value=\"x\"/><Value value=\"y\"/><Value value=\"bad\" property=\"invalid\"/>"
      "<Value value=\"?\" property=\"missing\"/></DataField>"
      "<DataField name=\"y\" optype=\"categorical\" dataType=\"string\"/>";
  Model m = MustLoad(Doc(field,
                         "<TreeModel functionName=\"classification\"><MiningSchema>"
                         "<MiningField name=\"a\" invalidValueTreatment=\"asMissing\"/>"
                         "<MiningField name=\"y\" usageType=\"target\"/></MiningSchema>"
                         "<Node><True/><Node score=\"missing\"><SimplePredicate field=\"a\" "
                         "operator=\"isMissing\"/></Node><Node score=\"valid\"><True/></Node>"
                         "</Node></TreeModel>"));
  EXPECT_EQ(Str(Get(*m.ScoreOne({{"a", std::string("x")}}), "y")), "valid");
  EXPECT_EQ(Str(Get(*m.ScoreOne({{"a", std::string("?")}}), "y")), "missing");
  EXPECT_EQ(Str(Get(*m.ScoreOne({{"a", std::string("bad")}}), "y")), "missing");
  EXPECT_EQ(Str(Get(*m.ScoreOne({{"a", std::string("zzz")}}), "y")), "missing");
}

TEST(DataDictionaryTest, FloatFieldsCompareInFloat32) {
  // 0.1f != 0.1 in double: a float field must compare its float value with a float threshold.
  const std::string field = "<DataField name=\"a\" optype=\"continuous\" dataType=\"float\"/>";
  Model m = EchoModel(field, "");
  auto r = m.ScoreOne({{"a", 0.1}});
  EXPECT_DOUBLE_EQ(Num(Get(*r, "a_seen")), static_cast<double>(0.1f));
}

TEST(MiningSchemaTest, Pmml3PredictedUsageTypeIsTheTarget) {
  std::string xml =
      "<PMML xmlns=\"http://www.dmg.org/PMML-3_2\" version=\"3.2\"><DataDictionary>"
      "<DataField name=\"a\" optype=\"continuous\" dataType=\"double\"/>"
      "<DataField name=\"y\" optype=\"categorical\" dataType=\"string\"/></DataDictionary>"
      "<TreeModel functionName=\"classification\"><MiningSchema><MiningField name=\"a\"/>"
      "<MiningField name=\"y\" usageType=\"predicted\"/></MiningSchema>"
      "<Node score=\"k\"><True/></Node></TreeModel></PMML>";
  Model m = MustLoad(xml);
  ASSERT_EQ(m.outputs().size(), 1u);
  EXPECT_EQ(m.outputs()[0].name, "y");
  EXPECT_EQ(Str(Get(*m.ScoreOne({}), "y")), "k");
}

}  // namespace
}  // namespace fluxscore::testing
