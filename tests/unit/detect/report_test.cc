// The analyst's HTML report: one self-contained document, hostile strings escaped for every
// context, and an embedded JSON blob that parses back to the input (NaN as null).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "fluxscore/detect/detect.h"

namespace fluxscore::detect {
namespace {

const double kNaN = std::nan("");
const std::string kHostileDomain = "evil\"><script>alert(1)</script>.example";
const std::string kHostileOrg = "</script><script>alert(2)</script>";
const std::string kLineSep = "\xe2\x80\xa8";  // U+2028
const std::string kFffd = "\xef\xbf\xbd";     // U+FFFD

// ---- a minimal JSON parser (strict enough to reject what JSON.parse rejects here) ----
struct Json {
  enum Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = kNull;
  bool b = false;
  double n = 0;
  std::string s;
  std::vector<Json> a;
  std::map<std::string, Json> o;
  const Json& operator[](const std::string& k) const { return o.at(k); }
  const Json& operator[](size_t i) const { return a.at(i); }
};

class Parser {
 public:
  explicit Parser(const std::string& t) : t_(t) {}
  bool Parse(Json& out) {
    if (!Value(out)) return false;
    Ws();
    return i_ == t_.size();
  }

 private:
  void Ws() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\n' || t_[i_] == '\r' || t_[i_] == '\t')) ++i_;
  }
  bool Lit(const char* w) {
    const std::string word(w);
    if (t_.compare(i_, word.size(), word) != 0) return false;
    i_ += word.size();
    return true;
  }
  static void Utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  bool Hex4(uint32_t& cp) {
    if (i_ + 4 > t_.size()) return false;
    cp = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = t_[i_++];
      cp <<= 4;
      if (c >= '0' && c <= '9') cp |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') cp |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') cp |= static_cast<uint32_t>(c - 'A' + 10);
      else return false;
    }
    return true;
  }
  bool String(std::string& out) {
    if (i_ >= t_.size() || t_[i_] != '"') return false;
    ++i_;
    while (i_ < t_.size()) {
      const auto c = static_cast<unsigned char>(t_[i_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      if (i_ >= t_.size()) return false;
      const char e = t_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo = 0;
            if (!Lit("\\u") || !Hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          Utf8(out, cp);
          break;
        }
        default: return false;
      }
    }
    return false;
  }
  bool Value(Json& v) {
    Ws();
    if (i_ >= t_.size()) return false;
    const char c = t_[i_];
    if (c == 'n') return v.kind = Json::kNull, Lit("null");
    if (c == 't') return v.kind = Json::kBool, v.b = true, Lit("true");
    if (c == 'f') return v.kind = Json::kBool, v.b = false, Lit("false");
    if (c == '"') return v.kind = Json::kString, String(v.s);
    if (c == '[') {
      v.kind = Json::kArray;
      ++i_;
      Ws();
      if (i_ < t_.size() && t_[i_] == ']') return ++i_, true;
      while (true) {
        v.a.emplace_back();
        if (!Value(v.a.back())) return false;
        Ws();
        if (i_ >= t_.size()) return false;
        if (t_[i_] == ',') { ++i_; continue; }
        if (t_[i_] == ']') return ++i_, true;
        return false;
      }
    }
    if (c == '{') {
      v.kind = Json::kObject;
      ++i_;
      Ws();
      if (i_ < t_.size() && t_[i_] == '}') return ++i_, true;
      while (true) {
        Ws();
        std::string key;
        if (!String(key)) return false;
        Ws();
        if (i_ >= t_.size() || t_[i_] != ':') return false;
        ++i_;
        if (!Value(v.o[key])) return false;
        Ws();
        if (i_ >= t_.size()) return false;
        if (t_[i_] == ',') { ++i_; continue; }
        if (t_[i_] == '}') return ++i_, true;
        return false;
      }
    }
    // Number: JSON grammar only (no NaN, Infinity, leading '+', hex).
    const size_t start = i_;
    if (t_[i_] == '-') ++i_;
    if (i_ >= t_.size() || !isdigit(static_cast<unsigned char>(t_[i_]))) return false;
    if (t_[i_] == '0') {
      ++i_;
    } else {
      while (i_ < t_.size() && isdigit(static_cast<unsigned char>(t_[i_]))) ++i_;
    }
    if (i_ < t_.size() && t_[i_] == '.') {
      ++i_;
      if (i_ >= t_.size() || !isdigit(static_cast<unsigned char>(t_[i_]))) return false;
      while (i_ < t_.size() && isdigit(static_cast<unsigned char>(t_[i_]))) ++i_;
    }
    if (i_ < t_.size() && (t_[i_] == 'e' || t_[i_] == 'E')) {
      ++i_;
      if (i_ < t_.size() && (t_[i_] == '+' || t_[i_] == '-')) ++i_;
      if (i_ >= t_.size() || !isdigit(static_cast<unsigned char>(t_[i_]))) return false;
      while (i_ < t_.size() && isdigit(static_cast<unsigned char>(t_[i_]))) ++i_;
    }
    v.kind = Json::kNumber;
    v.n = std::stod(t_.substr(start, i_ - start));
    return true;
  }
  const std::string& t_;
  size_t i_ = 0;
};

// ---- fixtures ----
RunSummary Summary() {
  RunSummary s;
  s.inputs = {"dns.jsonl", "<img src=x onerror=alert(3)>.log"};
  s.model = "default (models/fast-flux.pmml)";
  s.model_description = "tree & <friends>";
  s.records_read = 1234567;
  s.records_used = 1234000;
  s.records_rejected = 567;
  s.rejected_by_reason = {{"bad \"json\"", 500}, {"no answer", 67}};
  s.keys = 900;
  s.prefiltered = 700;
  s.scored = 200;
  s.flagged = 2;
  s.seconds = 12.5;
  s.peak_memory_bytes = 3u << 20;
  s.generated_at = "2024-05-02T08:15:00Z";
  return s;
}

std::vector<TreeNodeView> Tree() {
  std::vector<TreeNodeView> t(5);
  t[0] = {-1, 0, "", false, "", 0, 1000};
  t[1] = {0, 1, "distinct_ips <= 4.5", true, "benign", 0.01, 600};
  t[2] = {0, 1, "distinct_ips > 4.5", false, "", 0, kNaN};
  t[3] = {2, 2, "distinct_asns <= 2.5", true, "benign", 0.2, 100};
  t[4] = {2, 2, "distinct_asns > 2.5", true, "flux", 0.97, 300};
  return t;
}

Detection Good() {
  Detection d;
  d.domain = "cdn-update-kjq3.ru";
  d.window_start = 1714521600;
  d.flux = true;
  d.probability = 0.987;
  d.path = {{"distinct_ips > 4.5", "distinct_ips", 26}, {"distinct_asns > 2.5", "distinct_asns", 3}};
  d.leaf = "flux (291 of 300 training rows)";
  d.features = {{"distinct_ips", 26}, {"distinct_asns", 3}, {"distinct_countries", 2},
                {"ttl_mean", 88.5}};
  d.evidence.ips = {"95.31.18.100", "95.31.18.101"};
  d.evidence.networks = {{12389, "Rostelecom", 14}, {0, "", 3}};
  d.evidence.countries = {{"RU", 20}, {"", 2}};
  d.evidence.ttls = {{60, 120}, {300, 8}};
  return d;
}

Detection Hostile() {
  Detection d = Good();
  d.domain = kHostileDomain;
  d.probability = kNaN;
  d.path = {{"distinct_ips > 4.5", "distinct_ips", 9}, {"distinct_asns > 2.5", "distinct_asns", kNaN}};
  d.features = {{"distinct_ips", 9}, {"ttl_mean", kNaN}, {"holz_score", INFINITY}};
  d.evidence.networks = {{64512, kHostileOrg, 5},
                         {64513, "Caf\xc3\xa9 \xff Net" + kLineSep + "'q' & \xe2\x80\xae co", 4}};
  d.evidence.countries = {{"<b>", 3}};
  return d;
}

std::string Render(const std::vector<Detection>& dets, const std::vector<TreeNodeView>& tree) {
  std::ostringstream out;
  WriteHtmlReport(out, Summary(), dets, tree);
  return out.str();
}

size_t Count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

std::string Blob(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"fluxscore-data\">";
  const size_t a = html.find(open);
  if (a == std::string::npos) return "";
  const size_t b = html.find("</script>", a);
  if (b == std::string::npos) return "";
  return html.substr(a + open.size(), b - a - open.size());
}

Json ParseBlob(const std::string& html) {
  Json j;
  const std::string blob = Blob(html);
  EXPECT_FALSE(blob.empty());
  EXPECT_TRUE(Parser(blob).Parse(j)) << "the embedded JSON does not parse";
  return j;
}

// ---- tests ----
// The suite is named "report" (lower case) so that `ctest -R report` selects these tests together
// with integration.report_chromium.
TEST(report, OneSelfContainedDocument) {
  const std::string html = Render({Good(), Hostile()}, Tree());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(Count(html, "<html"), 1u);
  EXPECT_EQ(Count(html, "</html>"), 1u);
  EXPECT_EQ(Count(html, "<body"), 1u);
  for (const char* bad : {"src=\"http", "src='http", "href=\"http", "href='http", "@import",
                          "url(http", "url(//", "src=\"//", "href=\"//", "<link rel=\"stylesheet",
                          "<iframe", "<img"}) {
    EXPECT_EQ(html.find(bad), std::string::npos) << bad;
  }
  // The content security policy forbids loading anything from anywhere.
  EXPECT_NE(html.find("default-src 'none'"), std::string::npos);
  // Summary facts.
  for (const char* s : {"1,234,567", "records read", "bad &quot;json&quot;", "500", "12.50 s",
                        "3.0 MiB", "2024-05-02T08:15:00Z", "86,400 s (1 day)", "P(flux) &ge; 0.5",
                        "tree &amp; &lt;friends&gt;", "filtered by the prefilter (&lt; 3 IPs)"}) {
    EXPECT_NE(html.find(s), std::string::npos) << s;
  }
}

TEST(report, HostileStringsNeverUnescaped) {
  const std::string html = Render({Good(), Hostile()}, Tree());
  EXPECT_EQ(html.find(kHostileDomain), std::string::npos);
  EXPECT_EQ(html.find(kHostileOrg), std::string::npos);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_EQ(html.find("alert(1)</script>"), std::string::npos);
  EXPECT_EQ(html.find("<img src=x"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  // Exactly two script elements: the JSON blob and the page's script.
  EXPECT_EQ(Count(html, "<script"), 2u);
  EXPECT_EQ(Count(html, "</script"), 2u);
  // HTML text: the domain in the table.
  EXPECT_NE(html.find("<td class=\"dom\">evil&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;.example</td>"),
            std::string::npos);
  EXPECT_NE(html.find("&lt;img src=x onerror=alert(3)&gt;.log"), std::string::npos);
  // JSON in the script element: no '<', '>', '&', raw U+2028/2029, or bidi override.
  const std::string blob = Blob(html);
  EXPECT_EQ(blob.find_first_of("<>&"), std::string::npos);
  EXPECT_EQ(blob.find(kLineSep), std::string::npos);
  EXPECT_EQ(blob.find("\xe2\x80\xae"), std::string::npos);
  EXPECT_NE(blob.find("\"evil\\\"\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e.example\""),
            std::string::npos);
  EXPECT_NE(blob.find("\\u2028"), std::string::npos);
  EXPECT_NE(blob.find("\\u202e"), std::string::npos);
}

TEST(report, JsonBlobParsesBackWithNanAsNull) {
  const std::string html = Render({Good(), Hostile()}, Tree());
  const std::string blob = Blob(html);
  for (const char* bad : {"nan", "NaN", "inf", "Infinity"}) {
    EXPECT_EQ(blob.find(std::string(":") + bad), std::string::npos) << bad;
    EXPECT_EQ(blob.find(std::string(",") + bad), std::string::npos) << bad;
  }
  const Json j = ParseBlob(html);
  EXPECT_EQ(j["total"].n, 2);
  EXPECT_EQ(j["omitted"].n, 0);
  const Json& dets = j["detections"];
  ASSERT_EQ(dets.a.size(), 2u);
  EXPECT_EQ(dets[0]["domain"].s, "cdn-update-kjq3.ru");
  EXPECT_TRUE(dets[0]["flux"].b);
  EXPECT_DOUBLE_EQ(dets[0]["p"].n, 0.987);
  EXPECT_EQ(dets[0]["networks"][0]["asn"].n, 12389);
  EXPECT_EQ(dets[0]["networks"][0]["org"].s, "Rostelecom");
  EXPECT_EQ(dets[0]["networks"][0]["ips"].n, 14);
  EXPECT_EQ(dets[0]["countries"][1]["country"].s, "");
  EXPECT_EQ(dets[0]["ttls"][0]["ttl"].n, 60);
  EXPECT_EQ(dets[0]["ttls"][0]["answers"].n, 120);
  EXPECT_EQ(dets[0]["ips"][1].s, "95.31.18.101");
  EXPECT_EQ(dets[0]["features"][3][0].s, "ttl_mean");
  EXPECT_DOUBLE_EQ(dets[0]["features"][3][1].n, 88.5);
  // The path matched against the tree: root, "distinct_ips > 4.5", "distinct_asns > 2.5".
  const Json& nodes = dets[0]["nodes"];
  ASSERT_EQ(nodes.a.size(), 3u);
  EXPECT_EQ(nodes[0].n, 0);
  EXPECT_EQ(nodes[1].n, 2);
  EXPECT_EQ(nodes[2].n, 4);
  // The hostile detection decodes back to the original strings; NaN/inf are null.
  const Json& h = dets[1];
  EXPECT_EQ(h["domain"].s, kHostileDomain);
  EXPECT_EQ(h["networks"][0]["org"].s, kHostileOrg);
  EXPECT_EQ(h["networks"][1]["org"].s,
            "Caf\xc3\xa9 " + kFffd + " Net" + kLineSep + "'q' & \xe2\x80\xae co");
  EXPECT_EQ(h["countries"][0]["country"].s, "<b>");
  EXPECT_EQ(h["p"].kind, Json::kNull);
  EXPECT_EQ(h["path"][1]["value"].kind, Json::kNull);
  EXPECT_EQ(h["features"][1][1].kind, Json::kNull);
  EXPECT_EQ(h["features"][2][1].kind, Json::kNull);
  // The tree.
  const Json& tree = j["tree"];
  ASSERT_EQ(tree.a.size(), 5u);
  EXPECT_EQ(tree[0]["parent"].n, -1);
  EXPECT_EQ(tree[2]["rows"].kind, Json::kNull);
  EXPECT_TRUE(tree[4]["leaf"].b);
  EXPECT_EQ(tree[4]["outcome"].s, "flux");
  EXPECT_DOUBLE_EQ(tree[4]["flux_share"].n, 0.97);
}

TEST(report, TableCellsAndMissingValues) {
  const std::string html = Render({Good(), Hostile()}, Tree());
  // Verdicts styled differently, probability with 3 decimals, NaN as a dash.
  EXPECT_NE(html.find("<span class=\"verdict flux\">flux</span>"), std::string::npos);
  EXPECT_NE(html.find(">0.987</td>"), std::string::npos);
  EXPECT_NE(html.find("</span></span>\xe2\x80\x93</td>"), std::string::npos);  // NaN probability
  EXPECT_NE(html.find("<td class=\"num\">88.5</td>"), std::string::npos);
  EXPECT_NE(html.find("2024-05-01 00:00Z"), std::string::npos);
  EXPECT_NE(html.find("distinct_ips &gt; 4.5 and distinct_asns &gt; 2.5 \xe2\x86\x92 flux"),
            std::string::npos);
  EXPECT_EQ(html.find(">nan<"), std::string::npos);
  EXPECT_EQ(html.find(">inf<"), std::string::npos);
}

TEST(report, InvalidUtf8AndControlsInHtml) {
  Detection d = Good();
  d.domain = "bad\xff\xc3(\xed\xa0\x80x\x01y\xe2\x80\xaez.example";
  const std::string html = Render({d}, {});
  // \xff, truncated \xc3, the surrogate \xed\xa0\x80 (one U+FFFD per maximal subpart: 3), the
  // control character and the bidi override each become U+FFFD.
  const std::string f = kFffd;
  EXPECT_NE(html.find("<td class=\"dom\">bad" + f + f + "(" + f + f + f + "x" + f + "y" + f +
                      "z.example</td>"),
            std::string::npos);
  const Json j = ParseBlob(html);
  EXPECT_EQ(j["detections"][0]["domain"].s,
            "bad" + f + f + "(" + f + f + f + "x\x01y\xe2\x80\xaez.example");
}

TEST(report, NoDetections) {
  const std::string html = Render({}, {});
  EXPECT_NE(html.find("No detections"), std::string::npos);
  EXPECT_EQ(html.find("<tr class=\"row"), std::string::npos);
  EXPECT_NE(html.find("id=\"no-tree\""), std::string::npos);
  const Json j = ParseBlob(html);
  EXPECT_EQ(j["total"].n, 0);
  EXPECT_TRUE(j["detections"].a.empty());
  EXPECT_TRUE(j["tree"].a.empty());
}

TEST(report, ThousandsAreCappedWithANote) {
  std::vector<Detection> dets(2345, Good());
  for (size_t i = 0; i < dets.size(); ++i) {
    dets[i].domain = "d";
    dets[i].domain += std::to_string(i);
    dets[i].domain += ".example";
  }
  const std::string html = Render(dets, Tree());
  EXPECT_EQ(Count(html, "<tr class=\"row "), 2000u);
  EXPECT_NE(html.find("Showing the first 2,000 of 2,345 detections; 345 omitted"),
            std::string::npos);
  EXPECT_NE(html.find(">d1999.example<"), std::string::npos);
  EXPECT_EQ(html.find("d2000.example"), std::string::npos);
  const Json j = ParseBlob(html);
  EXPECT_EQ(j["detections"].a.size(), 2000u);
  EXPECT_EQ(j["omitted"].n, 345);
  EXPECT_EQ(j["total"].n, 2345);
}

TEST(report, PathThatLeavesTheTreeStopsHighlighting) {
  Detection d = Good();
  d.path = {{"", "", kNaN}, {"distinct_ips > 4.5", "distinct_ips", 26}, {"no such node", "x", 1}};
  const Json j = ParseBlob(Render({d}, Tree()));
  const Json& nodes = j["detections"][0]["nodes"];
  ASSERT_EQ(nodes.a.size(), 2u);
  EXPECT_EQ(nodes[1].n, 2);
}

}  // namespace
}  // namespace fluxscore::detect
