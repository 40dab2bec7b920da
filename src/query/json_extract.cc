#include "json_extract.h"

#include <simdjson.h>

namespace freshet::query {

namespace od = simdjson::ondemand;

namespace {

struct Node {
  std::string name;
  bool plain = true;  // no quote or backslash: raw key bytes can be compared directly
  int leaf = -1;      // index into values if this path is wanted itself
  int leaves = 0;     // wanted paths at or below this node
  std::vector<Node> children;
};

std::string_view trim_right(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// For the reason text only: whether a non-object document is some other JSON value (an array,
// string, number or literal) rather than garbage.
bool looks_like_json_value(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\n' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  s = trim_right(s);
  if (s.empty()) return false;
  if (s.front() == '[' || s.front() == '"') return true;
  if (s == "null" || s == "true" || s == "false") return true;
  Decimal d;
  double x;
  return parse_json_number(s, d, x) != NumberParse::kInvalid;
}

}  // namespace

class FieldExtractor::Impl {
 public:
  explicit Impl(const std::vector<std::string>& paths) : count_(paths.size()) {
    for (size_t i = 0; i < paths.size(); ++i) {
      Node* n = &root_;
      ++n->leaves;
      std::string_view p = paths[i];
      for (;;) {
        size_t dot = p.find('.');
        std::string_view part = p.substr(0, dot);
        Node* child = nullptr;
        for (Node& c : n->children)
          if (c.name == part) child = &c;
        if (child == nullptr) {
          n->children.push_back(Node{
              std::string(part), part.find_first_of("\"\\") == std::string_view::npos, -1, 0, {}});
          child = &n->children.back();
        }
        n = child;
        ++n->leaves;
        if (dot == std::string_view::npos) break;
        p.remove_prefix(dot + 1);
      }
      if (n->leaf < 0) n->leaf = static_cast<int>(i);
    }
  }

  const char* extract(std::string_view record, size_t padding, Value* values) {
    for (size_t i = 0; i < count_; ++i) values[i] = Value{};
    simdjson::padded_string_view buf;
    if (padding >= simdjson::SIMDJSON_PADDING) {
      buf = simdjson::padded_string_view(record.data(), record.size(), record.size() + padding);
    } else {
      // Copy into our own padded buffer; it only ever grows.
      if (copy_.size() < record.size() + simdjson::SIMDJSON_PADDING)
        copy_.resize(record.size() + simdjson::SIMDJSON_PADDING);
      std::memcpy(copy_.data(), record.data(), record.size());
      buf = simdjson::padded_string_view(copy_.data(), record.size(), copy_.size());
    }
    auto doc = parser_.iterate(buf);
    if (doc.error()) return "invalid JSON";
    od::object obj;
    if (auto err = doc.get_object().get(obj)) {
      return err == simdjson::INCORRECT_TYPE && looks_like_json_value(record)
                 ? "record is not a JSON object"
                 : "invalid JSON";
    }
    return walk(obj, root_, values);
  }

 private:
  const char* walk(od::object& obj, const Node& node, Value* values) {
    int remaining = node.leaves - (node.leaf >= 0 ? 1 : 0);
    for (auto field_result : obj) {
      od::field field;
      if (std::move(field_result).get(field)) return "invalid JSON";
      const Node* match = nullptr;
      for (const Node& c : node.children) {
        bool eq;
        if (c.plain) {
          eq = field.key().unsafe_is_equal(c.name);
        } else {
          std::string_view k;
          eq = !field.unescaped_key().get(k) && k == c.name;
        }
        if (eq) {
          match = &c;
          break;
        }
      }
      if (match == nullptr) continue;
      // A repeated key: the first occurrence wins.
      if (match->leaf >= 0 && values[match->leaf].type != ValueType::kMissing) continue;
      od::value v = field.value();
      od::json_type type;
      if (v.type().get(type)) return "invalid JSON";
      if (!match->children.empty() && type == od::json_type::object) {
        od::object inner;
        if (v.get_object().get(inner)) return "invalid JSON";
        if (const char* err = walk(inner, *match, values)) return err;
        if (match->leaf >= 0) values[match->leaf].type = ValueType::kOther;
      } else if (match->leaf >= 0) {
        if (const char* err = read_value(v, type, values[match->leaf])) return err;
      }
      remaining -= match->leaves;
      if (remaining <= 0) break;  // everything wanted is found: skip the rest of the record
    }
    return nullptr;
  }

  static const char* read_value(od::value& v, od::json_type type, Value& out) {
    switch (type) {
      case od::json_type::number: {
        std::string_view raw = trim_right(v.raw_json_token());
        switch (parse_json_number(raw, out.dec, out.dbl)) {
          case NumberParse::kExact:
            out.type = ValueType::kDecimal;
            return nullptr;
          case NumberParse::kInexact:
            out.type = ValueType::kDouble;
            return nullptr;
          case NumberParse::kInvalid:
            out.type = ValueType::kInvalid;
            return "invalid number";
        }
        return nullptr;
      }
      case od::json_type::string:
        if (v.get_string().get(out.str)) return "invalid string";
        out.type = ValueType::kString;
        return nullptr;
      case od::json_type::boolean: {
        bool b;
        if (v.get_bool().get(b)) return "invalid JSON";
        out.type = b ? ValueType::kTrue : ValueType::kFalse;
        return nullptr;
      }
      case od::json_type::null:
        if (!v.is_null()) return "invalid JSON";
        out.type = ValueType::kNull;
        return nullptr;
      default:
        out.type = ValueType::kOther;
        return nullptr;
    }
  }

  size_t count_;
  Node root_;
  od::parser parser_;
  std::vector<char> copy_;
};

FieldExtractor::FieldExtractor(const std::vector<std::string>& paths)
    : impl_(std::make_unique<Impl>(paths)) {}
FieldExtractor::~FieldExtractor() = default;

const char* FieldExtractor::extract(std::string_view record, size_t padding, Value* values) {
  return impl_->extract(record, padding, values);
}

}  // namespace freshet::query
