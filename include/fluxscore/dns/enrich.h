// IP -> ASN (+ organisation) and IP -> country enrichment, IPv4 and IPv6.
//
// Sources (format detected from content, not from the file name):
//  - MaxMind DB (.mmdb; metadata marker "\xAB\xCD\xEFMaxMind.com" in the last 128 KiB), read
//    through libmaxminddb with the file memory-mapped.
//      ASN:     autonomous_system_number (+ autonomous_system_organization)   GeoLite2-ASN, DB-IP
//      country: country/iso_code, else registered_country/iso_code, else country_code
//               (the last is ip-location-db's own layout)
//    A record without those keys is no match (the next source is asked). An IPv4 address is
//    looked up as IPv4: in an IPv6 database that is the IPv4 subtree at ::/96 (libmaxminddb does
//    not alias ::ffff:0:0/96 itself and many databases have no alias), in an IPv4 database the
//    address itself; an IPv6 address in an IPv4-only database is no match.
//  - Range CSV (ip-location-db): "start,end,asn[,org]" (ASN) or "start,end,country" (country).
//    start/end are IPv4 or IPv6 text (both may appear in one file; IPv4 text stands for
//    ::ffff:a.b.c.d, all ranges live in one 128-bit space) or unsigned decimal integers
//    (the "-num" files). Integers are IPv4 addresses when every integer in the file is < 2^32,
//    otherwise 128-bit IPv6 values. Fields may be double-quoted ("" escapes a quote); org may be
//    empty or missing. An optional header (a first line whose first field starts with a letter,
//    '_' or '#' and is not an address) is skipped; a UTF-8 byte order mark is ignored. Blank
//    lines are skipped; any other malformed line is an error "path:line: message".
//  - Prefix table (pyasn ipasn_*.dat): "prefix/len<TAB or spaces>value", IPv4 and IPv6 prefixes;
//    value is the ASN (an "AS" prefix is accepted) or, for a country source, the country code.
//    Lines starting with ';' or '#' are comments. Host bits set after the prefix are an error.
//  CSV and prefix files may be gzip-compressed (read transparently).
//
// Overlapping ranges within one source: among the ranges that CONTAIN the address, the one with
// the greatest start wins; on equal starts the narrower (smaller end) one; on identical ranges
// the earlier line. ("The range with the greatest start at or below the address" restricted to
// ranges that still cover it.) So a narrower range nested in a wider one wins inside itself and
// the wider one applies again after it ends; for prefix tables this is longest-prefix match.
// Tables are flattened at load into non-overlapping segments (O(n log n)) and binary-searched.
//
// Several sources: consulted in the order added; the first that knows the address wins. An ASN
// of 0 in the data (iptoasn's "not routed") is returned as is.
//
// Lookup() answers both questions at once (the ASN without its organisation): for IPv4
// addresses from one table merged at load from every source's IPv4 answers (one search instead
// of one per source and question; MaxMind DBs are read off their search tree), else from the
// sources themselves. Its answers are those of Asn() and Country().
//
// Thread safety: Add*Source must not run concurrently with anything else on the same Enricher.
// After loading, the const lookups are thread-safe (no locks, no mutation). Returned string_views
// (organisation, country code) stay valid for the Enricher's lifetime (they point into tables it
// owns, into the memory-mapped database, or into a static table of country codes).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fluxscore/dns/ip.h"
#include "fluxscore/status.h"

namespace fluxscore::dns {

struct AsnHit {
  uint32_t asn = 0;
  std::string_view org;  // may be empty (prefix tables, sources without organisation)
};

// Lookup()'s answer.
struct IpInfo {
  bool has_asn = false;
  bool has_country = false;
  uint32_t asn = 0;
  std::string_view country;  // ISO 3166-1 alpha-2, upper case (when has_country)
};

namespace enrich_internal {
class Source;
class V4Table;
}

class Enricher {
 public:
  Enricher();
  ~Enricher();
  Enricher(Enricher&&) noexcept;
  Enricher& operator=(Enricher&&) noexcept;
  Enricher(const Enricher&) = delete;
  Enricher& operator=(const Enricher&) = delete;

  // Loads a source (see above). Errors: IoError (cannot open / read / not a known format),
  // DataError ("path:line: message" for malformed lines, corrupt databases).
  Status AddAsnSource(const std::string& path);
  Status AddCountrySource(const std::string& path);

  // nullopt: no source knows the address.
  std::optional<AsnHit> Asn(const IpAddr& a) const;
  // ISO 3166-1 alpha-2 code, upper case.
  std::optional<std::string_view> Country(const IpAddr& a) const;
  // Both (see above).
  IpInfo Lookup(const IpAddr& a) const;

  bool has_asn() const { return !asn_.empty(); }
  bool has_country() const { return !country_.empty(); }

  // One line per source ("asn: path: format, N entries, ..."), then the merged IPv4 table's size;
  // each line '\n'-terminated.
  std::string Describe() const;

 private:
  std::vector<std::unique_ptr<enrich_internal::Source>> asn_;
  std::vector<std::unique_ptr<enrich_internal::Source>> country_;
  // Every source's IPv4 answers merged into one table, built on the first lookup after a source
  // was added (once, also when several threads look up at once); its table is null when a
  // source cannot export its answers.
  struct MergedV4;
  std::unique_ptr<MergedV4> v4_;
  const enrich_internal::V4Table* V4() const;
};

}  // namespace fluxscore::dns
