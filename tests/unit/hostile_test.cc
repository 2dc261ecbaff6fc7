// Hostile and broken models: each gets a clear error naming where, never a crash or hang.
#include <gtest/gtest.h>

#include "test_util.h"

namespace fluxscore::testing {
namespace {

const std::string kOkFields =
    "<DataField name=\"a\" optype=\"continuous\" dataType=\"double\"/>"
    "<DataField name=\"y\" optype=\"continuous\" dataType=\"double\"/>";
const std::string kSchema =
    "<MiningSchema><MiningField name=\"a\"/><MiningField name=\"y\" usageType=\"target\"/>"
    "</MiningSchema>";

void ExpectError(const std::string& xml, Status::Code code, const std::string& fragment) {
  Status s = LoadError(xml);
  ASSERT_FALSE(s.ok()) << "expected a load error containing: " << fragment;
  EXPECT_EQ(s.code(), code) << s.ToString();
  EXPECT_NE(s.message().find(fragment), std::string::npos) << s.ToString();
}

TEST(HostileModelTest, MalformedXmlNamesTheLine) {
  ExpectError("<PMML version=\"4.4\">\n<DataDictionary>\n<DataField name=\"a\"\n</PMML>",
              Status::Code::kInvalidModel, "test.pmml:");
  ExpectError("<PMML version=\"4.4\">\n<DataDictionary>\n<DataField name=\"a\"\n</PMML>",
              Status::Code::kInvalidModel, "malformed XML");
}

TEST(HostileModelTest, UnknownModelElementIsUnsupported) {
  ExpectError(Doc(kOkFields, "<FancyModel functionName=\"regression\"/>"),
              Status::Code::kUnsupported, "<FancyModel> is not supported");
}

TEST(HostileModelTest, UnsupportedKnownModelIsNamed) {
  ExpectError(Doc(kOkFields, "<NeuralNetwork functionName=\"regression\"/>"),
              Status::Code::kUnsupported, "model element <NeuralNetwork> is not supported");
}

TEST(HostileModelTest, FieldRefToNoFieldNamesPathAndLine) {
  std::string xml = Doc(kOkFields,
                        "<TreeModel functionName=\"regression\">" + kSchema +
                            "<Node><True/>\n<Node score=\"1\"><SimplePredicate field=\"nope\" "
                            "operator=\"equal\" value=\"1\"/></Node></Node></TreeModel>");
  Status s = LoadError(xml);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("undefined field 'nope'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("test.pmml:2: /PMML/TreeModel/Node/Node/SimplePredicate"),
            std::string::npos)
      << s.message();
}

TEST(HostileModelTest, DerivedFieldCycleIsRefused) {
  std::string xml =
      "<PMML xmlns=\"http://www.dmg.org/PMML-4_4\" version=\"4.4\"><DataDictionary>" + kOkFields +
      "</DataDictionary><TransformationDictionary>"
      "<DerivedField name=\"p\" optype=\"continuous\" dataType=\"double\"><FieldRef field=\"q\"/></DerivedField>"
      "<DerivedField name=\"q\" optype=\"continuous\" dataType=\"double\"><Apply function=\"+\">"
      "<FieldRef field=\"p\"/><Constant>1</Constant></Apply></DerivedField>"
      "</TransformationDictionary><TreeModel functionName=\"regression\">" + kSchema +
      "<Node><True/><Node score=\"1\"><SimplePredicate field=\"p\" operator=\"equal\" "
      "value=\"1\"/></Node></Node></TreeModel></PMML>";
  ExpectError(xml, Status::Code::kInvalidModel, "cycle");
}

TEST(HostileModelTest, MillionDeepNodeNestingWithoutChildrenPredicatesIsAnErrorNotACrash) {
  // A million nested Nodes lacking predicates: the error is reported, nothing recurses.
  std::string xml = "<PMML xmlns=\"http://www.dmg.org/PMML-4_4\" version=\"4.4\"><DataDictionary>" +
                    kOkFields + "</DataDictionary><TreeModel functionName=\"regression\">" +
                    kSchema + "<Node><True/>";
  for (int i = 0; i < 1000000; ++i) xml += "<Node>";
  for (int i = 0; i < 1000000; ++i) xml += "</Node>";
  xml += "</Node></TreeModel></PMML>";
  ExpectError(xml, Status::Code::kInvalidModel, "a Node needs a predicate");
}

TEST(HostileModelTest, DeeplyNestedExpressionsAreCapped) {
  std::string expr = "<FieldRef field=\"a\"/>";
  for (int i = 0; i < 5000; ++i) expr = "<Apply function=\"abs\">" + expr + "</Apply>";
  std::string xml =
      "<PMML xmlns=\"http://www.dmg.org/PMML-4_4\" version=\"4.4\"><DataDictionary>" + kOkFields +
      "</DataDictionary><TransformationDictionary><DerivedField name=\"d\" optype=\"continuous\" "
      "dataType=\"double\">" + expr + "</DerivedField></TransformationDictionary>"
      "<TreeModel functionName=\"regression\">" + kSchema +
      "<Node><True/><Node score=\"1\"><SimplePredicate field=\"d\" operator=\"equal\" "
      "value=\"1\"/></Node></Node></TreeModel></PMML>";
  ExpectError(xml, Status::Code::kInvalidModel, "nest deeper than");
}

TEST(HostileModelTest, BillionLaughsIsRefusedWithoutExpansion) {
  std::string xml =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n"
      "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
      "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
      "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
      "]>\n<PMML version=\"4.4\"><Header description=\"&lol3;\"/></PMML>";
  ExpectError(xml, Status::Code::kInvalidModel, "DOCTYPE");
  ExpectError(xml, Status::Code::kInvalidModel, "test.pmml:2:");
}

TEST(HostileModelTest, HundredMegabyteAttributeIsRefused) {
  std::string big(100u << 20, 'x');
  std::string xml = Doc(kOkFields, "<TreeModel functionName=\"regression\" modelName=\"" + big +
                                       "\">" + kSchema + "<Node score=\"1\"><True/></Node></TreeModel>");
  ExpectError(xml, Status::Code::kInvalidModel, "above the limit");
}

// The attribute limit is checked on documents of any size and whichever quote the value uses:
// a long value inside an element the compiler never reads (an Extension) is refused too, and
// documents whose values are all short load (whether the text alone shows it or every
// attribute is measured).
TEST(HostileModelTest, AttributeLimitHoldsForBothQuotesAndEveryElement) {
  pmml::LoadOptions small;
  small.max_attribute_bytes = 64;
  auto load = [&](const std::string& xml) { return Model::LoadString(xml, "test.pmml", small); };
  const std::string long_value(100, 'v');
  const std::string tree = "<Node score=\"1\"><True/></Node></TreeModel>";
  for (const std::string& attr :
       {"modelName=\"" + long_value + "\"", "modelName='" + long_value + "'",
        "modelName='\"" + long_value + "\"'"}) {
    auto m = load(Doc(kOkFields, "<TreeModel functionName=\"regression\" " + attr + ">" +
                                     kSchema + tree));
    ASSERT_FALSE(m.ok()) << attr;
    EXPECT_NE(m.status().message().find("above the limit"), std::string::npos)
        << m.status().ToString();
    EXPECT_NE(m.status().message().find("/PMML/TreeModel"), std::string::npos)
        << m.status().ToString();
  }
  auto ext = load(Doc(kOkFields, "<TreeModel functionName=\"regression\">" + kSchema +
                                     "<Extension><X a='" + long_value + "'/></Extension>" +
                                     tree));
  ASSERT_FALSE(ext.ok());
  EXPECT_NE(ext.status().message().find("/PMML/TreeModel/Extension/X"), std::string::npos)
      << ext.status().ToString();
  // Short values only: loads, with quotes in every stretch of the text or not.
  std::string padded = "<Extension>";
  for (int i = 0; i < 50; ++i) padded += "<X a=\"1\"/>";
  padded += "</Extension>";
  EXPECT_TRUE(load(Doc(kOkFields, "<TreeModel functionName=\"regression\">" + kSchema +
                                      padded + tree)).ok());
  EXPECT_TRUE(load(Doc(kOkFields, "<TreeModel functionName=\"regression\">" + kSchema +
                                      "<Extension>" + std::string(200, ' ') + "</Extension>" +
                                      tree)).ok());
}

// Tree nodes are checked attribute by attribute and child by child, with the element's path
// and line.
TEST(HostileModelTest, TreeNodeErrorsNameTheElementAndLine) {
  const std::string head = "<TreeModel functionName=\"regression\">" + kSchema + "\n";
  ExpectError(Doc(kOkFields, head + "<Node score=\"1\"><True/>\n<Node bogus=\"2\"><True/></Node>"
                                    "</Node></TreeModel>"),
              Status::Code::kUnsupported,
              "test.pmml:3: /PMML/TreeModel/Node/Node: attribute 'bogus' is not supported");
  ExpectError(Doc(kOkFields, head + "<Node score=\"1\"><True/>\n<Bogus/><False/><False/></Node>"
                                    "</TreeModel>"),
              Status::Code::kUnsupported,
              "test.pmml:3: /PMML/TreeModel/Node/Bogus: element <Bogus> is not supported here");
  ExpectError(Doc(kOkFields, head + "<Node score=\"1\"><True/>\n<False/></Node></TreeModel>"),
              Status::Code::kInvalidModel,
              "test.pmml:3: /PMML/TreeModel/Node/False: a Node has more than one predicate");
  ExpectError(Doc(kOkFields, head + "<Node score=\"1\"><True/>\n<Node score=\"2\">"
                                    "<SimplePredicate field=\"a\" operator=\"lessThan\"/>"
                                    "</Node></Node></TreeModel>"),
              Status::Code::kInvalidModel,
              "test.pmml:3: /PMML/TreeModel/Node/Node/SimplePredicate: SimplePredicate needs a value");
  ExpectError(Doc(kOkFields, head + "<Node score=\"1\"><True/>\n<Node score=\"2\">"
                                    "<SimplePredicate field=\"b\" operator=\"lessThan\" value=\"1\"/>"
                                    "</Node></Node></TreeModel>"),
              Status::Code::kInvalidModel, "reference to undefined field 'b'");
  ExpectError(Doc(kOkFields, head + "<Node score=\"1\" recordCount=\"x\"><True/></Node>"
                                    "</TreeModel>"),
              Status::Code::kInvalidModel,
              "test.pmml:2: /PMML/TreeModel/Node: attribute recordCount='x' is not a number");
}

TEST(HostileModelTest, WrongNamespaceIsRefused) {
  ExpectError("<PMML xmlns=\"http://example.com/not-pmml\" version=\"4.4\"/>",
              Status::Code::kInvalidModel, "not a PMML 3.0-4.4 namespace");
}

TEST(HostileModelTest, WrongRootElementIsRefused) {
  ExpectError("<html><body/></html>", Status::Code::kInvalidModel, "expected <PMML>");
}

TEST(HostileModelTest, UnknownAttributeAndElementAreRefusedButExtensionsIgnored) {
  ExpectError(Doc(kOkFields, "<TreeModel functionName=\"regression\" bogus=\"1\">" + kSchema +
                                 "<Node score=\"1\"><True/></Node></TreeModel>"),
              Status::Code::kUnsupported, "attribute 'bogus' is not supported");
  ExpectError(Doc(kOkFields, "<TreeModel functionName=\"regression\">" + kSchema +
                                 "<Node score=\"1\"><True/><Bogus/></Node></TreeModel>"),
              Status::Code::kUnsupported, "element <Bogus> is not supported");
  Model ok = MustLoad(Doc(kOkFields, "<TreeModel functionName=\"regression\" x-vendor=\"1\">" +
                                         kSchema +
                                         "<Extension name=\"e\"><Anything/></Extension>"
                                         "<Node score=\"1\"><True/></Node></TreeModel>"));
  EXPECT_DOUBLE_EQ(Num(Get(*ok.ScoreOne({}), "y")), 1);
}

TEST(HostileModelTest, NoNamespaceDocumentsLoad) {
  Model ok = MustLoad("<PMML version=\"4.1\"><DataDictionary>" + kOkFields +
                      "</DataDictionary><TreeModel functionName=\"regression\">" + kSchema +
                      "<Node score=\"2\"><True/></Node></TreeModel></PMML>");
  EXPECT_DOUBLE_EQ(Num(Get(*ok.ScoreOne({}), "y")), 2);
}

TEST(HostileModelTest, MissingFileIsAnIoError) {
  auto m = pmml::Model::LoadFile("/nonexistent/model.pmml");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Status::Code::kIoError);
}

}  // namespace
}  // namespace fluxscore::testing
