// Compile passes 1-4, 7 and 8 (see compiler.h); expressions.cc and tree.cc hold the rest.
#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "pmml/compile/compiler_internal.h"

namespace fluxscore::pmml {
namespace {

constexpr std::string_view kModelElements[] = {
    "AnomalyDetectionModel", "AssociationModel", "BayesianNetworkModel", "BaselineModel",
    "ClusteringModel", "GaussianProcessModel", "GeneralRegressionModel", "MiningModel",
    "NaiveBayesModel", "NearestNeighborModel", "NeuralNetwork", "RegressionModel",
    "RuleSetModel", "SequenceModel", "Scorecard", "SupportVectorMachineModel",
    "TextModel", "TimeSeriesModel", "TreeModel"};


}  // namespace

static Result<DataType> ParseDataType(std::string_view s) {
  if (s == "string") return DataType::kString;
  if (s == "integer") return DataType::kInteger;
  if (s == "float") return DataType::kFloat;
  if (s == "double" || s == "real") return DataType::kDouble;
  if (s == "boolean") return DataType::kBoolean;
  if (s == "date") return DataType::kDate;
  if (s == "time") return DataType::kTime;
  if (s == "dateTime") return DataType::kDateTime;
  return Status::Unsupported(fmt::format("dataType '{}' is not supported", s));
}

static Result<OpType> ParseOpType(std::string_view s) {
  if (s == "continuous") return OpType::kContinuous;
  if (s == "categorical") return OpType::kCategorical;
  if (s == "ordinal") return OpType::kOrdinal;
  return Status::InvalidModel(fmt::format("unknown optype '{}'", s));
}



// ------------------------------------------------------------------------------- helpers
namespace {
// name == s for a NUL-terminated name (s holds no NUL).
inline bool NameIs(const char* name, std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i)
    if (name[i] != s[i]) return false;  // also stops at name's terminator
  return name[s.size()] == '\0';
}
}  // namespace

bool Compiler::IsModelElement(std::string_view n) {
  return std::find(std::begin(kModelElements), std::end(kModelElements), n) !=
         std::end(kModelElements);
}

Status Compiler::Error(pugi::xml_node n, std::string_view msg) const {
  return Status::InvalidModel(doc_.Where(n) + std::string(msg));
}
Status Compiler::Unsupported(pugi::xml_node n, std::string_view msg) const {
  return Status::Unsupported(doc_.Where(n) + std::string(msg));
}

Status Compiler::Check(pugi::xml_node n, std::initializer_list<std::string_view> attrs,
                       std::initializer_list<std::string_view> children,
                       pugi::xml_attribute* found) const {
  FLUXSCORE_RETURN_IF_ERROR(CheckAttributes(n, attrs, found));
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element) continue;
    std::string_view name = Document::LocalName(c);
    if (name == "Extension") continue;
    if (std::find(children.begin(), children.end(), name) == children.end())
      return Unsupported(c, fmt::format("element <{}> is not supported here", name));
  }
  return Status::Ok();
}

Status Compiler::CheckAttributes(pugi::xml_node n, std::initializer_list<std::string_view> attrs,
                                 pugi::xml_attribute* found) const {
  for (pugi::xml_attribute a = n.first_attribute(); a; a = a.next_attribute()) {
    // The known names first, compared in place (no strlen: this runs for every tree node).
    const char* raw = a.name();
    size_t i = 0;
    while (i < attrs.size() && !NameIs(raw, attrs.begin()[i])) ++i;
    if (i < attrs.size()) {
      if (found != nullptr && !found[i]) found[i] = a;
      continue;
    }
    std::string_view name = raw;
    if (name.starts_with("x-") || name == "xmlns" || name.starts_with("xmlns:") ||
        name.starts_with("xsi:"))
      continue;
    return Unsupported(n, fmt::format("attribute '{}' is not supported", name));
  }
  return Status::Ok();
}

std::vector<pugi::xml_node> Compiler::Children(pugi::xml_node n) {
  std::vector<pugi::xml_node> out;
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling())
    if (c.type() == pugi::node_element && Document::LocalName(c) != "Extension") out.push_back(c);
  return out;
}

pugi::xml_node Compiler::Child(pugi::xml_node n, std::string_view name) {
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling())
    if (c.type() == pugi::node_element && Document::LocalName(c) == name) return c;
  return {};
}

Result<double> Compiler::Number(pugi::xml_node n, const char* attr, double fallback) const {
  return Number(n, attr, n.attribute(attr), fallback);
}

Result<double> Compiler::Number(pugi::xml_node n, const char* attr, pugi::xml_attribute a,
                                double fallback) const {
  if (!a) return fallback;
  double v;
  if (!ParseNonString(a.value(), ValueType::kNumber, &v))
    return Error(n, fmt::format("attribute {}='{}' is not a number", attr, a.value()));
  return v;
}

Result<double> Compiler::RequiredNumber(pugi::xml_node n, const char* attr) const {
  if (!n.attribute(attr)) return Error(n, fmt::format("attribute '{}' is required", attr));
  return Number(n, attr, 0);
}

Result<double> Compiler::ParseTyped(pugi::xml_node n, std::string_view text, ValueType t,
                                    bool is_float) {
  if (t == ValueType::kString) return static_cast<double>(plan_.pool.Intern(text));
  double v;
  if (!ParseNonString(text, t, &v)) {
    // Integer-typed values written as "1.0" and similar are accepted by ParseNonString; anything
    // else is a model error.
    return Error(n, fmt::format("value '{}' is not a valid {}", text, ToString(t)));
  }
  if (is_float) v = static_cast<double>(static_cast<float>(v));
  return v;
}

Result<Interval> Compiler::ParseInterval(pugi::xml_node c) const {
  FLUXSCORE_RETURN_IF_ERROR(Check(c, {"closure", "leftMargin", "rightMargin"}, {}));
  Interval iv;
  std::string_view closure = c.attribute("closure").value();
  if (closure == "openOpen") iv.left_closed = iv.right_closed = false;
  else if (closure == "openClosed") iv.left_closed = false;
  else if (closure == "closedOpen") iv.right_closed = false;
  else if (closure != "closedClosed") return Error(c, "Interval needs a closure");
  FLUXSCORE_ASSIGN_OR_RETURN(iv.left, Number(c, "leftMargin", -INFINITY));
  FLUXSCORE_ASSIGN_OR_RETURN(iv.right, Number(c, "rightMargin", INFINITY));
  return iv;
}

Result<Cell> Compiler::OptionalTyped(pugi::xml_node n, const char* attr, ValueType t,
                                     bool is_float) {
  pugi::xml_attribute a = n.attribute(attr);
  if (!a) return Cell::Missing();
  FLUXSCORE_ASSIGN_OR_RETURN(double v, ParseTyped(n, a.value(), t, is_float));
  return Cell::Valid(v);
}

// ------------------------------------------------------------------------------- scope
Result<Compiler::Binding> Compiler::Resolve(std::string_view name, pugi::xml_node where,
                                            int depth) {
  // Inside a TreeModel the same few fields are named by thousands of predicates: a name that
  // resolved once resolves the same way for the rest of the tree (a derived field compiled on
  // first use keeps its binding), so its binding is kept (keys point into the document).
  if (resolved_ != nullptr) {
    if (auto it = resolved_->find(name); it != resolved_->end()) return it->second;
    // Not kept while resolving: a derived field compiled now sees its own scopes only.
    auto* const resolved = std::exchange(resolved_, nullptr);
    Result<Binding> b = ResolveInScopes(name, where, depth);
    resolved_ = resolved;
    if (b.ok()) resolved_->emplace(name, *b);
    return b;
  }
  return ResolveInScopes(name, where, depth);
}

Result<Compiler::Binding> Compiler::ResolveInScopes(std::string_view name, pugi::xml_node where,
                                                    int depth) {
  std::string key(name);
  for (size_t level = scopes_.size(); level-- > 0;) {
    Scope& sc = scopes_[level];
    if (auto it = sc.names.find(key); it != sc.names.end()) return it->second;
    if (auto it = sc.defs.find(key); it != sc.defs.end()) {
      pugi::xml_node def = it->second;
      if (derived_state_[def.internal_object()] == 1)
        return Error(def, fmt::format("derived field '{}' depends on itself (cycle)", name));
      FLUXSCORE_RETURN_IF_ERROR(CompileDerived(def, level, depth + 1));
      return scopes_[level].names.at(key);
    }
  }
  if (data_fields_.count(key))
    return Error(where, fmt::format("field '{}' is not in the MiningSchema", name));
  return Error(where, fmt::format("reference to undefined field '{}'", name));
}

int32_t Compiler::CategoryIndex(int32_t mi, double v) {
  auto& cats = model(mi).target.categories;
  auto it = std::find(cats.begin(), cats.end(), v);
  if (it != cats.end()) return static_cast<int32_t>(it - cats.begin());
  cats.push_back(v);
  return static_cast<int32_t>(cats.size() - 1);
}

// ------------------------------------------------------------------------------- document
Status Compiler::Run() {
  pugi::xml_node root = doc_.root();
  plan_.source = doc_.source();
  plan_.pmml_version = doc_.version();
  // kFalseCode / kTrueCode (value.h): boolean outputs are written without per-row formatting.
  if (plan_.pool.Intern("false") != kFalseCode || plan_.pool.Intern("true") != kTrueCode)
    return Status::InvalidModel("internal: the string pool must start with false, true");
  pugi::xml_node model_node;
  {
    std::vector<std::string_view> allowed = {"Header", "MiningBuildTask", "DataDictionary",
                                             "TransformationDictionary"};
    for (pugi::xml_attribute a : root.attributes()) {
      std::string_view an = a.name();
      if (an != "version" && !an.starts_with("xmlns") && !an.starts_with("x-") &&
          !an.starts_with("xsi:"))
        return Unsupported(root, fmt::format("attribute '{}' is not supported", an));
    }
    for (pugi::xml_node c : Children(root)) {
      std::string_view cn = Document::LocalName(c);
      if (IsModelElement(cn)) {
        if (!model_node) model_node = c;
        continue;
      }
      if (std::find(allowed.begin(), allowed.end(), cn) == allowed.end())
        return Unsupported(c, fmt::format("element <{}> is not supported here", cn));
    }
  }
  if (!model_node) return Error(root, "the document holds no model element");

  // 1. DataDictionary
  pugi::xml_node dd = Child(root, "DataDictionary");
  if (!dd) return Error(root, "DataDictionary is missing");
  FLUXSCORE_RETURN_IF_ERROR(Check(dd, {"numberOfFields"}, {"DataField", "Taxonomy"}));
  for (pugi::xml_node f : Children(dd)) {
    if (Document::LocalName(f) == "Taxonomy") return Unsupported(f, "Taxonomy is not supported");
    FLUXSCORE_RETURN_IF_ERROR(Check(
        f, {"name", "displayName", "optype", "dataType", "taxonomy", "isCyclic"},
        {"Interval", "Value"}));
    FieldDef def;
    def.name = f.attribute("name").value();
    if (def.name.empty()) return Error(f, "DataField without a name");
    std::string_view dt = f.attribute("dataType").value();
    std::string_view ot = f.attribute("optype").value();
    if (dt.empty()) dt = (ot == "continuous") ? "double" : "string";
    auto dtr = ParseDataType(dt);
    if (!dtr.ok()) return Unsupported(f, dtr.status().message());
    def.data_type = *dtr;
    if (ot.empty()) ot = def.data_type == DataType::kString ? "categorical" : "continuous";
    auto otr = ParseOpType(ot);
    if (!otr.ok()) return Error(f, otr.status().message());
    def.op_type = *otr;
    def.type = ValueTypeOf(def.data_type);
    def.is_float = def.data_type == DataType::kFloat;
    if (data_fields_.count(def.name))
      return Error(f, fmt::format("duplicate DataField '{}'", def.name));
    for (pugi::xml_node c : Children(f)) {
      if (Document::LocalName(c) == "Value") {
        FLUXSCORE_RETURN_IF_ERROR(Check(c, {"value", "displayValue", "property"}, {}));
        if (!c.attribute("value")) return Error(c, "Value without a value attribute");
        FLUXSCORE_ASSIGN_OR_RETURN(double v,
                                   ParseTyped(c, c.attribute("value").value(), def.type,
                                              def.is_float));
        std::string_view prop = c.attribute("property").value();
        if (std::isnan(v) && def.type != ValueType::kString) {
          if (prop != "missing") return Error(c, "NaN can only be declared as a missing value");
          def.nan_is_missing = true;
        } else if (prop.empty() || prop == "valid") {
          def.valid_values.push_back(v);
          def.ordinal_order.push_back(v);
          def.value_texts.push_back(c.attribute("value").value());
        } else if (prop == "invalid") {
          def.invalid_values.push_back(v);
        } else if (prop == "missing") {
          def.missing_values.push_back(v);
        } else {
          return Error(c, fmt::format("unknown Value property '{}'", prop));
        }
      } else {
        FLUXSCORE_ASSIGN_OR_RETURN(Interval iv, ParseInterval(c));
        def.intervals.push_back(iv);
      }
    }
    std::sort(def.valid_values.begin(), def.valid_values.end());
    std::sort(def.invalid_values.begin(), def.invalid_values.end());
    std::sort(def.missing_values.begin(), def.missing_values.end());
    data_fields_[def.name] = static_cast<int32_t>(plan_.fields.size());
    plan_.fields.push_back(std::move(def));
  }

  // The document model's scope holds the TransformationDictionary definitions (its own
  // LocalTransformations, added in CompileModel, override them).
  scopes_.emplace_back();
  if (pugi::xml_node td = Child(root, "TransformationDictionary")) {
    FLUXSCORE_RETURN_IF_ERROR(Check(td, {}, {"DefineFunction", "DerivedField"}));
    for (pugi::xml_node c : Children(td)) {
      std::string name = c.attribute("name").value();
      if (name.empty()) return Error(c, "a name is required");
      if (Document::LocalName(c) == "DefineFunction") {
        if (functions_.count(name)) return Error(c, fmt::format("duplicate function '{}'", name));
        functions_[name] = c;
      } else {
        if (scopes_[0].defs.count(name) || data_fields_.count(name))
          return Error(c, fmt::format("duplicate field name '{}'", name));
        scopes_[0].defs[name] = c;
      }
    }
  }

  // 2-7: the model tree.
  FLUXSCORE_ASSIGN_OR_RETURN(int32_t root_model, CompileModel(model_node, 0));
  (void)root_model;

  // Result features requested by the caller without an OutputField ("feature:<spec>").
  SubModel& rm = model(0);
  for (const std::string& spec : options_.extra_result_features) {
    OutputPlan op;
    op.name = "feature:" + spec;
    std::string feature = spec, value;
    if (auto p = spec.find('('); p != std::string::npos && spec.back() == ')') {
      feature = spec.substr(0, p);
      value = spec.substr(p + 1, spec.size() - p - 2);
    }
    if (feature == "predictedValue") {
      op.feature = ResultFeature::kPredictedValue;
      op.type = rm.target.type;
    } else if (feature == "probability") {
      op.feature = ResultFeature::kProbability;
    } else if (feature == "confidence") {
      op.feature = ResultFeature::kConfidence;
    } else if (feature == "entityId" || feature == "nodeId") {
      op.feature = ResultFeature::kEntityId;
      op.type = ValueType::kString;
    } else {
      return Status::InvalidArgument(fmt::format("unknown result feature '{}'", spec));
    }
    if (!value.empty()) {
      op.has_value = true;
      FLUXSCORE_ASSIGN_OR_RETURN(op.value, ParseTyped(model_node, value, rm.target.type, false));
      op.category = CategoryIndex(0, op.value);
    }
    op.data_type = op.type == ValueType::kString ? DataType::kString : DataType::kDouble;
    op.op_type = op.type == ValueType::kString ? OpType::kCategorical : OpType::kContinuous;
    op.slot = plan_.num_slots++;
    rm.outputs.push_back(std::move(op));
  }

  // 8. interface: inputs are the document model's active fields; outputs its target and final
  // output fields — or, when it declares no Output, those of its last (modelChain) or selected
  // (selectFirst) segment.
  for (const InputPlan& in : rm.inputs) {
    const FieldDef& f = plan_.fields[static_cast<size_t>(in.field)];
    plan_.input_infos.push_back(FieldInfo{f.name, f.data_type, f.op_type, f.value_texts});
  }
  {
    const TargetPlan& tp = rm.target;
    OutputColumn col;
    col.info.name = tp.name;
    if (tp.field >= 0) {
      const FieldDef& f = plan_.fields[static_cast<size_t>(tp.field)];
      col.info = FieldInfo{f.name, f.data_type, f.op_type, f.value_texts};
    } else {
      col.info.data_type = tp.type == ValueType::kString ? DataType::kString : DataType::kDouble;
      col.info.op_type = tp.type == ValueType::kString ? OpType::kCategorical : OpType::kContinuous;
    }
    col.type = tp.type;
    col.slots = {-1};
    plan_.columns.push_back(std::move(col));
  }
  auto add_outputs = [&](const SubModel& m, bool merge) {
    for (const OutputPlan& op : m.outputs) {
      if (!op.final_result) continue;
      if (merge) {
        auto it = std::find_if(plan_.columns.begin(), plan_.columns.end(),
                               [&](const OutputColumn& c) { return c.info.name == op.name; });
        if (it != plan_.columns.end()) {
          it->slots.push_back(op.slot);
          continue;
        }
      }
      OutputColumn col;
      col.info = FieldInfo{op.name, op.data_type, op.op_type, {}};
      col.type = op.type;
      col.slots = {op.slot};
      plan_.columns.push_back(std::move(col));
    }
  };
  bool declared_output = static_cast<bool>(Child(model_node, "Output"));
  add_outputs(rm, false);
  if (!declared_output && rm.kind == ModelKind::kMining) {
    // Follow nested MiningModels down to the model whose outputs are exposed.
    const SubModel* m = &rm;
    while (m->kind == ModelKind::kMining) {
      const Segmentation& seg = plan_.segmentations[static_cast<size_t>(m->body)];
      if (seg.segments.empty()) break;
      if (seg.method == MultipleModelMethod::kModelChain) {
        m = &plan_.models[static_cast<size_t>(seg.segments.back().model)];
        add_outputs(*m, true);
      } else if (seg.method == MultipleModelMethod::kSelectFirst) {
        for (const Segment& s : seg.segments)
          add_outputs(plan_.models[static_cast<size_t>(s.model)], true);
        break;
      } else {
        break;
      }
    }
  }
  return Status::Ok();
}

// ------------------------------------------------------------------------------- models
Result<int32_t> Compiler::CompileModel(pugi::xml_node node, int depth) {
  if (depth > kMaxNesting) return Error(node, "models nest too deeply");
  std::string_view element = Document::LocalName(node);
  auto mi = static_cast<int32_t>(plan_.models.size());
  plan_.models.emplace_back();
  model(mi).element = std::string(element);
  if (element == "TreeModel") {
    model(mi).kind = ModelKind::kTree;
    FLUXSCORE_RETURN_IF_ERROR(Check(
        node,
        {"modelName", "functionName", "algorithmName", "missingValueStrategy",
         "missingValuePenalty", "noTrueChildStrategy", "splitCharacteristic", "isScorable"},
        {"MiningSchema", "Output", "ModelStats", "ModelExplanation", "Targets",
         "LocalTransformations", "Node", "ModelVerification"}));
  } else if (element == "RegressionModel") {
    model(mi).kind = ModelKind::kRegression;
    FLUXSCORE_RETURN_IF_ERROR(Check(
        node,
        {"modelName", "functionName", "algorithmName", "modelType", "targetFieldName",
         "normalizationMethod", "isScorable"},
        {"MiningSchema", "Output", "ModelStats", "ModelExplanation", "Targets",
         "LocalTransformations", "RegressionTable", "ModelVerification"}));
  } else if (element == "MiningModel") {
    model(mi).kind = ModelKind::kMining;
    FLUXSCORE_RETURN_IF_ERROR(Check(
        node, {"modelName", "functionName", "algorithmName", "isScorable"},
        {"MiningSchema", "Output", "ModelStats", "ModelExplanation", "Targets",
         "LocalTransformations", "Segmentation", "ModelVerification", "Regression",
         "DecisionTree"}));
    if (Child(node, "Regression") || Child(node, "DecisionTree"))
      return Unsupported(node, "PMML 3.x embedded models in MiningModel are not supported");
  } else {
    return Unsupported(node, fmt::format("model element <{}> is not supported (supported: "
                                         "TreeModel, RegressionModel, MiningModel)", element));
  }
  std::string_view math = node.attribute("x-mathContext").value();
  model(mi).float_math = math == "float";
  if (!math.empty() && math != "float" && math != "double")
    return Error(node, fmt::format("unknown x-mathContext '{}'", math));
  model(mi).function_name = node.attribute("functionName").value();
  if (model(mi).function_name == "classification") {
    model(mi).function = MiningFunction::kClassification;
  } else if (model(mi).function_name == "regression") {
    model(mi).function = MiningFunction::kRegression;
  } else {
    return Unsupported(node, fmt::format("functionName '{}' is not supported",
                                         model(mi).function_name));
  }
  if (node.attribute("isScorable") && !node.attribute("isScorable").as_bool(true))
    return Unsupported(node, "the model is marked isScorable=\"false\"");

  // The model's scope (the document model reuses scopes_[0], which holds the
  // TransformationDictionary); nested scopes are popped when the model is done.
  const bool is_root = mi == 0;
  if (!is_root) scopes_.emplace_back();
  const size_t level = scopes_.size() - 1;
  scopes_[level].model = mi;

  FLUXSCORE_RETURN_IF_ERROR(CompileMiningSchema(node, mi));
  if (pugi::xml_node lt = Child(node, "LocalTransformations")) {
    FLUXSCORE_RETURN_IF_ERROR(Check(lt, {}, {"DerivedField"}));
    for (pugi::xml_node c : Children(lt)) {
      std::string name = c.attribute("name").value();
      if (name.empty()) return Error(c, "DerivedField needs a name");
      scopes_[level].defs[name] = c;
    }
  }
  FLUXSCORE_RETURN_IF_ERROR(CompileTargets(node, mi));
  switch (model(mi).kind) {
    case ModelKind::kTree: FLUXSCORE_RETURN_IF_ERROR(CompileTree(node, mi)); break;
    case ModelKind::kRegression: FLUXSCORE_RETURN_IF_ERROR(CompileRegression(node, mi)); break;
    case ModelKind::kMining: FLUXSCORE_RETURN_IF_ERROR(CompileMining(node, mi, depth)); break;
  }
  model(mi).prob_offset = plan_.num_prob_slots;
  plan_.num_prob_slots += static_cast<int32_t>(model(mi).target.categories.size());
  FLUXSCORE_RETURN_IF_ERROR(CompileOutput(node, mi));
  if (!is_root) scopes_.pop_back();
  return mi;
}

Status Compiler::CompileMiningSchema(pugi::xml_node node, int32_t mi) {
  const bool is_root = mi == 0;
  const size_t level = scopes_.size() - 1;
  pugi::xml_node ms = Child(node, "MiningSchema");
  if (!ms) return Error(node, "MiningSchema is missing");
  FLUXSCORE_RETURN_IF_ERROR(Check(ms, {}, {"MiningField"}));
  std::vector<int32_t> target_fields;
  for (pugi::xml_node mf : Children(ms)) {
    FLUXSCORE_RETURN_IF_ERROR(Check(
        mf,
        {"name", "usageType", "optype", "importance", "outliers", "lowValue", "highValue",
         "missingValueReplacement", "missingValueTreatment", "invalidValueTreatment",
         "invalidValueReplacement"},
        {}));
    std::string name = mf.attribute("name").value();
    std::string_view usage = mf.attribute("usageType").value();
    if (usage.empty()) usage = "active";
    auto fit = data_fields_.find(name);
    if (usage == "target" || usage == "predicted") {
      if (fit == data_fields_.end())
        return Error(mf, fmt::format("target '{}' is not in the DataDictionary", name));
      target_fields.push_back(fit->second);
      continue;
    }
    if (usage == "supplementary" || usage == "frequencyWeight" || usage == "analysisWeight" ||
        usage == "group" || usage == "order")
      continue;
    if (usage != "active")
      return Unsupported(mf, fmt::format("usageType '{}' is not supported", usage));
    if (scopes_[level].names.count(name))
      return Error(mf, fmt::format("duplicate MiningField '{}'", name));

    // What the field is: a data field (document model), or whatever the enclosing scope calls it.
    Binding src;
    if (is_root) {
      if (fit == data_fields_.end())
        return Error(mf, fmt::format("MiningField '{}' is not in the DataDictionary", name));
      const FieldDef& def = plan_.fields[static_cast<size_t>(fit->second)];
      src = Binding{-1, fit->second, def.type, def.is_float, def.op_type};
    } else {
      scopes_.pop_back();  // resolve in the enclosing scopes only
      auto r = Resolve(name, mf, 0);
      scopes_.emplace_back();
      scopes_.back().model = mi;
      if (!r.ok()) return r.status();
      src = *r;
    }
    if (mf.attribute("optype")) {
      auto otr = ParseOpType(mf.attribute("optype").value());
      if (!otr.ok()) return Error(mf, otr.status().message());
      src.op = *otr;
      if (is_root) plan_.fields[static_cast<size_t>(src.field)].op_type = *otr;
    }
    InputPlan in;
    in.field = src.field;
    in.source_slot = is_root ? -1 : src.slot;
    FLUXSCORE_ASSIGN_OR_RETURN(in.missing_replacement,
                               OptionalTyped(mf, "missingValueReplacement", src.type, src.is_float));
    std::string_view ivt = mf.attribute("invalidValueTreatment").value();
    if (ivt.empty() || ivt == "returnInvalid") in.invalid = InvalidTreatment::kReturnInvalid;
    else if (ivt == "asIs") in.invalid = InvalidTreatment::kAsIs;
    else if (ivt == "asMissing") in.invalid = InvalidTreatment::kAsMissing;
    else if (ivt == "asValue") in.invalid = InvalidTreatment::kAsValue;
    else return Error(mf, fmt::format("unknown invalidValueTreatment '{}'", ivt));
    FLUXSCORE_ASSIGN_OR_RETURN(in.invalid_replacement,
                               OptionalTyped(mf, "invalidValueReplacement", src.type, src.is_float));
    if (in.invalid == InvalidTreatment::kAsValue && in.invalid_replacement.missing())
      return Error(mf, "invalidValueTreatment=\"asValue\" needs invalidValueReplacement");
    std::string_view out = mf.attribute("outliers").value();
    if (out.empty() || out == "asIs") in.outliers = OutlierTreatment::kAsIs;
    else if (out == "asMissingValues") in.outliers = OutlierTreatment::kAsMissingValues;
    else if (out == "asExtremeValues") in.outliers = OutlierTreatment::kAsExtremeValues;
    else return Error(mf, fmt::format("unknown outliers treatment '{}'", out));
    FLUXSCORE_ASSIGN_OR_RETURN(in.low, Number(mf, "lowValue", -INFINITY));
    FLUXSCORE_ASSIGN_OR_RETURN(in.high, Number(mf, "highValue", INFINITY));
    if (in.outliers != OutlierTreatment::kAsIs &&
        (!mf.attribute("lowValue") || !mf.attribute("highValue")))
      return Error(mf, "outlier treatment needs lowValue and highValue");
    // A nested field without treatments reads its parent's slot directly.
    bool treated = in.missing_replacement.s != CellState::kMissing ||
                   in.invalid != InvalidTreatment::kReturnInvalid ||
                   in.outliers != OutlierTreatment::kAsIs;
    Binding b = src;
    if (is_root || treated) {
      in.slot = plan_.num_slots++;
      b.slot = in.slot;
      model(mi).inputs.push_back(in);
    }
    scopes_[level].names[name] = b;
  }
  if (target_fields.size() > 1 && model(mi).kind == ModelKind::kMining) {
    // A MiningModel (e.g. a modelChain of a classifier and a regressor) may name several
    // targets; its own result is the one of the type its functionName produces.
    std::vector<int32_t> matching;
    for (int32_t f : target_fields) {
      bool continuous = plan_.fields[static_cast<size_t>(f)].op_type == OpType::kContinuous;
      if (continuous == (model(mi).function == MiningFunction::kRegression)) matching.push_back(f);
    }
    if (matching.size() == 1) target_fields = matching;
  }
  if (target_fields.size() > 1)
    return Unsupported(ms, "models with more than one target field are not supported");
  TargetPlan& target = model(mi).target;
  if (!target_fields.empty()) {
    const FieldDef& tf = plan_.fields[static_cast<size_t>(target_fields.front())];
    target.field = target_fields.front();
    target.name = tf.name;
    target.type = tf.type;
    if (model(mi).function == MiningFunction::kClassification) target.categories = tf.ordinal_order;
  } else if (!is_root && model(scopes_[level - 1].model).function == model(mi).function) {
    // A segment without a target MiningField predicts its parent's target.
    const TargetPlan& parent = model(scopes_[level - 1].model).target;
    target.field = parent.field;
    target.name = parent.name;
    target.type = parent.type;
    if (model(mi).function == MiningFunction::kClassification && parent.field >= 0)
      target.categories = plan_.fields[static_cast<size_t>(parent.field)].ordinal_order;
  } else {
    target.name = "prediction";
    target.type = model(mi).function == MiningFunction::kClassification ? ValueType::kString
                                                                        : ValueType::kNumber;
  }
  return Status::Ok();
}

Status Compiler::CompileTargets(pugi::xml_node node, int32_t mi) {
  pugi::xml_node tg = Child(node, "Targets");
  if (!tg) return Status::Ok();
  TargetPlan& target = model(mi).target;
  FLUXSCORE_RETURN_IF_ERROR(Check(tg, {}, {"Target"}));
  for (pugi::xml_node t : Children(tg)) {
    FLUXSCORE_RETURN_IF_ERROR(Check(t, {"field", "optype", "castInteger", "min", "max",
                                        "rescaleConstant", "rescaleFactor"},
                                    {"TargetValue"}));
    std::string_view field = t.attribute("field").value();
    if (!field.empty() && field != target.name) {
      if (target.field >= 0)
        return Error(t, fmt::format("Target '{}' is not the model's target field", field));
      // A model without a target MiningField names its target here.
      auto fit = data_fields_.find(std::string(field));
      if (fit != data_fields_.end()) {
        const FieldDef& tf = plan_.fields[static_cast<size_t>(fit->second)];
        target.field = fit->second;
        target.type = tf.type;
        if (model(mi).function == MiningFunction::kClassification && target.categories.empty())
          target.categories = tf.ordinal_order;
      }
      target.name = std::string(field);
    }
    FLUXSCORE_ASSIGN_OR_RETURN(target.rescale_factor, Number(t, "rescaleFactor", 1));
    FLUXSCORE_ASSIGN_OR_RETURN(target.rescale_constant, Number(t, "rescaleConstant", 0));
    FLUXSCORE_ASSIGN_OR_RETURN(target.min, Number(t, "min", -INFINITY));
    FLUXSCORE_ASSIGN_OR_RETURN(target.max, Number(t, "max", INFINITY));
    std::string_view cast = t.attribute("castInteger").value();
    if (cast == "round") target.cast_mode = 1;
    else if (cast == "ceiling") target.cast_mode = 2;
    else if (cast == "floor") target.cast_mode = 3;
    else if (!cast.empty()) return Error(t, fmt::format("unknown castInteger '{}'", cast));
    for (pugi::xml_node tv : Children(t)) {
      FLUXSCORE_RETURN_IF_ERROR(Check(
          tv, {"value", "displayValue", "priorProbability", "defaultValue"}, {"Partition"}));
      if (tv.attribute("value")) {
        FLUXSCORE_ASSIGN_OR_RETURN(double v, ParseTyped(tv, tv.attribute("value").value(),
                                                        target.type, false));
        if (tv.attribute("displayValue")) {
          target.display_keys.push_back(v);
          target.display_values.push_back(plan_.pool.Intern(tv.attribute("displayValue").value()));
        }
        if (tv.attribute("priorProbability")) {
          int32_t ci = CategoryIndex(mi, v);
          FLUXSCORE_ASSIGN_OR_RETURN(double p, Number(tv, "priorProbability", 0));
          target.priors.resize(target.categories.size(), 0.0);
          target.priors[static_cast<size_t>(ci)] = p;
        }
      }
      if (tv.attribute("defaultValue")) {
        FLUXSCORE_ASSIGN_OR_RETURN(target.default_value, Number(tv, "defaultValue", NAN));
      }
    }
  }
  return Status::Ok();
}

Status Compiler::CompileOutput(pugi::xml_node node, int32_t mi) {
  pugi::xml_node out = Child(node, "Output");
  if (!out) return Status::Ok();
  const size_t level = scopes_.size() - 1;
  FLUXSCORE_RETURN_IF_ERROR(Check(out, {}, {"OutputField"}));
  for (pugi::xml_node of : Children(out)) {
    FLUXSCORE_RETURN_IF_ERROR(Check(
        of,
        {"name", "displayName", "optype", "dataType", "targetField", "feature", "value",
         "ruleFeature", "algorithm", "rank", "rankBasis", "rankOrder", "isMultiValued",
         "segmentId", "isFinalResult"},
        {"Decisions", "Constant", "FieldRef", "NormContinuous", "NormDiscrete", "Discretize",
         "MapValues", "TextIndex", "Apply", "Aggregate", "Lag"}));
    OutputPlan op;
    op.name = of.attribute("name").value();
    if (op.name.empty()) return Error(of, "OutputField needs a name");
    std::string_view tf = of.attribute("targetField").value();
    const SubModel* source = &model(mi);
    if (of.attribute("segmentId")) {
      // The result features of one segment of this MiningModel.
      std::string_view id = of.attribute("segmentId").value();
      if (model(mi).kind != ModelKind::kMining)
        return Error(of, "segmentId is only meaningful in a MiningModel");
      for (const Segment& sg : plan_.segmentations[static_cast<size_t>(model(mi).body)].segments)
        if (sg.id == id) op.segment_model = sg.model;
      if (op.segment_model < 0) return Error(of, fmt::format("no Segment has id '{}'", id));
      source = &model(op.segment_model);
    }
    const TargetPlan& tp = source->target;
    if (!tf.empty() && tf != tp.name && op.segment_model < 0)
      return Error(of, fmt::format("targetField '{}' is not the model's target", tf));
    std::string_view feature = of.attribute("feature").value();
    if (feature.empty()) feature = "predictedValue";
    ValueType inferred = ValueType::kNumber;
    if (feature == "predictedValue") {
      op.feature = ResultFeature::kPredictedValue;
      inferred = tp.type;
    } else if (feature == "predictedDisplayValue") {
      op.feature = ResultFeature::kPredictedDisplayValue;
      inferred = ValueType::kString;
    } else if (feature == "probability") {
      op.feature = ResultFeature::kProbability;
    } else if (feature == "confidence") {
      op.feature = ResultFeature::kConfidence;
    } else if (feature == "entityId") {
      op.feature = ResultFeature::kEntityId;
      inferred = ValueType::kString;
      if (source->kind != ModelKind::kTree)
        return Unsupported(of, "entityId is supported for TreeModel only");
    } else if (feature == "transformedValue" || feature == "decision") {
      op.feature = feature == "decision" ? ResultFeature::kDecision
                                         : ResultFeature::kTransformedValue;
      pugi::xml_node expr;
      for (pugi::xml_node c : Children(of))
        if (IsExpression(Document::LocalName(c))) expr = c;
      if (!expr) return Error(of, fmt::format("feature '{}' needs an expression", feature));
      FLUXSCORE_ASSIGN_OR_RETURN(op.expr, CompileExpr(expr, 0, nullptr));
      inferred = TypeOf(op.expr);
    } else {
      return Unsupported(of, fmt::format("result feature '{}' is not supported", feature));
    }
    if ((op.feature == ResultFeature::kProbability || op.feature == ResultFeature::kConfidence) &&
        of.attribute("value")) {
      op.has_value = true;
      FLUXSCORE_ASSIGN_OR_RETURN(op.value, ParseTyped(of, of.attribute("value").value(),
                                                      tp.type, false));
      const auto& cats = source->target.categories;
      auto it = std::find(cats.begin(), cats.end(), op.value);
      op.category = it == cats.end() ? -1 : static_cast<int32_t>(it - cats.begin());
    }
    if (of.attribute("dataType")) {
      auto dtr = ParseDataType(of.attribute("dataType").value());
      if (!dtr.ok()) return Unsupported(of, dtr.status().message());
      op.data_type = *dtr;
      op.type = ValueTypeOf(op.data_type);
    } else {
      op.type = inferred;
      op.data_type = inferred == ValueType::kString    ? DataType::kString
                     : inferred == ValueType::kBoolean ? DataType::kBoolean
                                                       : DataType::kDouble;
      if (op.feature == ResultFeature::kPredictedValue && tp.field >= 0)
        op.data_type = plan_.fields[static_cast<size_t>(tp.field)].data_type;
    }
    op.op_type = op.type == ValueType::kString ? OpType::kCategorical : OpType::kContinuous;
    if (of.attribute("optype")) {
      auto otr = ParseOpType(of.attribute("optype").value());
      if (!otr.ok()) return Error(of, otr.status().message());
      op.op_type = *otr;
    }
    op.final_result = of.attribute("isFinalResult").as_bool(true);
    op.slot = plan_.num_slots++;
    scopes_[level].names[op.name] = Binding{op.slot, -1, op.type, false, op.op_type};
    model(mi).outputs.push_back(std::move(op));
  }
  return Status::Ok();
}

Result<std::unique_ptr<Plan>> CompileDocument(const Document& doc, const LoadOptions& options) {
  auto plan = std::make_unique<Plan>();
  Compiler c(doc, options, *plan);
  FLUXSCORE_RETURN_IF_ERROR(c.Run());
  return plan;
}

}  // namespace fluxscore::pmml
