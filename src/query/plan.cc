#include "freshet/query/plan.h"

#include "plan_spec.h"

namespace freshet::query {

Plan::Plan(std::unique_ptr<const PlanSpec> spec) : spec_(std::move(spec)) {}
Plan::~Plan() = default;

std::string Plan::name() const { return spec_->name; }
std::string Plan::topic() const { return spec_->topic; }
std::string Plan::ts_column() const { return spec_->ts_column; }
DurationMs Plan::window_size() const { return spec_->window_size; }
std::vector<std::string> Plan::output_columns() const { return spec_->output_names; }
const std::vector<std::string>& Plan::referenced_fields() const { return spec_->fields; }

}  // namespace freshet::query
