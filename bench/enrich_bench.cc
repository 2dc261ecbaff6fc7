// Google Benchmark: IP -> ASN and IP -> country lookups (Finish does both for each distinct
// answer address of each row), on the real ip-location-db data of scripts/fetch-ipdata.sh
// (skipped when data/ipdb/ is absent). 1M random IPv4 addresses from a fixed seed: lookups
// spread over the whole table, as a day's answer addresses do. BM_AsnAndCountry* load what
// bench/dns_ingest.sh loads and ask both questions per address, per source (Asn + Country) or
// through the merged IPv4 table (Lookup).
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "fluxscore/dns/enrich.h"

namespace {

using fluxscore::dns::Enricher;
using fluxscore::dns::IpAddr;

const std::string kIpdb = FLUXSCORE_SOURCE_DIR "/data/ipdb/";

std::vector<IpAddr> RandomV4(size_t n) {
  std::mt19937 rng(7);
  std::vector<IpAddr> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(IpAddr::FromV4(static_cast<uint32_t>(rng())));
  return out;
}

// Random IPv6 addresses in 2000::/4, where the allocated blocks are.
std::vector<IpAddr> RandomV6(size_t n) {
  std::mt19937_64 rng(7);
  std::vector<IpAddr> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const unsigned __int128 hi = (rng() >> 4) | (uint64_t{2} << 60);
    out.push_back(IpAddr::FromU128(hi << 64 | rng()));
  }
  return out;
}

void Lookups(benchmark::State& state, const std::string& file, bool asn, bool v6 = false) {
  Enricher e;
  const auto st = asn ? e.AddAsnSource(kIpdb + file) : e.AddCountrySource(kIpdb + file);
  if (!st.ok()) {
    std::string msg = "no ";
    msg.append(kIpdb).append(file).append(" (scripts/fetch-ipdata.sh): ").append(st.message());
    state.SkipWithError(msg.c_str());
    return;
  }
  const std::vector<IpAddr> ips = v6 ? RandomV6(1 << 20) : RandomV4(1 << 20);
  for (auto _ : state) {
    size_t found = 0;
    for (const IpAddr& ip : ips) found += asn ? e.Asn(ip).has_value() : e.Country(ip).has_value();
    benchmark::DoNotOptimize(found);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * ips.size()));
}

void BM_AsnRangeCsvV4(benchmark::State& state) { Lookups(state, "asn-ipv4.csv", true); }
void BM_CountryMmdbV4(benchmark::State& state) { Lookups(state, "iptoasn-country.mmdb", false); }
void BM_AsnRangeCsvV6(benchmark::State& state) { Lookups(state, "asn-ipv6.csv", true, true); }
void BM_CountryMmdbV6(benchmark::State& state) { Lookups(state, "iptoasn-country.mmdb", false, true); }

void BothQuestions(benchmark::State& state, bool merged) {
  Enricher e;
  for (const char* f : {"asn-ipv4.csv", "asn-ipv6.csv", "iptoasn-country.mmdb"}) {
    const std::string path = kIpdb + f;
    const auto st = std::string_view(f).starts_with("asn") ? e.AddAsnSource(path) : e.AddCountrySource(path);
    if (!st.ok()) {
      const std::string msg = "no " + path + " (scripts/fetch-ipdata.sh): " + st.message();
      state.SkipWithError(msg.c_str());
      return;
    }
  }
  const std::vector<IpAddr> ips = RandomV4(1 << 20);
  for (auto _ : state) {
    size_t found = 0;
    for (const IpAddr& ip : ips) {
      if (merged) {
        const auto info = e.Lookup(ip);
        found += info.has_asn + info.has_country;
      } else {
        found += e.Asn(ip).has_value() + e.Country(ip).has_value();
      }
    }
    benchmark::DoNotOptimize(found);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * ips.size()));
}
void BM_AsnAndCountryPerSource(benchmark::State& state) { BothQuestions(state, false); }
void BM_AsnAndCountryMerged(benchmark::State& state) { BothQuestions(state, true); }

}  // namespace

BENCHMARK(BM_AsnRangeCsvV4)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CountryMmdbV4)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AsnRangeCsvV6)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CountryMmdbV6)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AsnAndCountryPerSource)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AsnAndCountryMerged)->Unit(benchmark::kMillisecond);
