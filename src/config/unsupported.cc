#include "freshet/config/unsupported.h"

#include <array>

namespace freshet::config {
namespace {

// Shrink this table as features land; test/config checks each row is rejected by name.
constexpr std::array<UnsupportedFeature, 2> kUnsupported{{
    {"server.kafka", "", "remove it for now: the Kafka protocol listener is not in this build yet"},
    {"server.http", "", "remove it for now: the HTTP listener is not in this build yet"},
}};

}  // namespace

std::span<const UnsupportedFeature> unsupported_features() { return kUnsupported; }

const UnsupportedFeature* find_unsupported(std::string_view schema_path, std::string_view value) {
  for (const UnsupportedFeature& f : kUnsupported)
    if (f.path == schema_path && (f.value.empty() || f.value == value)) return &f;
  return nullptr;
}

}  // namespace freshet::config
