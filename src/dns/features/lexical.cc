// Public Suffix List, dictionary words and the name features.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>

#include "common/hash.h"
#include "dns/features/entropy.h"
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
      psl.Add(std::string_view(rule).substr(1), kException);
    } else if (rule.size() > 2 && rule[0] == '*' && rule[1] == '.') {
      psl.Add(std::string_view(rule).substr(2), kWildcard);
    } else if (rule.find('*') != std::string::npos) {
      return Status::DataError(fmt::format("{}:{}: unsupported wildcard rule '{}'", path, n, rule));
    } else {
      psl.Add(rule, kRule);
    }
  }
  if (psl.rules() == 0) return Status::DataError(fmt::format("{}: no rules: not a Public Suffix List", path));
  return psl;
}

void PublicSuffixList::Add(std::string_view text, uint8_t kind) {
  if ((used_ + 1) * 2 > table_.size()) {
    std::vector<Entry> old = std::move(table_);
    table_.assign(old.empty() ? 1024 : old.size() * 2, Entry());
    const size_t mask = table_.size() - 1;
    for (const Entry& e : old) {
      if (e.kinds == 0) continue;
      size_t i = e.hash & mask;
      while (table_[i].kinds != 0) i = (i + 1) & mask;
      table_[i] = e;
    }
  }
  size_t& count = counts_[kind == kRule ? 0 : kind == kWildcard ? 1 : 2];
  const uint64_t h = HashText(text);
  const size_t mask = table_.size() - 1;
  size_t i = h & mask;
  for (; table_[i].kinds != 0; i = (i + 1) & mask) {
    Entry& e = table_[i];
    if (e.hash == h && std::string_view(pool_.data() + e.off, e.len) == text) {
      if ((e.kinds & kind) == 0) ++count;
      e.kinds |= kind;
      return;
    }
  }
  table_[i] = Entry{h, static_cast<uint32_t>(pool_.size()), static_cast<uint32_t>(text.size()), kind};
  filter_[FilterBit(h) / 64] |= uint64_t{1} << (FilterBit(h) % 64);
  pool_.append(text);
  ++used_;
  ++count;
}

uint8_t PublicSuffixList::Kinds(std::string_view text) const {
  if (table_.empty()) return 0;
  const uint64_t h = HashText(text);
  if ((filter_[FilterBit(h) / 64] >> (FilterBit(h) % 64) & 1) == 0) return 0;
  const size_t mask = table_.size() - 1;
  for (size_t i = h & mask; table_[i].kinds != 0; i = (i + 1) & mask) {
    const Entry& e = table_[i];
    if (e.hash == h && std::string_view(pool_.data() + e.off, e.len) == text) return e.kinds;
  }
  return 0;
}

size_t PublicSuffixList::SuffixLength(std::string_view name) const {
  // Candidates from the longest suffix (the whole name) to the last label; the longest
  // matching rule wins, an exception rule cuts its leftmost label off, and the default rule
  // "*" makes the last label a suffix. A candidate's rules are looked up once: as the part
  // after the previous candidate's first label (its wildcard test), then as the candidate.
  size_t best = 0;
  size_t pos = 0;
  uint8_t kinds = Kinds(name);
  for (;;) {
    const std::string_view suffix = name.substr(pos);
    if (kinds & kException) {
      const size_t dot = suffix.find('.');
      return dot == std::string_view::npos ? 0 : suffix.size() - dot - 1;
    }
    if (kinds & kRule) best = std::max(best, suffix.size());
    // "*.x": this suffix is public when the part after its first label is a wildcard base.
    const size_t dot = suffix.find('.');
    uint8_t next = 0;
    if (dot != std::string_view::npos) {
      next = Kinds(suffix.substr(dot + 1));
      if (next & kWildcard) best = std::max(best, suffix.size());
    }
    if (best != 0) break;  // longer suffixes were tried first
    if (dot == std::string_view::npos) break;
    pos += dot + 1;
    kinds = next;
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
    w.Insert(h);
  }
  if (w.size_ == 0) return Status::DataError(fmt::format("{}: no words", path));
  return w;
}

void WordList::Insert(uint64_t h) {
  if (h == 0) h = 1;
  if ((size_ + 1) * 2 > table_.size()) {
    std::vector<uint64_t> old = std::move(table_);
    table_.assign(old.empty() ? 1024 : old.size() * 2, 0);
    for (const uint64_t x : old) {
      if (x == 0) continue;
      size_t i = MixBits(x) & (table_.size() - 1);
      while (table_[i] != 0) i = (i + 1) & (table_.size() - 1);
      table_[i] = x;
    }
  }
  const size_t mask = table_.size() - 1;
  for (size_t i = MixBits(h) & mask;; i = (i + 1) & mask) {
    if (table_[i] == h) return;
    if (table_[i] == 0) {
      table_[i] = h;
      ++size_;
      return;
    }
  }
}

bool WordList::Contains(uint64_t h) const {
  if (table_.empty()) return false;
  if (h == 0) h = 1;
  const size_t mask = table_.size() - 1;
  for (size_t i = MixBits(h) & mask; table_[i] != 0; i = (i + 1) & mask)
    if (table_[i] == h) return true;
  return false;
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
      if (len >= 3 && len > best && Contains(h)) best = len;
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
  // Byte counts, and which bytes occur (a 256-bit set): the entropy sums over the bytes present
  // in ascending byte order (the order fixes the floating-point result), without visiting all
  // 256 counts; the counts used are zeroed again on the way.
  thread_local std::array<uint32_t, 256> counts{};
  uint64_t present[4] = {0, 0, 0, 0};
  for (char ch : label) {
    const unsigned char c = static_cast<unsigned char>(ch);
    digits += c >= '0' && c <= '9';
    vowels += c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
    ++counts[c];
    present[c >> 6] |= uint64_t{1} << (c & 63);
  }
  const double n = static_cast<double>(label.size());
  f.digit_ratio = static_cast<double>(digits) / n;
  f.vowel_ratio = static_cast<double>(vowels) / n;
  double h = 0;
  for (unsigned w = 0; w < 4; ++w) {
    for (uint64_t bits = present[w]; bits != 0; bits &= bits - 1) {
      const unsigned c = w * 64 + static_cast<unsigned>(__builtin_ctzll(bits));
      h -= PLog2P(counts[c], label.size());
      counts[c] = 0;
    }
  }
  f.entropy = h;
  if (words != nullptr) f.word_ratio = static_cast<double>(words->LongestWord(label)) / n;
  return f;
}

}  // namespace fluxscore::dns
