#include <fmt/compile.h>
#include <fmt/format.h>

#include <cmath>

#include "fluxscore/dns/features.h"

namespace fluxscore::dns {
namespace {

// Domains may hold any printable UTF-8 except what CSV needs quoted.
void CsvField(std::string_view s, std::string& out) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(s);
    return;
  }
  out.push_back('"');
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

// fmt's "{}" texts (shortest round-trip form for doubles), formatted into a local buffer with
// the format compiled in: no runtime format parsing and no back_inserter per value.
void Number(double v, bool integer, std::string& out) {
  // Whole values below 2^53 print as fmt's shortest "{}" prints them, as integers (-0.0 aside:
  // "-0"): many fractional columns (entropies, shares, means) are whole, and the integer path is
  // several times cheaper than the shortest-round-trip one.
  if ((integer || (std::floor(v) == v && !(v == 0 && std::signbit(v)))) && std::fabs(v) < 9007199254740992.0) {
    const fmt::format_int f(static_cast<int64_t>(v));
    out.append(f.data(), f.size());
  } else {
    char buf[64];
    const char* end = fmt::format_to(buf, FMT_COMPILE("{}"), v);
    out.append(buf, static_cast<size_t>(end - buf));
  }
}

void JsonString(std::string_view s, std::string& out) {
  out.push_back('"');
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20) {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
}

}  // namespace

FeatureWriter::FeatureWriter(std::ostream& out, bool jsonl) : out_(out), jsonl_(jsonl) {
  if (jsonl_) return;
  line_ = "domain,window_start";
  for (const auto& c : FeatureColumns()) {
    line_.push_back(',');
    line_.append(c.name);
  }
  line_.push_back('\n');
  out_ << line_;
}

void FeatureWriter::Write(const FeatureRow& r) {
  const auto& cols = FeatureColumns();
  std::string& line = line_;
  line.clear();
  if (jsonl_) {
    line = "{\"domain\":";
    JsonString(r.domain, line);
    fmt::format_to(std::back_inserter(line), ",\"window_start\":{}", r.window_start);
    for (size_t i = 0; i < cols.size(); ++i) {
      fmt::format_to(std::back_inserter(line), ",\"{}\":", cols[i].name);
      if (std::isnan(r.values[i])) {
        line.append("null");
      } else {
        Number(r.values[i], cols[i].integer, line);
      }
    }
    line.append("}\n");
  } else {
    CsvField(r.domain, line);
    line.push_back(',');
    const fmt::format_int ws(r.window_start);
    line.append(ws.data(), ws.size());
    for (size_t i = 0; i < cols.size(); ++i) {
      line.push_back(',');
      if (!std::isnan(r.values[i])) Number(r.values[i], cols[i].integer, line);
    }
    line.push_back('\n');
  }
  out_ << line;
}

void WriteFeaturesCsv(const std::vector<FeatureRow>& rows, std::ostream& out) {
  FeatureWriter w(out, false);
  for (const FeatureRow& r : rows) w.Write(r);
}

void WriteFeaturesJsonl(const std::vector<FeatureRow>& rows, std::ostream& out) {
  FeatureWriter w(out, true);
  for (const FeatureRow& r : rows) w.Write(r);
}

}  // namespace fluxscore::dns
