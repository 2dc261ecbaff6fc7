#include "pmml/eval/text_index.h"

#include <algorithm>
#include <cmath>
#include <regex>

namespace fluxscore::pmml {
namespace {

bool IsWordChar(unsigned char c) { return std::isalnum(c) || c == '_'; }
bool IsPunct(unsigned char c) { return c < 128 && std::ispunct(c); }
char Fold(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

void AddTrimmed(std::string_view piece, std::vector<std::string>* out) {
  size_t b = 0, e = piece.size();
  while (b < e && IsPunct(static_cast<unsigned char>(piece[b]))) ++b;
  while (e > b && IsPunct(static_cast<unsigned char>(piece[e - 1]))) --e;
  if (e > b) out->emplace_back(piece.substr(b, e - b));
}

const std::regex& CachedRegex(const std::string& pattern) {
  thread_local std::string last;
  thread_local std::regex re;
  if (pattern != last) {
    re = std::regex(pattern);
    last = pattern;
  }
  return re;
}

bool TokenEquals(std::string_view a, std::string_view b, bool case_sensitive) {
  if (a.size() != b.size()) return false;
  if (case_sensitive) return a == b;
  for (size_t i = 0; i < a.size(); ++i)
    if (Fold(a[i]) != Fold(b[i])) return false;
  return true;
}

}  // namespace

void Tokenize(const TextIndexPlan& t, std::string_view text, std::vector<std::string>* out) {
  out->clear();
  using T = TextIndexPlan::Tokenizer;
  switch (t.tokenizer) {
    case T::kSplitWhitespace: {
      size_t i = 0;
      while (i < text.size()) {
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
        size_t b = i;
        while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
        if (i > b) AddTrimmed(text.substr(b, i - b), out);
      }
      break;
    }
    case T::kMatchWord1:
    case T::kMatchWord2: {
      const size_t min_len = t.tokenizer == T::kMatchWord2 ? 2 : 1;
      size_t i = 0;
      while (i < text.size()) {
        while (i < text.size() && !IsWordChar(static_cast<unsigned char>(text[i]))) ++i;
        size_t b = i;
        while (i < text.size() && IsWordChar(static_cast<unsigned char>(text[i]))) ++i;
        if (i - b >= min_len) out->emplace_back(text.substr(b, i - b));
      }
      break;
    }
    case T::kMatchRegex: {
      const std::regex& re = CachedRegex(t.regex);
      std::string s(text);
      for (auto it = std::sregex_iterator(s.begin(), s.end(), re); it != std::sregex_iterator();
           ++it)
        if (it->length() > 0) out->push_back(it->str());
      break;
    }
    case T::kSplitRegex: {
      const std::regex& re = CachedRegex(t.regex);
      std::string s(text);
      std::sregex_token_iterator it(s.begin(), s.end(), re, -1), end;
      for (; it != end; ++it) AddTrimmed(it->str(), out);
      break;
    }
  }
}

int LimitedLevenshtein(std::string_view a, std::string_view b, bool case_sensitive,
                       int threshold) {
  const size_t n = a.size(), m = b.size();
  if (static_cast<int>(n > m ? n - m : m - n) > threshold) return -1;
  std::vector<int> prev(m + 1), cur(m + 1);
  for (size_t j = 0; j <= m; ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= n; ++i) {
    cur[0] = static_cast<int>(i);
    int row_min = cur[0];
    for (size_t j = 1; j <= m; ++j) {
      bool same = case_sensitive ? a[i - 1] == b[j - 1] : Fold(a[i - 1]) == Fold(b[j - 1]);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
      row_min = std::min(row_min, cur[j]);
    }
    if (row_min > threshold) return -1;
    std::swap(prev, cur);
  }
  return prev[m] > threshold ? -1 : prev[m];
}

double TermWeight(const TextIndexPlan& t, const std::vector<std::string>& text,
                  const std::vector<std::string>& term) {
  int frequency = 0;
  if (!text.empty() && !term.empty() && text.size() >= term.size()) {
    const int max_frequency =
        t.weights == TextIndexPlan::Weights::kBinary ? 1 : std::numeric_limits<int>::max();
    int best = std::numeric_limits<int>::max();
    for (size_t i = 0; i + term.size() <= text.size(); ++i) {
      int distance = 0;
      bool match = true;
      for (size_t j = 0; j < term.size() && match; ++j) {
        int threshold = t.max_levenshtein - distance;
        if (threshold == 0) {
          match = TokenEquals(text[i + j], term[j], t.case_sensitive);
        } else {
          int d = LimitedLevenshtein(text[i + j], term[j], t.case_sensitive, threshold);
          if (d < 0) match = false;
          else distance += d;
        }
      }
      if (!match) continue;
      if (t.best_hits) {
        if (distance < best) {
          frequency = 1;
          best = distance;
        } else if (distance == best) {
          ++frequency;
        }
      } else {
        ++frequency;
      }
      if (frequency >= max_frequency && (!t.best_hits || best == 0)) break;
    }
    frequency = std::min(frequency, max_frequency);
  }
  switch (t.weights) {
    case TextIndexPlan::Weights::kLogarithmic: return std::log10(1.0 + frequency);
    default: return frequency;
  }
}

}  // namespace fluxscore::pmml
