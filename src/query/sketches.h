#pragma once
// The variable-size aggregate states: the exact set of COUNT(DISTINCT), the HyperLogLog of
// APPROX_COUNT_DISTINCT and the DDSketch of APPROX_PERCENTILE. All three are mergeable and
// their merged contents do not depend on the order values or partials arrive in (a set
// union, a register-wise max, a bucket-wise sum), so results are identical however records
// are split across shards and batches.
//
// Live states sit in ExtState objects owned by a table; on the way to another shard they are
// serialized into the PartialBatch byte store (serialize / merge_serialized).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace freshet::query {

struct StringViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const;
};
struct StringViewEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

// HyperLogLog with p = 14 (16384 registers, ~0.8% standard error) over XXH3 of the value's
// key encoding. Sparse (sorted idx<<8 | rho) until 2048 registers are set, then dense.
class Hll {
 public:
  static constexpr int kP = 14;
  static constexpr uint32_t kRegisters = 1u << kP;

  void add_hash(uint64_t h);
  void merge(const Hll& o);
  int64_t estimate() const;
  void serialize(std::vector<char>& out) const;
  // Parses what serialize wrote; false on malformed bytes.
  bool parse(std::string_view& in);

 private:
  void set(uint32_t idx, uint8_t rho);
  void densify();
  std::vector<uint32_t> sparse_;
  std::vector<uint8_t> dense_;
};

// DDSketch with relative accuracy 1%: log-spaced buckets, exact counts per bucket. A quantile
// estimate is within 1% (relative) of the exact value at rank floor(p * (n - 1)).
class DdSketch {
 public:
  static constexpr double kAlpha = 0.01;

  void add(double x);
  void merge(const DdSketch& o);
  // NaN when empty.
  double quantile(double p) const;
  uint64_t count() const { return count_; }
  void serialize(std::vector<char>& out) const;
  bool parse(std::string_view& in);

 private:
  std::map<int32_t, uint64_t> pos_, neg_;  // key -> count; neg_ holds |x| of negatives
  uint64_t zero_ = 0;
  uint64_t count_ = 0;
};

struct ExtState {
  std::unordered_set<std::string, StringViewHash, StringViewEq> distinct;  // key encodings
  Hll hll;
  DdSketch dd;
};

}  // namespace freshet::query
