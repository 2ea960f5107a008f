// The process table against real processes: ourselves, and the sleeper
// helper copied under a target's name (as Discord.exe would run) and started.
#include <gtest/gtest.h>
#include <windows.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <string>
#include <thread>

#include "platform/process_table.hpp"

namespace {

using namespace std::chrono_literals;
using drover::platform::exe_name;
using drover::platform::list_processes;
using drover::platform::own_executable_path;
using drover::platform::own_pid;
using clock_type = std::chrono::steady_clock;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::wstring dir_of(const std::wstring& path) { return path.substr(0, path.find_last_of(L"\\/")); }

std::wstring own_path_w() {
  wchar_t buf[4096];
  DWORD n = GetModuleFileNameW(nullptr, buf, 4096);
  return std::wstring(buf, n);
}

// The sleeper copied into a temporary directory as `name`, started; killed
// and removed at the end of the test.
class renamed_sleeper {
 public:
  explicit renamed_sleeper(const std::wstring& name) {
    wchar_t tmp[MAX_PATH];
    GetTempPathW(MAX_PATH, tmp);
    dir_ = std::wstring(tmp) + L"drover-pt-" + std::to_wstring(GetCurrentProcessId());
    CreateDirectoryW(dir_.c_str(), nullptr);
    exe_ = dir_ + L"\\" + name;
    std::wstring helper = dir_of(own_path_w()) + L"\\drover_win_sleeper.exe";
    if (!CopyFileW(helper.c_str(), exe_.c_str(), FALSE)) return;
    std::wstring cmd = L"\"" + exe_ + L"\" 30000";
    STARTUPINFOW si{};
    si.cb = sizeof si;
    if (CreateProcessW(exe_.c_str(), cmd.data(), nullptr, nullptr, FALSE, 0, nullptr, nullptr, &si, &pi_))
      CloseHandle(pi_.hThread);
  }
  ~renamed_sleeper() {
    kill();
    close();
    for (int i = 0; i < 50 && !DeleteFileW(exe_.c_str()) && GetLastError() != ERROR_FILE_NOT_FOUND; ++i)
      std::this_thread::sleep_for(20ms);  // the image stays locked for a moment after exit
    RemoveDirectoryW(dir_.c_str());
  }
  bool started() const { return pi_.hProcess != nullptr; }
  uint32_t pid() const { return pi_.dwProcessId; }
  void kill() {
    if (!pi_.hProcess) return;
    TerminateProcess(pi_.hProcess, 1);
    WaitForSingleObject(pi_.hProcess, 5000);
  }
  void close() {
    if (pi_.hProcess) CloseHandle(pi_.hProcess);
    pi_.hProcess = nullptr;
  }

 private:
  std::wstring dir_, exe_;
  PROCESS_INFORMATION pi_{};
};

bool listed(uint32_t pid, const std::string& name) {
  auto all = list_processes();
  return std::any_of(all.begin(), all.end(),
                     [&](const auto& p) { return p.pid == pid && lower(p.exe) == lower(name); });
}

// Polls list_processes() for at most the engine's scan budget (2 s).
bool listed_within_budget(uint32_t pid, const std::string& name, bool want) {
  auto deadline = clock_type::now() + 2s;
  do {
    if (listed(pid, name) == want) return true;
    std::this_thread::sleep_for(20ms);
  } while (clock_type::now() < deadline);
  return false;
}

TEST(ProcessTable, FindsItself) {
  EXPECT_EQ(own_pid(), GetCurrentProcessId());
  std::string path = own_executable_path();
  ASSERT_GT(path.size(), 3u);
  EXPECT_EQ(path[1], ':') << path;  // absolute, with a drive
  std::string name = path.substr(path.find_last_of("\\/") + 1);
  std::wstring own = own_path_w();
  std::wstring own_name = own.substr(own.find_last_of(L"\\/") + 1);
  EXPECT_EQ(lower(name), lower(std::string(own_name.begin(), own_name.end()))) << path;  // ASCII test names
  EXPECT_EQ(lower(name.substr(name.size() - 4)), ".exe");
  EXPECT_EQ(exe_name(own_pid()), name);
  EXPECT_TRUE(listed(own_pid(), name));
}

TEST(ProcessTable, FindsRenamedProcessesByNameAndForgetsThem) {
  renamed_sleeper discord(L"Discord.exe");
  renamed_sleeper canary(L"DiscordCanary.exe");
  ASSERT_TRUE(discord.started() && canary.started()) << "drover_win_sleeper.exe must be next to the test";
  // Case does not matter to Windows, so it must not matter to the lookup.
  EXPECT_TRUE(listed_within_budget(discord.pid(), "discord.EXE", true));
  EXPECT_TRUE(listed_within_budget(canary.pid(), "DISCORDCANARY.exe", true));
  EXPECT_EQ(exe_name(discord.pid()), "Discord.exe");
  EXPECT_EQ(exe_name(canary.pid()), "DiscordCanary.exe");

  discord.kill();
  // Our handle keeps the process object alive; the process is still gone.
  EXPECT_EQ(exe_name(discord.pid()), "");
  discord.close();
  EXPECT_TRUE(listed_within_budget(discord.pid(), "Discord.exe", false));
  EXPECT_EQ(exe_name(discord.pid()), "");
  EXPECT_EQ(exe_name(canary.pid()), "DiscordCanary.exe");
}

TEST(ProcessTable, NoNameForPidsThatAreNotProcesses) {
  EXPECT_EQ(exe_name(0xFFFFFFF0u), "");
  EXPECT_FALSE(list_processes().empty());
}

TEST(ProcessTable, NoDescriptorLimitOnWindows) { EXPECT_EQ(drover::platform::raise_fd_limit(), 0u); }

}  // namespace
