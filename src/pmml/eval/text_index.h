// TextIndex: term frequency of a (multi-word) term in a text, with PMML's tokenization,
// case folding, Levenshtein tolerance and local term weights (jpmml TextUtil semantics).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pmml/plan/plan.h"

namespace fluxscore::pmml {

// Splits `text` into tokens as the plan says.
void Tokenize(const TextIndexPlan& t, std::string_view text, std::vector<std::string>* out);

// The weighted frequency of `term` in the already tokenized text.
double TermWeight(const TextIndexPlan& t, const std::vector<std::string>& text_tokens,
                  const std::vector<std::string>& term_tokens);

// Character Levenshtein distance, or -1 when it exceeds `threshold`.
int LimitedLevenshtein(std::string_view a, std::string_view b, bool case_sensitive, int threshold);

}  // namespace fluxscore::pmml
