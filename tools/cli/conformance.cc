// `fluxscore conformance`: runs the shared third-party conformance corpus (MANIFEST.tsv).
//
// One line per case: "PASS <id>", "FAIL <id>: <reason>" or "UNSUPPORTED <id>: <reason>", then
// "<N> passed, <M> failed" (unsupported counts as failed). Exit 0 when every selected case
// passed, 1 otherwise, 2 for usage errors (unreadable manifest or cases file, unknown case id).
//
// Uses only the public API (fluxscore/...), plus pugixml and libzip where the runner itself has
// to look inside a model document (ModelVerification tables, SAS output fields).
//
// Conventions (see README.md of the corpus):
//  jpmml     input CSV + expected CSV, rows aligned; "", "NA", "N/A" are missing. The expected
//            column set must equal the model's output columns (targets + final OutputFields),
//            except the manifest's `excluded` columns, which are skipped on both sides.
//  cpmml     one verbatim CSV (no quoting, "" = missing, "NA" is a literal); only column
//            `prediction` is checked, against the model's first output column (the target).
//  pmml4s    *.input.csv / *.expected.csv, "N/A" (or "") = missing input / null result; only the
//            listed columns are asserted; `feature:X` columns are requested through
//            LoadOptions::extra_result_features and come back as output column "feature:X".
//  sas       EM_CLASSIFICATION -> the target (case-insensitive, SAS upper-cases labels) and
//            EM_EVENTPROBABILITY -> the first OutputField with feature="probability" of the
//            top-level model (SAS lists the event level first).
//  embedded  the top-level model's ModelVerification: VerificationFields (precision default 1e-6,
//            zeroThreshold default 1e-16) and InlineTable rows (cell element names are the
//            `column` attributes, `_xHHHH_`-escaped). Fields that are model outputs are expected
//            values compared with their own tolerance; all other fields are inputs. A cell that
//            is absent from a row is not asserted (JPMML's VerificationUtil accepts a null
//            expected value).
//
// Cell comparison (jpmml PMMLEquivalence: the expected text is converted to the output's type):
//  - a missing expected value ("N/A", "NA", "" as the convention says) requires a missing actual;
//  - numeric output column: expected parsed as a number; `rel=R;zero=Z` accepts
//    |a - e| <= R * |e|, or both |a| and |e| <= Z; `float_ulps=N` casts both to float32 and
//    accepts at most N units in the last place between them. An expected true/false against a
//    numeric (boolean) column compares as 1/0;
//  - string output column: exact text. If the field's declared dataType is numeric (a
//    categorical integer/double target, say) and both texts parse as numbers, they compare as
//    numbers, so expected "1" equals actual "1.0" there; for a string-typed field "1" and "1.0"
//    are different categories, exactly as JPMML parses the expected value to the field's type.
//    Boolean fields compare true/false/1/0 case-insensitively.
#include <fmt/format.h>
#include <zip.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <pugixml.hpp>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "commands.h"
#include "fluxscore/csv.h"
#include "fluxscore/pmml/model.h"
#include "fluxscore/status.h"
#include "fluxscore/table.h"

namespace fluxscore::cli {

// Options for every Score call of a run (--no-kernels forces the row evaluator).
static pmml::ScoreOptions g_score_options;
namespace {

using pmml::DataType;
using pmml::FieldInfo;
using pmml::Model;

// ---- small string helpers ----------------------------------------------------------------------

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::vector<std::string> SplitList(std::string_view s, std::string_view delims) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || delims.find(s[i]) != std::string_view::npos) {
      std::string_view item = Trim(s.substr(start, i - start));
      if (!item.empty()) out.emplace_back(item);
      start = i + 1;
    }
  }
  return out;
}

// A number as written by R, Java, Python or a PMML document: surrounding blanks allowed, a
// leading '+', exponents, "NaN" / "Infinity" in any case.
std::optional<double> ParseNumber(std::string_view s) {
  s = Trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty() || s.front() == '+') return std::nullopt;
  double v = 0;
  auto res = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::general);
  if (res.ptr != s.data() + s.size()) return std::nullopt;
  if (res.ec == std::errc()) return v;
  if (res.ec == std::errc::result_out_of_range) {
    std::string copy(s);
    return std::strtod(copy.c_str(), nullptr);
  }
  return std::nullopt;
}

std::optional<bool> ParseBool(std::string_view s) {
  std::string l = Lower(Trim(s));
  if (l == "true" || l == "1" || l == "1.0") return true;
  if (l == "false" || l == "0" || l == "0.0") return false;
  return std::nullopt;
}

bool IsNumericType(DataType t) {
  return t == DataType::kInteger || t == DataType::kFloat || t == DataType::kDouble;
}

// ---- tolerances --------------------------------------------------------------------------------

struct Tolerance {
  double rel = 1e-6;    // JPMML's default precision
  double zero = 1e-16;  // JPMML's default zeroThreshold
  int64_t float_ulps = -1;  // >= 0: compare as float32 within this many ULPs
  bool prediction_only = false;
};

Result<Tolerance> ParseCompare(std::string_view spec) {
  Tolerance t;
  bool zero_given = false;
  for (const std::string& tok : SplitList(spec, ";")) {
    size_t eq = tok.find('=');
    std::string key = Lower(Trim(std::string_view(tok).substr(0, eq)));
    std::string value = eq == std::string::npos ? "" : std::string(Trim(tok.substr(eq + 1)));
    auto num = ParseNumber(value);
    if (key == "prediction_only" && eq == std::string::npos) {
      t.prediction_only = true;
    } else if (key == "rel" && num) {
      t.rel = *num;
    } else if (key == "zero" && num) {
      t.zero = *num;
      zero_given = true;
    } else if (key == "float_ulps" && num && *num >= 0) {
      t.float_ulps = static_cast<int64_t>(*num);
    } else {
      return Status::InvalidArgument("bad compare spec '" + std::string(spec) + "' (token '" +
                                     tok + "')");
    }
  }
  // cPMML's model_tester checks |a - e| / e < rel and nothing else: no zero band.
  if (t.prediction_only && !zero_given) t.zero = 0;
  return t;
}

// Maps a float to an integer such that adjacent floats map to adjacent integers.
int64_t FloatOrdinal(float f) {
  int32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  return bits < 0 ? static_cast<int64_t>(std::numeric_limits<int32_t>::min()) - bits
                  : static_cast<int64_t>(bits);
}

bool NumbersMatch(double expected, double actual, const Tolerance& t) {
  if (std::isnan(expected) || std::isnan(actual)) return std::isnan(expected) && std::isnan(actual);
  if (t.float_ulps >= 0) {
    float e = static_cast<float>(expected);
    float a = static_cast<float>(actual);
    if (e == a) return true;
    if (std::isinf(e) || std::isinf(a)) return false;
    int64_t d = FloatOrdinal(e) - FloatOrdinal(a);
    return (d < 0 ? -d : d) <= t.float_ulps;
  }
  if (expected == actual) return true;
  if (std::fabs(expected) <= t.zero && std::fabs(actual) <= t.zero) return true;
  return std::fabs(actual - expected) <= t.rel * std::fabs(expected);
}

// ---- one cell ----------------------------------------------------------------------------------

std::string ActualText(const Column& col, size_t row) {
  if (col.IsMissing(row)) return "<missing>";
  return col.CellText(row);
}

bool CellMatches(const Column& actual, size_t row, const FieldInfo* info,
                 const std::optional<std::string>& expected, const Tolerance& tol,
                 bool ignore_case) {
  const bool actual_missing = actual.IsMissing(row);
  if (!expected) return actual_missing;
  const std::string& e = *expected;
  if (actual_missing) {
    // NaN is how Java/Python write a missing double; a table holds it as a missing cell.
    auto ev = ParseNumber(e);
    return ev && std::isnan(*ev);
  }
  const bool is_bool = info != nullptr && info->data_type == DataType::kBoolean;

  if (actual.kind() == Column::Kind::kNumeric) {
    const double a = actual.numbers()[row];
    if (auto ev = ParseNumber(e)) return NumbersMatch(*ev, a, tol);
    if (auto eb = ParseBool(e)) return (*eb && a == 1.0) || (!*eb && a == 0.0);
    return false;
  }
  const std::string& a = actual.dictionary()[static_cast<size_t>(actual.codes()[row])];
  if (a == e) return true;
  if (ignore_case && EqualsIgnoreCase(a, e)) return true;
  if (is_bool) {
    auto ab = ParseBool(a);
    auto eb = ParseBool(e);
    return ab && eb && *ab == *eb;
  }
  if (info != nullptr && IsNumericType(info->data_type)) {
    auto av = ParseNumber(a);
    auto ev = ParseNumber(e);
    if (av && ev) return NumbersMatch(*ev, *av, tol);
  }
  return false;
}

// ---- the manifest ------------------------------------------------------------------------------

struct Case {
  std::string id, convention, model, input, expected, compare, excluded, model_element;
};

Result<std::vector<Case>> ReadManifest(const std::string& path) {
  CsvReadOptions opts;
  opts.delimiter = '\t';
  opts.missing_values = {};  // every cell is text; an empty cell is ""
  FLUXSCORE_ASSIGN_OR_RETURN(Table t, ReadCsvFile(path, opts));
  const char* required[] = {"case_id", "convention", "model", "input", "expected", "compare"};
  for (const char* name : required) {
    if (t.Find(name) < 0) {
      return Status::DataError(path + ": manifest has no column '" + name + "'");
    }
  }
  auto cell = [&t](const char* name, size_t row) -> std::string {
    int j = t.Find(name);
    return j < 0 ? std::string() : t.columns()[static_cast<size_t>(j)].CellText(row);
  };
  std::vector<Case> cases;
  for (size_t r = 0; r < t.num_rows(); ++r) {
    Case c;
    c.id = std::string(Trim(cell("case_id", r)));
    if (c.id.empty()) continue;
    c.convention = std::string(Trim(cell("convention", r)));
    c.model = std::string(Trim(cell("model", r)));
    c.input = std::string(Trim(cell("input", r)));
    c.expected = std::string(Trim(cell("expected", r)));
    c.compare = cell("compare", r);
    c.excluded = cell("excluded", r);
    c.model_element = std::string(Trim(cell("model_element", r)));
    cases.push_back(std::move(c));
  }
  return cases;
}

// ---- reading a model document ourselves (embedded, sas) ------------------------------------------

Result<std::string> ReadModelText(const std::string& path) {
  size_t bang = path.find(".zip!");
  if (bang == std::string::npos) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::IoError(path + ": cannot open: " + std::strerror(errno));
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  const std::string archive = path.substr(0, bang + 4);
  const std::string member = path.substr(bang + 5);
  int err = 0;
  zip_t* z = zip_open(archive.c_str(), ZIP_RDONLY, &err);
  if (z == nullptr) return Status::IoError(archive + ": cannot open zip archive");
  struct Closer {
    zip_t* z;
    ~Closer() { zip_discard(z); }
  } closer{z};
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat(z, member.c_str(), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE)) {
    return Status::IoError(archive + ": no member '" + member + "'");
  }
  zip_file_t* f = zip_fopen(z, member.c_str(), 0);
  if (f == nullptr) return Status::IoError(archive + ": cannot read member '" + member + "'");
  std::string data(static_cast<size_t>(st.size), '\0');
  zip_int64_t got = zip_fread(f, data.data(), st.size);
  zip_fclose(f);
  if (got < 0 || static_cast<zip_uint64_t>(got) != st.size) {
    return Status::IoError(archive + ": short read of member '" + member + "'");
  }
  return data;
}

std::string_view LocalName(const char* name) {
  std::string_view n(name);
  size_t colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

bool IsModelElement(std::string_view n) {
  static const std::set<std::string_view> kModels = {
      "AnomalyDetectionModel", "AssociationModel",       "BayesianNetworkModel",
      "BaselineModel",         "ClusteringModel",        "GaussianProcessModel",
      "GeneralRegressionModel", "MiningModel",           "NaiveBayesModel",
      "NearestNeighborModel",  "NeuralNetwork",          "RegressionModel",
      "RuleSetModel",          "SequenceModel",          "Scorecard",
      "SupportVectorMachineModel", "TextModel",          "TimeSeriesModel",
      "TreeModel"};
  return kModels.count(n) > 0;
}

pugi::xml_node Child(pugi::xml_node parent, std::string_view local) {
  for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && LocalName(c.name()) == local) return c;
  }
  return pugi::xml_node();
}

// The first model element directly under <PMML>.
pugi::xml_node TopModel(const pugi::xml_document& doc) {
  pugi::xml_node root = Child(doc, "PMML");
  for (pugi::xml_node c = root.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && IsModelElement(LocalName(c.name()))) return c;
  }
  return pugi::xml_node();
}

Status ParseModelXml(const std::string& path, pugi::xml_document* doc) {
  FLUXSCORE_ASSIGN_OR_RETURN(std::string text, ReadModelText(path));
  pugi::xml_parse_result res = doc->load_buffer(text.data(), text.size());
  if (!res) return Status::InvalidModel(path + ": XML parse error: " + res.description());
  return Status::Ok();
}

// XmlConvert-style name decoding: "_xHHHH_" (or "_xHHHHHHHH_") is that Unicode character.
std::string DecodeXmlName(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    bool decoded = false;
    if (s[i] == '_' && i + 1 < s.size() && s[i + 1] == 'x') {
      for (size_t digits : {size_t{4}, size_t{8}}) {
        size_t end = i + 2 + digits;
        if (end < s.size() && s[end] == '_') {
          uint32_t cp = 0;
          auto res = std::from_chars(s.data() + i + 2, s.data() + end, cp, 16);
          if (res.ec == std::errc() && res.ptr == s.data() + end && cp <= 0x10FFFF) {
            if (cp < 0x80) {
              out.push_back(static_cast<char>(cp));
            } else if (cp < 0x800) {
              out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
              out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
            } else if (cp < 0x10000) {
              out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
              out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
              out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
            } else {
              out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
              out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
              out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
              out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
            }
            i = end + 1;
            decoded = true;
            break;
          }
        }
      }
    }
    if (!decoded) out.push_back(s[i++]);
  }
  return out;
}

// ---- running one case ----------------------------------------------------------------------------

struct Outcome {
  enum class Kind { kPass, kFail, kUnsupported } kind = Kind::kPass;
  std::string reason;
  double load_ms = 0;
  double score_ms = 0;
  size_t rows = 0;
};

Outcome Fail(std::string reason) {
  Outcome o;
  o.kind = Outcome::Kind::kFail;
  o.reason = std::move(reason);
  return o;
}

double MillisSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// One expected column checked against one output column.
struct Check {
  std::string label;         // column name used in messages
  const Column* expected;    // string column (nullptr: use `cells`)
  std::vector<std::optional<std::string>> cells;  // embedded: per-row expected; nullopt = skip
  bool skip_absent = false;  // embedded: a nullopt cell is not asserted
  size_t output_index;       // into Model::outputs() / ScoreResult::outputs
  Tolerance tol;
  bool ignore_case = false;
};

std::optional<std::string> ExpectedCell(const Column& c, size_t row) {
  if (c.IsMissing(row)) return std::nullopt;
  return c.CellText(row);
}

class CaseRunner {
 public:
  CaseRunner(const Case& c, const std::filesystem::path& base) : case_(c), base_(base) {}

  Outcome Run() {
    Outcome o = Dispatch();
    o.load_ms = load_ms_;
    o.score_ms = score_ms_;
    o.rows = result_ ? result_->outputs.num_rows() : 0;
    return o;
  }

 private:
  Outcome Dispatch() {
    auto tol = ParseCompare(case_.compare);
    if (!tol.ok()) return Fail(tol.status().message());
    tol_ = *tol;
    const std::string& conv = case_.convention;
    if (conv == "jpmml") return RunJpmml();
    if (conv == "cpmml") return RunCpmml();
    if (conv == "pmml4s") return RunPmml4s();
    if (conv == "sas") return RunSas();
    if (conv == "embedded") return RunEmbedded();
    return Fail("unknown convention '" + conv + "'");
  }

  std::string Resolve(const std::string& p) const {
    if (p.empty() || std::filesystem::path(p).is_absolute()) return p;
    return (base_ / p).string();
  }

  // Loads the model; on failure fills `out` and returns false.
  bool Load(const pmml::LoadOptions& opts, Outcome* out) {
    auto t0 = std::chrono::steady_clock::now();
    auto m = Model::LoadFile(Resolve(case_.model), opts);
    load_ms_ = MillisSince(t0);
    if (!m.ok()) {
      *out = Fail("load: " + m.status().ToString());
      if (m.status().code() == Status::Code::kUnsupported) {
        out->kind = Outcome::Kind::kUnsupported;
        out->reason = m.status().message();
      }
      return false;
    }
    model_.emplace(std::move(m).value());
    for (size_t i = 0; i < model_->outputs().size(); ++i) {
      output_index_.emplace(model_->outputs()[i].name, i);  // first wins
    }
    return true;
  }

  std::optional<size_t> OutputIndex(const std::string& name) const {
    auto it = output_index_.find(name);
    if (it == output_index_.end()) return std::nullopt;
    return it->second;
  }

  std::set<std::string> NumericInputs() const {
    std::set<std::string> out;
    for (const FieldInfo& f : model_->inputs()) {
      if (!f.is_string()) out.insert(f.name);
    }
    return out;
  }

  Result<Table> ReadInput(const std::string& path, std::vector<std::string> missing,
                          bool verbatim) const {
    CsvReadOptions o;
    o.missing_values = std::move(missing);
    o.verbatim = verbatim;
    o.numeric_columns = NumericInputs();
    return ReadCsvFile(Resolve(path), o);
  }

  static Result<Table> ReadExpected(const std::string& path, std::vector<std::string> missing,
                                    bool verbatim, std::set<std::string> only = {}) {
    CsvReadOptions o;
    o.missing_values = std::move(missing);
    o.verbatim = verbatim;
    o.only_columns = std::move(only);
    return ReadCsvFile(path, o);  // no numeric columns: cells stay text
  }

  // Scores `input`; on failure fills `out` and returns false.
  bool Score(const Table& input, Outcome* out) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = model_->Score(input, g_score_options);
    score_ms_ = MillisSince(t0);
    if (!r.ok()) {
      *out = Fail("score: " + r.status().ToString());
      return false;
    }
    result_.emplace(std::move(r).value());
    if (result_->outputs.num_columns() != model_->outputs().size()) {
      *out = Fail(fmt::format("score returned {} columns, model declares {} outputs",
                              result_->outputs.num_columns(), model_->outputs().size()));
      return false;
    }
    return true;
  }

  std::string RowError(size_t row) const {
    const auto& errs = result_->row_errors;
    auto it = std::lower_bound(errs.begin(), errs.end(), row,
                               [](const pmml::RowError& e, size_t r) { return e.row < r; });
    if (it != errs.end() && it->row == row) return " (row error: " + it->message + ")";
    return std::string();
  }

  // Compares row by row (so the first mismatching row is reported), `expected_rows` rows.
  Outcome Compare(const std::vector<Check>& checks, size_t expected_rows) const {
    const Table& out = result_->outputs;
    const size_t actual_rows = out.num_rows();
    if (actual_rows != expected_rows) {
      return Fail(fmt::format("row count: expected {}, actual {}", expected_rows, actual_rows));
    }
    const auto& infos = model_->outputs();
    for (size_t r = 0; r < expected_rows; ++r) {
      for (const Check& c : checks) {
        std::optional<std::string> e =
            c.expected != nullptr ? ExpectedCell(*c.expected, r) : c.cells[r];
        if (c.skip_absent && !e) continue;
        const Column& a = out.columns()[c.output_index];
        if (!CellMatches(a, r, &infos[c.output_index], e, c.tol, c.ignore_case)) {
          return Fail(fmt::format("row {}, column {}: expected {}, actual {}{}", r + 1, c.label,
                                  e ? *e : std::string("<missing>"), ActualText(a, r),
                                  RowError(r)));
        }
      }
    }
    return Outcome();
  }

  // ---- jpmml ----
  Outcome RunJpmml() {
    Outcome o;
    if (!Load({}, &o)) return o;
    auto input = ReadInput(case_.input, {"", "NA", "N/A"}, false);
    if (!input.ok()) return Fail("input: " + input.status().ToString());
    auto expected = ReadExpected(Resolve(case_.expected), {"", "NA", "N/A"}, false);
    if (!expected.ok()) return Fail("expected: " + expected.status().ToString());

    const std::vector<std::string> excluded_list = SplitList(case_.excluded, ",;");
    const std::set<std::string> excluded(excluded_list.begin(), excluded_list.end());
    std::vector<Check> checks;
    std::set<std::string> seen;
    for (const Column& col : expected->columns()) {
      if (excluded.count(col.name()) || !seen.insert(col.name()).second) continue;
      auto idx = OutputIndex(col.name());
      if (!idx) return Fail("no output column " + col.name());
      Check c;
      c.label = col.name();
      c.expected = &col;
      c.output_index = *idx;
      c.tol = tol_;
      checks.push_back(std::move(c));
    }
    // JPMML compares the result maps with Maps.difference: extra outputs fail too.
    for (const FieldInfo& f : model_->outputs()) {
      if (!excluded.count(f.name) && !seen.count(f.name)) {
        return Fail("output column " + f.name + " is not in the expected file");
      }
    }
    if (!Score(*input, &o)) return o;
    return Compare(checks, expected->num_rows());
  }

  // ---- cpmml ----
  Outcome RunCpmml() {
    Outcome o;
    if (!Load({}, &o)) return o;
    if (model_->outputs().empty()) return Fail("model has no output column");
    auto input = ReadInput(case_.input, {""}, true);
    if (!input.ok()) return Fail("input: " + input.status().ToString());
    auto expected = ReadExpected(Resolve(case_.expected), {""}, true, {"prediction"});
    if (!expected.ok()) return Fail("expected: " + expected.status().ToString());
    int j = expected->Find("prediction");
    if (j < 0) return Fail("expected file has no column prediction");
    Check c;
    c.label = "prediction";
    c.expected = &expected->columns()[static_cast<size_t>(j)];
    c.output_index = 0;  // targets come first in Model::outputs()
    c.tol = tol_;
    if (!Score(*input, &o)) return o;
    return Compare({c}, expected->num_rows());
  }

  // ---- pmml4s ----
  Outcome RunPmml4s() {
    auto expected = ReadExpected(Resolve(case_.expected), {"", "N/A"}, false);
    if (!expected.ok()) return Fail("expected: " + expected.status().ToString());
    pmml::LoadOptions opts;
    static constexpr std::string_view kFeature = "feature:";
    for (const Column& col : expected->columns()) {
      if (col.name().rfind(kFeature, 0) == 0) {
        opts.extra_result_features.push_back(col.name().substr(kFeature.size()));
      }
    }
    Outcome o;
    if (!Load(opts, &o)) return o;
    auto input = ReadInput(case_.input, {"", "N/A"}, false);
    if (!input.ok()) return Fail("input: " + input.status().ToString());
    const std::vector<std::string> excluded_list = SplitList(case_.excluded, ",;");
    const std::set<std::string> excluded(excluded_list.begin(), excluded_list.end());
    std::vector<Check> checks;
    for (const Column& col : expected->columns()) {
      if (excluded.count(col.name())) continue;
      auto idx = OutputIndex(col.name());
      if (!idx) return Fail("no output column " + col.name());
      Check c;
      c.label = col.name();
      c.expected = &col;
      c.output_index = *idx;
      c.tol = tol_;
      checks.push_back(std::move(c));
    }
    if (!Score(*input, &o)) return o;
    return Compare(checks, expected->num_rows());
  }

  // ---- sas ----
  Outcome RunSas() {
    Outcome o;
    if (!Load({}, &o)) return o;
    // Find the target and the event-probability OutputField in the document.
    std::string target;
    std::string event_probability;
    pugi::xml_document doc;
    if (ParseModelXml(Resolve(case_.model), &doc).ok()) {
      pugi::xml_node model = TopModel(doc);
      for (pugi::xml_node f : Child(model, "MiningSchema").children()) {
        std::string usage = f.attribute("usageType").value();
        if (LocalName(f.name()) == "MiningField" && (usage == "target" || usage == "predicted")) {
          target = f.attribute("name").value();
          break;
        }
      }
      for (pugi::xml_node f : Child(model, "Output").children()) {
        if (LocalName(f.name()) == "OutputField" &&
            std::string_view(f.attribute("feature").value()) == "probability") {
          event_probability = f.attribute("name").value();
          break;
        }
      }
    }
    if (target.empty() && !model_->outputs().empty()) target = model_->outputs()[0].name;

    auto input = ReadInput(case_.input, {"", "NA", "N/A"}, false);
    if (!input.ok()) return Fail("input: " + input.status().ToString());
    auto expected = ReadExpected(Resolve(case_.expected), {""}, false,
                                 {"EM_CLASSIFICATION", "EM_EVENTPROBABILITY"});
    if (!expected.ok()) return Fail("expected: " + expected.status().ToString());
    std::vector<Check> checks;
    int jc = expected->Find("EM_CLASSIFICATION");
    if (jc < 0) return Fail("expected file has no column EM_CLASSIFICATION");
    auto ti = OutputIndex(target);
    if (!ti) return Fail("no output column " + target + " (target)");
    Check c;
    c.label = "EM_CLASSIFICATION";
    c.expected = &expected->columns()[static_cast<size_t>(jc)];
    c.output_index = *ti;
    c.tol = tol_;
    c.ignore_case = true;
    checks.push_back(c);
    int jp = expected->Find("EM_EVENTPROBABILITY");
    if (jp >= 0 && !event_probability.empty()) {
      auto pi = OutputIndex(event_probability);
      if (!pi) return Fail("no output column " + event_probability + " (event probability)");
      Check p;
      p.label = "EM_EVENTPROBABILITY";
      p.expected = &expected->columns()[static_cast<size_t>(jp)];
      p.output_index = *pi;
      p.tol = tol_;
      checks.push_back(p);
    }
    if (!Score(*input, &o)) return o;
    return Compare(checks, expected->num_rows());
  }

  // ---- embedded ModelVerification ----
  Outcome RunEmbedded() {
    Outcome o;
    if (!Load({}, &o)) return o;
    pugi::xml_document doc;
    Status st = ParseModelXml(Resolve(case_.model), &doc);
    if (!st.ok()) return Fail(st.ToString());
    pugi::xml_node model = TopModel(doc);
    if (!model) return Fail("no model element under <PMML>");
    pugi::xml_node mv = Child(model, "ModelVerification");
    if (!mv) return Fail(std::string("top-level ") + model.name() + " has no ModelVerification");

    struct VField {
      std::string field, column;
      double precision = 1e-6, zero = 1e-16;
      std::vector<std::optional<std::string>> cells;
    };
    std::vector<VField> fields;
    std::unordered_map<std::string, size_t> by_column;  // raw and decoded column names, field
    for (pugi::xml_node f : Child(mv, "VerificationFields").children()) {
      if (f.type() != pugi::node_element || LocalName(f.name()) != "VerificationField") continue;
      VField v;
      v.field = f.attribute("field").value();
      v.column = f.attribute("column") ? f.attribute("column").value() : v.field;
      if (auto p = ParseNumber(f.attribute("precision").value())) v.precision = *p;
      if (auto z = ParseNumber(f.attribute("zeroThreshold").value())) v.zero = *z;
      fields.push_back(std::move(v));
    }
    for (size_t i = 0; i < fields.size(); ++i) by_column.try_emplace(fields[i].column, i);
    for (size_t i = 0; i < fields.size(); ++i) {
      by_column.try_emplace(DecodeXmlName(fields[i].column), i);
      by_column.try_emplace(fields[i].field, i);
    }
    size_t rows = 0;
    for (pugi::xml_node row : Child(mv, "InlineTable").children()) {
      if (row.type() != pugi::node_element || LocalName(row.name()) != "row") continue;
      for (VField& v : fields) v.cells.emplace_back();
      for (pugi::xml_node cell : row.children()) {
        if (cell.type() != pugi::node_element) continue;
        std::string name(LocalName(cell.name()));
        auto it = by_column.find(name);
        if (it == by_column.end()) it = by_column.find(DecodeXmlName(name));
        if (it == by_column.end()) continue;  // a column no VerificationField names
        fields[it->second].cells.back() = std::string(cell.child_value());
      }
      ++rows;
    }

    // Inputs: every verification field the model does not output.
    Table input;
    std::map<std::string, const FieldInfo*> input_info;
    for (const FieldInfo& f : model_->inputs()) input_info.emplace(f.name, &f);
    std::vector<Check> checks;
    for (VField& v : fields) {
      auto oi = OutputIndex(v.field);
      if (oi) {
        Check c;
        c.label = v.field;
        c.expected = nullptr;
        c.cells = v.cells;
        for (auto& cell : c.cells) {
          if (cell && Trim(*cell).empty()) cell.reset();  // an empty cell asserts nothing
        }
        c.skip_absent = true;
        c.output_index = *oi;
        c.tol = tol_;
        c.tol.rel = v.precision;
        c.tol.zero = v.zero;
        c.tol.float_ulps = -1;
        checks.push_back(std::move(c));
        continue;
      }
      auto info = input_info.find(v.field);
      bool numeric = info != input_info.end() && !info->second->is_string();
      std::vector<double> values;
      if (numeric) {
        values.reserve(v.cells.size());
        for (const auto& cell : v.cells) {
          if (!cell || Trim(*cell).empty()) {
            values.push_back(std::numeric_limits<double>::quiet_NaN());
          } else if (auto num = ParseNumber(*cell)) {
            values.push_back(*num);
          } else {
            numeric = false;
            break;
          }
        }
      }
      if (numeric) {
        input.AddColumn(Column::Numeric(v.field, std::move(values)));
      } else {
        Column col = Column::String(v.field);
        for (const auto& cell : v.cells) {
          if (!cell || cell->empty()) {
            col.AppendMissing();
          } else {
            col.AppendString(*cell);
          }
        }
        input.AddColumn(std::move(col));
      }
    }
    if (!Score(input, &o)) return o;
    return Compare(checks, rows);
  }

  const Case& case_;
  std::filesystem::path base_;
  Tolerance tol_;
  std::optional<Model> model_;
  std::optional<pmml::ScoreResult> result_;
  std::unordered_map<std::string, size_t> output_index_;
  double load_ms_ = 0;
  double score_ms_ = 0;
};

// Reads a cases file: one id per line, '#' starts a comment, blank lines ignored.
Result<std::vector<std::string>> ReadCasesFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::IoError(path + ": cannot open: " + std::strerror(errno));
  std::vector<std::string> ids;
  std::string line;
  while (std::getline(in, line)) {
    std::string_view s = line;
    size_t hash = s.find('#');
    if (hash != std::string_view::npos) s = s.substr(0, hash);
    s = Trim(s);
    if (!s.empty()) ids.emplace_back(s);
  }
  return ids;
}

}  // namespace

int RunConformance(const ConformanceArgs& args) {
  g_score_options.compiled_kernels = !args.no_kernels;
  auto manifest = ReadManifest(args.manifest);
  if (!manifest.ok()) {
    fmt::print(stderr, "error: cannot read manifest: {}\n", manifest.status().ToString());
    return 2;
  }
  const std::vector<Case>& all = *manifest;
  std::set<std::string> known_ids;
  std::set<std::string> known_elements;
  for (const Case& c : all) {
    known_ids.insert(c.id);
    known_elements.insert(c.model_element);
  }

  // Case selection: --case and --cases-file name ids (union); --filter restricts by element.
  std::set<std::string> wanted_ids;
  bool by_id = false;
  if (!args.cases_file.empty()) {
    by_id = true;
    auto ids = ReadCasesFile(args.cases_file);
    if (!ids.ok()) {
      fmt::print(stderr, "error: cannot read cases file: {}\n", ids.status().ToString());
      return 2;
    }
    for (const std::string& id : *ids) {
      if (!known_ids.count(id)) {
        fmt::print(stderr, "error: {}: case '{}' is not in the manifest {}\n", args.cases_file,
                   id, args.manifest);
        return 2;
      }
      wanted_ids.insert(id);
    }
  }
  for (const std::string& id : args.cases) {
    by_id = true;
    if (!known_ids.count(id)) {
      fmt::print(stderr, "error: case '{}' is not in the manifest {}\n", id, args.manifest);
      return 2;
    }
    wanted_ids.insert(id);
  }
  std::set<std::string> elements;
  for (const std::string& raw : args.elements) {
    std::string e(Trim(raw));
    if (e.empty()) continue;
    if (!known_elements.count(e)) {
      fmt::print(stderr, "error: --filter: no case has model element '{}'\n", e);
      return 2;
    }
    elements.insert(e);
  }

  std::vector<const Case*> selected;
  for (const Case& c : all) {
    if (by_id && !wanted_ids.count(c.id)) continue;
    if (!elements.empty() && !elements.count(c.model_element)) continue;
    selected.push_back(&c);
  }
  if (selected.empty()) fmt::print(stderr, "warning: no cases selected\n");

  const std::filesystem::path base = std::filesystem::path(args.manifest).parent_path();
  size_t passed = 0;
  size_t failed = 0;
  for (const Case* c : selected) {
    Outcome o;
    try {
      CaseRunner runner(*c, base);
      o = runner.Run();
    } catch (const std::exception& e) {
      o = Fail(std::string("exception: ") + e.what());
    } catch (...) {
      o = Fail("unknown exception");
    }
    switch (o.kind) {
      case Outcome::Kind::kPass:
        ++passed;
        fmt::print("PASS {}\n", c->id);
        break;
      case Outcome::Kind::kFail:
        ++failed;
        fmt::print("FAIL {}: {}\n", c->id, o.reason);
        break;
      case Outcome::Kind::kUnsupported:
        ++failed;
        fmt::print("UNSUPPORTED {}: {}\n", c->id, o.reason);
        break;
    }
    if (args.verbose) {
      fmt::print("  {}: load {:.2f} ms, score {:.2f} ms, {} rows\n", c->id, o.load_ms,
                 o.score_ms, o.rows);
    }
    std::fflush(stdout);
  }
  fmt::print("{} passed, {} failed\n", passed, failed);
  std::fflush(stdout);
  return failed == 0 ? 0 : 1;
}

}  // namespace fluxscore::cli
