#pragma once
// The on-disk layout of a topic, byte by byte. A segment file holds nothing but Kafka
// RecordBatch v2 batches laid end to end, exactly as the Kafka protocol carries them, so a
// fetch can answer from the mapping and a client's produced batch can be stored as received
// once its base offset is assigned.
//
//   <data_dir>/topics/<topic>/<partition>/<base_offset:020>.log
//
// A segment is preallocated (fallocate to segment_bytes) and the bytes after its last batch
// are zero. A batch whose batchLength is 0 therefore marks the end of the data; start-up
// recovery scans batches from the start, checks each CRC-32C, and truncates a torn tail.
// A sealed segment is trimmed to the end of its last batch.
//
// RecordBatch v2 (all fixed-width integers big-endian), 61-byte header:
//   off  size  field
//     0     8  baseOffset            offset of the first record
//     8     4  batchLength           bytes after this field (header rest + records)
//    12     4  partitionLeaderEpoch  0 (single node)
//    16     1  magic                 2
//    17     4  crc                   CRC-32C of bytes [21, 12 + batchLength)
//    21     2  attributes            bits 0-2 compression (0 = none), 3 timestamp type,
//                                    4 transactional, 5 control
//    23     4  lastOffsetDelta       offset of the last record - baseOffset
//    27     8  baseTimestamp         first record's timestamp, epoch ms
//    35     8  maxTimestamp          largest timestamp in the batch
//    43     8  producerId            -1 when not idempotent
//    51     2  producerEpoch         -1
//    53     4  baseSequence          -1
//    57     4  recordCount
//    61        records
// Record (varints are zig-zag, as in protobuf):
//   varint length (bytes after this field), int8 attributes (0), varlong timestampDelta,
//   varint offsetDelta, varint keyLength (-1 = null), key, varint valueLength (-1 = null),
//   value, varint headerCount, headers: { varint keyLength, key, varint valueLength, value }

//
// freshet writes partitionLeaderEpoch as 0 (one node, one epoch) and recovery requires it, so
// that a flipped bit in the only header bytes outside the CRC besides baseOffset is caught.
//
// Indexes (kIndexFormatVersion). Beside each segment, two sparse indexes, preallocated and
// memory-mapped like the segment, appended in place, and trimmed to their entries at seal:
//
//   <base_offset:020>.index       offset index, 8-byte entries, big-endian:
//     off  size  field
//       0     4  relativeOffset   base offset of an indexed batch - the segment's base (> 0)
//       4     4  position         byte position of that batch in the .log file (> 0)
//
//   <base_offset:020>.timeindex   time index, 12-byte entries, big-endian, one per offset
//                                 index entry and in the same order:
//     off  size  field
//       0     8  timestamp        max(maxTimestamp) over the batches of the segment BEFORE the
//                                 indexed batch: no earlier batch holds a later timestamp
//       8     4  relativeOffset   the same relativeOffset as the matching offset index entry
//
// A batch is indexed when it starts at least index_interval_bytes after the previously indexed
// batch (the first batch, at position 0, is the implicit entry 0 and is never written). Both
// relativeOffset and position strictly increase and timestamp never decreases, so an all-zero
// entry marks the end of a preallocated index. Unlike Kafka, the time index gets an entry even
// when the timestamp did not grow: the two indexes then pair up entry for entry, which lets
// recovery check one against the other. Indexes are derived data: they are never fsynced on
// the append path, and recovery keeps only the entries that agree with the segment, scanning
// (and re-indexing) the batches after the last such entry; a missing, short or stale index is
// rebuilt from its segment.
//
// Transient files: a segment prepared ahead of need lives as next.log.tmp, next.index.tmp and
// next.timeindex.tmp until a roll renames it into place. Recovery deletes any *.tmp file.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace freshet::log {

inline constexpr uint32_t kSegmentFormatVersion = 1;
inline constexpr uint32_t kIndexFormatVersion = 1;

inline constexpr int8_t kMagicV2 = 2;
inline constexpr size_t kBatchHeaderSize = 61;
inline constexpr size_t kBatchLengthOffset = 8;
inline constexpr size_t kPartitionLeaderEpochOffset = 12;
inline constexpr size_t kMagicOffset = 16;
inline constexpr size_t kCrcOffset = 17;
inline constexpr size_t kAttributesOffset = 21;  // the CRC covers from here to the end
inline constexpr size_t kLastOffsetDeltaOffset = 23;
inline constexpr size_t kBaseTimestampOffset = 27;
inline constexpr size_t kMaxTimestampOffset = 35;
inline constexpr size_t kProducerIdOffset = 43;
inline constexpr size_t kRecordCountOffset = 57;
// The smallest batchLength a valid batch can have: the header after the length field.
inline constexpr uint32_t kMinBatchLength = kBatchHeaderSize - 12;
inline constexpr uint16_t kCompressionMask = 0x7;

inline constexpr size_t kOffsetIndexEntrySize = 8;
inline constexpr size_t kTimeIndexEntrySize = 12;
inline constexpr std::string_view kLogSuffix = ".log";
inline constexpr std::string_view kIndexSuffix = ".index";
inline constexpr std::string_view kTimeIndexSuffix = ".timeindex";
inline constexpr std::string_view kTempSuffix = ".tmp";
inline constexpr std::string_view kPreparedStem = "next";

// Index entries a segment of `segment_bytes` can need: each entry follows the previous one by
// at least `interval` bytes, plus one spare.
constexpr size_t index_capacity(uint64_t segment_bytes, uint64_t interval) {
  return static_cast<size_t>(segment_bytes / (interval == 0 ? 1 : interval)) + 2;
}

}  // namespace freshet::log
