#pragma once
// 128-bit integers for exact decimal sums. GCC and Clang provide them as an extension;
// __extension__ keeps -Wpedantic quiet about it.

namespace freshet::query {
__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;
}  // namespace freshet::query
