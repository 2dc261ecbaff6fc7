// Zeek TSV / JSON and passivedns readers, format detection, gzip, bad records.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <random>
#include <fstream>
#include <string>
#include <vector>

#include "fluxscore/dns/ingest.h"
#include "../temp_files.h"

namespace fluxscore::dns {
namespace {

struct Collect : RecordSink {
  std::vector<DnsRecord> recs;
  void Add(const DnsRecord& r) override { recs.push_back(r); }
};

using test::TempPath;
std::string TempFile(const std::string& name, const std::string& content) {
  return test::WriteTempFile(name, content);
}

std::string GzFile(const std::string& name, const std::string& content, size_t cut = 0) {
  std::string path = TempPath(name);
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, content.data(), static_cast<unsigned>(content.size()));
  gzclose(f);
  if (cut > 0) {  // truncate the compressed file
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() - cut);
  }
  return path;
}

const char* kZeekHeader =
    "#separator \\x09\n"
    "#set_separator\t,\n"
    "#empty_field\t(empty)\n"
    "#unset_field\t-\n"
    "#path\tdns\n"
    "#open\t2019-01-17-17-43-56\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\t"
    "qclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\t"
    "rejected\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\t"
    "count\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\t"
    "vector[interval]\tbool\n";

std::string ZeekLine(const std::string& ts, const std::string& client, const std::string& query,
                     const std::string& qtype, const std::string& rcode, const std::string& answers,
                     const std::string& ttls) {
  return ts + "\tCx1\t" + client + "\t5353\t10.0.0.1\t53\tudp\t1\t0.01\t" + query +
         "\t1\tC_INTERNET\t" + qtype + "\tA\t" + rcode + "\tNOERROR\tF\tF\tT\tT\t0\t" + answers +
         "\t" + ttls + "\tF\n";
}

TEST(ZeekTsvTest, ReadsRecordsWithCnamesAddressesAndEmptyVectors) {
  std::string log = std::string(kZeekHeader) +
                    ZeekLine("1547747036.100000", "192.168.1.5", "WWW.Example.COM.", "1", "0",
                             "edge.cdn.example.net,93.184.216.34,2606:2800:220:1::248",
                             "300.000000,20.000000,20.000000") +
                    ZeekLine("1547747037.5", "192.168.1.6", "nx.example.org", "1", "3", "(empty)",
                             "(empty)") +
                    ZeekLine("1547747038", "192.168.1.7", "txt.example.org", "16", "0",
                             "TXT 11 hello\\x2cworld", "60.000000") +
                    "#close\t2019-01-17-18-00-00\n";
  Collect sink;
  IngestStats stats;
  LogFormat used;
  ASSERT_TRUE(ReadLog(TempFile("a.log", log), LogFormat::kAuto, sink, stats, nullptr, &used).ok());
  EXPECT_EQ(used, LogFormat::kZeekTsv);
  ASSERT_EQ(sink.recs.size(), 3u);
  EXPECT_EQ(stats.read, 3u);
  EXPECT_EQ(stats.used, 3u);
  EXPECT_EQ(stats.rejected_total(), 0u);
  const DnsRecord& r = sink.recs[0];
  EXPECT_EQ(r.qname, "www.example.com");
  EXPECT_DOUBLE_EQ(r.ts, 1547747036.1);
  EXPECT_EQ(r.client.ToString(), "192.168.1.5");
  EXPECT_EQ(r.qtype, 1);
  EXPECT_EQ(r.rcode, 0);
  ASSERT_EQ(r.answers.size(), 3u);
  EXPECT_EQ(r.answers[0].type, kTypeCNAME);
  EXPECT_FALSE(r.answers[0].is_address);
  EXPECT_EQ(r.answers[0].ttl, 300u);
  EXPECT_TRUE(r.answers[1].is_address);
  EXPECT_EQ(r.answers[1].type, kTypeA);
  EXPECT_EQ(r.answers[1].addr.ToString(), "93.184.216.34");
  EXPECT_EQ(r.answers[2].type, kTypeAAAA);
  EXPECT_EQ(r.answers[2].ttl, 20u);
  EXPECT_EQ(sink.recs[1].rcode, 3);
  EXPECT_TRUE(sink.recs[1].answers.empty());
  ASSERT_EQ(sink.recs[2].answers.size(), 1u);
  EXPECT_EQ(sink.recs[2].answers[0].type, kTypeTXT);
  EXPECT_EQ(sink.recs[2].answers[0].data, "TXT 11 hello,world");  // \x2c unescaped
}

// Zeek's ASCII writer with the filter option tsv=T writes one line of field names and no #
// lines: the format is told from it, and the records read as under the full header, also when
// such a file and a usual one are concatenated.
TEST(ZeekTsvTest, OneLineOfFieldNamesAsZeekWritesWithTsvTrue) {
  const std::string fields =
      "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\t"
      "qclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected\n";
  const std::string records =
      ZeekLine("1547747036.100000", "192.168.1.5", "a.example", "1", "0", "1.2.3.4,5.6.7.8",
               "60.000000,60.000000") +
      ZeekLine("1547747037.000000", "-", "b.example", "1", "-", "(empty)", "(empty)");
  Collect full, names_only, both;
  IngestStats s1, s2, s3;
  LogFormat used;
  ASSERT_TRUE(ReadLog(TempFile("full.log", kZeekHeader + records), LogFormat::kAuto, full, s1).ok());
  ASSERT_TRUE(ReadLog(TempFile("tsv.log", fields + records), LogFormat::kAuto, names_only, s2, nullptr, &used).ok());
  EXPECT_EQ(used, LogFormat::kZeekTsv);
  ASSERT_TRUE(ReadLog(TempFile("both.log", fields + records + kZeekHeader + records), LogFormat::kAuto, both, s3).ok());
  ASSERT_EQ(full.recs.size(), 2u);
  ASSERT_EQ(names_only.recs.size(), 2u);
  ASSERT_EQ(both.recs.size(), 4u);
  EXPECT_EQ(s2.rejected_total() + s3.rejected_total(), 0u);
  for (size_t i = 0; i < 4; ++i) {
    const DnsRecord &a = i < 2 ? names_only.recs[i] : both.recs[i], &b = full.recs[i % 2];
    EXPECT_EQ(a.ts, b.ts);
    EXPECT_EQ(a.qname, b.qname);
    EXPECT_EQ(a.has_client, b.has_client);
    EXPECT_EQ(a.rcode, b.rcode);
    EXPECT_EQ(a.answers.size(), b.answers.size());
  }
  EXPECT_EQ(full.recs[1].rcode, -1);
  EXPECT_EQ(full.recs[0].answers.size(), 2u);
  // A line of names without `query` is not a dns.log: an error that names the line.
  Collect none;
  IngestStats s4;
  Status st = ReadLog(TempFile("conn.log", "ts\tuid\tid.orig_h\n1.0\tC\t10.0.0.1\n"), LogFormat::kZeekTsv, none, s4);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("conn.log:1: the line of field names has no `ts` or no `query`"), std::string::npos)
      << st.message();
  // After a header, such a line is a record (with a bad ts); a record's first field is only taken
  // for names when the header's first field is ts.
  Collect after;
  IngestStats s5;
  const std::string query_first = "#fields\tquery\tts\n" "ts\t1.0\n" "a.example\t2.0\n";
  const std::string bad_ts = ZeekLine("ts", "10.0.0.1", "c.example", "1", "0", "1.2.3.4", "60.000000");
  ASSERT_TRUE(ReadLog(TempFile("after.log", fields + records + bad_ts + std::string(kZeekHeader) + records + query_first),
                      LogFormat::kZeekTsv, after, s5)
                  .ok());
  ASSERT_EQ(after.recs.size(), 6u);
  EXPECT_EQ(s5.rejected_total(), 1u);
  EXPECT_EQ(s5.rejected().at("bad ts"), 1u);
  EXPECT_EQ(after.recs[4].qname, "ts");
  EXPECT_EQ(after.recs[5].qname, "a.example");
}

TEST(ZeekTsvTest, BadRecordsAreCountedByReasonWithTheirLines) {
  std::string long_name(4096, 'a');
  std::string log = std::string(kZeekHeader) +
                    ZeekLine("1.0", "10.1.1.1", "ok.example", "1", "0", "1.2.3.4", "60") +  // line 9
                    "1.0\tonly\tthree\n" +                                                 // 10
                    ZeekLine("x", "10.1.1.1", "a.example", "1", "0", "1.2.3.4", "60") +    // 11
                    ZeekLine("1.0", "10.1.1.1", long_name, "1", "0", "1.2.3.4", "60") +    // 12
                    ZeekLine("1.0", "10.1.1.1", "bad\xff\xfe.example", "1", "0", "-", "-") + // 13
                    ZeekLine("1.0", "10.1.1.1", "b.example", "1", "0", "1.2.3.4,5.6.7.8", "60") + // 14
                    ZeekLine("1.0", "10.1.1.1", "c.example", "1", "0", "1.2.3.4", "6e1x") +  // 15
                    ZeekLine("1.0", "999.1.1.1", "d.example", "1", "0", "1.2.3.4", "60") +   // 16
                    ZeekLine("1.0", "10.1.1.1", "e.example", "1", "0", "1.2.3.4", "-5") +    // 17
                    ZeekLine("1.0", "10.1.1.1", "f.example", "1", "0", "999.1.1.1", "60") +  // 18
                    ZeekLine("1.0", "10.1.1.1", "g.example", "28", "0", "2001:db8::1::2", "60") + // 19
                    ZeekLine("1e50", "10.1.1.1", "h.example", "1", "0", "1.2.3.4", "60");    // 20: ts out of range
  Collect sink;
  IngestStats stats;
  ASSERT_TRUE(ReadLog(TempFile("bad.log", log), LogFormat::kZeekTsv, sink, stats).ok());
  EXPECT_EQ(sink.recs.size(), 1u);
  EXPECT_EQ(stats.read, 12u);
  EXPECT_EQ(stats.used, 1u);
  EXPECT_EQ(stats.rejected_total(), 11u);
  EXPECT_EQ(stats.rejected().at("bad address answer"), 2u);
  const auto& by = stats.rejected();
  EXPECT_EQ(by.at("wrong field count"), 1u);
  EXPECT_EQ(by.at("bad ts"), 2u);
  EXPECT_EQ(by.at("bad query name"), 2u);
  EXPECT_EQ(by.at("answers and TTLs differ in length"), 1u);
  EXPECT_EQ(by.at("bad TTL"), 2u);
  EXPECT_EQ(by.at("bad client address"), 1u);
  ASSERT_GE(stats.first_rejections().size(), 2u);
  EXPECT_NE(stats.first_rejections()[0].find("bad.log:10: wrong field count"), std::string::npos)
      << stats.first_rejections()[0];
  EXPECT_NE(stats.first_rejections()[1].find("bad.log:11: bad ts"), std::string::npos);
}

TEST(ZeekTsvTest, StrictStopsAtTheFirstBadRecord) {
  std::string log = std::string(kZeekHeader) + "1.0\tonly\tthree\n" +
                    ZeekLine("1.0", "10.1.1.1", "ok.example", "1", "0", "1.2.3.4", "60");
  Collect sink;
  IngestStats stats(/*strict=*/true);
  Status st = ReadLog(TempFile("strict.log", log), LogFormat::kAuto, sink, stats);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("strict.log:9: wrong field count"), std::string::npos) << st.message();
  EXPECT_TRUE(sink.recs.empty());
}

TEST(ZeekTsvTest, RecordBeforeHeaderTruncatedLastLineAndOverLongLine) {
  std::string log = "1.0\tx\n" + std::string(kZeekHeader) + std::string(2 << 20, 'x') + "\n" +
                    ZeekLine("1.0", "10.1.1.1", "ok.example", "1", "0", "1.2.3.4", "60");
  log += "2.0\tCx1\t10.1.1.1\t53";  // cut mid-record, no newline
  Collect sink;
  IngestStats stats;
  ASSERT_TRUE(ReadLog(TempFile("cut.log", log), LogFormat::kZeekTsv, sink, stats).ok());
  EXPECT_EQ(sink.recs.size(), 1u);
  EXPECT_EQ(stats.rejected().at("record before a #fields header"), 1u);
  EXPECT_EQ(stats.rejected().at("line too long"), 1u);
  EXPECT_EQ(stats.rejected().at("truncated last line"), 1u);
  EXPECT_EQ(stats.read, stats.used + stats.rejected_total());
}

TEST(ZeekTsvTest, GzipInputAndTruncatedGzip) {
  std::string log = std::string(kZeekHeader);
  for (int i = 0; i < 5000; ++i)
    log += ZeekLine(std::to_string(1000 + i), "10.1.1.1", std::string("n").append(std::to_string(i)).append(".example"),
                    "1", "0", "1.2.3.4", "60");
  Collect sink;
  IngestStats stats;
  ASSERT_TRUE(ReadLog(GzFile("a.log.gz", log), LogFormat::kAuto, sink, stats).ok());
  EXPECT_EQ(sink.recs.size(), 5000u);
  Collect sink2;
  IngestStats stats2;
  Status st = ReadLog(GzFile("cut.log.gz", log, 200), LogFormat::kAuto, sink2, stats2);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("cut.log.gz"), std::string::npos) << st.message();
  EXPECT_LT(sink2.recs.size(), 5000u);
}

TEST(ZeekJsonTest, ReadsTheZeekSampleAndIsoTimestamps) {
  std::string log =
      R"({"ts":1602265824.123071,"uid":"CHFRflzsgM15k9et4","id.orig_h":"192.168.75.169","id.orig_p":58506,)"
      R"("id.resp_h":"192.168.75.1","id.resp_p":53,"proto":"udp","trans_id":50763,"rtt":0.022633075714111329,)"
      R"("query":"www.sansgear.com","qclass":1,"qclass_name":"C_INTERNET","qtype":1,"qtype_name":"A","rcode":0,)"
      R"("rcode_name":"NOERROR","AA":false,"TC":false,"RD":true,"RA":true,"Z":0,)"
      R"("answers":["vhost1.identityvector.com","70.32.97.206"],"TTLs":[3600.0,3600.0],"rejected":false})"
      "\n"
      R"({"ts":"2020-10-09T17:50:24.500000Z","id.orig_h":"10.0.0.2","query":"caf\u00e9.example","qtype":28,)"
      R"("answers":["2001:db8::1"],"TTLs":[60]})"
      "\n"
      R"({"ts":1.0,"query":"x.example","answers":["1.2.3.4"]})"
      "\n"
      R"({"ts":1.0,"query":"x.example",)"
      "\n"
      R"({"ts":1.0,"query":"y.example","nested":{"a":[1,{"b":2}]},"answers":[],"TTLs":[]})"
      "\n";
  Collect sink;
  IngestStats stats;
  LogFormat used;
  ASSERT_TRUE(ReadLog(TempFile("a.json", log), LogFormat::kAuto, sink, stats, nullptr, &used).ok());
  EXPECT_EQ(used, LogFormat::kZeekJson);
  ASSERT_EQ(sink.recs.size(), 3u);
  const DnsRecord& r = sink.recs[0];
  EXPECT_EQ(r.qname, "www.sansgear.com");
  EXPECT_EQ(r.client.ToString(), "192.168.75.169");
  ASSERT_EQ(r.answers.size(), 2u);
  EXPECT_EQ(r.answers[0].type, kTypeCNAME);
  EXPECT_TRUE(r.answers[1].is_address);
  EXPECT_EQ(r.answers[1].ttl, 3600u);
  EXPECT_DOUBLE_EQ(sink.recs[1].ts, 1602265824.5);
  EXPECT_EQ(sink.recs[1].qname, "caf\xc3\xa9.example");
  EXPECT_EQ(sink.recs[1].answers[0].type, kTypeAAAA);
  EXPECT_EQ(sink.recs[2].qname, "y.example");
  EXPECT_EQ(stats.rejected().at("answers and TTLs differ in length"), 1u);
  EXPECT_EQ(stats.rejected().at("malformed JSON"), 1u);
}

// Zeek with LogAscii::json_include_unset_fields=T writes every field, an unset one as null: an
// unanswered query has no rcode, a query Zeek could not parse no qtype. null is read as unset,
// exactly as the TSV form's `-` is read: the same records, and the same rejections (an unset ts
// or query name rejects the record in both forms).
TEST(ZeekJsonTest, NullIsUnsetAsTheTsvFormsDash) {
  struct Line {
    const char *ts, *client, *resp, *query, *qtype, *rcode, *answers, *ttls;
  };
  const std::vector<Line> lines = {
      {"1547747036.100000", "10.0.0.1", "10.0.0.53", "a.example", "1", "-", "-", "-"},
      {"1547747037.000000", "-", "-", "b.example", "-", "0", "1.2.3.4,5.6.7.8", "60.000000,60.000000"},
      {"1547747038.000000", "10.0.0.2", "10.0.0.53", "c.example", "28", "3", "-", "-"},
      {"-", "10.0.0.3", "10.0.0.53", "d.example", "1", "0", "-", "-"},
      {"1547747039.000000", "10.0.0.3", "10.0.0.53", "-", "1", "0", "-", "-"},
      {"1547747040.000000", "-", "-", "e.example", "-", "-", "cname.example.net,9.9.9.9", "300.000000,30.000000"},
  };
  std::string tsv = kZeekHeader, json;
  auto j = [](const char* v, bool text) {
    return std::string(v) == "-" ? std::string("null") : text ? std::string("\"").append(v).append("\"") : std::string(v);
  };
  auto jlist = [](const char* v, bool text) {
    if (std::string(v) == "-") return std::string("null");
    std::string out = "[", item;
    for (const char* c = v;; ++c) {
      if (*c == ',' || *c == 0) {
        out.append(out.size() > 1 ? "," : "").append(text ? std::string("\"").append(item).append("\"") : item);
        item.clear();
        if (*c == 0) break;
      } else {
        item += *c;
      }
    }
    return out + "]";
  };
  for (const Line& l : lines) {
    tsv += ZeekLine(l.ts, l.client, l.query, l.qtype, l.rcode, l.answers, l.ttls);
    // (ZeekLine writes the resolver 10.0.0.1; the JSON lines name theirs, or null.)
    json += "{\"ts\":" + j(l.ts, false) + ",\"uid\":\"Cx1\",\"id.orig_h\":" + j(l.client, true) +
            ",\"id.orig_p\":5353,\"id.resp_h\":" + j(l.resp, true) +
            ",\"id.resp_p\":53,\"proto\":\"udp\",\"trans_id\":1,\"rtt\":null,\"query\":" + j(l.query, true) +
            ",\"qclass\":null,\"qclass_name\":null,\"qtype\":" + j(l.qtype, false) +
            ",\"qtype_name\":null,\"rcode\":" + j(l.rcode, false) +
            ",\"rcode_name\":null,\"AA\":false,\"TC\":false,\"RD\":true,\"RA\":false,\"Z\":0,\"answers\":" +
            jlist(l.answers, true) + ",\"TTLs\":" + jlist(l.ttls, false) + ",\"rejected\":false}\n";
  }
  // The same lines again with spaces after the colons: the general parser, not the fast path.
  std::string spaced;
  for (char c : json) spaced += c == ':' ? std::string(": ") : std::string(1, c);
  Collect from_tsv;
  IngestStats tsv_stats;
  ASSERT_TRUE(ReadLog(TempFile("unset.log", tsv), LogFormat::kAuto, from_tsv, tsv_stats).ok());
  ASSERT_EQ(from_tsv.recs.size(), 4u);
  EXPECT_EQ(tsv_stats.rejected().at("bad ts"), 1u);
  EXPECT_EQ(tsv_stats.rejected().at("no query name"), 1u);
  EXPECT_EQ(from_tsv.recs[0].rcode, -1);
  EXPECT_FALSE(from_tsv.recs[1].has_client);
  EXPECT_EQ(from_tsv.recs[1].qtype, 0);
  ASSERT_EQ(from_tsv.recs[3].answers.size(), 2u);
  EXPECT_TRUE(from_tsv.recs[3].answers[1].is_address);
  for (const std::string& text : {json, spaced}) {
    Collect sink;
    IngestStats stats;
    LogFormat used;
    ASSERT_TRUE(ReadLog(TempFile("unset.json", text), LogFormat::kAuto, sink, stats, nullptr, &used).ok());
    EXPECT_EQ(used, LogFormat::kZeekJson);
    EXPECT_EQ(stats.read, tsv_stats.read);
    EXPECT_EQ(stats.used, tsv_stats.used);
    EXPECT_EQ(stats.rejected(), tsv_stats.rejected());
    ASSERT_EQ(sink.recs.size(), from_tsv.recs.size());
    for (size_t i = 0; i < sink.recs.size(); ++i) {
      const DnsRecord &a = sink.recs[i], &b = from_tsv.recs[i];
      SCOPED_TRACE(b.qname);
      EXPECT_EQ(a.ts, b.ts);
      EXPECT_EQ(a.qname, b.qname);
      EXPECT_EQ(a.has_client, b.has_client);
      if (a.has_client) {
        EXPECT_EQ(a.client.ToString(), b.client.ToString());
      }
      EXPECT_EQ(a.qtype, b.qtype);
      EXPECT_EQ(a.rcode, b.rcode);
      ASSERT_EQ(a.answers.size(), b.answers.size());
      for (size_t k = 0; k < a.answers.size(); ++k) {
        EXPECT_EQ(a.answers[k].type, b.answers[k].type);
        EXPECT_EQ(a.answers[k].ttl, b.answers[k].ttl);
        EXPECT_EQ(a.answers[k].data, b.answers[k].data);
      }
    }
    EXPECT_FALSE(sink.recs[1].has_resolver);
    EXPECT_TRUE(sink.recs[2].has_resolver);
  }
}

// Zeek's three JSON time formats (LogAscii::json_timestamps): JSON::TS_EPOCH (seconds with six
// decimals), TS_MILLIS / TS_MILLIS_UNSIGNED (whole milliseconds) and TS_ISO8601 give the ts the
// TSV form gives for the same time. An integer of 12 or more digits is milliseconds; fewer are
// seconds.
TEST(ZeekJsonTest, MillisecondAndIsoTimestampsAsInTheTsvForm) {
  Collect tsv;
  IngestStats tsv_stats;
  ASSERT_TRUE(ReadLog(TempFile("ms.log", std::string(kZeekHeader) +
                                             ZeekLine("1602265824.123000", "10.0.0.1", "a.example", "1", "0",
                                                      "1.2.3.4", "60.000000")),
                      LogFormat::kAuto, tsv, tsv_stats)
                  .ok());
  ASSERT_EQ(tsv.recs.size(), 1u);
  const std::string rest = R"(,"id.orig_h":"10.0.0.1","query":"a.example","qtype":1,"rcode":0,)"
                           R"("answers":["1.2.3.4"],"TTLs":[60.0]})";
  const std::string json = R"({"ts":1602265824123)" + rest + "\n" +             // TS_MILLIS
                           R"({"ts":"2020-10-09T17:50:24.123Z")" + rest + "\n" +  // TS_ISO8601
                           R"({"ts":1602265824.123000)" + rest + "\n" +           // TS_EPOCH
                           R"({"ts":16022658241)" + rest + "\n" +                // 11 digits: seconds
                           R"({"ts":100000000000)" + rest + "\n" +               // 12 digits: milliseconds
                           R"({"ts": -1602265824123 )" + rest + "\n";            // (the general parser)
  Collect sink;
  IngestStats stats;
  ASSERT_TRUE(ReadLog(TempFile("ms.json", json), LogFormat::kAuto, sink, stats).ok());
  ASSERT_EQ(sink.recs.size(), 6u) << stats.rejected_total();
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(sink.recs[i].ts, tsv.recs[0].ts) << i;
  EXPECT_EQ(sink.recs[3].ts, 16022658241.0);
  EXPECT_EQ(sink.recs[4].ts, 100000000.0);
  EXPECT_EQ(sink.recs[5].ts, -tsv.recs[0].ts);
}

TEST(PassiveDnsTest, GroupsTheLinesOfOneResponse) {
  std::string log =
      "1322849924.408856||10.1.1.1||8.8.8.8||IN||www.example.com.||CNAME||edge.example.net.||300||1\n"
      "1322849924.408856||10.1.1.1||8.8.8.8||IN||edge.example.net.||A||192.0.2.1||20||1\n"
      "1322849924.408856||10.1.1.1||8.8.8.8||IN||edge.example.net.||A||192.0.2.2||20||1\n"
      "1322849925.000000||10.1.1.2||8.8.8.8||IN||nx.example.com.||A||NXDOMAIN||0||1\n"
      "1322849926.000000||10.1.1.2||8.8.8.8||IN||v6.example.com.||AAAA||2001:db8::5||60||3\n"
      "1322849927.000000||10.1.1.2||8.8.8.8||IN||bad.example.com.||A||192.0.2.9||sixty||3\n"
      "1322849927.000000||10.1.1.2||8.8.8.8||IN||bad.example.com.||A||192.0.2.10||60||3\n"
      "1322849928.000000||10.1.1.2||8.8.8.8\n"
      "1322849929.000000||10.1.1.2||8.8.8.8||IN||ip.example.com.||A||300.1.2.3||60||1\n";
  Collect sink;
  IngestStats stats;
  LogFormat used;
  ASSERT_TRUE(ReadLog(TempFile("p.log", log), LogFormat::kAuto, sink, stats, nullptr, &used).ok());
  EXPECT_EQ(used, LogFormat::kPassiveDns);
  ASSERT_EQ(sink.recs.size(), 3u);
  EXPECT_EQ(sink.recs[0].qname, "www.example.com");
  EXPECT_EQ(sink.recs[0].qtype, kTypeA);
  ASSERT_EQ(sink.recs[0].answers.size(), 3u);
  EXPECT_EQ(sink.recs[0].answers[0].data, "edge.example.net");
  EXPECT_TRUE(sink.recs[0].answers[2].is_address);
  EXPECT_EQ(sink.recs[1].rcode, 3);
  EXPECT_EQ(sink.recs[2].answers[0].addr.ToString(), "2001:db8::5");
  EXPECT_EQ(stats.read, 6u);
  EXPECT_EQ(stats.rejected().at("bad address answer"), 1u);
  EXPECT_EQ(stats.rejected().at("bad TTL"), 1u);
  EXPECT_EQ(stats.rejected().at("wrong field count"), 1u);
  EXPECT_EQ(stats.skipped.at("lines of rejected responses"), 1u);
}

TEST(IngestTest, UnknownFormatAndMissingFileAreClearErrors) {
  Collect sink;
  IngestStats stats;
  Status st = ReadLog(TempFile("what.txt", "hello world\n"), LogFormat::kAuto, sink, stats);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("cannot tell the log format"), std::string::npos);
  st = ReadLog("/nonexistent/dns.log", LogFormat::kAuto, sink, stats);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("/nonexistent/dns.log: cannot open"), std::string::npos);
}

TEST(IngestStatsTest, RejectionMessagesAreValidUtf8WithoutControlCharacters) {
  EXPECT_EQ(Printable("plain.example", 120), "plain.example");
  EXPECT_EQ(Printable("\xff\x1b[31mred\x7f.com", 120), "\\xff?[31mred?.com");
  EXPECT_EQ(Printable("caf\xc3\xa9.\xc3", 120), "caf\xc3\xa9.\\xc3");  // a cut-off sequence: its byte
  EXPECT_EQ(Printable("abcdef", 4), "abcd...");
  EXPECT_EQ(Printable("abc\xc3\xa9", 4), "abc...");  // é is not cut in two
  EXPECT_EQ(Printable("abc\xc3\xa9", 5), "abc\xc3\xa9");
  EXPECT_EQ(Printable("a\xc2\x9b" "31mb\xc2\xa0" "c", 120), "a?31mb\xc2\xa0" "c");  // C1 CSI; no-break space kept
  IngestStats stats;
  ASSERT_TRUE(stats.Reject({"f.log", 7}, "bad query name", "\xff\x1b.com").ok());
  EXPECT_EQ(stats.first_rejections().at(0), "f.log:7: bad query name (\\xff?.com)");
}

TEST(NormalizeNameTest, Rules) {
  std::string out;
  EXPECT_TRUE(NormalizeName("WWW.Example.COM.", out));
  EXPECT_EQ(out, "www.example.com");
  EXPECT_FALSE(NormalizeName("", out));
  EXPECT_FALSE(NormalizeName(".", out));
  EXPECT_FALSE(NormalizeName("a..b", out));
  EXPECT_FALSE(NormalizeName(std::string(64, 'a') + ".com", out));
  EXPECT_TRUE(NormalizeName(std::string(63, 'a') + ".com", out));
  EXPECT_FALSE(NormalizeName("a b.com", out));
  EXPECT_FALSE(NormalizeName("\xff.com", out));
  EXPECT_TRUE(NormalizeName("b\xc3\xbc\x63her.de", out));  // UTF-8 kept, not lower-cased
  EXPECT_TRUE(NormalizeName("_dmarc.example.com", out));
}

// The rules byte by byte (the code before NormalizeName got its 16-byte ASCII path), against
// NormalizeName on random names of every length 0-260 built from the bytes that matter (dots,
// both cases, the limits 0x20/0x21/0x7e/0x7f, UTF-8 and broken UTF-8), labels near 63 bytes.
bool ReferenceNormalize(std::string_view in, std::string& out) {
  if (!in.empty() && in.back() == '.') in.remove_suffix(1);
  if (in.empty() || in.size() > 253) return false;
  out.assign(in);
  size_t label = 0;
  for (size_t i = 0; i < in.size();) {
    const unsigned char c = static_cast<unsigned char>(in[i]);
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      ++i;
      continue;
    }
    if (c <= 0x20 || c == 0x7f) return false;
    if (c < 0x80) {
      if (c >= 'A' && c <= 'Z') out[i] = static_cast<char>(c + 32);
      ++i;
      if (++label > 63) return false;
      continue;
    }
    size_t n = 0;  // a well-formed UTF-8 sequence (no overlong form, surrogate or > U+10FFFF)
    uint32_t cp = 0;
    if (c >= 0xc2 && c <= 0xdf) n = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef) n = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4) n = 4, cp = c & 0x07;
    else return false;
    if (i + n > in.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      const unsigned char d = static_cast<unsigned char>(in[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) ||
        cp > 0x10ffff)
      return false;
    i += n;
    label += n;
    if (label > 63) return false;
  }
  return label > 0;
}

TEST(NormalizeNameTest, MatchesTheByteRulesOnRandomNames) {
  std::mt19937 rng(11);
  const std::string common = "abcxyzABCXYZ0189-_";
  // Single bytes (limits, NUL, stray UTF-8 bytes) and whole UTF-8 sequences, valid and not.
  const std::vector<std::string> rare = {".", " ", "!", "~", "\x7f", "@", "[", "`", "{",
                                         std::string(1, '\0'), "\xc3", "\xbc", "\xff", "\x80",
                                         "\xc3\xbc", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                         "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80"};
  size_t ok = 0;
  for (int iter = 0; iter < 300000; ++iter) {
    const size_t len = rng() % 261;
    std::string name;
    size_t since_dot = 0;
    const unsigned label_max = 1 + rng() % 70;  // labels up to ~70: both sides of 63
    const bool ascii_only = rng() % 2 == 0;
    while (name.size() < len) {
      if (since_dot >= label_max && rng() % 4 != 0) {
        name += '.';
        since_dot = 0;
        continue;
      }
      if (rng() % 50 == 0) {
        name += ascii_only ? std::string(1, "._ A\x7f"[rng() % 5]) : rare[rng() % rare.size()];
      } else {
        name += common[rng() % common.size()];
      }
      ++since_dot;
    }
    if (rng() % 8 == 0) name += '.';
    std::string want, got = "stale";
    const bool w = ReferenceNormalize(name, want);
    ASSERT_EQ(NormalizeName(name, got), w) << name;
    if (w) {
      ASSERT_EQ(got, want) << name;
      ++ok;
    }
  }
  EXPECT_GT(ok, 30000u);  // both outcomes are exercised
}

}  // namespace
}  // namespace fluxscore::dns

namespace fluxscore::dns {
namespace {

// Random damage to valid logs of every text format: never a crash (ASan/UBSan run this too),
// and every record is accounted for (read = used + rejected).
TEST(TextReadersTest, RandomlyDamagedLogsNeverCrash) {
  std::string zeek = std::string(kZeekHeader);
  std::string json, pdns;
  for (int i = 0; i < 40; ++i) {
    const std::string n = std::string("n").append(std::to_string(i)).append(".example");
    zeek += ZeekLine(std::to_string(1000 + i), "10.1.1.1", n, "1", "0",
                     std::string("c.example.net,1.2.3.").append(std::to_string(i)).append(",2001:db8::").append(std::to_string(i)),
                     "300.000000,60.000000,60.000000");
    json += "{\"ts\":" + std::to_string(1000 + i) + ",\"id.orig_h\":\"10.1.1.1\",\"query\":\"" + n +
            "\",\"qtype\":1,\"answers\":[\"c.example.net\",\"1.2.3.4\"],\"TTLs\":[300.0,60.0]}\n";
    pdns += std::to_string(1000 + i) + ".5||10.1.1.1||8.8.8.8||IN||" + n + ".||A||1.2.3." +
            std::to_string(i) + "||60||1\n";
  }
  std::mt19937 rng(42);
  const std::string alphabet = std::string("\t\n,|{}[]\":.-\\x0123456789abcdefT()") + '\0' + "\xff";
  for (const std::string* base : {&zeek, &json, &pdns}) {
    for (int round = 0; round < 300; ++round) {
      std::string s = *base;
      const int edits = 1 + static_cast<int>(rng() % 8);
      for (int e = 0; e < edits && !s.empty(); ++e) {
        const size_t at = rng() % s.size();
        switch (rng() % 4) {
          case 0: s[at] = alphabet[rng() % alphabet.size()]; break;
          case 1: s.erase(at, 1 + rng() % 20); break;
          case 2: s.insert(at, std::string(1 + rng() % 5, alphabet[rng() % alphabet.size()])); break;
          default: s.resize(at); break;
        }
      }
      struct Count : RecordSink {
        size_t n = 0;
        void Add(const DnsRecord& r) override {
          n += 1;
          EXPECT_FALSE(r.qname.empty());
        }
      } sink;
      IngestStats stats;
      Status st = ReadLog(TempFile("damaged.log", s), LogFormat::kAuto, sink, stats);
      if (!st.ok()) continue;  // e.g. the damage made the format unrecognisable: a clear error
      EXPECT_EQ(stats.read, stats.used + stats.rejected_total());
      EXPECT_EQ(stats.used, sink.n);
    }
  }
}

}  // namespace
}  // namespace fluxscore::dns
