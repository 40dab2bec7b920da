#pragma once
// The state image of one WindowMerger, byte by byte: what WindowMerger::snapshot appends and
// WindowMerger::restore reads back (semantics §3.7 step 2). The checkpoint module stores it
// as an opaque blob in ckpt/<n>/shard-<k>/; only the query module reads it.
//
// All integers are little-endian and fixed-width; i64 is two's complement, f64 is the
// IEEE-754 bit pattern (so inexact sums come back bit for bit).
//
// Header, 32 bytes:
//   off  size  field
//     0     4  magic         "FQST"
//     4     4  version       kSnapshotFormatVersion
//     8     8  fingerprint   Plan::state_fingerprint() of the plan that wrote it
//    16     8  body_length   bytes after the header; the image is exactly 32 + body_length
//    24     4  body_crc      CRC-32C of the body
//    28     2  layout        kLayoutPanes (TUMBLE/HOP/CUMULATE) or kLayoutSessions
//    30     2  aggs          aggregates per entry (PlanSpec::aggs.size())
//
// Early emission's change tracking (WindowMerger::fire_early) is not part of the image: a
// restored merger treats every open window as changed.
//
// Every header field is checked against the plan of the merger being restored and the body
// against its CRC before any of it is parsed; the parser then still validates every count,
// length and invariant that fire() relies on, so a garbled image is an error, never a crash.
//
// Body of kLayoutPanes (PaneMerger):
//   i64 fired                 the watermark of the last fire() (kMinTimestamp: none yet)
//   u64 pane_count, then per pane, by increasing start:
//     i64 start               pane-aligned
//     u64 entry_count, then per entry: Key, AggState x aggs
//   u64 late_count, then per fired window still within allowed lateness, by (end, start):
//     i64 end, i64 start
//     u64 version_count, then per key that has a row: Key, u32 last emitted version
//     u64 dirty_count, then per key changed since it last fired: Key
//
// Body of kLayoutSessions (SessionMerger):
//   u64 key_count, then per group key:
//     Key
//     u64 session_count (> 0), then per session, by increasing start, disjoint and not
//     touching (end < next start):
//       i64 start, i64 end (start < end)
//       i64 version           last emitted version; -1: never fired
//       u8  dirty             0 or 1: changed since it last fired
//       u64 emitted_count, then per earlier row this session supersedes: i64 start, i64 end
//       AggState x aggs
//
// Key: u32 length, then the group key encoding (src/query/key_encoding.h); it must decode
// to exactly one value per GROUP BY expression.
//
// AggState (one aggregate of one entry; see src/query/aggregate.h for the meaning per kind):
//   off  size  field
//     0    16  sum           Int128, low 8 bytes first
//    16     8  dbl           f64
//    24     8  count         i64, >= 0
//    32     1  scale         <= 18
//    33     1  flags         kAggInexact | kAggHasExt | MIN/MAX value type; nothing else
//    34     4  payload_len
//    38        payload:
//     MIN/MAX holding a string:   the string
//     FIRST/LAST holding a value: its key encoding (one value)
//     COUNT(DISTINCT) (has ext):  u32 n, then n x (u32 length, key encoding of one value)
//     APPROX_COUNT_DISTINCT:      Hll::serialize (sketches.h)
//     APPROX_PERCENTILE:          DdSketch::serialize (sketches.h)
//     otherwise:                  empty
//   The sketch kinds have kAggHasExt set exactly when count > 0.

#include <cstddef>
#include <cstdint>

namespace freshet::query {

inline constexpr uint32_t kSnapshotFormatVersion = 1;
inline constexpr char kSnapshotMagic[4] = {'F', 'Q', 'S', 'T'};
inline constexpr size_t kSnapshotHeaderSize = 32;
inline constexpr size_t kSnapshotVersionOffset = 4;
inline constexpr size_t kSnapshotBodyCrcOffset = 24;
inline constexpr uint16_t kLayoutPanes = 1;
inline constexpr uint16_t kLayoutSessions = 2;
inline constexpr size_t kAggStateFixedSize = 38;

}  // namespace freshet::query
