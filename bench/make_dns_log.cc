// Writes a synthetic Zeek dns.log (TSV) for ingest benchmarks: realistic cardinality (a
// popular head of names and a long tail of one-shot names, so that 10M lines carry over 1M
// distinct names), 1-8 answers per response, CNAME chains, mixed TTLs, NXDOMAINs, IPv6.
// Deterministic by seed. Usage: fluxscore_make_dns_log LINES [SEED] [tsv|json] > dns.log
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s LINES [SEED]\n", argv[0]);
    return 2;
  }
  const uint64_t lines = std::strtoull(argv[1], nullptr, 10);
  const uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1;
  const bool json = argc > 3 && std::string(argv[3]) == "json";
  std::mt19937_64 rng(seed);
  if (!json) std::printf(
      "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"
      "#open\t2026-11-28-00-00-00\n"
      "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\t"
      "qclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\t"
      "rejected\n"
      "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\t"
      "count\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\t"
      "vector[interval]\tbool\n");
  static const char* kTlds[] = {"com", "net", "org", "de", "ru", "co.uk", "info", "io"};
  static const char* kWords[] = {"mail", "www", "cdn", "api", "static", "img", "login", "shop",
                                 "news", "travel", "astro", "cloud", "edge", "app", "video"};
  static const uint32_t kTtls[] = {20, 30, 60, 60, 120, 300, 300, 600, 3600, 86400};
  std::string line, name, answers, ttls;
  double ts = 1795996800.0;  // 2026-11-28 00:00 UTC
  for (uint64_t i = 0; i < lines; ++i) {
    ts += 0.0086 * static_cast<double>(rng() % 1000) / 500.0;  // ~10M lines per day
    const uint64_t r = rng();
    // 85% of lines hit 200k popular names (skewed), 15% are one-shot tail names.
    name.clear();
    if (r % 100 < 85) {
      uint64_t k = rng() % 200000;
      k = k * k / 200000;  // skew towards small k
      name = std::string(kWords[k % 15]) + "." + "site" + std::to_string(k) + "." + kTlds[k % 8];
    } else {
      name = "t" + std::to_string(rng() % 100000000000ULL) + ".tail" + std::to_string(rng() % 5000) +
             "." + kTlds[rng() % 8];
    }
    const bool nx = rng() % 20 == 0;
    const bool v6 = rng() % 10 == 0;
    answers.clear();
    ttls.clear();
    if (!nx) {
      const uint32_t ttl = kTtls[rng() % 10];
      if (rng() % 4 == 0) {
        answers = "edge" + std::to_string(rng() % 1000) + ".cdn-example.net";
        ttls = "3600.000000";
      }
      const int n = 1 + static_cast<int>(rng() % 8);
      for (int k = 0; k < n; ++k) {
        char ip[64];
        const uint64_t h = std::hash<std::string>()(name) + (rng() % 16);
        if (v6) {
          std::snprintf(ip, sizeof ip, "2001:db8:%x::%x", static_cast<unsigned>(h & 0xffff),
                        static_cast<unsigned>((h >> 16) & 0xffff));
        } else {
          std::snprintf(ip, sizeof ip, "%u.%u.%u.%u", static_cast<unsigned>(1 + (h >> 8) % 223),
                        static_cast<unsigned>((h >> 16) & 255), static_cast<unsigned>((h >> 24) & 255),
                        static_cast<unsigned>(h & 255));
        }
        if (!answers.empty()) {
          answers += ',';
          ttls += ',';
        }
        answers += ip;
        ttls += std::to_string(ttl) + ".000000";
      }
    }
    if (json) {
      // The same record as Zeek's JSON writer puts it (unset fields omitted).
      char head[200];
      std::snprintf(head, sizeof head,
                    "{\"ts\":%.6f,\"uid\":\"C%08" PRIx64 "\",\"id.orig_h\":\"10.%u.%u.%u\","
                    "\"id.orig_p\":%u,\"id.resp_h\":\"10.53.0.1\",\"id.resp_p\":53,"
                    "\"proto\":\"udp\",\"trans_id\":%u,\"rtt\":0.001,\"query\":\"",
                    ts, rng() & 0xffffffff, static_cast<unsigned>(rng() % 4),
                    static_cast<unsigned>(rng() % 256), static_cast<unsigned>(rng() % 256),
                    static_cast<unsigned>(1024 + rng() % 60000), static_cast<unsigned>(rng() % 65536));
      line = head;
      line += name;
      line += v6 ? "\",\"qclass\":1,\"qclass_name\":\"C_INTERNET\",\"qtype\":28,\"qtype_name\":\"AAAA\""
                 : "\",\"qclass\":1,\"qclass_name\":\"C_INTERNET\",\"qtype\":1,\"qtype_name\":\"A\"";
      line += nx ? ",\"rcode\":3,\"rcode_name\":\"NXDOMAIN\"" : ",\"rcode\":0,\"rcode_name\":\"NOERROR\"";
      line += ",\"AA\":false,\"TC\":false,\"RD\":true,\"RA\":true,\"Z\":0";
      if (!answers.empty()) {
        line += ",\"answers\":[\"";
        for (char c : answers) line += c == ',' ? std::string("\",\"") : std::string(1, c);
        line += "\"],\"TTLs\":[";
        for (size_t p = 0; p < ttls.size(); ++p) {
          // "60.000000" -> 60.0
          if (ttls.compare(p, 7, ".000000") == 0) {
            line += ".0";
            p += 6;
          } else {
            line += ttls[p];
          }
        }
        line += "]";
      }
      line += ",\"rejected\":false}\n";
      std::fwrite(line.data(), 1, line.size(), stdout);
      continue;
    }
    char head[160];
    std::snprintf(head, sizeof head, "%.6f\tC%08" PRIx64 "\t10.%u.%u.%u\t%u\t10.53.0.1\t53\tudp\t%u\t0.001\t",
                  ts, rng() & 0xffffffff, static_cast<unsigned>(rng() % 4),
                  static_cast<unsigned>(rng() % 256), static_cast<unsigned>(rng() % 256),
                  static_cast<unsigned>(1024 + rng() % 60000), static_cast<unsigned>(rng() % 65536));
    line = head;
    line += name;
    line += v6 ? "\t1\tC_INTERNET\t28\tAAAA\t" : "\t1\tC_INTERNET\t1\tA\t";
    line += nx ? "3\tNXDOMAIN" : "0\tNOERROR";
    line += "\tF\tF\tT\tT\t0\t";
    line += answers.empty() ? "(empty)" : answers;
    line += '\t';
    line += ttls.empty() ? "(empty)" : ttls;
    line += "\tF\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
  if (!json) std::printf("#close\t2026-11-29-00-00-00\n");
  return 0;
}
