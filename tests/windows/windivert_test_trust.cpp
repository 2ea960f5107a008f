// Linked only into the test build's drover (bin/windivert_double/drover.exe
// and drover.com, beside the test-double WinDivert.dll): the explicit
// test-only switch by which that drover accepts files other than the
// official WinDivert release. A release drover.exe has no code that reads
// this variable. DROVER_TEST_WINDIVERT_SHA256="WinDivert.dll=HEX;WinDivert64.sys=HEX".
#include <cstdlib>
#include <string>
#include <vector>

#include "platform/windows/windivert_loader.hpp"

namespace {

const bool trusted = [] {
  const char* v = std::getenv("DROVER_TEST_WINDIVERT_SHA256");
  if (!v) return false;
  std::vector<drover::platform::win::windivert_file> files;
  std::string all = v;
  size_t start = 0;
  while (start < all.size()) {
    size_t end = all.find(';', start);
    std::string item = all.substr(start, end == std::string::npos ? std::string::npos : end - start);
    size_t eq = item.find('=');
    if (eq != std::string::npos) files.push_back({item.substr(0, eq), item.substr(eq + 1)});
    if (end == std::string::npos) break;
    start = end + 1;
  }
  drover::platform::win::add_trusted_windivert_files(std::move(files));
  return true;
}();

}  // namespace
