// Text sources: range CSV (ip-location-db) and prefix tables (pyasn), plain or gzip-compressed.

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <string>
#include <utility>

#include "common/hash.h"
#include "dns/enrich/source.h"
#include "dns/ingest/stream.h"

namespace fluxscore::dns::enrich_internal {

namespace {

constexpr U128 kV4Base = U128{0xffff} << 32;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A field as quoted in an error message: at most 64 bytes.
std::string Clip(std::string_view s) {
  if (s.size() <= 64) return std::string(s);
  return std::string(s.substr(0, 61)) + "...";
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Decimal digits to a 128-bit value; false on overflow or non-digits.
bool ParseU128(std::string_view s, U128* out) {
  if (!AllDigits(s)) return false;
  U128 v = 0;
  const U128 limit = ~U128{0} / 10;
  for (char c : s) {
    const unsigned d = static_cast<unsigned>(c - '0');
    if (v > limit) return false;
    v *= 10;
    if (v > ~U128{0} - d) return false;
    v += d;
  }
  *out = v;
  return true;
}

// An ASN: decimal, optionally with an "AS" prefix, at most 2^32 - 1.
bool ParseAsn(std::string_view s, uint32_t* out) {
  if (s.size() > 2 && (s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's'))
    s.remove_prefix(2);
  U128 v;
  if (s.size() > 10 || !ParseU128(s, &v) || v > 0xffffffffu) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

// One end of a CSV range.
struct Bound {
  U128 value = 0;
  bool is_int = false;  // a bare integer (resolved to IPv4 or IPv6 once the whole file is read)
};

bool ParseBound(std::string_view s, Bound* b) {
  if (AllDigits(s)) {
    b->is_int = true;
    return ParseU128(s, &b->value);
  }
  auto a = IpAddr::Parse(s);
  if (!a) return false;
  b->is_int = false;
  b->value = a->ToU128();
  return true;
}

// Splits one CSV line into fields (double quotes, "" escapes). Returns an error message or "".
std::string SplitCsv(std::string_view line, std::vector<std::string>& fields, size_t* count) {
  size_t n = 0;
  size_t i = 0;
  for (;;) {
    if (n == fields.size()) fields.emplace_back();
    std::string& f = fields[n++];
    f.clear();
    if (i < line.size() && line[i] == '"') {
      ++i;
      for (;;) {
        if (i >= line.size()) return fmt::format("unterminated quoted field {}", n);
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            f.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        f.push_back(line[i++]);
      }
      if (i < line.size() && line[i] != ',')
        return fmt::format("unexpected character after closing quote in field {}", n);
    } else {
      const size_t comma = line.find(',', i);
      const size_t end = comma == std::string_view::npos ? line.size() : comma;
      f.assign(line.substr(i, end - i));
      i = end;
    }
    if (i >= line.size()) break;
    ++i;  // the comma
    if (n > 64) return "too many fields";
  }
  *count = n;
  return "";
}

// Organisation strings and (asn, org) pairs, deduplicated through two open-addressing tables
// of ids (no node or string allocation per line: a range file has ~600k lines, ~80k orgs).
class AsnValues {
 public:
  uint32_t Intern(uint32_t asn, std::string_view org) {
    const uint32_t org_id = InternOrg(org);
    const uint64_t key = (uint64_t{asn} << 32) | org_id;
    if ((values_.size() + 1) * 2 > value_slots_.size()) GrowValues();
    const size_t mask = value_slots_.size() - 1;
    for (size_t i = MixBits(key) & mask;; i = (i + 1) & mask) {
      const uint32_t id = value_slots_[i];
      if (id == kEmpty) {
        value_slots_[i] = static_cast<uint32_t>(values_.size());
        values_.push_back({asn, org_id});
        return value_slots_[i];
      }
      if (values_[id].asn == asn && values_[id].org == org_id) return id;
    }
  }
  // Drops the lookup tables once loading is done.
  void Seal() {
    org_slots_ = {};
    value_slots_ = {};
    pool_.shrink_to_fit();
  }
  AsnHit Get(uint32_t id) const {
    const Value& v = values_[id];
    return AsnHit{v.asn, OrgText(v.org)};
  }
  size_t size() const { return values_.size(); }
  size_t orgs() const { return orgs_.size(); }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  struct Org {
    uint32_t off, len;
    uint64_t hash;
  };
  struct Value {
    uint32_t asn, org;
  };
  std::string_view OrgText(uint32_t id) const {
    const Org& o = orgs_[id];
    return std::string_view(pool_.data() + o.off, o.len);
  }
  uint32_t InternOrg(std::string_view org) {
    if ((orgs_.size() + 1) * 2 > org_slots_.size()) GrowOrgs();
    const uint64_t h = HashText(org);
    const size_t mask = org_slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const uint32_t id = org_slots_[i];
      if (id == kEmpty) {
        org_slots_[i] = static_cast<uint32_t>(orgs_.size());
        orgs_.push_back({static_cast<uint32_t>(pool_.size()), static_cast<uint32_t>(org.size()), h});
        pool_.append(org);
        return org_slots_[i];
      }
      if (orgs_[id].hash == h && OrgText(id) == org) return id;
    }
  }
  void GrowOrgs() {
    org_slots_.assign(org_slots_.empty() ? 1024 : org_slots_.size() * 2, kEmpty);
    const size_t mask = org_slots_.size() - 1;
    for (uint32_t id = 0; id < orgs_.size(); ++id) {
      size_t i = orgs_[id].hash & mask;
      while (org_slots_[i] != kEmpty) i = (i + 1) & mask;
      org_slots_[i] = id;
    }
  }
  void GrowValues() {
    value_slots_.assign(value_slots_.empty() ? 1024 : value_slots_.size() * 2, kEmpty);
    const size_t mask = value_slots_.size() - 1;
    for (uint32_t id = 0; id < values_.size(); ++id) {
      size_t i = MixBits((uint64_t{values_[id].asn} << 32) | values_[id].org) & mask;
      while (value_slots_[i] != kEmpty) i = (i + 1) & mask;
      value_slots_[i] = id;
    }
  }
  std::string pool_;
  std::vector<Org> orgs_;
  std::vector<Value> values_;
  std::vector<uint32_t> org_slots_, value_slots_;  // ids; power-of-two sizes, at most half full
};

class TableSource final : public Source {
 public:
  TableSource(std::string path, Kind kind, std::string format)
      : path_(std::move(path)), kind_(kind), format_(std::move(format)) {}

  bool FindAsn(const IpAddr& a, AsnHit* hit) const override {
    if (kind_ != Kind::kAsn) return false;
    const uint32_t v = table_.Find(a);
    if (v == SegmentTable::kNone) return false;
    *hit = values_.Get(v);
    return true;
  }
  bool FindCountry(const IpAddr& a, std::string_view* code) const override {
    if (kind_ != Kind::kCountry) return false;
    const uint32_t v = table_.Find(a);
    if (v == SegmentTable::kNone) return false;
    *code = CountryCode(v);
    return true;
  }
  bool ExportV4(std::vector<V4Run>* runs) const override {
    table_.ForEachV4([&](uint32_t start, uint32_t v) {
      uint64_t value = kNoValue;
      if (v != SegmentTable::kNone) value = kind_ == Kind::kAsn ? values_.Get(v).asn : v;
      AppendRun(*runs, start, value);  // (neighbouring ASNs differ only in organisation at most)
    });
    return true;
  }
  std::string Describe() const override {
    std::string s = fmt::format("{}: {}{}, {} entries (IPv4 {}, IPv6 {}), {} segments", path_,
                                format_, compressed_ ? " (gzip)" : "", entries_, v4_entries_,
                                entries_ - v4_entries_, table_.segments());
    if (kind_ == Kind::kAsn)
      s += fmt::format(", {} ASN/organisation pairs, {} organisations", values_.size(),
                       values_.orgs());
    return s;
  }

  // Parses the whole stream; `is_prefix` selects the prefix-table syntax.
  Status Load(ByteStream& in, bool is_prefix);

 private:
  Status Error(uint64_t line, const std::string& msg) const {
    return Status::DataError(fmt::format("{}:{}: {}", path_, line, msg));
  }
  Status ParseCsvLine(std::string_view line, uint32_t line_no, bool* header_allowed);
  Status ParsePrefixLine(std::string_view line, uint32_t line_no);
  Status AddValue(std::string_view text, uint32_t line_no, uint32_t* value);

  std::string path_;
  Kind kind_;
  std::string format_;
  bool compressed_ = false;
  size_t entries_ = 0, v4_entries_ = 0;
  SegmentTable table_;
  AsnValues values_;

  // Load-time state.
  std::vector<RangeInput> ranges_;
  std::vector<uint8_t> int_rows_;  // per range: start/end were bare integers
  bool any_big_int_ = false;
  std::vector<std::string> fields_;
};

Status TableSource::AddValue(std::string_view text, uint32_t line_no, uint32_t* value) {
  // Used for the prefix table's value column (no organisation there).
  if (kind_ == Kind::kAsn) {
    uint32_t asn;
    if (!ParseAsn(text, &asn)) return Error(line_no, fmt::format("bad ASN '{}'", Clip(text)));
    *value = values_.Intern(asn, "");
  } else {
    auto idx = CountryIndex(text);
    if (!idx)
      return Error(line_no, fmt::format("bad country code '{}' (want two letters)", Clip(text)));
    *value = *idx;
  }
  return Status::Ok();
}

Status TableSource::ParseCsvLine(std::string_view line, uint32_t line_no, bool* header_allowed) {
  const bool may_be_header = *header_allowed;
  *header_allowed = false;
  size_t n = 0;
  std::string err = SplitCsv(line, fields_, &n);
  if (!err.empty()) return Error(line_no, err);
  Bound lo, hi;
  const std::string_view f0 = Trim(fields_[0]);
  if (!ParseBound(f0, &lo)) {
    // A header: the first line, its first field a name (not a mistyped address: those start
    // with a digit or ':').
    if (may_be_header && !f0.empty() &&
        ((f0[0] >= 'a' && f0[0] <= 'z') || (f0[0] >= 'A' && f0[0] <= 'Z') || f0[0] == '_' ||
         f0[0] == '#'))
      return Status::Ok();
    return Error(line_no,
                 fmt::format("bad range start '{}' (want an IP address or an integer)", Clip(f0)));
  }
  const bool asn = kind_ == Kind::kAsn;
  if (asn ? (n < 3 || n > 4) : n != 3)
    return Error(line_no,
                 fmt::format("expected {} fields, got {}",
                             asn ? "3 or 4 (start,end,asn[,org])" : "3 (start,end,country)", n));
  const std::string_view f1 = Trim(fields_[1]);
  if (!ParseBound(f1, &hi))
    return Error(line_no,
                 fmt::format("bad range end '{}' (want an IP address or an integer)", Clip(f1)));
  if (lo.is_int != hi.is_int)
    return Error(line_no, "start and end must both be addresses or both be integers");
  if (lo.value > hi.value)
    return Error(line_no, fmt::format("range start {} is after its end {}", f0, f1));
  uint32_t value;
  if (asn) {
    uint32_t num;
    const std::string_view f2 = Trim(fields_[2]);
    if (!ParseAsn(f2, &num)) return Error(line_no, fmt::format("bad ASN '{}'", Clip(f2)));
    value = values_.Intern(num, n == 4 ? std::string_view(fields_[3]) : std::string_view());
  } else {
    const std::string_view f2 = Trim(fields_[2]);
    auto idx = CountryIndex(f2);
    if (!idx)
      return Error(line_no, fmt::format("bad country code '{}' (want two letters)", Clip(f2)));
    value = *idx;
  }
  if (lo.is_int && hi.value > 0xffffffffu) any_big_int_ = true;
  ranges_.push_back({lo.value, hi.value, value, line_no});
  int_rows_.push_back(lo.is_int ? 1 : 0);
  return Status::Ok();
}

Status TableSource::ParsePrefixLine(std::string_view line, uint32_t line_no) {
  // Two whitespace-separated tokens.
  std::string_view tok[3];
  size_t n = 0;
  size_t i = 0;
  while (i < line.size() && n < 3) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size()) break;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    tok[n++] = line.substr(i, j - i);
    i = j;
  }
  if (n != 2)
    return Error(line_no, "expected 'prefix/length<TAB>value' (two whitespace-separated fields)");
  const size_t slash = tok[0].find('/');
  if (slash == std::string_view::npos)
    return Error(line_no, fmt::format("bad prefix '{}' (want address/length)", Clip(tok[0])));
  const std::string_view addr_text = tok[0].substr(0, slash);
  const std::string_view len_text = tok[0].substr(slash + 1);
  auto addr = IpAddr::Parse(addr_text);
  if (!addr) return Error(line_no, fmt::format("bad prefix address '{}'", Clip(addr_text)));
  const bool v6_text = addr_text.find(':') != std::string_view::npos;
  const unsigned max_len = v6_text ? 128 : 32;
  U128 len = 0;
  if (len_text.size() > 3 || !ParseU128(len_text, &len) || len > max_len)
    return Error(line_no, fmt::format("bad prefix length '{}' (0..{})", Clip(len_text), max_len));
  const unsigned bits = static_cast<unsigned>(len) + (v6_text ? 0 : 96);
  const U128 host = bits >= 128 ? U128{0} : (~U128{0} >> bits);
  const U128 start = addr->ToU128();
  if ((start & host) != 0)
    return Error(line_no, fmt::format("prefix {} has host bits set", tok[0]));
  uint32_t value = 0;  // (set by AddValue when it succeeds; GCC cannot see that)
  FLUXSCORE_RETURN_IF_ERROR(AddValue(Trim(tok[1]), line_no, &value));
  ranges_.push_back({start, start | host, value, line_no});
  int_rows_.push_back(0);
  return Status::Ok();
}

Status TableSource::Load(ByteStream& in, bool is_prefix) {
  LineReader reader(in);
  bool header_allowed = true;
  for (;;) {
    std::string_view line;
    FLUXSCORE_ASSIGN_OR_RETURN(LineReader::Got got, reader.Next(&line));
    if (got == LineReader::Got::kEnd) break;
    const uint64_t no = reader.line_no();
    if (no > UINT32_MAX) return Error(no, "too many lines");
    if (got == LineReader::Got::kTooLong) return Error(no, "line too long");
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (no == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);  // UTF-8 BOM
    if (Trim(line).empty()) continue;
    const uint32_t line_no = static_cast<uint32_t>(no);
    if (is_prefix) {
      const std::string_view t = Trim(line);
      if (t.front() == ';' || t.front() == '#') continue;
      FLUXSCORE_RETURN_IF_ERROR(ParsePrefixLine(line, line_no));
    } else {
      FLUXSCORE_RETURN_IF_ERROR(ParseCsvLine(line, line_no, &header_allowed));
    }
  }
  compressed_ = in.compressed();
  if (ranges_.empty()) return Status::DataError(fmt::format("{}: no entries", path_));
  // Bare integers: IPv4 unless some integer in the file needs more than 32 bits.
  for (size_t i = 0; i < ranges_.size(); ++i) {
    if (int_rows_[i] && !any_big_int_) {
      ranges_[i].start += kV4Base;
      ranges_[i].end += kV4Base;
    }
    if (ranges_[i].start >= kV4Base && ranges_[i].end <= kV4Base + 0xffffffffu) ++v4_entries_;
  }
  entries_ = ranges_.size();
  table_ = SegmentTable::Build(ranges_);
  ranges_ = {};
  int_rows_ = {};
  fields_ = {};
  values_.Seal();
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Source>> LoadTable(const std::string& path, Kind kind) {
  ByteStream in;
  FLUXSCORE_RETURN_IF_ERROR(in.Open(path));
  FLUXSCORE_ASSIGN_OR_RETURN(std::string_view head, in.Peek(64 * 1024));
  if (head.find('\0') != std::string_view::npos)
    return Status::IoError(fmt::format(
        "{}: not a MaxMind DB (no metadata marker), range CSV or prefix table: binary content",
        path));
  // The first line that is not blank or a comment decides: "prefix/len ..." is a prefix table.
  bool is_prefix = false;
  size_t pos = 0;
  while (pos < head.size()) {
    size_t nl = head.find('\n', pos);
    if (nl == std::string_view::npos) nl = head.size();
    const std::string_view line = Trim(head.substr(pos, nl - pos));
    pos = nl + 1;
    if (line.empty() || line == "\r" || line.front() == ';' || line.front() == '#') continue;
    const size_t end = line.find_first_of(", \t");
    const std::string_view first = line.substr(0, end);
    is_prefix = first.find('/') != std::string_view::npos;
    break;
  }
  auto src = std::make_unique<TableSource>(path, kind, is_prefix ? "prefix table" : "range CSV");
  FLUXSCORE_RETURN_IF_ERROR(src->Load(in, is_prefix));
  return std::unique_ptr<Source>(std::move(src));
}

}  // namespace fluxscore::dns::enrich_internal
