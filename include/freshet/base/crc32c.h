#pragma once
// CRC-32C (Castagnoli), the checksum of Kafka RecordBatch v2. Uses the SSE4.2 crc32
// instruction when the CPU has it (checked once at start-up) and a slicing table otherwise.

#include <cstddef>
#include <cstdint>

namespace freshet {

// Extends `crc` (0 to start) over `len` bytes.
uint32_t crc32c(uint32_t crc, const void* data, size_t len);
// The portable path, exposed so tests can check both agree.
uint32_t crc32c_portable(uint32_t crc, const void* data, size_t len);
bool crc32c_is_hardware();

}  // namespace freshet
