// fluxscore_bench_score: times Model::LoadFile and Model::Score on a raw float32 matrix, for
// side-by-side comparisons with scikit-learn and XGBoost (bench/compare.py drives it).
//
//   fluxscore_bench_score --model M.pmml --data X.f32 --rows N --cols C --names x0,x1,...
//                         [--threads T] [--repeat R] [--block-rows B] [--out preds.f64]
//                         [--out-column NAME] [--input float32|float64]
//
// X.f32 is a little-endian float32 row-major matrix with at least N rows of C values; the first
// N rows are used. Each feature becomes a column: with --input float32 (the default; the same
// float32 values scikit-learn is given) a Column::Float32View over a float32 array of that
// feature, with --input float64 a Column::Numeric (values widened to double, which is exact).
// The table is built once, outside the timed region; each timed run is one Model::Score call
// over all N rows (outputs allocated and filled by the engine included).
//
// Prints one JSON line:
//   {"model":..., "input":"float32", "rows":N, "threads":T, "repeat":R, "model_bytes":..., "load_s":...,
//    "load_mb_s":..., "best_s":..., "median_s":..., "rows_per_s":..., "row_errors":...,
//    "out_column":...}
// rows_per_s = N / median_s.
//
// --out writes one float64 per row (little-endian): the probability of the positive class, i.e.
// the output column named by --out-column, else the output named "probability(1)" /
// "probability(true)" / "probability(yes)", else the last "probability(...)" output, else the
// first output (the prediction of a regressor). Missing outputs are written as NaN.
#include <algorithm>
#include <bit>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "fluxscore/pmml/model.h"
#include "fluxscore/table.h"

namespace {

static_assert(std::endian::native == std::endian::little, "raw float32 input is little-endian");

struct Args {
  std::string model;
  std::string data;
  size_t rows = 0;
  size_t cols = 0;
  std::vector<std::string> names;
  int threads = 1;
  int repeat = 3;
  size_t block_rows = 0;  // 0 = ScoreOptions default
  std::string out;
  std::string out_column;
  bool float32 = true;
};

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "fluxscore_bench_score: %s\n", msg.c_str());
  std::exit(2);
}

void Usage() {
  std::fprintf(stderr,
               "usage: fluxscore_bench_score --model M.pmml --data X.f32 --rows N --cols C\n"
               "         --names x0,x1,... [--threads T] [--repeat R] [--block-rows B]\n"
               "         [--out preds.f64] [--out-column NAME] [--input float32|float64]\n");
  std::exit(2);
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

unsigned long long ParseUnsigned(const std::string& flag, const std::string& v) {
  char* end = nullptr;
  errno = 0;
  unsigned long long x = std::strtoull(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || v[0] == '-') Die("bad value for " + flag + ": '" + v + "'");
  return x;
}

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") Usage();
    if (i + 1 >= argc) Die("missing value for " + flag);
    std::string v = argv[++i];
    if (flag == "--model") a.model = v;
    else if (flag == "--data") a.data = v;
    else if (flag == "--rows") a.rows = ParseUnsigned(flag, v);
    else if (flag == "--cols") a.cols = ParseUnsigned(flag, v);
    else if (flag == "--names") a.names = Split(v, ',');
    else if (flag == "--threads") a.threads = static_cast<int>(ParseUnsigned(flag, v));
    else if (flag == "--repeat") a.repeat = static_cast<int>(ParseUnsigned(flag, v));
    else if (flag == "--block-rows") a.block_rows = ParseUnsigned(flag, v);
    else if (flag == "--out") a.out = v;
    else if (flag == "--out-column") a.out_column = v;
    else if (flag == "--input" && (v == "float32" || v == "float64")) a.float32 = v == "float32";
    else Die("unknown flag " + flag);
  }
  if (a.model.empty() || a.data.empty() || a.rows == 0 || a.cols == 0) Usage();
  if (a.names.size() != a.cols)
    Die("--names has " + std::to_string(a.names.size()) + " names but --cols is " + std::to_string(a.cols));
  if (a.repeat < 1) Die("--repeat must be >= 1");
  return a;
}

std::string JsonString(std::string_view s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      o += buf;
    } else {
      o += c;
    }
  }
  return o + "\"";
}

// Reads the first rows x cols float32 values and transposes them into columns (float32 views
// over `storage`, or double columns).
fluxscore::Table ReadTable(const Args& a, std::vector<std::vector<float>>& storage) {
  std::ifstream in(a.data, std::ios::binary);
  if (!in) Die("cannot open " + a.data);
  const size_t need = a.rows * a.cols;
  std::vector<float> raw(need);
  in.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(need * sizeof(float)));
  if (static_cast<size_t>(in.gcount()) != need * sizeof(float))
    Die(a.data + " holds fewer than " + std::to_string(a.rows) + " rows of " + std::to_string(a.cols) +
        " float32 values");
  fluxscore::Table t;
  if (a.float32) {
    storage.assign(a.cols, std::vector<float>(a.rows));
    for (size_t c = 0; c < a.cols; ++c) {
      for (size_t r = 0; r < a.rows; ++r) storage[c][r] = raw[r * a.cols + c];
      t.AddColumn(fluxscore::Column::Float32View(a.names[c], storage[c].data(), a.rows));
    }
    return t;
  }
  for (size_t c = 0; c < a.cols; ++c) {
    std::vector<double> col(a.rows);
    for (size_t r = 0; r < a.rows; ++r) col[r] = static_cast<double>(raw[r * a.cols + c]);
    t.AddColumn(fluxscore::Column::Numeric(a.names[c], std::move(col)));
  }
  return t;
}

// Index into Model::outputs() of the column --out writes.
int PickOutput(const fluxscore::pmml::Model& m, const std::string& requested) {
  const auto& outs = m.outputs();
  if (outs.empty()) Die("model declares no outputs");
  if (!requested.empty()) {
    for (size_t i = 0; i < outs.size(); ++i)
      if (outs[i].name == requested) return static_cast<int>(i);
    Die("no output column named '" + requested + "'");
  }
  for (const char* n : {"probability(1)", "probability(true)", "probability(yes)", "probability(1.0)"})
    for (size_t i = 0; i < outs.size(); ++i)
      if (outs[i].name == n) return static_cast<int>(i);
  int last_prob = -1;
  for (size_t i = 0; i < outs.size(); ++i)
    if (outs[i].name.rfind("probability(", 0) == 0 && !outs[i].is_string()) last_prob = static_cast<int>(i);
  if (last_prob >= 0) return last_prob;
  return 0;  // the target: a regressor's prediction
}

}  // namespace

int main(int argc, char** argv) {
  using Clock = std::chrono::steady_clock;
  const Args a = ParseArgs(argc, argv);

  std::error_code ec;
  const auto model_bytes = std::filesystem::file_size(a.model, ec);
  if (ec) Die("cannot stat " + a.model + ": " + ec.message());

  std::vector<std::vector<float>> storage;  // the float32 columns' cells
  const fluxscore::Table table = ReadTable(a, storage);

  const auto l0 = Clock::now();
  auto loaded = fluxscore::pmml::Model::LoadFile(a.model);
  const double load_s = std::chrono::duration<double>(Clock::now() - l0).count();
  if (!loaded.ok()) Die("load failed: " + loaded.status().ToString());
  const fluxscore::pmml::Model& model = loaded.value();

  fluxscore::pmml::ScoreOptions opts;
  opts.threads = a.threads;
  if (a.block_rows) opts.block_rows = a.block_rows;

  std::vector<double> times;
  size_t row_errors = 0;
  std::vector<double> kept;  // the --out column from the last run
  const int out_index = PickOutput(model, a.out_column);
  for (int rep = 0; rep < a.repeat; ++rep) {
    const auto s0 = Clock::now();
    auto scored = model.Score(table, opts);
    const double s = std::chrono::duration<double>(Clock::now() - s0).count();
    if (!scored.ok()) Die("score failed: " + scored.status().ToString());
    times.push_back(s);
    row_errors = scored->row_errors.size();
    if (rep + 1 == a.repeat && !a.out.empty()) {
      const fluxscore::Column& col = scored->outputs.columns().at(static_cast<size_t>(out_index));
      kept.resize(a.rows);
      if (col.kind() == fluxscore::Column::Kind::kNumeric) {
        kept.assign(col.numbers().begin(), col.numbers().end());
      } else {
        // A string-typed output (e.g. a categorical prediction): parse its text.
        for (size_t r = 0; r < a.rows; ++r)
          kept[r] = col.IsMissing(r) ? std::nan("") : std::strtod(col.CellText(r).c_str(), nullptr);
      }
    }
  }

  if (!a.out.empty()) {
    std::ofstream out(a.out, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(kept.data()), static_cast<std::streamsize>(kept.size() * sizeof(double)));
    if (!out) Die("cannot write " + a.out);
  }

  std::vector<double> sorted = times;
  std::sort(sorted.begin(), sorted.end());
  const double best = sorted.front();
  const size_t n = sorted.size();
  const double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  const double mb = static_cast<double>(model_bytes) / 1e6;

  std::printf(
      "{\"model\":%s,\"input\":\"%s\",\"rows\":%zu,\"threads\":%d,\"repeat\":%d,\"model_bytes\":%llu,"
      "\"load_s\":%.6f,\"load_mb_s\":%.3f,\"best_s\":%.6f,\"median_s\":%.6f,\"rows_per_s\":%.1f,"
      "\"row_errors\":%zu,\"out_column\":%s}\n",
      JsonString(a.model).c_str(), a.float32 ? "float32" : "float64", a.rows, a.threads, a.repeat,
      static_cast<unsigned long long>(model_bytes), load_s, load_s > 0 ? mb / load_s : 0.0, best, median,
      median > 0 ? static_cast<double>(a.rows) / median : 0.0, row_errors,
      JsonString(model.outputs()[static_cast<size_t>(out_index)].name).c_str());
  return 0;
}
