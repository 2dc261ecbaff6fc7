// Compile passes 1-4, 7 and 8 (see compiler.h); expressions.cc and tree.cc hold the rest.
#include <algorithm>
#include <cmath>
#include <set>

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

bool IsModelElement(std::string_view n) {
  return std::find(std::begin(kModelElements), std::end(kModelElements), n) !=
         std::end(kModelElements);
}

Result<DataType> ParseDataType(std::string_view s) {
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

Result<OpType> ParseOpType(std::string_view s) {
  if (s == "continuous") return OpType::kContinuous;
  if (s == "categorical") return OpType::kCategorical;
  if (s == "ordinal") return OpType::kOrdinal;
  return Status::InvalidModel(fmt::format("unknown optype '{}'", s));
}

}  // namespace

// ------------------------------------------------------------------------------- helpers
Status Compiler::Error(pugi::xml_node n, std::string_view msg) const {
  return Status::InvalidModel(doc_.Where(n) + std::string(msg));
}
Status Compiler::Unsupported(pugi::xml_node n, std::string_view msg) const {
  return Status::Unsupported(doc_.Where(n) + std::string(msg));
}

Status Compiler::Check(pugi::xml_node n, std::initializer_list<std::string_view> attrs,
                       std::initializer_list<std::string_view> children) const {
  for (pugi::xml_attribute a : n.attributes()) {
    std::string_view name = a.name();
    if (name.starts_with("x-") || name == "xmlns" || name.starts_with("xmlns:") ||
        name.starts_with("xsi:"))
      continue;
    if (std::find(attrs.begin(), attrs.end(), name) == attrs.end())
      return Unsupported(n, fmt::format("attribute '{}' is not supported", name));
  }
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element) continue;
    std::string_view name = Document::LocalName(c);
    if (name == "Extension") continue;
    if (std::find(children.begin(), children.end(), name) == children.end())
      return Unsupported(c, fmt::format("element <{}> is not supported here", name));
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
  pugi::xml_attribute a = n.attribute(attr);
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
  std::string key(name);
  if (auto it = scope_.find(key); it != scope_.end()) return it->second;
  if (auto it = derived_defs_.find(key); it != derived_defs_.end()) {
    if (derived_state_[key] == 1)
      return Error(it->second, fmt::format("derived field '{}' depends on itself (cycle)", name));
    FLUXSCORE_RETURN_IF_ERROR(CompileDerived(it->second, depth + 1));
    return scope_.at(key);
  }
  if (data_fields_.count(key))
    return Error(where, fmt::format("field '{}' is not in the MiningSchema", name));
  return Error(where, fmt::format("reference to undefined field '{}'", name));
}

// ------------------------------------------------------------------------------- passes
Status Compiler::Run() {
  pugi::xml_node root = doc_.root();
  plan_.source = doc_.source();
  plan_.pool.Intern("false");  // boolean outputs are written as text without overflow
  plan_.pool.Intern("true");
  plan_.pmml_version = doc_.version();
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
        if (!model_) model_ = c;
        continue;
      }
      if (std::find(allowed.begin(), allowed.end(), cn) == allowed.end())
        return Unsupported(c, fmt::format("element <{}> is not supported here", cn));
    }
  }
  if (!model_) return Error(root, "the document holds no model element");
  std::string_view element = Document::LocalName(model_);
  plan_.model_element = std::string(element);
  if (element != "TreeModel")
    return Unsupported(model_, fmt::format("model element <{}> is not supported (supported: "
                                           "TreeModel)", element));

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
        if (prop.empty() || prop == "valid") {
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
        FLUXSCORE_RETURN_IF_ERROR(Check(c, {"closure", "leftMargin", "rightMargin"}, {}));
        Interval iv;
        std::string_view closure = c.attribute("closure").value();
        if (closure == "openOpen") iv.left_closed = iv.right_closed = false;
        else if (closure == "openClosed") iv.left_closed = false;
        else if (closure == "closedOpen") iv.right_closed = false;
        else if (closure != "closedClosed") return Error(c, "Interval needs a closure");
        FLUXSCORE_ASSIGN_OR_RETURN(iv.left, Number(c, "leftMargin", -INFINITY));
        FLUXSCORE_ASSIGN_OR_RETURN(iv.right, Number(c, "rightMargin", INFINITY));
        def.intervals.push_back(iv);
      }
    }
    std::sort(def.valid_values.begin(), def.valid_values.end());
    std::sort(def.invalid_values.begin(), def.invalid_values.end());
    std::sort(def.missing_values.begin(), def.missing_values.end());
    data_fields_[def.name] = static_cast<int32_t>(plan_.fields.size());
    plan_.fields.push_back(std::move(def));
  }

  // Transformations: collect definitions (compiled on demand).
  if (pugi::xml_node td = Child(root, "TransformationDictionary")) {
    FLUXSCORE_RETURN_IF_ERROR(Check(td, {}, {"DefineFunction", "DerivedField"}));
    for (pugi::xml_node c : Children(td)) {
      std::string name = c.attribute("name").value();
      if (name.empty()) return Error(c, "a name is required");
      if (Document::LocalName(c) == "DefineFunction") {
        if (functions_.count(name)) return Error(c, fmt::format("duplicate function '{}'", name));
        functions_[name] = c;
      } else {
        if (derived_defs_.count(name) || data_fields_.count(name))
          return Error(c, fmt::format("duplicate field name '{}'", name));
        derived_defs_[name] = c;
      }
    }
  }

  // 2. the model element
  FLUXSCORE_RETURN_IF_ERROR(Check(
      model_,
      {"modelName", "functionName", "algorithmName", "missingValueStrategy",
       "missingValuePenalty", "noTrueChildStrategy", "splitCharacteristic", "isScorable"},
      {"MiningSchema", "Output", "ModelStats", "ModelExplanation", "Targets",
       "LocalTransformations", "Node", "ModelVerification"}));
  plan_.function_name = model_.attribute("functionName").value();
  if (plan_.function_name == "classification") {
    plan_.function = MiningFunction::kClassification;
  } else if (plan_.function_name == "regression") {
    plan_.function = MiningFunction::kRegression;
  } else {
    return Unsupported(model_, fmt::format("functionName '{}' is not supported for a tree",
                                           plan_.function_name));
  }
  if (model_.attribute("isScorable") && !model_.attribute("isScorable").as_bool(true))
    return Unsupported(model_, "the model is marked isScorable=\"false\"");

  // 3. MiningSchema
  pugi::xml_node ms = Child(model_, "MiningSchema");
  if (!ms) return Error(model_, "MiningSchema is missing");
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
    auto fit = data_fields_.find(name);
    if (fit == data_fields_.end())
      return Error(mf, fmt::format("MiningField '{}' is not in the DataDictionary", name));
    FieldDef& def = plan_.fields[static_cast<size_t>(fit->second)];
    std::string_view usage = mf.attribute("usageType").value();
    if (usage.empty()) usage = "active";
    if (mf.attribute("optype")) {
      auto otr = ParseOpType(mf.attribute("optype").value());
      if (!otr.ok()) return Error(mf, otr.status().message());
      def.op_type = *otr;
    }
    if (usage == "target" || usage == "predicted") {
      target_fields.push_back(fit->second);
      continue;
    }
    if (usage == "supplementary" || usage == "frequencyWeight" || usage == "analysisWeight" ||
        usage == "group" || usage == "order")
      continue;
    if (usage != "active")
      return Unsupported(mf, fmt::format("usageType '{}' is not supported", usage));
    if (scope_.count(name)) return Error(mf, fmt::format("duplicate MiningField '{}'", name));
    InputPlan in;
    in.field = fit->second;
    in.slot = plan_.num_slots++;
    FLUXSCORE_ASSIGN_OR_RETURN(in.missing_replacement,
                               OptionalTyped(mf, "missingValueReplacement", def.type, def.is_float));
    std::string_view ivt = mf.attribute("invalidValueTreatment").value();
    if (ivt.empty() || ivt == "returnInvalid") in.invalid = InvalidTreatment::kReturnInvalid;
    else if (ivt == "asIs") in.invalid = InvalidTreatment::kAsIs;
    else if (ivt == "asMissing") in.invalid = InvalidTreatment::kAsMissing;
    else if (ivt == "asValue") in.invalid = InvalidTreatment::kAsValue;
    else return Error(mf, fmt::format("unknown invalidValueTreatment '{}'", ivt));
    FLUXSCORE_ASSIGN_OR_RETURN(in.invalid_replacement,
                               OptionalTyped(mf, "invalidValueReplacement", def.type, def.is_float));
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
    scope_[name] = Binding{in.slot, in.field, def.type, def.is_float, def.op_type};
    plan_.inputs.push_back(in);
  }
  if (target_fields.size() > 1)
    return Unsupported(ms, "models with more than one target field are not supported");
  target_field_ = target_fields.empty() ? -1 : target_fields.front();

  // LocalTransformations override global derived fields of the same name.
  if (pugi::xml_node lt = Child(model_, "LocalTransformations")) {
    FLUXSCORE_RETURN_IF_ERROR(Check(lt, {}, {"DerivedField"}));
    for (pugi::xml_node c : Children(lt)) {
      std::string name = c.attribute("name").value();
      if (name.empty()) return Error(c, "DerivedField needs a name");
      derived_defs_[name] = c;
    }
  }

  // 4. Targets
  TargetPlan target;
  if (target_field_ >= 0) {
    const FieldDef& tf = plan_.fields[static_cast<size_t>(target_field_)];
    target.field = target_field_;
    target.name = tf.name;
    target.type = tf.type;
    if (plan_.function == MiningFunction::kClassification) target.categories = tf.ordinal_order;
  } else {
    target.name = "prediction";
    target.type = plan_.function == MiningFunction::kClassification ? ValueType::kString
                                                                     : ValueType::kNumber;
  }
  if (pugi::xml_node tg = Child(model_, "Targets")) {
    FLUXSCORE_RETURN_IF_ERROR(Check(tg, {}, {"Target"}));
    for (pugi::xml_node t : Children(tg)) {
      FLUXSCORE_RETURN_IF_ERROR(Check(t, {"field", "optype", "castInteger", "min", "max",
                                          "rescaleConstant", "rescaleFactor"},
                                      {"TargetValue"}));
      std::string_view field = t.attribute("field").value();
      if (!field.empty() && field != target.name)
        return Error(t, fmt::format("Target '{}' is not the model's target field", field));
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
            if (std::find(target.categories.begin(), target.categories.end(), v) ==
                target.categories.end())
              target.categories.push_back(v);
            FLUXSCORE_ASSIGN_OR_RETURN(double p, Number(tv, "priorProbability", 0));
            target.priors.resize(target.categories.size(), 0.0);
            auto idx = std::find(target.categories.begin(), target.categories.end(), v) -
                       target.categories.begin();
            target.priors[static_cast<size_t>(idx)] = p;
          }
        }
        if (tv.attribute("defaultValue")) {
          FLUXSCORE_ASSIGN_OR_RETURN(target.default_value, Number(tv, "defaultValue", NAN));
        }
      }
    }
  }
  plan_.targets.push_back(std::move(target));

  // 5 + 6. the model body (derived fields are compiled as the model references them)
  FLUXSCORE_RETURN_IF_ERROR(CompileTree(model_));

  // 7. Output
  if (pugi::xml_node out = Child(model_, "Output")) {
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
      if (!tf.empty() && tf != plan_.targets.front().name)
        return Error(of, fmt::format("targetField '{}' is not the model's target", tf));
      std::string_view feature = of.attribute("feature").value();
      if (feature.empty()) feature = "predictedValue";
      const TargetPlan& tp = plan_.targets.front();
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
        return Unsupported(of, fmt::format("result feature '{}' is not supported for trees",
                                           feature));
      }
      if ((op.feature == ResultFeature::kProbability || op.feature == ResultFeature::kConfidence) &&
          of.attribute("value")) {
        op.has_value = true;
        FLUXSCORE_ASSIGN_OR_RETURN(op.value, ParseTyped(of, of.attribute("value").value(),
                                                        tp.type, false));
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
      scope_[op.name] = Binding{op.slot, -1, op.type, false, op.op_type};
      plan_.outputs.push_back(std::move(op));
    }
  }
  // Result features requested by the caller without an OutputField ("feature:<spec>").
  for (const std::string& spec : options_.extra_result_features) {
    OutputPlan op;
    op.name = "feature:" + spec;
    std::string feature = spec, value;
    if (auto p = spec.find('('); p != std::string::npos && spec.back() == ')') {
      feature = spec.substr(0, p);
      value = spec.substr(p + 1, spec.size() - p - 2);
    }
    const TargetPlan& tp = plan_.targets.front();
    if (feature == "predictedValue") {
      op.feature = ResultFeature::kPredictedValue;
      op.type = tp.type;
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
      FLUXSCORE_ASSIGN_OR_RETURN(op.value, ParseTyped(model_, value, tp.type, false));
    }
    op.data_type = op.type == ValueType::kString ? DataType::kString : DataType::kDouble;
    op.op_type = op.type == ValueType::kString ? OpType::kCategorical : OpType::kContinuous;
    op.slot = plan_.num_slots++;
    plan_.outputs.push_back(std::move(op));
  }

  // 8. interface
  for (const InputPlan& in : plan_.inputs) {
    const FieldDef& f = plan_.fields[static_cast<size_t>(in.field)];
    plan_.input_infos.push_back(FieldInfo{f.name, f.data_type, f.op_type, f.value_texts});
  }
  {
    const TargetPlan& tp = plan_.targets.front();
    FieldInfo ti;
    ti.name = tp.name;
    if (tp.field >= 0) {
      const FieldDef& f = plan_.fields[static_cast<size_t>(tp.field)];
      ti = FieldInfo{f.name, f.data_type, f.op_type, f.value_texts};
    } else {
      ti.data_type = tp.type == ValueType::kString ? DataType::kString : DataType::kDouble;
      ti.op_type = tp.type == ValueType::kString ? OpType::kCategorical : OpType::kContinuous;
    }
    plan_.output_infos.push_back(ti);
    plan_.output_columns.push_back(-1);
  }
  for (size_t i = 0; i < plan_.outputs.size(); ++i) {
    const OutputPlan& op = plan_.outputs[i];
    if (!op.final_result) continue;
    plan_.output_infos.push_back(FieldInfo{op.name, op.data_type, op.op_type, {}});
    plan_.output_columns.push_back(static_cast<int32_t>(i));
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
