// Zeek dns.log in its TSV form: `#`-header lines (`#separator`, `#set_separator`,
// `#empty_field`, `#unset_field`, `#fields`, ...) then tab-separated records; or, as Zeek writes
// it with the filter option tsv=T, one line of field names then the records. Fields are found
// by name from `#fields`, so extra or reordered columns are fine; a new header block (files
// concatenated with cat) starts over.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "dns/ingest/common.h"
#include "dns/ingest/readers.h"

namespace fluxscore::dns {
namespace {

// Zeek writes bytes it must not print literally as \xNN.
std::string_view Unescape(std::string_view s, std::string& buf) {
  if (s.find("\\x") == std::string_view::npos) return s;
  buf.clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x') {
      const int h = HexDigit(s[i + 2]);
      const int l = HexDigit(s[i + 3]);
      if (h >= 0 && l >= 0) {
        buf.push_back(static_cast<char>(h * 16 + l));
        i += 3;
        continue;
      }
    }
    buf.push_back(s[i]);
  }
  return buf;
}

// One line's fields, found in one pass over its bytes (64 at a time where SSE2 is there): the
// field boundaries (as SplitPositions leaves them), whether the line holds a backslash, and the
// offsets of the set separators in order, so that the answers and TTLs are split later without
// another pass over them (a list's pieces end at the offsets inside its field).
class FieldScan {
 public:
  // Returns the number of fields, or max + 1 when there are more than max (then nothing else
  // is valid). Inlined into its one caller: a call saved and restored six registers per line.
  __attribute__((always_inline)) size_t Scan(std::string_view line, char sep, char set_sep, size_t max) {
    const char* const b = line.data();
    const size_t n = line.size();
    if (ends_.size() < max + 65) ends_.resize(max + 65);
    if (sets_.size() < n + 2) sets_.resize(n + 2);
    ends_[0] = UINT32_MAX;  // "field -1 ends at -1": field 0 begins at 0 like the others
    uint32_t* const ends = ends_.data() + 1;
    uint32_t* const sets = sets_.data();
    // Separators and set separators seen; k < max before each block, so at most max + 63 ends
    // written; at most n set separators, then the UINT32_MAX.
    size_t k = 0, ns = 0;
#if defined(__SSE2__)
    // (Broadcast from 32-bit words: from a char, GCC spilled the byte and read it back as the
    // 32-bit operand of the broadcast — a store-forwarding stall on every line.)
    const auto word = [](char c) { return static_cast<int>(static_cast<uint8_t>(c) * 0x01010101u); };
    const __m128i vsep = _mm_set1_epi32(word(sep)), vset = _mm_set1_epi32(word(set_sep)),
                  vbs = _mm_set1_epi8('\\');
    __m128i acc = _mm_setzero_si128();  // backslashes (only whether there is one matters)
    auto masks = [&](const char* at, uint64_t& msep, uint64_t& mset) __attribute__((always_inline)) {
      const __m128i* q = reinterpret_cast<const __m128i*>(at);
      const __m128i x0 = _mm_loadu_si128(q), x1 = _mm_loadu_si128(q + 1);
      const __m128i x2 = _mm_loadu_si128(q + 2), x3 = _mm_loadu_si128(q + 3);
      acc = _mm_or_si128(acc, _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x0, vbs), _mm_cmpeq_epi8(x1, vbs)),
                                           _mm_or_si128(_mm_cmpeq_epi8(x2, vbs), _mm_cmpeq_epi8(x3, vbs))));
      auto mask = [](__m128i a, __m128i b, __m128i c, __m128i d) {
        return static_cast<uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(a))) |
               static_cast<uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(b))) << 16 |
               static_cast<uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(c))) << 32 |
               static_cast<uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(d))) << 48;
      };
      msep = mask(_mm_cmpeq_epi8(x0, vsep), _mm_cmpeq_epi8(x1, vsep), _mm_cmpeq_epi8(x2, vsep),
                  _mm_cmpeq_epi8(x3, vsep));
      mset = mask(_mm_cmpeq_epi8(x0, vset), _mm_cmpeq_epi8(x1, vset), _mm_cmpeq_epi8(x2, vset),
                  _mm_cmpeq_epi8(x3, vset));
    };
    uint32_t i = 0;
    for (; i + 64 <= n; i += 64) {
      uint64_t m, mset;
      masks(b + i, m, mset);
      for (; mset != 0; mset &= mset - 1) sets[ns++] = i + static_cast<uint32_t>(__builtin_ctzll(mset));
      while (m != 0) {
        ends[k++] = i + static_cast<uint32_t>(__builtin_ctzll(m));
        m &= m - 1;
      }
      if (k >= max) return max + 1;
    }
    if (i < n) {
      // The last 1..63 bytes: one block ending at the end of the line with the bytes already
      // seen shifted out, or (a line shorter than a block) the line in a zero-padded block.
      const size_t left = n - i;
      uint64_t m, mset;
      if (n >= 64) {
        masks(b + n - 64, m, mset);  // (backslashes among the bytes seen: already in acc)
        m >>= 64 - left;
        mset >>= 64 - left;
      } else {
        alignas(16) char pad[64] = {};  // zeros: not a backslash; masked off when a separator
        std::memcpy(pad, b, n);
        masks(pad, m, mset);
        const uint64_t valid = (uint64_t{1} << n) - 1;
        m &= valid;
        mset &= valid;
      }
      for (; mset != 0; mset &= mset - 1) sets[ns++] = i + static_cast<uint32_t>(__builtin_ctzll(mset));
      while (m != 0) {
        ends[k++] = i + static_cast<uint32_t>(__builtin_ctzll(m));
        m &= m - 1;
      }
    }
    backslash_ = _mm_movemask_epi8(acc) != 0;
#else
    bool bs = false;
    for (size_t i = 0; i < n; ++i) {
      const char c = b[i];
      bs |= c == '\\';
      if (c == set_sep) sets[ns++] = static_cast<uint32_t>(i);
      if (c == sep) {
        if (k >= max) return max + 1;
        ends[k++] = static_cast<uint32_t>(i);
      }
    }
    backslash_ = bs;
#endif
    if (k >= max) return max + 1;
    ends[k] = static_cast<uint32_t>(n);
    sets[ns] = UINT32_MAX;  // (beyond any offset: searches stop at it without a bounds check)
    return k + 1;
  }

  // Field k of the line last scanned, as offsets [begin, end).
  size_t begin(size_t k) const { return static_cast<uint32_t>(ends_[k] + 1); }
  size_t end(size_t k) const { return ends_[k + 1]; }
  bool backslash() const { return backslash_; }

  // The offsets of the set separators of the line last scanned, in order, then UINT32_MAX.
  const uint32_t* sets() const { return sets_.data(); }

 private:
  // Offsets in the line (at most 1 MiB: LineReader). sets_ holds one per byte of the longest line
  // so far (4 MiB at worst, for a line of set separators).
  std::vector<uint32_t> ends_;
  std::vector<uint32_t> sets_;
  bool backslash_ = false;
};

// The pieces of one list field (answers, TTLs) in order, from a FieldScan of its line: each
// piece ends at the next set separator inside the field, the last at the field's end.
class PieceCursor {
 public:
  // `from`: the scan's separators before it lie before the field (the end of a cursor on a
  // field before this one), or null.
  PieceCursor(const FieldScan& scan, std::string_view line, std::string_view field, const uint32_t* from = nullptr)
      : line_(line.data()) {
    if (field.empty()) return;
    at_ = static_cast<size_t>(field.data() - line.data());
    end_ = at_ + field.size();
    // (The separators before the field are passed one by one: there are few, the usual line has
    // none outside its answers and TTLs. The UINT32_MAX after the last stops both searches.)
    const uint32_t* p = from != nullptr ? from : scan.sets();
    while (*p < at_) ++p;
    next_ = p;
    while (*p < end_) ++p;
    left_ = static_cast<size_t>(p - next_);
    count_ = left_ + 1;
  }

  // The number of pieces: 0 for an empty field.
  size_t Count() const { return count_; }

  // The first of the scan's separators after the field (null for an empty field).
  const uint32_t* after() const { return next_ + left_; }

  // The next piece (at most Count() times).
  std::string_view Next() {
    size_t e = end_;
    if (left_ != 0) {
      e = *next_++;
      --left_;
    }
    const std::string_view piece(line_ + at_, e - at_);
    at_ = e + 1;
    return piece;
  }

 private:
  const char* line_;
  size_t at_ = 0, end_ = 0;  // offsets in the line: the next piece, the field's end
  const uint32_t* next_ = nullptr;  // the separators inside the field not yet passed
  size_t left_ = 0;
  size_t count_ = 0;
};

// ParseTtl with the last two distinct texts of 8 to 16 bytes it accepted remembered (as two
// overlapping eight-byte words and the length) with their values: the TTLs of one line, and of
// lines after it, mostly repeat ("3600.000000,300.000000,300.000000,..."), and ParseTtl is a
// function of the text.
class TtlMemo {
 public:
  bool Parse(std::string_view s, uint32_t& out) {
    const size_t n = s.size();
    if (n < 8 || n > 16) return ParseTtl(s, out);
    uint64_t w0, w1;
    std::memcpy(&w0, s.data(), 8);
    std::memcpy(&w1, s.data() + n - 8, 8);
    for (const Entry& e : e_) {
      if (n == e.n && w0 == e.w0 && w1 == e.w1) {
        out = e.value;
        return true;
      }
    }
    if (!ParseTtl(s, out)) return false;
    e_[1] = e_[0];
    e_[0] = Entry{n, w0, w1, out};
    return true;
  }

 private:
  struct Entry {
    size_t n = 0;  // 0: nothing remembered
    uint64_t w0 = 0, w1 = 0;
    uint32_t value = 0;
  };
  Entry e_[2];  // the last one accepted first
};

enum Field { kTs, kOrigH, kRespH, kQuery, kQtype, kRcode, kAnswers, kTtls, kNumFields };
constexpr std::array<std::string_view, kNumFields> kFieldNames = {
    "ts", "id.orig_h", "id.resp_h", "query", "qtype", "rcode", "answers", "TTLs"};

struct Header {
  char sep = '\t';
  std::string set_sep = ",";
  std::string empty = "(empty)";
  std::string unset = "-";
  bool have_fields = false;
  size_t num_fields = 0;
  std::array<int, kNumFields> index{};  // column of each field, -1 when absent
};

// The field names (of a #fields line, or of the one line of names Zeek writes with tsv=T).
Status FieldNames(std::string_view line, Header& h, SourcePos pos, std::string_view what) {
  std::vector<std::string_view> names;
  SplitFast(line, h.sep, names, 4096);
  h.index.fill(-1);
  for (size_t i = 0; i < names.size(); ++i)
    for (size_t f = 0; f < kNumFields; ++f)
      if (names[i] == kFieldNames[f]) h.index[f] = static_cast<int>(i);
  h.num_fields = names.size();
  if (h.index[kTs] < 0 || h.index[kQuery] < 0)
    return Status::DataError(
        fmt::format("{}:{}: {} has no `ts` or no `query`: not a dns.log", pos.file, pos.line, what));
  h.have_fields = true;
  return Status::Ok();
}

Status HeaderLine(std::string_view line, Header& h, SourcePos pos, IngestStats& stats) {
  // "#separator \x09" uses a space; the other header lines use the separator.
  if (line.substr(0, 11) == "#separator ") {
    std::string buf;
    std::string_view v = Unescape(line.substr(11), buf);
    if (v.size() != 1) return Status::DataError(fmt::format("{}:{}: unsupported #separator", pos.file, pos.line));
    h = Header();
    h.sep = v[0];
    return Status::Ok();
  }
  const size_t p = line.find(h.sep);
  const std::string_view key = line.substr(0, p);
  const std::string_view value = p == std::string_view::npos ? std::string_view() : line.substr(p + 1);
  std::string buf;
  if (key == "#set_separator") {
    h.set_sep = std::string(Unescape(value, buf));
  } else if (key == "#empty_field") {
    h.empty = std::string(Unescape(value, buf));
  } else if (key == "#unset_field") {
    h.unset = std::string(Unescape(value, buf));
  } else if (key == "#fields") {
    return FieldNames(value, h, pos, "#fields");
  } else {
    stats.Skip("header lines");
  }
  return Status::Ok();
}

}  // namespace

Status ReadZeekTsv(ByteStream& in, RecordSink& sink, IngestStats& stats, const ProgressFn& progress) {
  LineReader lines(in);
  Header h;
  h.index.fill(-1);
  FieldScan scan;
  AddrCache resolvers;
  TtlMemo ttls;
  QuadMemo quads;
  std::vector<std::string> spare;  // buffers of answers dropped from rec.answers, for reuse
  std::string ubuf, abuf;
  const bool want_data = sink.wants_answer_data();
  DnsRecord rec;
  std::string_view line;
  for (;;) {
    LineReader::Got got = LineReader::Got::kLine;
    if (!NextLogLineBuffered(lines, in, progress, &line)) {
      FLUXSCORE_ASSIGN_OR_RETURN(got, NextLogLine(lines, in, stats, progress, &line));
    }
    if (got == LineReader::Got::kEnd) break;
    if (got == LineReader::Got::kTooLong) continue;
    const SourcePos pos{in.name(), lines.line_no()};
    if (line.empty()) continue;
    if (line[0] == '#') {
      FLUXSCORE_RETURN_IF_ERROR(HeaderLine(line, h, pos, stats));
      continue;
    }
    // Zeek's writer with the filter option tsv=T writes one line of field names and no # lines
    // (the defaults: tab, ',', "(empty)", "-"). Before any header it can only be that (and must
    // name ts and query); after one whose first field is ts, a line starting "ts<TAB>" is a new
    // block's names when it names query, else a record with a bad ts.
    if (line.size() > 3 && line[0] == 't' && line[1] == 's' && line[2] == '\t' &&
        (!h.have_fields || h.index[kTs] == 0)) {
      Header names;
      const Status st = FieldNames(line, names, pos, "the line of field names");
      if (st.ok() || !h.have_fields) {
        FLUXSCORE_RETURN_IF_ERROR(st);
        h = std::move(names);
        continue;
      }
    }
    ++stats.read;
    if (!h.have_fields) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "record before a #fields header"));
      continue;
    }
    if (lines.last_unterminated()) {
      // The last line of a file cut off mid-write: it may be incomplete.
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "truncated last line", line));
      continue;
    }
    const char ss = h.set_sep.size() == 1 ? h.set_sep[0] : ',';
    const size_t n = scan.Scan(line, h.sep, ss, h.num_fields);
    if (n != h.num_fields) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(
          pos, "wrong field count",
          n > h.num_fields ? fmt::format("more than {} fields", h.num_fields)
                           : fmt::format("{} fields, #fields names {}", n, h.num_fields)));
      continue;
    }
    // A line without a backslash has no \xNN escapes: its fields are used as they are.
    const bool backslash = scan.backslash();
    auto unescape = [backslash](std::string_view v, std::string& buf) {
      return backslash ? Unescape(v, buf) : v;
    };
    const std::string_view unset = h.unset;
    auto get = [&](Field f) __attribute__((always_inline)) -> std::string_view {
      const int i = h.index[f];
      if (i < 0) return {};
      const size_t begin = scan.begin(static_cast<size_t>(i));
      std::string_view v(line.data() + begin, scan.end(static_cast<size_t>(i)) - begin);
      // (The first byte first: most fields differ from the unset mark there, without a memcmp.)
      const bool is_unset = v.size() == unset.size() && (v.empty() || v[0] == unset[0]) && v == unset;
      return is_unset ? std::string_view() : v;
    };
    // The checks in their order: a line with several faults is rejected for the first.
    const std::string_view ts = get(kTs);
    if (!ParseTs(ts, rec.ts)) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad ts", ts));
      continue;
    }
    const std::string_view q = get(kQuery);
    if (q.empty() || q == h.empty) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "no query name"));
      continue;
    }
#if defined(__SSE2__)
    // (A line without a backslash: the name is its text in the line, with the rest of the line
    // after it.)
    const bool short_name =
        !backslash && NormalizeShortName(q, static_cast<size_t>(line.data() + line.size() - q.data()), rec.qname);
#else
    const bool short_name = false;
#endif
    if (!short_name && !NormalizeName(unescape(q, ubuf), rec.qname)) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad query name", q));
      continue;
    }
    rec.has_client = false;
    if (std::string_view c = get(kOrigH); !c.empty()) {
      if (!ParseIp(c, rec.client)) {
        FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad client address", c));
        continue;
      }
      rec.has_client = true;
    }
    rec.has_resolver = false;
    if (std::string_view r = get(kRespH); !r.empty()) {
      if (auto ip = resolvers.Parse(r)) {
        rec.resolver = *ip;
        rec.has_resolver = true;
      }
    }
    uint32_t v = 0;
    rec.qtype = 0;
    if (std::string_view t = get(kQtype); !t.empty()) {
      if (!ParseU16(t, v)) {
        FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad qtype", t));
        continue;
      }
      rec.qtype = static_cast<uint16_t>(v);
    }
    rec.rcode = -1;
    if (std::string_view t = get(kRcode); !t.empty()) {
      if (!ParseU16(t, v)) {
        FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad rcode", t));
        continue;
      }
      rec.rcode = static_cast<int32_t>(v);
    }
    std::string_view a = get(kAnswers), t = get(kTtls);
    if (a == h.empty) a = {};
    if (t == h.empty) t = {};
    // The two fields as lists, their pieces found from the scan's set-separator offsets.
    // Pieces beyond 2^20 are dropped (a 1 MiB line cannot have that many).
    // (The TTLs after the answers, as Zeek writes them: their search starts after the answers'.)
    PieceCursor ca(scan, line, a);
    PieceCursor ct(scan, line, t, !a.empty() && t.data() >= a.data() + a.size() ? ca.after() : nullptr);
    const size_t na = std::min<size_t>(ca.Count(), 1 << 20);
    const size_t nt = std::min<size_t>(ct.Count(), 1 << 20);
    if (na != nt) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(
          pos, "answers and TTLs differ in length",
          fmt::format("{} answers, {} TTLs", na, nt)));
      continue;
    }
    if (rec.answers.size() != na) {
      if (want_data) {
        ResizeKeepingBuffers(rec.answers, na, spare);
      } else {
        rec.answers.resize(na);  // (the same as ResizeKeepingBuffers when every data is empty)
      }
    }
    // The answers and TTLs side by side, piece i of each: the TTL checked first, as the
    // reader always has.
    bool bad = false;
    for (size_t i = 0; i < na; ++i) {
      const std::string_view ans = ca.Next(), ttl_text = ct.Next();
      Answer& out = rec.answers[i];
      if (!ttls.Parse(ttl_text, out.ttl)) {
        FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad TTL", ttl_text));
        bad = true;
        break;
      }
      const std::string_view data = unescape(ans, abuf);
      if (want_data) out.data.assign(data);
      if (!ClassifyAnswer(data, rec.qtype, out, quads)) {
        FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad address answer", ans));
        bad = true;
        break;
      }
    }
    if (bad) continue;
    ++stats.used;
    sink.Add(rec);
  }
  return Status::Ok();
}

}  // namespace fluxscore::dns
