// Unit tests for src/pmml/eval/builtins.cc: one test per PMML built-in function (normal values,
// a missing argument, an invalid argument, domain errors), plus resolution errors.
#include "pmml/eval/builtins.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "pmml/plan/value.h"

namespace fluxscore::pmml {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kPi = 3.14159265358979323846;

struct Arg {
  ValueType t;
  Cell c;
};

class BuiltinsTest : public ::testing::Test {
 protected:
  BuiltinsTest() : ctx_(&pool_) {
    pool_.Intern("alpha");
    pool_.Intern("beta");
  }

  static Arg Num(double v) { return {ValueType::kNumber, Cell::Valid(v)}; }
  static Arg Bool(bool b) { return {ValueType::kBoolean, Cell::Valid(b ? 1 : 0)}; }
  Arg Str(std::string_view s) { return {ValueType::kString, Cell::Valid(ctx_.Intern(s))}; }
  static Arg Temporal(ValueType t, std::string_view text) {
    double v = 0;
    EXPECT_TRUE(ParseNonString(text, t, &v)) << text;
    return {t, Cell::Valid(v)};
  }
  static Arg Date(std::string_view s) { return Temporal(ValueType::kDate, s); }
  static Arg Time(std::string_view s) { return Temporal(ValueType::kTime, s); }
  static Arg DateTime(std::string_view s) { return Temporal(ValueType::kDateTime, s); }
  static Arg Missing(ValueType t = ValueType::kNumber) { return {t, Cell::Missing()}; }
  static Arg Invalid(double v = kNaN, ValueType t = ValueType::kNumber) {
    return {t, Cell::Invalid(v)};
  }
  // An argument in state kInvalid that keeps its value (invalidValueTreatment="asIs").
  static Arg AsIs(Arg a) { return {a.t, Cell::Invalid(a.c.v)}; }

  Result<BuiltinCall> Resolve(std::string_view name, const std::vector<Arg>& args) {
    std::vector<ValueType> types;
    for (const Arg& a : args) types.push_back(a.t);
    return ResolveBuiltin(name, types);
  }

  Cell Eval(std::string_view name, const std::vector<Arg>& args) {
    auto call = Resolve(name, args);
    if (!call.ok()) {
      ADD_FAILURE() << name << ": " << call.status().ToString();
      return Cell::Invalid();
    }
    std::vector<Cell> cells;
    for (const Arg& a : args) cells.push_back(a.c);
    return EvalBuiltin(*call, cells, ctx_);
  }

  double Value(std::string_view name, const std::vector<Arg>& args) {
    Cell c = Eval(name, args);
    EXPECT_EQ(c.s, CellState::kValid) << name;
    return c.v;
  }

  std::string Text(std::string_view name, const std::vector<Arg>& args) {
    Cell c = Eval(name, args);
    EXPECT_EQ(c.s, CellState::kValid) << name;
    if (c.s != CellState::kValid) return "<not valid>";
    return std::string(ctx_.Text(c.v));
  }

  void ExpectMissing(std::string_view name, const std::vector<Arg>& args) {
    Cell c = Eval(name, args);
    EXPECT_EQ(c.s, CellState::kMissing) << name;
  }

  void ExpectInvalid(std::string_view name, const std::vector<Arg>& args) {
    Cell c = Eval(name, args);
    EXPECT_EQ(c.s, CellState::kInvalid) << name;
    EXPECT_TRUE(std::isnan(c.v)) << name;
  }

  ValueType ResultType(std::string_view name, const std::vector<Arg>& args) {
    auto call = Resolve(name, args);
    EXPECT_TRUE(call.ok()) << call.status().ToString();
    return call.ok() ? call->result_type : ValueType::kString;
  }

  Status::Code ResolveCode(std::string_view name, const std::vector<ValueType>& types) {
    return ResolveBuiltin(name, types).status().code();
  }

  // The standard rule for each argument position: missing -> missing result; invalid with NaN
  // (an upstream domain error) -> invalid result; invalid with a real value -> value used.
  void ExpectStrictArgs(std::string_view name, const std::vector<Arg>& args) {
    Cell base = Eval(name, args);
    ASSERT_EQ(base.s, CellState::kValid) << name;
    for (size_t i = 0; i < args.size(); ++i) {
      std::vector<Arg> a = args;
      a[i].c = Cell::Missing();
      EXPECT_EQ(Eval(name, a).s, CellState::kMissing) << name << " missing arg " << i;
      a[i].c = Cell::Invalid();
      Cell inv = Eval(name, a);
      EXPECT_EQ(inv.s, CellState::kInvalid) << name << " NaN-invalid arg " << i;
      EXPECT_TRUE(std::isnan(inv.v)) << name << " NaN-invalid arg " << i;
      a[i].c = Cell::Invalid(args[i].c.v);
      Cell as_is = Eval(name, a);
      EXPECT_EQ(as_is.s, CellState::kValid) << name << " asIs-invalid arg " << i;
      if (std::isnan(base.v)) {
        EXPECT_TRUE(std::isnan(as_is.v));
      } else {
        EXPECT_EQ(as_is.v, base.v) << name << " asIs-invalid arg " << i;
      }
    }
  }

  // Aggregates: missing arguments are ignored, all missing -> missing, NaN-invalid -> invalid,
  // invalid with a value -> used.
  void ExpectAggregateArgs(std::string_view name) {
    ExpectMissing(name, {Missing(), Missing()});
    ExpectMissing(name, {Missing()});
    ExpectInvalid(name, {Num(1), Invalid()});
    ExpectInvalid(name, {Invalid(), Missing()});
    EXPECT_EQ(Value(name, {Missing(), Num(4), Missing()}), 4);
    EXPECT_EQ(Value(name, {AsIs(Num(4)), Missing()}), 4);
    EXPECT_EQ(ResultType(name, {Num(1), Bool(true)}), ValueType::kNumber);
    EXPECT_EQ(Value(name, {Bool(true)}), 1);
    EXPECT_EQ(ResolveCode(name, {ValueType::kNumber, ValueType::kString}),
              Status::Code::kInvalidModel);
    EXPECT_EQ(ResolveCode(name, {}), Status::Code::kInvalidModel);
  }

  // Unary numeric functions: strict rules, numeric-only resolution, boolean promotion.
  void ExpectUnaryNumeric(std::string_view name, double sample) {
    ExpectStrictArgs(name, {Num(sample)});
    EXPECT_EQ(ResultType(name, {Num(sample)}), ValueType::kNumber);
    EXPECT_EQ(ResolveCode(name, {ValueType::kString}), Status::Code::kInvalidModel);
    EXPECT_EQ(ResolveCode(name, {ValueType::kDate}), Status::Code::kInvalidModel);
    EXPECT_EQ(ResolveCode(name, {ValueType::kNumber, ValueType::kNumber}),
              Status::Code::kInvalidModel);
    EXPECT_EQ(ResolveCode(name, {}), Status::Code::kInvalidModel);
    auto promoted = ResolveBuiltin(name, std::vector<ValueType>{ValueType::kBoolean});
    ASSERT_TRUE(promoted.ok());
    EXPECT_EQ(promoted->arg_types[0], ValueType::kNumber);
  }

  void ExpectBinaryNumericResolution(std::string_view name) {
    EXPECT_EQ(ResolveCode(name, {ValueType::kString, ValueType::kNumber}),
              Status::Code::kInvalidModel);
    EXPECT_EQ(ResolveCode(name, {ValueType::kNumber, ValueType::kDateTime}),
              Status::Code::kInvalidModel);
    EXPECT_EQ(ResolveCode(name, {ValueType::kNumber}), Status::Code::kInvalidModel);
    EXPECT_EQ(ResolveCode(name, {ValueType::kNumber, ValueType::kNumber, ValueType::kNumber}),
              Status::Code::kInvalidModel);
    auto promoted =
        ResolveBuiltin(name, std::vector<ValueType>{ValueType::kBoolean, ValueType::kNumber});
    ASSERT_TRUE(promoted.ok());
    EXPECT_EQ(promoted->arg_types[0], ValueType::kNumber);
    EXPECT_EQ(promoted->result_type, ValueType::kNumber);
  }

  StringPool pool_;
  EvalContext ctx_;
};

// ------------------------------------------------------------------ resolution

TEST_F(BuiltinsTest, UnknownFunctionIsUnsupported) {
  auto r = ResolveBuiltin("frobnicate", std::vector<ValueType>{ValueType::kNumber});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kUnsupported);
  EXPECT_EQ(r.status().message(), "unsupported function 'frobnicate'");
  EXPECT_EQ(ResolveCode("x-ln1p", {ValueType::kNumber}), Status::Code::kUnsupported);
  EXPECT_EQ(ResolveCode("Ln", {ValueType::kNumber}), Status::Code::kUnsupported);  // case matters
  EXPECT_EQ(ResolveCode("", {}), Status::Code::kUnsupported);
}

TEST_F(BuiltinsTest, ArityErrorsAreInvalidModel) {
  auto r = ResolveBuiltin("ln", std::vector<ValueType>{ValueType::kNumber, ValueType::kNumber});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidModel);
  EXPECT_EQ(r.status().message(), "function 'ln' expects 1 argument, got 2");
  r = ResolveBuiltin("and", std::vector<ValueType>{ValueType::kBoolean});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "function 'and' expects at least 2 arguments, got 1");
  r = ResolveBuiltin("if", std::vector<ValueType>(4, ValueType::kBoolean));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "function 'if' expects 2 to 3 arguments, got 4");
}

TEST_F(BuiltinsTest, NamesCoverPmml44List) {
  const char* spec_names[] = {
      "+", "-", "*", "/", "min", "max", "sum", "avg", "median", "product", "log10", "ln",
      "sqrt", "abs", "exp", "pow", "threshold", "floor", "ceil", "round", "modulo", "isMissing",
      "isNotMissing", "isValid", "isNotValid", "equal", "notEqual", "lessThan", "lessOrEqual",
      "greaterThan", "greaterOrEqual", "and", "or", "not", "isIn", "isNotIn", "if", "uppercase",
      "lowercase", "stringLength", "substring", "trimBlanks", "concat", "replace", "matches",
      "formatNumber", "formatDatetime", "dateDaysSinceYear", "dateSecondsSinceYear",
      "dateSecondsSinceMidnight", "normalCDF", "normalPDF", "stdNormalCDF", "stdNormalPDF", "erf",
      "normalIDF", "stdNormalIDF", "expm1", "hypot", "ln1p", "rint", "sin", "asin", "sinh", "cos",
      "acos", "cosh", "tan", "atan", "tanh"};
  std::vector<std::string_view> names = BuiltinNames();
  for (const char* n : spec_names) {
    EXPECT_TRUE(IsBuiltinName(n)) << n;
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  }
  EXPECT_EQ(names.size(), std::size(spec_names) + 1);  // + atan2 (extension)
  EXPECT_TRUE(IsBuiltinName("atan2"));
  EXPECT_FALSE(IsBuiltinName("x-atan2"));
  EXPECT_FALSE(IsBuiltinName("log"));
}

// ------------------------------------------------------------------ arithmetic

TEST_F(BuiltinsTest, AddMissingAndInvalid) {
  EXPECT_EQ(Value("+", {Num(2.5), Num(4)}), 6.5);
  EXPECT_EQ(Value("+", {Bool(true), Num(2)}), 3);
  EXPECT_EQ(Value("+", {Num(1e308), Num(1e308)}), kInf);  // overflow is not a domain error
  ExpectInvalid("+", {Num(kInf), Num(-kInf)});
  ExpectStrictArgs("+", {Num(2.5), Num(4)});
  ExpectBinaryNumericResolution("+");
}

TEST_F(BuiltinsTest, SubtractMissingAndInvalid) {
  EXPECT_EQ(Value("-", {Num(2.5), Num(4)}), -1.5);
  ExpectInvalid("-", {Num(kInf), Num(kInf)});
  ExpectStrictArgs("-", {Num(2.5), Num(4)});
  ExpectBinaryNumericResolution("-");
}

TEST_F(BuiltinsTest, MultiplyMissingAndInvalid) {
  EXPECT_EQ(Value("*", {Num(2.5), Num(4)}), 10);
  EXPECT_EQ(Value("*", {Num(-3), Bool(false)}), 0);
  ExpectInvalid("*", {Num(kInf), Num(0)});
  ExpectStrictArgs("*", {Num(2.5), Num(4)});
  ExpectBinaryNumericResolution("*");
}

TEST_F(BuiltinsTest, DivideMissingAndInvalid) {
  EXPECT_EQ(Value("/", {Num(1), Num(4)}), 0.25);
  EXPECT_EQ(Value("/", {Num(1), Num(3)}), 1.0 / 3);
  ExpectInvalid("/", {Num(1), Num(0)});
  ExpectInvalid("/", {Num(-1), Num(0)});
  ExpectInvalid("/", {Num(0), Num(0)});
  ExpectInvalid("/", {Num(1), Num(-0.0)});
  ExpectInvalid("/", {Num(kInf), Num(kInf)});
  ExpectStrictArgs("/", {Num(1), Num(4)});
  ExpectBinaryNumericResolution("/");
}

// ------------------------------------------------------------------ aggregates

TEST_F(BuiltinsTest, MinMissingAndInvalid) {
  EXPECT_EQ(Value("min", {Num(2.5), Num(4), Num(1.5)}), 1.5);
  EXPECT_EQ(Value("min", {Missing(), Num(1), Num(2), Num(3)}), 1);
  EXPECT_EQ(Value("min", {Num(-kInf), Num(0)}), -kInf);
  ExpectAggregateArgs("min");
}

TEST_F(BuiltinsTest, MaxMissingAndInvalid) {
  EXPECT_EQ(Value("max", {Num(2.5), Num(4), Num(1.5)}), 4);
  EXPECT_EQ(Value("max", {Missing(), Num(1), Num(2), Num(3)}), 3);
  EXPECT_EQ(Value("max", {Num(-7)}), -7);
  ExpectAggregateArgs("max");
}

TEST_F(BuiltinsTest, SumMissingAndInvalid) {
  EXPECT_EQ(Value("sum", {Num(2.5), Num(4), Num(1.5)}), 8);
  EXPECT_EQ(Value("sum", {Missing(), Num(1), Num(2), Num(3)}), 6);
  ExpectInvalid("sum", {Num(kInf), Num(-kInf)});
  ExpectAggregateArgs("sum");
}

TEST_F(BuiltinsTest, AvgMissingAndInvalid) {
  EXPECT_EQ(Value("avg", {Num(2.5), Num(4), Num(1.5)}), 8.0 / 3);
  // "It should be noted that this has an effect on how avg is computed": missing not counted.
  EXPECT_EQ(Value("avg", {Missing(), Num(1), Num(2), Num(3)}), 2);
  ExpectAggregateArgs("avg");
}

TEST_F(BuiltinsTest, MedianMissingAndInvalid) {
  EXPECT_EQ(Value("median", {Num(5), Num(1), Num(3)}), 3);
  EXPECT_EQ(Value("median", {Num(5), Num(1), Num(3), Num(10)}), 4);
  EXPECT_EQ(Value("median", {Num(5), Missing(), Num(1)}), 3);
  std::vector<Arg> many;
  for (int i = 100; i > 0; --i) many.push_back(Num(i));
  EXPECT_EQ(Value("median", many), 50.5);
  many.push_back(Missing());
  many.push_back(Num(101));
  EXPECT_EQ(Value("median", many), 51);
  ExpectAggregateArgs("median");
}

TEST_F(BuiltinsTest, ProductMissingAndInvalid) {
  EXPECT_EQ(Value("product", {Num(2.5), Num(4), Num(1.5)}), 15);
  EXPECT_EQ(Value("product", {Missing(), Num(1), Num(2), Num(3)}), 6);
  ExpectInvalid("product", {Num(kInf), Num(0)});
  ExpectAggregateArgs("product");
}

// ------------------------------------------------------------------ mathematical functions

TEST_F(BuiltinsTest, Log10MissingAndInvalid) {
  EXPECT_EQ(Value("log10", {Num(1000)}), 3);
  EXPECT_EQ(Value("log10", {Num(1)}), 0);
  EXPECT_EQ(Value("log10", {Num(kInf)}), kInf);
  ExpectInvalid("log10", {Num(0)});
  ExpectInvalid("log10", {Num(-1)});
  ExpectUnaryNumeric("log10", 42);
}

TEST_F(BuiltinsTest, LnMissingAndInvalid) {
  EXPECT_DOUBLE_EQ(Value("ln", {Num(std::exp(2.0))}), 2);
  EXPECT_EQ(Value("ln", {Num(1)}), 0);
  ExpectInvalid("ln", {Num(0)});
  ExpectInvalid("ln", {Num(-0.0)});
  ExpectInvalid("ln", {Num(-1)});
  ExpectUnaryNumeric("ln", 42);
}

TEST_F(BuiltinsTest, SqrtMissingAndInvalid) {
  EXPECT_EQ(Value("sqrt", {Num(16)}), 4);
  EXPECT_EQ(Value("sqrt", {Num(0)}), 0);
  ExpectInvalid("sqrt", {Num(-1)});
  ExpectUnaryNumeric("sqrt", 2);
}

TEST_F(BuiltinsTest, AbsMissingAndInvalid) {
  EXPECT_EQ(Value("abs", {Num(-2.5)}), 2.5);
  EXPECT_EQ(Value("abs", {Num(3)}), 3);
  EXPECT_EQ(Value("abs", {Num(-kInf)}), kInf);
  ExpectUnaryNumeric("abs", -1);
}

TEST_F(BuiltinsTest, ExpMissingAndInvalid) {
  EXPECT_EQ(Value("exp", {Num(0)}), 1);
  EXPECT_DOUBLE_EQ(Value("exp", {Num(1)}), 2.718281828459045);
  EXPECT_EQ(Value("exp", {Num(-kInf)}), 0);
  EXPECT_EQ(Value("exp", {Num(1000)}), kInf);  // overflow, not a domain error
  ExpectUnaryNumeric("exp", 0.5);
}

TEST_F(BuiltinsTest, PowMissingAndInvalid) {
  EXPECT_EQ(Value("pow", {Num(2), Num(10)}), 1024);
  EXPECT_EQ(Value("pow", {Num(2), Num(-2)}), 0.25);
  EXPECT_EQ(Value("pow", {Num(-2), Num(3)}), -8);
  EXPECT_EQ(Value("pow", {Num(0), Num(0)}), 1);
  EXPECT_EQ(Value("pow", {Num(0), Num(2)}), 0);
  ExpectInvalid("pow", {Num(0), Num(-1)});     // pole
  ExpectInvalid("pow", {Num(-8), Num(1.0 / 3)});  // no real root
  ExpectStrictArgs("pow", {Num(2), Num(10)});
  ExpectBinaryNumericResolution("pow");
}

TEST_F(BuiltinsTest, ThresholdMissingAndInvalid) {
  EXPECT_EQ(Value("threshold", {Num(3), Num(2)}), 1);
  EXPECT_EQ(Value("threshold", {Num(3), Num(3)}), 0);
  EXPECT_EQ(Value("threshold", {Num(2), Num(3)}), 0);
  EXPECT_EQ(ResultType("threshold", {Num(3), Num(2)}), ValueType::kNumber);
  ExpectStrictArgs("threshold", {Num(3), Num(2)});
  ExpectBinaryNumericResolution("threshold");
}

TEST_F(BuiltinsTest, FloorMissingAndInvalid) {
  EXPECT_EQ(Value("floor", {Num(1.99)}), 1);
  EXPECT_EQ(Value("floor", {Num(-1.5)}), -2);
  EXPECT_EQ(Value("floor", {Num(3)}), 3);
  ExpectUnaryNumeric("floor", 2.5);
}

TEST_F(BuiltinsTest, CeilMissingAndInvalid) {
  EXPECT_EQ(Value("ceil", {Num(0.01)}), 1);
  EXPECT_EQ(Value("ceil", {Num(-1.5)}), -1);
  EXPECT_EQ(Value("ceil", {Num(3)}), 3);
  ExpectUnaryNumeric("ceil", 2.5);
}

TEST_F(BuiltinsTest, RoundMissingAndInvalid) {
  // Java Math.round (jpmml-evaluator): nearest integer, ties towards positive infinity.
  EXPECT_EQ(Value("round", {Num(1.99)}), 2);
  EXPECT_EQ(Value("round", {Num(0.01)}), 0);
  EXPECT_EQ(Value("round", {Num(2.5)}), 3);
  EXPECT_EQ(Value("round", {Num(-2.5)}), -2);
  EXPECT_EQ(Value("round", {Num(-2.51)}), -3);
  EXPECT_EQ(Value("round", {Num(-0.5)}), 0);
  EXPECT_EQ(Value("round", {Num(0.49999999999999994)}), 0);  // floor(x + 0.5) would say 1
  EXPECT_EQ(Value("round", {Num(4503599627370497.0)}), 4503599627370497.0);
  EXPECT_EQ(ResultType("round", {Num(1)}), ValueType::kNumber);
  ExpectUnaryNumeric("round", 2.5);
}

TEST_F(BuiltinsTest, ModuloMissingAndInvalid) {
  // x - floor(x / y) * y: the sign of the result follows the divisor.
  EXPECT_EQ(Value("modulo", {Num(11), Num(3)}), 2);
  EXPECT_EQ(Value("modulo", {Num(9), Num(-7)}), -5);
  EXPECT_EQ(Value("modulo", {Num(-4), Num(-9)}), -4);
  EXPECT_EQ(Value("modulo", {Num(10), Num(3)}), 1);
  EXPECT_EQ(Value("modulo", {Num(10), Num(-3)}), -2);
  EXPECT_EQ(Value("modulo", {Num(-10), Num(3)}), 2);
  EXPECT_EQ(Value("modulo", {Num(-10), Num(-3)}), -1);
  EXPECT_EQ(Value("modulo", {Num(6), Num(2)}), 0);
  EXPECT_NEAR(Value("modulo", {Num(4.5), Num(1.2)}), 0.9, 1e-12);
  EXPECT_NEAR(Value("modulo", {Num(4.5), Num(-1.2)}), -0.3, 1e-12);
  EXPECT_NEAR(Value("modulo", {Num(-4.5), Num(1.2)}), 0.3, 1e-12);
  EXPECT_NEAR(Value("modulo", {Num(-4.5), Num(-1.2)}), -0.9, 1e-12);
  EXPECT_NEAR(Value("modulo", {Num(-17.2), Num(0.5)}), 0.3, 1e-12);
  EXPECT_EQ(Value("modulo", {Num(1.23e2), Num(0.6e1)}), 3);
  ExpectInvalid("modulo", {Num(1), Num(0)});
  ExpectInvalid("modulo", {Num(kInf), Num(2)});
  ExpectStrictArgs("modulo", {Num(11), Num(3)});
  ExpectBinaryNumericResolution("modulo");
}

// ------------------------------------------------------------------ value state

TEST_F(BuiltinsTest, IsMissingMissingAndInvalid) {
  EXPECT_EQ(Value("isMissing", {Missing()}), 1);
  EXPECT_EQ(Value("isMissing", {Num(1)}), 0);
  EXPECT_EQ(Value("isMissing", {Invalid()}), 0);
  EXPECT_EQ(Value("isMissing", {AsIs(Num(3))}), 0);
  EXPECT_EQ(Value("isMissing", {Missing(ValueType::kString)}), 1);
  EXPECT_EQ(Value("isMissing", {Str("alpha")}), 0);
  EXPECT_EQ(ResultType("isMissing", {Str("alpha")}), ValueType::kBoolean);
  EXPECT_EQ(ResolveCode("isMissing", {}), Status::Code::kInvalidModel);
}

TEST_F(BuiltinsTest, IsNotMissingMissingAndInvalid) {
  EXPECT_EQ(Value("isNotMissing", {Missing()}), 0);
  EXPECT_EQ(Value("isNotMissing", {Num(1)}), 1);
  EXPECT_EQ(Value("isNotMissing", {Invalid()}), 1);
  EXPECT_EQ(Value("isNotMissing", {AsIs(Num(3))}), 1);
  EXPECT_EQ(Value("isNotMissing", {Date("2004-08-20")}), 1);
  EXPECT_EQ(ResultType("isNotMissing", {Num(1)}), ValueType::kBoolean);
}

TEST_F(BuiltinsTest, IsValidMissingAndInvalid) {
  EXPECT_EQ(Value("isValid", {Missing()}), 0);
  EXPECT_EQ(Value("isValid", {Num(1)}), 1);
  EXPECT_EQ(Value("isValid", {Str("beta")}), 1);
  EXPECT_EQ(Value("isValid", {Invalid()}), 0);
  EXPECT_EQ(Value("isValid", {AsIs(Num(3))}), 0);
  EXPECT_EQ(Value("isValid", {Num(kNaN)}), 0);  // NaN is not a valid value (jpmml-evaluator)
  EXPECT_EQ(ResultType("isValid", {Num(1)}), ValueType::kBoolean);
}

TEST_F(BuiltinsTest, IsNotValidMissingAndInvalid) {
  EXPECT_EQ(Value("isNotValid", {Missing()}), 0);
  EXPECT_EQ(Value("isNotValid", {Num(1)}), 0);
  EXPECT_EQ(Value("isNotValid", {Invalid()}), 1);
  EXPECT_EQ(Value("isNotValid", {AsIs(Str("alpha"))}), 1);
  EXPECT_EQ(Value("isNotValid", {Num(kNaN)}), 1);
  EXPECT_EQ(ResultType("isNotValid", {Num(1)}), ValueType::kBoolean);
}

// ------------------------------------------------------------------ comparisons

TEST_F(BuiltinsTest, EqualMissingAndInvalid) {
  EXPECT_EQ(Value("equal", {Num(1), Num(1)}), 1);
  EXPECT_EQ(Value("equal", {Num(1), Num(2)}), 0);
  EXPECT_EQ(Value("equal", {Bool(true), Num(1)}), 1);
  EXPECT_EQ(Value("equal", {Bool(true), Bool(false)}), 0);
  EXPECT_EQ(Value("equal", {Str("alpha"), Str("alpha")}), 1);
  EXPECT_EQ(Value("equal", {Str("alpha"), Str("beta")}), 0);
  EXPECT_EQ(Value("equal", {Str("gamma"), Str("gamma")}), 1);  // overflow strings
  EXPECT_EQ(Value("equal", {Str("gamma"), Str("alpha")}), 0);
  EXPECT_EQ(Value("equal", {Date("2004-08-20"), Date("2004-08-20")}), 1);
  EXPECT_EQ(Value("equal", {Time("10:00:00"), Time("10:00:01")}), 0);
  EXPECT_EQ(ResultType("equal", {Num(1), Num(1)}), ValueType::kBoolean);
  ExpectStrictArgs("equal", {Num(1), Num(1)});
  ExpectStrictArgs("equal", {Str("alpha"), Str("beta")});
  EXPECT_EQ(ResolveCode("equal", {ValueType::kString, ValueType::kNumber}),
            Status::Code::kInvalidModel);
  EXPECT_EQ(ResolveCode("equal", {ValueType::kDate, ValueType::kDateTime}),
            Status::Code::kInvalidModel);
  EXPECT_EQ(ResolveCode("equal", {ValueType::kNumber}), Status::Code::kInvalidModel);
  auto promoted =
      ResolveBuiltin("equal", std::vector<ValueType>{ValueType::kBoolean, ValueType::kNumber});
  ASSERT_TRUE(promoted.ok());
  EXPECT_EQ(promoted->arg_types[0], ValueType::kNumber);
  auto both_bool =
      ResolveBuiltin("equal", std::vector<ValueType>{ValueType::kBoolean, ValueType::kBoolean});
  ASSERT_TRUE(both_bool.ok());
  EXPECT_EQ(both_bool->arg_types[0], ValueType::kBoolean);
}

TEST_F(BuiltinsTest, NotEqualMissingAndInvalid) {
  EXPECT_EQ(Value("notEqual", {Num(1), Num(3)}), 1);
  EXPECT_EQ(Value("notEqual", {Num(3), Num(3)}), 0);
  EXPECT_EQ(Value("notEqual", {Str("alpha"), Str("beta")}), 1);
  EXPECT_EQ(Value("notEqual", {Str("beta"), Str("beta")}), 0);
  ExpectStrictArgs("notEqual", {Num(1), Num(3)});
  EXPECT_EQ(ResolveCode("notEqual", {ValueType::kNumber, ValueType::kString}),
            Status::Code::kInvalidModel);
}

TEST_F(BuiltinsTest, LessThanMissingAndInvalid) {
  EXPECT_EQ(Value("lessThan", {Num(1), Num(3)}), 1);
  EXPECT_EQ(Value("lessThan", {Num(3), Num(3)}), 0);
  EXPECT_EQ(Value("lessThan", {Bool(false), Num(0.5)}), 1);
  EXPECT_EQ(Value("lessThan", {Bool(true), Num(0.5)}), 0);
  EXPECT_EQ(Value("lessThan", {Str("abc"), Str("abd")}), 1);  // by text, not by code
  EXPECT_EQ(Value("lessThan", {Str("beta"), Str("alpha")}), 0);
  EXPECT_EQ(Value("lessThan", {Str("B"), Str("a")}), 1);
  EXPECT_EQ(Value("lessThan", {Date("2004-08-19"), Date("2004-08-20")}), 1);
  EXPECT_EQ(Value("lessThan", {Num(2), Num(10)}), 1);  // numerically, not "10" < "2"
  ExpectStrictArgs("lessThan", {Num(1), Num(3)});
  ExpectStrictArgs("lessThan", {Str("abc"), Str("abd")});
  EXPECT_EQ(ResolveCode("lessThan", {ValueType::kString, ValueType::kNumber}),
            Status::Code::kInvalidModel);
}

TEST_F(BuiltinsTest, LessOrEqualMissingAndInvalid) {
  EXPECT_EQ(Value("lessOrEqual", {Num(1), Num(1)}), 1);
  EXPECT_EQ(Value("lessOrEqual", {Num(2), Num(1)}), 0);
  EXPECT_EQ(Value("lessOrEqual", {Bool(false), Num(0)}), 1);
  EXPECT_EQ(Value("lessOrEqual", {Str("alpha"), Str("alpha")}), 1);
  EXPECT_EQ(Value("lessOrEqual", {Str("beta"), Str("alpha")}), 0);
  ExpectStrictArgs("lessOrEqual", {Num(1), Num(1)});
  EXPECT_EQ(ResolveCode("lessOrEqual", {ValueType::kTime, ValueType::kNumber}),
            Status::Code::kInvalidModel);
}

TEST_F(BuiltinsTest, GreaterThanMissingAndInvalid) {
  EXPECT_EQ(Value("greaterThan", {Num(3), Num(1)}), 1);
  EXPECT_EQ(Value("greaterThan", {Num(1), Num(1)}), 0);
  EXPECT_EQ(Value("greaterThan", {Bool(true), Num(0.5)}), 1);
  EXPECT_EQ(Value("greaterThan", {Str("beta"), Str("alpha")}), 1);
  EXPECT_EQ(Value("greaterThan", {DateTime("2004-08-20T00:00:01"), DateTime("2004-08-20T00:00:00")}),
            1);
  ExpectStrictArgs("greaterThan", {Num(3), Num(1)});
  EXPECT_EQ(ResolveCode("greaterThan", {ValueType::kString, ValueType::kBoolean}),
            Status::Code::kInvalidModel);
}

TEST_F(BuiltinsTest, GreaterOrEqualMissingAndInvalid) {
  EXPECT_EQ(Value("greaterOrEqual", {Num(3), Num(3)}), 1);
  EXPECT_EQ(Value("greaterOrEqual", {Num(2), Num(3)}), 0);
  EXPECT_EQ(Value("greaterOrEqual", {Bool(false), Num(1)}), 0);
  EXPECT_EQ(Value("greaterOrEqual", {Str("alpha"), Str("beta")}), 0);
  ExpectStrictArgs("greaterOrEqual", {Num(3), Num(3)});
  EXPECT_EQ(ResolveCode("greaterOrEqual", {ValueType::kNumber, ValueType::kString}),
            Status::Code::kInvalidModel);
}

// ------------------------------------------------------------------ boolean functions

TEST_F(BuiltinsTest, AndTruthTableWithMissing) {
  EXPECT_EQ(Value("and", {Bool(true), Bool(true)}), 1);
  EXPECT_EQ(Value("and", {Bool(true), Bool(false)}), 0);
  EXPECT_EQ(Value("and", {Bool(false), Bool(true)}), 0);
  EXPECT_EQ(Value("and", {Bool(false), Bool(false)}), 0);
  EXPECT_EQ(Value("and", {Bool(true), Bool(true), Bool(true)}), 1);
  EXPECT_EQ(Value("and", {Bool(true), Bool(true), Bool(false)}), 0);
  // Any missing input -> missing (PMML built-in rule; jpmml-evaluator agrees), even when
  // another input alone would decide the result.
  ExpectMissing("and", {Bool(true), Missing(ValueType::kBoolean)});
  ExpectMissing("and", {Bool(false), Missing(ValueType::kBoolean)});
  ExpectMissing("and", {Missing(ValueType::kBoolean), Bool(false)});
  ExpectMissing("and", {Missing(ValueType::kBoolean), Missing(ValueType::kBoolean)});
  EXPECT_EQ(ResultType("and", {Bool(true), Bool(true)}), ValueType::kBoolean);
}

TEST_F(BuiltinsTest, AndMissingAndInvalid) {
  ExpectStrictArgs("and", {Bool(true), Bool(true)});
  EXPECT_EQ(Value("and", {Num(1), Num(1)}), 1);  // numbers 0/1 are booleans
  ExpectInvalid("and", {Bool(true), Num(2)});    // 2 is not a boolean
  EXPECT_EQ(ResolveCode("and", {ValueType::kBoolean, ValueType::kString}),
            Status::Code::kInvalidModel);
  EXPECT_EQ(ResolveCode("and", {ValueType::kBoolean}), Status::Code::kInvalidModel);
}

TEST_F(BuiltinsTest, OrTruthTableWithMissing) {
  EXPECT_EQ(Value("or", {Bool(true), Bool(true)}), 1);
  EXPECT_EQ(Value("or", {Bool(true), Bool(false)}), 1);
  EXPECT_EQ(Value("or", {Bool(false), Bool(true)}), 1);
  EXPECT_EQ(Value("or", {Bool(false), Bool(false)}), 0);
  EXPECT_EQ(Value("or", {Bool(false), Bool(false), Bool(true)}), 1);
  ExpectMissing("or", {Bool(true), Missing(ValueType::kBoolean)});
  ExpectMissing("or", {Bool(false), Missing(ValueType::kBoolean)});
  ExpectMissing("or", {Missing(ValueType::kBoolean), Bool(true)});
  ExpectMissing("or", {Missing(ValueType::kBoolean), Missing(ValueType::kBoolean)});
}

TEST_F(BuiltinsTest, OrMissingAndInvalid) {
  ExpectStrictArgs("or", {Bool(false), Bool(true)});
  ExpectInvalid("or", {Bool(false), Num(0.5)});
  EXPECT_EQ(ResolveCode("or", {ValueType::kDate, ValueType::kBoolean}),
            Status::Code::kInvalidModel);
}

TEST_F(BuiltinsTest, NotTruthTableWithMissing) {
  EXPECT_EQ(Value("not", {Bool(true)}), 0);
  EXPECT_EQ(Value("not", {Bool(false)}), 1);
  ExpectMissing("not", {Missing(ValueType::kBoolean)});
  EXPECT_EQ(ResultType("not", {Bool(true)}), ValueType::kBoolean);
}

TEST_F(BuiltinsTest, NotMissingAndInvalid) {
  ExpectStrictArgs("not", {Bool(true)});
  EXPECT_EQ(Value("not", {Num(0)}), 1);
  ExpectInvalid("not", {Num(-1)});
  EXPECT_EQ(ResolveCode("not", {ValueType::kString}), Status::Code::kInvalidModel);
  EXPECT_EQ(ResolveCode("not", {ValueType::kBoolean, ValueType::kBoolean}),
            Status::Code::kInvalidModel);
}

TEST_F(BuiltinsTest, IsInMissingAndInvalid) {
  EXPECT_EQ(Value("isIn", {Num(3), Num(1), Num(2), Num(3)}), 1);
  EXPECT_EQ(Value("isIn", {Num(0), Num(1), Num(2), Num(3)}), 0);
  EXPECT_EQ(Value("isIn", {Str("alpha"), Str("beta"), Str("alpha")}), 1);
  EXPECT_EQ(Value("isIn", {Str("delta"), Str("beta"), Str("alpha")}), 0);
  EXPECT_EQ(Value("isIn", {Bool(true), Num(1)}), 1);
  EXPECT_EQ(ResultType("isIn", {Num(3), Num(1)}), ValueType::kBoolean);
  ExpectStrictArgs("isIn", {Num(3), Num(1), Num(2), Num(3)});
  ExpectStrictArgs("isIn", {Str("alpha"), Str("beta"), Str("alpha")});
  EXPECT_EQ(ResolveCode("isIn", {ValueType::kString, ValueType::kString, ValueType::kNumber}),
            Status::Code::kInvalidModel);
  EXPECT_EQ(ResolveCode("isIn", {ValueType::kNumber}), Status::Code::kInvalidModel);
}

TEST_F(BuiltinsTest, IsNotInMissingAndInvalid) {
  EXPECT_EQ(Value("isNotIn", {Num(0), Num(1), Num(2), Num(3)}), 1);
  EXPECT_EQ(Value("isNotIn", {Num(2), Num(1), Num(2), Num(3)}), 0);
  EXPECT_EQ(Value("isNotIn", {Str("delta"), Str("alpha")}), 1);
  EXPECT_EQ(Value("isNotIn", {Str("alpha"), Str("alpha")}), 0);
  ExpectStrictArgs("isNotIn", {Num(0), Num(1), Num(2), Num(3)});
  EXPECT_EQ(ResolveCode("isNotIn", {ValueType::kNumber, ValueType::kDate}),
            Status::Code::kInvalidModel);
}

TEST_F(BuiltinsTest, IfMissingAndInvalid) {
  EXPECT_EQ(Text("if", {Bool(true), Str("left")}), "left");
  EXPECT_EQ(Text("if", {Bool(true), Str("left"), Str("right")}), "left");
  EXPECT_EQ(Text("if", {Bool(false), Str("left"), Str("right")}), "right");
  // "The ELSE part is optional. If the ELSE part is absent, then a missing value is returned"
  ExpectMissing("if", {Bool(false), Str("left")});
  ExpectMissing("if", {Missing(ValueType::kBoolean), Num(1), Num(2)});
  ExpectInvalid("if", {Invalid(kNaN, ValueType::kBoolean), Num(1), Num(2)});
  EXPECT_EQ(Value("if", {AsIs(Bool(false)), Num(1), Num(2)}), 2);
  // Only the taken branch matters; its state is passed through.
  EXPECT_EQ(Value("if", {Bool(true), Num(5), Missing()}), 5);
  ExpectMissing("if", {Bool(true), Missing(), Num(5)});
  Cell as_is = Eval("if", {Bool(false), Num(1), AsIs(Num(7))});
  EXPECT_EQ(as_is.s, CellState::kInvalid);
  EXPECT_EQ(as_is.v, 7);
  ExpectInvalid("if", {Num(2), Num(1), Num(2)});  // condition is not a boolean
  EXPECT_EQ(Value("if", {Num(1), Num(1), Num(2)}), 1);
  EXPECT_EQ(ResultType("if", {Bool(true), Str("a"), Str("b")}), ValueType::kString);
  EXPECT_EQ(ResultType("if", {Bool(true), Date("2004-08-20")}), ValueType::kDate);
  EXPECT_EQ(ResultType("if", {Bool(true), Bool(true), Num(2)}), ValueType::kNumber);
  EXPECT_EQ(ResolveCode("if", {ValueType::kBoolean, ValueType::kString, ValueType::kNumber}),
            Status::Code::kInvalidModel);
  EXPECT_EQ(ResolveCode("if", {ValueType::kString, ValueType::kNumber}),
            Status::Code::kInvalidModel);
  EXPECT_EQ(ResolveCode("if", {ValueType::kBoolean}), Status::Code::kInvalidModel);
}

// ------------------------------------------------------------------ string functions

TEST_F(BuiltinsTest, UppercaseMissingAndInvalid) {
  EXPECT_EQ(Text("uppercase", {Str("Value")}), "VALUE");
  EXPECT_EQ(Text("uppercase", {Str("")}), "");
  EXPECT_EQ(Text("uppercase", {Str("\xC3\xA9t\xC3\xA9")}), "\xC3\x89T\xC3\x89");  // été -> ÉTÉ
  EXPECT_EQ(Text("uppercase", {Bool(true)}), "TRUE");
  EXPECT_EQ(ResultType("uppercase", {Str("a")}), ValueType::kString);
  ExpectStrictArgs("uppercase", {Str("Value")});
  EXPECT_EQ(ResolveCode("uppercase", {}), Status::Code::kInvalidModel);
}

TEST_F(BuiltinsTest, LowercaseMissingAndInvalid) {
  EXPECT_EQ(Text("lowercase", {Str("Value")}), "value");
  EXPECT_EQ(Text("lowercase", {Str("\xC3\x89T\xC3\x89")}), "\xC3\xA9t\xC3\xA9");
  EXPECT_EQ(Text("lowercase", {Str("ABC123xyz")}), "abc123xyz");
  ExpectStrictArgs("lowercase", {Str("Value")});
}

TEST_F(BuiltinsTest, StringLengthMissingAndInvalid) {
  EXPECT_EQ(Value("stringLength", {Str("")}), 0);
  EXPECT_EQ(Value("stringLength", {Str("aBc9x")}), 5);
  EXPECT_EQ(Value("stringLength", {Str("h\xC3\xA9llo")}), 5);  // characters, not bytes
  EXPECT_EQ(ResultType("stringLength", {Str("a")}), ValueType::kNumber);
  ExpectStrictArgs("stringLength", {Str("aBc9x")});
}

TEST_F(BuiltinsTest, SubstringMissingAndInvalid) {
  EXPECT_EQ(Text("substring", {Str("aBc9x"), Num(2), Num(3)}), "Bc9");
  EXPECT_EQ(Text("substring", {Str(""), Num(1), Num(0)}), "");
  EXPECT_EQ(Text("substring", {Str(""), Num(1), Num(2147483647)}), "");
  EXPECT_EQ(Text("substring", {Str("value"), Num(1), Num(0)}), "");
  EXPECT_EQ(Text("substring", {Str("value"), Num(1), Num(4)}), "valu");
  EXPECT_EQ(Text("substring", {Str("value"), Num(1), Num(5)}), "value");
  EXPECT_EQ(Text("substring", {Str("value"), Num(1), Num(2147483647)}), "value");
  EXPECT_EQ(Text("substring", {Str("value"), Num(2), Num(4)}), "alue");
  EXPECT_EQ(Text("substring", {Str("value"), Num(6), Num(2147483647)}), "");
  EXPECT_EQ(Text("substring", {Str("value"), Num(2147483647), Num(2147483647)}), "");
  EXPECT_EQ(Text("substring", {Str("h\xC3\xA9llo"), Num(2), Num(3)}), "\xC3\xA9ll");
  EXPECT_EQ(Text("substring", {Num(12345), Num(2), Num(2)}), "23");
  // Domain errors: startPos < 1, negative length, non-integer positions.
  ExpectInvalid("substring", {Str("value"), Num(0), Num(2)});
  ExpectInvalid("substring", {Str("value"), Num(1), Num(-1)});
  ExpectInvalid("substring", {Str("value"), Num(1.5), Num(2)});
  ExpectInvalid("substring", {Str("value"), Num(1), Num(kInf)});
  ExpectStrictArgs("substring", {Str("aBc9x"), Num(2), Num(3)});
  EXPECT_EQ(ResolveCode("substring", {ValueType::kString, ValueType::kString, ValueType::kNumber}),
            Status::Code::kInvalidModel);
  EXPECT_EQ(ResolveCode("substring", {ValueType::kString, ValueType::kNumber}),
            Status::Code::kInvalidModel);
}

TEST_F(BuiltinsTest, TrimBlanksMissingAndInvalid) {
  EXPECT_EQ(Text("trimBlanks", {Str("\tvalue\t")}), "value");
  EXPECT_EQ(Text("trimBlanks", {Str("  a b  ")}), "a b");
  EXPECT_EQ(Text("trimBlanks", {Str("   ")}), "");
  EXPECT_EQ(Text("trimBlanks", {Str("\n\r x\r\n")}), "x");
  ExpectStrictArgs("trimBlanks", {Str("  value ")});
}

TEST_F(BuiltinsTest, ConcatMissingAndInvalid) {
  EXPECT_EQ(Text("concat", {Str("2"), Str("-"), Str("2000")}), "2-2000");
  EXPECT_EQ(Text("concat", {Num(2), Str("-"), Num(2000)}), "2-2000");
  EXPECT_EQ(Text("concat", {Num(2.5), Str("/"), Bool(true), Str("/"), Date("2004-08-20")}),
            "2.5/true/2004-08-20");
  // Missing inputs are skipped (jpmml-evaluator).
  EXPECT_EQ(Text("concat", {Str("2"), Missing(ValueType::kString), Str("-"), Missing(),
                            Str("2000")}),
            "2-2000");
  EXPECT_EQ(Text("concat", {Missing(ValueType::kString), Missing(ValueType::kString)}), "");
  ExpectInvalid("concat", {Str("a"), Invalid(kNaN, ValueType::kString)});
  EXPECT_EQ(Text("concat", {Str("a"), AsIs(Str("beta"))}), "abeta");
  EXPECT_EQ(ResultType("concat", {Num(1), Num(2)}), ValueType::kString);
  EXPECT_EQ(ResolveCode("concat", {ValueType::kString}), Status::Code::kInvalidModel);
}

TEST_F(BuiltinsTest, ReplaceMissingAndInvalid) {
  EXPECT_EQ(Text("replace", {Str("BBBB"), Str("B+"), Str("c")}), "c");
  EXPECT_EQ(Text("replace", {Str("BBBB"), Str("B+?"), Str("c")}), "cccc");
  EXPECT_EQ(Text("replace", {Str("BBBB"), Str("B"), Str("$$")}), "$$$$");
  EXPECT_EQ(Text("replace", {Str("BBBB"), Str("B"), Str("\\\\")}), "\\\\\\\\");
  EXPECT_EQ(Text("replace", {Str("$10"), Str("\\$(\\d+)"), Str("$1 USD")}), "10 USD");
  const char* repeated = "(\\w+)\\s+\\1";
  EXPECT_EQ(Text("replace", {Str("Hello World"), Str(repeated), Str("$1 (repeated)")}),
            "Hello World");
  EXPECT_EQ(Text("replace", {Str("Hello Hello World World"), Str(repeated), Str("$1 (repeated)")}),
            "Hello (repeated) World (repeated)");
  // XQuery fn:replace examples.
  EXPECT_EQ(Text("replace", {Str("abracadabra"), Str("bra"), Str("*")}), "a*cada*");
  EXPECT_EQ(Text("replace", {Str("abracadabra"), Str("a.*a"), Str("*")}), "*");
  EXPECT_EQ(Text("replace", {Str("abracadabra"), Str("a.*?a"), Str("*")}), "*c*bra");
  EXPECT_EQ(Text("replace", {Str("abracadabra"), Str("a"), Str("")}), "brcdbr");
  EXPECT_EQ(Text("replace", {Str("abracadabra"), Str("a(.)"), Str("a$1$1")}), "abbraccaddabbra");
  // Malformed replacement or pattern -> invalid.
  ExpectInvalid("replace", {Str("BBBB"), Str("B"), Str("$")});
  ExpectInvalid("replace", {Str("BBBB"), Str("B"), Str("\\")});
  ExpectInvalid("replace", {Str("BBBB"), Str("(B"), Str("c")});
  ExpectStrictArgs("replace", {Str("BBBB"), Str("B+"), Str("c")});
  EXPECT_EQ(ResultType("replace", {Str("a"), Str("b"), Str("c")}), ValueType::kString);
}

TEST_F(BuiltinsTest, MatchesMissingAndInvalid) {
  const char* months[] = {"January", "February", "March",     "April",   "May",      "June",
                          "July",    "August",   "September", "October", "November", "December"};
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(Value("matches", {Str(months[i]), Str("ar?y")}), (i == 0 || i == 1 || i == 4))
        << months[i];
  }
  EXPECT_EQ(Value("matches", {Str("abracadabra"), Str("bra")}), 1);
  EXPECT_EQ(Value("matches", {Str("abracadabra"), Str("^a.*a$")}), 1);
  EXPECT_EQ(Value("matches", {Str("abracadabra"), Str("^bra")}), 0);
  EXPECT_EQ(Value("matches", {Str("Hello Hello"), Str("(\\w+)\\s+\\1")}), 1);
  EXPECT_EQ(Value("matches", {Num(2024), Str("^20")}), 1);
  ExpectInvalid("matches", {Str("abc"), Str("[a-")});
  EXPECT_EQ(ResultType("matches", {Str("a"), Str("b")}), ValueType::kBoolean);
  ExpectStrictArgs("matches", {Str("abracadabra"), Str("bra")});
}

TEST_F(BuiltinsTest, FormatNumberMissingAndInvalid) {
  EXPECT_EQ(Text("formatNumber", {Num(2), Str("%3d")}), "  2");
  EXPECT_EQ(Text("formatNumber", {Num(-42), Str("%d")}), "-42");
  EXPECT_EQ(Text("formatNumber", {Num(3.14159), Str("%.2f")}), "3.14");
  EXPECT_EQ(Text("formatNumber", {Num(3.14159), Str("Value: %06.1f%%")}), "Value: 0003.1%");
  EXPECT_EQ(Text("formatNumber", {Num(255), Str("%x")}), "ff");
  EXPECT_EQ(Text("formatNumber", {Num(1234.5), Str("%e")}), "1.234500e+03");
  EXPECT_EQ(Text("formatNumber", {Num(7), Str("%-4dx")}), "7   x");
  EXPECT_EQ(Text("formatNumber", {Num(7), Str("%ld")}), "7");
  EXPECT_EQ(Text("formatNumber", {Num(2.5), Str("[%s]")}), "[2.5]");
  EXPECT_EQ(Text("formatNumber", {Num(2), Str("no conversion")}), "no conversion");
  // Domain errors: integer conversion of a fraction, several or unknown conversions.
  ExpectInvalid("formatNumber", {Num(2.5), Str("%d")});
  ExpectInvalid("formatNumber", {Num(2), Str("%d %d")});
  ExpectInvalid("formatNumber", {Num(2), Str("%q")});
  ExpectInvalid("formatNumber", {Num(2), Str("%")});
  ExpectInvalid("formatNumber", {Num(2), Str("%n")});
  ExpectInvalid("formatNumber", {Num(2), Str("%99999d")});
  ExpectStrictArgs("formatNumber", {Num(2), Str("%3d")});
  EXPECT_EQ(ResolveCode("formatNumber", {ValueType::kString, ValueType::kString}),
            Status::Code::kInvalidModel);
  EXPECT_EQ(ResultType("formatNumber", {Num(1), Str("%d")}), ValueType::kString);
}

TEST_F(BuiltinsTest, FormatDatetimeMissingAndInvalid) {
  EXPECT_EQ(Text("formatDatetime", {Date("2004-08-20"), Str("%m/%d/%y")}), "08/20/04");
  EXPECT_EQ(Text("formatDatetime", {Date("2004-08-20"), Str("%Y-%m-%d")}), "2004-08-20");
  EXPECT_EQ(Text("formatDatetime", {Date("2004-08-20"), Str("%A %B %e, %Y (day %j)")}),
            "Friday August 20, 2004 (day 233)");
  EXPECT_EQ(Text("formatDatetime", {Date("2004-08-05"), Str("%a %b %e")}), "Thu Aug  5");
  EXPECT_EQ(Text("formatDatetime", {DateTime("2004-08-20T13:05:09"), Str("%H:%M:%S %I %p %%")}),
            "13:05:09 01 PM %");
  EXPECT_EQ(Text("formatDatetime", {DateTime("1969-12-31T23:59:59"), Str("%F %T")}),
            "1969-12-31 23:59:59");
  EXPECT_EQ(Text("formatDatetime", {Date("2004-08-20"), Str("%D")}), "08/20/04");
  ExpectInvalid("formatDatetime", {Date("2004-08-20"), Str("%Q")});
  ExpectInvalid("formatDatetime", {Date("2004-08-20"), Str("trailing %")});
  ExpectStrictArgs("formatDatetime", {Date("2004-08-20"), Str("%m/%d/%y")});
  EXPECT_EQ(ResolveCode("formatDatetime", {ValueType::kNumber, ValueType::kString}),
            Status::Code::kInvalidModel);
  EXPECT_EQ(ResolveCode("formatDatetime", {ValueType::kTime, ValueType::kString}),
            Status::Code::kInvalidModel);
  EXPECT_EQ(ResultType("formatDatetime", {Date("2004-08-20"), Str("%Y")}), ValueType::kString);
}

// ------------------------------------------------------------------ date functions

TEST_F(BuiltinsTest, DateDaysSinceYearMissingAndInvalid) {
  EXPECT_EQ(Value("dateDaysSinceYear", {Date("2003-04-01"), Num(1960)}), 15796);
  EXPECT_EQ(Value("dateDaysSinceYear", {DateTime("2003-04-01T00:00:00"), Num(1960)}), 15796);
  EXPECT_EQ(Value("dateDaysSinceYear", {DateTime("2003-04-01T23:59:59"), Num(1960)}), 15796);
  EXPECT_EQ(Value("dateDaysSinceYear", {Date("1959-12-31"), Num(1960)}), -1);
  EXPECT_EQ(Value("dateDaysSinceYear", {Date("1970-01-01"), Num(1970)}), 0);
  ExpectInvalid("dateDaysSinceYear", {Date("2003-04-01"), Num(1960.5)});
  ExpectStrictArgs("dateDaysSinceYear", {Date("2003-04-01"), Num(1960)});
  EXPECT_EQ(ResolveCode("dateDaysSinceYear", {ValueType::kNumber, ValueType::kNumber}),
            Status::Code::kInvalidModel);
  EXPECT_EQ(ResolveCode("dateDaysSinceYear", {ValueType::kDate, ValueType::kString}),
            Status::Code::kInvalidModel);
}

TEST_F(BuiltinsTest, DateSecondsSinceYearMissingAndInvalid) {
  EXPECT_EQ(Value("dateSecondsSinceYear", {DateTime("1960-01-03T03:30:03"), Num(1960)}), 185403);
  EXPECT_EQ(Value("dateSecondsSinceYear", {Date("1960-01-02"), Num(1960)}), 86400);
  EXPECT_EQ(Value("dateSecondsSinceYear", {DateTime("1959-12-31T23:59:00"), Num(1960)}), -60);
  ExpectInvalid("dateSecondsSinceYear", {DateTime("1960-01-03T03:30:03"), Num(kInf)});
  ExpectStrictArgs("dateSecondsSinceYear", {DateTime("1960-01-03T03:30:03"), Num(1960)});
  EXPECT_EQ(ResolveCode("dateSecondsSinceYear", {ValueType::kTime, ValueType::kNumber}),
            Status::Code::kInvalidModel);
}

TEST_F(BuiltinsTest, DateSecondsSinceMidnightMissingAndInvalid) {
  EXPECT_EQ(Value("dateSecondsSinceMidnight", {Time("05:23:30")}), 19410);
  EXPECT_EQ(Value("dateSecondsSinceMidnight", {DateTime("1960-01-01T05:23:30")}), 19410);
  EXPECT_EQ(Value("dateSecondsSinceMidnight", {DateTime("1969-12-31T23:59:59")}), 86399);
  EXPECT_EQ(Value("dateSecondsSinceMidnight", {Time("00:00:01.75")}), 1);
  ExpectStrictArgs("dateSecondsSinceMidnight", {Time("05:23:30")});
  EXPECT_EQ(ResolveCode("dateSecondsSinceMidnight", {ValueType::kDate}),
            Status::Code::kInvalidModel);
  EXPECT_EQ(ResultType("dateSecondsSinceMidnight", {Time("05:23:30")}), ValueType::kNumber);
}

// ------------------------------------------------------------------ distributions

TEST_F(BuiltinsTest, NormalCDFMissingAndInvalid) {
  EXPECT_NEAR(Value("normalCDF", {Num(0), Num(1), Num(2)}), 0.3085375387259869, 1e-15);
  EXPECT_EQ(Value("normalCDF", {Num(1), Num(1), Num(2)}), 0.5);
  EXPECT_EQ(Value("normalCDF", {Num(kInf), Num(1), Num(2)}), 1);
  ExpectInvalid("normalCDF", {Num(0), Num(1), Num(0)});
  ExpectInvalid("normalCDF", {Num(0), Num(1), Num(-2)});
  ExpectStrictArgs("normalCDF", {Num(0), Num(1), Num(2)});
  EXPECT_EQ(ResolveCode("normalCDF", {ValueType::kNumber, ValueType::kNumber}),
            Status::Code::kInvalidModel);
}

TEST_F(BuiltinsTest, NormalPDFMissingAndInvalid) {
  EXPECT_NEAR(Value("normalPDF", {Num(0), Num(1), Num(2)}), 0.17603266338214976, 1e-15);
  EXPECT_NEAR(Value("normalPDF", {Num(1), Num(1), Num(1)}), 0.3989422804014327, 1e-15);
  ExpectInvalid("normalPDF", {Num(0), Num(1), Num(0)});
  ExpectStrictArgs("normalPDF", {Num(0), Num(1), Num(2)});
}

TEST_F(BuiltinsTest, StdNormalCDFMissingAndInvalid) {
  EXPECT_EQ(Value("stdNormalCDF", {Num(0)}), 0.5);
  EXPECT_NEAR(Value("stdNormalCDF", {Num(1.959963984540054)}), 0.975, 1e-15);
  EXPECT_NEAR(Value("stdNormalCDF", {Num(-6.361340902404056)}), 1e-10, 1e-24);
  EXPECT_EQ(Value("stdNormalCDF", {Num(-kInf)}), 0);
  ExpectUnaryNumeric("stdNormalCDF", 0.3);
}

TEST_F(BuiltinsTest, StdNormalPDFMissingAndInvalid) {
  EXPECT_NEAR(Value("stdNormalPDF", {Num(0)}), 0.3989422804014327, 1e-16);
  EXPECT_NEAR(Value("stdNormalPDF", {Num(1)}), 0.24197072451914337, 1e-16);
  EXPECT_EQ(Value("stdNormalPDF", {Num(kInf)}), 0);
  ExpectUnaryNumeric("stdNormalPDF", 0.3);
}

TEST_F(BuiltinsTest, ErfMissingAndInvalid) {
  EXPECT_EQ(Value("erf", {Num(0)}), 0);
  EXPECT_NEAR(Value("erf", {Num(0.5)}), 0.5204998778130465, 1e-16);
  EXPECT_EQ(Value("erf", {Num(kInf)}), 1);
  EXPECT_EQ(Value("erf", {Num(-kInf)}), -1);
  ExpectUnaryNumeric("erf", 0.5);
}

TEST_F(BuiltinsTest, NormalIDFMissingAndInvalid) {
  EXPECT_NEAR(Value("normalIDF", {Num(0.975), Num(1), Num(2)}), 1 + 2 * 1.9599639845400536,
              1e-14);
  EXPECT_EQ(Value("normalIDF", {Num(0.5), Num(3), Num(2)}), 3);
  EXPECT_EQ(Value("normalIDF", {Num(0), Num(3), Num(2)}), -kInf);
  EXPECT_EQ(Value("normalIDF", {Num(1), Num(3), Num(2)}), kInf);
  ExpectInvalid("normalIDF", {Num(1.5), Num(0), Num(1)});
  ExpectInvalid("normalIDF", {Num(-0.1), Num(0), Num(1)});
  ExpectInvalid("normalIDF", {Num(0.5), Num(0), Num(0)});
  ExpectStrictArgs("normalIDF", {Num(0.975), Num(1), Num(2)});
}

TEST_F(BuiltinsTest, StdNormalIDFMissingAndInvalid) {
  struct Ref {
    double p, x;
  };
  // Reference quantiles (Wichura AS241 via Python's statistics.NormalDist).
  const Ref refs[] = {{0.975, 1.9599639845400536},   {0.025, -1.9599639845400536},
                      {0.9, 1.2815515655446008},     {0.999, 3.090232306167813},
                      {0.3, -0.5244005127080407},    {1e-10, -6.361340902404056},
                      {0.02425, -1.9729610513118845}, {1e-300, -37.0470962993612}};
  for (const Ref& r : refs) {
    EXPECT_NEAR(Value("stdNormalIDF", {Num(r.p)}), r.x, 2e-15 * std::fabs(r.x)) << r.p;
  }
  EXPECT_EQ(Value("stdNormalIDF", {Num(0.5)}), 0);
  EXPECT_EQ(Value("stdNormalIDF", {Num(0)}), -kInf);
  EXPECT_EQ(Value("stdNormalIDF", {Num(1)}), kInf);
  EXPECT_TRUE(std::isfinite(Value("stdNormalIDF", {Num(std::numeric_limits<double>::denorm_min())})));
  // Round trip through the CDF over the whole range.
  for (double x = -8; x <= 8; x += 0.125) {
    double p = Value("stdNormalCDF", {Num(x)});
    if (p <= 0 || p >= 1) continue;
    double back = Value("stdNormalIDF", {Num(p)});
    // The quantile is ill-conditioned where p nears 1: an error of half an ulp of p (1.1e-16)
    // moves x by 1.1e-16 / pdf(x). Below the median p has full relative precision.
    double tol = 1e-13 + (x > 0 ? 1.2e-16 / Value("stdNormalPDF", {Num(x)}) : 0);
    EXPECT_NEAR(back, x, tol) << x;
  }
  ExpectInvalid("stdNormalIDF", {Num(-0.1)});
  ExpectInvalid("stdNormalIDF", {Num(1.1)});
  ExpectInvalid("stdNormalIDF", {Num(-kInf)});
  ExpectUnaryNumeric("stdNormalIDF", 0.8);
}

// ------------------------------------------------------------------ further mathematical functions

TEST_F(BuiltinsTest, Expm1MissingAndInvalid) {
  EXPECT_EQ(Value("expm1", {Num(0)}), 0);
  EXPECT_EQ(Value("expm1", {Num(1e-20)}), 1e-20);  // exp(x) - 1 would be 0
  EXPECT_DOUBLE_EQ(Value("expm1", {Num(1)}), 1.718281828459045);
  EXPECT_EQ(Value("expm1", {Num(-kInf)}), -1);
  ExpectUnaryNumeric("expm1", 0.25);
}

TEST_F(BuiltinsTest, HypotMissingAndInvalid) {
  EXPECT_EQ(Value("hypot", {Num(3), Num(4)}), 5);
  EXPECT_EQ(Value("hypot", {Num(1e200), Num(1e200)}), std::hypot(1e200, 1e200));  // no overflow
  EXPECT_EQ(Value("hypot", {Num(-kInf), Num(1)}), kInf);
  ExpectStrictArgs("hypot", {Num(3), Num(4)});
  ExpectBinaryNumericResolution("hypot");
}

TEST_F(BuiltinsTest, Ln1pMissingAndInvalid) {
  EXPECT_EQ(Value("ln1p", {Num(0)}), 0);
  EXPECT_EQ(Value("ln1p", {Num(1e-20)}), 1e-20);  // ln(1 + x) would be 0
  EXPECT_DOUBLE_EQ(Value("ln1p", {Num(1)}), std::log(2.0));
  EXPECT_EQ(Value("ln1p", {Num(kInf)}), kInf);
  ExpectInvalid("ln1p", {Num(-1)});  // pole
  ExpectInvalid("ln1p", {Num(-2)});  // outside the domain
  ExpectUnaryNumeric("ln1p", 0.5);
}

TEST_F(BuiltinsTest, RintMissingAndInvalid) {
  // Java Math.rint: round half to even.
  EXPECT_EQ(Value("rint", {Num(0.01)}), 0);
  EXPECT_EQ(Value("rint", {Num(1.99)}), 2);
  EXPECT_EQ(Value("rint", {Num(0.5)}), 0);
  EXPECT_EQ(Value("rint", {Num(1.5)}), 2);
  EXPECT_EQ(Value("rint", {Num(2.5)}), 2);
  EXPECT_EQ(Value("rint", {Num(-2.5)}), -2);
  EXPECT_EQ(Value("rint", {Num(-3.5)}), -4);
  ExpectUnaryNumeric("rint", 2.5);
}

// ------------------------------------------------------------------ trigonometric functions

TEST_F(BuiltinsTest, SinMissingAndInvalid) {
  const double angle = kPi / 6;
  EXPECT_NEAR(Value("sin", {Num(angle)}), 0.5, 1e-15);
  EXPECT_EQ(Value("sin", {Num(0)}), 0);
  ExpectInvalid("sin", {Num(kInf)});
  ExpectUnaryNumeric("sin", angle);
}

TEST_F(BuiltinsTest, AsinMissingAndInvalid) {
  EXPECT_NEAR(Value("asin", {Num(0.5)}), kPi / 6, 1e-15);
  EXPECT_NEAR(Value("asin", {Num(1)}), kPi / 2, 1e-15);
  ExpectInvalid("asin", {Num(2)});
  ExpectInvalid("asin", {Num(-1.0000001)});
  ExpectUnaryNumeric("asin", 0.5);
}

TEST_F(BuiltinsTest, SinhMissingAndInvalid) {
  EXPECT_NEAR(Value("sinh", {Num(kPi / 6)}), 0.5478534738880397, 1e-15);
  EXPECT_EQ(Value("sinh", {Num(0)}), 0);
  EXPECT_EQ(Value("sinh", {Num(1000)}), kInf);
  ExpectUnaryNumeric("sinh", 0.5);
}

TEST_F(BuiltinsTest, CosMissingAndInvalid) {
  EXPECT_NEAR(Value("cos", {Num(kPi / 6)}), 0.8660254037844387, 1e-15);
  EXPECT_EQ(Value("cos", {Num(0)}), 1);
  ExpectInvalid("cos", {Num(-kInf)});
  ExpectUnaryNumeric("cos", 0.5);
}

TEST_F(BuiltinsTest, AcosMissingAndInvalid) {
  EXPECT_NEAR(Value("acos", {Num(0.8660254037844387)}), kPi / 6, 1e-15);
  EXPECT_EQ(Value("acos", {Num(1)}), 0);
  ExpectInvalid("acos", {Num(2)});
  ExpectUnaryNumeric("acos", 0.5);
}

TEST_F(BuiltinsTest, CoshMissingAndInvalid) {
  EXPECT_NEAR(Value("cosh", {Num(kPi / 6)}), 1.1402383210764286, 1e-15);
  EXPECT_EQ(Value("cosh", {Num(0)}), 1);
  ExpectUnaryNumeric("cosh", 0.5);
}

TEST_F(BuiltinsTest, TanMissingAndInvalid) {
  EXPECT_NEAR(Value("tan", {Num(kPi / 6)}), 0.5773502691896257, 1e-15);
  EXPECT_EQ(Value("tan", {Num(0)}), 0);
  ExpectInvalid("tan", {Num(kInf)});
  ExpectUnaryNumeric("tan", 0.5);
}

TEST_F(BuiltinsTest, AtanMissingAndInvalid) {
  EXPECT_NEAR(Value("atan", {Num(0.5773502691896257)}), kPi / 6, 1e-15);
  EXPECT_NEAR(Value("atan", {Num(kInf)}), kPi / 2, 1e-15);
  ExpectUnaryNumeric("atan", 0.5);
}

TEST_F(BuiltinsTest, TanhMissingAndInvalid) {
  EXPECT_NEAR(Value("tanh", {Num(kPi / 6)}), 0.48047277815645156, 1e-15);
  EXPECT_EQ(Value("tanh", {Num(kInf)}), 1);
  ExpectUnaryNumeric("tanh", 0.5);
}

TEST_F(BuiltinsTest, Atan2MissingAndInvalid) {
  EXPECT_NEAR(Value("atan2", {Num(1), Num(1)}), kPi / 4, 1e-15);
  EXPECT_NEAR(Value("atan2", {Num(1), Num(-1)}), 3 * kPi / 4, 1e-15);
  EXPECT_EQ(Value("atan2", {Num(0), Num(1)}), 0);
  ExpectStrictArgs("atan2", {Num(1), Num(1)});
  ExpectBinaryNumericResolution("atan2");
}

}  // namespace
}  // namespace fluxscore::pmml
