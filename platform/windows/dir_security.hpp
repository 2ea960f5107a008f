#pragma once
/// Internal to platform/windows: who may own and change Drover's machine
/// folder (%PROGRAMDATA%\Drover and what is inside). The elevated engine
/// writes its log and crash dumps there, so nothing that runs without
/// elevation, the same user's programs included, may change it: otherwise
/// such a program could swap a folder for a junction between the engine's
/// check and its write, and have an administrator write wherever it likes.
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace drover::platform::win {

/// One "allow" entry of a folder's access list that applies to the folder.
struct allowed_ace {
  std::string sid;
  std::uint32_t mask;
};

/// The accounts that may own the folder and write into it: Administrators
/// and SYSTEM, so only elevated code. Under Wine also the current user:
/// Wine keeps no owner or access list of its own (every file is the Unix
/// user's, its access list made from the mode bits) and every Wine process
/// of that user is equally privileged, so there is nobody to keep out.
std::vector<std::string> machine_dir_writers();

/// ok when only `trusted` own or may change the folder; otherwise the reason
/// and what to do, naming `dir`. Pure: tested with made-up access lists.
status judge_dir_security(const std::string& dir, const std::string& owner, const std::vector<allowed_ace>& aces,
                          const std::vector<std::string>& trusted);

/// Creates `dir` (its last component only) owned by Administrators with a
/// protected access list (the writers full, the current user read-only),
/// or finds it there, then checks it: not a junction or link, a directory,
/// owned and writable only as judge_dir_security allows. Needs elevation to
/// create it (only an elevated token may make Administrators the owner).
status ensure_machine_dir(const std::string& dir);

/// True when running under Wine (ntdll exports wine_get_version).
bool under_wine();

}  // namespace drover::platform::win
