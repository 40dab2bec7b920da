#include "sketches.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "freshet/base/hash.h"

namespace freshet::query {

namespace {

void put_u32(std::vector<char>& out, uint32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);
  out.insert(out.end(), b, b + 4);
}
void put_u64(std::vector<char>& out, uint64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  out.insert(out.end(), b, b + 8);
}
bool get_u32(std::string_view& in, uint32_t& v) {
  if (in.size() < 4) return false;
  std::memcpy(&v, in.data(), 4);
  in.remove_prefix(4);
  return true;
}
bool get_u64(std::string_view& in, uint64_t& v) {
  if (in.size() < 8) return false;
  std::memcpy(&v, in.data(), 8);
  in.remove_prefix(8);
  return true;
}

constexpr size_t kSparseMax = 2048;

}  // namespace

size_t StringViewHash::operator()(std::string_view s) const { return hash64(s); }

void Hll::add_hash(uint64_t h) {
  uint32_t idx = static_cast<uint32_t>(h >> (64 - kP));
  uint64_t rest = h << kP;  // the remaining 50 bits, left-aligned
  uint8_t rho = rest == 0 ? static_cast<uint8_t>(64 - kP + 1)
                          : static_cast<uint8_t>(__builtin_clzll(rest) + 1);
  set(idx, rho);
}

void Hll::set(uint32_t idx, uint8_t rho) {
  if (!dense_.empty()) {
    if (dense_[idx] < rho) dense_[idx] = rho;
    return;
  }
  uint32_t key = idx << 8;
  auto it = std::lower_bound(sparse_.begin(), sparse_.end(), key);
  if (it != sparse_.end() && (*it >> 8) == idx) {
    if ((*it & 0xff) < rho) *it = key | rho;
    return;
  }
  sparse_.insert(it, key | rho);
  if (sparse_.size() > kSparseMax) densify();
}

void Hll::densify() {
  dense_.assign(kRegisters, 0);
  for (uint32_t e : sparse_) dense_[e >> 8] = static_cast<uint8_t>(e & 0xff);
  sparse_.clear();
  sparse_.shrink_to_fit();
}

void Hll::merge(const Hll& o) {
  if (!o.dense_.empty()) {
    if (dense_.empty()) densify();
    for (uint32_t i = 0; i < kRegisters; ++i)
      if (dense_[i] < o.dense_[i]) dense_[i] = o.dense_[i];
    return;
  }
  for (uint32_t e : o.sparse_) set(e >> 8, static_cast<uint8_t>(e & 0xff));
}

int64_t Hll::estimate() const {
  // Registers in index order, so the floating-point sum is the same for equal registers.
  const double m = kRegisters;
  double sum = 0;
  uint32_t zeros = 0;
  if (!dense_.empty()) {
    for (uint8_t r : dense_) {
      sum += std::ldexp(1.0, -r);
      if (r == 0) ++zeros;
    }
  } else {
    zeros = kRegisters - static_cast<uint32_t>(sparse_.size());
    sum = zeros;
    for (uint32_t e : sparse_) sum += std::ldexp(1.0, -static_cast<int>(e & 0xff));
  }
  double alpha = 0.7213 / (1 + 1.079 / m);
  double est = alpha * m * m / sum;
  if (est <= 2.5 * m && zeros != 0) est = m * std::log(m / zeros);  // linear counting
  return static_cast<int64_t>(std::llround(est));
}

void Hll::serialize(std::vector<char>& out) const {
  if (!dense_.empty()) {
    out.push_back('D');
    out.insert(out.end(), dense_.begin(), dense_.end());
    return;
  }
  out.push_back('S');
  put_u32(out, static_cast<uint32_t>(sparse_.size()));
  for (uint32_t e : sparse_) put_u32(out, e);
}

bool Hll::parse(std::string_view& in) {
  sparse_.clear();
  dense_.clear();
  if (in.empty()) return false;
  char tag = in[0];
  in.remove_prefix(1);
  if (tag == 'D') {
    if (in.size() < kRegisters) return false;
    dense_.assign(in.begin(), in.begin() + kRegisters);
    in.remove_prefix(kRegisters);
    return true;
  }
  uint32_t n;
  if (tag != 'S' || !get_u32(in, n)) return false;
  // Checked, not trusted: state snapshots come from disk, and set()/densify() index by these
  // entries and rely on their order.
  if (n > kSparseMax || n > in.size() / 4) return false;
  sparse_.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t e = 0;
    if (!get_u32(in, e)) return false;
    const uint32_t rho = e & 0xff;
    if ((e >> 8) >= kRegisters || rho == 0 || rho > 64 - kP + 1) return false;
    if (i > 0 && (e >> 8) <= (sparse_[i - 1] >> 8)) return false;
    sparse_[i] = e;
  }
  return true;
}

namespace {

const double kGamma = (1 + DdSketch::kAlpha) / (1 - DdSketch::kAlpha);
const double kLogGamma = std::log(kGamma);
constexpr double kMinIndexable = 1e-12;  // smaller magnitudes count as zero

int32_t dd_key(double x) { return static_cast<int32_t>(std::ceil(std::log(x) / kLogGamma)); }
double dd_value(int32_t key) { return 2 * std::pow(kGamma, key) / (kGamma + 1); }

void serialize_map(const std::map<int32_t, uint64_t>& m, std::vector<char>& out) {
  put_u32(out, static_cast<uint32_t>(m.size()));
  for (const auto& [k, c] : m) {
    put_u32(out, static_cast<uint32_t>(k));
    put_u64(out, c);
  }
}
bool parse_map(std::string_view& in, std::map<int32_t, uint64_t>& m) {
  uint32_t n;
  if (!get_u32(in, n)) return false;
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t k;
    uint64_t c;
    if (!get_u32(in, k) || !get_u64(in, c)) return false;
    m[static_cast<int32_t>(k)] += c;
  }
  return true;
}

}  // namespace

void DdSketch::add(double x) {
  if (!std::isfinite(x)) return;
  ++count_;
  if (x > kMinIndexable) {
    ++pos_[dd_key(x)];
  } else if (x < -kMinIndexable) {
    ++neg_[dd_key(-x)];
  } else {
    ++zero_;
  }
}

void DdSketch::merge(const DdSketch& o) {
  for (const auto& [k, c] : o.pos_) pos_[k] += c;
  for (const auto& [k, c] : o.neg_) neg_[k] += c;
  zero_ += o.zero_;
  count_ += o.count_;
}

double DdSketch::quantile(double p) const {
  if (count_ == 0) return std::nan("");
  auto rank = static_cast<uint64_t>(p * static_cast<double>(count_ - 1));
  uint64_t seen = 0;
  for (auto it = neg_.rbegin(); it != neg_.rend(); ++it) {
    seen += it->second;
    if (seen > rank) return -dd_value(it->first);
  }
  seen += zero_;
  if (seen > rank) return 0;
  for (const auto& [k, c] : pos_) {
    seen += c;
    if (seen > rank) return dd_value(k);
  }
  return pos_.empty() ? 0 : dd_value(pos_.rbegin()->first);
}

void DdSketch::serialize(std::vector<char>& out) const {
  put_u64(out, zero_);
  put_u64(out, count_);
  serialize_map(pos_, out);
  serialize_map(neg_, out);
}

bool DdSketch::parse(std::string_view& in) {
  pos_.clear();
  neg_.clear();
  return get_u64(in, zero_) && get_u64(in, count_) && parse_map(in, pos_) && parse_map(in, neg_);
}

}  // namespace freshet::query
