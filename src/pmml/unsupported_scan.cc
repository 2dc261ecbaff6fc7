// A whole-document scan for elements the engine does not implement, so that `fluxscore inspect`
// can list every one of them (loading stops at the first).
#include <algorithm>
#include <string_view>

#include <fmt/format.h>

#include "fluxscore/pmml/model.h"
#include "pmml/xml/document.h"

namespace fluxscore::pmml {
namespace {

constexpr std::string_view kUnsupported[] = {
    // model types
    "AnomalyDetectionModel", "AssociationModel", "BayesianNetworkModel", "BaselineModel",
    "ClusteringModel", "GaussianProcessModel", "GeneralRegressionModel", "NaiveBayesModel",
    "NearestNeighborModel", "NeuralNetwork", "RuleSetModel", "SequenceModel", "Scorecard",
    "SupportVectorMachineModel", "TextModel", "TimeSeriesModel",
    // PMML 3.x embedded models, transformations and tables not implemented
    "Regression", "DecisionTree", "Aggregate", "Lag", "TableLocator", "TextIndexNormalization",
    "Taxonomy"};

}  // namespace

Result<std::vector<std::string>> ListUnsupportedElements(const std::string& path) {
  FLUXSCORE_ASSIGN_OR_RETURN(std::string text, Document::ReadSource(path));
  FLUXSCORE_ASSIGN_OR_RETURN(auto doc, Document::Parse(std::move(text), path, LoadOptions{}));
  std::vector<std::string> out;
  // Iterative pre-order walk (documents may nest very deeply); Extension content is skipped.
  pugi::xml_node root = doc->root();
  for (pugi::xml_node n = root; n;) {
    std::string_view name = Document::LocalName(n);
    bool descend = name != "Extension" && name != "ModelVerification" && name != "ModelStats";
    if (std::find(std::begin(kUnsupported), std::end(kUnsupported), name) !=
        std::end(kUnsupported)) {
      out.push_back(fmt::format("{}<{}> is not supported", doc->Where(n), name));
      descend = false;  // one line per unsupported subtree
    }
    pugi::xml_node next = descend ? n.first_child() : pugi::xml_node();
    while (next && next.type() != pugi::node_element) next = next.next_sibling();
    if (next) {
      n = next;
      continue;
    }
    while (n && n != root) {
      pugi::xml_node s = n.next_sibling();
      while (s && s.type() != pugi::node_element) s = s.next_sibling();
      if (s) {
        n = s;
        break;
      }
      n = n.parent();
    }
    if (!n || n == root) break;
  }
  return out;
}

}  // namespace fluxscore::pmml
