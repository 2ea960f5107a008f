#pragma once
/// Writing files without ever following a symlink, with modes Drover chooses. Every file Drover
/// writes (dumps, crash dumps, stats, logs) goes through here.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/result.hpp"
#include "platform/unique_fd.hpp"

namespace drover::platform {

/// Who may read a file Drover writes.
enum class file_mode {
  owner_only,         ///< 0600
  shared_with_group,  ///< 0640 with group "drover" when that group exists (logs, dumps), else 0600
};

/// What happens to an existing file's content.
enum class write_mode { append, truncate };

/// Opens `path` write-only (O_CREAT|O_NOFOLLOW|O_CLOEXEC, plus O_APPEND or O_TRUNC). A symlink is
/// refused ("refusing to write X: it is a symlink"). A regular file we own gets exactly the mode
/// `m` asks for; other files (a device, a FIFO with a reader) are written as they are. Never
/// blocks on a FIFO without a reader.
result<unique_fd> open_for_write(const std::string& path, write_mode how, file_mode m = file_mode::owner_only);

/// Writes all `size` bytes to `fd`, retrying short writes; errors name `path` and the OS reason.
status write_all(int fd, const char* data, std::size_t size, const std::string& path);

/// The size of the regular file open as `fd` (on Windows: a disk file). Anything else, such as a
/// FIFO, a device or a pipe, is refused ("refusing to write X: it is not a regular file (remove
/// it)"): one planted where Drover appends would swallow or block what it writes.
result<std::uint64_t> regular_file_size(int fd, const std::string& path);

/// What stands at a path itself, never what a link there points to.
enum class entry_kind {
  missing,  ///< nothing there, or it cannot be looked at
  link,     ///< a symlink (on Windows also a junction or another name surrogate)
  other,
};

/// What `path` itself is, without following it.
entry_kind entry_kind_of(const std::string& path);

/// Removes the name `path` itself: a file or a link (a directory link too), never what a link
/// points to, never a directory. Errors name the path and the OS reason.
status remove_no_follow(const std::string& path);

/// Renames `from` to `to`, replacing whatever file or link is at `to`; a link at either name is
/// moved or replaced itself, never written through. Errors name both paths and the OS reason.
status rename_replacing(const std::string& from, const std::string& to);

/// The separator Drover puts between a directory and a name: '/', or '\\' on Windows.
char path_separator();

/// Replaces the content of `path` with `content`: open (as open_for_write, truncating), write
/// all, fsync when it is a regular file, close. Errors name the path and the OS reason, e.g.
/// "cannot write /dev/full: No space left on device".
status write_file(const std::string& path, const std::string& content, file_mode m = file_mode::owner_only);

/// Like write_file, but a reader (or a crash) sees either the old content or the new, never a
/// mix: writes a temporary file in the same directory, fsyncs it, renames it over `path` and
/// fsyncs the directory. `path` must be a regular file or missing; a symlink is refused.
status write_file_atomic(const std::string& path, const std::string& content, file_mode m = file_mode::owner_only);

}  // namespace drover::platform
