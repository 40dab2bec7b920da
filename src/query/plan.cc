#include "freshet/query/plan.h"

#include <cstring>

#include "freshet/base/hash.h"
#include "plan_spec.h"

namespace freshet::query {

namespace {

// Writes the parts of a plan that its state depends on as bytes with a fixed meaning
// (little-endian fixed-width integers, length-prefixed strings, expression trees in prefix
// order with fields by name), so that the hash does not depend on pointers, container order
// or the index a field got from WHERE's references.
class FingerprintBuilder {
 public:
  explicit FingerprintBuilder(const PlanSpec& s) : s_(s) {}

  void u8(uint8_t v) { bytes_.push_back(static_cast<char>(v)); }
  void i64(int64_t v) {
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(static_cast<uint64_t>(v) >> (8 * i));
    bytes_.append(b, 8);
  }
  void f64(double d) {
    uint64_t bits;
    std::memcpy(&bits, &d, 8);
    i64(static_cast<int64_t>(bits));
  }
  void str(std::string_view v) {
    i64(static_cast<int64_t>(v.size()));
    bytes_.append(v);
  }
  void expr(int root) {
    if (root < 0) {
      u8(0xff);
      return;
    }
    const ExprNode& n = s_.prog.nodes[static_cast<size_t>(root)];
    u8(static_cast<uint8_t>(n.op));
    u8(static_cast<uint8_t>(n.cast));
    u8(n.flag ? 1 : 0);
    if (n.op == ExprOp::kField)
      str(s_.fields[static_cast<size_t>(n.index)]);
    else
      i64(n.index);
    if (n.op == ExprOp::kLiteral) {
      u8(static_cast<uint8_t>(n.literal.type));
      i64(n.literal.dec.mantissa);
      u8(n.literal.dec.scale);
      f64(n.literal.dbl);
      str(n.literal.str);
    }
    i64(static_cast<int64_t>(n.args.size()));
    for (int a : n.args) expr(a);
  }
  uint64_t hash() const { return hash64(bytes_); }

 private:
  const PlanSpec& s_;
  std::string bytes_;
};

}  // namespace

Plan::Plan(std::unique_ptr<const PlanSpec> spec) : spec_(std::move(spec)) {}
Plan::~Plan() = default;

std::string Plan::name() const { return spec_->name; }
std::string Plan::topic() const { return spec_->topic; }
PlanInput Plan::input() const {
  return {spec_->input_is_query ? PlanInput::Kind::kQuery : PlanInput::Kind::kTopic, spec_->topic};
}
std::string Plan::ts_column() const { return spec_->ts_column; }
WindowType Plan::window_type() const { return static_cast<WindowType>(spec_->window); }
DurationMs Plan::window_size() const { return spec_->session() ? spec_->gap : spec_->window_size; }
DurationMs Plan::window_slide() const { return spec_->slide; }
DurationMs Plan::allowed_lateness() const { return spec_->allowed_lateness; }
bool Plan::emit_early() const { return spec_->emit_early; }
bool Plan::stateless() const { return spec_->stateless(); }
std::vector<std::string> Plan::output_columns() const { return spec_->output_names; }
const std::vector<std::string>& Plan::referenced_fields() const { return spec_->fields; }

uint64_t Plan::state_fingerprint() const {
  const PlanSpec& s = *spec_;
  FingerprintBuilder b(s);
  b.str("freshet.query.state/1");  // bump when what is hashed changes meaning
  b.u8(static_cast<uint8_t>(s.window));
  b.i64(s.window_size);
  b.i64(s.slide);
  b.i64(s.pane);
  b.i64(s.gap);
  b.i64(s.allowed_lateness);
  b.i64(static_cast<int64_t>(s.group_exprs.size()));
  for (int g : s.group_exprs) b.expr(g);
  b.i64(static_cast<int64_t>(s.aggs.size()));
  for (const AggSpec& a : s.aggs) {
    b.u8(static_cast<uint8_t>(a.kind));
    b.expr(a.arg);
    b.f64(a.percentile);
  }
  b.i64(static_cast<int64_t>(s.outputs.size()));
  for (const OutputColumn& c : s.outputs) {
    b.u8(static_cast<uint8_t>(c.kind));
    b.str(c.name);
    if (c.kind == OutputKind::kExpr)
      b.expr(c.index);
    else
      b.i64(c.index);
  }
  return b.hash();
}

}  // namespace freshet::query
