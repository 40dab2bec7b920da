#include "freshet/query/plan.h"

#include "plan_spec.h"

namespace freshet::query {

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
bool Plan::stateless() const { return spec_->stateless(); }
std::vector<std::string> Plan::output_columns() const { return spec_->output_names; }
const std::vector<std::string>& Plan::referenced_fields() const { return spec_->fields; }

}  // namespace freshet::query
