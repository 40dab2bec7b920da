#pragma once
// CommittedFile: the live output file of a `delivery: exactly_once` file sink (conventions.md
// §4.3, "tail-friendly exactly-once"). The live file only ever holds committed rows and only
// grows between rotations, so `tail -F` can follow it and never sees a row that a crash
// would take back.
//
// Per checkpoint epoch n:
//   stage(n, rows)*   rows go to the hidden staging file `<dir>/.<name>.pending/<n>`;
//   precommit(n)      fsyncs it and returns the SinkFileEntry for epoch n's manifest;
//   (the coordinator commits the manifest: CheckpointStore::commit)
//   publish(entry)    appends the staged bytes to the live file (rotating first if the entry
//                     says so) and fdatasyncs it;
//   forget_before(n)  once epoch n is committed, drops staging files of older epochs.
// publish() is a redo: it makes the files match the entry whatever was done before, so a
// crash at any point inside it is repaired by open(..., &entry) with the same entry. The
// staging file outlives publish for that reason. It never truncates bytes that are already
// right, so a redo after a crash normally looks to a reader like a pause, not a truncation.
//
// Owned by the IoWorker thread: every call, open() included, runs there (or on main during
// recovery); calls block on fsync. Not thread-safe. The FileSystem is borrowed and must
// outlive the object.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "freshet/base/ids.h"
#include "freshet/base/result.h"
#include "freshet/checkpoint/manifest.h"
#include "freshet/io/file_system.h"
#include "freshet/io/unique_fd.h"

namespace freshet::sinks {

struct CommittedFileOptions {
  std::string path;  // the live file
  // Written at the start of every new live file (CSV header line with its '\n'); "" for JSONL.
  std::string header;
  std::optional<uint64_t> rotate_max_bytes;
  std::optional<DurationMs> rotate_max_age;
  // Copied into every SinkFileEntry for the server's bookkeeping.
  std::string sink;
  std::string kind = "main";
};

class CommittedFile {
 public:
  // Opens the sink file. `committed` is this file's entry in the latest committed manifest,
  // or null when there is none. With an entry, recovers: deletes every other staging file
  // and redoes publish(*committed). Without one, deletes all staging files (their epochs
  // never committed) and takes the live file's current length as committed.
  static Result<std::unique_ptr<CommittedFile>> open(io::FileSystem& fs,
                                                     CommittedFileOptions options,
                                                     const checkpoint::SinkFileEntry* committed);
  ~CommittedFile();
  CommittedFile(const CommittedFile&) = delete;
  CommittedFile& operator=(const CommittedFile&) = delete;

  // Appends `bytes` (whole rows) to epoch `epoch`'s staging file; written, not fsynced. The
  // first stage of an epoch starts its staging file empty. kInvalidArgument if `epoch` is
  // not newer than every precommitted one.
  Status stage(uint64_t epoch, std::string_view bytes);
  // Seals epoch `epoch`: fsyncs its staging file (an epoch with nothing staged needs none)
  // and returns its entry. The rotation decision is made here, from the length and age the
  // live file will have once every earlier precommitted epoch is published: rotate when it
  // is non-empty and at least rotate_max_bytes long, or older than rotate_max_age (counted
  // from the first precommit that saw it). Epochs must be precommitted in increasing order,
  // and every precommitted epoch must be published, or the file reopened from the manifest.
  Result<checkpoint::SinkFileEntry> precommit(uint64_t epoch, TimestampMs now);
  // After the manifest holding `entry` is committed: if entry.rotate_to is set and does not
  // exist yet, renames the live file there (fsyncing the directory); then makes the live
  // file hold its committed `live_length` bytes (0 after rotation), the header if it starts
  // empty, and the staged bytes, and fdatasyncs it. Idempotent; entries in epoch order.
  Status publish(const checkpoint::SinkFileEntry& entry);
  // Deletes the staging files of epochs < `epoch`. Call once the manifest of `epoch` is
  // committed (its own staging file must stay until the next commit, for redo).
  Status forget_before(uint64_t epoch);

  const std::string& path() const { return options_.path; }
  const std::string& staging_dir() const { return staging_dir_; }
  // Length of the live file after the last publish (or recovery).
  uint64_t committed_length() const { return committed_length_; }

 private:
  struct Staging {
    io::UniqueFd fd;
    uint64_t length = 0;
  };

  CommittedFile(io::FileSystem& fs, CommittedFileOptions options);
  std::string staging_path(uint64_t epoch) const;
  std::string rotated_name(TimestampMs now, uint64_t epoch, uint32_t attempt) const;
  // Deletes every staging file except `keep` (a full path; "" keeps none).
  Status remove_staging_except(const std::string& keep);
  // The body of publish(): returns the live file's length afterwards.
  Result<uint64_t> redo_publish(const checkpoint::SinkFileEntry& e);

  io::FileSystem& fs_;
  CommittedFileOptions options_;
  std::string dir_;          // directory of the live file
  std::string staging_dir_;  // <dir>/.<name>.pending
  uint64_t committed_length_ = 0;
  // The live file as it will be once every precommitted epoch is published.
  uint64_t projected_length_ = 0;
  std::optional<TimestampMs> projected_started_ms_;
  std::optional<uint64_t> last_precommitted_;
  std::map<uint64_t, Staging> staging_;  // open staging files by epoch
};

}  // namespace freshet::sinks
