// Model: the public face of the engine. Load = read -> parse (xml/) -> compile (compile/);
// Score = bind input columns to the plan's inputs once, then evaluate row blocks on threads.
#include "fluxscore/pmml/model.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <mutex>
#include <thread>

#include <pthread.h>
#include <sys/mman.h>

#include <fmt/format.h>

#include "common/huge_pages.h"
#include "pmml/compile/compiler.h"
#include "pmml/eval/evaluator.h"
#include "pmml/eval/fast.h"
#include "pmml/plan/fast_plan.h"
#include "pmml/plan/plan.h"
#include "pmml/xml/document.h"

namespace fluxscore::pmml {

Model::Model(std::unique_ptr<Plan> plan) : plan_(std::move(plan)) {
  for (const OutputColumn& c : plan_->columns) output_infos_.push_back(c.info);
}
Model::~Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;

namespace {

Result<std::unique_ptr<Plan>> ParseAndCompile(std::string xml, std::string source_name,
                                              const LoadOptions& options) {
  FLUXSCORE_ASSIGN_OR_RETURN(auto doc,
                             Document::Parse(std::move(xml), std::move(source_name), options));
  FLUXSCORE_ASSIGN_OR_RETURN(auto plan, CompileDocument(*doc, options));
  BuildFastPlan(*plan);
  return plan;
}

// Compilation recurses over nested expressions, predicates and segments (capped at
// kMaxNesting levels). It runs on a thread of its own with a large stack, so that the cap - not
// the caller's stack size, nor sanitizer-inflated frames - decides what loads.
constexpr size_t kCompileStackBytes = size_t{512} << 20;  // reserved, committed only when used

struct CompileJob {
  std::string xml;
  std::string source;
  const LoadOptions* options;
  Result<std::unique_ptr<Plan>> result = Status::Ok();
};

void* RunCompileJob(void* arg) {
  auto* job = static_cast<CompileJob*>(arg);
  job->result = ParseAndCompile(std::move(job->xml), std::move(job->source), *job->options);
  return nullptr;
}

// Parses and compiles the document text (taken over, not copied: a large model's text is tens
// of megabytes).
Result<std::unique_ptr<Plan>> LoadText(std::string xml, std::string source_name,
                                       const LoadOptions& options) {
  CompileJob job{std::move(xml), std::move(source_name), &options};
  pthread_attr_t attr;
  pthread_t thread;
  bool started = pthread_attr_init(&attr) == 0 &&
                 pthread_attr_setstacksize(&attr, kCompileStackBytes) == 0 &&
                 pthread_create(&thread, &attr, RunCompileJob, &job) == 0;
  pthread_attr_destroy(&attr);
  if (started) {
    pthread_join(thread, nullptr);
  } else {
    RunCompileJob(&job);  // no thread available: compile here
  }
  return std::move(job.result);
}

}  // namespace

Result<Model> Model::LoadFile(const std::string& path, const LoadOptions& options) {
  FLUXSCORE_ASSIGN_OR_RETURN(std::string text, Document::ReadSource(path));
  FLUXSCORE_ASSIGN_OR_RETURN(auto plan, LoadText(std::move(text), path, options));
  return Model(std::move(plan));
}

Result<Model> Model::LoadString(std::string_view xml, std::string source_name,
                                const LoadOptions& options) {
  FLUXSCORE_ASSIGN_OR_RETURN(auto plan,
                             LoadText(std::string(xml), std::move(source_name), options));
  return Model(std::move(plan));
}

bool Model::has_compiled_kernels() const { return plan_->fast != nullptr; }

const std::vector<FieldInfo>& Model::inputs() const { return plan_->input_infos; }
const std::vector<FieldInfo>& Model::outputs() const { return output_infos_; }
const std::string& Model::model_element() const { return plan_->root().element; }
const std::string& Model::function_name() const { return plan_->root().function_name; }
const std::string& Model::pmml_version() const { return plan_->pmml_version; }

namespace {

// Validity of a raw value against the DataField (Value/Interval declarations, integer type).
CellState Validate(const FieldDef& f, double v) {
  if (std::isnan(v)) return f.nan_is_missing ? CellState::kMissing : CellState::kInvalid;
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
  for (const InputPlan& in : plan.root().inputs) {
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
      double v = b.column->NumberAt(row);
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
  if (c.s == CellState::kInvalid && in.invalid == InvalidTreatment::kReturnInvalid) {
    std::string text = b.column != nullptr ? b.column->CellText(row) : "";
    return ApplyTreatments(plan, in, c, st, text);
  }
  return ApplyTreatments(plan, in, c, st, "");
}

// Storage for a numeric output column of `rows` cells, left uninitialised (Score writes every
// cell: the kernels or the row evaluator, whichever decides the row). Columns of 4 MiB and more
// are mapped on their own, 2 MiB-aligned and rounded up to whole 2 MiB pages, with
// madvise(MADV_HUGEPAGE) (transparent huge pages in "madvise" mode, the common default, need
// it): a million-row column faults in four 2 MiB pages, none of them 4 KiB ones at unaligned
// ends, and is never zero-filled twice (the kernel's fault already zeroes it).
//
// Such mappings are reused: when the last column holding one is destroyed, it goes to a small
// process-wide cache (at most kCachedMappings of them, kCachedBytes in all; beyond that it is
// unmapped), and the next column of the same mapped size takes it back, already faulted in.
// Scoring batch after batch in one process then pays the kernel's page faults and zeroing
// (~12% of dt10's Score time) once, not per batch.
#if defined(MADV_HUGEPAGE) && defined(MAP_ANONYMOUS)
constexpr size_t kCachedMappings = 8;
constexpr size_t kCachedBytes = size_t{256} << 20;

struct MappingCache {
  std::mutex mu;
  std::vector<std::pair<void*, size_t>> free;  // (address, mapped bytes)
  size_t bytes = 0;
};

MappingCache& Mappings() {
  static MappingCache* cache = new MappingCache;  // never destroyed: deleters may run at exit
  return *cache;
}

void ReleaseMapping(void* p, size_t size) {
  MappingCache& c = Mappings();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    if (c.free.size() < kCachedMappings && c.bytes + size <= kCachedBytes) {
      c.free.emplace_back(p, size);
      c.bytes += size;
      return;
    }
  }
  munmap(p, size);
}

void* TakeMapping(size_t size) {
  MappingCache& c = Mappings();
  std::lock_guard<std::mutex> lock(c.mu);
  for (size_t i = c.free.size(); i-- > 0;) {
    if (c.free[i].second != size) continue;
    void* p = c.free[i].first;
    c.free.erase(c.free.begin() + static_cast<std::ptrdiff_t>(i));
    c.bytes -= size;
    return p;
  }
  return nullptr;
}
#endif

std::shared_ptr<double> AllocateOutput(size_t rows) {
#if defined(MADV_HUGEPAGE) && defined(MAP_ANONYMOUS)
  const size_t bytes = rows * sizeof(double);
  if (bytes >= 2 * kHugePage) {
    const size_t size = RoundToHugePages(bytes);
    auto own = [size](void* q) {
      return std::shared_ptr<double>(static_cast<double*>(q),
                                     [size](double* d) { ReleaseMapping(d, size); });
    };
    if (void* q = TakeMapping(size)) return own(q);
    if (void* q = MapHugePages(size)) return own(q);
  }
#endif
  return std::shared_ptr<double>(new double[std::max<size_t>(rows, 1)],
                                 [](double* q) { delete[] q; });
}

struct OutputBuffers {
  std::vector<double*> numbers;               // numeric output columns (uninitialised cells)
  std::vector<std::shared_ptr<double>> number_storage;  // ... and what owns them
  std::vector<std::vector<int32_t>> codes;    // string output columns (pool codes)
  std::vector<bool> is_string;
  std::vector<ValueType> types;  // booleans, dates and times are written as text
};

struct BlockResult {
  std::vector<RowError> errors;
  std::vector<std::tuple<size_t, size_t, std::string>> overflow;  // (column, row, text)
};

// Writes one output cell.
void WriteCell(OutputBuffers& out, size_t c, size_t row, Cell v,
               RowState& st, int32_t pool_size, BlockResult& res) {
  if (out.is_string[c]) {
    if (v.missing() || std::isnan(v.v)) {
      out.codes[c][row] = Column::kMissingCode;
      return;
    }
    double text_code = v.v;
    if (out.types[c] == ValueType::kBoolean)
      text_code = v.v != 0 ? kTrueCode : kFalseCode;  // no text formatting per row
    else if (out.types[c] != ValueType::kString)
      text_code = st.ctx.Intern(FormatValue(v.v, out.types[c], st.ctx));
    auto code = static_cast<int32_t>(text_code);
    if (code >= pool_size) {
      res.overflow.emplace_back(c, row, std::string(st.ctx.Text(text_code)));
      code = Column::kMissingCode;
    }
    out.codes[c][row] = code;
  } else {
    out.numbers[c][row] = v.missing() ? NAN : v.v;
  }
}

// Scratch of one scoring thread.
struct ThreadState {
  explicit ThreadState(const Plan& plan) : row(plan) {}
  RowState row;
  FastBlock fast;
  std::vector<uint8_t> undecided;  // per row of the block: left for the row evaluator
};

// Where each compiled-kernel feature reads its values from.
std::vector<FastSource> FastSources(const FastPlan& fp, const Bound& bound) {
  std::vector<FastSource> out(fp.features.size());
  for (size_t f = 0; f < fp.features.size(); ++f) {
    const Binding& b = bound.inputs[static_cast<size_t>(fp.features[f].input)];
    if (b.column == nullptr) continue;
    if (b.column->kind() == Column::Kind::kNumeric) {
      out[f].numbers = b.column->numbers().data();
    } else if (b.column->kind() == Column::Kind::kFloat32) {
      out[f].floats = b.column->floats().data();
    } else {
      out[f].codes = b.column->codes().data();
      out[f].dict_cells = b.dict_cells.data();
    }
  }
  return out;
}

void ScoreBlock(const Plan& plan, const Bound& bound, const std::vector<FastSource>& sources,
                size_t begin, size_t end, ThreadState& ts, bool use_fast, OutputBuffers& out,
                BlockResult& res) {
  RowState& st = ts.row;
  st.ctx.ResetOverflow();
  for (const std::string& s : bound.extras) st.ctx.Intern(s);
  const int32_t pool_size = plan.pool.size();
  const size_t ncols = plan.columns.size();
  const FastPlan* fp = use_fast ? plan.fast.get() : nullptr;
  // Compiled kernels: sub-blocks small enough that their feature columns stay in L1/L2 while
  // the trees are walked; undecided rows are marked for the row evaluator below.
  constexpr size_t kFastRows = kFastBlockRows;
  std::vector<uint8_t>& undecided = ts.undecided;
  undecided.assign(end - begin, fp == nullptr ? 1 : 0);
  size_t left = fp == nullptr ? end - begin : 0;  // rows for the row evaluator
  // Kernels write straight into the output columns when every column is numeric and no two
  // columns show the same value (else into the block, copied below). Rows they leave are
  // written in full by the row evaluator. Only for single trees and regressions, where the
  // copy is a good part of the time; for forests it is not (rf: 0.6% of the instructions),
  // and an A/B on rf was within this machine's noise, so they keep the copy.
  const size_t ncats = plan.root().target.categories.size();
  bool direct = fp != nullptr && fp->trees <= 1;
  thread_local std::vector<int32_t> prob_col;
  prob_col.assign(ncats, -1);
  int32_t pred_col = -1;
  thread_local std::vector<int32_t> zero_cols;  // probabilities of categories never predicted
  zero_cols.clear();
  for (size_t c = 0; direct && c < ncols; ++c) {
    const FastColumn& fc = fp->columns[c];
    if (out.is_string[c]) {
      direct = false;
    } else if (fc.kind == FastColumn::kPrediction) {
      direct = pred_col < 0;
      pred_col = static_cast<int32_t>(c);
    } else if (fc.category >= 0) {
      int32_t& pc = prob_col[static_cast<size_t>(fc.category)];
      direct = pc < 0;
      pc = static_cast<int32_t>(c);
    } else {
      zero_cols.push_back(static_cast<int32_t>(c));
    }
  }
  for (size_t sub = begin; fp != nullptr && sub < end; sub += kFastRows) {
    const size_t sub_end = std::min(end, sub + kFastRows);
    FastBlock& fb = ts.fast;
    const size_t next_n = std::min(end, sub_end + kFastRows) - sub_end;
    fb.prob_out.clear();
    fb.pred_out = nullptr;
    if (direct) {
      fb.prob_out.assign(ncats, nullptr);
      for (size_t cat = 0; cat < ncats; ++cat)
        if (prob_col[cat] >= 0)
          fb.prob_out[cat] = out.numbers[static_cast<size_t>(prob_col[cat])] + sub;
      if (pred_col >= 0) fb.pred_out = out.numbers[static_cast<size_t>(pred_col)] + sub;
    }
    GatherFast(*fp, sources, sub, sub_end - sub, next_n, plan.root().target.categories.size(),
               fb);
    RunFastKernels(plan, *fp, fb);
    // Output cells start uninitialised: a column the kernels do not write gets its 0 here (the
    // row evaluator rewrites the rows they leave).
    if (direct)
      for (int32_t c : zero_cols)
        std::fill(out.numbers[static_cast<size_t>(c)] + sub, out.numbers[static_cast<size_t>(c)] + sub_end, 0.0);
    size_t decided = 0;
    for (size_t i = 0; i < fb.n; ++i) {
      undecided[sub - begin + i] = !fb.decided[i];
      decided += fb.decided[i];
    }
    const bool all_decided = decided == fb.n;
    left += fb.n - decided;
    const size_t begin = sub;  // output rows of this sub-block start here
    for (size_t c = 0; !direct && c < ncols; ++c) {
      const double* values = FastColumnValues(*fp, fb, c);
      if (all_decided && !out.is_string[c] && values != nullptr) {
        std::memcpy(out.numbers[c] + begin, values, fb.n * sizeof(double));
      } else if (out.is_string[c] && out.types[c] == ValueType::kString) {
        int32_t* codes = out.codes[c].data() + begin;
        for (size_t i = 0; i < fb.n; ++i)
          if (fb.decided[i]) codes[i] = static_cast<int32_t>(values[i]);  // pool codes
      } else if (!out.is_string[c]) {
        double* numbers = out.numbers[c] + begin;
        for (size_t i = 0; i < fb.n; ++i)
          if (fb.decided[i]) numbers[i] = values != nullptr ? values[i] : 0.0;
      } else {
        for (size_t i = 0; i < fb.n; ++i)
          if (fb.decided[i])
            WriteCell(out, c, begin + i, Cell::Valid(values != nullptr ? values[i] : 0.0), st,
                      pool_size, res);
      }
    }
  }
  for (size_t row = begin; left > 0 && row < end; ++row) {
    if (!undecided[row - begin]) continue;
    --left;
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
    if (ok) EvaluateModel(plan, 0, st);
    if (!st.error.empty()) {
      res.errors.push_back(RowError{row, st.error});
      for (size_t c = 0; c < ncols; ++c) WriteCell(out, c, row, Cell::Missing(), st, pool_size, res);
      continue;
    }
    for (size_t c = 0; c < ncols; ++c) {
      Cell v = Cell::Missing();
      for (int32_t slot : plan.columns[c].slots) {
        if (slot < 0) {
          const ModelResult& r = st.results[0];
          if (r.has_prediction) v = Cell::Valid(r.prediction);
        } else {
          v = st.cells[static_cast<size_t>(slot)];
        }
        if (!v.missing()) break;
      }
      WriteCell(out, c, row, v, st, pool_size, res);
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
  const size_t ncols = plan.columns.size();
  OutputBuffers out;
  out.numbers.resize(ncols);
  out.number_storage.resize(ncols);
  out.codes.resize(ncols);
  out.is_string.resize(ncols);
  out.types.resize(ncols);
  for (size_t c = 0; c < ncols; ++c) {
    ValueType t = plan.columns[c].type;
    out.types[c] = t;
    out.is_string[c] = t != ValueType::kNumber;
    if (out.is_string[c]) {
      out.codes[c].resize(rows);
    } else {
      out.number_storage[c] = AllocateOutput(rows);
      out.numbers[c] = out.number_storage[c].get();
    }
  }
  const size_t block = std::max<size_t>(1, options.block_rows);
  const size_t nblocks = (rows + block - 1) / block;
  int threads = options.threads <= 0 ? static_cast<int>(std::thread::hardware_concurrency())
                                      : options.threads;
  threads = std::max(1, std::min<int>(threads, static_cast<int>(std::max<size_t>(1, nblocks))));
  std::vector<BlockResult> results(nblocks);
  std::atomic<size_t> next{0};
  const bool use_fast = options.compiled_kernels && plan.fast != nullptr;
  const std::vector<FastSource> sources =
      use_fast ? FastSources(*plan.fast, bound) : std::vector<FastSource>{};
  auto worker = [&]() {
    ThreadState ts(plan);
    for (size_t b = next++; b < nblocks; b = next++) {
      size_t begin = b * block;
      ScoreBlock(plan, bound, sources, begin, std::min(rows, begin + block), ts, use_fast, out,
                 results[b]);
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
    const std::string& name = plan.columns[c].info.name;
    if (!out.is_string[c]) {
      const double* cells = out.numbers[c];
      result.outputs.AddColumn(
          Column::NumericView(name, cells, rows, std::move(out.number_storage[c])));
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

namespace {

// Names and types of the document model's slots (its inputs and derived fields).
struct SlotNames {
  std::vector<std::string> names;
  std::vector<ValueType> types;
};

SlotNames NamesOfSlots(const Plan& p) {
  SlotNames s;
  s.names.resize(static_cast<size_t>(p.num_slots));
  s.types.assign(static_cast<size_t>(p.num_slots), ValueType::kNumber);
  const SubModel& m = p.root();
  for (const InputPlan& in : m.inputs) {
    if (in.slot < 0 || in.field < 0) continue;
    const FieldDef& f = p.fields[static_cast<size_t>(in.field)];
    s.names[static_cast<size_t>(in.slot)] = f.name;
    s.types[static_cast<size_t>(in.slot)] = f.type;
  }
  for (const DerivedPlan& d : m.derived) {
    if (d.slot < 0) continue;
    s.names[static_cast<size_t>(d.slot)] = d.name;
    s.types[static_cast<size_t>(d.slot)] = d.type;
  }
  return s;
}

std::string ValueText(const Plan& p, const SlotNames& names, int32_t slot, double v) {
  ValueType t = slot >= 0 ? names.types[static_cast<size_t>(slot)] : ValueType::kNumber;
  if (t == ValueType::kString) return std::string(p.pool.Get(static_cast<int32_t>(v)));
  // Thresholds that are float32 values (dataType="float" models) in their shortest float form:
  // "0.3", not "0.30000001192092896".
  if (t == ValueType::kNumber && std::isfinite(v) &&
      static_cast<double>(static_cast<float>(v)) == v)
    return fmt::format("{}", static_cast<float>(v));
  EvalContext ctx(&p.pool);
  return FormatValue(v, t, ctx);
}

std::string SlotName(const SlotNames& names, int32_t slot) {
  if (slot < 0 || static_cast<size_t>(slot) >= names.names.size() ||
      names.names[static_cast<size_t>(slot)].empty())
    return fmt::format("<slot {}>", slot);
  return names.names[static_cast<size_t>(slot)];
}

std::string PredicateText(const Plan& p, const SlotNames& names, int32_t pi) {
  const Predicate& pr = p.predicates[static_cast<size_t>(pi)];
  auto children = [&](std::string_view sep) {
    std::string s;
    for (int32_t k = pr.begin; k < pr.end; ++k) {
      if (k > pr.begin) s += sep;
      s += PredicateText(p, names, p.pred_children[static_cast<size_t>(k)]);
    }
    return "(" + s + ")";
  };
  switch (pr.kind) {
    case PredKind::kTrue: return "";
    case PredKind::kFalse: return "false";
    case PredKind::kSimple: {
      static constexpr const char* kOps[] = {"=", "\xe2\x89\xa0", "<", "\xe2\x89\xa4", ">",
                                             "\xe2\x89\xa5"};
      return fmt::format("{} {} {}", SlotName(names, pr.slot), kOps[static_cast<int>(pr.op)],
                         ValueText(p, names, pr.slot, pr.value));
    }
    case PredKind::kIsMissing: return SlotName(names, pr.slot) + " is missing";
    case PredKind::kIsNotMissing: return SlotName(names, pr.slot) + " is not missing";
    case PredKind::kSetIn:
    case PredKind::kSetNotIn: {
      std::string s = SlotName(names, pr.slot) + (pr.kind == PredKind::kSetIn ? " in {" : " not in {");
      for (int32_t k = pr.begin; k < pr.end; ++k) {
        if (k > pr.begin) s += ", ";
        s += ValueText(p, names, pr.slot, p.set_values[static_cast<size_t>(k)]);
      }
      return s + "}";
    }
    case PredKind::kAnd: return children(" and ");
    case PredKind::kOr: return children(" or ");
    case PredKind::kXor: return children(" xor ");
    case PredKind::kSurrogate: return children(" else if missing ");
  }
  return "";
}

}  // namespace

Result<std::vector<TreeNodeInfo>> Model::TreeNodes() const {
  const Plan& p = *plan_;
  const SubModel& m = p.root();
  if (m.kind != ModelKind::kTree)
    return Status::InvalidArgument(fmt::format(
        "{}: the model is a {}, not a TreeModel: it has no decision path", p.source, m.element));
  const Tree& tree = p.trees[static_cast<size_t>(m.body)];
  SlotNames names = NamesOfSlots(p);
  std::vector<TreeNodeInfo> out(tree.nodes.size());
  for (size_t i = 0; i < tree.nodes.size(); ++i) {
    const TreeNode& n = tree.nodes[i];
    TreeNodeInfo& info = out[i];
    info.condition = PredicateText(p, names, n.pred);
    const Predicate& pr = p.predicates[static_cast<size_t>(n.pred)];
    if (pr.kind == PredKind::kSimple) info.field = SlotName(names, pr.slot);
    info.leaf = n.num_children == 0;
    info.record_count = n.record_count;
    if (n.has_score) {
      if (m.function == MiningFunction::kClassification || m.target.type == ValueType::kString) {
        EvalContext ctx(&p.pool);
        info.score = FormatValue(n.score, m.target.type, ctx);
      } else {
        info.score = FormatDouble(n.score);
      }
    }
    for (int32_t d = n.dist_begin; d < n.dist_end; ++d) {
      const ScoreDist& sd = tree.dists[static_cast<size_t>(d)];
      EvalContext ctx(&p.pool);
      std::string cat = FormatValue(sd.value, m.target.type, ctx);
      info.distribution.emplace_back(cat, std::isnan(sd.record_count) ? sd.probability
                                                                      : sd.record_count);
    }
    for (int32_t c = n.first_child; c < n.first_child + n.num_children; ++c) {
      out[static_cast<size_t>(c)].parent = static_cast<int32_t>(i);
    }
  }
  // Children always come after their parent in the plan's node array.
  for (size_t i = 1; i < out.size(); ++i)
    if (out[i].parent >= 0) out[i].depth = out[static_cast<size_t>(out[i].parent)].depth + 1;
  return out;
}

Result<std::vector<std::vector<int32_t>>> Model::DecisionPaths(const Table& input) const {
  const Plan& p = *plan_;
  if (p.root().kind != ModelKind::kTree)
    return Status::InvalidArgument(fmt::format(
        "{}: the model is a {}, not a TreeModel: it has no decision path", p.source,
        p.root().element));
  Bound bound = Bind(p, input);
  RowState st(p);
  for (const std::string& s : bound.extras) st.ctx.Intern(s);
  std::vector<std::vector<int32_t>> paths(input.num_rows());
  for (size_t row = 0; row < input.num_rows(); ++row) {
    if (st.ctx.overflow().size() > bound.extras.size() + 4096) {
      st.ctx.ResetOverflow();
      for (const std::string& s : bound.extras) st.ctx.Intern(s);
    }
    st.error.clear();
    bool ok = true;
    for (const Binding& b : bound.inputs) {
      if (!PrepareInput(b, row, st, p)) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    std::vector<int32_t> trace;
    st.trace = &trace;
    st.results[0] = ModelResult{};
    EvaluateModel(p, 0, st);
    st.trace = nullptr;
    if (st.error.empty() && st.results[0].has_prediction) paths[row] = std::move(trace);
  }
  return paths;
}

namespace {

const char* KindName(const SubModel& m) { return m.element.c_str(); }

void DescribeModel(const Plan& p, int32_t mi, int indent, std::string& s) {
  const SubModel& m = p.models[static_cast<size_t>(mi)];
  std::string pad(static_cast<size_t>(indent), ' ');
  s += fmt::format("{}{} ({})", pad, KindName(m), m.function_name);
  if (!m.derived.empty()) s += fmt::format(", {} derived fields", m.derived.size());
  if (m.float_math) s += ", float arithmetic";
  switch (m.kind) {
    case ModelKind::kTree: {
      const Tree& t = p.trees[static_cast<size_t>(m.body)];
      size_t leaves = 0;
      for (const TreeNode& n : t.nodes) leaves += n.num_children == 0;
      static const char* kStrategies[] = {"none", "lastPrediction", "nullPrediction",
                                          "defaultChild", "weightedConfidence", "aggregateNodes"};
      s += fmt::format(": {} nodes, {} leaves, depth {}; missing values: {} (penalty {}), "
                       "no true child: {}\n",
                       t.nodes.size(), leaves, t.max_depth, kStrategies[static_cast<int>(t.missing)],
                       t.missing_penalty,
                       t.no_true_child_last ? "returnLastPrediction" : "returnNullPrediction");
      break;
    }
    case ModelKind::kRegression: {
      const Regression& r = p.regressions[static_cast<size_t>(m.body)];
      static const char* kNorms[] = {"none", "simplemax", "softmax", "logit", "probit",
                                     "cloglog", "exp", "loglog", "cauchit"};
      s += fmt::format(": {} tables, {} terms, normalization {}\n", r.tables.size(),
                       r.terms.size(), kNorms[static_cast<int>(r.norm)]);
      break;
    }
    case ModelKind::kMining: {
      const Segmentation& g = p.segmentations[static_cast<size_t>(m.body)];
      static const char* kMethods[] = {"majorityVote", "weightedMajorityVote", "average",
                                       "weightedAverage", "median", "weightedMedian", "max",
                                       "sum", "weightedSum", "selectFirst", "selectAll",
                                       "modelChain"};
      s += fmt::format(": {} segments, {}\n", g.segments.size(),
                       kMethods[static_cast<int>(g.method)]);
      // Summarise long runs of segments of the same shape instead of listing each.
      size_t shown = 0;
      for (size_t i = 0; i < g.segments.size(); ++i) {
        if (shown >= 3 && i + 1 < g.segments.size()) {
          s += fmt::format("{}  ... {} more segments\n", pad, g.segments.size() - i - 1);
          i = g.segments.size() - 1;
        }
        DescribeModel(p, g.segments[i].model, indent + 2, s);
        ++shown;
      }
      break;
    }
  }
}

}  // namespace

std::string Model::Describe() const {
  const Plan& p = *plan_;
  std::string s;
  s += fmt::format("source:        {}\n", p.source);
  s += fmt::format("PMML version:  {}\n", p.pmml_version);
  s += fmt::format("model:         {} ({})\n", p.root().element, p.root().function_name);
  s += "inputs:\n";
  for (const FieldInfo& f : p.input_infos) {
    s += fmt::format("  {:<24} {:<9} {}", f.name, ToString(f.data_type), ToString(f.op_type));
    if (!f.values.empty()) s += fmt::format(" ({} values)", f.values.size());
    s += "\n";
  }
  s += "outputs:\n";
  for (const OutputColumn& c : p.columns)
    s += fmt::format("  {:<24} {:<9} {}\n", c.info.name, ToString(c.info.data_type),
                     ToString(c.info.op_type));
  size_t nodes = 0;
  for (const Tree& t : p.trees) nodes += t.nodes.size();
  s += fmt::format("structure:     {} models, {} trees, {} tree nodes, {} predicates "
                   "(row evaluator: {} bytes per node with its predicate)\n",
                   p.models.size(), p.trees.size(), nodes, p.predicates.size(),
                   sizeof(TreeNode) + sizeof(Predicate));
  DescribeModel(p, 0, 2, s);
  if (p.fast != nullptr) {
    static const char* kShapes[] = {"tree", "forest (average)", "forest (sum)",
                                    "boosting chain", "regression"};
    s += fmt::format("compiled kernels: {} over {} features, {} trees, {} nodes ({} bytes per "
                     "node)\n",
                     kShapes[static_cast<int>(p.fast->shape)], p.fast->features.size(),
                     p.fast->trees, p.fast->forest.nodes.size(),
                     sizeof(FNode) + sizeof(int32_t));
  } else {
    s += "compiled kernels: none (scored by the row evaluator)\n";
  }
  if (p.root().function == MiningFunction::kClassification) {
    s += "classes:      ";
    EvalContext ctx(&p.pool);
    for (double c : p.root().target.categories)
      s.append(" ").append(FormatValue(c, p.root().target.type, ctx));
    s += "\n";
  }
  return s;
}

}  // namespace fluxscore::pmml
