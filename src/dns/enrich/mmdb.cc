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
#include <unordered_map>

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
    return Lookup(a, &entry) && DecodeAsn(entry, hit);
  }

  bool FindCountry(const IpAddr& a, std::string_view* code) const override {
    if (kind_ != Kind::kCountry) return false;
    MMDB_entry_s entry;
    if (!Lookup(a, &entry)) return false;
    const uint32_t v = CountryOfEntry(entry);
    if (v == kNoCountry) return false;
    *code = CountryCode(v);
    return true;
  }

  // The IPv4 answers, read off the tree: the IPv4 subtree (the whole tree of an IPv4 database,
  // the subtree at ::/96 of an IPv6 one, where Lookup sends IPv4 addresses) walked depth first,
  // each terminal record a run from its network's first address. The same answers as Lookup
  // for every address: an empty record, a corrupt or unreadable one and a tree deeper than 32
  // bits are no match, as they are for lookups. False (lookups then walk the tree) for a tree
  // whose IPv4 part is not a tree: one visiting more records than the database has.
  bool ExportV4(std::vector<V4Run>* runs) const override {
    const uint32_t node_count = db_.metadata.node_count;
    std::unordered_map<uint32_t, uint64_t> by_offset;  // data record -> value
    auto value_of = [&](const MMDB_entry_s& entry) {
      auto [it, fresh] = by_offset.try_emplace(entry.offset, kNoValue);
      if (fresh) {
        if (kind_ == Kind::kAsn) {
          AsnHit hit;
          if (DecodeAsn(entry, &hit, /*org=*/false)) it->second = hit.asn;
        } else {
          const uint32_t v = CountryOfEntry(entry);
          if (v != kNoCountry) it->second = v;
        }
      }
      return it->second;
    };
    uint32_t root = 0;  // of the IPv4 subtree
    if (db_.metadata.ip_version == 6) {
      const auto& start = db_.ipv4_start_node;  // computed by Open's first lookup
      if (start.netmask != 96 || start.node_value >= node_count) {
        // The walk down ::/96 ended early: one record answers for every IPv4 address.
        MMDB_entry_s entry;
        AppendRun(*runs, 0, Lookup(IpAddr::FromV4(0), &entry) ? value_of(entry) : kNoValue);
        return true;
      }
      root = start.node_value;
    }
    struct Item {
      uint64_t record;  // a node number (kSearch) or the record's entry (kData)
      uint8_t type;     // MMDB_RECORD_TYPE_*
      uint8_t depth;    // bits of the network
      uint32_t prefix;  // its first address
      MMDB_entry_s entry;
    };
    std::vector<Item> stack;
    stack.push_back({root, MMDB_RECORD_TYPE_SEARCH_NODE, 0, 0, {}});
    uint64_t visits = 0;
    const uint64_t limit = 2 * uint64_t{node_count} + 2;
    while (!stack.empty()) {
      const Item it = stack.back();
      stack.pop_back();
      if (++visits > limit) return false;
      MMDB_search_node_s node;
      if (it.type != MMDB_RECORD_TYPE_SEARCH_NODE || it.depth == 32 ||
          MMDB_read_node(&db_, static_cast<uint32_t>(it.record), &node) != MMDB_SUCCESS) {
        AppendRun(*runs, it.prefix, it.type == MMDB_RECORD_TYPE_DATA ? value_of(it.entry) : kNoValue);
        continue;
      }
      const uint8_t d = static_cast<uint8_t>(it.depth + 1);
      // Right (bit 1) below left: the left half's runs come first.
      stack.push_back({node.right_record, node.right_record_type, d,
                       it.prefix | static_cast<uint32_t>(uint64_t{1} << (32 - d)), node.right_record_entry});
      stack.push_back({node.left_record, node.left_record_type, d, it.prefix, node.left_record_entry});
    }
    return true;
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
  bool Lookup(const IpAddr& a, MMDB_entry_s* entry) const {
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
    if (err != MMDB_SUCCESS || !r.found_entry) return false;
    *entry = r.entry;
    return true;
  }

  // The ASN (and, if `org`, the organisation) of a data record; false when it has none.
  static bool DecodeAsn(MMDB_entry_s entry, AsnHit* hit, bool org = true) {
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
    if (org && MMDB_get_value(&entry, &o, "autonomous_system_organization", nullptr) == MMDB_SUCCESS &&
        o.has_data && o.type == MMDB_DATA_TYPE_UTF8_STRING) {
      // Points into the mapped file, valid while the database is open (the Enricher's lifetime).
      hit->org = std::string_view(o.utf8_string, o.data_size);
    }
    return true;
  }

  // The country index of a data record (kNoCountry: none), by the record's offset: databases
  // share one record among all the networks of a country, so decoding it (MMDB_aget_value's map
  // walks, most of a lookup's cost) is done once per record. Entries are (offset << 32 | index
  // + 1), one atomic word each, so concurrent const lookups stay safe.
  uint32_t CountryOfEntry(MMDB_entry_s entry) const {
    std::atomic<uint64_t>& slot = country_cache_[(entry.offset * 0x9E3779B1u) >> (32 - kCacheBits)];
    const uint64_t cached = slot.load(std::memory_order_relaxed);
    if (cached != 0 && (cached >> 32) == entry.offset) return static_cast<uint32_t>(cached) - 1;
    const uint32_t v = DecodeCountry(entry);
    slot.store((uint64_t{entry.offset} << 32) | (v + 1), std::memory_order_relaxed);
    return v;
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
};

}  // namespace

Result<std::unique_ptr<Source>> OpenMmdb(const std::string& path, Kind kind) {
  auto src = std::make_unique<MmdbSource>(path, kind);
  FLUXSCORE_RETURN_IF_ERROR(src->Open());
  return std::unique_ptr<Source>(std::move(src));
}

}  // namespace fluxscore::dns::enrich_internal
