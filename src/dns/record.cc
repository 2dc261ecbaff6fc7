#include "fluxscore/dns/record.h"

#include <fmt/format.h>

#include "common/utf8.h"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace fluxscore::dns {

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

// The first max_bytes of untrusted text (a field of a rejected record) for a message: valid
// UTF-8 as it is, a control character as '?', any other byte as \xNN (as Zeek writes bytes it
// cannot print), so that the message is valid UTF-8 and cannot move a terminal's cursor; "..."
// when the text goes on (a character is not cut in two).
std::string Printable(std::string_view s, size_t max_bytes) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : Utf8Len(s, i);  // 0: not UTF-8, the byte alone is escaped
    const size_t step = n == 0 ? 1 : n;
    if (i + step > max_bytes) break;
    // (C0 controls, DEL, and C1 controls U+0080-U+009F, which some terminals obey too)
    if (c < 0x20 || c == 0x7f || (c == 0xc2 && n == 2 && static_cast<unsigned char>(s[i + 1]) < 0xa0)) {
      out += '?';
    } else if (n == 0) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out.append(s.data() + i, n);
    }
    i += step;
  }
  if (i < s.size()) out += "...";
  return out;
}

Status IngestStats::Reject(SourcePos pos, std::string_view reason, std::string_view detail) {
  ++rejected_[std::string(reason)];
  if (first_.size() < keep_first_ || strict_) {
    std::string msg = pos.line > 0 ? fmt::format("{}:{}: {}", pos.file, pos.line, reason)
                                   : fmt::format("{}: {}", pos.file, reason);
    if (!detail.empty()) msg += fmt::format(" ({})", Printable(detail, 120));
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


#if defined(__SSE2__)
// NormalizeName for a name of 1..253 bytes, all ASCII, 16 bytes at a time: the byte checks and
// the lower-casing on whole blocks, the label lengths from the dots' bit masks. Returns 1 (ok),
// 0 (invalid) or -1 (a byte >= 0x80: the caller takes the byte-wise path).
int NormalizeAscii(std::string_view in, std::string& out) {
  const size_t n = in.size();
  const char* src = in.data();
  char pad[16];
  if (n < 16) {  // a short name in a zero-padded block (never read beyond the text)
    std::memset(pad, 0, sizeof pad);
    std::memcpy(pad, src, n);
    src = pad;
  }
  out.resize(n);
  char* dst = out.data();
  long last_dot = -1;  // position of the previous dot
  bool bad = false;
  // Blocks at 0, 16, ... and, for the rest, one block ending at the end (overlapping; `seen`
  // bytes already done). Short names: one padded block with n valid bytes.
  for (size_t i = 0; i < n;) {
    size_t at = i, seen = 0, valid = 16;
    if (n < 16) {
      valid = n;
    } else if (i + 16 > n) {
      at = n - 16;
      seen = i - at;
    }
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + at));
    const unsigned high = static_cast<unsigned>(_mm_movemask_epi8(x));
    const unsigned keep = ((1u << valid) - 1) & ~((1u << seen) - 1);
    if (high & keep) return -1;
    // Bytes 0x21..0x7e only (signed compares: no byte is negative here).
    const __m128i ok = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(0x20)),
                                     _mm_cmplt_epi8(x, _mm_set1_epi8(0x7f)));
    bad |= (static_cast<unsigned>(_mm_movemask_epi8(ok)) & keep) != keep;
    const __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('A' - 1)),
                                        _mm_cmplt_epi8(x, _mm_set1_epi8('Z' + 1)));
    const __m128i lower = _mm_add_epi8(x, _mm_and_si128(upper, _mm_set1_epi8(0x20)));
    if (n < 16) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(pad), lower);
      std::memcpy(dst, pad, n);
    } else {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + at), lower);
    }
    unsigned dots = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('.')))) & keep;
    while (dots != 0) {
      const long p = static_cast<long>(at) + __builtin_ctz(dots);
      const long len = p - last_dot - 1;
      bad |= len < 1 || len > 63;
      last_dot = p;
      dots &= dots - 1;
    }
    i = at + valid;
  }
  const long len = static_cast<long>(n) - last_dot - 1;
  bad |= len < 1 || len > 63;
  return bad ? 0 : 1;
}
#endif

bool NormalizeName(std::string_view in, std::string& out) {
  if (!in.empty() && in.back() == '.') in.remove_suffix(1);
  if (in.empty() || in.size() > 253) return false;
#if defined(__SSE2__)
  if (const int r = NormalizeAscii(in, out); r >= 0) return r == 1;
#endif
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
