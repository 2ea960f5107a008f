#pragma once
/// Which copy of Drover this is: an installed and a portable copy (or two
/// portable ones) must run side by side, so every name they could share (the
/// control pipe, the instance mutex) carries an id of the executable's path.
#include <string>

namespace drover::platform {

/// The first 16 lowercase hex digits of the SHA-256 of this executable's full
/// path: its final name (GetFinalPathNameByHandleW: no 8.3 names, subst
/// drives or links), upper-cased, UTF-8, with a .COM ending read as .EXE
/// (drover.com, the console twin, is the same copy). Computed once.
std::string install_id();
/// The same id for another path (upper-cased here; tests, a tool naming
/// another copy's pipe).
std::string install_id_for(const std::string& exe_path);
/// The final name of the file at `path` (GetFinalPathNameByHandleW, without
/// the \\?\ prefix), or `path` itself when it cannot be opened.
std::string final_path_of(const std::string& path);
/// The control channel of this copy: \\.\pipe\drover-<install_id>.
std::string control_pipe_name();

}  // namespace drover::platform
