// The Zeek dns.log JSON-lines reader on the JSON it must get right beyond Zeek's usual output:
// escapes (\uXXXX, surrogate pairs, invalid ones), nested values in members it does not use,
// member order, duplicate members, whitespace, number forms, ISO 8601 timestamps, truncated
// lines, bytes that are not UTF-8, and strings around the 16-byte blocks the scanner reads.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "fluxscore/dns/ingest.h"
#include "../temp_files.h"

namespace fluxscore::dns {
namespace {

struct JsonRun {
  std::vector<DnsRecord> recs;
  IngestStats stats{false, 100000};
  std::string path;

  // How line n (1-based) was rejected: "<reason>" or "<reason> (<detail>)"; "" when it was not.
  std::string Rejection(uint64_t n) const {
    const std::string prefix = path + ":" + std::to_string(n) + ": ";
    for (const std::string& m : stats.first_rejections())
      if (m.compare(0, prefix.size(), prefix) == 0) return m.substr(prefix.size());
    return "";
  }
};

JsonRun ReadJson(const std::string& name, const std::vector<std::string>& lines) {
  struct Collect : RecordSink {
    std::vector<DnsRecord>* out;
    void Add(const DnsRecord& r) override { out->push_back(r); }
  } sink;
  JsonRun run;
  sink.out = &run.recs;
  run.path = test::TempPath(name);
  std::string text;
  for (const std::string& l : lines) text += l + "\n";
  std::ofstream(run.path, std::ios::binary) << text;
  Status st = ReadLog(run.path, LogFormat::kZeekJson, sink, run.stats);
  EXPECT_TRUE(st.ok()) << st.message();
  return run;
}

std::string Malformed(const std::string& what, size_t column) {
  return "malformed JSON (" + what + " at column " + std::to_string(column) + ")";
}

TEST(ZeekJsonReaderTest, DecodesEscapesInValuesAndMemberNames) {
  const std::vector<std::string> lines = {
      R"({"ts":1,"query":"caf\u00e9.\ud83d\ude00.Example","answers":["a\u002eexample","1\u002e2.3.4","x\\y\/z\"\t"],"TTLs":[1,2,3]})",
      R"({"ts":2,"q\u0075ery":"k.example","\u0074s":3,"id.orig_h":"10.0.0.\u0031"})",
  };
  JsonRun r = ReadJson("esc.json", lines);
  ASSERT_EQ(r.recs.size(), 2u) << r.Rejection(1) << r.Rejection(2);
  EXPECT_EQ(r.recs[0].qname, "caf\xc3\xa9.\xf0\x9f\x98\x80.example");
  ASSERT_EQ(r.recs[0].answers.size(), 3u);
  EXPECT_EQ(r.recs[0].answers[0].data, "a.example");
  EXPECT_EQ(r.recs[0].answers[0].type, kTypeCNAME);
  EXPECT_TRUE(r.recs[0].answers[1].is_address);
  EXPECT_EQ(r.recs[0].answers[1].addr.ToString(), "1.2.3.4");
  EXPECT_EQ(r.recs[0].answers[2].data, "x\\y/z\"\t");
  EXPECT_EQ(r.recs[0].answers[2].ttl, 3u);
  // Escaped member names are the names they decode to; the later "ts" wins.
  EXPECT_EQ(r.recs[1].qname, "k.example");
  EXPECT_DOUBLE_EQ(r.recs[1].ts, 3.0);
  EXPECT_TRUE(r.recs[1].has_client);
  EXPECT_EQ(r.recs[1].client.ToString(), "10.0.0.1");
}

TEST(ZeekJsonReaderTest, RejectsInvalidEscapesWithTheirColumn) {
  const std::string bad_escape = R"({"ts":1,"query":"a\qb.example"})";
  const std::string lone_high = R"({"ts":1,"query":"\ud83dx.example"})";
  const std::string lone_low = R"({"ts":1,"query":"\ude00.example"})";
  const std::string high_then_bmp = R"({"ts":1,"query":"\ud83d\u0041.example"})";
  const std::string short_u = R"({"ts":1,"query":"\u12"})";
  const std::string backslash_last = R"({"ts":1,"query":"abc\)";
  const std::string unterminated = R"({"ts":1,"query":"abc)";
  const std::string control = "{\"ts\":1,\"query\":\"a\tb.example\"}";
  const std::string escaped_key_bad = R"({"ts":1,"q\x":"a.example"})";
  JsonRun r = ReadJson("badesc.json", {bad_escape, lone_high, lone_low, high_then_bmp, short_u, backslash_last,
                                       unterminated, control, escaped_key_bad});
  EXPECT_TRUE(r.recs.empty());
  EXPECT_EQ(r.stats.rejected().at("malformed JSON"), 9u);
  // Columns are 1-based: where reading stopped.
  EXPECT_EQ(r.Rejection(1), Malformed("bad escape", bad_escape.find('\\') + 3));
  EXPECT_EQ(r.Rejection(2), Malformed("unpaired surrogate", lone_high.find('x') + 1));
  EXPECT_EQ(r.Rejection(3), Malformed("unpaired surrogate", lone_low.find('\\') + 7));
  EXPECT_EQ(r.Rejection(4), Malformed("unpaired surrogate", high_then_bmp.rfind('\\') + 7));
  EXPECT_EQ(r.Rejection(5), Malformed("bad \\u escape", short_u.find("12") + 1));
  EXPECT_EQ(r.Rejection(6), Malformed("bad escape", backslash_last.size() + 2));
  EXPECT_EQ(r.Rejection(7), Malformed("unterminated string", unterminated.size() + 1));
  EXPECT_EQ(r.Rejection(8), Malformed("control character in a string", control.find('\t') + 1));
  EXPECT_EQ(r.Rejection(9), Malformed("bad escape", escaped_key_bad.find('\\') + 3));
}

TEST(ZeekJsonReaderTest, SkipsNestedValuesOfOtherMembersInAnyOrder) {
  const std::string deep_ok = R"({"ts":1,"query":"d.example","x":)" + std::string(65, '[') + std::string(65, ']') + "}";
  const std::string deep_bad = R"({"ts":1,"query":"d.example","x":)" + std::string(66, '[') + std::string(66, ']') + "}";
  const std::string deep_obj = R"({"ts":1,"query":"d.example","x":)" + [] {
    std::string s;
    for (int i = 0; i < 66; ++i) s += R"({"k":)";
    s += "1";
    for (int i = 0; i < 66; ++i) s += "}";
    return s;
  }() + "}";
  const std::vector<std::string> lines = {
      R"({"nested":{"a":[1,{"b":[[],{}]}],"c":"\u00e9\"}"},"answers":["1.2.3.4"],"arr":[[1],[2,[3]],{"q":"x"}],)"
      R"("TTLs":[60],"query":"n.example","flag":true,"none":null,"ts":5})",
      deep_ok,
      deep_bad,
      deep_obj,
      R"({"ts":1,"query":"e.example","x":{"a":1,}})",
      R"({"ts":1,"query":"e.example","x":{"a" 1}})",
      R"({"ts":1,"query":"e.example","x":[1 2]})",
      R"({"ts":1,"query":"e.example","x":[[1 2]]})",
  };
  JsonRun r = ReadJson("nested.json", lines);
  ASSERT_EQ(r.recs.size(), 2u) << r.Rejection(1);
  EXPECT_EQ(r.recs[0].qname, "n.example");
  EXPECT_DOUBLE_EQ(r.recs[0].ts, 5.0);
  ASSERT_EQ(r.recs[0].answers.size(), 1u);
  EXPECT_EQ(r.recs[0].answers[0].addr.ToString(), "1.2.3.4");
  EXPECT_EQ(r.recs[0].answers[0].ttl, 60u);
  EXPECT_EQ(r.recs[1].qname, "d.example");  // 65 nested arrays are fine
  const size_t x = deep_bad.find('[');
  EXPECT_EQ(r.Rejection(3), Malformed("nesting too deep", x + 65 + 1));
  EXPECT_EQ(r.Rejection(4), Malformed("nesting too deep", deep_obj.rfind('{') + 1));  // the 66th object
  EXPECT_EQ(r.Rejection(5), Malformed("expected a member name", lines[4].find(",}") + 2));
  EXPECT_EQ(r.Rejection(6), Malformed("expected ':'", lines[5].find(" 1") + 2));
  EXPECT_EQ(r.Rejection(7), Malformed("expected ',' or ']'", lines[6].find(" 2") + 2));
  EXPECT_EQ(r.Rejection(8), Malformed("expected ',' or a closing bracket", lines[7].find(" 2") + 2));
}

TEST(ZeekJsonReaderTest, DuplicateMembersAsBefore) {
  const std::vector<std::string> lines = {
      // answers and TTLs given twice: both lists are kept, in order.
      R"({"ts":1,"query":"a.example","answers":["1.1.1.1"],"TTLs":[1],"answers":["2.2.2.2"],"TTLs":[2]})",
      // A bad client address is not undone by a good one.
      R"({"ts":1,"id.orig_h":"bad","id.orig_h":"10.0.0.1","query":"a.example"})",
      // A later query that is not a string leaves the first one.
      R"({"ts":1,"query":"b.example","query":5})",
      // The last ts decides.
      R"({"ts":"nope","ts":7,"query":"c.example"})",
      R"({"ts":7,"ts":"nope","query":"c.example"})",
      // A bad qtype stays bad.
      R"({"ts":1,"query":"d.example","qtype":"A","qtype":1})",
  };
  JsonRun r = ReadJson("dup.json", lines);
  ASSERT_EQ(r.recs.size(), 3u);
  ASSERT_EQ(r.recs[0].answers.size(), 2u);
  EXPECT_EQ(r.recs[0].answers[0].addr.ToString(), "1.1.1.1");
  EXPECT_EQ(r.recs[0].answers[0].ttl, 1u);
  EXPECT_EQ(r.recs[0].answers[1].addr.ToString(), "2.2.2.2");
  EXPECT_EQ(r.recs[0].answers[1].ttl, 2u);
  EXPECT_EQ(r.Rejection(2), "bad client address (bad)");
  EXPECT_EQ(r.recs[1].qname, "b.example");
  EXPECT_DOUBLE_EQ(r.recs[2].ts, 7.0);
  EXPECT_EQ(r.Rejection(5), "bad ts");
  EXPECT_EQ(r.Rejection(6), "bad qtype or rcode");
}

TEST(ZeekJsonReaderTest, WhitespaceBetweenTokens) {
  const std::vector<std::string> lines = {
      " \t{ \"ts\" :\t1 ,\r\"query\"\t: \"w.example\" , \"answers\" : [ \"1.2.3.4\" , \"x.example\" ] ,"
      " \"TTLs\" : [ 60 ,\t60.0 ] , \"n\" : { \"a\" : [ 1 , 2 ] } } \t",
      "{\"ts\":2,\"query\":\"crlf.example\"}\r",
      "   ",
      "{}",
      "{ }",
  };
  JsonRun r = ReadJson("ws.json", lines);
  ASSERT_EQ(r.recs.size(), 2u) << r.Rejection(1);
  EXPECT_EQ(r.recs[0].qname, "w.example");
  ASSERT_EQ(r.recs[0].answers.size(), 2u);
  EXPECT_EQ(r.recs[0].answers[1].data, "x.example");
  EXPECT_EQ(r.recs[0].answers[1].ttl, 60u);
  EXPECT_EQ(r.recs[1].qname, "crlf.example");
  EXPECT_EQ(r.stats.read, 4u);  // the blank line is not a record
  EXPECT_EQ(r.Rejection(4), "bad ts");
  EXPECT_EQ(r.Rejection(5), "bad ts");
}

TEST(ZeekJsonReaderTest, NumberForms) {
  const std::vector<std::string> lines = {
      R"({"ts":1.6e9,"query":"n.example","qtype":2.8e1,"rcode":3.0,"answers":["a.example","b.example","c.example","d.example","e.example"],)"
      R"("TTLs":[6e1,60.000000,0.0,2147483647,1E+2]})",
      R"({"ts":-1.5,"query":"n.example","qtype":0,"rcode":65535})",
      R"({"ts":1,"query":"n.example","answers":["a.example"],"TTLs":[2147483648]})",
      R"({"ts":1,"query":"n.example","answers":["a.example"],"TTLs":[1.5]})",
      R"({"ts":1,"query":"n.example","answers":["a.example"],"TTLs":["60"]})",
      R"({"ts":1,"query":"n.example","answers":["a.example"],"TTLs":[-1]})",
      R"({"ts":1,"query":"n.example","qtype":1.5})",
      R"({"ts":1,"query":"n.example","rcode":65536})",
      R"({"ts":1,"query":"n.example","qtype":-1})",
      R"({"ts":01,"query":"n.example"})",
      R"({"ts":1.,"query":"n.example"})",
      R"({"ts":-,"query":"n.example"})",
      R"({"ts":.5,"query":"n.example"})",
      R"({"ts":+1,"query":"n.example"})",
      R"({"ts":1e,"query":"n.example"})",
      R"({"ts":tru,"query":"n.example"})",
      R"({"ts":1.5.3,"query":"n.example"})",
      R"({"ts":1e400,"query":"n.example"})",
      R"({"ts":1099511627776.0,"query":"n.example"})",
      R"({"ts":1099511627776000,"query":"n.example"})",
  };
  JsonRun r = ReadJson("num.json", lines);
  ASSERT_EQ(r.recs.size(), 2u) << r.Rejection(1) << r.Rejection(2);
  EXPECT_DOUBLE_EQ(r.recs[0].ts, 1.6e9);
  EXPECT_EQ(r.recs[0].qtype, 28);
  EXPECT_EQ(r.recs[0].rcode, 3);
  ASSERT_EQ(r.recs[0].answers.size(), 5u);
  EXPECT_EQ(r.recs[0].answers[0].ttl, 60u);
  EXPECT_EQ(r.recs[0].answers[1].ttl, 60u);
  EXPECT_EQ(r.recs[0].answers[2].ttl, 0u);
  EXPECT_EQ(r.recs[0].answers[3].ttl, 2147483647u);
  EXPECT_EQ(r.recs[0].answers[4].ttl, 100u);
  EXPECT_DOUBLE_EQ(r.recs[1].ts, -1.5);
  EXPECT_EQ(r.recs[1].qtype, 0);
  EXPECT_EQ(r.recs[1].rcode, 65535);
  EXPECT_EQ(r.Rejection(3), "bad TTL (2147483648)");
  EXPECT_EQ(r.Rejection(4), "bad TTL (1.5)");
  EXPECT_EQ(r.Rejection(5), "bad TTL (60)");
  EXPECT_EQ(r.Rejection(6), "bad TTL (-1)");
  EXPECT_EQ(r.Rejection(7), "bad qtype or rcode");
  EXPECT_EQ(r.Rejection(8), "bad qtype or rcode");
  EXPECT_EQ(r.Rejection(9), "bad qtype or rcode");
  // A bad number is reported after the whole run of number bytes.
  EXPECT_EQ(r.Rejection(10), Malformed("bad number", 9));
  EXPECT_EQ(r.Rejection(11), Malformed("bad number", 9));
  EXPECT_EQ(r.Rejection(12), Malformed("bad number", 8));
  EXPECT_EQ(r.Rejection(13), Malformed("bad number", 9));
  EXPECT_EQ(r.Rejection(14), Malformed("bad number", 9));
  EXPECT_EQ(r.Rejection(15), Malformed("bad number", 9));
  EXPECT_EQ(r.Rejection(16), Malformed("unexpected character", 7));
  EXPECT_EQ(r.Rejection(17), Malformed("bad number", 12));
  EXPECT_EQ(r.Rejection(18), "bad ts");  // well-formed, but not a finite double
  EXPECT_EQ(r.Rejection(19), "bad ts");  // beyond 2^40 seconds (not an integer: not milliseconds)
  EXPECT_EQ(r.Rejection(20), "bad ts");  // 16 digits: seconds, beyond 2^40 (milliseconds have 12-15)
}

TEST(ZeekJsonReaderTest, IsoTimestamps) {
  const std::vector<std::string> lines = {
      R"({"ts":"2020-10-09T17:50:24Z","query":"i.example"})",
      R"({"ts":"2020-10-09T17:50:24.25Z","query":"i.example"})",
      R"({"ts":"2020-10-09T17:50:24.5","query":"i.example"})",
      R"({"ts":"2020-10-09 17:50:24Z","query":"i.example"})",
      R"({"ts":"2020-10-09T17:50:24+02:00","query":"i.example"})",
      R"({"ts":"2020-13-09T17:50:24Z","query":"i.example"})",
      R"({"ts":"2020\u002d10-09T17:50:24Z","query":"i.example"})",
  };
  JsonRun r = ReadJson("iso.json", lines);
  ASSERT_EQ(r.recs.size(), 4u);
  EXPECT_DOUBLE_EQ(r.recs[0].ts, 1602265824.0);
  EXPECT_DOUBLE_EQ(r.recs[1].ts, 1602265824.25);
  EXPECT_DOUBLE_EQ(r.recs[2].ts, 1602265824.5);
  EXPECT_DOUBLE_EQ(r.recs[3].ts, 1602265824.0);  // decoded before it is read
  EXPECT_EQ(r.Rejection(4), "bad ts");
  EXPECT_EQ(r.Rejection(5), "bad ts");
  EXPECT_EQ(r.Rejection(6), "bad ts");
}

TEST(ZeekJsonReaderTest, TruncatedLines) {
  const std::vector<std::string> lines = {
      R"({"ts":1,"query":"x.example")",
      R"({"ts":1,"query":)",
      R"({"ts":1,"que)",
      R"({"ts":1,)",
      R"({)",
      R"({"ts":1,"query":"x.example","answers":["1.2.3.4")",
      R"({"ts":1,"query":"x.example","answers":["1.2.3.4",)",
      R"({"ts":1,"query":"x.example","n":{"a":1)",
      R"({"ts":1,"query":"x.example"} junk)",
      R"([{"ts":1,"query":"x.example"}])",
      R"({"ts":1,"query":"x.example","f":fals)",
      R"({"ts":1,"query":"x.example","z":nul})",
  };
  JsonRun r = ReadJson("cut.json", lines);
  EXPECT_TRUE(r.recs.empty());
  EXPECT_EQ(r.stats.read, lines.size());
  EXPECT_EQ(r.Rejection(1), Malformed("expected ',' or '}'", lines[0].size() + 1));
  EXPECT_EQ(r.Rejection(2), Malformed("unexpected character", lines[1].size() + 1));
  EXPECT_EQ(r.Rejection(3), Malformed("unterminated string", lines[2].size() + 1));
  EXPECT_EQ(r.Rejection(4), Malformed("expected a member name", lines[3].size() + 1));
  EXPECT_EQ(r.Rejection(5), Malformed("expected a member name", 2));
  EXPECT_EQ(r.Rejection(6), Malformed("expected ',' or ']'", lines[5].size() + 1));
  EXPECT_EQ(r.Rejection(7), Malformed("unexpected character", lines[6].size() + 1));
  EXPECT_EQ(r.Rejection(8), Malformed("expected ',' or a closing bracket", lines[7].size() + 1));
  EXPECT_EQ(r.Rejection(9), Malformed("text after the object", lines[8].find("junk") + 1));
  EXPECT_EQ(r.Rejection(10), "malformed JSON (not a JSON object)");
  EXPECT_EQ(r.Rejection(11), Malformed("unexpected character", lines[10].find("fals") + 1));
  EXPECT_EQ(r.Rejection(12), Malformed("unexpected character", lines[11].find("nul") + 1));
}

TEST(ZeekJsonReaderTest, BytesThatAreNotUtf8) {
  const std::vector<std::string> lines = {
      "{\"ts\":1,\"query\":\"\xff.example\"}",
      "{\"ts\":1,\"query\":\"u.example\",\"answers\":[\"\xfe\xff.example\"],\"TTLs\":[5],\"uid\":\"\x80\xc0\"}",
      "{\"ts\":1,\"query\":\"u.example\",\"x\":\"\x7f\"}",
  };
  JsonRun r = ReadJson("utf8.json", lines);
  ASSERT_EQ(r.recs.size(), 2u);
  EXPECT_EQ(r.Rejection(1), "bad query name (\\xff.example)");  // (the message stays valid UTF-8)
  ASSERT_EQ(r.recs[0].answers.size(), 1u);
  EXPECT_EQ(r.recs[0].answers[0].data, "\xfe\xff.example");  // kept as logged
  EXPECT_EQ(r.recs[0].answers[0].type, kTypeCNAME);
}

// Strings and lines of every length around the scanner's 16-byte blocks: an escape, a control
// character or the closing quote at each position, including the last bytes of a line.
TEST(ZeekJsonReaderTest, StringsAtEveryPositionOfTheBlocks) {
  std::vector<std::string> lines;
  std::vector<std::string> want;
  for (size_t len = 0; len <= 40; ++len) {
    for (size_t at = 0; at <= len; ++at) {
      // An escaped 'b' at position `at` of a name of len + 1 letters.
      lines.push_back(R"({"ts":1,"query":")" + std::string(at, 'a') + "\\u0062" + std::string(len - at, 'c') +
                      R"(.example"})");
      want.push_back(std::string(at, 'a') + "b" + std::string(len - at, 'c') + ".example");
    }
  }
  const size_t n_escaped = lines.size();
  for (size_t len = 0; len <= 40; ++len) {
    // A plain string of len bytes as the last member: its quote within the line's last 16 bytes.
    lines.push_back(R"({"ts":1,"query":"p.example","z":")" + std::string(len, 'x') + R"("})");
  }
  const size_t n_plain = lines.size() - n_escaped;
  std::vector<size_t> control_col;
  for (size_t len = 1; len <= 40; ++len) {
    // A control character as the last byte of a string that is the last member.
    std::string l = R"({"ts":1,"query":"p.example","z":")" + std::string(len - 1, 'x') + "\x01" + R"("})";
    control_col.push_back(l.find('\x01') + 1);
    lines.push_back(l);
  }
  lines.push_back(R"({"query":"s"})");  // shorter than one block
  JsonRun r = ReadJson("blocks.json", lines);
  ASSERT_EQ(r.recs.size(), n_escaped + n_plain);
  for (size_t i = 0; i < n_escaped; ++i) EXPECT_EQ(r.recs[i].qname, want[i]) << i;
  for (size_t k = 0; k < control_col.size(); ++k)
    EXPECT_EQ(r.Rejection(n_escaped + n_plain + 1 + k), Malformed("control character in a string", control_col[k]));
  EXPECT_EQ(r.Rejection(lines.size()), "bad ts");
}

}  // namespace
}  // namespace fluxscore::dns

namespace fluxscore::dns {
namespace {

// Each rejection names its own value: a bad client address with a bad TTL later on the line is
// reported with the address, several bad TTLs with the first (as the TSV reader does).
TEST(ZeekJsonReaderTest, RejectionDetailsNameTheirOwnValue) {
  const std::vector<std::string> lines = {
      R"({"ts":1,"id.orig_h":"bad","query":"n.example","answers":["a.example"],"TTLs":["x"]})",
      R"({"ts":1,"query":"n.example","answers":["a.example","b.example"],"TTLs":["y",-2]})",
      R"({"ts":1,"id.orig_h":7,"query":"n.example"})",
  };
  JsonRun r = ReadJson("details.json", lines);
  EXPECT_TRUE(r.recs.empty());
  EXPECT_EQ(r.Rejection(1), "bad client address (bad)");
  EXPECT_EQ(r.Rejection(2), "bad TTL (y)");
  EXPECT_EQ(r.Rejection(3), "bad client address (not a string)");
}

}  // namespace
}  // namespace fluxscore::dns
