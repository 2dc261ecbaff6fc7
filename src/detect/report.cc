// The analyst's HTML report of `fluxscore detect`: one self-contained page (inline CSS and
// JavaScript, no external resources). The summary and the detections table are rendered here as
// HTML; the per-domain evidence (decision path with values, sample IPs, charts) and the model's
// tree are drawn by the page's script from a JSON blob embedded in the page, lazily, when a row is
// opened. Every attacker-controlled string (domain names, organisation names, ...) is escaped for
// its context: HTML text/attributes, or JSON inside a <script> element. See docs/report.md.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "fluxscore/detect/detect.h"

namespace fluxscore::detect {
namespace {

constexpr size_t kMaxEmbedded = 2000;  // detections embedded in the page (table and JSON)
constexpr const char* kReplacement = "\xef\xbf\xbd";  // U+FFFD

// Decodes s as UTF-8, calling fn(code_point, bytes) for each character. Invalid sequences
// (stray continuation bytes, overlongs, surrogates, > U+10FFFF, truncated sequences) are passed
// as U+FFFD, one per maximal invalid subpart (the Unicode / WHATWG recommended practice).
template <typename Fn>
void ForEachCodePoint(std::string_view s, Fn&& fn) {
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      fn(static_cast<uint32_t>(c), s.substr(i, 1));
      ++i;
      continue;
    }
    int need = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      need = 1, cp = c & 0x1Fu;
    } else if (c == 0xE0) {
      need = 2, lo = 0xA0, cp = c & 0x0Fu;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
      need = 2, cp = c & 0x0Fu;
    } else if (c == 0xED) {
      need = 2, hi = 0x9F, cp = c & 0x0Fu;
    } else if (c == 0xF0) {
      need = 3, lo = 0x90, cp = c & 0x07u;
    } else if (c >= 0xF1 && c <= 0xF3) {
      need = 3, cp = c & 0x07u;
    } else if (c == 0xF4) {
      need = 3, hi = 0x8F, cp = c & 0x07u;
    } else {
      fn(0xFFFDu, std::string_view(kReplacement));
      ++i;
      continue;
    }
    size_t j = i + 1;
    int got = 0;
    for (; got < need && j < n; ++got, ++j) {
      const auto d = static_cast<unsigned char>(s[j]);
      if (d < lo || d > hi) break;
      cp = (cp << 6) | (d & 0x3Fu);
      lo = 0x80, hi = 0xBF;
    }
    if (got < need) {
      fn(0xFFFDu, std::string_view(kReplacement));
    } else {
      fn(cp, s.substr(i, j - i));
    }
    i = j;
  }
}

// Characters shown as U+FFFD in HTML: C0/C1 controls (but tab, LF, CR) and the bidirectional
// overrides/isolates, which could make a domain read differently from what it is.
bool Invisible(uint32_t cp) {
  if (cp < 0x20) return cp != '\t' && cp != '\n' && cp != '\r';
  if (cp >= 0x7F && cp <= 0x9F) return true;
  if (cp >= 0x202A && cp <= 0x202E) return true;
  if (cp >= 0x2066 && cp <= 0x2069) return true;
  return false;
}

// Escapes for HTML text and (double- or single-quoted) attribute values.
std::string Html(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  ForEachCodePoint(s, [&](uint32_t cp, std::string_view bytes) {
    switch (cp) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (Invisible(cp)) {
          out += kReplacement;
        } else {
          out.append(bytes);
        }
    }
  });
  return out;
}

// A JSON string literal that is safe inside a <script> element: no '<', '>' or '&' (so no
// "</script" or "<!--"), U+2028/U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
void JsonString(std::string& out, std::string_view s) {
  out += '"';
  ForEachCodePoint(s, [&](uint32_t cp, std::string_view bytes) {
    switch (cp) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '<': out += "\\u003c"; break;
      case '>': out += "\\u003e"; break;
      case '&': out += "\\u0026"; break;
      default:
        if (cp < 0x20 || cp == 0x7F || cp == 0x2028 || cp == 0x2029 ||
            (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
            (cp >= 0x2066 && cp <= 0x2069)) {
          out += fmt::format("\\u{:04x}", cp);
        } else {
          out.append(bytes);
        }
    }
  });
  out += '"';
}

// JSON has no NaN or infinity: those are null.
void JsonNumber(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  out += fmt::format("{}", v);
}

// 1234567 -> "1,234,567"
std::string Group(uint64_t v) {
  std::string digits = std::to_string(v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

constexpr const char* kDash = "\xe2\x80\x93";  // –

// A feature value for a table cell: "–" when missing, integers without decimals.
std::string Num(double v) {
  if (!std::isfinite(v)) return kDash;
  if (std::fabs(v) < 1e15 && v == std::floor(v)) {
    std::string s(v < 0 ? "-" : "");
    s += Group(static_cast<uint64_t>(std::fabs(v)));
    return s;
  }
  if (std::fabs(v) >= 1000) return fmt::format("{:.0f}", v);
  return fmt::format("{:.4g}", v);
}

std::string Bytes(uint64_t b) {
  if (b == 0) return kDash;
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  return u == 0 ? fmt::format("{} B", b) : fmt::format("{:.1f} {}", v, units[u]);
}

std::string Duration(double s) {
  if (!std::isfinite(s) || s < 0) return kDash;
  if (s < 1) return fmt::format("{:.3f} s", s);
  if (s < 60) return fmt::format("{:.2f} s", s);
  const auto total = static_cast<int64_t>(std::llround(s));
  if (total < 3600) return fmt::format("{} min {} s", total / 60, total % 60);
  return fmt::format("{} h {} min {} s", total / 3600, total % 3600 / 60, total % 60);
}

std::string WindowLength(int64_t w) {
  std::string human;
  if (w > 0 && w % 86400 == 0) {
    human = fmt::format("{} day{}", w / 86400, w == 86400 ? "" : "s");
  } else if (w > 0 && w % 3600 == 0) {
    human = fmt::format("{} h", w / 3600);
  } else if (w > 0 && w % 60 == 0) {
    human = fmt::format("{} min", w / 60);
  }
  std::string s = w < 0 ? std::to_string(w) : Group(static_cast<uint64_t>(w));
  s += " s";
  if (!human.empty()) s += " (" + human + ")";
  return s;
}

// Unix seconds -> "2024-05-01 00:00Z"; the raw number when out of range.
std::string Timestamp(int64_t t) {
  if (t < -62135596800LL || t > 253402300799LL) return std::to_string(t);
  const auto tt = static_cast<std::time_t>(t);
  std::tm tm{};
  if (gmtime_r(&tt, &tm) == nullptr) return std::to_string(t);
  if (tm.tm_sec != 0) {
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  }
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min);
}

double Feature(const Detection& d, std::string_view name) {
  for (const auto& [k, v] : d.features) {
    if (k == name) return v;
  }
  return std::nan("");
}

// The tree nodes (indexes into `tree`) on a detection's decision path, root first: the path's
// conditions are matched against the children of the node reached so far.
std::vector<int32_t> PathNodes(const Detection& d, const std::vector<TreeNodeView>& tree,
                               const std::vector<std::vector<int32_t>>& kids) {
  std::vector<int32_t> nodes;
  if (tree.empty() || d.path.empty()) return nodes;
  int32_t cur = -1;
  for (size_t i = 0; i < tree.size(); ++i) {
    if (tree[i].parent < 0) {
      cur = static_cast<int32_t>(i);
      break;
    }
  }
  if (cur < 0) return nodes;
  nodes.push_back(cur);
  for (const PathStep& step : d.path) {
    if (step.condition.empty()) continue;
    int32_t next = -1;
    for (int32_t k : kids[static_cast<size_t>(cur)]) {
      if (tree[static_cast<size_t>(k)].condition == step.condition) {
        next = k;
        break;
      }
    }
    if (next < 0) {
      // The root's own condition ("True") repeated in the path: not a step down.
      if (step.condition == tree[static_cast<size_t>(cur)].condition) continue;
      break;
    }
    nodes.push_back(next);
    cur = next;
  }
  return nodes;
}

std::string Nonce() {
  uint64_t a = 0, b = 0;
  try {
    std::random_device rd;
    a = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    b = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  } catch (...) {
    a = static_cast<uint64_t>(std::time(nullptr)) * 0x9E3779B97F4A7C15ULL;
    b = reinterpret_cast<uintptr_t>(&a) * 0xBF58476D1CE4E5B9ULL;
  }
  return fmt::format("{:016x}{:016x}", a, b);
}

constexpr const char* kCss = R"CSS(
:root{--bg:#f4f6f9;--card:#fff;--line:#e2e6ec;--text:#1d2733;--muted:#667385;--accent:#2357c6;
--flux:#b42318;--flux-bg:#fdecea;--benign:#1d7a3e;--benign-bg:#e6f4ea;--bar:#3b6fd8;--unk:#a3acb9;
--hl:#fff4cc;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono","Liberation Mono",monospace}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--text);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","Liberation Sans",sans-serif}
.wrap{max-width:1400px;margin:0 auto;padding:0 20px}
header.top{background:#17202c;color:#e9eef5;padding:14px 0;margin-bottom:18px}
header.top .wrap{display:flex;align-items:baseline;justify-content:space-between;gap:16px;flex-wrap:wrap}
.brand{font-size:19px;font-weight:650;letter-spacing:.2px}
.brand span{font-weight:400;color:#aab6c6;margin-left:6px}
header.top .meta{color:#aab6c6;font-size:13px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px 18px;margin-bottom:18px;box-shadow:0 1px 2px rgba(16,24,40,.04)}
h2{font-size:16px;margin:0 0 12px;font-weight:650}
h3{font-size:14px;margin:0 0 8px;font-weight:650}
.muted{color:var(--muted)}
.mono{font-family:var(--mono);font-size:12.5px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;margin-bottom:16px}
.kpi{border:1px solid var(--line);border-radius:6px;padding:10px 12px;background:#fafbfc}
.kpi .v{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums}
.kpi .k{color:var(--muted);font-size:12px}
.kpi.flux{background:var(--flux-bg);border-color:#f4c7c3}.kpi.flux .v{color:var(--flux)}
.kpi.warn .v{color:#a15c00}
.cols{display:grid;grid-template-columns:minmax(0,2fr) minmax(0,1fr);gap:24px}
@media (max-width:900px){.cols{grid-template-columns:1fr}}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:5px 16px;margin:0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;overflow-wrap:anywhere}
ul.plain{list-style:none;margin:0;padding:0}
table{border-collapse:collapse;width:100%}
table.mini td,table.mini th{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left}
table.mini td.num,table.mini th.num{text-align:right;font-variant-numeric:tabular-nums}
.sec-head{display:flex;align-items:center;justify-content:space-between;gap:12px;flex-wrap:wrap;margin-bottom:8px}
.sec-head h2{margin:0}
.count{display:inline-block;background:#eef2f7;border-radius:10px;padding:0 8px;font-size:13px;color:var(--muted);margin-left:4px}
.tools{display:flex;align-items:center;gap:12px}
.tools input[type=search]{font:inherit;padding:5px 9px;border:1px solid #c9d1db;border-radius:5px;width:260px}
.note{background:#fff8e6;border:1px solid #f3dfa6;border-radius:5px;padding:6px 10px;margin:8px 0}
.empty{padding:22px;text-align:center;color:var(--muted);border:1px dashed var(--line);border-radius:6px;font-size:15px}
.table-wrap{overflow:auto;max-height:80vh;border:1px solid var(--line);border-radius:6px}
table.det th{position:sticky;top:0;background:#f0f3f7;z-index:1;text-align:left;font-weight:600;font-size:12.5px;color:#3d4a5c;padding:7px 8px;border-bottom:1px solid var(--line);white-space:nowrap}
table.det td{padding:6px 8px;border-bottom:1px solid #edf0f4;vertical-align:top}
table.det td.num,table.det th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.det tr.row{cursor:pointer}
table.det tr.row:hover{background:#f5f8fd}
table.det tr.row:focus{outline:2px solid var(--accent);outline-offset:-2px}
table.det tr.row.open{background:#eaf1fd}
table.det td.dom{font-family:var(--mono);font-size:12.5px;overflow-wrap:anywhere;min-width:180px;max-width:340px}
table.det td.dom::before{content:"\25B8";color:var(--muted);margin-right:6px;display:inline-block;transition:transform .1s}
table.det tr.open td.dom::before{transform:rotate(90deg)}
table.det td.path{font-size:12px;color:#3d4a5c;min-width:220px;max-width:420px}
table.det td.when{white-space:nowrap;font-size:12.5px;color:var(--muted)}
.verdict{display:inline-block;border-radius:4px;padding:1px 8px;font-size:12px;font-weight:650;text-transform:uppercase;letter-spacing:.4px}
.verdict.flux{background:var(--flux-bg);color:var(--flux);border:1px solid #f4c7c3}
.verdict.benign{background:var(--benign-bg);color:var(--benign);border:1px solid #bfe3cb}
.pbar{display:inline-block;width:46px;height:6px;background:#e8ecf1;border-radius:3px;margin-right:7px;vertical-align:middle;overflow:hidden}
.pbar>span{display:block;height:100%;background:var(--accent)}
tr.flux .pbar>span{background:var(--flux)}
tr.detail-row>td{background:#f8fafd;padding:0;border-bottom:2px solid #cfd9ea}
.detail{padding:14px 16px}
.detail-head{display:flex;align-items:center;gap:12px;flex-wrap:wrap;margin-bottom:12px}
.detail-head h3{margin:0;font-family:var(--mono);font-size:14px;overflow-wrap:anywhere}
.detail-grid{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:18px;margin-bottom:14px}
@media (max-width:1000px){.detail-grid{grid-template-columns:1fr}}
.panel{background:#fff;border:1px solid var(--line);border-radius:6px;padding:10px 12px}
.panel h4,.chart figcaption{margin:0 0 8px;font-size:12.5px;text-transform:uppercase;letter-spacing:.5px;color:var(--muted);font-weight:650}
table.steps td,table.steps th{padding:4px 8px;border-bottom:1px solid #edf0f4;text-align:left;font-size:12.5px}
table.steps td.num{text-align:right;font-variant-numeric:tabular-nums}
table.steps td.cond{font-family:var(--mono)}
.leafline{margin-top:8px;font-size:13px}
ul.ips{list-style:none;margin:0;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:2px 12px;font-family:var(--mono);font-size:12px}
.feats{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:1px 14px;font-size:12px;margin-top:10px}
.feats div{display:flex;justify-content:space-between;border-bottom:1px dotted #e3e7ed;padding:1px 0}
.feats span:first-child{color:var(--muted);font-family:var(--mono)}
.feats span:last-child{font-variant-numeric:tabular-nums}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(330px,1fr));gap:14px}
figure.chart{margin:0;background:#fff;border:1px solid var(--line);border-radius:6px;padding:10px 12px}
svg.bars{width:100%;max-width:420px;height:auto;display:block}
svg.bars text{font-size:12px;fill:#2b3643}
svg.bars text.cnt{fill:var(--muted);font-variant-numeric:tabular-nums}
svg.bars g.bar rect{fill:var(--bar)}
svg.bars g.bar.unknown rect{fill:var(--unk)}
svg.bars g.bar.unknown text.lab{fill:var(--muted);font-style:italic}
figure.chart[data-chart=ttls] g.bar rect{fill:#0f8a7e}
figure.chart[data-chart=countries] g.bar rect{fill:#7a4cc2}
.btn{font:inherit;font-size:12.5px;border:1px solid #c9d1db;background:#fff;border-radius:5px;padding:3px 10px;cursor:pointer;color:var(--accent)}
.btn:hover{background:#f0f4fb}
.tree-wrap{overflow:auto;max-height:75vh;position:relative;border:1px solid var(--line);border-radius:6px;padding:10px 8px;background:#fbfcfd}
ul.tree,ul.tree ul{list-style:none;margin:0;padding:0}
ul.tree ul{margin-left:18px;padding-left:14px;border-left:1px solid #cfd6df}
ul.tree li{margin:3px 0;position:relative}
ul.tree ul>li::before{content:"";position:absolute;left:-14px;top:13px;width:12px;border-top:1px solid #cfd6df}
.node{display:inline-flex;align-items:center;gap:8px;border:1px solid #d5dce5;background:#fff;border-radius:5px;padding:3px 9px;font-size:12.5px}
.node .cond{font-family:var(--mono)}
.node .rows{color:var(--muted);font-size:11.5px}
.node.leaf-flux{border-color:#f0b7b1;background:#fff7f6}
.node.leaf-benign{border-color:#b9dfc6;background:#f6fcf8}
.node .share{display:inline-block;width:60px;height:6px;background:var(--benign-bg);border-radius:3px;overflow:hidden;vertical-align:middle}
.node .share>span{display:block;height:100%;background:var(--flux)}
.node.on-path{background:var(--hl);border-color:#e0b000;box-shadow:0 0 0 2px #f5d565}
.node.on-path.end{box-shadow:0 0 0 3px #e0a800}
.tree-caption{margin:0 0 8px}
footer{padding:6px 20px 30px;font-size:12px}
@media print{.tools,.hint,.btn{display:none}.table-wrap,.tree-wrap{max-height:none;overflow:visible}header.top{background:none;color:#000}}
)CSS";

constexpr const char* kJs = R"JS(
(function () {
  'use strict';
  var body = document.body;
  function fail(msg) { body.setAttribute('data-error', String(msg)); }
  window.onerror = function (msg, src, line) { fail(msg + (line ? ' (line ' + line + ')' : '')); };
  var DATA;
  try {
    DATA = JSON.parse(document.getElementById('fluxscore-data').textContent);
  } catch (e) { fail('report data: ' + e.message); return; }
  var DET = DATA.detections || [], TREE = DATA.tree || [];
  var SVGNS = 'http://www.w3.org/2000/svg';
  var DASH = '\u2013';
  var BAD = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
  function clean(s) { return String(s === null || s === undefined ? '' : s).replace(BAD, '\ufffd'); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = clean(text);
    return e;
  }
  function sv(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
    return e;
  }
  function fmtNum(v) {
    if (typeof v !== 'number' || !isFinite(v)) return DASH;
    if (Number.isInteger(v)) return v.toLocaleString('en-US');
    if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
    return String(+v.toPrecision(4));
  }
  function trunc(s, n) { s = clean(s); return s.length > n ? s.slice(0, n - 1) + '\u2026' : s; }
  function verdict(flux) { return el('span', 'verdict ' + (flux ? 'flux' : 'benign'), flux ? 'flux' : 'benign'); }

  // Horizontal bar chart as inline SVG. rows: [{label, value, unknown}]
  function barChart(kind, title, unit, rows, note) {
    var fig = el('figure', 'chart');
    fig.setAttribute('data-chart', kind);
    fig.appendChild(el('figcaption', null, title));
    if (!rows.length) { fig.appendChild(el('p', 'muted', 'no data')); return fig; }
    var W = 420, LW = 176, RH = 22, PAD = 4, max = 0;
    rows.forEach(function (r) { if (r.value > max) max = r.value; });
    var H = rows.length * RH + 2 * PAD;
    var svg = sv('svg', { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H, role: 'img', 'class': 'bars' });
    svg.setAttribute('aria-label', title);
    rows.forEach(function (r, k) {
      var y = PAD + k * RH;
      var g = sv('g', { 'class': 'bar' + (r.unknown ? ' unknown' : ''), 'data-label': clean(r.label), 'data-value': String(r.value) });
      var t = sv('title', {});
      t.textContent = clean(r.label) + ' \u2014 ' + fmtNum(r.value) + ' ' + unit;
      g.appendChild(t);
      var lab = sv('text', { x: LW - 8, y: y + RH / 2, 'text-anchor': 'end', 'dominant-baseline': 'central', 'class': 'lab' });
      lab.textContent = trunc(r.label, 23);
      g.appendChild(lab);
      var bw = max > 0 ? Math.max(2, (W - LW - 56) * r.value / max) : 2;
      g.appendChild(sv('rect', { x: LW, y: y + 4, width: bw.toFixed(1), height: RH - 8, rx: 2 }));
      var c = sv('text', { x: (LW + bw + 6).toFixed(1), y: y + RH / 2, 'dominant-baseline': 'central', 'class': 'cnt' });
      c.textContent = fmtNum(r.value);
      g.appendChild(c);
      svg.appendChild(g);
    });
    fig.appendChild(svg);
    if (note) fig.appendChild(el('p', 'muted', note));
    return fig;
  }
  // At most `cap` rows (already in display order); a note for the rest.
  function capRows(rows, cap, what, unit) {
    if (rows.length <= cap) return { rows: rows, note: '' };
    var rest = rows.slice(cap), sum = 0;
    rest.forEach(function (r) { sum += r.value; });
    return { rows: rows.slice(0, cap), note: '+ ' + rest.length + ' more ' + what + ' (' + fmtNum(sum) + ' ' + unit + ') not shown' };
  }
  function networkRows(d) {
    return (d.networks || []).map(function (n) {
      var known = n.asn > 0;
      var label = known ? 'AS' + n.asn + (n.org ? ' ' + n.org : '') : (n.org ? n.org + ' (no ASN)' : 'unknown');
      return { label: label, value: n.ips, unknown: !known };
    });
  }
  function countryRows(d) {
    return (d.countries || []).map(function (c) {
      return { label: c.country ? c.country : 'unknown', value: c.ips, unknown: !c.country };
    });
  }
  function ttlChart(d) {
    var t = (d.ttls || []).slice();
    var note = '';
    if (t.length > 24) {
      var byCount = t.slice().sort(function (a, b) { return b.answers - a.answers || a.ttl - b.ttl; });
      var rest = byCount.slice(24), sum = 0;
      rest.forEach(function (r) { sum += r.answers; });
      note = '+ ' + rest.length + ' more TTL values (' + fmtNum(sum) + ' answers) not shown';
      t = byCount.slice(0, 24).sort(function (a, b) { return a.ttl - b.ttl; });
    }
    var rows = t.map(function (x) { return { label: 'TTL ' + x.ttl + ' s', value: x.answers }; });
    return barChart('ttls', 'TTL distribution (answers per TTL)', 'answers', rows, note);
  }

  function buildDetail(i) {
    var d = DET[i];
    var wrap = el('div', 'detail');
    wrap.setAttribute('data-detail', String(i));
    var head = el('div', 'detail-head');
    head.appendChild(el('h3', null, d.domain));
    head.appendChild(verdict(d.flux));
    head.appendChild(el('span', null, 'P(flux) = ' + (typeof d.p === 'number' ? d.p.toFixed(3) : DASH)));
    head.appendChild(el('span', 'muted', 'window from ' + d.window));
    if (TREE.length && d.nodes && d.nodes.length) {
      var b = el('button', 'btn', 'Show path in tree \u2193');
      b.type = 'button';
      b.addEventListener('click', function (ev) {
        ev.stopPropagation();
        select(i);
        var s = document.getElementById('tree-section');
        if (s) s.scrollIntoView({ block: 'start' });
      });
      head.appendChild(b);
    }
    wrap.appendChild(head);

    var grid = el('div', 'detail-grid');
    var left = el('div', 'panel');
    left.appendChild(el('h4', null, 'Decision path'));
    var steps = (d.path || []).filter(function (s) { return s.condition !== ''; });
    if (steps.length) {
      var tb = el('table', 'steps');
      var hr = el('tr');
      ['#', 'condition', 'field', 'this domain'].forEach(function (h) { hr.appendChild(el('th', null, h)); });
      var th = el('thead'); th.appendChild(hr); tb.appendChild(th);
      var bd = el('tbody');
      steps.forEach(function (s, k) {
        var tr = el('tr');
        tr.appendChild(el('td', 'num', String(k + 1)));
        tr.appendChild(el('td', 'cond', s.condition));
        tr.appendChild(el('td', 'mono', s.field));
        tr.appendChild(el('td', 'num', s.value === null ? DASH + ' (missing)' : fmtNum(s.value)));
        bd.appendChild(tr);
      });
      tb.appendChild(bd);
      left.appendChild(tb);
    } else {
      left.appendChild(el('p', 'muted', 'No decision path (the model is not a single tree).'));
    }
    var leaf = el('div', 'leafline');
    leaf.appendChild(el('span', 'muted', 'Outcome: '));
    leaf.appendChild(el('span', null, d.leaf || (d.flux ? 'flux' : 'benign')));
    left.appendChild(leaf);
    if (d.features && d.features.length) {
      var fe = el('div', 'feats');
      d.features.forEach(function (f) {
        var row = el('div');
        row.appendChild(el('span', null, f[0]));
        row.appendChild(el('span', null, fmtNum(f[1])));
        fe.appendChild(row);
      });
      left.appendChild(el('h4', null, 'Features'));
      left.lastChild.style.marginTop = '12px';
      left.appendChild(fe);
    }
    grid.appendChild(left);

    var right = el('div', 'panel');
    var ips = d.ips || [];
    right.appendChild(el('h4', null, 'Sample IPs (' + ips.length + ')'));
    if (ips.length) {
      var ul = el('ul', 'ips');
      ips.forEach(function (ip) { ul.appendChild(el('li', null, ip)); });
      right.appendChild(ul);
    } else {
      right.appendChild(el('p', 'muted', 'none recorded'));
    }
    grid.appendChild(right);
    wrap.appendChild(grid);

    var charts = el('div', 'charts');
    var n = capRows(networkRows(d), 20, 'networks', 'IPs');
    charts.appendChild(barChart('networks', 'IPs by network', 'IPs', n.rows, n.note));
    var c = capRows(countryRows(d), 20, 'countries', 'IPs');
    charts.appendChild(barChart('countries', 'IPs by country', 'IPs', c.rows, c.note));
    charts.appendChild(ttlChart(d));
    wrap.appendChild(charts);
    return wrap;
  }

  // ---- the model's tree ----
  var treeEls = [];
  function buildTree() {
    var host = document.getElementById('tree');
    if (!host || !TREE.length) return;
    var lis = TREE.map(function (n, k) {
      var li = el('li');
      var cls = 'node';
      if (n.leaf) cls += ' leaf ' + (n.outcome === 'flux' ? 'leaf-flux' : 'leaf-benign');
      var box = el('div', cls);
      box.id = 'tree-node-' + k;
      box.setAttribute('data-node', String(k));
      box.appendChild(el('span', 'cond', n.condition === '' ? 'all rows' : n.condition));
      if (n.leaf) {
        box.appendChild(verdict(n.outcome === 'flux'));
        if (typeof n.flux_share === 'number') {
          var sh = el('span', 'share');
          var fill = el('span');
          fill.style.width = Math.max(0, Math.min(100, n.flux_share * 100)).toFixed(1) + '%';
          sh.appendChild(fill);
          sh.title = 'share of flux among the training rows';
          box.appendChild(sh);
          box.appendChild(el('span', 'rows', (n.flux_share * 100).toFixed(1) + '% flux'));
        }
      }
      if (typeof n.rows === 'number') box.appendChild(el('span', 'rows', 'n = ' + fmtNum(n.rows)));
      li.appendChild(box);
      treeEls.push(box);
      return li;
    });
    var root = el('ul', 'tree'), subs = [];
    TREE.forEach(function (n, k) {
      var p = n.parent;
      if (typeof p === 'number' && p >= 0 && p < TREE.length && p !== k) {
        if (!subs[p]) { subs[p] = el('ul'); lis[p].appendChild(subs[p]); }
        subs[p].appendChild(lis[k]);
      } else {
        root.appendChild(lis[k]);
      }
    });
    host.appendChild(root);
  }
  var selected = -1;
  function select(i) {
    selected = i;
    treeEls.forEach(function (b) { b.classList.remove('on-path', 'end'); });
    var cap = document.getElementById('tree-caption');
    if (i < 0 || !DET[i]) {
      if (cap) cap.textContent = 'Open a detection to highlight its decision path.';
      return;
    }
    var nodes = DET[i].nodes || [];
    nodes.forEach(function (k, j) {
      var b = treeEls[k];
      if (!b) return;
      b.classList.add('on-path');
      if (j === nodes.length - 1) b.classList.add('end');
    });
    if (cap) {
      cap.textContent = '';
      cap.appendChild(el('span', 'muted', nodes.length ? 'Highlighted: the decision path of ' : 'No path in this tree for '));
      cap.appendChild(el('span', 'mono', DET[i].domain));
    }
    var last = treeEls[nodes[nodes.length - 1]], host = document.getElementById('tree-wrap');
    if (last && host) host.scrollTop = Math.max(0, last.offsetTop - host.clientHeight / 2);
  }

  // ---- the detections table ----
  var tbody = document.getElementById('det-body');
  var rows = tbody ? Array.prototype.slice.call(tbody.querySelectorAll('tr.row')) : [];
  var NCOLS = rows.length ? rows[0].children.length : 1;
  function rowOf(i) { return rows[i] && +rows[i].getAttribute('data-i') === i ? rows[i] : null; }
  function detailRowOf(tr) {
    var n = tr.nextElementSibling;
    return n && n.classList.contains('detail-row') ? n : null;
  }
  function openRow(i, scroll) {
    var tr = rowOf(i);
    if (!tr) return;
    var dr = detailRowOf(tr);
    if (!dr) {
      dr = el('tr', 'detail-row');
      var td = el('td');
      td.colSpan = NCOLS;
      td.appendChild(buildDetail(i));
      dr.appendChild(td);
      tr.parentNode.insertBefore(dr, tr.nextSibling);
    }
    dr.hidden = tr.hidden;
    tr.classList.add('open');
    tr.setAttribute('aria-expanded', 'true');
    select(i);
    if (scroll) tr.scrollIntoView({ block: 'nearest' });
  }
  function closeRow(i) {
    var tr = rowOf(i);
    if (!tr) return;
    var dr = detailRowOf(tr);
    if (dr) dr.hidden = true;
    tr.classList.remove('open');
    tr.setAttribute('aria-expanded', 'false');
    if (selected === i) select(-1);
  }
  function toggle(i) {
    var tr = rowOf(i);
    if (!tr) return;
    if (tr.classList.contains('open')) {
      closeRow(i);
      if (location.hash === '#detail=' + i && history.replaceState) history.replaceState(null, '', location.pathname + location.search);
    } else {
      openRow(i, false);
      if (history.replaceState) history.replaceState(null, '', '#detail=' + i);
    }
  }
  if (tbody) {
    tbody.addEventListener('click', function (ev) {
      var tr = ev.target.closest ? ev.target.closest('tr.row') : null;
      if (tr) toggle(+tr.getAttribute('data-i'));
    });
    tbody.addEventListener('keydown', function (ev) {
      var tr = ev.target.closest ? ev.target.closest('tr.row') : null;
      if (tr && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); toggle(+tr.getAttribute('data-i')); }
    });
  }
  var q = document.getElementById('filter'), fo = document.getElementById('flux-only'), shown = document.getElementById('shown');
  function applyFilter() {
    var s = q ? q.value.trim().toLowerCase() : '', only = fo ? fo.checked : false, n = 0;
    rows.forEach(function (tr) {
      var d = DET[+tr.getAttribute('data-i')];
      var ok = !!d && (!only || d.flux) && (!s || String(d.domain).toLowerCase().indexOf(s) >= 0);
      tr.hidden = !ok;
      var dr = detailRowOf(tr);
      if (dr) dr.hidden = !ok || !tr.classList.contains('open');
      if (ok) n++;
    });
    if (shown) shown.textContent = n === rows.length ? rows.length.toLocaleString('en-US') + ' rows' : n.toLocaleString('en-US') + ' of ' + rows.length.toLocaleString('en-US') + ' rows';
  }
  if (q) q.addEventListener('input', applyFilter);
  if (fo) fo.addEventListener('change', applyFilter);

  function fromHash(scroll) {
    var m = /^#detail=(\d+)$/.exec(location.hash);
    if (m) openRow(+m[1], scroll);
  }
  buildTree();
  applyFilter();
  select(-1);
  fromHash(true);
  window.addEventListener('hashchange', function () { fromHash(true); });
  body.setAttribute('data-rendered', 'ok');
})();
)JS";

void WriteKpi(std::string& h, const std::string& value, const std::string& label,
              const char* cls = "") {
  h += fmt::format("<div class=\"kpi {}\"><div class=\"v\">{}</div><div class=\"k\">{}</div></div>",
                   cls, value, label);
}

void WriteFact(std::string& h, const char* name, const std::string& html_value) {
  h += fmt::format("<dt>{}</dt><dd>{}</dd>\n", name, html_value);
}

}  // namespace

void WriteHtmlReport(std::ostream& out, const RunSummary& summary,
                     const std::vector<Detection>& detections,
                     const std::vector<TreeNodeView>& tree) {
  const size_t shown = std::min(detections.size(), kMaxEmbedded);
  const size_t omitted = detections.size() - shown;
  const std::string nonce = Nonce();

  std::vector<std::vector<int32_t>> kids(tree.size());
  for (size_t i = 0; i < tree.size(); ++i) {
    const int32_t p = tree[i].parent;
    if (p >= 0 && static_cast<size_t>(p) < tree.size() && static_cast<size_t>(p) != i) {
      kids[static_cast<size_t>(p)].push_back(static_cast<int32_t>(i));
    }
  }

  std::string h;
  h.reserve(64 * 1024 + shown * 600);
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += fmt::format(
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'; script-src 'nonce-{}'; img-src data:; base-uri 'none'; "
      "form-action 'none'\">\n",
      nonce);
  h += "<meta name=\"generator\" content=\"fluxscore detect\">\n";
  h += fmt::format("<title>fluxscore detect \xe2\x80\x94 {} flagged of {} scored</title>\n",
                   Group(summary.flagged), Group(summary.scored));
  h += "<link rel=\"icon\" href=\"data:,\">\n<style>";
  h += kCss;
  h += "</style>\n</head>\n<body>\n";

  // Header.
  h += "<header class=\"top\"><div class=\"wrap\"><div class=\"brand\">fluxscore"
       "<span>fast-flux detection report</span></div><div class=\"meta\">";
  h += "Generated " + (summary.generated_at.empty() ? std::string(kDash) : Html(summary.generated_at));
  h += "</div></div></header>\n<main class=\"wrap\">\n";

  // Summary.
  h += "<section class=\"card\" id=\"summary\">\n<h2>Run summary</h2>\n<div class=\"kpis\">";
  WriteKpi(h, Group(summary.flagged), "domains flagged as flux", "flux");
  WriteKpi(h, Group(summary.scored), "scored by the model");
  WriteKpi(h, Group(summary.keys), "domains seen (domain &times; window)");
  WriteKpi(h, Group(summary.prefiltered),
           fmt::format("filtered by the prefilter (&lt; {} IPs)", summary.min_ips));
  WriteKpi(h, Group(summary.records_read), "records read");
  WriteKpi(h, Group(summary.records_used), "records used");
  WriteKpi(h, Group(summary.records_rejected), "records rejected",
           summary.records_rejected > 0 ? "warn" : "");
  h += "</div>\n<div class=\"cols\">\n<dl class=\"facts\">\n";
  {
    std::string inputs;
    if (summary.inputs.empty()) {
      inputs = kDash;
    } else {
      inputs = "<ul class=\"plain mono\">";
      for (const auto& in : summary.inputs) inputs += "<li>" + Html(in) + "</li>";
      inputs += "</ul>";
    }
    WriteFact(h, "Inputs", inputs);
  }
  WriteFact(h, "Model", "<span class=\"mono\">" + Html(summary.model) + "</span>");
  if (!summary.model_description.empty()) {
    WriteFact(h, "Model description", Html(summary.model_description));
  }
  WriteFact(h, "Window", WindowLength(summary.window_seconds));
  WriteFact(h, "Threshold",
            std::isfinite(summary.threshold)
                ? fmt::format("P(flux) &ge; {}", summary.threshold)
                : std::string(kDash));
  WriteFact(h, "Prefilter", fmt::format("at least {} distinct IPs", summary.min_ips));
  WriteFact(h, "Run time", Duration(summary.seconds));
  WriteFact(h, "Peak memory", Bytes(summary.peak_memory_bytes));
  WriteFact(h, "Generated at",
            summary.generated_at.empty() ? std::string(kDash) : Html(summary.generated_at));
  h += "</dl>\n<div>\n<h3>Rejected records by reason</h3>\n";
  if (summary.rejected_by_reason.empty()) {
    h += "<p class=\"muted\">none</p>\n";
  } else {
    h += "<table class=\"mini\"><thead><tr><th>reason</th><th class=\"num\">records</th></tr>"
         "</thead><tbody>";
    for (const auto& [reason, n] : summary.rejected_by_reason) {
      h += fmt::format("<tr><td>{}</td><td class=\"num\">{}</td></tr>", Html(reason), Group(n));
    }
    h += "</tbody></table>\n";
  }
  h += "</div>\n</div>\n</section>\n";

  // Detections.
  h += "<section class=\"card\" id=\"detections\">\n<div class=\"sec-head\"><h2>Detections";
  h += fmt::format("<span class=\"count\">{}</span></h2>", Group(detections.size()));
  if (shown > 0) {
    h += "<div class=\"tools\"><input type=\"search\" id=\"filter\" placeholder=\"Filter "
         "domains\xe2\x80\xa6\" aria-label=\"Filter domains\" autocomplete=\"off\">"
         "<label><input type=\"checkbox\" id=\"flux-only\"> flux only</label>"
         "<span id=\"shown\" class=\"muted\"></span></div>";
  }
  h += "</div>\n";
  if (omitted > 0) {
    h += fmt::format(
        "<p class=\"note\" id=\"omitted\">Showing the first {} of {} detections; {} omitted "
        "from this report.</p>\n",
        Group(shown), Group(detections.size()), Group(omitted));
  }
  if (shown == 0) {
    h += "<p class=\"empty\" id=\"no-detections\">No detections in this run.</p>\n";
  } else {
    h += "<p class=\"muted hint\">Click a row for its evidence: the decision path with this "
         "domain's values, sample IPs, and IPs by network, by country and TTL charts.</p>\n";
    h += "<div class=\"table-wrap\"><table class=\"det\"><thead><tr><th class=\"num\">#</th>"
         "<th>domain</th><th>verdict</th><th class=\"num\">P(flux)</th>"
         "<th class=\"num\">IPs</th><th class=\"num\">ASNs</th><th class=\"num\">countries</th>"
         "<th class=\"num\">TTL mean</th><th>window start</th><th>decision path</th></tr>"
         "</thead>\n<tbody id=\"det-body\">\n";
    for (size_t i = 0; i < shown; ++i) {
      const Detection& d = detections[i];
      const double p = d.probability;
      const std::string pw =
          std::isfinite(p) ? fmt::format("{:.1f}", std::clamp(p, 0.0, 1.0) * 100) : "0";
      h += fmt::format(
          "<tr class=\"row {0}\" data-i=\"{1}\" tabindex=\"0\" aria-expanded=\"false\">"
          "<td class=\"num\">{2}</td><td class=\"dom\">{3}</td>"
          "<td><span class=\"verdict {0}\">{0}</span></td>"
          "<td class=\"num\"><span class=\"pbar\"><span style=\"width:{4}%\"></span></span>{5}</td>"
          "<td class=\"num\">{6}</td><td class=\"num\">{7}</td><td class=\"num\">{8}</td>"
          "<td class=\"num\">{9}</td><td class=\"when\">{10}</td><td class=\"path\">{11}</td>"
          "</tr>\n",
          d.flux ? "flux" : "benign", i, i + 1, Html(d.domain), pw,
          std::isfinite(p) ? fmt::format("{:.3f}", p) : std::string(kDash),
          Num(Feature(d, "distinct_ips")), Num(Feature(d, "distinct_asns")),
          Num(Feature(d, "distinct_countries")), Num(Feature(d, "ttl_mean")),
          Timestamp(d.window_start), Html(PathInWords(d)));
    }
    h += "</tbody></table></div>\n";
  }
  h += "</section>\n";

  // Tree.
  h += "<section class=\"card\" id=\"tree-section\">\n<h2>Model tree</h2>\n";
  if (tree.empty()) {
    h += "<p class=\"muted\" id=\"no-tree\">The model is not a single decision tree; there is no "
         "tree to draw.</p>\n";
  } else {
    h += fmt::format(
        "<p class=\"tree-caption\" id=\"tree-caption\"></p><p class=\"muted\">{} nodes. Leaves "
        "show the outcome and the share of flux among the training rows that reached them.</p>\n",
        Group(tree.size()));
    h += "<div class=\"tree-wrap\" id=\"tree-wrap\"><div id=\"tree\"></div></div>\n";
  }
  h += "</section>\n</main>\n";
  h += "<footer class=\"wrap muted\">fluxscore detect &middot; self-contained report: no "
       "external resources are loaded. Detection data is embedded in this file.</footer>\n";
  h += "<noscript><p class=\"wrap\">JavaScript is disabled: the summary and the table are shown, "
       "the per-domain charts and the tree need JavaScript.</p></noscript>\n";

  // Data.
  h += "<script type=\"application/json\" id=\"fluxscore-data\">";
  h += fmt::format("{{\"version\":1,\"total\":{},\"embedded\":{},\"omitted\":{},\"threshold\":",
                   detections.size(), shown, omitted);
  JsonNumber(h, summary.threshold);
  h += ",\"detections\":[";
  for (size_t i = 0; i < shown; ++i) {
    const Detection& d = detections[i];
    if (i > 0) h += ",\n";
    h += "{\"domain\":";
    JsonString(h, d.domain);
    h += fmt::format(",\"window_start\":{},\"window\":", d.window_start);
    JsonString(h, Timestamp(d.window_start));
    h += d.flux ? ",\"flux\":true,\"p\":" : ",\"flux\":false,\"p\":";
    JsonNumber(h, d.probability);
    h += ",\"leaf\":";
    JsonString(h, d.leaf);
    h += ",\"words\":";
    JsonString(h, PathInWords(d));
    h += ",\"path\":[";
    for (size_t k = 0; k < d.path.size(); ++k) {
      if (k > 0) h += ',';
      h += "{\"condition\":";
      JsonString(h, d.path[k].condition);
      h += ",\"field\":";
      JsonString(h, d.path[k].field);
      h += ",\"value\":";
      JsonNumber(h, d.path[k].value);
      h += '}';
    }
    h += "],\"nodes\":[";
    const std::vector<int32_t> nodes = PathNodes(d, tree, kids);
    for (size_t k = 0; k < nodes.size(); ++k) {
      if (k > 0) h += ',';
      h += std::to_string(nodes[k]);
    }
    h += "],\"features\":[";
    for (size_t k = 0; k < d.features.size(); ++k) {
      if (k > 0) h += ',';
      h += '[';
      JsonString(h, d.features[k].first);
      h += ',';
      JsonNumber(h, d.features[k].second);
      h += ']';
    }
    h += "],\"ips\":[";
    for (size_t k = 0; k < d.evidence.ips.size(); ++k) {
      if (k > 0) h += ',';
      JsonString(h, d.evidence.ips[k]);
    }
    h += "],\"networks\":[";
    for (size_t k = 0; k < d.evidence.networks.size(); ++k) {
      const NetworkCount& n = d.evidence.networks[k];
      if (k > 0) h += ',';
      h += fmt::format("{{\"asn\":{},\"org\":", n.asn);
      JsonString(h, n.org);
      h += fmt::format(",\"ips\":{}}}", n.ips);
    }
    h += "],\"countries\":[";
    for (size_t k = 0; k < d.evidence.countries.size(); ++k) {
      const CountryCount& c = d.evidence.countries[k];
      if (k > 0) h += ',';
      h += "{\"country\":";
      JsonString(h, c.country);
      h += fmt::format(",\"ips\":{}}}", c.ips);
    }
    h += "],\"ttls\":[";
    for (size_t k = 0; k < d.evidence.ttls.size(); ++k) {
      const TtlCount& t = d.evidence.ttls[k];
      if (k > 0) h += ',';
      h += fmt::format("{{\"ttl\":{},\"answers\":{}}}", t.ttl, t.answers);
    }
    h += "]}";
    if (h.size() > (1u << 20)) {  // stream large reports out in pieces
      out << h;
      h.clear();
    }
  }
  h += "],\n\"tree\":[";
  for (size_t i = 0; i < tree.size(); ++i) {
    const TreeNodeView& n = tree[i];
    if (i > 0) h += ",\n";
    h += fmt::format("{{\"parent\":{},\"depth\":{},\"condition\":", n.parent, n.depth);
    JsonString(h, n.condition);
    h += n.leaf ? ",\"leaf\":true,\"outcome\":" : ",\"leaf\":false,\"outcome\":";
    JsonString(h, n.outcome);
    h += ",\"flux_share\":";
    if (n.leaf) {
      JsonNumber(h, n.flux_share);
    } else {
      h += "null";
    }
    h += ",\"rows\":";
    JsonNumber(h, n.rows);
    h += '}';
  }
  h += "]}</script>\n";
  h += fmt::format("<script nonce=\"{}\">", nonce);
  h += kJs;
  h += "</script>\n</body>\n</html>\n";
  out << h;
}

}  // namespace fluxscore::detect
