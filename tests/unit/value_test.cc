// Unit tests for src/pmml/plan/value.cc: type names, string pools, parsing and formatting.
#include "pmml/plan/value.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace fluxscore::pmml {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

double ParseOk(std::string_view text, ValueType t) {
  double v = -12345;
  EXPECT_TRUE(ParseNonString(text, t, &v)) << "'" << text << "' as " << ToString(t);
  return v;
}

bool Parses(std::string_view text, ValueType t) {
  double v = 0;
  return ParseNonString(text, t, &v);
}

TEST(ValueTest, ValueTypeOfMapsDataTypes) {
  EXPECT_EQ(ValueTypeOf(DataType::kString), ValueType::kString);
  EXPECT_EQ(ValueTypeOf(DataType::kInteger), ValueType::kNumber);
  EXPECT_EQ(ValueTypeOf(DataType::kFloat), ValueType::kNumber);
  EXPECT_EQ(ValueTypeOf(DataType::kDouble), ValueType::kNumber);
  EXPECT_EQ(ValueTypeOf(DataType::kBoolean), ValueType::kBoolean);
  EXPECT_EQ(ValueTypeOf(DataType::kDate), ValueType::kDate);
  EXPECT_EQ(ValueTypeOf(DataType::kTime), ValueType::kTime);
  EXPECT_EQ(ValueTypeOf(DataType::kDateTime), ValueType::kDateTime);
}

TEST(ValueTest, TypeNames) {
  EXPECT_EQ(ToString(ValueType::kString), "string");
  EXPECT_EQ(ToString(ValueType::kNumber), "number");
  EXPECT_EQ(ToString(ValueType::kBoolean), "boolean");
  EXPECT_EQ(ToString(ValueType::kDate), "date");
  EXPECT_EQ(ToString(ValueType::kTime), "time");
  EXPECT_EQ(ToString(ValueType::kDateTime), "dateTime");
  EXPECT_EQ(ToString(DataType::kString), "string");
  EXPECT_EQ(ToString(DataType::kInteger), "integer");
  EXPECT_EQ(ToString(DataType::kFloat), "float");
  EXPECT_EQ(ToString(DataType::kDouble), "double");
  EXPECT_EQ(ToString(DataType::kBoolean), "boolean");
  EXPECT_EQ(ToString(DataType::kDate), "date");
  EXPECT_EQ(ToString(DataType::kTime), "time");
  EXPECT_EQ(ToString(DataType::kDateTime), "dateTime");
  EXPECT_EQ(ToString(OpType::kContinuous), "continuous");
  EXPECT_EQ(ToString(OpType::kCategorical), "categorical");
  EXPECT_EQ(ToString(OpType::kOrdinal), "ordinal");
}

TEST(ValueTest, FieldInfoIsString) {
  FieldInfo f;
  for (DataType t : {DataType::kString, DataType::kDate, DataType::kTime, DataType::kDateTime}) {
    f.data_type = t;
    f.op_type = OpType::kContinuous;
    EXPECT_TRUE(f.is_string()) << ToString(t);
  }
  for (DataType t : {DataType::kInteger, DataType::kFloat, DataType::kDouble, DataType::kBoolean}) {
    for (OpType o : {OpType::kContinuous, OpType::kCategorical, OpType::kOrdinal}) {
      f.data_type = t;
      f.op_type = o;
      EXPECT_FALSE(f.is_string()) << ToString(t) << " " << ToString(o);
    }
  }
}

TEST(ValueTest, StringPoolInternsAndFinds) {
  StringPool pool;
  EXPECT_EQ(pool.size(), 0);
  EXPECT_EQ(pool.Find("a"), -1);
  int32_t a = pool.Intern("a");
  int32_t b = pool.Intern("b");
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 1);
  EXPECT_EQ(pool.Intern("a"), a);
  EXPECT_EQ(pool.Find("b"), b);
  EXPECT_EQ(pool.Find("c"), -1);
  EXPECT_EQ(pool.Get(b), "b");
  EXPECT_EQ(pool.size(), 2);
  EXPECT_EQ(pool.Intern(""), 2);
  EXPECT_EQ(pool.Get(2), "");
  ASSERT_EQ(pool.strings().size(), 3u);
}

TEST(ValueTest, EvalContextOverflowCodes) {
  StringPool pool;
  pool.Intern("x");
  pool.Intern("y");
  EvalContext ctx(&pool);
  EXPECT_EQ(ctx.Intern("y"), 1);  // pool code
  double z = ctx.Intern("z");
  EXPECT_EQ(z, 2);  // first overflow code
  EXPECT_EQ(ctx.Intern("z"), z);  // de-duplicated
  double w = ctx.Intern("w");
  EXPECT_EQ(w, 3);
  EXPECT_EQ(ctx.Text(0), "x");
  EXPECT_EQ(ctx.Text(z), "z");
  EXPECT_EQ(ctx.Text(w), "w");
  EXPECT_EQ(ctx.overflow().size(), 2u);
  ctx.ResetOverflow();
  EXPECT_TRUE(ctx.overflow().empty());
  EXPECT_EQ(ctx.Intern("w"), 2);
  EXPECT_EQ(pool.size(), 2);  // the model pool is untouched
}

TEST(ValueTest, ParseValueStringInterns) {
  StringPool pool;
  pool.Intern("red");
  EvalContext ctx(&pool);
  double v = -1;
  ASSERT_TRUE(ParseValue("red", ValueType::kString, ctx, &v));
  EXPECT_EQ(v, 0);
  ASSERT_TRUE(ParseValue(" blue ", ValueType::kString, ctx, &v));
  EXPECT_EQ(ctx.Text(v), " blue ");
  ASSERT_TRUE(ParseValue("2.5", ValueType::kNumber, ctx, &v));
  EXPECT_EQ(v, 2.5);
  EXPECT_FALSE(ParseNonString("red", ValueType::kString, &v));
}

TEST(ValueTest, ParseNumbers) {
  EXPECT_EQ(ParseOk("0", ValueType::kNumber), 0);
  EXPECT_EQ(ParseOk("42", ValueType::kNumber), 42);
  EXPECT_EQ(ParseOk("-3.25", ValueType::kNumber), -3.25);
  EXPECT_EQ(ParseOk("+7", ValueType::kNumber), 7);
  EXPECT_EQ(ParseOk("1e3", ValueType::kNumber), 1000);
  EXPECT_EQ(ParseOk("1.5E-2", ValueType::kNumber), 0.015);
  EXPECT_EQ(ParseOk(".5", ValueType::kNumber), 0.5);
  EXPECT_EQ(ParseOk("0.1", ValueType::kNumber), 0.1);
  EXPECT_TRUE(std::isnan(ParseOk("NaN", ValueType::kNumber)));
  EXPECT_TRUE(std::isnan(ParseOk("nan", ValueType::kNumber)));
  EXPECT_EQ(ParseOk("INF", ValueType::kNumber), kInf);
  EXPECT_EQ(ParseOk("-INF", ValueType::kNumber), -kInf);
  EXPECT_EQ(ParseOk("Infinity", ValueType::kNumber), kInf);
  EXPECT_EQ(ParseOk("-Infinity", ValueType::kNumber), -kInf);
  EXPECT_EQ(ParseOk("1e400", ValueType::kNumber), kInf);
  EXPECT_EQ(ParseOk("-1e400", ValueType::kNumber), -kInf);
  EXPECT_EQ(ParseOk("1e-400", ValueType::kNumber), 0);
  EXPECT_EQ(ParseOk("4.9e-324", ValueType::kNumber), std::numeric_limits<double>::denorm_min());
}

TEST(ValueTest, ParseNumbersRejectsMalformedText) {
  for (std::string_view bad : {"", " 1", "1 ", " ", "abc", "1x", "1e", "--1", "+-1", "++1", "+",
                               "-", "0x10", "1,5", "1.2.3", "e5", "\t2"}) {
    EXPECT_FALSE(Parses(bad, ValueType::kNumber)) << "'" << bad << "'";
  }
}

TEST(ValueTest, ParseBooleans) {
  EXPECT_EQ(ParseOk("true", ValueType::kBoolean), 1);
  EXPECT_EQ(ParseOk("TRUE", ValueType::kBoolean), 1);
  EXPECT_EQ(ParseOk("True", ValueType::kBoolean), 1);
  EXPECT_EQ(ParseOk("false", ValueType::kBoolean), 0);
  EXPECT_EQ(ParseOk("FaLsE", ValueType::kBoolean), 0);
  EXPECT_EQ(ParseOk("1", ValueType::kBoolean), 1);
  EXPECT_EQ(ParseOk("0", ValueType::kBoolean), 0);
  for (std::string_view bad : {"", "yes", "no", "2", "1.0", " true", "true ", "t", "f"}) {
    EXPECT_FALSE(Parses(bad, ValueType::kBoolean)) << "'" << bad << "'";
  }
}

TEST(ValueTest, ParseDates) {
  EXPECT_EQ(ParseOk("1970-01-01", ValueType::kDate), 0);
  EXPECT_EQ(ParseOk("1970-01-02", ValueType::kDate), 1);
  EXPECT_EQ(ParseOk("1969-12-31", ValueType::kDate), -1);
  EXPECT_EQ(ParseOk("2004-08-20", ValueType::kDate), 12650);
  EXPECT_EQ(ParseOk("2000-02-29", ValueType::kDate), 11016);
  EXPECT_EQ(ParseOk("0001-01-01", ValueType::kDate), -719162);
  EXPECT_EQ(ParseOk("1960-01-01", ValueType::kDate), -3653);
  for (std::string_view bad :
       {"", "1970-1-1", "1970-01-1", "70-01-01", "1970/01/01", "1970-13-01", "1970-00-10",
        "1970-01-00", "1970-01-32", "1900-02-29", "2001-02-29", "2000-04-31", " 1970-01-01",
        "1970-01-01 ", "1970-01-01T00:00:00", "+1970-01-01"}) {
    EXPECT_FALSE(Parses(bad, ValueType::kDate)) << "'" << bad << "'";
  }
}

TEST(ValueTest, ParseTimes) {
  EXPECT_EQ(ParseOk("00:00:00", ValueType::kTime), 0);
  EXPECT_EQ(ParseOk("05:23:30", ValueType::kTime), 19410);
  EXPECT_EQ(ParseOk("23:59:59", ValueType::kTime), 86399);
  EXPECT_EQ(ParseOk("12:00:00.5", ValueType::kTime), 43200.5);
  EXPECT_DOUBLE_EQ(ParseOk("00:00:01.25", ValueType::kTime), 1.25);
  for (std::string_view bad : {"", "24:00:00", "12:60:00", "12:00:60", "1:00:00", "12:00",
                               "12:00:00.", "12-00-00", " 12:00:00", "12:00:00x"}) {
    EXPECT_FALSE(Parses(bad, ValueType::kTime)) << "'" << bad << "'";
  }
}

TEST(ValueTest, ParseDateTimes) {
  EXPECT_EQ(ParseOk("1970-01-01T00:00:00", ValueType::kDateTime), 0);
  EXPECT_EQ(ParseOk("2004-08-20T13:45:30", ValueType::kDateTime), 1093009530);
  EXPECT_EQ(ParseOk("2004-08-20T13:45:30Z", ValueType::kDateTime), 1093009530);
  EXPECT_EQ(ParseOk("1969-12-31T23:59:59", ValueType::kDateTime), -1);
  EXPECT_EQ(ParseOk("1970-01-01T00:00:00.25", ValueType::kDateTime), 0.25);
  EXPECT_EQ(ParseOk("1960-01-03T03:30:03", ValueType::kDateTime), -3653 * 86400.0 + 185403);
  for (std::string_view bad : {"", "2004-08-20", "2004-08-20 13:45:30", "2004-08-20T13:45",
                               "2004-08-20T25:00:00", "2004-08-20T13:45:30ZZ",
                               "2004-08-20T13:45:30+01:00", " 2004-08-20T13:45:30"}) {
    EXPECT_FALSE(Parses(bad, ValueType::kDateTime)) << "'" << bad << "'";
  }
}

class ValueFormatTest : public ::testing::Test {
 protected:
  ValueFormatTest() : ctx_(&pool_) { pool_.Intern("hello"); }
  std::string F(double v, ValueType t) { return FormatValue(v, t, ctx_); }
  StringPool pool_;
  EvalContext ctx_;
};

TEST_F(ValueFormatTest, Numbers) {
  EXPECT_EQ(F(3.0, ValueType::kNumber), "3");
  EXPECT_EQ(F(-3.0, ValueType::kNumber), "-3");
  EXPECT_EQ(F(0.0, ValueType::kNumber), "0");
  EXPECT_EQ(F(-0.0, ValueType::kNumber), "0");
  EXPECT_EQ(F(1.5, ValueType::kNumber), "1.5");
  EXPECT_EQ(F(0.1, ValueType::kNumber), "0.1");
  EXPECT_EQ(F(1.0 / 3, ValueType::kNumber), "0.3333333333333333");
  EXPECT_EQ(F(123456789012345.0, ValueType::kNumber), "123456789012345");
  EXPECT_EQ(F(1e15, ValueType::kNumber), "1e+15");
  EXPECT_EQ(F(1e-7, ValueType::kNumber), "1e-07");
  EXPECT_EQ(F(2.5e20, ValueType::kNumber), "2.5e+20");
  EXPECT_EQ(F(std::nan(""), ValueType::kNumber), "NaN");
  EXPECT_EQ(F(kInf, ValueType::kNumber), "Infinity");
  EXPECT_EQ(F(-kInf, ValueType::kNumber), "-Infinity");
}

TEST_F(ValueFormatTest, NumbersRoundTrip) {
  for (double v : {0.1, 1.0 / 3, 2.0 / 3, 1e-300, 123.456, -9.87654321e-5, 1e15 + 0.5, 6.02e23,
                   std::numeric_limits<double>::max(), std::numeric_limits<double>::denorm_min()}) {
    std::string s = F(v, ValueType::kNumber);
    EXPECT_EQ(ParseOk(s, ValueType::kNumber), v) << s;
  }
}

TEST_F(ValueFormatTest, BooleansStringsAndTemporals) {
  EXPECT_EQ(F(1, ValueType::kBoolean), "true");
  EXPECT_EQ(F(0, ValueType::kBoolean), "false");
  EXPECT_EQ(F(0, ValueType::kString), "hello");
  EXPECT_EQ(F(0, ValueType::kDate), "1970-01-01");
  EXPECT_EQ(F(12650, ValueType::kDate), "2004-08-20");
  EXPECT_EQ(F(-1, ValueType::kDate), "1969-12-31");
  EXPECT_EQ(F(-719162, ValueType::kDate), "0001-01-01");
  EXPECT_EQ(F(19410, ValueType::kTime), "05:23:30");
  EXPECT_EQ(F(43200.5, ValueType::kTime), "12:00:00.5");
  EXPECT_EQ(F(1093009530, ValueType::kDateTime), "2004-08-20T13:45:30");
  EXPECT_EQ(F(-1, ValueType::kDateTime), "1969-12-31T23:59:59");
  EXPECT_EQ(F(0.25, ValueType::kDateTime), "1970-01-01T00:00:00.25");
}

TEST_F(ValueFormatTest, TemporalsRoundTrip) {
  for (std::string_view s : {"1970-01-01", "2000-02-29", "1600-03-01", "2400-12-31", "1899-12-31"}) {
    EXPECT_EQ(F(ParseOk(s, ValueType::kDate), ValueType::kDate), s);
  }
  for (std::string_view s : {"00:00:00", "23:59:59", "07:08:09.125"}) {
    EXPECT_EQ(F(ParseOk(s, ValueType::kTime), ValueType::kTime), s);
  }
  for (std::string_view s : {"1970-01-01T00:00:00", "1903-07-04T12:30:00", "2038-01-19T03:14:08"}) {
    EXPECT_EQ(F(ParseOk(s, ValueType::kDateTime), ValueType::kDateTime), s);
  }
}

}  // namespace
}  // namespace fluxscore::pmml
