// Tests for ReadCsv / WriteCsv / FormatDouble / Column.
#include "fluxscore/csv.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "fluxscore/table.h"
#include "temp_files.h"

namespace fluxscore {
namespace {

Result<Table> Read(const std::string& text, const CsvReadOptions& options = {}) {
  std::istringstream in(text);
  return ReadCsv(in, "in.csv", options);
}

std::string Write(const Table& t, const CsvWriteOptions& options = {}) {
  std::ostringstream out;
  Status st = WriteCsv(t, out, options);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out.str();
}

CsvReadOptions Numeric(std::set<std::string> cols) {
  CsvReadOptions o;
  o.numeric_columns = std::move(cols);
  return o;
}

// ---- FormatDouble ---------------------------------------------------------------------------

TEST(FormatDoubleTest, Integers) {
  EXPECT_EQ(FormatDouble(3.0), "3");
  EXPECT_EQ(FormatDouble(-42.0), "-42");
  EXPECT_EQ(FormatDouble(0.0), "0");
  EXPECT_EQ(FormatDouble(100000000000000.0), "100000000000000");  // 1e14: no exponent
  EXPECT_EQ(FormatDouble(-999999999999999.0), "-999999999999999");
}

TEST(FormatDoubleTest, ShortestRoundTrip) {
  EXPECT_EQ(FormatDouble(1.5), "1.5");
  EXPECT_EQ(FormatDouble(0.1), "0.1");
  EXPECT_EQ(FormatDouble(1e-07), "1e-07");
  EXPECT_EQ(FormatDouble(1e20), "1e+20");
  for (double v : {0.1 + 0.2, 1.0 / 3.0, 6.02214076e23, 5e-324, 1.7976931348623157e308,
                   -2.5e-10, 123456.789}) {
    std::string s = FormatDouble(v);
    EXPECT_EQ(std::strtod(s.c_str(), nullptr), v) << s;
  }
}

TEST(FormatDoubleTest, Specials) {
  EXPECT_EQ(FormatDouble(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(FormatDouble(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(FormatDouble(-std::numeric_limits<double>::infinity()), "-Infinity");
}

// ---- Column / Table ----------------------------------------------------------------------------

TEST(ColumnTest, StringColumnInterns) {
  Column c = Column::String("x");
  c.AppendString("a");
  c.AppendString("b");
  c.AppendString("a");
  c.AppendMissing();
  EXPECT_EQ(c.kind(), Column::Kind::kString);
  EXPECT_EQ(c.name(), "x");
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c.dictionary().size(), 2u);
  EXPECT_EQ(c.codes()[0], c.codes()[2]);
  EXPECT_EQ(c.codes()[3], Column::kMissingCode);
  EXPECT_TRUE(c.IsMissing(3));
  EXPECT_FALSE(c.IsMissing(0));
  EXPECT_EQ(c.CellText(1), "b");
  EXPECT_EQ(c.CellText(3), "");
  EXPECT_EQ(c.Intern("b"), c.codes()[1]);
  EXPECT_EQ(c.Intern("c"), 2);
  EXPECT_EQ(c.dictionary().size(), 3u);
  EXPECT_EQ(c.size(), 4u);  // Intern does not append a cell
}

TEST(ColumnTest, NumericColumn) {
  Column c = Column::Numeric("n", {1.0, 2.5});
  c.AppendMissing();
  EXPECT_EQ(c.kind(), Column::Kind::kNumeric);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_TRUE(c.IsMissing(2));
  EXPECT_EQ(c.CellText(0), "1");
  EXPECT_EQ(c.CellText(1), "2.5");
  EXPECT_EQ(c.CellText(2), "");
}

TEST(TableTest, FindFirstByName) {
  Table t;
  t.AddColumn(Column::Numeric("a"));
  t.AddColumn(Column::String("b"));
  t.AddColumn(Column::Numeric("a"));
  EXPECT_EQ(t.Find("a"), 0);
  EXPECT_EQ(t.Find("b"), 1);
  EXPECT_EQ(t.Find("zz"), -1);
  EXPECT_EQ(t.num_columns(), 3u);
}

// ---- ReadCsv -------------------------------------------------------------------------------------

TEST(ReadCsvTest, NumericAndStringColumns) {
  auto r = Read("x,label\n1.5,a\n-2,b\n+3,a\n", Numeric({"x"}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Table& t = *r;
  ASSERT_EQ(t.num_columns(), 2u);
  ASSERT_EQ(t.num_rows(), 3u);
  const Column& x = t.columns()[0];
  EXPECT_EQ(x.kind(), Column::Kind::kNumeric);
  EXPECT_EQ(x.numbers()[0], 1.5);
  EXPECT_EQ(x.numbers()[1], -2.0);
  EXPECT_EQ(x.numbers()[2], 3.0);  // leading '+'
  const Column& label = t.columns()[1];
  EXPECT_EQ(label.kind(), Column::Kind::kString);  // not listed in numeric_columns
  EXPECT_EQ(label.CellText(2), "a");
  EXPECT_EQ(label.dictionary().size(), 2u);
}

TEST(ReadCsvTest, JavaStyleNumbers) {
  auto r = Read("x\n7.821756936740507E-52\n1.0E10\n-0.5\n", Numeric({"x"}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Column& x = r->columns()[0];
  ASSERT_EQ(x.kind(), Column::Kind::kNumeric);
  EXPECT_EQ(x.numbers()[0], 7.821756936740507E-52);
  EXPECT_EQ(x.numbers()[1], 1e10);
  EXPECT_EQ(x.numbers()[2], -0.5);
}

TEST(ReadCsvTest, NumericFallbackKeepsOriginalText) {
  auto r = Read("x\n1.0\n2\nabc\n\n", Numeric({"x"}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Column& x = r->columns()[0];
  EXPECT_EQ(x.kind(), Column::Kind::kString);
  ASSERT_EQ(x.size(), 4u);
  EXPECT_EQ(x.CellText(0), "1.0");  // spelling preserved, not "1"
  EXPECT_EQ(x.CellText(1), "2");
  EXPECT_EQ(x.CellText(2), "abc");
  EXPECT_TRUE(x.IsMissing(3));  // the empty line of a one-column file is a missing cell
}

TEST(ReadCsvTest, WhitespaceIsNotANumber) {
  auto r = Read("x\n 1\n", Numeric({"x"}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->columns()[0].kind(), Column::Kind::kString);
  EXPECT_EQ(r->columns()[0].CellText(0), " 1");
}

TEST(ReadCsvTest, DefaultMissingMarkers) {
  auto r = Read("x,s\nNA,NA\nN/A,N/A\n,\n4,d\n", Numeric({"x"}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Column& x = r->columns()[0];
  const Column& s = r->columns()[1];
  ASSERT_EQ(x.kind(), Column::Kind::kNumeric);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(x.IsMissing(i)) << i;
    EXPECT_TRUE(s.IsMissing(i)) << i;
  }
  EXPECT_EQ(x.numbers()[3], 4.0);
  EXPECT_EQ(s.CellText(3), "d");
}

TEST(ReadCsvTest, CustomMissingMarkers) {
  CsvReadOptions o;
  o.missing_values = {"?"};
  auto r = Read("s\nNA\n?\n\"\"\n", o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Column& s = r->columns()[0];
  EXPECT_EQ(s.CellText(0), "NA");
  EXPECT_TRUE(s.IsMissing(1));
  EXPECT_FALSE(s.IsMissing(2));
  EXPECT_EQ(s.CellText(2), "");
}

TEST(ReadCsvTest, QuotedCells) {
  auto r = Read(
      "a,b\n"
      "\"x,y\",\"say \"\"hi\"\"\"\n"
      "\"multi\nline\",plain\n"
      "\"\",\"NA\"\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Table& t = *r;
  ASSERT_EQ(t.num_rows(), 3u);
  EXPECT_EQ(t.columns()[0].CellText(0), "x,y");
  EXPECT_EQ(t.columns()[1].CellText(0), "say \"hi\"");
  EXPECT_EQ(t.columns()[0].CellText(1), "multi\nline");
  EXPECT_EQ(t.columns()[1].CellText(1), "plain");
  // Missing markers apply after unquoting.
  EXPECT_TRUE(t.columns()[0].IsMissing(2));
  EXPECT_TRUE(t.columns()[1].IsMissing(2));
}

TEST(ReadCsvTest, QuotedHeader) {
  auto r = Read("\"P (Species=setosa)\",\"a,b\"\n1,2\n", Numeric({"a,b"}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->columns()[0].name(), "P (Species=setosa)");
  EXPECT_EQ(r->columns()[1].name(), "a,b");
  EXPECT_EQ(r->columns()[1].kind(), Column::Kind::kNumeric);
}

TEST(ReadCsvTest, CrLfLineEndings) {
  auto r = Read("a,b\r\n1,x\r\n2,\"y\"\r\n", Numeric({"a"}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Table& t = *r;
  ASSERT_EQ(t.num_rows(), 2u);
  EXPECT_EQ(t.columns()[1].name(), "b");
  EXPECT_EQ(t.columns()[0].kind(), Column::Kind::kNumeric);
  EXPECT_EQ(t.columns()[1].CellText(0), "x");
  EXPECT_EQ(t.columns()[1].CellText(1), "y");
}

TEST(ReadCsvTest, NoTrailingNewlineAndBlankLines) {
  auto r = Read("a,b\n1,2\n\n3,4", Numeric({"a", "b"}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->num_rows(), 2u);
  EXPECT_EQ(r->columns()[1].numbers()[1], 4.0);
}

TEST(ReadCsvTest, TrailingEmptyCell) {
  auto r = Read("a,b\n1,\n", Numeric({"a", "b"}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->columns()[1].IsMissing(0));
}

TEST(ReadCsvTest, RaggedRowIsAnErrorWithLine) {
  auto r = Read("a,b\n1,2\n3\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kDataError);
  EXPECT_NE(r.status().message().find("in.csv:3"), std::string::npos) << r.status().message();

  auto r2 = Read("a,b\n1,2,3\n");
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find("in.csv:2"), std::string::npos) << r2.status().message();
}

TEST(ReadCsvTest, LineNumbersCountEmbeddedNewlines) {
  auto r = Read("a,b\n\"x\ny\",1\n2\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("in.csv:4"), std::string::npos) << r.status().message();
}

TEST(ReadCsvTest, UnterminatedQuote) {
  auto r = Read("a\n\"abc\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kDataError);
  EXPECT_NE(r.status().message().find("in.csv:2"), std::string::npos) << r.status().message();
}

TEST(ReadCsvTest, EmptyInputIsAnError) {
  auto r = Read("");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kDataError);
}

TEST(ReadCsvTest, HeaderOnly) {
  auto r = Read("a,b\n", Numeric({"a"}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->num_columns(), 2u);
  EXPECT_EQ(r->num_rows(), 0u);
}

TEST(ReadCsvTest, DuplicateHeaderNamesKeepBothColumns) {
  auto r = Read("class,prediction,class\na,b,c\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->num_columns(), 3u);
  EXPECT_EQ(r->Find("class"), 0);
  EXPECT_EQ(r->columns()[2].name(), "class");
  EXPECT_EQ(r->columns()[2].CellText(0), "c");
}

TEST(ReadCsvTest, OnlyColumns) {
  CsvReadOptions o;
  o.only_columns = {"b"};
  auto r = Read("a,b,c\n1,2,3\n", o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->num_columns(), 1u);
  EXPECT_EQ(r->columns()[0].name(), "b");
  EXPECT_EQ(r->columns()[0].CellText(0), "2");
}

TEST(ReadCsvTest, VerbatimMode) {
  CsvReadOptions o;
  o.verbatim = true;
  o.missing_values = {""};
  o.numeric_columns = {"n"};
  auto r = Read("n,s,q\r\n1,NA,\"x\"\r\n,  spaced ,\"\r\n", o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Table& t = *r;
  ASSERT_EQ(t.num_rows(), 2u);
  EXPECT_EQ(t.columns()[0].kind(), Column::Kind::kNumeric);
  EXPECT_TRUE(t.columns()[0].IsMissing(1));
  EXPECT_EQ(t.columns()[1].CellText(0), "NA");  // a literal category, not missing
  EXPECT_EQ(t.columns()[1].CellText(1), "  spaced ");
  EXPECT_EQ(t.columns()[2].CellText(0), "\"x\"");  // quotes kept
  EXPECT_EQ(t.columns()[2].CellText(1), "\"");
}

TEST(ReadCsvTest, VerbatimDelimiterInsideQuotesSplits) {
  CsvReadOptions o;
  o.verbatim = true;
  auto r = Read("a,b\n\"x,y\"\n", o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->columns()[0].CellText(0), "\"x");
  EXPECT_EQ(r->columns()[1].CellText(0), "y\"");
}

TEST(ReadCsvTest, OtherDelimiter) {
  CsvReadOptions o;
  o.delimiter = '\t';
  o.numeric_columns = {"b"};
  auto r = Read("a\tb\nx,y\t2\n", o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->columns()[0].CellText(0), "x,y");
  EXPECT_EQ(r->columns()[1].numbers()[0], 2.0);
}

TEST(ReadCsvTest, ByteOrderMarkIsStripped) {
  auto r = Read("\xEF\xBB\xBF" "a\n1\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->columns()[0].name(), "a");
}

TEST(ReadCsvFileTest, ReadsFileAndReportsMissingFile) {
  std::string path = test::TempPath("csv_test.csv");
  {
    std::ofstream f(path, std::ios::binary);
    f << "a,b\n1,x\n2\n";
  }
  auto r = ReadCsvFile(path, Numeric({"a"}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(path + ":3"), std::string::npos) << r.status().message();
  {
    std::ofstream f(path, std::ios::binary);
    f << "a,b\n1,x\n2,y\n";
  }
  auto ok = ReadCsvFile(path, Numeric({"a"}));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->num_rows(), 2u);
  std::remove(path.c_str());

  auto missing = ReadCsvFile(path + ".does-not-exist");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kIoError);
}

// ---- WriteCsv ------------------------------------------------------------------------------------

TEST(WriteCsvTest, QuotesWhenNeeded) {
  Table t;
  Column& s = t.AddColumn(Column::String("name,with comma"));
  s.AppendString("plain");
  s.AppendString("a,b");
  s.AppendString("say \"hi\"");
  s.AppendString("two\nlines");
  s.AppendMissing();
  t.AddColumn(Column::Numeric("n", {1.0, 0.5, 1e-7, std::nan(""), -3.0}));
  EXPECT_EQ(Write(t),
            "\"name,with comma\",n\n"
            "plain,1\n"
            "\"a,b\",0.5\n"
            "\"say \"\"hi\"\"\",1e-07\n"
            "\"two\nlines\",\n"
            ",-3\n");
}

TEST(WriteCsvTest, MissingTextAndDelimiter) {
  Table t;
  t.AddColumn(Column::Numeric("a", {std::nan(""), 2.0}));
  Column& s = t.AddColumn(Column::String("b"));
  s.AppendMissing();
  s.AppendString("x;y");
  CsvWriteOptions o;
  o.delimiter = ';';
  o.missing = "NA";
  EXPECT_EQ(Write(t, o), "a;b\nNA;NA\n2;\"x;y\"\n");
}

TEST(WriteCsvTest, RoundTrip) {
  Table t;
  t.AddColumn(Column::Numeric("x", {0.1 + 0.2, 1.0 / 3.0, -1e300, 42.0, std::nan(""), 5e-324}));
  Column& s = t.AddColumn(Column::String("s"));
  for (const char* v : {"a", "b,c", "\"q\"", "line\r\nbreak", "  lead", "z"}) s.AppendString(v);
  s.mutable_codes()[4] = Column::kMissingCode;

  std::string text = Write(t);
  auto r = Read(text, Numeric({"x"}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Table& back = *r;
  ASSERT_EQ(back.num_rows(), t.num_rows());
  ASSERT_EQ(back.num_columns(), 2u);
  const Column& x = back.columns()[0];
  ASSERT_EQ(x.kind(), Column::Kind::kNumeric);
  for (size_t i = 0; i < t.num_rows(); ++i) {
    if (t.columns()[0].IsMissing(i)) {
      EXPECT_TRUE(x.IsMissing(i));
    } else {
      EXPECT_EQ(x.numbers()[i], t.columns()[0].numbers()[i]) << i;
    }
    EXPECT_EQ(back.columns()[1].IsMissing(i), t.columns()[1].IsMissing(i)) << i;
    EXPECT_EQ(back.columns()[1].CellText(i), t.columns()[1].CellText(i)) << i;
  }
  // And writing again gives the same text.
  EXPECT_EQ(Write(back), text);
}

}  // namespace
}  // namespace fluxscore
