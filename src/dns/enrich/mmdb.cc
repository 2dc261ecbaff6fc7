// MaxMind DB sources through libmaxminddb (memory-mapped).

#include <arpa/inet.h>
#include <fmt/format.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cstring>
#include <ctime>
#include <memory>

#include "dns/enrich/source.h"

namespace fluxscore::dns::enrich_internal {

namespace {

class MmdbSource final : public Source {
 public:
  MmdbSource(std::string path, Kind kind) : path_(std::move(path)), kind_(kind) {}
  ~MmdbSource() override {
    if (open_) MMDB_close(&db_);
  }
  MmdbSource(const MmdbSource&) = delete;
  MmdbSource& operator=(const MmdbSource&) = delete;

  Status Open() {
    const int rc = MMDB_open(path_.c_str(), MMDB_MODE_MMAP, &db_);
    if (rc != MMDB_SUCCESS) {
      if (rc == MMDB_IO_ERROR)
        return Status::IoError(fmt::format("{}: cannot open MaxMind DB: {} ({})", path_,
                                           MMDB_strerror(rc), std::strerror(errno)));
      return Status::DataError(
          fmt::format("{}: cannot open MaxMind DB: {}", path_, MMDB_strerror(rc)));
    }
    open_ = true;
    // One IPv4 lookup up front: old libmaxminddb versions computed the IPv4 start node lazily on
    // the first IPv4 lookup (a write), which must not happen in concurrent const lookups.
    MMDB_entry_s entry;
    (void)Lookup(IpAddr::FromV4(0), &entry);
    return Status::Ok();
  }

  bool FindAsn(const IpAddr& a, AsnHit* hit) const override {
    if (kind_ != Kind::kAsn) return false;
    MMDB_entry_s entry;
    if (!Lookup(a, &entry)) return false;
    MMDB_entry_data_s d;
    if (MMDB_get_value(&entry, &d, "autonomous_system_number", nullptr) != MMDB_SUCCESS ||
        !d.has_data)
      return false;
    uint64_t asn;
    switch (d.type) {
      case MMDB_DATA_TYPE_UINT16:
        asn = d.uint16;
        break;
      case MMDB_DATA_TYPE_UINT32:
        asn = d.uint32;
        break;
      case MMDB_DATA_TYPE_UINT64:
        asn = d.uint64;
        break;
      case MMDB_DATA_TYPE_INT32:
        if (d.int32 < 0) return false;
        asn = static_cast<uint64_t>(d.int32);
        break;
      default:
        return false;
    }
    if (asn > UINT32_MAX) return false;
    hit->asn = static_cast<uint32_t>(asn);
    hit->org = {};
    MMDB_entry_data_s o;
    if (MMDB_get_value(&entry, &o, "autonomous_system_organization", nullptr) == MMDB_SUCCESS &&
        o.has_data && o.type == MMDB_DATA_TYPE_UTF8_STRING) {
      // Points into the mapped file, valid while the database is open (the Enricher's lifetime).
      hit->org = std::string_view(o.utf8_string, o.data_size);
    }
    return true;
  }

  bool FindCountry(const IpAddr& a, std::string_view* code) const override {
    if (kind_ != Kind::kCountry) return false;
    const uint32_t v = a.is_v4() ? CountryOfV4(a) : CountryOfRecord(a, nullptr);
    if (v == kNoCountry) return false;
    *code = CountryCode(v);
    return true;
  }
  // The country index of an IPv4 address (kNoCountry: none). A lookup also tells the prefix
  // length of the network the address fell in (found or not), and every address of that network
  // has the same answer: networks of /16 or wider are remembered per /16, of /17 to /24 per /24
  // (direct-mapped, tagged), so most lookups of a log's answers skip the tree walk. Exact: an
  // entry is only ever written for a block that lies wholly inside one network. Entries are single
  // atomic words, as in the record cache, so concurrent const lookups stay safe.
  uint32_t CountryOfV4(const IpAddr& a) const {
    const uint32_t v = (uint32_t{a.bytes[12]} << 24) | (uint32_t{a.bytes[13]} << 16) |
                       (uint32_t{a.bytes[14]} << 8) | a.bytes[15];
    const uint32_t whole16 = by16_[v >> 16].load(std::memory_order_relaxed);
    if (whole16 != 0) return whole16 - 1;
    const uint32_t k24 = v >> 8;
    std::atomic<uint64_t>& slot = by24_[(k24 * 0x9E3779B1u) >> (32 - kBy24Bits)];
    const uint64_t cached = slot.load(std::memory_order_relaxed);
    if (cached != 0 && (cached >> 32) == k24 + 1) return static_cast<uint32_t>(cached) - 1;
    int prefix = -1;
    const uint32_t c = CountryOfRecord(a, &prefix);
    if (prefix >= 0 && prefix <= 16) {
      by16_[v >> 16].store(c + 1, std::memory_order_relaxed);
    } else if (prefix >= 0 && prefix <= 24) {
      slot.store((uint64_t{k24 + 1} << 32) | (c + 1), std::memory_order_relaxed);
    }
    return c;
  }

  // The country index of an address by a tree walk (kNoCountry: none); *v4_prefix (optional) gets
  // the IPv4 prefix length of the network the address fell in, -1 when unknown.
  uint32_t CountryOfRecord(const IpAddr& a, int* v4_prefix) const {
    MMDB_entry_s entry;
    int netmask = -1;
    const bool found = Lookup(a, &entry, &netmask);
    if (v4_prefix != nullptr) {
      // An IPv4 lookup in an IPv6 database reports the netmask in the IPv6 tree (96 + prefix).
      const int prefix = db_.metadata.ip_version == 6 ? netmask - 96 : netmask;
      *v4_prefix = prefix >= 0 && prefix <= 32 ? prefix : -1;
    }
    if (!found) return kNoCountry;
    // The country of a data record, by the record's offset: databases share one record among
    // all the networks of a country, so decoding it (MMDB_aget_value's map walks, most of a
    // lookup's cost) is done once per record. Entries are (offset << 32 | index + 1), one atomic
    // word each, so concurrent const lookups stay safe.
    std::atomic<uint64_t>& slot = country_cache_[(entry.offset * 0x9E3779B1u) >> (32 - kCacheBits)];
    const uint64_t cached = slot.load(std::memory_order_relaxed);
    if (cached != 0 && (cached >> 32) == entry.offset) return static_cast<uint32_t>(cached) - 1;
    const uint32_t v = DecodeCountry(entry);
    slot.store((uint64_t{entry.offset} << 32) | (v + 1), std::memory_order_relaxed);
    return v;
  }

  std::string Describe() const override {
    const auto& m = db_.metadata;
    char when[32] = "?";
    const time_t t = static_cast<time_t>(m.build_epoch);
    struct tm tm;
    if (gmtime_r(&t, &tm) != nullptr) strftime(when, sizeof when, "%Y-%m-%d", &tm);
    return fmt::format("{}: MaxMind DB '{}', IPv{}, {}-bit records, {} nodes, built {}", path_,
                       m.database_type != nullptr ? m.database_type : "", m.ip_version,
                       m.record_size, m.node_count, when);
  }

 private:
  // IPv4 (mapped) addresses are looked up as IPv4: libmaxminddb then walks the IPv4 subtree at
  // ::/96 of an IPv6 database. Looking up ::ffff:a.b.c.d as IPv6 finds nothing in databases
  // without the ::ffff:0:0/96 alias (ip-location-db's, for one).
  bool Lookup(const IpAddr& a, MMDB_entry_s* entry, int* netmask = nullptr) const {
    int err = MMDB_SUCCESS;
    MMDB_lookup_result_s r;
    if (a.is_v4()) {
      sockaddr_in sin{};
      sin.sin_family = AF_INET;
      std::memcpy(&sin.sin_addr, a.bytes.data() + 12, 4);
      r = MMDB_lookup_sockaddr(&db_, reinterpret_cast<const sockaddr*>(&sin), &err);
    } else {
      if (db_.metadata.ip_version != 6) return false;
      sockaddr_in6 sin6{};
      sin6.sin6_family = AF_INET6;
      std::memcpy(&sin6.sin6_addr, a.bytes.data(), 16);
      r = MMDB_lookup_sockaddr(&db_, reinterpret_cast<const sockaddr*>(&sin6), &err);
    }
    if (err != MMDB_SUCCESS) return false;
    if (netmask != nullptr) *netmask = r.netmask;
    if (!r.found_entry) return false;
    *entry = r.entry;
    return true;
  }

  static constexpr uint32_t kNoCountry = 0xFFFF;
  // The country index of a data record, kNoCountry when it has none.
  static uint32_t DecodeCountry(MMDB_entry_s entry) {
    static const char* const kPaths[3][3] = {{"country", "iso_code", nullptr},
                                             {"registered_country", "iso_code", nullptr},
                                             {"country_code", nullptr, nullptr}};
    for (const auto& path : kPaths) {
      MMDB_entry_data_s d;
      if (MMDB_aget_value(&entry, &d, path) != MMDB_SUCCESS || !d.has_data ||
          d.type != MMDB_DATA_TYPE_UTF8_STRING)
        continue;
      auto idx = CountryIndex(std::string_view(d.utf8_string, d.data_size));
      if (!idx) continue;
      return *idx;
    }
    return kNoCountry;
  }

  static constexpr unsigned kCacheBits = 12;
  std::string path_;
  Kind kind_;
  MMDB_s db_{};
  bool open_ = false;
  mutable std::array<std::atomic<uint64_t>, size_t{1} << kCacheBits> country_cache_{};
  // IPv4 answers by network (CountryOfV4): country index + 1 per /16 (0: not known whole), and
  // (/24 + 1) << 32 | (country index + 1) per /24 slot. 256 KiB + 2 MiB, allocated once.
  static constexpr unsigned kBy24Bits = 18;
  std::unique_ptr<std::atomic<uint32_t>[]> by16_ = std::make_unique<std::atomic<uint32_t>[]>(size_t{1} << 16);
  std::unique_ptr<std::atomic<uint64_t>[]> by24_ = std::make_unique<std::atomic<uint64_t>[]>(size_t{1} << kBy24Bits);
};

}  // namespace

Result<std::unique_ptr<Source>> OpenMmdb(const std::string& path, Kind kind) {
  auto src = std::make_unique<MmdbSource>(path, kind);
  FLUXSCORE_RETURN_IF_ERROR(src->Open());
  return std::unique_ptr<Source>(std::move(src));
}

}  // namespace fluxscore::dns::enrich_internal
