// Public Suffix List, dictionary words and the name features.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>

#include "fluxscore/dns/features.h"

namespace fluxscore::dns {

Result<PublicSuffixList> PublicSuffixList::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Status::IoError(fmt::format(
        "{}: cannot open the Public Suffix List (Debian package publicsuffix; or --psl FILE)", path));
  }
  PublicSuffixList psl;
  std::string line;
  uint64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    // A rule is the first whitespace-delimited word of a line; "//" starts a comment.
    const size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line.compare(b, 2, "//") == 0) continue;
    const size_t e = line.find_first_of(" \t\r", b);
    std::string rule = line.substr(b, e == std::string::npos ? std::string::npos : e - b);
    for (char& c : rule)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (rule[0] == '!') {
      psl.exceptions_.insert(rule.substr(1));
    } else if (rule.size() > 2 && rule[0] == '*' && rule[1] == '.') {
      psl.wildcards_.insert(rule.substr(2));
    } else if (rule.find('*') != std::string::npos) {
      return Status::DataError(fmt::format("{}:{}: unsupported wildcard rule '{}'", path, n, rule));
    } else {
      psl.rules_.insert(rule);
    }
  }
  if (psl.rules() == 0) return Status::DataError(fmt::format("{}: no rules: not a Public Suffix List", path));
  return psl;
}

size_t PublicSuffixList::SuffixLength(std::string_view name) const {
  // Candidates from the longest suffix (the whole name) to the last label; the longest
  // matching rule wins, an exception rule cuts its leftmost label off, and the default rule
  // "*" makes the last label a suffix.
  thread_local std::string tmp;
  size_t best = 0;
  size_t pos = 0;
  for (;;) {
    const std::string_view suffix = name.substr(pos);
    tmp.assign(suffix);
    if (exceptions_.count(tmp) != 0) {
      const size_t dot = suffix.find('.');
      return dot == std::string_view::npos ? 0 : suffix.size() - dot - 1;
    }
    if (rules_.count(tmp) != 0) {
      best = std::max(best, suffix.size());
    }
    // "*.x": this suffix is public when the part after its first label is a wildcard base.
    const size_t dot = suffix.find('.');
    if (dot != std::string_view::npos) {
      tmp.assign(suffix.substr(dot + 1));
      if (wildcards_.count(tmp) != 0) best = std::max(best, suffix.size());
    }
    if (best != 0) break;  // longer suffixes were tried first
    if (dot == std::string_view::npos) break;
    pos += dot + 1;
  }
  if (best == 0) {
    const size_t last = name.rfind('.');
    best = last == std::string_view::npos ? name.size() : name.size() - last - 1;
  }
  return best;
}

std::string_view PublicSuffixList::Registered(std::string_view name) const {
  const size_t suffix = SuffixLength(name);
  if (suffix >= name.size()) return name;
  // name = ....label.suffix: take one more label.
  const size_t end = name.size() - suffix - 1;  // the dot before the suffix
  const size_t start = name.rfind('.', end == 0 ? 0 : end - 1);
  if (end == 0) return name;
  return start == std::string_view::npos ? name : name.substr(start + 1);
}

namespace {

// Polynomial hash of a lower-case word, extended one letter at a time; with 64 bits, distinct
// words of the list never collide in practice (~1e5 words: collision odds ~1e-10).
inline uint64_t WordHashStep(uint64_t h, char c) {
  return (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL + 0x9E3779B97F4A7C15ULL;
}

}  // namespace

Result<WordList> WordList::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Status::IoError(fmt::format(
        "{}: cannot open the word list (Debian package wamerican; or --words FILE)", path));
  }
  WordList w;
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() < 3) continue;
    bool ok = true;
    for (char& c : line) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      if (c < 'a' || c > 'z') {
        ok = false;  // possessives ("abbot's"), accented letters: not usable in host names
        break;
      }
    }
    if (!ok) continue;
    w.max_len_ = std::max(w.max_len_, line.size());
    uint64_t h = 0;
    for (char c : line) h = WordHashStep(h, c);
    w.words_.insert(h);
  }
  if (w.words_.empty()) return Status::DataError(fmt::format("{}: no words", path));
  return w;
}

size_t WordList::LongestWord(std::string_view label) const {
  size_t best = 0;
  for (size_t i = 0; i + best < label.size(); ++i) {
    uint64_t h = 0;
    const size_t end = std::min(label.size(), i + max_len_);
    for (size_t j = i; j < end; ++j) {
      const char c = label[j];
      if (c < 'a' || c > 'z') break;  // words are letters only
      h = WordHashStep(h, c);
      const size_t len = j - i + 1;
      if (len >= 3 && len > best && words_.count(h) != 0) best = len;
    }
  }
  return best;
}

NameFeatures ComputeNameFeatures(std::string_view domain, const PublicSuffixList* psl,
                                 const WordList* words) {
  NameFeatures f;
  f.length = static_cast<double>(domain.size());
  f.labels = static_cast<double>(std::count(domain.begin(), domain.end(), '.') + (domain.empty() ? 0 : 1));
  // The registered label: leftmost label of the registered domain.
  std::string_view reg = psl != nullptr ? psl->Registered(domain) : domain;
  std::string_view label = reg.substr(0, reg.find('.'));
  if (label.empty()) return f;
  size_t digits = 0, vowels = 0;
  std::array<uint32_t, 256> counts{};
  for (char ch : label) {
    const unsigned char c = static_cast<unsigned char>(ch);
    digits += c >= '0' && c <= '9';
    vowels += c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
    ++counts[c];
  }
  const double n = static_cast<double>(label.size());
  f.digit_ratio = static_cast<double>(digits) / n;
  f.vowel_ratio = static_cast<double>(vowels) / n;
  double h = 0;
  for (uint32_t c : counts) {
    if (c == 0) continue;
    const double p = c / n;
    h -= p * std::log2(p);
  }
  f.entropy = h;
  if (words != nullptr) f.word_ratio = static_cast<double>(words->LongestWord(label)) / n;
  return f;
}

}  // namespace fluxscore::dns
