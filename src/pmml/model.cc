// Model: the public face of the engine. Load = read -> parse (xml/) -> compile (compile/);
// Score = bind input columns to the plan's inputs once, then evaluate row blocks on threads.
#include "fluxscore/pmml/model.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

#include <fmt/format.h>

#include "pmml/compile/compiler.h"
#include "pmml/eval/evaluator.h"
#include "pmml/plan/plan.h"
#include "pmml/xml/document.h"

namespace fluxscore::pmml {

Model::Model(std::unique_ptr<Plan> plan) : plan_(std::move(plan)) {}
Model::~Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;

Result<Model> Model::LoadFile(const std::string& path, const LoadOptions& options) {
  FLUXSCORE_ASSIGN_OR_RETURN(std::string text, Document::ReadSource(path));
  return LoadString(text, path, options);
}

Result<Model> Model::LoadString(std::string_view xml, std::string source_name,
                                const LoadOptions& options) {
  FLUXSCORE_ASSIGN_OR_RETURN(auto doc,
                             Document::Parse(std::string(xml), std::move(source_name), options));
  FLUXSCORE_ASSIGN_OR_RETURN(auto plan, CompileDocument(*doc, options));
  return Model(std::move(plan));
}

const std::vector<FieldInfo>& Model::inputs() const { return plan_->input_infos; }
const std::vector<FieldInfo>& Model::outputs() const { return plan_->output_infos; }
const std::string& Model::model_element() const { return plan_->model_element; }
const std::string& Model::function_name() const { return plan_->function_name; }
const std::string& Model::pmml_version() const { return plan_->pmml_version; }

namespace {

// Validity of a raw value against the DataField (Value/Interval declarations, integer type).
CellState Validate(const FieldDef& f, double v) {
  if (std::isnan(v)) return CellState::kInvalid;
  if (!f.missing_values.empty() &&
      std::binary_search(f.missing_values.begin(), f.missing_values.end(), v))
    return CellState::kMissing;
  if (!f.invalid_values.empty() &&
      std::binary_search(f.invalid_values.begin(), f.invalid_values.end(), v))
    return CellState::kInvalid;
  if (f.data_type == DataType::kInteger && v != std::trunc(v)) return CellState::kInvalid;
  if (f.op_type != OpType::kContinuous) {
    if (!f.valid_values.empty() &&
        !std::binary_search(f.valid_values.begin(), f.valid_values.end(), v))
      return CellState::kInvalid;
  } else if (!f.intervals.empty()) {
    bool in = false;
    for (const Interval& iv : f.intervals) in |= iv.Contains(v);
    if (!in) return CellState::kInvalid;
  }
  return CellState::kValid;
}

// One active input bound to a table column.
struct Binding {
  const InputPlan* in = nullptr;
  const FieldDef* field = nullptr;
  const Column* column = nullptr;   // nullptr: the column is absent (all missing)
  std::vector<Cell> dict_cells;     // string columns: prepared cell per dictionary entry
};

struct Bound {
  std::vector<Binding> inputs;
  std::vector<std::string> extras;  // input strings the model's pool does not hold
};

Bound Bind(const Plan& plan, const Table& table) {
  Bound b;
  std::unordered_map<std::string, int32_t> extra_index;
  EvalContext probe(&plan.pool);
  for (const InputPlan& in : plan.inputs) {
    Binding bi;
    bi.in = &in;
    bi.field = &plan.fields[static_cast<size_t>(in.field)];
    int ci = table.Find(bi.field->name);
    if (ci >= 0) bi.column = &table.columns()[static_cast<size_t>(ci)];
    if (bi.column != nullptr && bi.column->kind() == Column::Kind::kString) {
      const auto& dict = bi.column->dictionary();
      bi.dict_cells.resize(dict.size());
      for (size_t k = 0; k < dict.size(); ++k) {
        double v;
        if (bi.field->type == ValueType::kString) {
          int32_t code = plan.pool.Find(dict[k]);
          if (code < 0) {
            auto [it, fresh] = extra_index.emplace(dict[k], static_cast<int32_t>(b.extras.size()));
            if (fresh) b.extras.push_back(dict[k]);
            code = plan.pool.size() + it->second;
          }
          v = code;
        } else if (!ParseNonString(dict[k], bi.field->type, &v)) {
          bi.dict_cells[k] = Cell::Invalid();
          continue;
        }
        if (bi.field->is_float) v = static_cast<double>(static_cast<float>(v));
        bi.dict_cells[k] = Cell{v, Validate(*bi.field, v)};
      }
    }
    b.inputs.push_back(std::move(bi));
  }
  return b;
}

// Reads one input cell and applies the MiningField treatments. Returns false (and sets
// st.error) for an invalid value under returnInvalid.
bool PrepareInput(const Binding& b, size_t row, RowState& st, const Plan& plan) {
  const InputPlan& in = *b.in;
  const FieldDef& f = *b.field;
  Cell c = Cell::Missing();
  if (b.column != nullptr) {
    if (b.column->kind() == Column::Kind::kString) {
      int32_t code = b.column->codes()[row];
      if (code >= 0) c = b.dict_cells[static_cast<size_t>(code)];
    } else {
      double v = b.column->numbers()[row];
      if (!std::isnan(v)) {
        if (f.type == ValueType::kString) {
          v = st.ctx.Intern(FormatDouble(v));
        } else if (f.is_float) {
          v = static_cast<double>(static_cast<float>(v));
        }
        c = Cell{v, Validate(f, v)};
      }
    }
  }
  if (c.s == CellState::kInvalid) {
    switch (in.invalid) {
      case InvalidTreatment::kReturnInvalid: {
        std::string text = b.column != nullptr ? b.column->CellText(row) : "";
        st.error = fmt::format("invalid value '{}' for field '{}'", text, f.name);
        return false;
      }
      case InvalidTreatment::kAsIs: break;
      case InvalidTreatment::kAsMissing: c = Cell::Missing(); break;
      case InvalidTreatment::kAsValue: c = in.invalid_replacement; break;
    }
  } else if (c.s == CellState::kValid && f.op_type == OpType::kContinuous &&
             in.outliers != OutlierTreatment::kAsIs) {
    if (c.v < in.low || c.v > in.high) {
      if (in.outliers == OutlierTreatment::kAsMissingValues) c = Cell::Missing();
      else c.v = c.v < in.low ? in.low : in.high;
    }
  }
  if (c.s == CellState::kMissing && in.missing_replacement.s != CellState::kMissing)
    c = in.missing_replacement;
  st.cells[static_cast<size_t>(in.slot)] = c;
  return true;
}

struct OutputBuffers {
  std::vector<std::vector<double>> numbers;   // numeric output columns
  std::vector<std::vector<int32_t>> codes;    // string output columns (pool codes)
  std::vector<bool> is_string;
  std::vector<ValueType> types;  // booleans, dates and times are written as text
};

struct BlockResult {
  std::vector<RowError> errors;
  std::vector<std::tuple<size_t, size_t, std::string>> overflow;  // (column, row, text)
};

void ScoreBlock(const Plan& plan, const Bound& bound, size_t begin, size_t end, RowState& st,
                OutputBuffers& out, BlockResult& res) {
  st.ctx.ResetOverflow();
  for (const std::string& s : bound.extras) st.ctx.Intern(s);
  const int32_t pool_size = plan.pool.size();
  const size_t ncols = plan.output_columns.size();
  for (size_t row = begin; row < end; ++row) {
    if (st.ctx.overflow().size() > bound.extras.size() + 4096) {
      st.ctx.ResetOverflow();
      for (const std::string& s : bound.extras) st.ctx.Intern(s);
    }
    st.error.clear();
    bool ok = true;
    for (const Binding& b : bound.inputs) {
      if (!PrepareInput(b, row, st, plan)) {
        ok = false;
        break;
      }
    }
    if (ok) EvaluateRow(plan, st);
    if (!st.error.empty()) {
      res.errors.push_back(RowError{row, st.error});
      for (size_t c = 0; c < ncols; ++c) {
        if (out.is_string[c]) out.codes[c][row] = Column::kMissingCode;
        else out.numbers[c][row] = NAN;
      }
      continue;
    }
    for (size_t c = 0; c < ncols; ++c) {
      int32_t oi = plan.output_columns[c];
      Cell v;
      if (oi < 0) {
        v = st.has_prediction ? Cell::Valid(st.prediction) : Cell::Missing();
      } else {
        v = st.cells[static_cast<size_t>(plan.outputs[static_cast<size_t>(oi)].slot)];
      }
      if (out.is_string[c]) {
        if (v.missing() || std::isnan(v.v)) {
          out.codes[c][row] = Column::kMissingCode;
        } else {
          double text_code = v.v;
          if (out.types[c] != ValueType::kString)
            text_code = st.ctx.Intern(FormatValue(v.v, out.types[c], st.ctx));
          auto code = static_cast<int32_t>(text_code);
          if (code >= pool_size) {
            res.overflow.emplace_back(c, row, std::string(st.ctx.Text(text_code)));
            code = Column::kMissingCode;
          }
          out.codes[c][row] = code;
        }
      } else {
        out.numbers[c][row] = v.missing() ? NAN : v.v;
      }
    }
  }
}

}  // namespace

Result<ScoreResult> Model::Score(const Table& input, const ScoreOptions& options) const {
  const Plan& plan = *plan_;
  const size_t rows = input.num_rows();
  for (const Column& c : input.columns())
    if (c.size() != rows)
      return Status::InvalidArgument(fmt::format("column '{}' has {} rows, expected {}", c.name(),
                                                 c.size(), rows));
  Bound bound = Bind(plan, input);
  const size_t ncols = plan.output_columns.size();
  OutputBuffers out;
  out.numbers.resize(ncols);
  out.codes.resize(ncols);
  out.is_string.resize(ncols);
  out.types.resize(ncols);
  for (size_t c = 0; c < ncols; ++c) {
    int32_t oi = plan.output_columns[c];
    ValueType t = oi < 0 ? plan.targets.front().type : plan.outputs[static_cast<size_t>(oi)].type;
    out.types[c] = t;
    out.is_string[c] = t != ValueType::kNumber;
    if (out.is_string[c]) out.codes[c].resize(rows);
    else out.numbers[c].resize(rows);
  }
  const size_t block = std::max<size_t>(1, options.block_rows);
  const size_t nblocks = (rows + block - 1) / block;
  int threads = options.threads <= 0 ? static_cast<int>(std::thread::hardware_concurrency())
                                      : options.threads;
  threads = std::max(1, std::min<int>(threads, static_cast<int>(std::max<size_t>(1, nblocks))));
  std::vector<BlockResult> results(nblocks);
  std::atomic<size_t> next{0};
  auto worker = [&]() {
    RowState st(plan);
    for (size_t b = next++; b < nblocks; b = next++) {
      size_t begin = b * block;
      ScoreBlock(plan, bound, begin, std::min(rows, begin + block), st, out, results[b]);
    }
  };
  if (threads == 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }
  ScoreResult result;
  for (size_t c = 0; c < ncols; ++c) {
    const std::string& name = plan.output_infos[c].name;
    if (!out.is_string[c]) {
      result.outputs.AddColumn(Column::Numeric(name, std::move(out.numbers[c])));
      continue;
    }
    Column col = Column::String(name);
    std::vector<int32_t> remap(static_cast<size_t>(plan.pool.size()), -2);
    auto& codes = col.mutable_codes();
    codes.resize(rows);
    for (size_t r = 0; r < rows; ++r) {
      int32_t code = out.codes[c][r];
      if (code < 0) {
        codes[r] = Column::kMissingCode;
        continue;
      }
      int32_t& m = remap[static_cast<size_t>(code)];
      if (m == -2) m = col.Intern(plan.pool.Get(code));
      codes[r] = m;
    }
    result.outputs.AddColumn(std::move(col));
  }
  for (BlockResult& br : results) {
    for (auto& [c, r, text] : br.overflow) {
      Column& col = result.outputs.mutable_columns()[c];
      col.mutable_codes()[r] = col.Intern(text);
    }
    for (RowError& e : br.errors) result.row_errors.push_back(std::move(e));
  }
  return result;
}

Result<std::map<std::string, Value>> Model::ScoreOne(
    const std::map<std::string, Value>& row) const {
  Table t;
  for (const FieldInfo& f : plan_->input_infos) {
    auto it = row.find(f.name);
    const Value* v = it == row.end() ? nullptr : &it->second;
    if (v != nullptr && std::holds_alternative<std::string>(*v)) {
      Column c = Column::String(f.name);
      c.AppendString(std::get<std::string>(*v));
      t.AddColumn(std::move(c));
    } else {
      double x = (v != nullptr && std::holds_alternative<double>(*v)) ? std::get<double>(*v) : NAN;
      t.AddColumn(Column::Numeric(f.name, {x}));
    }
  }
  if (t.num_columns() == 0) t.AddColumn(Column::Numeric("__row", {0.0}));
  FLUXSCORE_ASSIGN_OR_RETURN(ScoreResult r, Score(t));
  if (!r.row_errors.empty()) return Status::DataError(r.row_errors.front().message);
  std::map<std::string, Value> out;
  for (const Column& c : r.outputs.columns()) {
    if (c.IsMissing(0)) out[c.name()] = std::monostate{};
    else if (c.kind() == Column::Kind::kNumeric) out[c.name()] = c.numbers()[0];
    else out[c.name()] = c.dictionary()[static_cast<size_t>(c.codes()[0])];
  }
  return out;
}

std::string Model::Describe() const {
  const Plan& p = *plan_;
  std::string s;
  s += fmt::format("source:        {}\n", p.source);
  s += fmt::format("PMML version:  {}\n", p.pmml_version);
  s += fmt::format("model:         {} ({})\n", p.model_element, p.function_name);
  s += "inputs:\n";
  for (const FieldInfo& f : p.input_infos) {
    s += fmt::format("  {:<24} {:<9} {}", f.name, ToString(f.data_type), ToString(f.op_type));
    if (!f.values.empty()) s += fmt::format(" ({} values)", f.values.size());
    s += "\n";
  }
  s += fmt::format("derived fields: {}\n", p.derived.size());
  s += "outputs:\n";
  for (const FieldInfo& f : p.output_infos)
    s += fmt::format("  {:<24} {:<9} {}\n", f.name, ToString(f.data_type), ToString(f.op_type));
  if (p.kind == ModelKind::kTree) {
    size_t leaves = 0;
    for (const TreeNode& n : p.tree.nodes) leaves += n.num_children == 0;
    static const char* kStrategies[] = {"none", "lastPrediction", "nullPrediction",
                                        "defaultChild", "weightedConfidence", "aggregateNodes"};
    s += fmt::format("tree:          {} nodes, {} leaves, depth {}\n", p.tree.nodes.size(), leaves,
                     p.tree.max_depth);
    s += fmt::format("missing values: {} (penalty {}), no true child: {}\n",
                     kStrategies[static_cast<int>(p.tree.missing)], p.tree.missing_penalty,
                     p.tree.no_true_child_last ? "returnLastPrediction" : "returnNullPrediction");
    s += fmt::format("predicates:    {}\n", p.predicates.size());
  }
  if (p.function == MiningFunction::kClassification) {
    s += "classes:      ";
    EvalContext ctx(&p.pool);
    for (double c : p.targets.front().categories)
      s += " " + FormatValue(c, p.targets.front().type, ctx);
    s += "\n";
  }
  return s;
}

}  // namespace fluxscore::pmml
