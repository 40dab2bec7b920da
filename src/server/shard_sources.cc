// The source side of a shard: generator slices and file sources appending into the topics'
// partitions, their resume positions gathered from the partitions' owners, and the in-band
// notices of a source's backlog and end.

#include "freshet/base/log.h"
#include "freshet/base/time.h"
#include "freshet/sources/source_position.h"
#include "shard_state.h"

namespace freshet::server {

using Remote = sources::LineBatcher::Remote;
namespace {

// Events a generator slice appends in one poll at most, so queries get their turn.
constexpr uint64_t kMaxEventsPerStep = 1 << 16;

}  // namespace

bool ShardState::poll_sources() {
  bool did = false;
  for (size_t i = 0; i < file_sources_.size(); ++i) {
    const bool now = file_sources_[i]->caught_up();
    if (now == file_source_caught_up_[i]) continue;
    file_source_caught_up_[i] = now;
    Pipeline* p = &p_;
    for (uint32_t s = 0; s < p_.shard_count(); ++s)
      shard_.submit_to(ShardId(s), [p, t = file_source_topics_[i], backlog = !now] {
        p->local().source_backlog(t, backlog);
      });
  }
  for (auto& s : sources_) {
    if (!s.ready || s.gen->finished()) continue;
    auto r = s.gen->step(monotonic_ns(), kMaxEventsPerStep);
    if (!r) {
      p_.fail(fmt::format("source writing to `{}`: {}", s.topic, r.error().message));
      continue;
    }
    did |= *r > 0;
    if (!s.gen->finished() || s.done_marked) continue;
    s.done_marked = true;
    p_.input_done();
    source_ended(s.topic);
  }
  return did;
}

void ShardState::end_topic(const std::string& topic) {
  for (auto& l : logs_[topic])
    if (l) l->mark_finished();
}

void ShardState::source_backlog(const std::string& topic, bool backlog) {
  topic_backlog_[topic] += backlog ? 1 : -1;
}

void ShardState::source_ended(const std::string& topic) {
  // A topic's partitions end when every source that writes into it has ended. Each shard
  // runs a slice of every generator, and hears of every file source's end in-band, after
  // that source's last batch.
  int total = 0;
  for (const auto& [name, sc] : p_.config().sources) total += sc.to == topic;
  if (++ended_sources_[topic] < total) return;
  std::vector<int32_t> owned;
  auto& parts = logs_[topic];
  for (size_t p = 0; p < parts.size(); ++p) {
    if (!parts[p]) continue;
    parts[p]->mark_finished();
    owned.push_back(static_cast<int32_t>(p));
  }
  if (p_.options().replay_journal) return;
  if (auto st = record_topic_end(p_.fs(), p_.config().data_dir, topic, owned); !st)
    p_.fail(fmt::format("recording the end of topic `{}`'s input: {}", topic, st.error().message));
}

Status ShardState::open_file_source(const std::string& name, const config::SourceConfig& sc,
                                    const config::TopicConfig& topic) {
  sources::FileSourceOptions fo;
  fo.name = name;
  fo.pattern = sc.path;
  fo.read_from_beginning = sc.read_from_beginning;
  fo.bounded = sc.bounded;
  fo.key_field = topic.key_field;
  fo.partitions = topic.partitions;
  // Reading starts once the partitions said what they already hold (a restart).
  gather_positions(
      name, sc.to, [this, fo = std::move(fo), topic_name = sc.to](Positions positions) mutable {
        fo.resume_from = std::move(positions);
        Pipeline* p = &p_;
        auto source = std::make_unique<sources::FileSource>(
            shard_, p_.fs(), std::move(fo),
            [this, p, topic_name](int32_t partition, std::string&& batch, uint32_t) {
              shard_.submit_to(p_.partition_owner(partition),
                               [p, topic_name, partition, b = std::move(batch)]() mutable {
                                 p->local().append_from_source(topic_name, partition, std::move(b));
                               });
            },
            [this](int32_t partition) {
              const ShardId owner = p_.partition_owner(partition);
              return owner != id() && shard_.backlogged(owner);
            },
            [this, p, topic_name] {
              p_.input_done();
              for (uint32_t s = 0; s < p_.shard_count(); ++s)
                shard_.submit_to(ShardId(s),
                                 [p, topic_name] { p->local().source_ended(topic_name); });
            });
        // The lines of other shards' partitions go to those shards as they are, to be copied
        // and encoded there: batching is most of a file source's work, and the reading shard
        // would otherwise do it for every partition.
        std::vector<bool> remote(static_cast<size_t>(p_.config().topics.at(topic_name).partitions));
        for (size_t part = 0; part < remote.size(); ++part)
          remote[part] = p_.partition_owner(static_cast<int32_t>(part)) != id();
        if (p_.shard_count() > 1)
          source->build_elsewhere(
              std::move(remote), [this, p, topic_name](int32_t partition, Remote&& lines) {
                shard_.submit_to(p_.partition_owner(partition), [p, topic_name, partition,
                                                                 l = std::move(lines)]() mutable {
                  std::string batch;
                  sources::LineBatcher::build_remote(l, batch);
                  l = {};  // the read buffer is free for the reader again
                  p->local().append_from_source(topic_name, partition, std::move(batch));
                });
              });
        if (shutting_down_) return;
        if (auto st = source->start(); !st) p_.fail(st.error().message);
        file_sources_.push_back(std::move(source));
        file_source_topics_.push_back(topic_name);
        file_source_caught_up_.push_back(false);
      });
  return ok();
}

void ShardState::gather_positions(const std::string& source, const std::string& topic,
                                  shard::UniqueFunction<void(Positions)> done) {
  const int32_t partitions = p_.config().topics.at(topic).partitions;
  struct Gather {
    Positions positions;
    uint32_t replies = 0;
    shard::UniqueFunction<void(Positions)> done;
  };
  auto g = std::make_shared<Gather>();
  g->positions.resize(static_cast<size_t>(partitions));
  g->done = std::move(done);
  Pipeline* p = &p_;
  const uint32_t shards = p_.shard_count();
  for (uint32_t s = 0; s < shards; ++s) {
    shard_.submit_to(
        ShardId(s),
        [p, source, topic, partitions] {
          // On the owner: its partitions' last positions.
          std::vector<std::pair<int32_t, std::optional<std::string>>> out;
          for (int32_t part = 0; part < partitions; ++part) {
            auto* log = p->local().partition(topic, part);
            if (log == nullptr) continue;
            auto pos = sources::last_source_position(*log, source);
            if (!pos) {
              p->fail(fmt::format("finding where source `{}` stopped in {}: {}", source, log->dir(),
                                  pos.error().message));
              continue;
            }
            out.emplace_back(part, std::move(*pos));
          }
          return out;
        },
        [g, shards](std::vector<std::pair<int32_t, std::optional<std::string>>> out) {
          for (auto& [part, pos] : out) g->positions[static_cast<size_t>(part)] = std::move(pos);
          if (++g->replies == shards) g->done(std::move(g->positions));
        });
  }
}

void ShardState::append_from_source(const std::string& topic, int32_t partition,
                                    std::string batch) {
  if (shutting_down_) return;
  log::PartitionLog* part = this->partition(topic, partition);
  if (part == nullptr) return;
  if (auto r = part->append(batch); !r)
    p_.fail(fmt::format("appending to {}: {}", part->dir(), r.error().message));
}

}  // namespace freshet::server
