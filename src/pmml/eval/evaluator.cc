#include "pmml/eval/evaluator.h"

#include "pmml/eval/text_index.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace fluxscore::pmml {

Cell ConvertCell(Cell c, ValueType from, ValueType to, EvalContext& ctx) {
  if (c.missing() || from == to) return c;
  if (std::isnan(c.v)) return Cell::Invalid();
  if (to == ValueType::kString) {
    Cell out = Cell::Valid(ctx.Intern(FormatValue(c.v, from, ctx)));
    out.s = c.s;
    return out;
  }
  if (from == ValueType::kString) {
    double v;
    std::string text(ctx.Text(c.v));
    if (!ParseValue(text, to, ctx, &v)) return Cell::Invalid();
    return Cell{v, c.s};
  }
  if (to == ValueType::kBoolean) return Cell{c.v != 0 ? 1.0 : 0.0, c.s};
  return c;  // number <-> boolean/date/time keep their numeric value
}

namespace {

// Applies defaultValue and invalidValueTreatment to an Apply result. Under returnInvalid an
// invalid result fails the row (st.error), as jpmml's InvalidResultException does.
Cell FinishApply(const Plan& plan, const Expr& e, Cell r, RowState& st) {
  if (r.missing() && e.default_value.s != CellState::kMissing) return e.default_value;
  if (r.invalid() && std::isnan(r.v)) {
    switch (e.invalid) {
      case InvalidTreatment::kAsMissing: return Cell::Missing();
      case InvalidTreatment::kAsIs: return r;
      default:
        if (st.error.empty()) {
          std::string_view name =
              e.aux >= 0 ? std::string_view(plan.builtin_names[static_cast<size_t>(e.aux)])
                         : std::string_view("type conversion");
          st.error = fmt::format("function '{}' returned an invalid result", name);
        }
        return r;
    }
  }
  return r;
}

double Interpolate(const NormTable& t, double x, OutlierTreatment out, bool* missing) {
  const auto& o = t.orig;
  const auto& n = t.norm;
  size_t last = o.size() - 1;
  if (x < o[0] || x > o[last]) {
    if (out == OutlierTreatment::kAsMissingValues) {
      *missing = true;
      return 0;
    }
    if (out == OutlierTreatment::kAsExtremeValues) return x < o[0] ? n[0] : n[last];
    size_t i = x < o[0] ? 0 : last - 1;
    return n[i] + (x - o[i]) * (n[i + 1] - n[i]) / (o[i + 1] - o[i]);
  }
  size_t i = static_cast<size_t>(std::upper_bound(o.begin(), o.end(), x) - o.begin());
  if (i > last) i = last;
  if (i == 0) i = 1;
  return n[i - 1] + (x - o[i - 1]) * (n[i] - n[i - 1]) / (o[i] - o[i - 1]);
}

}  // namespace

Cell EvalExpr(const Plan& plan, int32_t ei, RowState& st) {
  const Expr& e = plan.exprs[static_cast<size_t>(ei)];
  const int32_t* args = plan.expr_args.data() + e.args_begin;
  const int32_t nargs = e.args_end - e.args_begin;
  switch (e.kind) {
    case ExprKind::kConstant:
      return e.value;
    case ExprKind::kFieldRef: {
      Cell c = st.cells[static_cast<size_t>(e.slot)];
      if (c.missing() && e.map_missing_to.s != CellState::kMissing) return e.map_missing_to;
      return c;
    }
    case ExprKind::kNormContinuous: {
      Cell x = EvalExpr(plan, args[0], st);
      if (x.missing()) return e.map_missing_to;
      if (std::isnan(x.v)) return Cell::Invalid();
      bool missing = false;
      double v = Interpolate(plan.norm_tables[static_cast<size_t>(e.aux)], x.v, e.outliers,
                             &missing);
      return missing ? Cell::Missing() : Cell::Valid(v);
    }
    case ExprKind::kNormDiscrete: {
      Cell x = EvalExpr(plan, args[0], st);
      if (x.missing()) return e.map_missing_to;
      return Cell::Valid(x.v == e.value.v ? 1.0 : 0.0);
    }
    case ExprKind::kDiscretize: {
      Cell x = EvalExpr(plan, args[0], st);
      if (x.missing()) return e.map_missing_to;
      const Discretization& d = plan.discretizations[static_cast<size_t>(e.aux)];
      for (size_t i = 0; i < d.bins.size(); ++i)
        if (d.bins[i].Contains(x.v)) return d.bin_values[i];
      return e.default_value;
    }
    case ExprKind::kMapValues: {
      const MapTable& t = plan.map_tables[static_cast<size_t>(e.aux)];
      const size_t base = st.scratch.size();
      st.scratch.resize(base + static_cast<size_t>(nargs));
      for (int32_t i = 0; i < nargs; ++i) {
        Cell v = EvalExpr(plan, args[i], st);
        if (v.missing()) {
          st.scratch.resize(base);
          return e.map_missing_to;
        }
        st.scratch[base + static_cast<size_t>(i)] = v;
      }
      const Cell* vals = st.scratch.data() + base;
      Cell found = e.default_value;
      size_t rows = t.outputs.size();
      for (size_t r = 0; r < rows; ++r) {
        const Cell* row = t.inputs.data() + r * static_cast<size_t>(t.num_inputs);
        bool match = true;
        for (int32_t i = 0; i < nargs && match; ++i)
          match = !row[i].missing() && row[i].v == vals[i].v;
        if (match) {
          found = t.outputs[r];
          break;
        }
      }
      st.scratch.resize(base);
      return found;
    }
    case ExprKind::kTextIndex: {
      Cell text = EvalExpr(plan, args[0], st);
      Cell term = EvalExpr(plan, args[1], st);
      if (text.missing() || term.missing()) return Cell::Missing();
      const TextIndexPlan& t = plan.text_indexes[static_cast<size_t>(e.aux)];
      std::string_view text_sv = st.ctx.Text(text.v);
      if (st.tok_plan != &t || st.tok_text != text_sv) {
        st.tok_plan = &t;
        st.tok_text.assign(text_sv);
        Tokenize(t, st.tok_text, &st.tok_tokens);
      }
      Tokenize(t, st.ctx.Text(term.v), &st.term_tokens);
      return Cell::Valid(TermWeight(t, st.tok_tokens, st.term_tokens));
    }
    case ExprKind::kIf: {
      Cell cond = EvalExpr(plan, args[0], st);
      if (cond.missing()) {
        if (e.map_missing_to.s != CellState::kMissing) return e.map_missing_to;
        return FinishApply(plan, e, Cell::Missing(), st);
      }
      if (cond.invalid() && std::isnan(cond.v)) return FinishApply(plan, e, Cell::Invalid(), st);
      if (cond.v != 0) return FinishApply(plan, e, EvalExpr(plan, args[1], st), st);
      if (nargs > 2) return FinishApply(plan, e, EvalExpr(plan, args[2], st), st);
      return FinishApply(plan, e, Cell::Missing(), st);
    }
    case ExprKind::kApply: {
      if (e.aux == -2) {  // conversion wrapper
        Cell x = EvalExpr(plan, args[0], st);
        if (x.missing()) {
          if (e.map_missing_to.s != CellState::kMissing) return e.map_missing_to;
          return FinishApply(plan, e, x, st);
        }
        const Expr& inner = plan.exprs[static_cast<size_t>(args[0])];
        return FinishApply(plan, e, ConvertCell(x, inner.type, e.type, st.ctx), st);
      }
      const BuiltinCall& call = plan.builtin_calls[static_cast<size_t>(e.aux)];
      const size_t base = st.scratch.size();
      st.scratch.resize(base + static_cast<size_t>(nargs));
      bool any_missing = false;
      for (int32_t i = 0; i < nargs; ++i) {
        Cell v = EvalExpr(plan, args[i], st);
        any_missing |= v.missing();
        st.scratch[base + static_cast<size_t>(i)] = v;
      }
      Cell r;
      if (any_missing && e.map_missing_to.s != CellState::kMissing) {
        r = e.map_missing_to;
      } else {
        r = FinishApply(plan, e,
                        EvalBuiltin(call,
                                    std::span<const Cell>(st.scratch.data() + base,
                                                          static_cast<size_t>(nargs)),
                                    st.ctx),
                        st);
      }
      st.scratch.resize(base);
      return r;
    }
  }
  return Cell::Missing();
}

namespace {

int Compare(const Plan& plan, const Predicate& p, double x, RowState& st) {
  if (!p.by_text) return x < p.value ? -1 : (x > p.value ? 1 : 0);
  // Ordering of strings: ordinal fields by declared order, else by text.
  if (p.field >= 0) {
    const auto& order = plan.fields[static_cast<size_t>(p.field)].ordinal_order;
    auto rank = [&](double v) { return std::find(order.begin(), order.end(), v) - order.begin(); };
    auto ra = rank(x), rb = rank(p.value);
    return ra < rb ? -1 : (ra > rb ? 1 : 0);
  }
  std::string_view a = st.ctx.Text(x), b = st.ctx.Text(p.value);
  return a < b ? -1 : (a > b ? 1 : 0);
}

}  // namespace

Tri EvalPredicate(const Plan& plan, int32_t pi, RowState& st, bool* alternative) {
  const Predicate& p = plan.predicates[static_cast<size_t>(pi)];
  switch (p.kind) {
    case PredKind::kTrue: return Tri::kTrue;
    case PredKind::kFalse: return Tri::kFalse;
    case PredKind::kIsMissing:
      return st.cells[static_cast<size_t>(p.slot)].missing() ? Tri::kTrue : Tri::kFalse;
    case PredKind::kIsNotMissing:
      return st.cells[static_cast<size_t>(p.slot)].missing() ? Tri::kFalse : Tri::kTrue;
    case PredKind::kSimple: {
      const Cell& c = st.cells[static_cast<size_t>(p.slot)];
      if (c.missing() || std::isnan(c.v)) return Tri::kUnknown;
      double x = c.v;
      bool r;
      switch (p.op) {
        case CmpOp::kEq: r = x == p.value; break;
        case CmpOp::kNe: r = x != p.value; break;
        case CmpOp::kLt: r = Compare(plan, p, x, st) < 0; break;
        case CmpOp::kLe: r = Compare(plan, p, x, st) <= 0; break;
        case CmpOp::kGt: r = Compare(plan, p, x, st) > 0; break;
        default: r = Compare(plan, p, x, st) >= 0; break;
      }
      return r ? Tri::kTrue : Tri::kFalse;
    }
    case PredKind::kSetIn:
    case PredKind::kSetNotIn: {
      const Cell& c = st.cells[static_cast<size_t>(p.slot)];
      if (c.missing() || std::isnan(c.v)) return Tri::kUnknown;
      const double* b = plan.set_values.data() + p.begin;
      const double* e = plan.set_values.data() + p.end;
      bool in = std::binary_search(b, e, c.v);
      return (in == (p.kind == PredKind::kSetIn)) ? Tri::kTrue : Tri::kFalse;
    }
    case PredKind::kAnd: {
      Tri r = Tri::kTrue;
      for (int32_t i = p.begin; i < p.end; ++i) {
        Tri t = EvalPredicate(plan, plan.pred_children[static_cast<size_t>(i)], st, nullptr);
        if (t == Tri::kFalse) return Tri::kFalse;
        if (t == Tri::kUnknown) r = Tri::kUnknown;
      }
      return r;
    }
    case PredKind::kOr: {
      Tri r = Tri::kFalse;
      for (int32_t i = p.begin; i < p.end; ++i) {
        Tri t = EvalPredicate(plan, plan.pred_children[static_cast<size_t>(i)], st, nullptr);
        if (t == Tri::kTrue) return Tri::kTrue;
        if (t == Tri::kUnknown) r = Tri::kUnknown;
      }
      return r;
    }
    case PredKind::kXor: {
      bool acc = false;
      for (int32_t i = p.begin; i < p.end; ++i) {
        Tri t = EvalPredicate(plan, plan.pred_children[static_cast<size_t>(i)], st, nullptr);
        if (t == Tri::kUnknown) return Tri::kUnknown;
        acc ^= (t == Tri::kTrue);
      }
      return acc ? Tri::kTrue : Tri::kFalse;
    }
    case PredKind::kSurrogate: {
      for (int32_t i = p.begin; i < p.end; ++i) {
        Tri t = EvalPredicate(plan, plan.pred_children[static_cast<size_t>(i)], st, nullptr);
        if (t != Tri::kUnknown) {
          if (alternative != nullptr && i != p.begin) *alternative = true;
          return t;
        }
      }
      return Tri::kUnknown;
    }
  }
  return Tri::kUnknown;
}

}  // namespace fluxscore::pmml
