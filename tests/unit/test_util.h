// Helpers for tests that build small PMML documents in memory.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "fluxscore/pmml/model.h"

namespace fluxscore::testing {

using pmml::Model;
using pmml::Value;
using Row = std::map<std::string, Value>;

inline Model MustLoad(const std::string& xml) {
  auto m = Model::LoadString(xml, "test.pmml");
  if (!m.ok()) ADD_FAILURE() << m.status().ToString();
  return std::move(m).value();
}

inline Status LoadError(const std::string& xml) {
  auto m = Model::LoadString(xml, "test.pmml");
  if (m.ok()) return Status::Ok();
  return m.status();
}

// Wraps DataDictionary fields, a MiningSchema and a model body into a PMML 4.4 document.
inline std::string Doc(const std::string& fields, const std::string& model) {
  return "<PMML xmlns=\"http://www.dmg.org/PMML-4_4\" version=\"4.4\"><Header/>"
         "<DataDictionary>" + fields + "</DataDictionary>" + model + "</PMML>";
}

inline Value Get(const Row& r, const std::string& k) {
  auto it = r.find(k);
  return it == r.end() ? Value{} : it->second;
}
inline bool IsMissing(const Value& v) { return std::holds_alternative<std::monostate>(v); }
inline std::string Str(const Value& v) {
  return std::holds_alternative<std::string>(v) ? std::get<std::string>(v) : "<not a string>";
}
inline double Num(const Value& v) {
  return std::holds_alternative<double>(v) ? std::get<double>(v) : NAN;
}

}  // namespace fluxscore::testing
