// Compile pass 6 for MiningModel: segments (predicate + nested model) and their combination.
#include <fmt/format.h>

#include "pmml/compile/compiler_internal.h"

namespace fluxscore::pmml {

Status Compiler::CompileMining(pugi::xml_node node, int32_t mi, int depth) {
  pugi::xml_node seg_node = Child(node, "Segmentation");
  if (!seg_node) return Error(node, "MiningModel needs a Segmentation");
  FLUXSCORE_RETURN_IF_ERROR(Check(
      seg_node, {"multipleModelMethod", "missingPredictionTreatment", "missingThreshold"},
      {"Segment", "LocalTransformations"}));
  if (Child(seg_node, "LocalTransformations"))
    return Unsupported(seg_node, "LocalTransformations inside Segmentation are not supported");
  Segmentation seg;
  std::string_view method = seg_node.attribute("multipleModelMethod").value();
  using M = MultipleModelMethod;
  if (method == "majorityVote") seg.method = M::kMajorityVote;
  else if (method == "weightedMajorityVote") seg.method = M::kWeightedMajorityVote;
  else if (method == "average") seg.method = M::kAverage;
  else if (method == "weightedAverage") seg.method = M::kWeightedAverage;
  else if (method == "median") seg.method = M::kMedian;
  else if (method == "weightedMedian") seg.method = M::kWeightedMedian;
  else if (method == "max") seg.method = M::kMax;
  else if (method == "sum") seg.method = M::kSum;
  else if (method == "weightedSum") seg.method = M::kWeightedSum;
  else if (method == "selectFirst") seg.method = M::kSelectFirst;
  else if (method == "modelChain") seg.method = M::kModelChain;
  else if (method == "selectAll") seg.method = M::kSelectAll;
  else return Error(seg_node, fmt::format("unknown multipleModelMethod '{}'", method));
  std::string_view mpt = seg_node.attribute("missingPredictionTreatment").value();
  if (mpt == "returnMissing") seg.return_missing = true;
  else if (!mpt.empty() && mpt != "continue" && mpt != "skipSegment")
    return Error(seg_node, fmt::format("unknown missingPredictionTreatment '{}'", mpt));
  const bool classification = model(mi).function == MiningFunction::kClassification;
  if (classification && (seg.method == M::kSum || seg.method == M::kWeightedSum))
    return Error(seg_node, fmt::format("multipleModelMethod '{}' is for regression", method));
  if (!classification && (seg.method == M::kMajorityVote || seg.method == M::kWeightedMajorityVote))
    return Error(seg_node, fmt::format("multipleModelMethod '{}' is for classification", method));
  const size_t level = scopes_.size() - 1;

  for (pugi::xml_node s : Children(seg_node)) {
    if (Document::LocalName(s) != "Segment") continue;
    std::vector<std::string_view> allowed = {"SimplePredicate", "CompoundPredicate",
                                             "SimpleSetPredicate", "True", "False"};
    for (std::string_view m : {"TreeModel", "RegressionModel", "MiningModel"}) allowed.push_back(m);
    for (pugi::xml_attribute a : s.attributes()) {
      std::string_view an = a.name();
      if (an != "id" && an != "weight" && !an.starts_with("x-"))
        return Unsupported(s, fmt::format("attribute '{}' is not supported", an));
    }
    pugi::xml_node pred, child, variable_weight;
    for (pugi::xml_node c : Children(s)) {
      std::string_view cn = Document::LocalName(c);
      if (cn == "VariableWeight") {
        FLUXSCORE_RETURN_IF_ERROR(Check(c, {"field"}, {}));
        variable_weight = c;
      } else if (IsModelElement(cn)) {
        if (child) return Error(c, "a Segment holds one model");
        child = c;
      } else if (cn == "SimplePredicate" || cn == "CompoundPredicate" ||
                 cn == "SimpleSetPredicate" || cn == "True" || cn == "False") {
        pred = c;
      } else {
        return Unsupported(c, fmt::format("element <{}> is not supported here", cn));
      }
    }
    if (!pred || !child) return Error(s, "a Segment needs a predicate and a model");
    Segment segment;
    segment.id = s.attribute("id").value();
    FLUXSCORE_ASSIGN_OR_RETURN(segment.pred, CompilePredicate(pred, 0));
    FLUXSCORE_ASSIGN_OR_RETURN(segment.weight, Number(s, "weight", 1.0));
    FLUXSCORE_ASSIGN_OR_RETURN(segment.model, CompileModel(child, depth + 1));
    if (variable_weight) {
      // The weight field is usually an output field of the segment's own model.
      std::string_view wname = variable_weight.attribute("field").value();
      for (const OutputPlan& op : model(segment.model).outputs)
        if (op.name == wname) segment.weight_slot = op.slot;
      if (segment.weight_slot < 0) {
        FLUXSCORE_ASSIGN_OR_RETURN(Binding b, Resolve(wname, variable_weight, 0));
        segment.weight_slot = b.slot;
      }
    }
    const SubModel& cm = model(segment.model);
    if (seg.method != M::kModelChain && seg.method != M::kSelectFirst &&
        seg.method != M::kSelectAll && cm.function != model(mi).function)
      return Error(child, "a segment's functionName differs from its MiningModel's");
    if (classification && cm.function == MiningFunction::kClassification) {
      std::vector<double> cats = cm.target.categories;
      for (double c : cats) segment.category_map.push_back(CategoryIndex(mi, c));
    }
    // modelChain: a segment's output fields are inputs of the segments after it.
    if (seg.method == M::kModelChain) {
      for (const OutputPlan& op : model(segment.model).outputs)
        scopes_[level].names[op.name] = Binding{op.slot, -1, op.type, false, op.op_type};
    }
    seg.segments.push_back(std::move(segment));
  }
  if (seg.segments.empty()) return Error(seg_node, "Segmentation needs at least one Segment");
  if (seg.method == M::kSelectAll) {
    // The result is the list of every selected segment's prediction, written as text
    // "[v1, v2]"; OutputFields with segmentId give each segment's own results.
    TargetPlan& t = model(mi).target;
    t.type = ValueType::kString;
    t.categories.clear();
    t.priors.clear();
  }
  model(mi).body = static_cast<int32_t>(plan_.segmentations.size());
  plan_.segmentations.push_back(std::move(seg));
  return Status::Ok();
}

}  // namespace fluxscore::pmml
