#pragma once
/// Which operating system this engine runs on, for the diagnostics dump.
#include <string>

namespace drover::platform {

struct os_info {
  std::string name;          ///< "Linux", "Windows"
  std::string release;       ///< kernel release ("6.1.0-18-amd64") / "10.0.19045"
  std::string version;       ///< kernel build string / Windows build details
  std::string machine;       ///< "x86_64", "aarch64", "amd64", "arm64"
  std::string distribution;  ///< /etc/os-release PRETTY_NAME / "Windows 10 Pro 22H2", "" if unknown
  std::string emulator;      ///< "Wine 8.0" under Wine, else ""
};

/// Asked from the OS itself, each time (cheap); fields it cannot tell are "".
os_info describe_os();

}  // namespace drover::platform
