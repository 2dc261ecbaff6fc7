// Scores per-domain feature rows (fluxscore/dns/features.h) with a PMML classification model
// whose inputs are feature column names, and turns the results into Detections with their
// evidence and, for a TreeModel, the decision path in words.
#pragma once

#include <string>
#include <vector>

#include "fluxscore/detect/detect.h"
#include "fluxscore/dns/features.h"
#include "fluxscore/pmml/model.h"
#include "fluxscore/status.h"

namespace fluxscore::detect {

struct DetectorOptions {
  std::string flux_label = "flux";  // the model's target category meaning fast flux
  double threshold = 0.5;           // verdict flux iff probability(flux) >= threshold
  int threads = 1;
  // false: detections with verdict benign carry only domain, window, probability and verdict (no
  // features, path or evidence) — for callers that show flux domains only.
  bool explain_benign = true;
};

class Detector {
 public:
  // Loads the model; it must be a classification model with `flux_label` among its target
  // categories, and every input must be a feature column (docs/features.md) or "domain".
  static Result<Detector> Load(const std::string& model_path, const DetectorOptions& options);

  // Scores the rows; detections in the rows' order (the caller sorts). A row the model cannot
  // score (e.g. an invalid value under returnInvalid) gets probability NaN, verdict benign, and
  // its message in *row_errors (may be null).
  Result<std::vector<Detection>> Score(const std::vector<dns::FeatureRow>& rows,
                                       std::vector<std::string>* row_errors) const;

  // Sets a detection's evidence from a row's (Score copies FeatureRow::evidence; a caller that
  // aggregated without FeatureOptions::evidence fetches it for the detections it keeps, through
  // dns::Aggregator::Evidence, and sets it here).
  static void SetEvidence(Detection& d, const dns::RowEvidence& ev);

  // The tree for drawing (empty unless the model is a TreeModel).
  const std::vector<TreeNodeView>& tree() const { return tree_view_; }
  const pmml::Model& model() const { return model_; }
  std::string Describe() const;

 private:
  Detector(pmml::Model model, DetectorOptions options);
  pmml::Model model_;
  DetectorOptions options_;
  std::vector<pmml::TreeNodeInfo> tree_;  // empty unless TreeModel
  std::vector<TreeNodeView> tree_view_;
  std::string probability_column_;
};

}  // namespace fluxscore::detect
