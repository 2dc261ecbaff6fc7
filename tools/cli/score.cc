// `fluxscore score`: CSV in, CSV out, through Model::Score. With --stream: stream.cc.
#include <fstream>
#include <iostream>
#include <set>

#include <fmt/format.h>

#include "commands.h"
#include "fluxscore/csv.h"
#include "fluxscore/pmml/model.h"
#include "stream.h"

namespace fluxscore::cli {

int RunScore(const ScoreArgs& args) {
  auto model = pmml::Model::LoadFile(args.model);
  if (!model.ok()) {
    fmt::print(stderr, "fluxscore: {}\n", model.status().ToString());
    return 2;
  }
  if (args.stream) return RunScoreStream(args, *model);
  if (args.input_format != "csv") {
    fmt::print(stderr, "fluxscore: --input-format {} needs --stream\n", args.input_format);
    return 2;
  }
  CsvReadOptions ro;
  ro.delimiter = args.delimiter;
  ro.missing_values = args.missing_values;
  for (const pmml::FieldInfo& f : model->inputs())
    if (!f.is_string()) ro.numeric_columns.insert(f.name);
  Result<Table> input = Status::Ok();
  if (args.input == "-") {
    input = ReadCsv(std::cin, "<stdin>", ro);
  } else {
    input = ReadCsvFile(args.input, ro);
  }
  if (!input.ok()) {
    fmt::print(stderr, "fluxscore: {}\n", input.status().ToString());
    return 2;
  }
  std::set<std::string> present;
  for (const Column& c : input->columns()) present.insert(c.name());
  for (const pmml::FieldInfo& f : model->inputs())
    if (!present.count(f.name))
      fmt::print(stderr, "fluxscore: warning: input has no column '{}'; it is missing in every row\n",
                 f.name);
  pmml::ScoreOptions so;
  so.threads = args.threads;
  so.compiled_kernels = !args.no_kernels;
  auto scored = model->Score(*input, so);
  if (!scored.ok()) {
    fmt::print(stderr, "fluxscore: {}\n", scored.status().ToString());
    return 2;
  }
  Table out;
  for (const std::string& k : args.keep_columns) {
    int ci = input->Find(k);
    if (ci < 0) {
      fmt::print(stderr, "fluxscore: --keep: input has no column '{}'\n", k);
      return 2;
    }
    out.AddColumn(input->columns()[static_cast<size_t>(ci)]);
  }
  for (Column& c : scored->outputs.mutable_columns()) out.AddColumn(std::move(c));
  CsvWriteOptions wo;
  wo.delimiter = args.delimiter;
  Status st;
  if (args.output == "-") {
    st = WriteCsv(out, std::cout, wo);
    std::cout.flush();
  } else {
    std::ofstream f(args.output, std::ios::binary);
    if (!f) {
      fmt::print(stderr, "fluxscore: cannot write '{}'\n", args.output);
      return 2;
    }
    st = WriteCsv(out, f, wo);
  }
  if (!st.ok()) {
    fmt::print(stderr, "fluxscore: {}\n", st.ToString());
    return 2;
  }
  // Every row is either scored or reported with its reason.
  const std::string& src = args.input == "-" ? std::string("<stdin>") : args.input;
  for (size_t i = 0; i < scored->row_errors.size() && i < 10; ++i) {
    const auto& e = scored->row_errors[i];
    fmt::print(stderr, "fluxscore: {}:{}: row {} not scored: {}\n", src, e.row + 2, e.row + 1,
               e.message);
  }
  size_t rows = input->num_rows();
  if (!args.quiet)
    fmt::print(stderr, "fluxscore: {} rows read, {} scored, {} rejected (invalid input)\n", rows,
             rows - scored->row_errors.size(), scored->row_errors.size());
  return 0;
}

}  // namespace fluxscore::cli
