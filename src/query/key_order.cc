#include "key_order.h"

#include <algorithm>

namespace freshet::query {

const std::vector<KeyHead>& KeyOrder::of(const AggTable& t) {
  if (heads_.size() == t.size()) return heads_;
  const auto& entries = t.entries();
  heads_.resize(entries.size());
  for (uint32_t i = 0; i < entries.size(); ++i) heads_[i] = key_head(t.key(entries[i]), i);
  std::sort(heads_.begin(), heads_.end(),
            [&t](const KeyHead& a, const KeyHead& b) { return key_before(a, t, b, t); });
  return heads_;
}

void KeyMerge::add(const AggTable& t, const std::vector<KeyHead>& order) {
  if (order.empty()) return;
  cursors_.push_back({&t, &order, 0, cursors_.size()});
  heap_.push_back(static_cast<uint32_t>(cursors_.size() - 1));
  std::push_heap(heap_.begin(), heap_.end(),
                 [this](uint32_t x, uint32_t y) { return after(x, y); });
}

bool KeyMerge::after(uint32_t x, uint32_t y) const {
  const Cursor& a = cursors_[x];
  const Cursor& b = cursors_[y];
  const KeyHead& ka = (*a.order)[a.next];
  const KeyHead& kb = (*b.order)[b.next];
  if (key_before(kb, *b.table, ka, *a.table)) return true;
  if (key_before(ka, *a.table, kb, *b.table)) return false;
  return a.rank > b.rank;  // equal keys: the table added first comes first
}

bool KeyMerge::next(std::string_view& key, std::vector<Holder>& holders) {
  holders.clear();
  if (heap_.empty()) return false;
  auto after = [this](uint32_t x, uint32_t y) { return this->after(x, y); };
  const Cursor& top = cursors_[heap_.front()];
  const KeyHead first = (*top.order)[top.next];
  const AggTable* first_table = top.table;
  key = first_table->key(first_table->entries()[first.entry]);
  // Pop every cursor at this key; each moves on to its next key.
  while (!heap_.empty()) {
    Cursor& c = cursors_[heap_.front()];
    const KeyHead& h = (*c.order)[c.next];
    if (key_before(first, *first_table, h, *c.table)) break;  // past the least key
    holders.push_back({c.table, h.entry});
    std::pop_heap(heap_.begin(), heap_.end(), after);
    if (++c.next < c.order->size()) {
      std::push_heap(heap_.begin(), heap_.end(), after);
    } else {
      heap_.pop_back();
    }
  }
  return true;
}

}  // namespace freshet::query
