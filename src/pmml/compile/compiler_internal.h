// Internal state shared by the compile passes (compiler.cc, expressions.cc, tree.cc).
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pmml/compile/compiler.h"

namespace fluxscore::pmml {

// Deepest expression / predicate / derived-field nesting accepted (guards the C++ stack).
inline constexpr int kMaxNesting = 500;

class Compiler {
 public:
  Compiler(const Document& doc, const LoadOptions& options, Plan& plan)
      : doc_(doc), options_(options), plan_(plan) {}
  Status Run();

  // ---- shared helpers (compiler.cc)
  Status Error(pugi::xml_node n, std::string_view msg) const;
  Status Unsupported(pugi::xml_node n, std::string_view msg) const;
  // Refuses attributes not in `attrs` (x- attributes and xmlns are always allowed) and child
  // elements not in `children` (Extension is always allowed and ignored).
  Status Check(pugi::xml_node n, std::initializer_list<std::string_view> attrs,
               std::initializer_list<std::string_view> children) const;
  static std::vector<pugi::xml_node> Children(pugi::xml_node n);  // elements, minus Extension
  static pugi::xml_node Child(pugi::xml_node n, std::string_view name);
  Result<double> Number(pugi::xml_node n, const char* attr, double fallback) const;
  Result<double> RequiredNumber(pugi::xml_node n, const char* attr) const;
  // Parses text as a value of type t; strings are interned into the plan's pool.
  Result<double> ParseTyped(pugi::xml_node n, std::string_view text, ValueType t, bool is_float);
  Result<Cell> OptionalTyped(pugi::xml_node n, const char* attr, ValueType t, bool is_float);

  struct Binding {
    int32_t slot = -1;
    int32_t field = -1;  // Plan::fields index (-1 for output fields)
    ValueType type = ValueType::kNumber;
    bool is_float = false;
    OpType op = OpType::kContinuous;
  };
  // Resolves a field name in the current scope, compiling a derived field on first use.
  Result<Binding> Resolve(std::string_view name, pugi::xml_node where, int depth);

  // ---- expressions.cc
  struct Params {  // DefineFunction parameters bound to argument expressions
    std::vector<std::string> names;
    std::vector<int32_t> exprs;
    std::vector<ValueType> types;
  };
  static bool IsExpression(std::string_view name);
  Result<int32_t> CompileExpr(pugi::xml_node n, int depth, const Params* params);
  Status CompileDerived(pugi::xml_node def, int depth);
  int32_t AddExpr(const Expr& e);
  ValueType TypeOf(int32_t expr) const { return plan_.exprs[static_cast<size_t>(expr)].type; }

  // ---- tree.cc
  Status CompileTree(pugi::xml_node model);
  Result<int32_t> CompilePredicate(pugi::xml_node n, int depth);

  const Document& doc_;
  const LoadOptions& options_;
  Plan& plan_;
  std::unordered_map<std::string, int32_t> data_fields_;  // name -> Plan::fields index
  std::unordered_map<std::string, pugi::xml_node> derived_defs_;  // local overrides global
  std::unordered_map<std::string, pugi::xml_node> functions_;
  std::unordered_map<std::string, Binding> scope_;   // resolved names
  std::unordered_map<std::string, int> derived_state_;  // 1 = compiling, 2 = done
  std::unordered_map<std::string, int> function_state_;  // recursion guard
  pugi::xml_node model_;
  int32_t target_field_ = -1;
};

}  // namespace fluxscore::pmml
