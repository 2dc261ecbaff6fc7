// The decision path of a detection, in words.
#include <string>

#include "fluxscore/detect/detect.h"

namespace fluxscore::detect {

std::string PathInWords(const Detection& d) {
  std::string s;
  for (const PathStep& step : d.path) {
    if (step.condition.empty()) continue;
    if (!s.empty()) s += " and ";
    s += step.condition;
  }
  if (s.empty()) s = "(no condition)";
  s += " \xe2\x86\x92 ";  // →
  s += d.flux ? "flux" : "benign";
  return s;
}

}  // namespace fluxscore::detect
