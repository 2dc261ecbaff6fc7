#include "sim/ipdata.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

namespace fluxscore::sim {

std::string CcString(Cc cc) {
  if (cc == 0) return "??";
  return std::string{static_cast<char>(cc >> 8), static_cast<char>(cc & 0xff)};
}

size_t V4Pool::PickRange(Rng& r) const {
  const uint64_t u = r.Below(size());
  return static_cast<size_t>(std::upper_bound(cum.begin(), cum.end(), u) - cum.begin());
}

uint32_t V4Pool::Draw(Rng& r) const {
  const size_t i = PickRange(r);
  const uint64_t span = uint64_t{hi[i]} - lo[i] + 1;
  uint32_t a = lo[i] + static_cast<uint32_t>(r.Below(span));
  const uint32_t host = a & 0xff;
  if (host == 0 && a + 1 <= hi[i]) ++a;
  if (host == 255 && a - 1 >= lo[i]) --a;
  return a;
}

V4Pool::Site V4Pool::DrawSite(Rng& r) const {
  const size_t i = PickRange(r);
  const uint32_t a = lo[i] + static_cast<uint32_t>(r.Below(uint64_t{hi[i]} - lo[i] + 1));
  Site s;
  s.prefix = a & 0xffffff00u;
  // The part of this /24 inside the range.
  const uint32_t plo = std::max(s.prefix, lo[i]), phi = std::min(s.prefix | 0xffu, hi[i]);
  uint32_t hmin = plo - s.prefix, hmax = phi - s.prefix;
  if (hmin == 0 && hmax > hmin) hmin = 1;
  if (hmax == 255 && hmax > hmin) hmax = 254;
  s.hmin = hmin;
  s.hmax = hmax;
  return s;
}

U128 V6Pool::DrawNet64(Rng& r) const {
  const size_t i = r.Below(lo.size());
  const U128 span = hi[i] - lo[i];
  U128 off = 0;
  if (span != 0) {
    const U128 rnd = (static_cast<U128>(r.Next()) << 64) | r.Next();
    off = span == ~U128{0} ? rnd : rnd % (span + 1);
  }
  U128 a = lo[i] + off;
  a &= ~((U128{1} << 64) - 1);  // the /64
  if (a < lo[i]) a = lo[i];
  return a;
}

uint32_t WeightedSet::Pick(Rng& r) const {
  const uint64_t u = r.Below(total());
  return items_[static_cast<size_t>(std::upper_bound(cum_.begin(), cum_.end(), u) - cum_.begin())];
}

namespace {

std::string_view NextField(std::string_view line, size_t& pos) {
  if (pos > line.size()) return {};
  size_t end = line.find(',', pos);
  if (end == std::string_view::npos) end = line.size();
  std::string_view f = line.substr(pos, end - pos);
  pos = end + 1;
  return f;
}

std::string Unquote(std::string_view s) {
  std::string out;
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
    s = s.substr(1, s.size() - 2);
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '"' && i + 1 < s.size() && s[i + 1] == '"') ++i;
      out.push_back(s[i]);
    }
  } else {
    out.assign(s);
  }
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Address text, or an unsigned decimal (the "-num" files; < 2^32 = IPv4).
std::optional<dns::IpAddr> ParseAddr(std::string_view s) {
  if (AllDigits(s) && s.size() <= 39) {
    U128 v = 0;
    for (char c : s) v = v * 10 + static_cast<unsigned>(c - '0');
    if (v <= 0xffffffffu) return dns::IpAddr::FromV4(static_cast<uint32_t>(v));
    return dns::IpAddr::FromU128(v);
  }
  return dns::IpAddr::Parse(s);
}

}  // namespace

Status IpData::AddRange(const dns::IpAddr& a, const dns::IpAddr& b, uint32_t asn,
                        std::string_view org) {
  auto [it, inserted] = index_.try_emplace(asn, static_cast<uint32_t>(asns_.size()));
  if (inserted) {
    asns_.emplace_back();
    asns_.back().asn = asn;
    asns_.back().org = Unquote(org);
  }
  AsnEntry& e = asns_[it->second];
  if (a.is_v4() && b.is_v4()) {
    e.v4.Add(a.v4(), b.v4());
    ++v4_ranges_;
  } else if (!a.is_v4() && !b.is_v4()) {
    e.v6.lo.push_back(a.ToU128());
    e.v6.hi.push_back(b.ToU128());
    ++v6_ranges_;
  }
  return Status::Ok();
}

Status IpData::LoadAsnCsv(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Status::IoError(fmt::format("{}: cannot open", path));
  std::string data;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, n);
  std::fclose(f);
  if (data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
      static_cast<unsigned char>(data[1]) == 0x8b)
    return Status::IoError(fmt::format("{}: gzip-compressed; the simulator reads plain CSV", path));
  index_.reserve(1 << 17);
  std::string_view all(data);
  if (all.substr(0, 3) == "\xEF\xBB\xBF") all.remove_prefix(3);
  size_t pos = 0;
  uint64_t line_no = 0;
  while (pos < all.size()) {
    size_t eol = all.find('\n', pos);
    if (eol == std::string_view::npos) eol = all.size();
    std::string_view line = all.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    size_t p = 0;
    const std::string_view s = NextField(line, p), e = NextField(line, p), asn_s = NextField(line, p);
    const std::string_view org = p <= line.size() ? line.substr(p) : std::string_view();
    auto a = ParseAddr(s);
    if (!a) {
      if (line_no == 1) continue;  // header
      return Status::DataError(fmt::format("{}:{}: bad range start '{}'", path, line_no, s));
    }
    auto b = ParseAddr(e);
    uint32_t asn = 0;
    bool ok_asn = AllDigits(asn_s) && asn_s.size() <= 10;
    if (ok_asn) {
      uint64_t v = 0;
      for (char c : asn_s) v = v * 10 + static_cast<unsigned>(c - '0');
      ok_asn = v <= 0xffffffffu;
      asn = static_cast<uint32_t>(v);
    }
    if (!b || !ok_asn || *b < *a)
      return Status::DataError(fmt::format("{}:{}: expected start,end,asn[,org]", path, line_no));
    if (asn == 0) continue;
    FLUXSCORE_RETURN_IF_ERROR(AddRange(*a, *b, asn, org));
  }
  return Status::Ok();
}

Status IpData::LoadCountry(const std::string& path) { return enricher_.AddCountrySource(path); }

Cc IpData::CountryOf(const dns::IpAddr& a) const {
  if (!enricher_.has_country()) return 0;
  const dns::IpInfo info = enricher_.Lookup(a);  // (IPv4: the merged table, no tree walk)
  if (!info.has_country || info.country.size() != 2) return 0;
  return static_cast<Cc>((static_cast<unsigned>(static_cast<unsigned char>(info.country[0])) << 8) |
                         static_cast<unsigned char>(info.country[1]));
}

void IpData::Finish() {
  if (!enricher_.has_country()) return;
  for (AsnEntry& e : asns_) {
    if (!e.v4.empty()) {
      size_t best = 0;
      uint64_t best_size = 0;
      for (size_t i = 0; i < e.v4.lo.size(); ++i) {
        const uint64_t sz = uint64_t{e.v4.hi[i]} - e.v4.lo[i] + 1;
        if (sz > best_size) {
          best_size = sz;
          best = i;
        }
      }
      const uint32_t mid = static_cast<uint32_t>(e.v4.lo[best] + (best_size - 1) / 2);
      e.country = CountryOf(dns::IpAddr::FromV4(mid));
    } else if (!e.v6.empty()) {
      e.country = CountryOf(dns::IpAddr::FromU128(e.v6.lo[0] + (e.v6.hi[0] - e.v6.lo[0]) / 2));
    }
  }
}

}  // namespace fluxscore::sim
