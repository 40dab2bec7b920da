#include "freshet/query/stateless.h"

#include "freshet/base/assert.h"
#include "plan_spec.h"
#include "record_reader.h"

namespace freshet::query {

class StatelessOperator::Impl {
 public:
  explicit Impl(std::shared_ptr<const Plan> plan)
      : plan_(std::move(plan)), spec_(plan_->spec()), reader_(spec_) {
    FRESHET_ASSERT(spec_.stateless(), "a windowed plan runs in LocalAggregator + WindowMerger");
  }

  BatchStats process(std::span<const std::string_view> records, size_t padding, FiredRows& out) {
    BatchStats st;
    st.records = records.size();
    for (size_t i = 0; i < records.size(); ++i) {
      if (const char* err = reader_.read(records[i], padding)) {
        reject(st, i, err, kMinTimestamp);
        continue;
      }
      TimestampMs ts = kMinTimestamp;
      if (spec_.ts_field >= 0) {
        if (const char* err = reader_.event_time(ts)) {
          reject(st, i, err, kMinTimestamp);
          continue;
        }
        if (ts == kMaxTimestamp) {
          reject(st, i, "event time out of range", ts);
          continue;
        }
        if (ts > future_bound_)
          ++st.future_clamped;
        else if (ts > st.max_event_time)
          st.max_event_time = ts;
      }
      if (!reader_.passes_where()) {
        ++st.filtered_out;
        continue;
      }
      std::string& line = out.start_row(ts, ts + 1, {}, 0, FiredRow::Kind::kFinal);
      line.push_back('{');
      for (const OutputColumn& c : spec_.outputs) {
        line += c.json_prefix;
        append_value_json(line, reader_.eval_expr(c.index));
      }
      line.push_back('}');
      out.finish_row();
    }
    return st;
  }

  RejectFn reject_;
  TimestampMs future_bound_ = kMaxTimestamp;

 private:
  void reject(BatchStats& st, size_t index, const char* reason, TimestampMs ts) {
    ++st.malformed;
    if (reject_)
      reject_(RejectedRecord{RejectedRecord::Kind::kMalformed, index, reason, ts, kMinTimestamp});
  }

  std::shared_ptr<const Plan> plan_;
  const PlanSpec& spec_;
  RecordReader reader_;
};

StatelessOperator::StatelessOperator(std::shared_ptr<const Plan> plan)
    : impl_(std::make_unique<Impl>(std::move(plan))) {}
StatelessOperator::~StatelessOperator() = default;

StatelessOperator::BatchStats StatelessOperator::process(std::span<const std::string_view> values,
                                                         size_t readable_padding, FiredRows& out) {
  return impl_->process(values, readable_padding, out);
}

void StatelessOperator::set_reject_callback(RejectFn fn) { impl_->reject_ = std::move(fn); }
void StatelessOperator::set_future_bound(TimestampMs bound) { impl_->future_bound_ = bound; }

}  // namespace freshet::query
