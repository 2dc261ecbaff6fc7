// fluxscore._native: pybind11 bindings over the public C++ API (include/fluxscore/...).
//
// Kept deliberately thin: the Python package (python/fluxscore/) turns pandas / numpy / dict
// inputs into columns and columns back into DataFrames; this module moves whole columns across
// the boundary (contiguous float64 columns zero-copy as Column::NumericView, contiguous float32
// ones as Column::Float32View, strided ones of either in one gathering pass, int32 codes + a
// dictionary per string column),
// never calling Python per cell on the scoring path, and releases the GIL while the engine runs.
//
//   Model.load(path) -> Model                       (ModelError on failure)
//   Model.inputs() / outputs() -> [dict]            name, data_type, op_type, values, is_string
//   Model.score(columns, threads, block_rows, kernels)
//       columns: [(name, float64 or float32 1-D array)] or [(name, int32 codes array, [str] dictionary)]
//       -> ([(name, float64 array) | (name, int32 codes, [str])], [(row, message)])
//   Model.predict_one(dict) -> dict                 (Model::ScoreOne semantics, leaner path)
//   Model.tree_nodes() / decision_paths(columns)
//   DnsConfig(...)  +  FeatureState(config): read(paths, strict), serialize(part, parts),
//       merge_serialized(bytes), finish() -> columns of the `fluxscore features` output.
//
// Errors: fluxscore.ModelError / fluxscore.DataError (defined in fluxscore/_errors.py, pure
// Python, so `import fluxscore` works without this module) carrying the C++ Status message.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "fluxscore/dns/enrich.h"
#include "fluxscore/dns/features.h"
#include "fluxscore/dns/ingest.h"
#include "fluxscore/dns/record.h"
#include "fluxscore/pmml/model.h"
#include "fluxscore/status.h"
#include "fluxscore/table.h"

namespace py = pybind11;
using namespace fluxscore;

namespace {

// C++ side of the two Python exception types; translated in the module init below.
struct ModelErrorEx : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct DataErrorEx : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void ThrowData(const std::string& msg) { throw DataErrorEx(msg); }

// Moves a std::vector into a 1-D numpy array without copying (the array owns the vector).
template <typename T>
py::array_t<T> ToNumpy(std::vector<T>&& v) {
  auto* heap = new std::vector<T>(std::move(v));
  py::capsule owner(heap, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>({static_cast<py::ssize_t>(heap->size())}, {sizeof(T)}, heap->data(), owner);
}

py::dict FieldDict(const pmml::FieldInfo& f) {
  py::dict d;
  d["name"] = f.name;
  d["data_type"] = std::string(pmml::ToString(f.data_type));
  d["op_type"] = std::string(pmml::ToString(f.op_type));
  d["values"] = f.values;
  d["is_string"] = f.is_string();
  return d;
}

// ------------------------------------------------------------------------------------------
// Columns in: [(name, float64 array)] or [(name, int32 codes, [str] dictionary)].
// ------------------------------------------------------------------------------------------

// float64 arrays keep their strides (a DataFrame column or an ndarray column X[:, j] is usually
// strided): the one copy into the engine's std::vector<double> gathers them directly.
using F64Array = py::array_t<double, py::array::forcecast>;
using I32Array = py::array_t<int32_t, py::array::c_style | py::array::forcecast>;

// A table whose numeric columns are filled later, without the GIL (Fill).
struct PendingTable {
  struct Numeric {
    std::string name;
    const char* data;
    py::ssize_t stride;  // bytes
    size_t n;
    bool float32 = false;  // float32 cells (else float64)
  };
  Table table;
  std::vector<Numeric> numeric;
  std::vector<py::object> keep;  // the arrays `numeric` points into
  std::vector<std::vector<float>> float_cells;  // gathered strided float32 columns (views on them)

  // No Python calls: run it with the GIL released (the arrays are kept alive by `keep`).
  // Contiguous, aligned columns: zero copy (float64: Column::NumericView, float32:
  // Column::Float32View, which the kernels read at half the bytes). Strided columns (columns of
  // a row-major matrix, e.g. a DataFrame built from a 2-D array or X[:, j]) are gathered
  // together block by block, so the source is read once rather than once per column; float32
  // ones stay float32.
  void Fill() {
    std::vector<std::pair<const Numeric*, std::vector<double>>> strided;
    std::vector<std::pair<const Numeric*, float*>> strided32;
    float_cells.reserve(numeric.size());
    for (const Numeric& c : numeric) {
      const size_t width = c.float32 ? sizeof(float) : sizeof(double);
      const bool in_place = c.stride == static_cast<py::ssize_t>(width) &&
                            reinterpret_cast<uintptr_t>(c.data) % width == 0;
      if (in_place && c.float32) {
        table.AddColumn(Column::Float32View(c.name, reinterpret_cast<const float*>(c.data), c.n));
      } else if (in_place) {
        // Zero copy: the engine reads the array's memory (kept alive by `keep` for the call).
        table.AddColumn(Column::NumericView(c.name, reinterpret_cast<const double*>(c.data), c.n));
      } else if (c.float32) {
        float_cells.emplace_back(c.n);
        strided32.emplace_back(&c, float_cells.back().data());
      } else {
        strided.emplace_back(&c, std::vector<double>(c.n));
      }
    }
    constexpr size_t kBlock = 2048;
    for (size_t begin = 0; begin < rows; begin += kBlock) {
      const size_t end = std::min(rows, begin + kBlock);
      for (auto& [c, v] : strided) {
        const char* p = c->data + static_cast<py::ssize_t>(begin) * c->stride;
        double* out = v.data();
        for (size_t i = begin; i < end; ++i, p += c->stride) std::memcpy(out + i, p, sizeof(double));
      }
      for (auto& [c, out] : strided32) {
        const char* p = c->data + static_cast<py::ssize_t>(begin) * c->stride;
        for (size_t i = begin; i < end; ++i, p += c->stride) std::memcpy(out + i, p, sizeof(float));
      }
    }
    for (auto& [c, v] : strided) table.AddColumn(Column::Numeric(c->name, std::move(v)));
    for (auto& [c, out] : strided32) table.AddColumn(Column::Float32View(c->name, out, c->n));
    numeric.clear();
    // No input column at all (a model without inputs, or every input absent): one filler
    // column carries the row count (a missing column means all-missing to the engine).
    if (table.num_columns() == 0) table.AddColumn(Column::Numeric("\x01rows", std::vector<double>(rows, NAN)));
  }
  size_t rows = 0;
};

// Columns in: [(name, float64 array)] or [(name, int32 codes, [str] dictionary)].
// `string_fields`: names of model inputs that expect string columns; a numeric array given for
// one of them becomes a string column of the numbers' shortest round-trip text.
PendingTable BuildTable(const py::list& columns, const std::vector<std::string>& string_fields,
                        py::ssize_t nrows) {
  PendingTable pt;
  pt.rows = static_cast<size_t>(nrows);
  Table& t = pt.table;
  for (const py::handle& item : columns) {
    if (!py::isinstance<py::tuple>(item)) ThrowData("internal: a column is a tuple");
    auto tup = py::reinterpret_borrow<py::tuple>(item);
    if (tup.size() != 2 && tup.size() != 3) ThrowData("internal: a column is (name, values) or (name, codes, dictionary)");
    const std::string name = tup[0].cast<std::string>();
    // A numeric array (float32 kept as float32: read in place when contiguous; anything else as
    // float64). A string field gets the text of each value widened to double (exact).
    auto add_array = [&](py::array a, auto zero) {
      using T = decltype(zero);
      if (a.ndim() != 1) ThrowData("column '" + name + "': expected a 1-D array");
      const py::ssize_t n = a.shape(0);
      if (n != nrows) ThrowData("column '" + name + "' has " + std::to_string(n) + " rows, expected " + std::to_string(nrows));
      const char* base = reinterpret_cast<const char*>(a.data());
      const py::ssize_t stride = a.strides(0);
      bool as_string = false;
      for (const std::string& s : string_fields) as_string = as_string || s == name;
      if (as_string) {
        Column c = Column::String(name);
        c.mutable_codes().reserve(static_cast<size_t>(n));
        for (py::ssize_t i = 0; i < n; ++i) {
          T x;
          std::memcpy(&x, base + i * stride, sizeof(T));
          if (std::isnan(x)) c.AppendMissing();
          else c.AppendString(FormatDouble(static_cast<double>(x)));
        }
        t.AddColumn(std::move(c));
      } else {
        pt.numeric.push_back({name, base, stride, static_cast<size_t>(n), std::is_same_v<T, float>});
        pt.keep.push_back(std::move(a));
      }
    };
    if (tup.size() == 2 && py::isinstance<py::array>(tup[1]) &&
        py::reinterpret_borrow<py::array>(tup[1]).dtype().equal(py::dtype::of<float>())) {
      add_array(py::reinterpret_borrow<py::array>(tup[1]), 0.0f);
    } else if (tup.size() == 2) {
      F64Array a = F64Array::ensure(tup[1]);
      if (!a) {
        PyErr_Clear();
        ThrowData("column '" + name + "': cannot convert to float64");
      }
      add_array(std::move(a), 0.0);
    } else {
      I32Array codes = I32Array::ensure(tup[1]);
      if (!codes) {
        PyErr_Clear();
        ThrowData("column '" + name + "': codes must be integers");
      }
      if (codes.ndim() != 1) ThrowData("column '" + name + "': expected 1-D codes");
      const py::ssize_t n = codes.shape(0);
      if (n != nrows) ThrowData("column '" + name + "' has " + std::to_string(n) + " rows, expected " + std::to_string(nrows));
      if (!py::isinstance<py::sequence>(tup[2])) ThrowData("column '" + name + "': dictionary must be a list of str");
      auto dict = py::reinterpret_borrow<py::sequence>(tup[2]);
      Column c = Column::String(name);
      std::vector<int32_t> remap;
      remap.reserve(dict.size());
      bool identity = true;
      for (size_t k = 0; k < dict.size(); ++k) {
        py::object h = dict[k];
        if (!PyUnicode_Check(h.ptr())) ThrowData("column '" + name + "': dictionary entries must be str");
        Py_ssize_t len = 0;
        const char* s = PyUnicode_AsUTF8AndSize(h.ptr(), &len);
        if (s == nullptr) throw py::error_already_set();
        const int32_t code = c.Intern(std::string_view(s, static_cast<size_t>(len)));
        identity = identity && code == static_cast<int32_t>(k);
        remap.push_back(code);
      }
      const int32_t* p = codes.data();
      const auto dsize = static_cast<int32_t>(remap.size());
      for (py::ssize_t i = 0; i < n; ++i) {
        if (p[i] < -1 || p[i] >= dsize) ThrowData("column '" + name + "': code out of range");
      }
      std::vector<int32_t>& out = c.mutable_codes();
      if (identity) {
        out.assign(p, p + n);
      } else {
        out.resize(static_cast<size_t>(n));
        for (py::ssize_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = p[i] < 0 ? Column::kMissingCode : remap[static_cast<size_t>(p[i])];
      }
      t.AddColumn(std::move(c));
    }
  }
  return pt;
}

py::list ColumnsOut(Table&& out) {
  py::list cols;
  for (Column& c : out.mutable_columns()) {
    if (c.kind() == Column::Kind::kNumeric && c.view_owner() != nullptr) {
      // Score's output storage (Column::NumericView with an owner): the array keeps it alive.
      auto* keep = new std::shared_ptr<const void>(c.view_owner());
      py::capsule owner(keep, [](void* p) { delete static_cast<std::shared_ptr<const void>*>(p); });
      const std::span<const double> cells = c.numbers();
      cols.append(py::make_tuple(
          c.name(), py::array_t<double>({static_cast<py::ssize_t>(cells.size())}, {sizeof(double)},
                                        cells.data(), owner)));
    } else if (c.kind() == Column::Kind::kNumeric) {
      cols.append(py::make_tuple(c.name(), ToNumpy(std::move(c.mutable_numbers()))));
    } else {
      py::list dict;
      for (const std::string& s : c.dictionary()) dict.append(py::str(s));
      cols.append(py::make_tuple(c.name(), ToNumpy(std::move(c.mutable_codes())), dict));
    }
  }
  return cols;
}

// ------------------------------------------------------------------------------------------
// Model
// ------------------------------------------------------------------------------------------

class PyModel {
 public:
  static std::shared_ptr<PyModel> Load(const std::string& path) {
    Result<pmml::Model> m = Status::Ok();
    {
      py::gil_scoped_release nogil;
      m = pmml::Model::LoadFile(path);
    }
    if (!m.ok()) throw ModelErrorEx(m.status().ToString());
    return std::shared_ptr<PyModel>(new PyModel(std::move(*m)));
  }
  static std::shared_ptr<PyModel> LoadString(const std::string& xml, const std::string& name) {
    Result<pmml::Model> m = Status::Ok();
    {
      py::gil_scoped_release nogil;
      m = pmml::Model::LoadString(xml, name);
    }
    if (!m.ok()) throw ModelErrorEx(m.status().ToString());
    return std::shared_ptr<PyModel>(new PyModel(std::move(*m)));
  }

  py::list Inputs() const {
    py::list l;
    for (const auto& f : model_.inputs()) l.append(FieldDict(f));
    return l;
  }
  py::list Outputs() const {
    py::list l;
    for (const auto& f : model_.outputs()) l.append(FieldDict(f));
    return l;
  }

  py::tuple Score(const py::list& columns, py::ssize_t nrows, int threads, size_t block_rows,
                  bool kernels) const {
    if (nrows < 0) ThrowData("negative row count");
    PendingTable pt = BuildTable(columns, string_fields_, nrows);
    pmml::ScoreOptions so;
    so.threads = threads;
    if (block_rows > 0) so.block_rows = block_rows;
    so.compiled_kernels = kernels;
    Result<pmml::ScoreResult> r = Status::Ok();
    {
      py::gil_scoped_release nogil;
      pt.Fill();
      r = model_.Score(pt.table, so);
    }
    if (!r.ok()) ThrowData(r.status().ToString());
    py::list errors;
    for (const pmml::RowError& e : r->row_errors) errors.append(py::make_tuple(e.row, e.message));
    return py::make_tuple(ColumnsOut(std::move(r->outputs)), errors);
  }

  // One row, the lean way: the values go into a reused 1-row Table (one per concurrent caller,
  // from a small pool) and straight through Model::Score; the result Table becomes a dict. Same
  // semantics as Model::ScoreOne (a str for a numeric field is parsed; a row error raises).
  py::dict PredictOne(const py::dict& row) const {
    std::unique_ptr<Table> t = TakeRowTable();
    const auto& infos = model_.inputs();
    for (size_t i = 0; i < input_names_.size(); ++i) {
      Column& col = t->mutable_columns()[i];
      PyObject* v = PyDict_GetItemWithError(row.ptr(), input_names_[i].ptr());
      double d = NAN;
      if (v == nullptr) {
        if (PyErr_Occurred()) throw py::error_already_set();
      } else if (v == Py_None) {
      } else if (PyFloat_Check(v)) {
        d = PyFloat_AS_DOUBLE(v);
      } else if (PyUnicode_Check(v)) {
        Py_ssize_t len = 0;
        const char* s = PyUnicode_AsUTF8AndSize(v, &len);
        if (s == nullptr) throw py::error_already_set();
        Column c = Column::String(infos[i].name);
        c.AppendString(std::string_view(s, static_cast<size_t>(len)));
        col = std::move(c);
        continue;
      } else {
        // int, bool, numpy scalars, Decimal, ...: anything with __float__ (or __index__).
        d = PyFloat_AsDouble(v);
        if (d == -1.0 && PyErr_Occurred()) {
          PyErr_Clear();
          ReturnRowTable(std::move(t));
          ThrowData("predict_one: field '" + infos[i].name +
                    "': expected a number, a string or None, got " + std::string(Py_TYPE(v)->tp_name));
        }
      }
      if (col.kind() != Column::Kind::kNumeric) col = Column::Numeric(infos[i].name, {d});
      else col.mutable_numbers()[0] = d;
    }
    Result<pmml::ScoreResult> r = Status::Ok();
    {
      py::gil_scoped_release nogil;
      r = model_.Score(*t);
    }
    ReturnRowTable(std::move(t));
    if (!r.ok()) ThrowData(r.status().ToString());
    if (!r->row_errors.empty()) ThrowData(r->row_errors.front().message);
    py::dict out;
    const auto& cols = r->outputs.columns();
    for (size_t i = 0; i < cols.size() && i < output_names_.size(); ++i) {
      const Column& c = cols[i];
      if (c.IsMissing(0)) out[output_names_[i]] = py::none();
      else if (c.kind() == Column::Kind::kNumeric) out[output_names_[i]] = py::float_(c.numbers()[0]);
      else out[output_names_[i]] = py::str(c.dictionary()[static_cast<size_t>(c.codes()[0])]);
    }
    return out;
  }

  py::list TreeNodes() const {
    auto r = model_.TreeNodes();
    if (!r.ok()) throw ModelErrorEx(r.status().ToString());
    py::list l;
    for (const pmml::TreeNodeInfo& n : *r) {
      py::dict d;
      d["parent"] = n.parent;
      d["depth"] = n.depth;
      d["condition"] = n.condition;
      d["field"] = n.field;
      d["leaf"] = n.leaf;
      d["score"] = n.score;
      d["record_count"] = n.record_count;
      d["distribution"] = n.distribution;
      l.append(d);
    }
    return l;
  }

  py::list DecisionPaths(const py::list& columns, py::ssize_t nrows) const {
    PendingTable pt = BuildTable(columns, string_fields_, nrows);
    Result<std::vector<std::vector<int32_t>>> r = Status::Ok();
    {
      py::gil_scoped_release nogil;
      pt.Fill();
      r = model_.DecisionPaths(pt.table);
    }
    if (!r.ok()) {
      if (r.status().code() == Status::Code::kDataError) ThrowData(r.status().ToString());
      throw ModelErrorEx(r.status().ToString());
    }
    py::list l;
    for (auto& p : *r) l.append(ToNumpy(std::move(p)));
    return l;
  }

  std::string Describe() const { return model_.Describe(); }
  const pmml::Model& model() const { return model_; }

 private:
  explicit PyModel(pmml::Model m) : model_(std::move(m)) {
    for (const auto& f : model_.inputs())
      if (f.is_string()) string_fields_.push_back(f.name);
    for (const auto& f : model_.inputs()) input_names_.push_back(py::str(f.name));
    for (const auto& f : model_.outputs()) output_names_.push_back(py::str(f.name));
  }
  std::unique_ptr<Table> TakeRowTable() const {
    {
      std::lock_guard<std::mutex> lock(pool_mu_);
      if (!row_tables_.empty()) {
        std::unique_ptr<Table> t = std::move(row_tables_.back());
        row_tables_.pop_back();
        return t;
      }
    }
    auto t = std::make_unique<Table>();
    for (const auto& f : model_.inputs()) t->AddColumn(Column::Numeric(f.name, {NAN}));
    if (t->num_columns() == 0) t->AddColumn(Column::Numeric("\x01rows", {NAN}));
    return t;
  }
  void ReturnRowTable(std::unique_ptr<Table> t) const {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (row_tables_.size() < 64) row_tables_.push_back(std::move(t));
  }

  pmml::Model model_;
  mutable std::mutex pool_mu_;
  mutable std::vector<std::unique_ptr<Table>> row_tables_;  // reusable 1-row input tables
  std::vector<std::string> string_fields_;
  std::vector<py::str> input_names_;   // created once: predict_one builds no key strings
  std::vector<py::str> output_names_;
};

// ------------------------------------------------------------------------------------------
// DNS features: the glue of tools/cli/dns_pipeline.cc (SetUpDns / ReadLogs), without printing.
// ------------------------------------------------------------------------------------------

// Same grammar as the CLI's --window / --memory (tools/cli/features.cc).
int64_t ParseDuration(const std::string& s) {
  if (s.empty()) return -1;
  size_t pos = 0;
  long long v;
  try {
    v = std::stoll(s, &pos);
  } catch (...) {
    return -1;
  }
  if (v <= 0) return -1;
  const std::string unit = s.substr(pos);
  if (unit.empty() || unit == "s") return v;
  if (unit == "m") return v * 60;
  if (unit == "h") return v * 3600;
  if (unit == "d") return v * 86400;
  return -1;
}

uint64_t ParseBytes(const std::string& s) {
  if (s.empty()) return 0;
  size_t pos = 0;
  unsigned long long v;
  try {
    v = std::stoull(s, &pos);
  } catch (...) {
    return 0;
  }
  std::string unit = s.substr(pos);
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
  if (unit.empty()) return v;
  if (unit == "K" || unit == "k") return v << 10;
  if (unit == "M" || unit == "m") return v << 20;
  if (unit == "G" || unit == "g") return v << 30;
  return 0;
}

// PSL, words, enrichment sources and aggregation options (the CLI's DnsPipeline). The
// enrichment data is loaded on first use (finish): partial aggregations never need it.
class DnsConfig {
 public:
  DnsConfig(const std::string& window, const std::string& key, uint32_t min_ips, uint32_t sample_cap,
            const std::string& memory, const std::string& psl, const std::string& words,
            const std::string& format, std::vector<std::string> asn_dbs,
            std::vector<std::string> country_dbs, uint32_t threads)
      : asn_dbs_(std::move(asn_dbs)), country_dbs_(std::move(country_dbs)) {
    if (threads != 1 && threads != 2) ThrowData("threads " + std::to_string(threads) + ": expected 1 or 2");
    auto fmt_r = dns::ParseLogFormat(format);
    if (!fmt_r.ok()) ThrowData(fmt_r.status().message());
    format_ = *fmt_r;
    const int64_t w = ParseDuration(window);
    if (w <= 0) ThrowData("window '" + window + "': expected a duration such as 24h, 30m, 1d, 3600");
    const uint64_t budget = ParseBytes(memory);
    if (budget == 0) ThrowData("memory '" + memory + "': expected a size such as 512M or 2G");
    if (key != "fqdn" && key != "registered") ThrowData("key must be 'fqdn' or 'registered'");
    if (sample_cap < 2 || sample_cap > (uint32_t{1} << 30))
      ThrowData("sample_cap " + std::to_string(sample_cap) + ": expected 2 to 1073741824 (as --sample-cap)");
    {
      py::gil_scoped_release nogil;
      auto p = dns::PublicSuffixList::Load(psl);
      if (!p.ok()) {
        py::gil_scoped_acquire gil;
        ThrowData(p.status().message());
      }
      psl_ = std::move(*p);
      auto wl = dns::WordList::Load(words);
      if (!wl.ok()) {
        py::gil_scoped_acquire gil;
        ThrowData(wl.status().message());
      }
      words_ = std::move(*wl);
    }
    options_.window_seconds = w;
    options_.key = key == "registered" ? dns::KeyMode::kRegistered : dns::KeyMode::kFqdn;
    options_.psl = &psl_;
    options_.min_ips = min_ips;
    options_.sample_cap = sample_cap;
    options_.memory_budget = budget;
    options_.threads = threads;
  }
  DnsConfig(const DnsConfig&) = delete;

  // Loads the enrichment sources once (thread-safe); GIL released by the caller.
  Status EnsureEnricher() {
    std::lock_guard<std::mutex> lock(mu_);
    if (enricher_loaded_) return enricher_status_;
    enricher_loaded_ = true;
    for (const std::string& p : asn_dbs_) {
      Status st = enricher_.AddAsnSource(p);
      if (!st.ok()) return enricher_status_ = st;
    }
    for (const std::string& p : country_dbs_) {
      Status st = enricher_.AddCountrySource(p);
      if (!st.ok()) return enricher_status_ = st;
    }
    return enricher_status_;
  }
  void LoadEnricher() {
    Status st;
    {
      py::gil_scoped_release nogil;
      st = EnsureEnricher();
    }
    if (!st.ok()) ThrowData(st.message());
  }

  const dns::FeatureOptions& options() const { return options_; }
  dns::LogFormat format() const { return format_; }
  const dns::Enricher& enricher() const { return enricher_; }
  const dns::WordList& words() const { return words_; }
  std::string DescribeEnricher() {
    LoadEnricher();
    return enricher_.Describe();
  }

 private:
  dns::PublicSuffixList psl_;
  dns::WordList words_;
  dns::Enricher enricher_;
  dns::FeatureOptions options_;
  dns::LogFormat format_ = dns::LogFormat::kAuto;
  std::vector<std::string> asn_dbs_, country_dbs_;
  std::mutex mu_;
  bool enricher_loaded_ = false;
  Status enricher_status_;
};

py::dict IngestStatsDict(const dns::IngestStats& s, const std::vector<std::string>& errors) {
  py::dict d;
  d["read"] = s.read;
  d["used"] = s.used;
  d["rejected_total"] = s.rejected_total();
  d["rejected"] = s.rejected();
  d["skipped"] = s.skipped;
  d["first_rejections"] = s.first_rejections();
  d["errors"] = errors;
  return d;
}

// An Aggregator (partial or whole feature state) bound to a DnsConfig.
class FeatureState {
 public:
  explicit FeatureState(std::shared_ptr<DnsConfig> cfg) : cfg_(std::move(cfg)), agg_(cfg_->options()) {}

  // Reads logs into the state. Input errors (unreadable file, corrupt data, a rejection under
  // strict) raise DataError after the other inputs were read (strict: at once), like the CLI's
  // exit status 2; exceeding the memory budget raises DataError.
  py::dict Read(const std::vector<std::string>& paths, bool strict) {
    dns::IngestStats stats(strict);
    std::vector<std::string> errors;
    Status budget;
    {
      py::gil_scoped_release nogil;
      std::lock_guard<std::mutex> lock(mu_);
      for (const std::string& p : paths) {
        Status st = dns::ReadLog(p, cfg_->format(), agg_, stats);
        if (!st.ok()) {
          errors.push_back(st.message());
          if (stats.strict()) break;
        }
      }
      budget = agg_.budget_status();
    }
    if (!budget.ok()) ThrowData(budget.message());
    if (!errors.empty()) {
      std::string msg;
      for (const std::string& e : errors) msg += (msg.empty() ? "" : "; ") + e;
      ThrowData(msg);
    }
    return IngestStatsDict(stats, errors);
  }

  py::bytes Serialize(uint32_t part, uint32_t parts) {
    if (parts == 0 || part >= parts) ThrowData("serialize: need 0 <= part < parts");
    std::string s;
    {
      py::gil_scoped_release nogil;
      std::lock_guard<std::mutex> lock(mu_);
      s = agg_.Serialize(part, parts);
    }
    return py::bytes(s);
  }

  void MergeSerialized(const py::bytes& b) {
    std::string_view sv;
    {
      char* data = nullptr;
      Py_ssize_t len = 0;
      if (PyBytes_AsStringAndSize(b.ptr(), &data, &len) != 0) throw py::error_already_set();
      sv = std::string_view(data, static_cast<size_t>(len));
    }
    Status st;
    {
      py::gil_scoped_release nogil;  // `b` stays referenced by the caller's frame
      std::lock_guard<std::mutex> lock(mu_);
      st = agg_.MergeSerialized(sv);
    }
    if (!st.ok()) ThrowData(st.message());
  }

  void Merge(FeatureState& other) {
    if (&other == this) ThrowData("merge: cannot merge a state into itself");
    Status st;
    {
      py::gil_scoped_release nogil;
      std::scoped_lock lock(mu_, other.mu_);
      st = agg_.Merge(other.agg_);
    }
    if (!st.ok()) ThrowData(st.message());
  }

  // -> (domain [str], window_start int64 array, [(column, float64 array)], finish stats dict)
  py::tuple Finish() {
    cfg_->LoadEnricher();
    const auto& cols = dns::FeatureColumns();
    std::vector<std::string> domains;
    std::vector<int64_t> starts;
    std::vector<std::vector<double>> values(cols.size());
    dns::FinishStats fs;
    {
      py::gil_scoped_release nogil;
      std::lock_guard<std::mutex> lock(mu_);
      agg_.Finish(&cfg_->enricher(), &cfg_->words(), &fs, [&](const dns::FeatureRow& r) {
        domains.push_back(r.domain);
        starts.push_back(r.window_start);
        for (size_t c = 0; c < cols.size(); ++c) values[c].push_back(c < r.values.size() ? r.values[c] : NAN);
      });
    }
    py::list dom;
    for (const std::string& d : domains) {
      PyObject* s = PyUnicode_DecodeUTF8(d.data(), static_cast<Py_ssize_t>(d.size()), "surrogateescape");
      if (s == nullptr) throw py::error_already_set();
      dom.append(py::reinterpret_steal<py::object>(s));
    }
    py::list feats;
    for (size_t c = 0; c < cols.size(); ++c)
      feats.append(py::make_tuple(std::string(cols[c].name), ToNumpy(std::move(values[c]))));
    py::dict st;
    st["keys"] = fs.keys;
    st["passed"] = fs.passed;
    st["filtered"] = fs.filtered;
    st["address_ips"] = fs.address_ips;
    st["unknown_asn"] = fs.unknown_asn;
    st["unknown_country"] = fs.unknown_country;
    st["sampled_keys"] = fs.sampled_keys;
    return py::make_tuple(dom, ToNumpy(std::move(starts)), feats, st);
  }

  size_t Keys() {
    std::lock_guard<std::mutex> lock(mu_);
    return agg_.keys();
  }
  uint64_t ApproxBytes() {
    std::lock_guard<std::mutex> lock(mu_);
    return agg_.approx_bytes();
  }
  uint64_t Dropped() {
    std::lock_guard<std::mutex> lock(mu_);
    return agg_.dropped_records();
  }

 private:
  std::shared_ptr<DnsConfig> cfg_;
  dns::Aggregator agg_;
  std::mutex mu_;
};

}  // namespace

PYBIND11_MODULE(_native, m) {
  m.doc() = "fluxscore native bindings (use the fluxscore package, not this module directly)";

  // The exception classes live in pure Python (fluxscore/_errors.py).
  py::module_ errors = py::module_::import("fluxscore._errors");
  static PyObject* model_error = py::object(errors.attr("ModelError")).release().ptr();
  static PyObject* data_error = py::object(errors.attr("DataError")).release().ptr();
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ModelErrorEx& e) {
      PyErr_SetString(model_error, e.what());
    } catch (const DataErrorEx& e) {
      PyErr_SetString(data_error, e.what());
    }
  });

  py::class_<PyModel, std::shared_ptr<PyModel>>(m, "Model")
      .def_static("load", &PyModel::Load, py::arg("path"))
      .def_static("load_string", &PyModel::LoadString, py::arg("xml"), py::arg("source_name") = "<memory>")
      .def("inputs", &PyModel::Inputs)
      .def("outputs", &PyModel::Outputs)
      .def("score", &PyModel::Score, py::arg("columns"), py::arg("nrows"), py::arg("threads") = 1,
           py::arg("block_rows") = 0, py::arg("kernels") = true)
      .def("predict_one", &PyModel::PredictOne, py::arg("row"))
      .def("tree_nodes", &PyModel::TreeNodes)
      .def("decision_paths", &PyModel::DecisionPaths, py::arg("columns"), py::arg("nrows"))
      .def("describe", &PyModel::Describe)
      .def_property_readonly("model_element", [](const PyModel& pm) { return pm.model().model_element(); })
      .def_property_readonly("function_name", [](const PyModel& pm) { return pm.model().function_name(); })
      .def_property_readonly("pmml_version", [](const PyModel& pm) { return pm.model().pmml_version(); })
      .def_property_readonly("has_compiled_kernels", [](const PyModel& pm) { return pm.model().has_compiled_kernels(); });

  py::class_<DnsConfig, std::shared_ptr<DnsConfig>>(m, "DnsConfig")
      .def(py::init<const std::string&, const std::string&, uint32_t, uint32_t, const std::string&,
                    const std::string&, const std::string&, const std::string&, std::vector<std::string>,
                    std::vector<std::string>, uint32_t>(),
           py::arg("window"), py::arg("key"), py::arg("min_ips"), py::arg("sample_cap"), py::arg("memory"),
           py::arg("psl"), py::arg("words"), py::arg("format"), py::arg("asn_db"), py::arg("country_db"),
           py::arg("threads") = 1)
      .def("load_enricher", &DnsConfig::LoadEnricher)
      .def("describe_enricher", &DnsConfig::DescribeEnricher);

  py::class_<FeatureState, std::shared_ptr<FeatureState>>(m, "FeatureState")
      .def(py::init<std::shared_ptr<DnsConfig>>(), py::arg("config"))
      .def("read", &FeatureState::Read, py::arg("paths"), py::arg("strict") = false)
      .def("serialize", &FeatureState::Serialize, py::arg("part") = 0, py::arg("parts") = 1)
      .def("merge_serialized", &FeatureState::MergeSerialized, py::arg("data"))
      .def("merge", &FeatureState::Merge, py::arg("other"))
      .def("finish", &FeatureState::Finish)
      .def_property_readonly("keys", &FeatureState::Keys)
      .def_property_readonly("approx_bytes", &FeatureState::ApproxBytes)
      .def_property_readonly("dropped_records", &FeatureState::Dropped);

  m.def("feature_columns", [] {
    py::list l;
    for (const auto& c : dns::FeatureColumns()) l.append(py::make_tuple(std::string(c.name), c.integer));
    return l;
  });
}
