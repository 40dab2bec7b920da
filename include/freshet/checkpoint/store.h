#pragma once
// CheckpointStore: the checkpoint directory (`<data_dir>/checkpoints`) and its commit
// protocol (semantics.md §3.7). Layout:
//
//   checkpoints/CURRENT          "<n>\n": the newest committed epoch, for people and tools
//   checkpoints/<n>/             one directory per epoch, named in decimal
//   checkpoints/<n>/shard-*.…    state files, each written durably (write_durable)
//   checkpoints/<n>/MANIFEST     present only once epoch n is committed
//
// Epoch n is committed the moment `<n>/MANIFEST.tmp` is renamed to `<n>/MANIFEST` (after
// fsyncing it; the directory is fsynced right after). CURRENT is updated afterwards the same
// way, but it is only a hint: latest() trusts the newest valid MANIFEST, so a crash between
// the rename and the CURRENT update still recovers epoch n. A directory without a valid
// MANIFEST is an epoch whose checkpoint never committed.
//
// Every call blocks on fsync: run them on an IoWorker, never on a shard thread. One thread at
// a time (the IoWorker's, or main's during recovery); no internal locking. The FileSystem is
// borrowed and must outlive the store.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "freshet/base/result.h"
#include "freshet/checkpoint/manifest.h"
#include "freshet/io/file_system.h"

namespace freshet::checkpoint {

class CheckpointStore {
 public:
  // Creates `dir` if missing (and makes its entry durable).
  static Result<std::unique_ptr<CheckpointStore>> open(io::FileSystem& fs, std::string dir);

  const std::string& dir() const { return dir_; }

  // `<dir>/<epoch>`, created if missing; its entry in `dir` is fsynced before this returns,
  // so files written durably inside it survive a power cut.
  Result<std::string> epoch_dir(uint64_t epoch);
  // Replaces `path` with `bytes` durably: writes `path`.tmp, fsyncs it, renames it over
  // `path` and fsyncs the parent directory. Readers see the old file or the new, never a mix.
  // `before_rename` (tests' crash points) runs once the temporary file is durable.
  Status write_durable(const std::string& path, std::string_view bytes,
                       const std::function<void()>& before_rename = {});
  // Writes one shard's state for `epoch` durably as `<epoch dir>/<file>` and returns the
  // entry to list in the manifest (size and crc32c of `bytes`).
  Result<StateFileEntry> write_state_file(uint64_t epoch, ShardId shard, const std::string& file,
                                          std::string_view bytes);
  // Commits epoch m.epoch: MANIFEST.tmp, fsync, rename to MANIFEST, fsync the epoch directory
  // (the commit), then CURRENT the same way. An error after the rename still leaves the epoch
  // committed; latest() tells.
  Status commit(const Manifest& m, const std::function<void()>& before_rename = {});

  // The newest epoch whose MANIFEST decodes (and names its own epoch), or nullopt when none
  // has. Damaged manifests are skipped with a warning. I/O errors other than a missing file
  // are errors: an unreadable disk must not silently roll the pipeline back.
  Result<std::optional<Manifest>> latest();
  // Epochs with a valid MANIFEST, ascending.
  Result<std::vector<uint64_t>> committed_epochs();
  // Deletes epoch n: its MANIFEST first (made durable), so a crash halfway leaves an
  // incomplete epoch, never a committed one with missing state files.
  Status remove_epoch(uint64_t epoch);
  // Deletes every epoch directory without a valid MANIFEST (checkpoints that never committed,
  // removals cut short) and stray *.tmp files. Call at recovery, before the first checkpoint.
  Status remove_incomplete();
  // The state file of `shard` listed in `m`, checked against its recorded size and crc32c
  // (kCorruption if they differ, kNotFound if the manifest lists none for the shard).
  Result<std::string> read_state_file(const Manifest& m, ShardId shard);

  // The epoch CURRENT names, or nullopt if there is no CURRENT. For tools; recovery uses
  // latest().
  Result<std::optional<uint64_t>> current();

 private:
  CheckpointStore(io::FileSystem& fs, std::string dir) : fs_(fs), dir_(std::move(dir)) {}

  std::string epoch_path(uint64_t epoch) const;
  // Numeric entries of dir_, ascending.
  Result<std::vector<uint64_t>> epoch_dirs();
  // The manifest of `epoch`: nullopt if it has no MANIFEST or the MANIFEST is damaged.
  Result<std::optional<Manifest>> read_manifest(uint64_t epoch);

  io::FileSystem& fs_;
  std::string dir_;
};

// Reads a whole file. kNotFound (with sys_errno ENOENT) if it does not exist.
Result<std::string> read_file(io::FileSystem& fs, const std::string& path);

}  // namespace freshet::checkpoint
