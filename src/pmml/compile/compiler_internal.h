// Internal state shared by the compile passes (compiler.cc, expressions.cc, tree.cc,
// regression.cc, mining.cc).
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pmml/compile/compiler.h"

namespace fluxscore::pmml {

// Deepest expression / predicate / derived-field / segment nesting accepted (guards the stack).
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
  // With `found`, found[i] is also set to the attribute named attrs[i] (the first of that name;
  // null when absent), from the same pass over the attributes.
  Status Check(pugi::xml_node n, std::initializer_list<std::string_view> attrs,
               std::initializer_list<std::string_view> children,
               pugi::xml_attribute* found = nullptr) const;
  // The attribute half of Check.
  Status CheckAttributes(pugi::xml_node n, std::initializer_list<std::string_view> attrs,
                         pugi::xml_attribute* found) const;
  static std::vector<pugi::xml_node> Children(pugi::xml_node n);  // elements, minus Extension
  static pugi::xml_node Child(pugi::xml_node n, std::string_view name);
  static bool IsModelElement(std::string_view name);
  Result<double> Number(pugi::xml_node n, const char* attr, double fallback) const;
  // The same for the attribute `a` of n, named `attr` (found by Check).
  Result<double> Number(pugi::xml_node n, const char* attr, pugi::xml_attribute a,
                        double fallback) const;
  Result<double> RequiredNumber(pugi::xml_node n, const char* attr) const;
  // Parses text as a value of type t; strings are interned into the plan's pool.
  Result<double> ParseTyped(pugi::xml_node n, std::string_view text, ValueType t, bool is_float);
  Result<Cell> OptionalTyped(pugi::xml_node n, const char* attr, ValueType t, bool is_float);
  // An <Interval closure=... leftMargin=... rightMargin=...> element.
  Result<Interval> ParseInterval(pugi::xml_node iv) const;

  struct Binding {
    int32_t slot = -1;
    int32_t field = -1;  // Plan::fields index (-1 for derived and output fields)
    ValueType type = ValueType::kNumber;
    bool is_float = false;
    OpType op = OpType::kContinuous;
  };
  // A naming scope: one per model being compiled (scopes_[0] = the document's model, which also
  // holds the TransformationDictionary).
  struct Scope {
    int32_t model = -1;
    std::unordered_map<std::string, Binding> names;
    std::unordered_map<std::string, pugi::xml_node> defs;  // derived fields not yet compiled
  };
  // Resolves a field name, innermost scope first, compiling a derived field on first use.
  Result<Binding> Resolve(std::string_view name, pugi::xml_node where, int depth);
  Result<Binding> ResolveInScopes(std::string_view name, pugi::xml_node where, int depth);
  // While a TreeModel's nodes are compiled: the names its predicates resolved (see Resolve).
  std::unordered_map<std::string_view, Binding>* resolved_ = nullptr;

  // ---- models (compiler.cc)
  Result<int32_t> CompileModel(pugi::xml_node model, int depth);
  Status CompileMiningSchema(pugi::xml_node model, int32_t mi);
  Status CompileTargets(pugi::xml_node model, int32_t mi);
  Status CompileOutput(pugi::xml_node model, int32_t mi);

  // ---- expressions.cc
  struct Params {  // DefineFunction parameters bound to argument expressions
    std::vector<std::string> names;
    std::vector<int32_t> exprs;
    std::vector<ValueType> types;
  };
  static bool IsExpression(std::string_view name);
  Result<int32_t> CompileExpr(pugi::xml_node n, int depth, const Params* params);
  Status CompileDerived(pugi::xml_node def, size_t scope, int depth);
  int32_t AddExpr(const Expr& e);
  ValueType TypeOf(int32_t expr) const { return plan_.exprs[static_cast<size_t>(expr)].type; }

  // ---- tree.cc, regression.cc, mining.cc
  Status CompileTree(pugi::xml_node model, int32_t mi);
  Result<int32_t> CompilePredicate(pugi::xml_node n, int depth);
  Status CompileRegression(pugi::xml_node model, int32_t mi);
  Status CompileMining(pugi::xml_node model, int32_t mi, int depth);
  // Index of category v in model mi's target categories, appending it when new.
  int32_t CategoryIndex(int32_t mi, double v);

  SubModel& model(int32_t mi) { return plan_.models[static_cast<size_t>(mi)]; }

  const Document& doc_;
  const LoadOptions& options_;
  Plan& plan_;
  std::unordered_map<std::string, int32_t> data_fields_;  // name -> Plan::fields index
  std::unordered_map<std::string, pugi::xml_node> functions_;
  std::vector<Scope> scopes_;
  std::unordered_map<const void*, int> derived_state_;  // per definition: 1 compiling, 2 done
  std::unordered_map<std::string, int> function_state_;  // recursion guard
};

}  // namespace fluxscore::pmml
