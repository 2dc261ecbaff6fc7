// Compile pass 6 for TreeModel: nodes flattened breadth-first (children contiguous), predicates
// interned into Plan::predicates, score distributions normalised at load. Iterative, so that a
// degenerate million-deep tree cannot overflow the stack.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <unordered_map>

#include <fmt/format.h>

#include "pmml/compile/compiler_internal.h"

namespace fluxscore::pmml {
namespace {

// The child elements a Node may have (Extension aside).
constexpr std::string_view kNodeChildren[] = {
    "SimplePredicate", "CompoundPredicate", "SimpleSetPredicate", "True", "False",
    "Partition", "ScoreDistribution", "Node", "Regression", "DecisionTree"};

bool IsPredicate(std::string_view n) {
  return n == "SimplePredicate" || n == "CompoundPredicate" || n == "SimpleSetPredicate" ||
         n == "True" || n == "False";
}

// Splits an Array's content into entries: whitespace separated, "double quoted" entries may hold
// spaces, \" escapes a quote inside quotes.
std::vector<std::string> SplitArray(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i >= s.size()) break;
    std::string cur;
    if (s[i] == '"') {
      ++i;
      while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '"') {
          cur += '"';
          i += 2;
        } else {
          cur += s[i++];
        }
      }
      ++i;  // closing quote
    } else {
      while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) cur += s[i++];
    }
    out.push_back(std::move(cur));
  }
  return out;
}

}  // namespace

Result<int32_t> Compiler::CompilePredicate(pugi::xml_node n, int depth) {
  if (depth > kMaxNesting)
    return Error(n, fmt::format("predicates nest deeper than {}", kMaxNesting));
  std::string_view kind = Document::LocalName(n);
  Predicate p;
  if (kind == "True" || kind == "False") {
    FLUXSCORE_RETURN_IF_ERROR(Check(n, {}, {}));
    p.kind = kind == "True" ? PredKind::kTrue : PredKind::kFalse;
  } else if (kind == "SimplePredicate") {
    pugi::xml_attribute attr[3];  // field, operator, value
    FLUXSCORE_RETURN_IF_ERROR(Check(n, {"field", "operator", "value"}, {}, attr));
    FLUXSCORE_ASSIGN_OR_RETURN(Binding b, Resolve(attr[0].value(), n, depth));
    p.slot = b.slot;
    std::string_view op = attr[1].value();
    if (op == "isMissing" || op == "isNotMissing") {
      p.kind = op == "isMissing" ? PredKind::kIsMissing : PredKind::kIsNotMissing;
    } else {
      p.kind = PredKind::kSimple;
      if (op == "equal") p.op = CmpOp::kEq;
      else if (op == "notEqual") p.op = CmpOp::kNe;
      else if (op == "lessThan") p.op = CmpOp::kLt;
      else if (op == "lessOrEqual") p.op = CmpOp::kLe;
      else if (op == "greaterThan") p.op = CmpOp::kGt;
      else if (op == "greaterOrEqual") p.op = CmpOp::kGe;
      else return Error(n, fmt::format("unknown operator '{}'", op));
      if (!attr[2]) return Error(n, "SimplePredicate needs a value");
      FLUXSCORE_ASSIGN_OR_RETURN(p.value, ParseTyped(n, attr[2].value(), b.type, b.is_float));
      if (b.type == ValueType::kString && p.op != CmpOp::kEq && p.op != CmpOp::kNe) {
        // Ordering on strings: ordinal fields order by their declared values, others by text.
        p.by_text = true;
        if (b.op == OpType::kOrdinal && b.field >= 0) {
          const auto& order = plan_.fields[static_cast<size_t>(b.field)].ordinal_order;
          if (std::find(order.begin(), order.end(), p.value) == order.end())
            return Error(n, "value is not one of the ordinal field's values");
          p.field = b.field;
        }
      }
    }
  } else if (kind == "SimpleSetPredicate") {
    FLUXSCORE_RETURN_IF_ERROR(Check(n, {"field", "booleanOperator"}, {"Array"}));
    FLUXSCORE_ASSIGN_OR_RETURN(Binding b, Resolve(n.attribute("field").value(), n, depth));
    p.slot = b.slot;
    std::string_view op = n.attribute("booleanOperator").value();
    if (op == "isIn") p.kind = PredKind::kSetIn;
    else if (op == "isNotIn") p.kind = PredKind::kSetNotIn;
    else return Error(n, fmt::format("unknown booleanOperator '{}'", op));
    pugi::xml_node arr = Child(n, "Array");
    if (!arr) return Error(n, "SimpleSetPredicate needs an Array");
    FLUXSCORE_RETURN_IF_ERROR(Check(arr, {"n", "type"}, {}));
    std::vector<std::string> entries = SplitArray(arr.child_value());
    if (arr.attribute("n") && arr.attribute("n").as_llong(-1) != static_cast<long long>(entries.size()))
      return Error(arr, fmt::format("Array declares n={} but holds {} entries",
                                    arr.attribute("n").value(), entries.size()));
    std::vector<double> values;
    for (const std::string& s : entries) {
      FLUXSCORE_ASSIGN_OR_RETURN(double v, ParseTyped(arr, s, b.type, b.is_float));
      values.push_back(v);
    }
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    p.begin = static_cast<int32_t>(plan_.set_values.size());
    plan_.set_values.insert(plan_.set_values.end(), values.begin(), values.end());
    p.end = static_cast<int32_t>(plan_.set_values.size());
  } else if (kind == "CompoundPredicate") {
    FLUXSCORE_RETURN_IF_ERROR(Check(n, {"booleanOperator"},
                                    {"SimplePredicate", "CompoundPredicate", "SimpleSetPredicate",
                                     "True", "False"}));
    std::string_view op = n.attribute("booleanOperator").value();
    if (op == "and") p.kind = PredKind::kAnd;
    else if (op == "or") p.kind = PredKind::kOr;
    else if (op == "xor") p.kind = PredKind::kXor;
    else if (op == "surrogate") p.kind = PredKind::kSurrogate;
    else return Error(n, fmt::format("unknown booleanOperator '{}'", op));
    std::vector<int32_t> kids;
    for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
      if (c.type() != pugi::node_element || Document::LocalName(c) == "Extension") continue;
      FLUXSCORE_ASSIGN_OR_RETURN(int32_t k, CompilePredicate(c, depth + 1));
      kids.push_back(k);
    }
    if (kids.size() < 2) return Error(n, "CompoundPredicate needs at least two predicates");
    p.begin = static_cast<int32_t>(plan_.pred_children.size());
    plan_.pred_children.insert(plan_.pred_children.end(), kids.begin(), kids.end());
    p.end = static_cast<int32_t>(plan_.pred_children.size());
  } else {
    return Unsupported(n, fmt::format("<{}> is not a predicate", kind));
  }
  plan_.predicates.push_back(p);
  return static_cast<int32_t>(plan_.predicates.size() - 1);
}

Status Compiler::CompileTree(pugi::xml_node model, int32_t mi) {
  this->model(mi).body = static_cast<int32_t>(plan_.trees.size());
  plan_.trees.emplace_back();
  Tree& tree = plan_.trees.back();
  std::string_view mvs = model.attribute("missingValueStrategy").value();
  if (mvs.empty() || mvs == "none") tree.missing = MissingStrategy::kNone;
  else if (mvs == "lastPrediction") tree.missing = MissingStrategy::kLastPrediction;
  else if (mvs == "nullPrediction") tree.missing = MissingStrategy::kNullPrediction;
  else if (mvs == "defaultChild") tree.missing = MissingStrategy::kDefaultChild;
  else if (mvs == "weightedConfidence") tree.missing = MissingStrategy::kWeightedConfidence;
  else if (mvs == "aggregateNodes") tree.missing = MissingStrategy::kAggregateNodes;
  else return Error(model, fmt::format("unknown missingValueStrategy '{}'", mvs));
  FLUXSCORE_ASSIGN_OR_RETURN(tree.missing_penalty, Number(model, "missingValuePenalty", 1.0));
  std::string_view ntc = model.attribute("noTrueChildStrategy").value();
  if (ntc == "returnLastPrediction") tree.no_true_child_last = true;
  else if (!ntc.empty() && ntc != "returnNullPrediction")
    return Error(model, fmt::format("unknown noTrueChildStrategy '{}'", ntc));
  std::string_view split = model.attribute("splitCharacteristic").value();
  if (!split.empty() && split != "binarySplit" && split != "multiSplit")
    return Error(model, fmt::format("unknown splitCharacteristic '{}'", split));

  pugi::xml_node root = Child(model, "Node");
  if (!root) return Error(model, "TreeModel needs a root Node");
  const TargetPlan& target = this->model(mi).target;
  const bool classification = this->model(mi).function == MiningFunction::kClassification;
  auto category_index = [&](double v) { return CategoryIndex(mi, v); };

  // Field bindings of this tree's predicates, resolved once per name (see Compiler::Resolve).
  std::unordered_map<std::string_view, Binding> resolved;
  struct KeepResolved {
    Compiler& c;
    ~KeepResolved() { c.resolved_ = nullptr; }
  } keep{*this};
  resolved_ = &resolved;
  // Breadth-first: queue entries are (xml node, depth); node i's children are appended together.
  std::deque<std::pair<pugi::xml_node, size_t>> queue;
  queue.emplace_back(root, 1);
  tree.nodes.emplace_back();
  std::vector<pugi::xml_node> xml_of;
  xml_of.push_back(root);
  std::vector<std::pair<pugi::xml_node, std::string_view>> elements;  // of the current node
  std::vector<pugi::xml_node> kids;
  size_t index = 0;
  while (!queue.empty()) {
    auto [xn, depth] = queue.front();
    queue.pop_front();
    tree.max_depth = std::max(tree.max_depth, depth);
    // What Check(xn, attributes, children) checks, with the attributes kept from its pass and
    // the child elements listed once for the loop below.
    pugi::xml_attribute attr[4];  // id, score, recordCount, defaultChild
    FLUXSCORE_RETURN_IF_ERROR(
        CheckAttributes(xn, {"id", "score", "recordCount", "defaultChild"}, attr));
    elements.clear();
    for (pugi::xml_node c = xn.first_child(); c; c = c.next_sibling()) {
      if (c.type() != pugi::node_element) continue;
      std::string_view cn = Document::LocalName(c);
      if (cn == "Extension") continue;
      if (std::find(std::begin(kNodeChildren), std::end(kNodeChildren), cn) ==
          std::end(kNodeChildren))
        return Unsupported(c, fmt::format("element <{}> is not supported here", cn));
      elements.emplace_back(c, cn);
    }
    TreeNode node;
    pugi::xml_node pred;
    kids.clear();
    for (const auto& [c, cn] : elements) {
      if (IsPredicate(cn)) {
        if (pred) return Error(c, "a Node has more than one predicate");
        pred = c;
      } else if (cn == "Node") {
        kids.push_back(c);
      } else if (cn == "ScoreDistribution") {
        pugi::xml_attribute da[4];  // value, recordCount, confidence, probability
        FLUXSCORE_RETURN_IF_ERROR(
            Check(c, {"value", "recordCount", "confidence", "probability"}, {}, da));
        if (!da[0]) return Error(c, "ScoreDistribution needs a value");
        ScoreDist d;
        FLUXSCORE_ASSIGN_OR_RETURN(d.value, ParseTyped(c, da[0].value(), target.type, false));
        FLUXSCORE_ASSIGN_OR_RETURN(d.record_count, Number(c, "recordCount", da[1], NAN));
        FLUXSCORE_ASSIGN_OR_RETURN(d.confidence, Number(c, "confidence", da[2], NAN));
        FLUXSCORE_ASSIGN_OR_RETURN(d.probability, Number(c, "probability", da[3], NAN));
        if (!std::isnan(d.probability) && (d.probability < 0 || d.probability > 1))
          return Error(c, "probability must be within [0, 1]");
        if (classification) d.category = category_index(d.value);
        tree.dists.push_back(d);
        ++node.dist_end;
      } else if (cn == "Regression" || cn == "DecisionTree") {
        return Unsupported(c, fmt::format("embedded model <{}> is not supported", cn));
      }  // Partition: statistics only
    }
    node.dist_begin = static_cast<int32_t>(tree.dists.size()) - node.dist_end;
    node.dist_end = static_cast<int32_t>(tree.dists.size());
    if (!pred) return Error(xn, "a Node needs a predicate");
    FLUXSCORE_ASSIGN_OR_RETURN(node.pred, CompilePredicate(pred, 0));
    if (attr[1]) {
      node.has_score = true;
      auto sv = ParseTyped(xn, attr[1].value(), target.type,
                           this->model(mi).float_math && target.type == ValueType::kNumber);
      if (!sv.ok()) return sv.status();
      node.score = *sv;
      if (classification) category_index(node.score);
    }
    FLUXSCORE_ASSIGN_OR_RETURN(node.record_count, Number(xn, "recordCount", attr[2], NAN));
    if (attr[0]) node.id = plan_.pool.Intern(attr[0].value());
    if (!kids.empty()) {
      node.first_child = static_cast<int32_t>(tree.nodes.size());
      node.num_children = static_cast<int32_t>(kids.size());
      for (pugi::xml_node k : kids) {
        queue.emplace_back(k, depth + 1);
        tree.nodes.emplace_back();
        xml_of.push_back(k);
      }
    }
    std::string_view dc = attr[3].value();
    if (!dc.empty()) {
      for (size_t k = 0; k < kids.size(); ++k)
        if (std::string_view(kids[k].attribute("id").value()) == dc)
          node.default_child = node.first_child + static_cast<int32_t>(k);
      if (node.default_child < 0)
        return Error(xn, fmt::format("defaultChild '{}' names no child Node", dc));
    }
    tree.nodes[index] = node;
    ++index;
  }
  // Implicit entity ids: 1-based position in document (depth-first) order, for nodes without id.
  {
    std::vector<int32_t> stack = {0};
    int64_t counter = 0;
    while (!stack.empty()) {
      int32_t i = stack.back();
      stack.pop_back();
      ++counter;
      TreeNode& n = tree.nodes[static_cast<size_t>(i)];
      if (std::isnan(n.id)) {
        char text[24];
        const auto r = std::to_chars(text, text + sizeof text, counter);
        n.id = plan_.pool.Intern(std::string_view(text, static_cast<size_t>(r.ptr - text)));
      }
      for (int32_t k = n.num_children - 1; k >= 0; --k) stack.push_back(n.first_child + k);
    }
  }
  // Normalise probabilities: explicit probabilities (divided by their sum when it is not 1), else
  // record counts over their sum (jpmml NodeScoreDistribution).
  if (classification) {
    for (TreeNode& n : tree.nodes) {
      if (n.dist_begin == n.dist_end) continue;
      bool has_prob = !std::isnan(tree.dists[static_cast<size_t>(n.dist_begin)].probability);
      double sum = 0;
      for (int32_t k = n.dist_begin; k < n.dist_end; ++k) {
        const ScoreDist& d = tree.dists[static_cast<size_t>(k)];
        double v = has_prob ? d.probability : d.record_count;
        if (std::isnan(v))
          return Error(xml_of[static_cast<size_t>(&n - tree.nodes.data())],
                       "ScoreDistribution needs a probability or recordCount");
        sum += v;
      }
      for (int32_t k = n.dist_begin; k < n.dist_end; ++k) {
        ScoreDist& d = tree.dists[static_cast<size_t>(k)];
        double v = has_prob ? d.probability : d.record_count;
        d.probability = (sum == 1.0) ? v : (sum == 0 ? NAN : v / sum);
      }
    }
  }
  return Status::Ok();
}

}  // namespace fluxscore::pmml
