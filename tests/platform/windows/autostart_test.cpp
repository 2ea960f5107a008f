// Autostart against the real HKCU (of the Wine prefix, or the user's): each
// test saves our two values first and puts them back afterwards.
#include <gtest/gtest.h>
#include <windows.h>

#include <optional>
#include <string>
#include <vector>

#include "platform/autostart.hpp"
#include "platform/process_table.hpp"
#include "platform/windows/win_handle.hpp"

namespace {

using drover::platform::win::to_wide;

using namespace drover::platform;

const wchar_t* const run_key = L"Software\\Microsoft\\Windows\\CurrentVersion\\Run";
const wchar_t* const approved_key = L"Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\StartupApproved\\Run";

struct raw_value {
  DWORD type = 0;
  std::vector<BYTE> data;
};

std::optional<raw_value> read_value(const wchar_t* key, const wchar_t* name) {
  raw_value v;
  DWORD size = 0;
  if (RegGetValueW(HKEY_CURRENT_USER, key, name, RRF_RT_ANY | RRF_NOEXPAND, &v.type, nullptr, &size) != ERROR_SUCCESS)
    return std::nullopt;
  v.data.resize(size);
  if (RegGetValueW(HKEY_CURRENT_USER, key, name, RRF_RT_ANY | RRF_NOEXPAND, &v.type, v.data.data(), &size) !=
      ERROR_SUCCESS)
    return std::nullopt;
  v.data.resize(size);
  return v;
}

void write_value(const wchar_t* key, const wchar_t* name, const std::optional<raw_value>& v) {
  if (!v) {
    RegDeleteKeyValueW(HKEY_CURRENT_USER, key, name);
    return;
  }
  RegSetKeyValueW(HKEY_CURRENT_USER, key, name, v->type, v->data.data(), static_cast<DWORD>(v->data.size()));
}

raw_value text(const std::wstring& s) {
  auto* p = reinterpret_cast<const BYTE*>(s.c_str());
  return raw_value{REG_SZ, std::vector<BYTE>(p, p + (s.size() + 1) * sizeof(wchar_t))};
}

// Task Manager's record: 12 bytes, the first one 02 (allowed) or 03 (disabled).
raw_value approved(BYTE first) {
  raw_value v{REG_BINARY, std::vector<BYTE>(12, 0)};
  v.data[0] = first;
  return v;
}

std::string upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}

class Autostart : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_run_ = read_value(run_key, L"Drover");
    saved_approved_ = read_value(approved_key, L"Drover");
    write_value(run_key, L"Drover", std::nullopt);
    write_value(approved_key, L"Drover", std::nullopt);
  }
  void TearDown() override {
    write_value(run_key, L"Drover", saved_run_);
    write_value(approved_key, L"Drover", saved_approved_);
    write_value(run_key, L"DroverTestNeighbour", std::nullopt);
  }
  autostart_state state() {
    auto s = autostart_status();
    EXPECT_TRUE(s.ok()) << s.err().message;
    return s ? *s : autostart_state{};
  }
  const std::string ours_ = "\"" + own_executable_path() + "\" run";

 private:
  std::optional<raw_value> saved_run_, saved_approved_;
};

TEST_F(Autostart, OffWhenThereIsNoEntry) {
  auto s = state();
  EXPECT_FALSE(s.enabled);
  EXPECT_FALSE(s.stale);
  EXPECT_FALSE(s.disabled_by_user);
  EXPECT_EQ(s.command, "");
}

TEST_F(Autostart, EnableWritesOurPath) {
  ASSERT_TRUE(autostart_enable().ok());
  auto s = state();
  EXPECT_TRUE(s.enabled);
  EXPECT_FALSE(s.stale);
  EXPECT_FALSE(s.disabled_by_user);
  EXPECT_EQ(s.command, ours_);
  ASSERT_TRUE(autostart_enable().ok());  // twice is the same
  EXPECT_EQ(state().command, ours_);
}

TEST_F(Autostart, RefreshRewritesAStalePath) {
  write_value(run_key, L"Drover", text(L"\"C:\\Old Place\\drover.exe\" run"));
  auto s = state();
  EXPECT_TRUE(s.enabled);
  EXPECT_TRUE(s.stale);
  EXPECT_EQ(s.command, "\"C:\\Old Place\\drover.exe\" run");
  ASSERT_TRUE(autostart_refresh().ok());
  s = state();
  EXPECT_FALSE(s.stale);
  EXPECT_EQ(s.command, ours_);
}

TEST_F(Autostart, RefreshLeavesAnotherCopyThatExists) {
  // Another copy of Drover (the sleeper beside this test stands in: it exists).
  std::string sleeper = own_executable_path();
  sleeper = sleeper.substr(0, sleeper.find_last_of('\\')) + "\\drover_win_sleeper.exe";
  std::string command = "\"" + sleeper + "\" run";
  write_value(run_key, L"Drover", text(to_wide(command)));
  ASSERT_TRUE(state().stale);
  ASSERT_TRUE(autostart_refresh().ok());
  EXPECT_EQ(state().command, command);
}

TEST_F(Autostart, UnquotedOtherPathIsStale) {
  write_value(run_key, L"Drover", text(L"C:\\Other\\drover.exe run"));
  EXPECT_TRUE(state().stale);
}

TEST_F(Autostart, PathsCompareWithoutCase) {
  std::string shouted = "\"" + upper(own_executable_path()) + "\" run";
  write_value(run_key, L"Drover", text(to_wide(shouted)));
  EXPECT_FALSE(state().stale) << shouted;
}

TEST_F(Autostart, ExpandsEnvironmentVariables) {
  std::string path = own_executable_path();
  auto slash = path.find_last_of('\\');
  SetEnvironmentVariableW(L"DROVER_TEST_DIR", to_wide(path.substr(0, slash)).c_str());
  raw_value v = text(L"\"%DROVER_TEST_DIR%" + to_wide(path.substr(slash)) + L"\" run");
  v.type = REG_EXPAND_SZ;
  write_value(run_key, L"Drover", v);
  auto s = state();
  EXPECT_TRUE(s.enabled);
  EXPECT_FALSE(s.stale) << s.command;
  SetEnvironmentVariableW(L"DROVER_TEST_DIR", nullptr);
}

TEST_F(Autostart, RefreshDoesNotTurnItOn) {
  ASSERT_TRUE(autostart_refresh().ok());
  EXPECT_FALSE(state().enabled);
  EXPECT_FALSE(read_value(run_key, L"Drover").has_value());
}

TEST_F(Autostart, TaskManagersChoiceIsReportedAndKept) {
  write_value(approved_key, L"Drover", approved(0x03));
  ASSERT_TRUE(autostart_enable().ok());
  auto s = state();
  EXPECT_TRUE(s.enabled);
  EXPECT_TRUE(s.disabled_by_user);
  auto kept = read_value(approved_key, L"Drover");
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->data, approved(0x03).data);

  write_value(approved_key, L"Drover", approved(0x02));
  EXPECT_FALSE(state().disabled_by_user);
}

TEST_F(Autostart, DisableRemovesOnlyOurValue) {
  write_value(run_key, L"DroverTestNeighbour", text(L"C:\\neighbour.exe"));
  write_value(approved_key, L"Drover", approved(0x03));
  ASSERT_TRUE(autostart_enable().ok());
  ASSERT_TRUE(autostart_disable().ok());
  EXPECT_FALSE(state().enabled);
  EXPECT_FALSE(read_value(run_key, L"Drover").has_value());
  EXPECT_TRUE(read_value(run_key, L"DroverTestNeighbour").has_value());
  EXPECT_TRUE(read_value(approved_key, L"Drover").has_value());
  EXPECT_TRUE(autostart_disable().ok());  // nothing left to remove is fine
}

}  // namespace
