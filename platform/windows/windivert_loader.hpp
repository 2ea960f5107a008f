#pragma once
/// Internal to platform/windows: WinDivert.dll, loaded at run time from
/// drover.exe's own directory only, after its files were checked against
/// the official release's SHA-256 values. A missing DLL, a missing function
/// or a changed file is an error a user can act on, never a crash: the app
/// starts anyway and the engine goes Failed with the sentence.
#include <memory>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "third_party/windivert/windivert_api.hpp"

namespace drover::platform::win {

/// The functions of one loaded WinDivert.dll; it stays loaded while this lives.
struct windivert_library {
  windivert::open_fn open = nullptr;
  windivert::recv_ex_fn recv_ex = nullptr;
  windivert::send_ex_fn send_ex = nullptr;
  windivert::shutdown_fn shutdown = nullptr;
  windivert::close_fn close = nullptr;
  windivert::set_param_fn set_param = nullptr;
  windivert::get_param_fn get_param = nullptr;
  windivert::compile_filter_fn compile_filter = nullptr;
  windivert::calc_checksums_fn calc_checksums = nullptr;

  windivert_library() = default;
  ~windivert_library();
  windivert_library(const windivert_library&) = delete;
  windivert_library& operator=(const windivert_library&) = delete;

  void* module = nullptr;  ///< HMODULE, freed by the destructor
};

/// A file of the WinDivert release and the SHA-256 Drover accepts for it.
struct windivert_file {
  std::string name;
  std::string sha256;
};

/// The official WinDivert-2.2.2-A x64 files (third_party/windivert/README.md).
const std::vector<windivert_file>& official_windivert_files();

/// Checks WinDivert.dll and WinDivert64.sys in `dir` against `trusted`, then
/// loads the DLL from there (never from the search path; its own imports
/// from System32) and resolves every function. Errors (code
/// "driver_gone", as the engine cannot capture without them):
/// "WinDivert.dll not found next to drover.exe: reinstall Drover",
/// "WinDivert files changed (antivirus quarantine or a different version):
/// …", "WinDivert.dll has no function WinDivertRecvEx: …".
result<std::shared_ptr<windivert_library>> load_windivert(const std::string& dir,
                                                          const std::vector<windivert_file>& trusted);

/// The files load_windivert accepts in this process: the official ones,
/// plus those a test build adds (tests/windows/windivert_test_trust.cpp,
/// linked only into the test double's drover; a release build has no code
/// that calls add_trusted_windivert_files).
std::vector<windivert_file> trusted_windivert_files();
void add_trusted_windivert_files(std::vector<windivert_file> files);

}  // namespace drover::platform::win
