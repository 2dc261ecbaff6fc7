// Compile pass 5: expressions (Constant, FieldRef, NormContinuous, NormDiscrete, Discretize,
// MapValues, Apply) and derived fields. DefineFunction calls are inlined: the body is compiled
// with its ParameterFields bound to the argument expressions.
#include <algorithm>
#include <cmath>
#include <regex>

#include <fmt/format.h>

#include "pmml/compile/compiler_internal.h"

namespace fluxscore::pmml {

bool Compiler::IsExpression(std::string_view n) {
  return n == "Constant" || n == "FieldRef" || n == "NormContinuous" || n == "NormDiscrete" ||
         n == "Discretize" || n == "MapValues" || n == "Apply" || n == "TextIndex" ||
         n == "Aggregate" || n == "Lag";
}

int32_t Compiler::AddExpr(const Expr& e) {
  plan_.exprs.push_back(e);
  return static_cast<int32_t>(plan_.exprs.size() - 1);
}

namespace {
Result<ValueType> DataTypeAttr(pugi::xml_node n, ValueType fallback) {
  std::string_view dt = n.attribute("dataType").value();
  if (dt.empty()) return fallback;
  if (dt == "string") return ValueType::kString;
  if (dt == "integer" || dt == "float" || dt == "double") return ValueType::kNumber;
  if (dt == "boolean") return ValueType::kBoolean;
  if (dt == "date") return ValueType::kDate;
  if (dt == "time") return ValueType::kTime;
  if (dt == "dateTime") return ValueType::kDateTime;
  return Status::Unsupported(fmt::format("dataType '{}' is not supported", dt));
}
}  // namespace

Status Compiler::CompileDerived(pugi::xml_node def, size_t level, int depth) {
  std::string name = def.attribute("name").value();
  if (depth > kMaxNesting)
    return Error(def, fmt::format("derived fields nest deeper than {}", kMaxNesting));
  FLUXSCORE_RETURN_IF_ERROR(Check(def, {"name", "displayName", "optype", "dataType"},
                                  {"Constant", "FieldRef", "NormContinuous", "NormDiscrete",
                                   "Discretize", "MapValues", "TextIndex", "Apply", "Aggregate",
                                   "Lag", "Value", "Interval"}));
  // The definition sees only its own scope and the enclosing ones: park the inner scopes.
  std::vector<Scope> inner(std::make_move_iterator(scopes_.begin() + static_cast<long>(level) + 1),
                           std::make_move_iterator(scopes_.end()));
  scopes_.resize(level + 1);
  struct Restore {
    std::vector<Scope>& scopes;
    std::vector<Scope>& inner;
    ~Restore() {
      for (Scope& s : inner) scopes.push_back(std::move(s));
    }
  } restore{scopes_, inner};
  derived_state_[def.internal_object()] = 1;
  pugi::xml_node expr;
  for (pugi::xml_node c : Children(def))
    if (IsExpression(Document::LocalName(c))) expr = c;
  if (!expr) return Error(def, "DerivedField needs an expression");
  FLUXSCORE_ASSIGN_OR_RETURN(int32_t e, CompileExpr(expr, depth + 1, nullptr));
  auto vt = DataTypeAttr(def, TypeOf(e));
  if (!vt.ok()) return Unsupported(def, vt.status().message());
  DerivedPlan d;
  d.slot = plan_.num_slots++;
  d.expr = e;
  d.type = *vt;
  d.is_float = std::string_view(def.attribute("dataType").value()) == "float";
  OpType op = d.type == ValueType::kString ? OpType::kCategorical : OpType::kContinuous;
  std::string_view ot = def.attribute("optype").value();
  if (ot == "categorical") op = OpType::kCategorical;
  else if (ot == "ordinal") op = OpType::kOrdinal;
  else if (ot == "continuous") op = OpType::kContinuous;
  // A type change (e.g. an integer expression stored in a string field) is a conversion node.
  if (d.type != TypeOf(e)) {
    Expr conv;
    conv.kind = ExprKind::kApply;
    conv.type = d.type;
    conv.aux = -2;  // conversion marker: evaluator converts the single argument to conv.type
    conv.args_begin = static_cast<int32_t>(plan_.expr_args.size());
    plan_.expr_args.push_back(e);
    conv.args_end = static_cast<int32_t>(plan_.expr_args.size());
    conv.invalid = InvalidTreatment::kAsMissing;
    d.expr = AddExpr(conv);
  }
  d.name = name;
  model(scopes_[level].model).derived.push_back(d);
  scopes_[level].names[name] = Binding{d.slot, -1, d.type, d.is_float, op};
  scopes_[level].defs.erase(name);
  derived_state_[def.internal_object()] = 2;
  return Status::Ok();
}

Result<int32_t> Compiler::CompileExpr(pugi::xml_node n, int depth, const Params* params) {
  if (depth > kMaxNesting)
    return Error(n, fmt::format("expressions nest deeper than {}", kMaxNesting));
  std::string_view kind = Document::LocalName(n);
  Expr e;

  // Binds a `field` attribute: a function parameter inside DefineFunction, else a scope field.
  auto bind_field = [&](const char* attr) -> Result<std::pair<int32_t, Binding>> {
    std::string_view name = n.attribute(attr).value();
    if (name.empty()) return Error(n, fmt::format("attribute '{}' is required", attr));
    if (params != nullptr) {
      for (size_t i = 0; i < params->names.size(); ++i)
        if (params->names[i] == name) {
          Binding b;
          b.type = params->types[i];
          return std::make_pair(params->exprs[i], b);
        }
      return Error(n, fmt::format("'{}' is not a parameter of the function", name));
    }
    FLUXSCORE_ASSIGN_OR_RETURN(Binding b, Resolve(name, n, depth));
    Expr ref;
    ref.kind = ExprKind::kFieldRef;
    ref.slot = b.slot;
    ref.type = b.type;
    return std::make_pair(AddExpr(ref), b);
  };
  // mapMissingTo / defaultValue parse in the expression's result type.
  auto typed_attr = [&](const char* attr, ValueType t) -> Result<Cell> {
    return OptionalTyped(n, attr, t, false);
  };

  if (kind == "Constant") {
    FLUXSCORE_RETURN_IF_ERROR(Check(n, {"dataType", "missing"}, {}));
    std::string text = n.child_value();
    bool missing = n.attribute("missing").as_bool(false);
    ValueType t = ValueType::kString;
    if (n.attribute("dataType")) {
      auto vt = DataTypeAttr(n, ValueType::kString);
      if (!vt.ok()) return Unsupported(n, vt.status().message());
      t = *vt;
    } else {
      double probe;
      if (ParseNonString(text, ValueType::kNumber, &probe)) t = ValueType::kNumber;
    }
    e.kind = ExprKind::kConstant;
    e.type = t;
    if (missing) {
      e.value = Cell::Missing();
    } else {
      FLUXSCORE_ASSIGN_OR_RETURN(double v, ParseTyped(n, text, t, false));
      e.value = Cell::Valid(v);
    }
    return AddExpr(e);
  }
  if (kind == "FieldRef") {
    FLUXSCORE_RETURN_IF_ERROR(Check(n, {"field", "mapMissingTo"}, {}));
    FLUXSCORE_ASSIGN_OR_RETURN(auto fb, bind_field("field"));
    if (!n.attribute("mapMissingTo")) return fb.first;
    // A FieldRef with mapMissingTo wraps the reference.
    Expr ref = plan_.exprs[static_cast<size_t>(fb.first)];
    FLUXSCORE_ASSIGN_OR_RETURN(Cell mm, typed_attr("mapMissingTo", ref.type));
    if (ref.kind == ExprKind::kFieldRef) {
      ref.map_missing_to = mm;
      return AddExpr(ref);
    }
    Expr conv;
    conv.kind = ExprKind::kApply;
    conv.type = ref.type;
    conv.aux = -2;
    conv.map_missing_to = mm;
    conv.args_begin = static_cast<int32_t>(plan_.expr_args.size());
    plan_.expr_args.push_back(fb.first);
    conv.args_end = static_cast<int32_t>(plan_.expr_args.size());
    return AddExpr(conv);
  }
  if (kind == "NormContinuous") {
    FLUXSCORE_RETURN_IF_ERROR(Check(n, {"field", "mapMissingTo", "outliers"}, {"LinearNorm"}));
    FLUXSCORE_ASSIGN_OR_RETURN(auto fb, bind_field("field"));
    NormTable t;
    for (pugi::xml_node ln : Children(n)) {
      FLUXSCORE_RETURN_IF_ERROR(Check(ln, {"orig", "norm"}, {}));
      FLUXSCORE_ASSIGN_OR_RETURN(double o, RequiredNumber(ln, "orig"));
      FLUXSCORE_ASSIGN_OR_RETURN(double v, RequiredNumber(ln, "norm"));
      if (!t.orig.empty() && o <= t.orig.back())
        return Error(ln, "LinearNorm elements must be in strictly increasing orig order");
      t.orig.push_back(o);
      t.norm.push_back(v);
    }
    if (t.orig.size() < 2) return Error(n, "NormContinuous needs at least two LinearNorm");
    e.kind = ExprKind::kNormContinuous;
    e.type = ValueType::kNumber;
    e.args_begin = static_cast<int32_t>(plan_.expr_args.size());
    plan_.expr_args.push_back(fb.first);
    e.args_end = e.args_begin + 1;
    std::string_view out = n.attribute("outliers").value();
    if (out == "asMissingValues") e.outliers = OutlierTreatment::kAsMissingValues;
    else if (out == "asExtremeValues") e.outliers = OutlierTreatment::kAsExtremeValues;
    else if (!out.empty() && out != "asIs") return Error(n, "unknown outliers treatment");
    FLUXSCORE_ASSIGN_OR_RETURN(e.map_missing_to, typed_attr("mapMissingTo", ValueType::kNumber));
    e.aux = static_cast<int32_t>(plan_.norm_tables.size());
    plan_.norm_tables.push_back(std::move(t));
    return AddExpr(e);
  }
  if (kind == "NormDiscrete") {
    FLUXSCORE_RETURN_IF_ERROR(Check(n, {"field", "value", "mapMissingTo", "method"}, {}));
    FLUXSCORE_ASSIGN_OR_RETURN(auto fb, bind_field("field"));
    if (!n.attribute("value")) return Error(n, "NormDiscrete needs a value");
    ValueType ft = TypeOf(fb.first);
    FLUXSCORE_ASSIGN_OR_RETURN(double v, ParseTyped(n, n.attribute("value").value(), ft,
                                                    fb.second.is_float));
    e.kind = ExprKind::kNormDiscrete;
    e.type = ValueType::kNumber;
    e.value = Cell::Valid(v);
    e.args_begin = static_cast<int32_t>(plan_.expr_args.size());
    plan_.expr_args.push_back(fb.first);
    e.args_end = e.args_begin + 1;
    FLUXSCORE_ASSIGN_OR_RETURN(e.map_missing_to, typed_attr("mapMissingTo", ValueType::kNumber));
    return AddExpr(e);
  }
  if (kind == "Discretize") {
    FLUXSCORE_RETURN_IF_ERROR(
        Check(n, {"field", "mapMissingTo", "defaultValue", "dataType"}, {"DiscretizeBin"}));
    FLUXSCORE_ASSIGN_OR_RETURN(auto fb, bind_field("field"));
    auto vt = DataTypeAttr(n, ValueType::kString);
    if (!vt.ok()) return Unsupported(n, vt.status().message());
    e.type = *vt;
    if (!n.attribute("dataType")) {
      // Without a dataType, bins holding numbers are numbers.
      bool all_numbers = true;
      for (pugi::xml_node b : Children(n)) {
        double probe;
        if (!ParseNonString(b.attribute("binValue").value(), ValueType::kNumber, &probe))
          all_numbers = false;
      }
      if (all_numbers && !Children(n).empty()) e.type = ValueType::kNumber;
    }
    Discretization d;
    for (pugi::xml_node b : Children(n)) {
      FLUXSCORE_RETURN_IF_ERROR(Check(b, {"binValue"}, {"Interval"}));
      pugi::xml_node iv = Child(b, "Interval");
      if (!iv || !b.attribute("binValue")) return Error(b, "DiscretizeBin needs binValue and Interval");
      FLUXSCORE_ASSIGN_OR_RETURN(Interval in, ParseInterval(iv));
      FLUXSCORE_ASSIGN_OR_RETURN(double v, ParseTyped(b, b.attribute("binValue").value(), e.type,
                                                      false));
      d.bins.push_back(in);
      d.bin_values.push_back(Cell::Valid(v));
    }
    e.kind = ExprKind::kDiscretize;
    e.args_begin = static_cast<int32_t>(plan_.expr_args.size());
    plan_.expr_args.push_back(fb.first);
    e.args_end = e.args_begin + 1;
    FLUXSCORE_ASSIGN_OR_RETURN(e.map_missing_to, typed_attr("mapMissingTo", e.type));
    FLUXSCORE_ASSIGN_OR_RETURN(e.default_value, typed_attr("defaultValue", e.type));
    e.aux = static_cast<int32_t>(plan_.discretizations.size());
    plan_.discretizations.push_back(std::move(d));
    return AddExpr(e);
  }
  if (kind == "MapValues") {
    FLUXSCORE_RETURN_IF_ERROR(
        Check(n, {"outputColumn", "mapMissingTo", "defaultValue", "dataType"},
              {"FieldColumnPair", "InlineTable", "TableLocator"}));
    if (Child(n, "TableLocator")) return Unsupported(Child(n, "TableLocator"), "TableLocator is not supported");
    pugi::xml_node table = Child(n, "InlineTable");
    if (!table) return Error(n, "MapValues needs an InlineTable");
    std::string out_col = n.attribute("outputColumn").value();
    auto vt = DataTypeAttr(n, ValueType::kString);
    if (!vt.ok()) return Unsupported(n, vt.status().message());
    e.type = *vt;
    std::vector<std::string> cols;
    std::vector<ValueType> col_types;
    std::vector<bool> col_float;
    e.args_begin = static_cast<int32_t>(plan_.expr_args.size());
    std::vector<int32_t> args;
    for (pugi::xml_node p : Children(n)) {
      if (Document::LocalName(p) != "FieldColumnPair") continue;
      FLUXSCORE_RETURN_IF_ERROR(Check(p, {"field", "column"}, {}));
      pugi::xml_node saved = n;
      (void)saved;
      std::string_view fname = p.attribute("field").value();
      int32_t arg;
      ValueType at;
      bool is_float = false;
      if (params != nullptr) {
        auto it = std::find(params->names.begin(), params->names.end(), fname);
        if (it == params->names.end()) return Error(p, fmt::format("'{}' is not a parameter", fname));
        size_t i = static_cast<size_t>(it - params->names.begin());
        arg = params->exprs[i];
        at = params->types[i];
      } else {
        FLUXSCORE_ASSIGN_OR_RETURN(Binding b, Resolve(fname, p, depth));
        Expr ref;
        ref.kind = ExprKind::kFieldRef;
        ref.slot = b.slot;
        ref.type = b.type;
        arg = AddExpr(ref);
        at = b.type;
        is_float = b.is_float;
      }
      args.push_back(arg);
      cols.push_back(p.attribute("column").value());
      col_types.push_back(at);
      col_float.push_back(is_float);
    }
    for (int32_t a : args) plan_.expr_args.push_back(a);
    e.args_end = static_cast<int32_t>(plan_.expr_args.size());
    MapTable mt;
    mt.num_inputs = static_cast<int32_t>(cols.size());
    FLUXSCORE_RETURN_IF_ERROR(Check(table, {}, {"row"}));
    for (pugi::xml_node row : Children(table)) {
      std::vector<Cell> cells(cols.size());
      Cell out;
      bool has_out = false;
      for (pugi::xml_node cell : Children(row)) {
        std::string_view cname = cell.name();
        std::string_view local = Document::LocalName(cell);
        std::string text = cell.child_value();
        for (size_t i = 0; i < cols.size(); ++i) {
          if (cols[i] == cname || cols[i] == local) {
            double v;
            if (col_types[i] == ValueType::kString) {
              v = plan_.pool.Intern(text);
            } else if (!ParseNonString(text, col_types[i], &v)) {
              return Error(cell, fmt::format("'{}' is not a valid {}", text, ToString(col_types[i])));
            } else if (col_float[i]) {
              v = static_cast<double>(static_cast<float>(v));
            }
            cells[i] = Cell::Valid(v);
          }
        }
        if (out_col == cname || out_col == local) {
          FLUXSCORE_ASSIGN_OR_RETURN(double v, ParseTyped(cell, text, e.type, false));
          out = Cell::Valid(v);
          has_out = true;
        }
      }
      if (!has_out) continue;  // rows without the output column cannot match usefully
      for (const Cell& c : cells) mt.inputs.push_back(c);
      mt.outputs.push_back(out);
    }
    e.kind = ExprKind::kMapValues;
    FLUXSCORE_ASSIGN_OR_RETURN(e.map_missing_to, typed_attr("mapMissingTo", e.type));
    FLUXSCORE_ASSIGN_OR_RETURN(e.default_value, typed_attr("defaultValue", e.type));
    e.aux = static_cast<int32_t>(plan_.map_tables.size());
    plan_.map_tables.push_back(std::move(mt));
    return AddExpr(e);
  }
  if (kind == "Apply") {
    FLUXSCORE_RETURN_IF_ERROR(Check(
        n, {"function", "mapMissingTo", "defaultValue", "invalidValueTreatment"},
        {"Constant", "FieldRef", "NormContinuous", "NormDiscrete", "Discretize", "MapValues",
         "TextIndex", "Apply", "Aggregate", "Lag"}));
    std::string fname = n.attribute("function").value();
    std::vector<int32_t> args;
    std::vector<ValueType> types;
    for (pugi::xml_node c : Children(n)) {
      FLUXSCORE_ASSIGN_OR_RETURN(int32_t a, CompileExpr(c, depth + 1, params));
      args.push_back(a);
      types.push_back(TypeOf(a));
    }
    std::string_view ivt = n.attribute("invalidValueTreatment").value();
    InvalidTreatment inv = InvalidTreatment::kReturnInvalid;
    if (ivt == "asIs") inv = InvalidTreatment::kAsIs;
    else if (ivt == "asMissing") inv = InvalidTreatment::kAsMissing;
    else if (!ivt.empty() && ivt != "returnInvalid")
      return Error(n, fmt::format("unknown invalidValueTreatment '{}'", ivt));

    if (auto fit = functions_.find(fname); fit != functions_.end()) {
      // User-defined function: inline its body with parameters bound to the arguments.
      pugi::xml_node def = fit->second;
      FLUXSCORE_RETURN_IF_ERROR(Check(def, {"name", "optype", "dataType"},
                                      {"ParameterField", "Constant", "FieldRef", "NormContinuous",
                                       "NormDiscrete", "Discretize", "MapValues", "TextIndex",
                                       "Apply", "Aggregate", "Lag"}));
      if (function_state_[fname] > 0)
        return Error(n, fmt::format("function '{}' calls itself", fname));
      Params p;
      pugi::xml_node body;
      for (pugi::xml_node c : Children(def)) {
        if (Document::LocalName(c) == "ParameterField") {
          FLUXSCORE_RETURN_IF_ERROR(Check(c, {"name", "optype", "dataType", "displayName"}, {}));
          p.names.push_back(c.attribute("name").value());
        } else {
          body = c;
        }
      }
      if (!body) return Error(def, "DefineFunction needs an expression");
      if (p.names.size() != args.size())
        return Error(n, fmt::format("function '{}' takes {} arguments, {} given", fname,
                                    p.names.size(), args.size()));
      p.exprs = args;
      p.types = types;
      function_state_[fname] = 1;
      auto r = CompileExpr(body, depth + 1, &p);
      function_state_[fname] = 0;
      if (!r.ok()) return r.status();
      int32_t body_expr = *r;
      auto vt = DataTypeAttr(def, TypeOf(body_expr));
      if (!vt.ok()) return Unsupported(def, vt.status().message());
      bool needs_wrap = n.attribute("mapMissingTo") || n.attribute("defaultValue") ||
                        *vt != TypeOf(body_expr);
      if (!needs_wrap) return body_expr;
      e.kind = ExprKind::kApply;
      e.aux = -2;  // conversion / wrapper
      e.type = *vt;
      e.args_begin = static_cast<int32_t>(plan_.expr_args.size());
      plan_.expr_args.push_back(body_expr);
      e.args_end = static_cast<int32_t>(plan_.expr_args.size());
      e.invalid = inv;
      FLUXSCORE_ASSIGN_OR_RETURN(e.map_missing_to, typed_attr("mapMissingTo", e.type));
      FLUXSCORE_ASSIGN_OR_RETURN(e.default_value, typed_attr("defaultValue", e.type));
      return AddExpr(e);
    }
    auto call = ResolveBuiltin(fname, types);
    if (!call.ok()) {
      if (call.status().code() == Status::Code::kUnsupported)
        return Unsupported(n, call.status().message());
      return Error(n, call.status().message());
    }
    e.kind = fname == "if" ? ExprKind::kIf : ExprKind::kApply;
    e.type = call->result_type;
    e.invalid = inv;
    e.args_begin = static_cast<int32_t>(plan_.expr_args.size());
    for (int32_t a : args) plan_.expr_args.push_back(a);
    e.args_end = static_cast<int32_t>(plan_.expr_args.size());
    e.aux = static_cast<int32_t>(plan_.builtin_calls.size());
    plan_.builtin_calls.push_back(std::move(*call));
    plan_.builtin_names.push_back(fname);
    FLUXSCORE_ASSIGN_OR_RETURN(e.map_missing_to, typed_attr("mapMissingTo", e.type));
    FLUXSCORE_ASSIGN_OR_RETURN(e.default_value, typed_attr("defaultValue", e.type));
    return AddExpr(e);
  }
  if (kind == "TextIndex") {
    FLUXSCORE_RETURN_IF_ERROR(Check(
        n,
        {"textField", "localTermWeights", "isCaseSensitive", "maxLevenshteinDistance",
         "countHits", "wordSeparatorCharacterRE", "tokenize"},
        {"TextIndexNormalization", "Constant", "FieldRef", "NormContinuous", "NormDiscrete",
         "Discretize", "MapValues", "TextIndex", "Apply", "Aggregate", "Lag"}));
    if (Child(n, "TextIndexNormalization"))
      return Unsupported(Child(n, "TextIndexNormalization"),
                         "TextIndexNormalization is not supported");
    TextIndexPlan t;
    std::string_view w = n.attribute("localTermWeights").value();
    if (w.empty() || w == "termFrequency") t.weights = TextIndexPlan::Weights::kTermFrequency;
    else if (w == "binary") t.weights = TextIndexPlan::Weights::kBinary;
    else if (w == "logarithmic") t.weights = TextIndexPlan::Weights::kLogarithmic;
    else return Unsupported(n, fmt::format("localTermWeights '{}' is not supported", w));
    t.case_sensitive = n.attribute("isCaseSensitive").as_bool(false);
    t.max_levenshtein = n.attribute("maxLevenshteinDistance").as_int(0);
    if (t.max_levenshtein < 0) return Error(n, "maxLevenshteinDistance must not be negative");
    std::string_view hits = n.attribute("countHits").value();
    if (hits == "bestHits") t.best_hits = true;
    else if (!hits.empty() && hits != "allHits") return Error(n, "unknown countHits");
    if (!n.attribute("tokenize").as_bool(true))
      return Unsupported(n, "tokenize=\"false\" is not supported");
    // x-wordRE (JPMML): words are the matches of this expression; else the text is split at
    // wordSeparatorCharacterRE (default \s+) and each piece trimmed of punctuation.
    std::string word_re = n.attribute("x-wordRE").value();
    std::string sep_re = n.attribute("wordSeparatorCharacterRE") ? n.attribute("wordSeparatorCharacterRE").value() : "\\s+";
    if (!word_re.empty()) {
      if (word_re.starts_with("(?u)")) word_re = word_re.substr(4);
      if (word_re == "\\b\\w\\w+\\b") t.tokenizer = TextIndexPlan::Tokenizer::kMatchWord2;
      else if (word_re == "\\w+") t.tokenizer = TextIndexPlan::Tokenizer::kMatchWord1;
      else t.tokenizer = TextIndexPlan::Tokenizer::kMatchRegex;
      t.regex = word_re;
    } else if (sep_re == "\\s+") {
      t.tokenizer = TextIndexPlan::Tokenizer::kSplitWhitespace;
    } else {
      t.tokenizer = TextIndexPlan::Tokenizer::kSplitRegex;
      t.regex = sep_re;
    }
    if (!t.regex.empty() && (t.tokenizer == TextIndexPlan::Tokenizer::kMatchRegex ||
                             t.tokenizer == TextIndexPlan::Tokenizer::kSplitRegex)) {
      try {
        std::regex probe(t.regex);
      } catch (const std::regex_error&) {
        return Unsupported(n, fmt::format("regular expression '{}' is not supported", t.regex));
      }
    }
    // The text: the textField (a field, or a DefineFunction parameter).
    FLUXSCORE_ASSIGN_OR_RETURN(auto text, bind_field("textField"));
    pugi::xml_node term_node;
    for (pugi::xml_node c : Children(n))
      if (IsExpression(Document::LocalName(c))) term_node = c;
    if (!term_node) return Error(n, "TextIndex needs a term expression");
    FLUXSCORE_ASSIGN_OR_RETURN(int32_t term, CompileExpr(term_node, depth + 1, params));
    e.kind = ExprKind::kTextIndex;
    e.type = ValueType::kNumber;
    e.args_begin = static_cast<int32_t>(plan_.expr_args.size());
    plan_.expr_args.push_back(text.first);
    plan_.expr_args.push_back(term);
    e.args_end = static_cast<int32_t>(plan_.expr_args.size());
    e.aux = static_cast<int32_t>(plan_.text_indexes.size());
    plan_.text_indexes.push_back(std::move(t));
    return AddExpr(e);
  }
  if (kind == "Aggregate" || kind == "Lag")
    return Unsupported(n, fmt::format("<{}> is not supported", kind));
  return Unsupported(n, fmt::format("element <{}> is not an expression", kind));
}

}  // namespace fluxscore::pmml
