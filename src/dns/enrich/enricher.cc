// Enricher: source list, format detection, country code table.

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "dns/enrich/source.h"
#include "fluxscore/dns/enrich.h"

namespace fluxscore::dns {

namespace enrich_internal {

namespace {

constexpr std::array<char, kCountryCodes * 2> MakeCodes() {
  std::array<char, kCountryCodes * 2> t{};
  for (uint32_t i = 0; i < kCountryCodes; ++i) {
    t[2 * i] = static_cast<char>('A' + i / 26);
    t[2 * i + 1] = static_cast<char>('A' + i % 26);
  }
  return t;
}
constexpr std::array<char, kCountryCodes* 2> kCodes = MakeCodes();

int Letter(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a';
  return -1;
}

// The MaxMind DB metadata marker, searched in the last 128 KiB as libmaxminddb does.
constexpr std::string_view kMarker("\xAB\xCD\xEFMaxMind.com", 14);

Result<bool> LooksLikeMmdb(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return Status::IoError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return Status::IoError(fmt::format("{}: cannot stat: {}", path, std::strerror(e)));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Status::IoError(fmt::format("{}: is a directory", path));
  }
  if (!S_ISREG(st.st_mode) || st.st_size < static_cast<off_t>(kMarker.size())) {
    ::close(fd);
    return false;
  }
  const size_t size = static_cast<size_t>(st.st_size);
  const size_t want = std::min<size_t>(size, 128 * 1024 + kMarker.size());
  std::string tail(want, '\0');
  size_t got = 0;
  while (got < want) {
    const ssize_t n =
        pread(fd, tail.data() + got, want - got, static_cast<off_t>(size - want + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      return Status::IoError(fmt::format("{}: read error: {}", path, std::strerror(e)));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  tail.resize(got);
  return tail.rfind(kMarker) != std::string::npos;
}

Result<std::unique_ptr<Source>> Load(const std::string& path, Kind kind) {
  FLUXSCORE_ASSIGN_OR_RETURN(bool mmdb, LooksLikeMmdb(path));
  if (mmdb) return OpenMmdb(path, kind);
  return LoadTable(path, kind);
}

}  // namespace

std::optional<uint32_t> CountryIndex(std::string_view code) {
  if (code.size() != 2) return std::nullopt;
  const int a = Letter(code[0]), b = Letter(code[1]);
  if (a < 0 || b < 0) return std::nullopt;
  return static_cast<uint32_t>(a * 26 + b);
}

std::string_view CountryCode(uint32_t index) {
  return std::string_view(kCodes.data() + 2 * index, 2);
}

V4Table V4Table::Merge(const std::vector<std::vector<V4Run>>& asn,
                       const std::vector<std::vector<V4Run>>& country) {
  // A sweep over the union of the runs' starts; at each, the first source with a value wins.
  std::vector<size_t> pa(asn.size(), 0), pc(country.size(), 0);  // each list's run in force
  auto first_known = [](const std::vector<std::vector<V4Run>>& lists, std::vector<size_t>& pos,
                        uint64_t x) {
    uint64_t v = kNoValue;
    for (size_t i = 0; i < lists.size(); ++i) {
      const std::vector<V4Run>& l = lists[i];
      while (pos[i] + 1 < l.size() && l[pos[i] + 1].start <= x) ++pos[i];
      if (v == kNoValue) v = l[pos[i]].value;
    }
    return v;
  };
  auto next_start = [](const std::vector<std::vector<V4Run>>& lists, const std::vector<size_t>& pos,
                       uint64_t next) {
    for (size_t i = 0; i < lists.size(); ++i)
      if (pos[i] + 1 < lists[i].size()) next = std::min<uint64_t>(next, lists[i][pos[i] + 1].start);
    return next;
  };
  std::vector<Segment> out;
  for (uint64_t x = 0; x <= UINT32_MAX;) {
    const uint64_t a = first_known(asn, pa, x), c = first_known(country, pc, x);
    const Segment s{static_cast<uint32_t>(x), a == kNoValue ? 0 : static_cast<uint32_t>(a),
                    c == kNoValue ? kNoCountry : static_cast<uint16_t>(c),
                    static_cast<uint16_t>(a != kNoValue)};
    if (out.empty() || out.back().asn != s.asn || out.back().country != s.country ||
        out.back().has_asn != s.has_asn)
      out.push_back(s);
    x = next_start(country, pc, next_start(asn, pa, uint64_t{1} << 32));
  }
  V4Table t;
  t.segs_.Assign(std::move(out));
  return t;
}

}  // namespace enrich_internal

struct Enricher::MergedV4 {
  std::once_flag once;
  std::unique_ptr<enrich_internal::V4Table> table;
};

Enricher::Enricher() = default;
Enricher::~Enricher() = default;
Enricher::Enricher(Enricher&&) noexcept = default;
Enricher& Enricher::operator=(Enricher&&) noexcept = default;

Status Enricher::AddAsnSource(const std::string& path) {
  FLUXSCORE_ASSIGN_OR_RETURN(auto src, enrich_internal::Load(path, enrich_internal::Kind::kAsn));
  asn_.push_back(std::move(src));
  v4_ = std::make_unique<MergedV4>();  // (merged again on the next lookup)
  return Status::Ok();
}

Status Enricher::AddCountrySource(const std::string& path) {
  FLUXSCORE_ASSIGN_OR_RETURN(auto src,
                             enrich_internal::Load(path, enrich_internal::Kind::kCountry));
  country_.push_back(std::move(src));
  v4_ = std::make_unique<MergedV4>();
  return Status::Ok();
}

const enrich_internal::V4Table* Enricher::V4() const {
  if (v4_ == nullptr) return nullptr;  // no source
  std::call_once(v4_->once, [this] {
    using enrich_internal::V4Run;
    std::vector<std::vector<V4Run>> asn(asn_.size()), country(country_.size());
    for (size_t i = 0; i < asn_.size(); ++i)
      if (!asn_[i]->ExportV4(&asn[i])) return;
    for (size_t i = 0; i < country_.size(); ++i)
      if (!country_[i]->ExportV4(&country[i])) return;
    v4_->table = std::make_unique<enrich_internal::V4Table>(enrich_internal::V4Table::Merge(asn, country));
  });
  return v4_->table.get();
}

IpInfo Enricher::Lookup(const IpAddr& a) const {
  IpInfo info;
  const enrich_internal::V4Table* v4 = a.is_v4() ? V4() : nullptr;
  if (v4 != nullptr) {
    const enrich_internal::V4Table::Segment& s = v4->Find(a.v4());
    info.has_asn = s.has_asn != 0;
    info.asn = s.asn;
    if (s.country != enrich_internal::V4Table::kNoCountry) {
      info.has_country = true;
      info.country = enrich_internal::CountryCode(s.country);
    }
    return info;
  }
  if (auto h = Asn(a)) {
    info.has_asn = true;
    info.asn = h->asn;
  }
  if (auto c = Country(a)) {
    info.has_country = true;
    info.country = *c;
  }
  return info;
}

std::optional<AsnHit> Enricher::Asn(const IpAddr& a) const {
  AsnHit hit;
  for (const auto& s : asn_)
    if (s->FindAsn(a, &hit)) return hit;
  return std::nullopt;
}

std::optional<std::string_view> Enricher::Country(const IpAddr& a) const {
  std::string_view code;
  for (const auto& s : country_)
    if (s->FindCountry(a, &code)) return code;
  return std::nullopt;
}

std::string Enricher::Describe() const {
  std::string out;
  for (const auto& s : asn_) out += "asn: " + s->Describe() + "\n";
  for (const auto& s : country_) out += "country: " + s->Describe() + "\n";
  if (const auto* v4 = V4()) out += fmt::format("IPv4 answers of all sources merged: {} segments\n", v4->size());
  return out;
}

}  // namespace fluxscore::dns
