// Compile pass 6 for RegressionModel: regression tables with numeric, categorical and product
// predictors bound to slots.
#include <fmt/format.h>

#include "pmml/compile/compiler_internal.h"

namespace fluxscore::pmml {

Status Compiler::CompileRegression(pugi::xml_node node, int32_t mi) {
  Regression reg;
  std::string_view norm = node.attribute("normalizationMethod").value();
  if (norm.empty() || norm == "none") reg.norm = RegNorm::kNone;
  else if (norm == "simplemax") reg.norm = RegNorm::kSimplemax;
  else if (norm == "softmax") reg.norm = RegNorm::kSoftmax;
  else if (norm == "logit") reg.norm = RegNorm::kLogit;
  else if (norm == "probit") reg.norm = RegNorm::kProbit;
  else if (norm == "cloglog") reg.norm = RegNorm::kCloglog;
  else if (norm == "exp") reg.norm = RegNorm::kExp;
  else if (norm == "loglog") reg.norm = RegNorm::kLoglog;
  else if (norm == "cauchit") reg.norm = RegNorm::kCauchit;
  else return Error(node, fmt::format("unknown normalizationMethod '{}'", norm));
  std::string_view target_name = node.attribute("targetFieldName").value();
  if (!target_name.empty() && target_name != model(mi).target.name && model(mi).target.field >= 0)
    return Error(node, fmt::format("targetFieldName '{}' is not the model's target", target_name));
  const bool classification = model(mi).function == MiningFunction::kClassification;
  std::string_view model_type = node.attribute("modelType").value();
  if (!model_type.empty() && model_type != "linearRegression" && model_type != "stepwisePolynomialRegression" &&
      model_type != "logisticRegression")
    return Unsupported(node, fmt::format("modelType '{}' is not supported", model_type));

  // NumericPredictor / CategoricalPredictor name their field by `name` (PMML 4.x) or `field`.
  auto predictor_field = [&](pugi::xml_node p) {
    return Resolve(p.attribute("name") ? p.attribute("name").value() : p.attribute("field").value(),
                   p, 0);
  };
  for (pugi::xml_node t : Children(node)) {
    if (Document::LocalName(t) != "RegressionTable") continue;
    FLUXSCORE_RETURN_IF_ERROR(Check(t, {"intercept", "targetCategory"},
                                    {"NumericPredictor", "CategoricalPredictor", "PredictorTerm"}));
    RegTable table;
    FLUXSCORE_ASSIGN_OR_RETURN(table.intercept, RequiredNumber(t, "intercept"));
    if (classification) {
      if (!t.attribute("targetCategory"))
        return Error(t, "a classification RegressionTable needs a targetCategory");
      FLUXSCORE_ASSIGN_OR_RETURN(table.category,
                                 ParseTyped(t, t.attribute("targetCategory").value(),
                                            model(mi).target.type, false));
      table.category_index = CategoryIndex(mi, table.category);
    }
    table.begin = static_cast<int32_t>(reg.terms.size());
    for (pugi::xml_node p : Children(t)) {
      std::string_view kind = Document::LocalName(p);
      RegTerm term;
      if (kind == "NumericPredictor") {
        FLUXSCORE_RETURN_IF_ERROR(Check(p, {"name", "field", "exponent", "coefficient"}, {}));
        FLUXSCORE_ASSIGN_OR_RETURN(Binding b, predictor_field(p));
        term.kind = RegTerm::kNumeric;
        term.slot = b.slot;
        FLUXSCORE_ASSIGN_OR_RETURN(term.exponent, Number(p, "exponent", 1));
        FLUXSCORE_ASSIGN_OR_RETURN(term.coef, RequiredNumber(p, "coefficient"));
      } else if (kind == "CategoricalPredictor") {
        FLUXSCORE_RETURN_IF_ERROR(Check(p, {"name", "field", "value", "coefficient"}, {}));
        FLUXSCORE_ASSIGN_OR_RETURN(Binding b, predictor_field(p));
        term.kind = RegTerm::kCategorical;
        term.slot = b.slot;
        if (!p.attribute("value")) return Error(p, "CategoricalPredictor needs a value");
        FLUXSCORE_ASSIGN_OR_RETURN(term.value,
                                   ParseTyped(p, p.attribute("value").value(), b.type, b.is_float));
        FLUXSCORE_ASSIGN_OR_RETURN(term.coef, RequiredNumber(p, "coefficient"));
      } else {
        FLUXSCORE_RETURN_IF_ERROR(Check(p, {"name", "coefficient"}, {"FieldRef"}));
        term.kind = RegTerm::kProduct;
        FLUXSCORE_ASSIGN_OR_RETURN(term.coef, RequiredNumber(p, "coefficient"));
        term.begin = static_cast<int32_t>(reg.product_slots.size());
        for (pugi::xml_node f : Children(p)) {
          FLUXSCORE_RETURN_IF_ERROR(Check(f, {"field"}, {}));
          FLUXSCORE_ASSIGN_OR_RETURN(Binding b, Resolve(f.attribute("field").value(), f, 0));
          reg.product_slots.push_back(b.slot);
        }
        term.end = static_cast<int32_t>(reg.product_slots.size());
        if (term.begin == term.end) return Error(p, "PredictorTerm needs FieldRefs");
      }
      reg.terms.push_back(term);
    }
    table.end = static_cast<int32_t>(reg.terms.size());
    reg.tables.push_back(table);
  }
  if (reg.tables.empty()) return Error(node, "RegressionModel needs a RegressionTable");
  if (!classification && reg.tables.size() != 1)
    return Error(node, "a regression RegressionModel needs exactly one RegressionTable");
  if (classification) {
    if (reg.tables.size() < 2) return Error(node, "classification needs two or more tables");
    if (reg.norm == RegNorm::kExp) return Error(node, "normalizationMethod exp is for regression");
    bool binary_link = reg.norm == RegNorm::kLogit || reg.norm == RegNorm::kProbit ||
                       reg.norm == RegNorm::kCloglog || reg.norm == RegNorm::kLoglog ||
                       reg.norm == RegNorm::kCauchit;
    if (binary_link && reg.tables.size() > 2 && reg.norm != RegNorm::kLogit &&
        model(mi).target.field >= 0 &&
        plan_.fields[static_cast<size_t>(model(mi).target.field)].op_type != OpType::kOrdinal)
      return Error(node, "this normalizationMethod needs two tables or an ordinal target");
  } else if (reg.norm == RegNorm::kSimplemax) {
    return Error(node, "normalizationMethod simplemax is for classification");
  }
  model(mi).body = static_cast<int32_t>(plan_.regressions.size());
  plan_.regressions.push_back(std::move(reg));
  return Status::Ok();
}

}  // namespace fluxscore::pmml
