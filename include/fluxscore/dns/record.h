// The canonical DNS record every reader produces (one logged response / transaction), and the
// ingest accounting every reader reports into: each input record is used or rejected with a
// reason, never dropped silently.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fluxscore/dns/ip.h"
#include "fluxscore/status.h"

namespace fluxscore::dns {

// DNS RR types the pipeline looks at (others keep their number).
inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypeNS = 2;
inline constexpr uint16_t kTypeCNAME = 5;
inline constexpr uint16_t kTypePTR = 12;
inline constexpr uint16_t kTypeMX = 15;
inline constexpr uint16_t kTypeTXT = 16;
inline constexpr uint16_t kTypeAAAA = 28;

struct Answer {
  uint16_t type = 0;     // RR type (for Zeek logs, inferred: see docs/features.md)
  uint32_t ttl = 0;      // seconds, as logged
  bool is_address = false;  // an A/AAAA answer whose data parsed as an address
  IpAddr addr;           // when is_address
  std::string data;      // the RR data as text (address, target name, ...); empty from the
                         // Zeek readers when the sink does not want it (RecordSink)
};

struct DnsRecord {
  double ts = 0;             // seconds since the epoch
  bool has_client = false;
  IpAddr client;             // who asked (Zeek id.orig_h; pcap: destination of the response)
  bool has_resolver = false;
  IpAddr resolver;           // who answered
  std::string qname;         // lower-cased ASCII, one trailing dot removed
  uint16_t qtype = 0;        // 0 = unknown
  int32_t rcode = -1;        // -1 = unknown
  std::vector<Answer> answers;  // answer section, in order
};

// Where a record came from: file name and line (text formats) or packet number (pcap).
struct SourcePos {
  std::string_view file;
  uint64_t line = 0;
};

// The first max_bytes of untrusted text (a field of a rejected record) for a message: valid
// UTF-8 kept, control characters (C0, DEL, C1) as '?', other bytes as \xNN; "..." when the
// text goes on.
std::string Printable(std::string_view text, size_t max_bytes);

// Counts by reason; keeps the first few rejections with their positions; in strict mode the
// first rejection becomes an error.
class IngestStats {
 public:
  explicit IngestStats(bool strict = false, size_t keep_first = 10)
      : strict_(strict), keep_first_(keep_first) {}

  uint64_t read = 0;  // records read (lines/packets that carry a record)
  uint64_t used = 0;  // records handed to the sink
  // Non-record input that was skipped on purpose (comment/header lines, DNS queries, non-DNS
  // packets), by kind: reported, not counted as rejected.
  std::map<std::string, uint64_t> skipped;

  // Records one rejected record. Returns an error (with the position) in strict mode.
  Status Reject(SourcePos pos, std::string_view reason, std::string_view detail = {});
  void Skip(std::string_view kind, uint64_t n = 1) { skipped[std::string(kind)] += n; }

  uint64_t rejected_total() const;
  const std::map<std::string, uint64_t>& rejected() const { return rejected_; }
  const std::vector<std::string>& first_rejections() const { return first_; }
  bool strict() const { return strict_; }

  void Merge(const IngestStats& other);

 private:
  bool strict_;
  size_t keep_first_;
  std::map<std::string, uint64_t> rejected_;
  std::vector<std::string> first_;
};

// Receives records from a reader.
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual void Add(const DnsRecord& r) = 0;
  // Whether Add reads Answer::data. A sink that does not (the feature aggregator) says false, and
  // the Zeek readers then leave every answer's data empty instead of copying its text (a large
  // part of their cost per line); all other fields are filled as usual. Asked once per input.
  virtual bool wants_answer_data() const { return true; }
};

// Lower-cases ASCII letters and removes one trailing dot. Returns false (and leaves `out`
// unspecified) for names that cannot be DNS names: empty, longer than 253 bytes (after the
// dot is removed), a label longer than 63 bytes or empty, control characters, spaces, or
// bytes that are not valid UTF-8.
bool NormalizeName(std::string_view in, std::string& out);

}  // namespace fluxscore::dns
