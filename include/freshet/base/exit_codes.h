#pragma once
// Process exit codes, from sysexits.h, as Vector and the systemd unit expect them.

namespace freshet {
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;   // a runtime failure
inline constexpr int kExitUsage = 64;    // EX_USAGE: bad flags
inline constexpr int kExitDataErr = 65;  // EX_DATAERR: bad input data
inline constexpr int kExitNoInput = 66;  // EX_NOINPUT: a file that is not there
inline constexpr int kExitUnavailable = 69;
inline constexpr int kExitSoftware = 70;
inline constexpr int kExitIoErr = 74;
inline constexpr int kExitTempFail = 75;
inline constexpr int kExitConfig = 78;  // EX_CONFIG: the configuration is invalid
}  // namespace freshet
