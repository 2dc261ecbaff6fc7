#include "fluxscore/dns/record.h"

#include <fmt/format.h>

#include "common/utf8.h"

namespace fluxscore::dns {

Status IngestStats::Reject(SourcePos pos, std::string_view reason, std::string_view detail) {
  ++rejected_[std::string(reason)];
  if (first_.size() < keep_first_ || strict_) {
    std::string msg = pos.line > 0 ? fmt::format("{}:{}: {}", pos.file, pos.line, reason)
                                   : fmt::format("{}: {}", pos.file, reason);
    if (!detail.empty()) {
      std::string d(detail.substr(0, 120));
      for (char& c : d)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
      msg += fmt::format(" ({}{})", d, detail.size() > 120 ? "..." : "");
    }
    if (strict_) return Status::DataError(msg + " [--strict]");
    first_.push_back(std::move(msg));
  }
  return Status::Ok();
}

uint64_t IngestStats::rejected_total() const {
  uint64_t n = 0;
  for (const auto& [k, v] : rejected_) n += v;
  return n;
}

void IngestStats::Merge(const IngestStats& o) {
  read += o.read;
  used += o.used;
  for (const auto& [k, v] : o.skipped) skipped[k] += v;
  for (const auto& [k, v] : o.rejected_) rejected_[k] += v;
  for (const std::string& s : o.first_)
    if (first_.size() < keep_first_) first_.push_back(s);
}

namespace {

// Length of the UTF-8 sequence starting at s[i], or 0 when invalid (malformed, overlong,
// a surrogate or beyond U+10FFFF).
size_t Utf8Len(std::string_view s, size_t i) {
  size_t n;
  const int32_t cp = DecodeUtf8(s, i, &n);
  if (cp < 0 || (n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
      (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
    return 0;
  return n;
}

}  // namespace

bool NormalizeName(std::string_view in, std::string& out) {
  if (!in.empty() && in.back() == '.') in.remove_suffix(1);
  if (in.empty() || in.size() > 253) return false;
  out.resize(in.size());
  size_t label = 0;
  for (size_t i = 0; i < in.size();) {
    const unsigned char c = static_cast<unsigned char>(in[i]);
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      out[i++] = '.';
      continue;
    }
    if (c <= 0x20 || c == 0x7f) return false;
    if (c < 0x80) {
      out[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : static_cast<char>(c);
      ++i;
      if (++label > 63) return false;
      continue;
    }
    const size_t n = Utf8Len(in, i);
    if (n == 0) return false;
    for (size_t k = 0; k < n; ++k) out[i + k] = in[i + k];
    i += n;
    label += n;
    if (label > 63) return false;
  }
  return label > 0;
}

}  // namespace fluxscore::dns
