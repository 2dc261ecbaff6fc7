// CSV reading and writing (see include/fluxscore/csv.h).
//
// Reading is two-phase: the whole stream is slurped into one buffer and tokenised into cells
// (string_views into the buffer; only quoted cells with doubled quotes are copied into an arena),
// then each column is typed and built in one go. Typing a whole column at once is what lets a
// numeric column that turns out to hold text fall back to a string column without losing the
// original spelling of the cells parsed so far.
#include "fluxscore/csv.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <limits>
#include <string_view>
#include <system_error>

namespace fluxscore {
namespace {

// Parses a whole cell as a double: std::from_chars (general format) plus a leading '+'.
// Nothing else may surround the number (no whitespace).
bool ParseNumber(std::string_view s, double* out) {
  const char* first = s.data();
  const char* last = s.data() + s.size();
  if (first != last && *first == '+') {
    ++first;
    if (first != last && (*first == '-' || *first == '+')) return false;
  }
  if (first == last) return false;
  auto res = std::from_chars(first, last, *out, std::chars_format::general);
  if (res.ptr != last) return false;
  if (res.ec == std::errc()) return true;
  if (res.ec == std::errc::result_out_of_range) {
    // Overflow / underflow: take strtod's answer (+-HUGE_VAL, or a denormal / zero).
    std::string copy(first, last);
    *out = std::strtod(copy.c_str(), nullptr);
    return true;
  }
  return false;
}

std::string Where(const std::string& source, size_t line) {
  return source + ":" + std::to_string(line);
}

class Tokenizer {
 public:
  Tokenizer(std::string_view data, char delim, bool verbatim, const std::string& source)
      : data_(data), delim_(delim), verbatim_(verbatim), source_(source) {}

  bool AtEnd() const { return pos_ >= data_.size(); }
  size_t line() const { return line_; }

  // True when the next record is an empty line (consumes nothing).
  bool AtBlankLine() const {
    if (pos_ >= data_.size()) return false;
    char c = data_[pos_];
    return c == '\n' || (c == '\r' && (pos_ + 1 == data_.size() || data_[pos_ + 1] == '\n'));
  }
  void SkipLine() {
    while (pos_ < data_.size() && data_[pos_] != '\n') ++pos_;
    if (pos_ < data_.size()) {
      ++pos_;
      ++line_;
    }
  }

  // Reads one record into `fields`. REQUIRES: !AtEnd().
  Status Next(std::vector<std::string_view>* fields) {
    fields->clear();
    return verbatim_ ? NextVerbatim(fields) : NextQuoted(fields);
  }

 private:
  // Scans an unquoted cell from pos_ to the next delimiter or end of line; strips a '\r' that
  // ends the line.
  std::string_view ScanPlain() {
    size_t start = pos_;
    const size_t n = data_.size();
    const char* d = data_.data();
    size_t i = pos_;
    while (i < n && d[i] != delim_ && d[i] != '\n') ++i;
    pos_ = i;
    size_t end = i;
    if ((i == n || d[i] == '\n') && end > start && d[end - 1] == '\r') --end;
    return std::string_view(d + start, end - start);
  }

  Status NextVerbatim(std::vector<std::string_view>* fields) {
    for (;;) {
      fields->push_back(ScanPlain());
      if (pos_ < data_.size() && data_[pos_] == delim_) {
        ++pos_;
        continue;
      }
      break;
    }
    if (pos_ < data_.size()) {  // at '\n'
      ++pos_;
      ++line_;
    }
    return Status::Ok();
  }

  Status NextQuoted(std::vector<std::string_view>* fields) {
    const size_t n = data_.size();
    const char* d = data_.data();
    for (;;) {
      std::string_view value;
      if (pos_ < n && d[pos_] == '"') {
        const size_t open_line = line_;
        size_t start = ++pos_;
        size_t end = 0;
        bool escaped = false;
        for (;;) {
          const void* q = pos_ < n ? std::memchr(d + pos_, '"', n - pos_) : nullptr;
          if (q == nullptr) {
            return Status::DataError(Where(source_, open_line) +
                                     ": unterminated quoted field");
          }
          size_t qi = static_cast<const char*>(q) - d;
          for (size_t k = pos_; k < qi; ++k) line_ += (d[k] == '\n');
          if (qi + 1 < n && d[qi + 1] == '"') {
            escaped = true;
            pos_ = qi + 2;
            continue;
          }
          end = qi;
          pos_ = qi + 1;
          break;
        }
        value = std::string_view(d + start, end - start);
        if (escaped) {
          std::string& s = arena_.emplace_back();
          s.reserve(value.size());
          for (size_t k = 0; k < value.size(); ++k) {
            s.push_back(value[k]);
            if (value[k] == '"') ++k;  // skip the second quote of a pair
          }
          value = s;
        }
        // Lenient: text between the closing quote and the delimiter is kept, not dropped.
        if (pos_ < n && d[pos_] != delim_ && d[pos_] != '\n') {
          std::string_view tail = ScanPlain();
          if (!tail.empty()) {
            std::string& s = arena_.emplace_back(value);
            s.append(tail);
            value = s;
          }
        }
      } else {
        value = ScanPlain();
      }
      fields->push_back(value);
      if (pos_ < n && d[pos_] == delim_) {
        ++pos_;
        continue;
      }
      break;
    }
    if (pos_ < n && d[pos_] == '\r') ++pos_;
    if (pos_ < n && d[pos_] == '\n') {
      ++pos_;
      ++line_;
    }
    return Status::Ok();
  }

  std::string_view data_;
  char delim_;
  bool verbatim_;
  const std::string& source_;
  size_t pos_ = 0;
  size_t line_ = 1;
  std::deque<std::string> arena_;  // unescaped cells; deque keeps element addresses stable
};

Result<Table> ParseCsv(std::string_view data, const std::string& source,
                       const CsvReadOptions& options) {
  if (data.size() >= 3 && static_cast<unsigned char>(data[0]) == 0xEF &&
      static_cast<unsigned char>(data[1]) == 0xBB && static_cast<unsigned char>(data[2]) == 0xBF) {
    data.remove_prefix(3);  // UTF-8 byte order mark
  }
  Tokenizer tok(data, options.delimiter, options.verbatim, source);
  while (tok.AtBlankLine()) tok.SkipLine();
  if (tok.AtEnd()) return Status::DataError(source + ":1: empty input (no header row)");

  std::vector<std::string_view> fields;
  FLUXSCORE_RETURN_IF_ERROR(tok.Next(&fields));
  const size_t num_fields = fields.size();
  std::vector<std::string> names(fields.begin(), fields.end());
  std::vector<size_t> selected;  // header positions of the columns read
  for (size_t i = 0; i < names.size(); ++i) {
    if (options.only_columns.empty() || options.only_columns.count(names[i]) > 0) {
      selected.push_back(i);
    }
  }
  std::vector<std::vector<std::string_view>> cells(selected.size());

  while (!tok.AtEnd()) {
    if (tok.AtBlankLine()) {
      if (num_fields != 1) {  // a blank line holds no data for a multi-column table
        tok.SkipLine();
        continue;
      }
    }
    const size_t line = tok.line();
    FLUXSCORE_RETURN_IF_ERROR(tok.Next(&fields));
    if (fields.size() != num_fields) {
      return Status::DataError(Where(source, line) + ": row has " +
                               std::to_string(fields.size()) + " cells, header has " +
                               std::to_string(num_fields));
    }
    for (size_t j = 0; j < selected.size(); ++j) cells[j].push_back(fields[selected[j]]);
  }

  const auto& missing = options.missing_values;
  auto is_missing = [&missing](std::string_view s) {
    for (const std::string& m : missing) {
      if (s.size() == m.size() && s == m) return true;
    }
    return false;
  };

  Table table;
  for (size_t j = 0; j < selected.size(); ++j) {
    const std::string& name = names[selected[j]];
    const std::vector<std::string_view>& col = cells[j];
    if (options.numeric_columns.count(name) > 0) {
      std::vector<double> values(col.size());
      bool numeric = true;
      for (size_t r = 0; r < col.size(); ++r) {
        if (is_missing(col[r])) {
          values[r] = std::numeric_limits<double>::quiet_NaN();
        } else if (!ParseNumber(col[r], &values[r])) {
          numeric = false;
          break;
        }
      }
      if (numeric) {
        table.AddColumn(Column::Numeric(name, std::move(values)));
        continue;
      }
    }
    Column c = Column::String(name);
    c.mutable_codes().reserve(col.size());
    for (std::string_view s : col) {
      if (is_missing(s)) {
        c.AppendMissing();
      } else {
        c.AppendString(s);
      }
    }
    table.AddColumn(std::move(c));
  }
  return table;
}

bool NeedsQuotes(std::string_view s, char delim) {
  if (s.empty()) return false;
  if (s.front() == ' ' || s.back() == ' ' || s.front() == '\t' || s.back() == '\t') return true;
  for (char c : s) {
    if (c == delim || c == '"' || c == '\n' || c == '\r') return true;
  }
  return false;
}

void AppendCell(std::string* out, std::string_view s, char delim) {
  if (!NeedsQuotes(s, delim)) {
    out->append(s);
    return;
  }
  out->push_back('"');
  for (char c : s) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

}  // namespace

Result<Table> ReadCsv(std::istream& in, const std::string& source_name,
                      const CsvReadOptions& options) {
  std::string data;
  char buf[1 << 16];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    data.append(buf, static_cast<size_t>(in.gcount()));
    if (in.eof()) break;
  }
  if (in.bad()) return Status::IoError(source_name + ": read error");
  return ParseCsv(data, source_name, options);
}

Result<Table> ReadCsvFile(const std::string& path, const CsvReadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::IoError(path + ": cannot open: " + std::strerror(errno));
  }
  std::string data;
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size > 0) {
    data.resize(static_cast<size_t>(size));
    in.seekg(0, std::ios::beg);
    in.read(data.data(), size);
    data.resize(static_cast<size_t>(in.gcount()));
    if (in.bad()) return Status::IoError(path + ": read error");
    return ParseCsv(data, path, options);
  }
  // Not seekable (a pipe) or empty: stream it.
  in.clear();
  in.seekg(0, std::ios::beg);
  return ReadCsv(in, path, options);
}

Status WriteCsv(const Table& table, std::ostream& out, const CsvWriteOptions& options) {
  const char delim = options.delimiter;
  const auto& cols = table.columns();
  std::string buf;
  buf.reserve(1 << 16);
  for (size_t j = 0; j < cols.size(); ++j) {
    if (j > 0) buf.push_back(delim);
    AppendCell(&buf, cols[j].name(), delim);
  }
  buf.push_back('\n');

  size_t rows = 0;
  for (const Column& c : cols) rows = std::max(rows, c.size());
  char num[64];
  for (size_t r = 0; r < rows; ++r) {
    for (size_t j = 0; j < cols.size(); ++j) {
      if (j > 0) buf.push_back(delim);
      const Column& c = cols[j];
      if (r >= c.size() || c.IsMissing(r)) {
        AppendCell(&buf, options.missing, delim);
      } else if (c.is_number()) {
        double v = c.NumberAt(r);
        // Fast path for the common case, same output as FormatDouble.
        if (std::isfinite(v) && !(v == std::trunc(v) && std::fabs(v) < 1e15)) {
          auto res = std::to_chars(num, num + sizeof(num), v);
          buf.append(num, res.ptr);
        } else {
          buf.append(FormatDouble(v));
        }
      } else {
        AppendCell(&buf, c.dictionary()[static_cast<size_t>(c.codes()[r])], delim);
      }
    }
    buf.push_back('\n');
    if (buf.size() >= (1 << 16) - 1024) {
      out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
      buf.clear();
    }
  }
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  out.flush();
  if (!out) return Status::IoError("CSV write failed");
  return Status::Ok();
}

}  // namespace fluxscore
