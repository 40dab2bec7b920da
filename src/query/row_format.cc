#include "row_format.h"

#include "aggregate.h"
#include "freshet/base/time.h"
#include "key_encoding.h"

namespace freshet::query {

bool GroupRow::load(const PlanSpec& plan, TimestampMs window_start, TimestampMs window_end,
                    std::string_view key, const AggState* states, const ByteStore& store) {
  arena_.reset();
  size_t n = plan.group_exprs.size();
  groups_.resize(n);
  group_enc_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    std::string_view before = key;
    if (!decode_key_value(key, groups_[i], arena_)) return false;
    group_enc_[i] = before.substr(0, before.size() - key.size());
  }
  aggs_.resize(plan.aggs.size());
  for (size_t a = 0; a < plan.aggs.size(); ++a)
    aggs_[a] = agg_value(plan.aggs[a], states[a], store, arena_);
  states_ = states;
  store_ = &store;
  ctx_.fields = nullptr;
  ctx_.groups = groups_.data();
  ctx_.aggs = aggs_.data();
  ctx_.window_start = window_start;
  ctx_.window_end = window_end;
  ctx_.arena = &arena_;
  return true;
}

bool GroupRow::having(const PlanSpec& plan) {
  return plan.having < 0 || is_true(eval(plan.prog, plan.having, ctx_));
}

void GroupRow::format(const PlanSpec& plan, uint32_t version, bool final, std::string& out) {
  out.push_back('{');
  for (const OutputColumn& c : plan.outputs) {
    out += c.json_prefix;
    switch (c.kind) {
      case OutputKind::kGroup: {
        std::string_view enc = group_enc_[static_cast<size_t>(c.index)];
        append_key_value_json(enc, out);
        break;
      }
      case OutputKind::kWindowStart:
        append_bound(0, ctx_.window_start, out);
        break;
      case OutputKind::kWindowEnd:
        append_bound(1, ctx_.window_end, out);
        break;
      case OutputKind::kAggregate:
        agg_append_json(plan.aggs[static_cast<size_t>(c.index)], states_[c.index], *store_, arena_,
                        out);
        break;
      case OutputKind::kExpr:
        append_value_json(out, eval(plan.prog, c.index, ctx_));
        break;
      case OutputKind::kVersion:
        out += std::to_string(version);
        break;
      case OutputKind::kFinal:
        out += final ? "true" : "false";
        break;
    }
  }
  out.push_back('}');
}

void GroupRow::append_bound(int which, TimestampMs t, std::string& out) {
  Bound& b = bounds_[which];
  if (b.text.empty() || b.at != t) {
    b.at = t;
    b.text.clear();
    append_value_json(b.text, Value::timestamp(t));
  }
  out += b.text;
}

}  // namespace freshet::query
