// Windows: capture_details() names the filters and how WinDivert.dll
// loaded; this adds the files' SHA-256 and the WinDivert release they are
// (known by their hashes: Drover ships exactly one).
#include "platform/capture_report.hpp"

#include <algorithm>

#include "platform/process_table.hpp"
#include "platform/read_file.hpp"
#include "platform/windows/sha256.hpp"
#include "platform/windows/windivert_loader.hpp"

namespace drover::platform {
namespace {

bool listed(const std::vector<win::windivert_file>& files, const std::string& name, const std::string& sha) {
  return std::any_of(files.begin(), files.end(), [&](const auto& f) { return f.name == name && f.sha256 == sha; });
}

}  // namespace

std::vector<std::pair<std::string, std::string>> capture_report() {
  auto exe = own_executable_path();
  auto slash = exe.find_last_of("\\/");
  std::string dir = slash == std::string::npos ? std::string(".") : exe.substr(0, slash);
  std::vector<std::pair<std::string, std::string>> out;
  int official = 0, trusted = 0, files = 0, unread = 0;
  for (const char* name : {"WinDivert.dll", "WinDivert64.sys"}) {
    ++files;
    auto content = read_small_file(dir + "\\" + name, 16u << 20);
    std::string key = std::string("sha256_") + name;
    if (!content) {
      ++unread;
      out.emplace_back(key, content.err().message);
      continue;
    }
    auto sha = win::sha256_hex(content->data(), content->size());
    if (!sha) {
      out.emplace_back(key, "cannot hash it: Windows' SHA-256 (CNG) failed");
      continue;
    }
    out.emplace_back(key, *sha);
    official += listed(win::official_windivert_files(), name, *sha);
    trusted += listed(win::trusted_windivert_files(), name, *sha);
  }
  const char* version = unread > 0          ? "unknown: its files cannot be read (see the hashes)"
                        : official == files ? "2.2.2-A (the official release's files)"
                        : trusted == files  ? "a test build's WinDivert double (trusted by this build)"
                                            : "unknown: the files are not those Drover ships";
  out.emplace_back("windivert_version", version);
  return out;
}

}  // namespace drover::platform
