#include "freshet/sources/generator_source.h"

#include <algorithm>
#include <optional>

#include "freshet/base/hash.h"

namespace freshet::sources {
namespace {
constexpr size_t kMaxBatchBytes = 64 * 1024;
}  // namespace

GeneratorSource::GeneratorSource(GeneratorOptions options, std::vector<log::PartitionLog*> owned,
                                 int64_t start_ns)
    : options_(std::move(options)),
      profile_(options_.profile),
      owned_(std::move(owned)),
      start_ns_(start_ns),
      batch_bytes_(owned_.size()) {}

int32_t GeneratorSource::partition_of(uint64_t n, const std::string& key) const {
  if (options_.key_field.empty())
    return static_cast<int32_t>(n % static_cast<uint64_t>(options_.partitions));
  return kafka_partition(key, options_.partitions);
}

Result<uint64_t> GeneratorSource::step(int64_t now_ns, uint64_t max_events) {
  const double elapsed_s = static_cast<double>(std::max<int64_t>(0, now_ns - start_ns_)) * 1e-9;
  auto due = static_cast<uint64_t>(elapsed_s * options_.profile.rate_per_sec);
  if (options_.count) due = std::min(due, *options_.count);
  due = std::min(due, next_ + max_events);
  if (due <= next_) return 0;

  struct Open {
    std::optional<log::BatchBuilder> builder;
  };
  std::vector<Open> open(owned_.size());
  uint64_t made = 0;
  const bool cheap_key = PaymentsProfile::cheap_key(options_.key_field);
  for (uint64_t n = next_; n < due; ++n) {
    // With a cheap key, skip events of other shards' partitions before building them; else
    // build each event once and route it.
    TimestampMs ts = 0;
    if (cheap_key)
      profile_.key_of(n, options_.key_field, key_);
    else
      ts = profile_.event(n, options_.key_field, json_, key_);
    const int32_t p = partition_of(n, key_);
    if (owned_[static_cast<size_t>(p)] == nullptr) continue;
    if (cheap_key) ts = profile_.event(n, options_.key_field, json_, key_);
    auto& o = open[static_cast<size_t>(p)];
    if (!o.builder) {
      batch_bytes_[static_cast<size_t>(p)].clear();
      o.builder.emplace(batch_bytes_[static_cast<size_t>(p)], ts);
    }
    o.builder->add(
        options_.key_field.empty() ? std::nullopt : std::optional<std::string_view>(key_), json_,
        ts);
    ++made;
    // Cap batches well below any segment size: a batch must fit in one segment, and
    // consumers fetch whole batches.
    if (batch_bytes_[static_cast<size_t>(p)].size() >= kMaxBatchBytes) {
      o.builder->finish(Offset(0));
      o.builder.reset();
      FRESHET_TRY(owned_[static_cast<size_t>(p)]->append(batch_bytes_[static_cast<size_t>(p)]));
    }
  }
  next_ = due;
  for (size_t p = 0; p < open.size(); ++p) {
    if (!open[p].builder) continue;
    open[p].builder->finish(Offset(0));
    FRESHET_TRY(owned_[p]->append(batch_bytes_[p]));
  }
  appended_ += made;
  return made;
}

}  // namespace freshet::sources
