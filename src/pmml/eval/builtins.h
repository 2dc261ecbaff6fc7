// PMML 4.4 built-in functions (Apply function="...").
//
// Compile time: ResolveBuiltin checks the name and the argument count/types and fixes the result
// type. Run time: EvalBuiltin computes one call from already evaluated arguments — no string
// compare or map lookup (the function is a dense enum), no allocation except for string results.
//
// Missing/invalid rules (PMML 4.4 "Built-in functions" and Apply):
//  - any missing argument -> missing result, except isMissing, isNotMissing, isValid, isNotValid
//    (and the lazily evaluated `if`, which the expression evaluator handles itself, see below);
//  - an argument in state kInvalid is used with its value (the asIs treatment); only
//    isValid/isNotValid look at the state; an invalid argument whose value is NaN (a domain error
//    upstream) makes the result invalid;
//  - a domain error (ln(0), sqrt(-1), x/0, modulo by 0, substring out of range where the spec says
//    so, ...) -> Cell::Invalid().
//  `if` is listed here (resolution and eager evaluation work), but the expression evaluator
//  evaluates only the taken branch.
// Thread safety: stateless; EvalContext is per thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fluxscore/status.h"
#include "pmml/plan/value.h"

namespace fluxscore::pmml {

enum class BuiltinId : uint16_t;  // dense enumeration, defined in builtins.cc

struct BuiltinCall {
  BuiltinId id{};
  ValueType result_type = ValueType::kNumber;
  std::vector<ValueType> arg_types;  // as resolved (after numeric promotion)
};

// Resolves a call of `name` with the given argument types. Errors (message without location,
// the caller adds it): unknown function -> Status::Unsupported; wrong arity or argument type ->
// Status::InvalidModel.
Result<BuiltinCall> ResolveBuiltin(std::string_view name, std::span<const ValueType> arg_types);

// True if `name` is a PMML built-in function name.
bool IsBuiltinName(std::string_view name);

// Evaluates a resolved call. REQUIRES: args.size() == call.arg_types.size().
Cell EvalBuiltin(const BuiltinCall& call, std::span<const Cell> args, EvalContext& ctx);

// The names of all supported built-ins (for docs and `fluxscore inspect`).
std::vector<std::string_view> BuiltinNames();

}  // namespace fluxscore::pmml
