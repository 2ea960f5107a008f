// Privileges and the machine. The UAC relaunch runs for real only where no
// prompt can appear (Wine, or a test already elevated): it restarts this test
// program with arguments that need quoting, and the child writes back what
// it received.
#include <gtest/gtest.h>
#include <windows.h>

#include <shellapi.h>  // after windows.h, whose types it uses

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "platform/elevation.hpp"
#include "platform/windows/command_line.hpp"
#include "platform/windows/dir_security.hpp"
#include "platform/windows/machine.hpp"
#include "platform/windows/win_handle.hpp"

namespace {

using drover::platform::win::to_utf8;
using drover::platform::win::to_wide;
using drover::platform::win::under_wine;

using namespace std::chrono_literals;
using drover::platform::win::join_arguments;
using drover::platform::win::quote_argument;

const std::string marker_flag = "--drover-marker=";

// What CommandLineToArgvW (the C runtime's rules) makes of a command line.
std::vector<std::string> split(const std::wstring& command_line) {
  int argc = 0;
  wchar_t** argv = CommandLineToArgvW(command_line.c_str(), &argc);
  std::vector<std::string> out;
  for (int i = 0; argv && i < argc; ++i) out.push_back(to_utf8(argv[i]));
  LocalFree(argv);
  return out;
}

const std::vector<std::string> awkward_args = {
    "run",
    "",
    "two words",
    "quote\"inside",
    "trailing\\",
    "trailing space\\ ",
    "a\\\\b",
    "\\\"",
    "tab\there",
    "\xc3\xbcnic\xc3\xb6"
    "de",
    "C:\\Program Files\\Drover\\",
    "end\\\\\"",
};

TEST(Elevation, MachineIsSupportedHere) {
  auto st = drover::platform::check_machine();
  EXPECT_TRUE(st.ok()) << st.err().message;
}

TEST(Elevation, Arm64IsRefusedWithTheReason) {
  using drover::platform::win::machine_supported;
  auto st = machine_supported(0xAA64);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.err().message, "Drover requires x86-64 Windows; WinDivert has no ARM64 driver");
  EXPECT_TRUE(machine_supported(0x8664).ok());  // IMAGE_FILE_MACHINE_AMD64
}

// Wine runs every program with an administrator's token; so does the CI.
TEST(Elevation, IsElevatedMatchesTheToken) {
  if (!under_wine()) GTEST_SKIP() << "on real Windows it depends on how the test was started";
  EXPECT_TRUE(drover::platform::is_elevated());
}

TEST(Elevation, QuotesAsTheRuntimeSplits) {
  EXPECT_EQ(quote_argument("plain"), "plain");
  EXPECT_EQ(quote_argument(""), "\"\"");
  EXPECT_EQ(quote_argument("two words"), "\"two words\"");
  EXPECT_EQ(quote_argument("a\"b"), "\"a\\\"b\"");
  EXPECT_EQ(quote_argument("C:\\dir\\"), "C:\\dir\\");  // no blank: backslashes stay literal
  EXPECT_EQ(quote_argument("C:\\my dir\\"), "\"C:\\my dir\\\\\"");
  for (const auto& a : awkward_args) {
    auto back = split(L"prog.exe " + to_wide(join_arguments({a})));
    ASSERT_EQ(back.size(), 2u) << a;
    EXPECT_EQ(back[1], a);
  }
  auto back = split(L"prog.exe " + to_wide(join_arguments(awkward_args)));
  ASSERT_EQ(back.size(), awkward_args.size() + 1);
  EXPECT_EQ(std::vector<std::string>(back.begin() + 1, back.end()), awkward_args);
}

TEST(Elevation, AttachingKeepsRedirectedOutput) {
  HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE), err = GetStdHandle(STD_ERROR_HANDLE);
  drover::platform::attach_parent_console();
  EXPECT_EQ(GetStdHandle(STD_OUTPUT_HANDLE), out);
  EXPECT_EQ(GetStdHandle(STD_ERROR_HANDLE), err);
  EXPECT_GE(std::printf("still printing\n"), 0);
  EXPECT_EQ(std::fflush(stdout), 0);
}

// The child half of RelaunchPassesArgumentsIntact: skipped unless started by it.
TEST(Elevation, RelaunchChild) {
  auto args = split(GetCommandLineW());
  size_t i = 0;
  while (i < args.size() && args[i].rfind(marker_flag, 0) != 0) ++i;
  if (i == args.size()) GTEST_SKIP() << "started by RelaunchPassesArgumentsIntact only";
  std::string path = args[i].substr(marker_flag.size());
  std::ofstream(to_wide(path + ".tmp").c_str(), std::ios::binary) << [&] {
    std::string s;
    for (size_t j = i + 1; j < args.size(); ++j) s += args[j] + "\n";
    return s;
  }();
  MoveFileW(to_wide(path + ".tmp").c_str(), to_wide(path).c_str());  // appears complete
}

TEST(Elevation, RelaunchPassesArgumentsIntact) {
  if (!under_wine() && !drover::platform::is_elevated()) GTEST_SKIP() << "would show a UAC prompt";
  wchar_t tmp[MAX_PATH];
  GetTempPathW(MAX_PATH, tmp);
  std::string marker = to_utf8(tmp) + "drover-relaunch-" + std::to_string(GetCurrentProcessId()) + ".txt";
  DeleteFileW(to_wide(marker).c_str());
  std::vector<std::string> args = {"--gtest_filter=Elevation.RelaunchChild", marker_flag + marker};
  args.insert(args.end(), awkward_args.begin(), awkward_args.end());
  auto st = drover::platform::relaunch_elevated(args);
  ASSERT_TRUE(st.ok()) << st.err().code << ": " << st.err().message;

  std::string got;
  for (int i = 0; i < 500 && got.empty(); ++i) {
    std::this_thread::sleep_for(20ms);
    std::ifstream f(to_wide(marker).c_str(), std::ios::binary);
    got.assign(std::istreambuf_iterator<char>(f), {});
  }
  DeleteFileW(to_wide(marker).c_str());
  std::string want;
  for (const auto& a : awkward_args) want += a + "\n";
  EXPECT_EQ(got, want);
}

}  // namespace
