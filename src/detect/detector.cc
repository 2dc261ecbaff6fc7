// Feature rows -> PMML scores -> detections with evidence and decision paths.
#include "fluxscore/detect/detector.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace fluxscore::detect {

namespace {

std::string Count(double x) { return FormatDouble(x); }

// Leaves: "flux (412 of 415 training rows)" from the node's score distribution.
std::string LeafText(const pmml::TreeNodeInfo& n, const std::string& flux_label) {
  if (n.distribution.empty()) return n.score;
  double total = 0, mine = 0;
  for (const auto& [cat, v] : n.distribution) {
    total += v;
    if (cat == n.score) mine = v;
  }
  const bool counts = !std::isnan(n.record_count) || total > 1.0 + 1e-9;
  if (!counts) return fmt::format("{} (p = {:.3f})", n.score, mine);
  return fmt::format("{} ({} of {} training rows)", n.score, Count(mine), Count(total));
}

double FluxShare(const pmml::TreeNodeInfo& n, const std::string& flux_label) {
  double total = 0, flux = 0;
  for (const auto& [cat, v] : n.distribution) {
    total += v;
    if (cat == flux_label) flux = v;
  }
  if (total > 0) return flux / total;
  return n.score == flux_label ? 1.0 : 0.0;
}

}  // namespace

Detector::Detector(pmml::Model model, DetectorOptions options)
    : model_(std::move(model)), options_(std::move(options)) {}

Result<Detector> Detector::Load(const std::string& model_path, const DetectorOptions& options) {
  // First as it is, to check what kind of model it is (asking a regression model for a class
  // probability would fail with a less helpful message), then with the flux probability exposed.
  FLUXSCORE_ASSIGN_OR_RETURN(pmml::Model plain, pmml::Model::LoadFile(model_path));
  if (plain.function_name() != "classification")
    return Status::InvalidArgument(fmt::format(
        "{}: a detection model must be a classification model (functionName=\"{}\")", model_path,
        plain.function_name()));
  pmml::LoadOptions lo;
  const std::string spec = "probability(" + options.flux_label + ")";
  lo.extra_result_features.push_back(spec);
  FLUXSCORE_ASSIGN_OR_RETURN(pmml::Model model, pmml::Model::LoadFile(model_path, lo));
  if (model.function_name() != "classification")
    return Status::InvalidArgument(fmt::format(
        "{}: a detection model must be a classification model (functionName=\"{}\")", model_path,
        model.function_name()));
  const auto& outs = model.outputs();
  if (outs.empty() || std::find(outs[0].values.begin(), outs[0].values.end(),
                                options.flux_label) == outs[0].values.end()) {
    std::string cats;
    if (!outs.empty())
      for (const std::string& v : outs[0].values) cats += (cats.empty() ? "" : ", ") + v;
    return Status::InvalidArgument(fmt::format(
        "{}: the target has no category '{}' (categories: {}); use --flux-label", model_path,
        options.flux_label, cats.empty() ? "none declared" : cats));
  }
  std::unordered_map<std::string, bool> known;
  for (const auto& c : dns::FeatureColumns()) known[std::string(c.name)] = true;
  known["domain"] = known["window_start"] = true;
  for (const pmml::FieldInfo& in : model.inputs()) {
    if (!known.count(in.name))
      return Status::InvalidArgument(fmt::format(
          "{}: input field '{}' is not a feature column (docs/features.md lists them)",
          model_path, in.name));
  }
  Detector d(std::move(model), options);
  d.probability_column_ = "feature:" + spec;
  if (d.model_.model_element() == "TreeModel") {
    FLUXSCORE_ASSIGN_OR_RETURN(d.tree_, d.model_.TreeNodes());
    // Pre-order for drawing: children follow their parent in the plan; walk from the root.
    std::vector<std::vector<int32_t>> kids(d.tree_.size());
    for (size_t i = 1; i < d.tree_.size(); ++i)
      if (d.tree_[i].parent >= 0) kids[static_cast<size_t>(d.tree_[i].parent)].push_back(static_cast<int32_t>(i));
    std::vector<int32_t> view_index(d.tree_.size(), -1);
    std::vector<int32_t> stack{0};
    while (!stack.empty()) {
      const int32_t i = stack.back();
      stack.pop_back();
      const pmml::TreeNodeInfo& n = d.tree_[static_cast<size_t>(i)];
      TreeNodeView v;
      v.parent = n.parent < 0 ? -1 : view_index[static_cast<size_t>(n.parent)];
      v.depth = n.depth;
      v.condition = n.condition;
      v.leaf = n.leaf;
      v.outcome = n.leaf ? n.score : "";
      v.flux_share = FluxShare(n, options.flux_label);
      double rows = n.record_count;
      if (std::isnan(rows)) {
        double total = 0;
        for (const auto& kv : n.distribution) total += kv.second;
        rows = total > 1.0 + 1e-9 ? total : NAN;
      }
      v.rows = rows;
      view_index[static_cast<size_t>(i)] = static_cast<int32_t>(d.tree_view_.size());
      d.tree_view_.push_back(std::move(v));
      for (auto it = kids[static_cast<size_t>(i)].rbegin(); it != kids[static_cast<size_t>(i)].rend(); ++it)
        stack.push_back(*it);
    }
  }
  return d;
}

std::string Detector::Describe() const {
  return fmt::format("{} ({} inputs{})", model_.model_element(), model_.inputs().size(),
                     tree_.empty() ? "" : fmt::format(", {} nodes", tree_.size()));
}

Result<std::vector<Detection>> Detector::Score(const std::vector<dns::FeatureRow>& rows,
                                               std::vector<std::string>* row_errors) const {
  const auto& cols = dns::FeatureColumns();
  Table t;
  {
    Column domain = Column::String("domain");
    for (const auto& r : rows) domain.AppendString(r.domain);
    t.AddColumn(std::move(domain));
    std::vector<double> ws;
    ws.reserve(rows.size());
    for (const auto& r : rows) ws.push_back(static_cast<double>(r.window_start));
    t.AddColumn(Column::Numeric("window_start", std::move(ws)));
    for (size_t c = 0; c < cols.size(); ++c) {
      std::vector<double> v;
      v.reserve(rows.size());
      for (const auto& r : rows) v.push_back(r.values[c]);
      t.AddColumn(Column::Numeric(std::string(cols[c].name), std::move(v)));
    }
  }
  pmml::ScoreOptions so;
  so.threads = options_.threads;
  FLUXSCORE_ASSIGN_OR_RETURN(pmml::ScoreResult res, model_.Score(t, so));
  const int pc = res.outputs.Find(probability_column_);
  if (pc < 0) return Status::InvalidModel("probability column missing from the model's outputs");
  const Column& prob = res.outputs.columns()[static_cast<size_t>(pc)];
  std::vector<std::vector<int32_t>> paths;
  if (!tree_.empty()) {
    FLUXSCORE_ASSIGN_OR_RETURN(paths, model_.DecisionPaths(t));
  }
  std::unordered_map<std::string, size_t> col_index;
  for (size_t c = 0; c < cols.size(); ++c) col_index[std::string(cols[c].name)] = c;
  if (row_errors != nullptr)
    for (const pmml::RowError& e : res.row_errors)
      row_errors->push_back(fmt::format("{} (window {}): {}", rows[e.row].domain,
                                        rows[e.row].window_start, e.message));

  std::vector<Detection> out(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const dns::FeatureRow& r = rows[i];
    Detection& d = out[i];
    d.domain = r.domain;
    d.window_start = r.window_start;
    d.probability = prob.kind() == Column::Kind::kNumeric ? prob.numbers()[i] : NAN;
    d.flux = !std::isnan(d.probability) && d.probability >= options_.threshold;
    if (!d.flux && !options_.explain_benign) continue;
    d.features.reserve(cols.size());
    for (size_t c = 0; c < cols.size(); ++c) d.features.emplace_back(std::string(cols[c].name), r.values[c]);
    if (!paths.empty() && !paths[i].empty()) {
      for (int32_t ni : paths[i]) {
        const pmml::TreeNodeInfo& n = tree_[static_cast<size_t>(ni)];
        if (n.condition.empty()) continue;
        PathStep s;
        s.condition = n.condition;
        s.field = n.field;
        auto it = col_index.find(n.field);
        s.value = it == col_index.end() ? NAN : r.values[it->second];
        d.path.push_back(std::move(s));
      }
      d.leaf = LeafText(tree_[static_cast<size_t>(paths[i].back())], options_.flux_label);
    }
    SetEvidence(d, r.evidence);
  }
  return out;
}

void Detector::SetEvidence(Detection& d, const dns::RowEvidence& ev) {
  d.evidence = {};
  d.evidence.ips = ev.ips;
  for (const auto& n : ev.networks) d.evidence.networks.push_back({n.asn, n.org, n.ips});
  for (const auto& [cc, n] : ev.countries) d.evidence.countries.push_back({cc, n});
  for (const auto& [ttl, n] : ev.ttls) d.evidence.ttls.push_back({ttl, n});
}

}  // namespace fluxscore::detect
