// `fluxscore score --stream` (see stream.h and docs/streaming.md).
//
// Structure: FdReader holds the bytes read so far; the record tokenizers (CSV with the batch
// reader's quoting rules, or one JSON object per line) turn the complete records in it into cells
// of a Batch (string_views into the reader's buffer, unescaped text in an arena); a Batch becomes
// a fluxscore::Table typed exactly like the batch CSV reader types a file, is scored by
// Model::Score, and its rows are appended to the output buffer, which is written out before the
// next read. Memory: one read buffer (grown only for a record longer than it), one batch.
#include "stream.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "fluxscore/csv.h"
#include "fluxscore/table.h"

namespace fluxscore::cli {
namespace {

// A cell with data() == nullptr is absent: JSON null, a key not in the object, or any cell of a
// record that could not be read. Absent cells are missing.
inline bool IsAbsent(std::string_view s) { return s.data() == nullptr; }

// Same rules as the batch CSV reader (src/io/csv.cc) and the engine: std::from_chars (general
// format) plus a leading '+'; out-of-range values take strtod's answer.
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
    std::string copy(first, last);
    *out = std::strtod(copy.c_str(), nullptr);
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// I/O on file descriptors: read(2) returns what is available, so nothing waits for a full buffer.

class FdReader {
 public:
  explicit FdReader(int fd) : fd_(fd), buf_(size_t{1} << 20) {}

  std::string_view pending() const { return {buf_.data() + begin_, end_ - begin_}; }
  void Consume(size_t n) { begin_ += n; }

  // Moves unconsumed bytes to the front (growing the buffer when a record fills it) and reads
  // once, blocking only until some bytes are available. False at end of input or on error.
  bool Fill(std::string* error) {
    if (begin_ > 0) {
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
    for (;;) {
      ssize_t n = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
      if (n > 0) {
        end_ += static_cast<size_t>(n);
        return true;
      }
      if (n == 0) return false;
      if (errno == EINTR) continue;
      *error = std::strerror(errno);
      return false;
    }
  }

 private:
  int fd_;
  std::vector<char> buf_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

bool WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// An ostream target that appends to a std::string (for WriteCsv).
class StringAppendBuf : public std::streambuf {
 public:
  explicit StringAppendBuf(std::string* s) : s_(s) {}

 protected:
  std::streamsize xsputn(const char* p, std::streamsize n) override {
    s_->append(p, static_cast<size_t>(n));
    return n;
  }
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof())) s_->push_back(static_cast<char>(c));
    return traits_type::not_eof(c);
  }

 private:
  std::string* s_;
};

// ---------------------------------------------------------------------------------------------
// CSV records, with the batch reader's rules: RFC 4180 quotes at the start of a cell, doubled
// quotes inside, text after a closing quote kept, a '\r' before the line end dropped.

enum class Tok { kOk, kIncomplete, kError };

struct CsvTokenizer {
  char delim = ',';

  // Tokenizes the record at data[pos]. kOk: *next is just past its line end, *newlines the line
  // breaks consumed. kIncomplete (only when !eof): the record goes beyond the data read so far.
  // kError: an unterminated quoted field at end of input; the rest of the input is consumed.
  Tok Next(std::string_view data, size_t pos, bool eof, std::vector<std::string_view>* fields,
           std::deque<std::string>* arena, size_t* next, size_t* newlines) const {
    fields->clear();
    const char* d = data.data();
    const size_t n = data.size();
    size_t nl = 0;
    for (;;) {
      std::string_view value;
      if (pos < n && d[pos] == '"') {
        size_t start = ++pos;
        size_t end = 0;
        bool escaped = false;
        for (;;) {
          const void* q = pos < n ? std::memchr(d + pos, '"', n - pos) : nullptr;
          if (q == nullptr) {
            if (!eof) return Tok::kIncomplete;
            for (size_t k = pos; k < n; ++k) nl += (d[k] == '\n');
            *next = n;
            *newlines = nl;
            return Tok::kError;
          }
          size_t qi = static_cast<size_t>(static_cast<const char*>(q) - d);
          if (qi + 1 == n && !eof) return Tok::kIncomplete;  // "" or the closing quote?
          for (size_t k = pos; k < qi; ++k) nl += (d[k] == '\n');
          if (qi + 1 < n && d[qi + 1] == '"') {
            escaped = true;
            pos = qi + 2;
            continue;
          }
          end = qi;
          pos = qi + 1;
          break;
        }
        value = std::string_view(d + start, end - start);
        if (escaped) {
          std::string& s = arena->emplace_back();
          s.reserve(value.size());
          for (size_t k = 0; k < value.size(); ++k) {
            s.push_back(value[k]);
            if (value[k] == '"') ++k;
          }
          value = s;
        }
        if (pos < n && d[pos] != delim && d[pos] != '\n') {
          std::string_view tail;
          if (!ScanPlain(data, &pos, eof, &tail)) return Tok::kIncomplete;
          if (!tail.empty()) {
            std::string& s = arena->emplace_back(value);
            s.append(tail);
            value = s;
          }
        }
      } else {
        if (!ScanPlain(data, &pos, eof, &value)) return Tok::kIncomplete;
      }
      fields->push_back(value);
      if (pos < n && d[pos] == delim) {
        ++pos;
        continue;
      }
      break;
    }
    if (pos < n && d[pos] == '\r') ++pos;
    if (pos < n && d[pos] == '\n') {
      ++pos;
      ++nl;
    }
    *next = pos;
    *newlines = nl;
    return Tok::kOk;
  }

  // An unquoted cell up to the delimiter or line end; false when the data ends first (!eof).
  bool ScanPlain(std::string_view data, size_t* pos, bool eof, std::string_view* out) const {
    const char* d = data.data();
    const size_t n = data.size();
    size_t start = *pos;
    size_t i = start;
    while (i < n && d[i] != delim && d[i] != '\n') ++i;
    if (i == n && !eof) return false;
    *pos = i;
    size_t end = i;
    if ((i == n || d[i] == '\n') && end > start && d[end - 1] == '\r') --end;
    *out = std::string_view(d + start, end - start);
    return true;
  }
};

// ---------------------------------------------------------------------------------------------
// JSON lines: one flat object per line. Values: strings (unescaped), numbers (their text),
// true/false (as text), null (absent); a nested object/array is kept as its JSON text.

void AppendUtf8(std::string* s, uint32_t cp) {
  if (cp < 0x80) {
    s->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    s->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    s->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    s->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    s->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    s->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    s->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    s->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class JsonLineParser {
 public:
  using OnMember =
      std::function<void(std::string_view key, std::string_view value, std::string_view raw)>;

  // Parses `line` as one JSON object; calls on_member for each member. Returns "" on success,
  // else what is wrong.
  std::string Parse(std::string_view line, std::deque<std::string>* arena,
                    const OnMember& on_member) {
    b_ = line.data();
    p_ = b_;
    e_ = b_ + line.size();
    arena_ = arena;
    err_.clear();
    SkipWs();
    if (p_ == e_ || *p_ != '{') return Fail("expected '{'");
    ++p_;
    SkipWs();
    if (p_ < e_ && *p_ == '}') {
      ++p_;
    } else {
      for (;;) {
        SkipWs();
        if (p_ == e_ || *p_ != '"') return Fail("expected a string key");
        std::string_view key;
        if (!ParseString(&key)) return err_;
        SkipWs();
        if (p_ == e_ || *p_ != ':') return Fail("expected ':'");
        ++p_;
        SkipWs();
        const char* raw_start = p_;
        std::string_view value;
        if (!ParseValue(0, &value)) return err_;
        on_member(key, value, std::string_view(raw_start, static_cast<size_t>(p_ - raw_start)));
        SkipWs();
        if (p_ < e_ && *p_ == ',') {
          ++p_;
          continue;
        }
        if (p_ < e_ && *p_ == '}') {
          ++p_;
          break;
        }
        return Fail("expected ',' or '}'");
      }
    }
    SkipWs();
    if (p_ != e_) return Fail("unexpected text after the object");
    return {};
  }

 private:
  std::string Fail(std::string_view what) {
    if (err_.empty()) {
      err_ = fmt::format("malformed JSON: {} at column {}", what, p_ - b_ + 1);
    }
    return err_;
  }
  void SkipWs() {
    while (p_ < e_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\r' || *p_ == '\n')) ++p_;
  }

  bool ParseValue(int depth, std::string_view* value) {
    if (p_ == e_) return Fail("expected a value").empty();
    const char* start = p_;
    switch (*p_) {
      case '"':
        return ParseString(value);
      case '{':
      case '[': {
        if (depth >= 64) return Fail("nesting too deep").empty();
        const char close = *p_ == '{' ? '}' : ']';
        const bool object = *p_ == '{';
        ++p_;
        SkipWs();
        if (p_ < e_ && *p_ == close) {
          ++p_;
        } else {
          for (;;) {
            SkipWs();
            std::string_view ignored;
            if (object) {
              if (p_ == e_ || *p_ != '"') return Fail("expected a string key").empty();
              if (!ParseString(&ignored)) return false;
              SkipWs();
              if (p_ == e_ || *p_ != ':') return Fail("expected ':'").empty();
              ++p_;
              SkipWs();
            }
            if (!ParseValue(depth + 1, &ignored)) return false;
            SkipWs();
            if (p_ < e_ && *p_ == ',') {
              ++p_;
              continue;
            }
            if (p_ < e_ && *p_ == close) {
              ++p_;
              break;
            }
            return Fail(object ? "expected ',' or '}'" : "expected ',' or ']'").empty();
          }
        }
        *value = std::string_view(start, static_cast<size_t>(p_ - start));
        return true;
      }
      case 't':
        return Literal("true", value);
      case 'f':
        return Literal("false", value);
      case 'n':
        if (!Literal("null", value)) return false;
        *value = std::string_view();
        return true;
      default:
        return ParseNumberToken(value);
    }
  }

  bool Literal(std::string_view word, std::string_view* value) {
    if (static_cast<size_t>(e_ - p_) < word.size() || std::string_view(p_, word.size()) != word)
      return Fail("invalid literal").empty();
    *value = std::string_view(p_, word.size());
    p_ += word.size();
    return true;
  }

  bool ParseNumberToken(std::string_view* value) {
    const char* start = p_;
    auto digit = [this] { return p_ < e_ && *p_ >= '0' && *p_ <= '9'; };
    if (p_ < e_ && *p_ == '-') ++p_;
    if (!digit()) return Fail("invalid value").empty();
    if (*p_ == '0') {
      ++p_;
    } else {
      while (digit()) ++p_;
    }
    if (p_ < e_ && *p_ == '.') {
      ++p_;
      if (!digit()) return Fail("invalid number").empty();
      while (digit()) ++p_;
    }
    if (p_ < e_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < e_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!digit()) return Fail("invalid number").empty();
      while (digit()) ++p_;
    }
    *value = std::string_view(start, static_cast<size_t>(p_ - start));
    return true;
  }

  static int Hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  bool Hex4(uint32_t* out) {
    if (e_ - p_ < 4) return false;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      int h = Hex(p_[i]);
      if (h < 0) return false;
      v = v * 16 + static_cast<uint32_t>(h);
    }
    p_ += 4;
    *out = v;
    return true;
  }

  // REQUIRES: *p_ == '"'.
  bool ParseString(std::string_view* out) {
    ++p_;
    const char* start = p_;
    while (p_ < e_ && *p_ != '"' && *p_ != '\\' && static_cast<unsigned char>(*p_) >= 0x20) ++p_;
    if (p_ < e_ && *p_ == '"') {
      *out = std::string_view(start, static_cast<size_t>(p_ - start));
      ++p_;
      return true;
    }
    std::string& s = arena_->emplace_back(start, static_cast<size_t>(p_ - start));
    for (;;) {
      if (p_ == e_) return Fail("unterminated string").empty();
      char c = *p_;
      if (c == '"') {
        ++p_;
        break;
      }
      if (static_cast<unsigned char>(c) < 0x20) return Fail("control character in string").empty();
      if (c != '\\') {
        s.push_back(c);
        ++p_;
        continue;
      }
      ++p_;
      if (p_ == e_) return Fail("unterminated string").empty();
      char esc = *p_++;
      switch (esc) {
        case '"': s.push_back('"'); break;
        case '\\': s.push_back('\\'); break;
        case '/': s.push_back('/'); break;
        case 'b': s.push_back('\b'); break;
        case 'f': s.push_back('\f'); break;
        case 'n': s.push_back('\n'); break;
        case 'r': s.push_back('\r'); break;
        case 't': s.push_back('\t'); break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(&cp)) return Fail("invalid \\u escape").empty();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo = 0;
            if (e_ - p_ >= 2 && p_[0] == '\\' && p_[1] == 'u') {
              p_ += 2;
              if (!Hex4(&lo) || lo < 0xDC00 || lo > 0xDFFF)
                return Fail("invalid surrogate pair").empty();
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              return Fail("invalid surrogate pair").empty();
            }
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return Fail("invalid surrogate pair").empty();
          }
          AppendUtf8(&s, cp);
          break;
        }
        default:
          return Fail("invalid escape").empty();
      }
    }
    *out = s;
    return true;
  }

  const char* b_ = nullptr;
  const char* p_ = nullptr;
  const char* e_ = nullptr;
  std::deque<std::string>* arena_ = nullptr;
  std::string err_;
};

// ---------------------------------------------------------------------------------------------
// JSON output helpers.

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (u < 0x20) {
          fmt::format_to(std::back_inserter(*out), "\\u{:04x}", u);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

// Numbers in the batch writer's form (WriteCsv: shortest round trip, integers without ".0").
void AppendNumber(std::string* out, double v) {
  char num[64];
  if (std::isfinite(v) && !(v == std::trunc(v) && std::fabs(v) < 1e15)) {
    auto res = std::to_chars(num, num + sizeof(num), v);
    out->append(num, res.ptr);
  } else if (std::isfinite(v)) {
    out->append(FormatDouble(v));
  } else {
    AppendJsonString(out, FormatDouble(v));  // inf has no JSON number form
  }
}

// ---------------------------------------------------------------------------------------------

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// An input column the stream collects: a model input, a --keep column, or both.
struct Slot {
  std::string name;
  bool numeric = false;  // non-string model input: numbers when every cell of the batch parses
};

// Records read and not yet scored.
struct Batch {
  size_t n = 0;
  std::vector<size_t> lines;             // line of each record in the input (header = 1)
  std::vector<std::string> errors;       // "" = no error (so far)
  std::vector<uint8_t> unreadable;       // the record could not be read: no inputs, no outputs
  std::vector<std::vector<std::string_view>> cells;  // per slot
  std::vector<std::vector<std::string_view>> raw;    // JSONL: per keep column, the JSON text
  std::deque<std::string> arena;

  void Clear() {
    n = 0;
    lines.clear();
    errors.clear();
    unreadable.clear();
    for (auto& c : cells) c.clear();
    for (auto& c : raw) c.clear();
    arena.clear();
  }
};

class Streamer {
 public:
  Streamer(const ScoreArgs& args, const pmml::Model& model, int out_fd)
      : args_(args), model_(model), out_fd_(out_fd), jsonl_(args.input_format == "jsonl") {
    csv_.delim = args.delimiter;
    so_.threads = args.threads;
    so_.compiled_kernels = !args.no_kernels;
    for (const pmml::FieldInfo& f : model.outputs()) {
      output_names_.push_back(f.name);
      boolean_output_.push_back(f.data_type == pmml::DataType::kBoolean);
    }
    out_.reserve(size_t{1} << 20);
  }

  // Returns the exit status.
  int Run(int in_fd) {
    FdReader in(in_fd);
    std::string read_error;
    for (;;) {
      bool more = in.Fill(&read_error);
      if (!read_error.empty()) {
        fmt::print(stderr, "fluxscore: {}: read error: {}\n", SourceName(), read_error);
        return 2;
      }
      const bool eof = !more;
      size_t used = 0;
      int st = Process(in.pending(), eof, &used);
      if (st != 0) return st;
      in.Consume(used);
      if (!FlushOut()) return WriteFailed();
      if (eof) break;
    }
    if (!jsonl_ && !header_done_) {  // empty input: the header alone
      WriteCsvHeader();
      if (!FlushOut()) return WriteFailed();
    }
    if (!args_.quiet) {
      fmt::print(stderr, "fluxscore: {} records read, {} scored, {} errors\n", records_,
                 records_ - errors_, errors_);
    }
    return 0;
  }

 private:
  std::string SourceName() const { return args_.input == "-" ? "<stdin>" : args_.input; }
  int WriteFailed() {
    fmt::print(stderr, "fluxscore: write error: {}\n", std::strerror(errno));
    return 1;
  }
  bool FlushOut() {
    bool ok = WriteAll(out_fd_, out_.data(), out_.size());
    out_.clear();
    return ok;
  }

  // Tokenizes, scores and writes every complete record of `data`; *used = bytes consumed.
  int Process(std::string_view data, bool eof, size_t* used) {
    size_t pos = 0;
    if (!bom_checked_) {
      if (data.size() < 3 && !eof && std::string_view("\xEF\xBB\xBF").starts_with(data)) {
        *used = 0;
        return 0;
      }
      if (data.starts_with("\xEF\xBB\xBF")) pos = 3;
      bom_checked_ = true;
    }
    int st = jsonl_ ? ProcessJsonl(data, eof, &pos) : ProcessCsv(data, eof, &pos);
    if (st != 0) return st;
    if (batch_.n > 0) {
      if (!ScoreAndEmit()) return WriteFailed();
    }
    *used = pos;
    return 0;
  }

  // Where a blank line starts at data[pos]: 1 = blank, 0 = not, -1 = cannot tell yet.
  static int BlankLineAt(std::string_view data, size_t pos, bool eof) {
    char c = data[pos];
    if (c == '\n') return 1;
    if (c != '\r') return 0;
    if (pos + 1 == data.size()) return eof ? 1 : -1;
    return data[pos + 1] == '\n' ? 1 : 0;
  }
  // Skips a line: returns the position after its '\n', or npos when the line is not complete.
  static size_t SkipLine(std::string_view data, size_t pos, bool eof) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string_view::npos) return eof ? data.size() : std::string_view::npos;
    return nl + 1;
  }

  int ProcessCsv(std::string_view data, bool eof, size_t* pos_io) {
    size_t pos = *pos_io;
    while (pos < data.size()) {
      if (!header_done_ || num_fields_ != 1) {
        int blank = BlankLineAt(data, pos, eof);
        if (blank < 0) break;
        if (blank > 0) {
          size_t next = SkipLine(data, pos, eof);
          if (next == std::string_view::npos) break;
          pos = next;
          ++line_;
          continue;
        }
      }
      size_t next = 0;
      size_t newlines = 0;
      Tok t = csv_.Next(data, pos, eof, &fields_, &batch_.arena, &next, &newlines);
      if (t == Tok::kIncomplete) break;
      if (!header_done_) {
        if (t == Tok::kError) {
          fmt::print(stderr, "fluxscore: {}:{}: unterminated quoted field in the header\n",
                     SourceName(), line_);
          return 2;
        }
        int st = SetUpCsv();
        if (st != 0) return st;
        pos = next;
        line_ += newlines;
        batch_.Clear();  // the header's arena cells were copied
        continue;
      }
      size_t r = AddRecord();
      if (t == Tok::kError) {
        MarkUnreadable(r, "unterminated quoted field");
      } else if (fields_.size() != num_fields_) {
        MarkUnreadable(r, fmt::format("row has {} cells, header has {}", fields_.size(),
                                      num_fields_));
      } else {
        for (size_t i = 0; i < slot_of_field_.size(); ++i) {
          int s = slot_of_field_[i];
          if (s >= 0) batch_.cells[static_cast<size_t>(s)][r] = fields_[i];
        }
      }
      pos = next;
      line_ += newlines;
      if (batch_.n == kStreamBatchRows) {
        if (!ScoreAndEmit()) return WriteFailed();
        if (out_.size() >= (size_t{1} << 20) && !FlushOut()) return WriteFailed();
      }
    }
    *pos_io = pos;
    return 0;
  }

  int ProcessJsonl(std::string_view data, bool eof, size_t* pos_io) {
    if (!slots_ready_) SetUpJsonl();
    size_t pos = *pos_io;
    while (pos < data.size()) {
      size_t nl = data.find('\n', pos);
      if (nl == std::string_view::npos && !eof) break;
      size_t end = nl == std::string_view::npos ? data.size() : nl;
      size_t next = nl == std::string_view::npos ? data.size() : nl + 1;
      std::string_view line = data.substr(pos, end - pos);
      pos = next;
      const size_t this_line = line_++;
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;  // blank
      size_t r = AddRecord(this_line);
      std::string err = json_.Parse(
          line, &batch_.arena, [this, r](std::string_view key, std::string_view value,
                                         std::string_view raw) {
            auto it = slot_of_key_.find(key);
            if (it == slot_of_key_.end()) return;
            if (it->second.slot >= 0) batch_.cells[static_cast<size_t>(it->second.slot)][r] = value;
            for (int k : it->second.keeps) batch_.raw[static_cast<size_t>(k)][r] = raw;
          });
      if (!err.empty()) {
        for (auto& c : batch_.raw) c[r] = std::string_view();
        MarkUnreadable(r, std::move(err));
      }
      if (batch_.n == kStreamBatchRows) {
        if (!ScoreAndEmit()) return WriteFailed();
        if (out_.size() >= (size_t{1} << 20) && !FlushOut()) return WriteFailed();
      }
    }
    *pos_io = pos;
    return 0;
  }

  // Appends a record with every cell absent; returns its index in the batch.
  size_t AddRecord(size_t line = 0) {
    size_t r = batch_.n++;
    batch_.lines.push_back(line == 0 ? line_ : line);
    batch_.errors.emplace_back();
    batch_.unreadable.push_back(0);
    for (auto& c : batch_.cells) c.emplace_back();
    for (auto& c : batch_.raw) c.emplace_back();
    return r;
  }
  void MarkUnreadable(size_t r, std::string message) {
    for (auto& c : batch_.cells) c[r] = std::string_view();
    batch_.unreadable[r] = 1;
    batch_.errors[r] = fmt::format("line {}: {}", batch_.lines[r], message);
  }

  int AddSlot(const std::string& name) {
    for (size_t i = 0; i < slots_.size(); ++i)
      if (slots_[i].name == name) return static_cast<int>(i);
    Slot s;
    s.name = name;
    for (const pmml::FieldInfo& f : model_.inputs())
      if (f.name == name) s.numeric = !f.is_string();
    slots_.push_back(std::move(s));
    return static_cast<int>(slots_.size() - 1);
  }

  int SetUpCsv() {
    num_fields_ = fields_.size();
    std::vector<std::string> names(fields_.begin(), fields_.end());
    std::unordered_map<std::string, bool> wanted;  // name -> model input
    for (const pmml::FieldInfo& f : model_.inputs()) wanted[f.name] = true;
    for (const std::string& k : args_.keep_columns) wanted.emplace(k, false);
    slot_of_field_.assign(num_fields_, -1);
    std::unordered_map<std::string, bool> seen;
    for (size_t i = 0; i < num_fields_; ++i) {
      if (!wanted.count(names[i]) || seen.count(names[i])) continue;  // first column wins
      seen[names[i]] = true;
      slot_of_field_[i] = AddSlot(names[i]);
    }
    for (const std::string& k : args_.keep_columns) {
      if (!seen.count(k)) {
        fmt::print(stderr, "fluxscore: --keep: input has no column '{}'\n", k);
        return 2;
      }
      keep_slot_.push_back(AddSlot(k));
    }
    if (!args_.quiet) {
      for (const pmml::FieldInfo& f : model_.inputs())
        if (!seen.count(f.name))
          fmt::print(stderr,
                     "fluxscore: warning: input has no column '{}'; it is missing in every row\n",
                     f.name);
    }
    batch_.cells.assign(slots_.size(), {});
    header_done_ = true;
    WriteCsvHeader();
    if (!FlushOut()) return WriteFailed();
    return 0;
  }

  void SetUpJsonl() {
    for (const pmml::FieldInfo& f : model_.inputs()) slot_of_key_[f.name].slot = AddSlot(f.name);
    for (size_t k = 0; k < args_.keep_columns.size(); ++k)
      slot_of_key_[args_.keep_columns[k]].keeps.push_back(static_cast<int>(k));
    batch_.cells.assign(slots_.size(), {});
    batch_.raw.assign(args_.keep_columns.size(), {});
    // Output member names, JSON-escaped once.
    for (const std::string& k : args_.keep_columns) json_keys_.push_back(JsonKey(k));
    for (const std::string& o : output_names_) json_keys_.push_back(JsonKey(o));
    json_keys_.push_back(JsonKey(args_.error_col));
    slots_ready_ = true;
  }
  static std::string JsonKey(std::string_view name) {
    std::string s;
    AppendJsonString(&s, name);
    s.push_back(':');
    return s;
  }

  std::vector<std::string> OutputColumnNames() const {
    std::vector<std::string> names = args_.keep_columns;
    names.insert(names.end(), output_names_.begin(), output_names_.end());
    names.push_back(args_.error_col);
    return names;
  }
  void WriteCsvHeader() {
    Table t;
    for (const std::string& n : OutputColumnNames()) t.AddColumn(Column::String(n));
    StringAppendBuf sb(&csv_header_);
    std::ostream os(&sb);
    CsvWriteOptions wo;
    wo.delimiter = args_.delimiter;
    (void)WriteCsv(t, os, wo);
    out_.append(csv_header_);
  }

  bool IsMissingText(std::string_view s) const {
    if (IsAbsent(s)) return true;
    for (const std::string& m : args_.missing_values)
      if (s.size() == m.size() && s == m) return true;
    return false;
  }

  // The batch CSV reader's typing, over rows [b, e) of the batch: a numeric model input becomes a
  // numeric column unless a cell is neither missing nor a number; everything else is a string
  // column.
  Column BuildColumn(const Slot& s, const std::vector<std::string_view>& cells, size_t b,
                     size_t e) const {
    if (s.numeric) {
      std::vector<double> values(e - b);
      bool numeric = true;
      for (size_t r = b; r < e; ++r) {
        if (IsMissingText(cells[r])) {
          values[r - b] = std::numeric_limits<double>::quiet_NaN();
        } else if (!ParseNumber(cells[r], &values[r - b])) {
          numeric = false;
          break;
        }
      }
      if (numeric) return Column::Numeric(s.name, std::move(values));
    }
    Column c = Column::String(s.name);
    c.mutable_codes().reserve(e - b);
    for (size_t r = b; r < e; ++r) {
      if (IsMissingText(cells[r])) {
        c.AppendMissing();
      } else {
        c.AppendString(cells[r]);
      }
    }
    return c;
  }

  // A kept numeric input as text: numbers in WriteCsv's form, other cells as they are.
  Column KeepCellByCell(const Slot& s, const std::vector<std::string_view>& cells, size_t b,
                        size_t e) const {
    Column c = Column::String(s.name);
    for (size_t r = b; r < e; ++r) {
      double v = 0;
      if (IsMissingText(cells[r])) {
        c.AppendMissing();
      } else if (ParseNumber(cells[r], &v)) {
        if (std::isnan(v)) {
          c.AppendMissing();  // a numeric column cannot hold NaN as a value
        } else {
          c.AppendString(FormatDouble(v));
        }
      } else {
        c.AppendString(cells[r]);
      }
    }
    return c;
  }

  // Scores the batch and appends its rows to the output; false on a write error.
  bool ScoreAndEmit() {
    bool ok = ScoreRange(0, batch_.n);
    records_ += batch_.n;
    for (size_t r = 0; r < batch_.n; ++r) errors_ += !batch_.errors[r].empty();
    batch_.Clear();
    return ok;
  }

  bool ScoreRange(size_t b, size_t e) {
    Table input;
    for (size_t i = 0; i < slots_.size(); ++i)
      input.AddColumn(BuildColumn(slots_[i], batch_.cells[i], b, e));
    if (input.num_columns() == 0) {  // carries the row count
      input.AddColumn(Column::Numeric("\x01rows", std::vector<double>(
                                                      e - b, std::numeric_limits<double>::quiet_NaN())));
    }
    auto scored = model_.Score(input, so_);
    Table outputs;
    if (!scored.ok()) {
      if (e - b > 1) {  // find the row(s) responsible; the others still score
        for (size_t r = b; r < e; ++r)
          if (!ScoreRange(r, r + 1)) return false;
        return true;
      }
      if (batch_.errors[b].empty())
        batch_.errors[b] = fmt::format("line {}: {}", batch_.lines[b], scored.status().message());
      for (const std::string& name : output_names_)
        outputs.AddColumn(
            Column::Numeric(name, {std::numeric_limits<double>::quiet_NaN()}));
    } else {
      for (const pmml::RowError& re : scored->row_errors) {
        size_t r = b + re.row;
        if (batch_.errors[r].empty())
          batch_.errors[r] = fmt::format("line {}: {}", batch_.lines[r], re.message);
      }
      outputs = std::move(scored->outputs);
      // Unreadable records were scored as all-missing rows: blank their outputs.
      for (size_t r = b; r < e; ++r) {
        if (!batch_.unreadable[r]) continue;
        for (Column& c : outputs.mutable_columns()) {
          if (c.kind() == Column::Kind::kNumeric) {
            c.mutable_numbers()[r - b] = std::numeric_limits<double>::quiet_NaN();
          } else {
            c.mutable_codes()[r - b] = Column::kMissingCode;
          }
        }
      }
    }
    if (jsonl_) {
      EmitJsonl(outputs, b, e);
    } else {
      EmitCsv(input, outputs, b, e);
    }
    return true;
  }

  void EmitCsv(Table& input, Table& outputs, size_t b, size_t e) {
    Table out;
    std::vector<int> out_index(slots_.size(), -1);  // a column kept twice is copied
    for (int s : keep_slot_) {
      auto si = static_cast<size_t>(s);
      if (out_index[si] >= 0) {
        Column copy = out.columns()[static_cast<size_t>(out_index[si])];
        out.AddColumn(std::move(copy));
        continue;
      }
      out_index[si] = static_cast<int>(out.num_columns());
      Column& in = input.mutable_columns()[si];
      if (slots_[si].numeric && in.kind() == Column::Kind::kString) {
        // A numeric input that held text in this batch. Written cell by cell as a numeric
        // column would write it, so a record's output does not depend on its batch-mates.
        out.AddColumn(KeepCellByCell(slots_[si], batch_.cells[si], b, e));
      } else {
        out.AddColumn(std::move(in));
      }
    }
    for (Column& c : outputs.mutable_columns()) out.AddColumn(std::move(c));
    Column err = Column::String(args_.error_col);
    for (size_t r = b; r < e; ++r) {
      if (batch_.errors[r].empty()) {
        err.AppendMissing();
      } else {
        err.AppendString(batch_.errors[r]);
      }
    }
    out.AddColumn(std::move(err));
    scratch_.clear();
    StringAppendBuf sb(&scratch_);
    std::ostream os(&sb);
    CsvWriteOptions wo;
    wo.delimiter = args_.delimiter;
    (void)WriteCsv(out, os, wo);
    // WriteCsv starts with the header, which was written once already.
    size_t skip = scratch_.compare(0, csv_header_.size(), csv_header_) == 0
                      ? csv_header_.size()
                      : scratch_.find('\n') + 1;
    out_.append(scratch_, skip, std::string::npos);
  }

  void EmitJsonl(const Table& outputs, size_t b, size_t e) {
    const size_t nk = args_.keep_columns.size();
    const auto& cols = outputs.columns();
    for (size_t r = b; r < e; ++r) {
      out_.push_back('{');
      size_t key = 0;
      for (size_t k = 0; k < nk; ++k, ++key) {
        if (key > 0) out_.push_back(',');
        out_.append(json_keys_[key]);
        std::string_view raw = batch_.raw[k][r];
        if (IsAbsent(raw)) {
          out_.append("null");
        } else {
          out_.append(raw);
        }
      }
      for (size_t j = 0; j < cols.size(); ++j, ++key) {
        if (key > 0) out_.push_back(',');
        out_.append(json_keys_[key]);
        const Column& c = cols[j];
        const size_t row = r - b;
        if (c.IsMissing(row)) {
          out_.append("null");
        } else if (c.kind() == Column::Kind::kNumeric) {
          AppendNumber(&out_, c.numbers()[row]);
        } else {
          const std::string& text = c.dictionary()[static_cast<size_t>(c.codes()[row])];
          if (boolean_output_[j] && (text == "true" || text == "false")) {
            out_.append(text);  // a boolean output field as a JSON boolean
          } else {
            AppendJsonString(&out_, text);
          }
        }
      }
      if (key > 0) out_.push_back(',');
      out_.append(json_keys_[key]);
      if (batch_.errors[r].empty()) {
        out_.append("null");
      } else {
        AppendJsonString(&out_, batch_.errors[r]);
      }
      out_.append("}\n");
    }
  }

  struct KeyTarget {
    int slot = -1;           // model input slot
    std::vector<int> keeps;  // --keep positions
  };

  const ScoreArgs& args_;
  const pmml::Model& model_;
  int out_fd_;
  bool jsonl_;
  pmml::ScoreOptions so_;
  CsvTokenizer csv_;
  JsonLineParser json_;
  std::vector<std::string> output_names_;
  std::vector<bool> boolean_output_;

  bool bom_checked_ = false;
  bool header_done_ = false;
  bool slots_ready_ = false;
  size_t num_fields_ = 0;
  size_t line_ = 1;  // line of the input at the next unread record
  std::vector<Slot> slots_;
  std::vector<int> slot_of_field_;  // CSV: header position -> slot (-1 = not read)
  std::vector<int> keep_slot_;      // CSV: --keep position -> slot
  std::unordered_map<std::string, KeyTarget, StringHash, std::equal_to<>> slot_of_key_;  // JSONL
  std::vector<std::string> json_keys_;

  std::vector<std::string_view> fields_;
  Batch batch_;
  std::string out_;
  std::string scratch_;
  std::string csv_header_;
  size_t records_ = 0;
  size_t errors_ = 0;
};

}  // namespace

int RunScoreStream(const ScoreArgs& args, const pmml::Model& model) {
  if (args.input_format != "csv" && args.input_format != "jsonl") {
    fmt::print(stderr, "fluxscore: --input-format must be csv or jsonl\n");
    return 2;
  }
  int in_fd = 0;
  if (args.input != "-") {
    in_fd = ::open(args.input.c_str(), O_RDONLY | O_CLOEXEC);
    if (in_fd < 0) {
      fmt::print(stderr, "fluxscore: {}: cannot open: {}\n", args.input, std::strerror(errno));
      return 2;
    }
  }
  int out_fd = 1;
  if (args.output != "-") {
    out_fd = ::open(args.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out_fd < 0) {
      fmt::print(stderr, "fluxscore: cannot write '{}': {}\n", args.output, std::strerror(errno));
      if (in_fd != 0) ::close(in_fd);
      return 2;
    }
  }
  int rc = 0;
  {
    Streamer s(args, model, out_fd);
    rc = s.Run(in_fd);
  }
  if (in_fd != 0) ::close(in_fd);
  if (out_fd != 1 && ::close(out_fd) != 0 && rc == 0) {
    fmt::print(stderr, "fluxscore: write error: {}\n", std::strerror(errno));
    rc = 1;
  }
  return rc;
}

}  // namespace fluxscore::cli
