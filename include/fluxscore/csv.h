// CSV reading and writing for Tables (RFC 4180 quoting; or verbatim cells).
//
// Reading never silently drops data: a row with the wrong number of cells is an error naming the
// file and line (or, with `ragged_ok`, padded with missing cells / truncated, and counted).
// Thread safety: free functions, no shared state.
#pragma once

#include <istream>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "fluxscore/status.h"
#include "fluxscore/table.h"

namespace fluxscore {

struct CsvReadOptions {
  char delimiter = ',';
  // Cells (after unquoting) equal to one of these are missing.
  std::vector<std::string> missing_values = {"", "NA", "N/A"};
  // true: cells are taken verbatim, split on the delimiter with no quote handling (cPMML style).
  bool verbatim = false;
  // Columns to read as numbers. A column listed here that holds a cell which is not a number
  // (and not a missing marker) is kept as a string column instead, so nothing is lost.
  std::set<std::string> numeric_columns;
  // Columns to read at all; empty = every column.
  std::set<std::string> only_columns;
};

// Reads a CSV with a header row. `source_name` is used in error messages ("in.csv:12: ...").
Result<Table> ReadCsv(std::istream& in, const std::string& source_name,
                      const CsvReadOptions& options = {});
Result<Table> ReadCsvFile(const std::string& path, const CsvReadOptions& options = {});

struct CsvWriteOptions {
  char delimiter = ',';
  std::string missing = "";  // text written for missing cells
};

// Writes a header row then one line per row; quotes cells that need it. Numbers are written in
// shortest round-trip form (FormatDouble).
Status WriteCsv(const Table& table, std::ostream& out, const CsvWriteOptions& options = {});

}  // namespace fluxscore
