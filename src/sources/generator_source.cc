#include "freshet/sources/generator_source.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "freshet/base/hash.h"
#include "freshet/base/time.h"
#include "freshet/sources/source_position.h"

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
      paced_from_(options_.start_wall_ms.value_or(wall_clock_ms() -
                                                  (monotonic_ns() - start_ns) / 1'000'000)),
      header_key_(options_.name.empty() ? "" : position_header_key(options_.name)),
      batch_bytes_(owned_.size()) {}

Status GeneratorSource::resume(const std::vector<std::optional<std::string>>& positions) {
  std::optional<GeneratorPosition> stream;
  std::vector<uint64_t> holds(owned_.size(), 0);
  for (size_t p = 0; p < positions.size(); ++p) {
    if (!positions[p]) continue;
    FRESHET_ASSIGN_OR_RETURN(auto pos, GeneratorPosition::decode(*positions[p]));
    if (stream && (stream->start_time != pos.start_time || stream->paced_from != pos.paced_from))
      return make_error(ErrorCode::kCorruption,
                        "source `{}`: partitions disagree on the stream: `{}` and `{}`",
                        options_.name, stream->encode(), pos.encode());
    if (!stream) stream = pos;
    if (p < holds.size()) holds[p] = pos.next;
  }
  if (!stream) return ok();  // nothing was appended before: a fresh start
  options_.profile.start_time = stream->start_time;
  profile_ = PaymentsProfile(options_.profile);
  // Event n is due at the original paced_from + n / rate: shift the monotonic origin by how
  // much earlier that was than this run's start.
  start_ns_ += (stream->paced_from - paced_from_) * 1'000'000;
  paced_from_ = stream->paced_from;
  bool any_owned = false;
  uint64_t lowest = std::numeric_limits<uint64_t>::max();
  for (size_t p = 0; p < owned_.size(); ++p) {
    if (owned_[p] == nullptr) continue;
    any_owned = true;
    lowest = std::min(lowest, holds[p]);
    skip_below_ = std::max(skip_below_, holds[p]);
  }
  next_ = any_owned ? lowest : 0;
  const uint64_t end = options_.count ? *options_.count : std::numeric_limits<uint64_t>::max();
  // Step over the events every owned partition already holds now, not in the first step(), so
  // that finished() is right at once. At most up to the highest position: every owned event
  // after it is new.
  const bool cheap_key = PaymentsProfile::cheap_key(options_.key_field);
  for (; any_owned && next_ < std::min(end, skip_below_); ++next_) {
    if (cheap_key)
      profile_.key_of(next_, options_.key_field, key_);
    else
      profile_.event(next_, options_.key_field, json_, key_);
    const auto p = static_cast<size_t>(partition_of(next_, key_));
    if (owned_[p] != nullptr && next_ >= holds[p]) break;
  }
  next_ = std::min(next_, end);
  holds_until_ = std::move(holds);
  return ok();
}

int32_t GeneratorSource::partition_of(uint64_t n, const std::string& key) const {
  if (options_.key_field.empty())
    return static_cast<int32_t>(n % static_cast<uint64_t>(options_.partitions));
  return kafka_partition(key, options_.partitions);
}

void GeneratorSource::seal(log::BatchBuilder& builder, uint64_t last) const {
  if (!header_key_.empty()) {
    const std::string value =
        GeneratorPosition{last + 1, options_.profile.start_time, paced_from_}.encode();
    const log::RecordHeader position[] = {{header_key_, std::string_view(value)}};
    builder.set_first_record_headers(position);
  }
  builder.finish(Offset(0));
}

Result<uint64_t> GeneratorSource::step(int64_t now_ns, uint64_t max_events) {
  const double elapsed_s = static_cast<double>(std::max<int64_t>(0, now_ns - start_ns_)) * 1e-9;
  auto due = static_cast<uint64_t>(elapsed_s * options_.profile.rate_per_sec);
  if (options_.count) due = std::min(due, *options_.count);
  due = std::min(due, next_ + max_events);
  if (due <= next_) return 0;

  struct Open {
    std::optional<log::BatchBuilder> builder;
    uint64_t last = 0;  // the number of its last event
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
    if (n < skip_below_ && n < holds_until_[static_cast<size_t>(p)]) [[unlikely]]
      continue;  // appended before a restart
    if (cheap_key) ts = profile_.event(n, options_.key_field, json_, key_);
    auto& o = open[static_cast<size_t>(p)];
    if (!o.builder) {
      batch_bytes_[static_cast<size_t>(p)].clear();
      o.builder.emplace(batch_bytes_[static_cast<size_t>(p)], ts);
    }
    o.builder->add(
        options_.key_field.empty() ? std::nullopt : std::optional<std::string_view>(key_), json_,
        ts);
    o.last = n;
    ++made;
    // Cap batches well below any segment size: a batch must fit in one segment, and
    // consumers fetch whole batches.
    if (batch_bytes_[static_cast<size_t>(p)].size() >= kMaxBatchBytes) {
      seal(*o.builder, o.last);
      o.builder.reset();
      FRESHET_TRY(owned_[static_cast<size_t>(p)]->append(batch_bytes_[static_cast<size_t>(p)]));
    }
  }
  next_ = due;
  for (size_t p = 0; p < open.size(); ++p) {
    if (!open[p].builder) continue;
    seal(*open[p].builder, open[p].last);
    FRESHET_TRY(owned_[p]->append(batch_bytes_[p]));
  }
  appended_ += made;
  return made;
}

}  // namespace freshet::sources
