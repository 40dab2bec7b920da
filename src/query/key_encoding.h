#pragma once
// The group key encoding: the values of the GROUP BY columns of one row, concatenated into
// bytes that are self-delimiting, compare bytewise in a fixed (deterministic) order, and
// decode back to the JSON values they came from. Keys route partials to their owner shard
// (hash64 of the bytes) and order the fired rows.
//
//   0x01                  null or missing
//   0x02 / 0x03           false / true
//   0x04 m[8] s[1]        exact number: mantissa big-endian with the sign bit flipped, scale
//   0x05 d[8]             double, order-preserving bits
//   0x06 bytes 0x00 0x00  string; a 0x00 byte inside is written 0x00 0xFF
//   0x07 m[8]             timestamp (epoch ms), big-endian with the sign bit flipped
//
// Numbers are normalised (trailing fraction zeros dropped), so 1.50 and 1.5 group together.

#include <string>
#include <string_view>

#include "arena.h"
#include "value.h"

namespace freshet::query {

// Appends one group value. Values of type kOther/kInvalid must be rejected before.
void encode_key_value(std::string& key, const Value& v);

// Decodes the value at the front of `key`, appends it to `out` as JSON, and advances `key`
// past it. Returns false on bytes that are not a valid encoding.
bool append_key_value_json(std::string_view& key, std::string& out);

// Decodes the value at the front of `key` into `out` and advances `key`. Strings point into
// `key` unless they hold escaped 0x00 bytes (then into `arena`). False on invalid bytes.
bool decode_key_value(std::string_view& key, Value& out, StringArena& arena);

}  // namespace freshet::query
