// Windows paths in a fresh temporary directory: APPDATA and PROGRAMDATA are
// redirected per test, so nothing of the machine's is touched.
#include "platform/paths.hpp"

#include <gtest/gtest.h>
#include <windows.h>

#include <aclapi.h>  // after windows.h, whose types these use
#include <knownfolders.h>
#include <sddl.h>
#include <shlobj.h>
#include <winioctl.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "platform/windows/dir_security.hpp"
#include "platform/windows/install_id.hpp"
#include "platform/windows/user_sid.hpp"
#include "platform/windows/win_handle.hpp"

namespace fs = std::filesystem;
using namespace drover::platform;

namespace {

using drover::platform::win::to_wide;

std::wstring env_value(const wchar_t* name, bool& set) {
  wchar_t buf[32768];
  DWORD n = ::GetEnvironmentVariableW(name, buf, 32768);
  set = n > 0;
  return set ? std::wstring(buf, n) : std::wstring();
}

class paths_test : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("drover-paths-" + std::to_string(::GetCurrentProcessId()) + "-" + std::to_string(::GetTickCount64()));
    fs::create_directories(root_ / "appdata");
    fs::create_directories(root_ / "programdata");
    for (auto* v : {L"APPDATA", L"PROGRAMDATA"}) {
      bool set = false;
      auto old = env_value(v, set);
      saved_.push_back({v, old, set});
    }
    ::SetEnvironmentVariableW(L"APPDATA", (root_ / "appdata").wstring().c_str());
    ::SetEnvironmentVariableW(L"PROGRAMDATA", (root_ / "programdata").wstring().c_str());
  }
  void TearDown() override {
    for (auto& s : saved_) ::SetEnvironmentVariableW(s.name, s.set ? s.value.c_str() : nullptr);
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  std::string at(const std::string& rel) const { return (root_ / rel).u8string(); }

  struct saved_var {
    const wchar_t* name;
    std::wstring value;
    bool set;
  };
  fs::path root_;
  std::vector<saved_var> saved_;
};

// The SDDL of a directory's DACL, for messages and checks.
std::string dacl_of(const std::string& dir) {
  PSECURITY_DESCRIPTOR sd = nullptr;
  if (::GetNamedSecurityInfoW(to_wide(dir).c_str(), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, nullptr, nullptr,
                              nullptr, nullptr, &sd) != ERROR_SUCCESS)
    return "?";
  wchar_t* text = nullptr;
  ::ConvertSecurityDescriptorToStringSecurityDescriptorW(sd, SDDL_REVISION_1, DACL_SECURITY_INFORMATION, &text,
                                                         nullptr);
  std::string out = text ? fs::path(text).u8string() : "?";
  ::LocalFree(text);
  ::LocalFree(sd);
  return out;
}

bool set_dacl(const std::string& dir, const wchar_t* sddl) {
  PSECURITY_DESCRIPTOR sd = nullptr;
  if (!::ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, &sd, nullptr)) return false;
  BOOL present = FALSE, defaulted = FALSE;
  PACL dacl = nullptr;
  ::GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted);
  DWORD rc = ::SetNamedSecurityInfoW(const_cast<wchar_t*>(to_wide(dir).c_str()), SE_FILE_OBJECT,
                                     DACL_SECURITY_INFORMATION, nullptr, nullptr, dacl, nullptr);
  ::LocalFree(sd);
  return rc == ERROR_SUCCESS;
}

// A junction made by hand: FSCTL_SET_REPARSE_POINT with a mount-point buffer.
bool make_junction(const std::string& link, const std::string& target) {
  if (!::CreateDirectoryW(to_wide(link).c_str(), nullptr)) return false;
  HANDLE h = ::CreateFileW(to_wide(link).c_str(), GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                           FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
  if (h == INVALID_HANDLE_VALUE) return false;
  std::wstring sub = L"\\??\\" + to_wide(target), print = to_wide(target);
  std::vector<char> buf(16 + (sub.size() + print.size() + 2) * 2);
  auto* w = reinterpret_cast<USHORT*>(buf.data());
  *reinterpret_cast<ULONG*>(buf.data()) = IO_REPARSE_TAG_MOUNT_POINT;
  w[2] = static_cast<USHORT>(buf.size() - 8);        // ReparseDataLength
  w[4] = 0;                                          // SubstituteNameOffset
  w[5] = static_cast<USHORT>(sub.size() * 2);        // SubstituteNameLength
  w[6] = static_cast<USHORT>((sub.size() + 1) * 2);  // PrintNameOffset
  w[7] = static_cast<USHORT>(print.size() * 2);      // PrintNameLength
  std::memcpy(buf.data() + 16, sub.c_str(), (sub.size() + 1) * 2);
  std::memcpy(buf.data() + 16 + w[6], print.c_str(), (print.size() + 1) * 2);
  DWORD n = 0;
  BOOL ok = ::DeviceIoControl(h, FSCTL_SET_REPARSE_POINT, buf.data(), static_cast<DWORD>(buf.size()), nullptr, 0, &n,
                              nullptr);
  ::CloseHandle(h);
  return ok && (::GetFileAttributesW(to_wide(link).c_str()) & FILE_ATTRIBUTE_REPARSE_POINT);
}

bool is_dir(const std::string& p) {
  DWORD a = ::GetFileAttributesW(to_wide(p).c_str());
  return a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_DIRECTORY);
}

TEST_F(paths_test, ConfigRoamsWithTheUser) {
  EXPECT_EQ(default_config_path(), at("appdata") + "\\Drover\\config.toml");
  EXPECT_FALSE(is_dir(at("appdata\\Drover")));  // creates nothing
}

TEST_F(paths_test, EngineDirectoriesAreCreatedUnderProgramData) {
  auto rt = runtime_dir_path();
  ASSERT_TRUE(rt) << rt.err().message;
  EXPECT_EQ(*rt, at("programdata") + "\\Drover");
  EXPECT_FALSE(is_dir(*rt));
  auto logs = log_dir();
  ASSERT_TRUE(logs) << logs.err().message;
  EXPECT_EQ(*logs, at("programdata") + "\\Drover\\logs");
  EXPECT_TRUE(is_dir(*logs));
  auto state = state_dir();
  ASSERT_TRUE(state) << state.err().message;
  EXPECT_EQ(*state, at("programdata") + "\\Drover");
  EXPECT_EQ(*log_dir_path(), *logs);
  // Nobody but us, Administrators and SYSTEM: no Everyone (WD) or Users (BU) entry may write.
  for (auto& d : {*state, *logs}) {
    auto dacl = dacl_of(d);
    EXPECT_EQ(dacl.find(";;;WD)"), std::string::npos) << d << ": " << dacl;
    EXPECT_EQ(dacl.find(";;;BU)"), std::string::npos) << d << ": " << dacl;
  }
  // An existing directory that passes is kept.
  EXPECT_TRUE(log_dir());
  EXPECT_TRUE(runtime_dir());
}

TEST_F(paths_test, TheControlChannelIsThisCopysPipe) {
  auto listen = control_socket_listen_path();
  ASSERT_TRUE(listen);
  EXPECT_EQ(*listen, "\\\\.\\pipe\\drover-" + install_id());
  EXPECT_EQ(control_socket_path(), *listen);
  EXPECT_FALSE(is_dir(at("programdata\\Drover")));  // a pipe needs no directory
  EXPECT_FALSE(drover_group_id());
  EXPECT_FALSE(group_id("Administrators"));
}

TEST_F(paths_test, MissingParentIsNamed) {
  auto st = ensure_private_dir(at("nope\\Drover"), 0700);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.err().code, "not_found");
  EXPECT_NE(st.err().message.find(at("nope")), std::string::npos) << st.err().message;
}

TEST_F(paths_test, FileInPlaceOfTheDirectoryIsRefused) {
  auto dir = at("programdata\\Drover");
  HANDLE h = ::CreateFileW(to_wide(dir).c_str(), GENERIC_WRITE, 0, nullptr, CREATE_NEW, 0, nullptr);
  ASSERT_NE(h, INVALID_HANDLE_VALUE);
  ::CloseHandle(h);
  auto st = state_dir();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.err().code, "unsafe_path");
  EXPECT_EQ(st.err().message, "refusing " + dir + ": it is not a directory (remove it)");
}

TEST_F(paths_test, DirectoryOthersMayWriteIsRefused) {
  // What another user's planted %PROGRAMDATA%\Drover looks like when it lets us in.
  auto dir = at("programdata\\Drover");
  ASSERT_TRUE(::CreateDirectoryW(to_wide(dir).c_str(), nullptr));
  ASSERT_TRUE(set_dacl(dir, L"D:P(A;OICI;FA;;;WD)(A;OICI;FA;;;SY)"));
  auto st = state_dir();
  ASSERT_FALSE(st) << dacl_of(dir);
  EXPECT_EQ(st.err().code, "unsafe_path");
  EXPECT_NE(st.err().message.find("refusing " + dir + ": writable by "), std::string::npos) << st.err().message;
  EXPECT_NE(st.err().message.find("S-1-1-0"), std::string::npos) << st.err().message;  // Everyone
  EXPECT_NE(st.err().message.find("remove it"), std::string::npos) << st.err().message;
}

TEST_F(paths_test, DirectoryOwnedBySomeoneElseIsRefused) {
  auto dir = at("programdata\\Drover");
  ASSERT_TRUE(::CreateDirectoryW(to_wide(dir).c_str(), nullptr));
  PSID other = nullptr;
  ASSERT_TRUE(::ConvertStringSidToSidW(L"S-1-5-21-1111-2222-3333-1001", &other));
  DWORD rc = ::SetNamedSecurityInfoW(const_cast<wchar_t*>(to_wide(dir).c_str()), SE_FILE_OBJECT,
                                     OWNER_SECURITY_INFORMATION, other, nullptr, nullptr, nullptr);
  PSID owner = nullptr;
  PSECURITY_DESCRIPTOR sd = nullptr;
  ::GetNamedSecurityInfoW(to_wide(dir).c_str(), SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &owner, nullptr, nullptr,
                          nullptr, &sd);
  bool foreign = rc == ERROR_SUCCESS && owner && ::EqualSid(owner, other);
  ::LocalFree(sd);
  ::LocalFree(other);
  if (!foreign)
    GTEST_SKIP() << "cannot give a directory to another owner here (Wine keeps every file owned by the "
                    "current user and ignores SetNamedSecurityInfoW's owner)";
  auto st = state_dir();
  ASSERT_FALSE(st);
  EXPECT_NE(st.err().message.find("owned by"), std::string::npos) << st.err().message;
}

TEST_F(paths_test, JunctionIsRefused) {
  auto target = at("elsewhere");
  ASSERT_TRUE(::CreateDirectoryW(to_wide(target).c_str(), nullptr));
  auto dir = at("programdata\\Drover");
  if (!make_junction(dir, target))
    GTEST_SKIP() << "cannot make a junction here (Wine 8: FSCTL_SET_REPARSE_POINT fails with ERROR_INVALID_FUNCTION)";
  auto st = state_dir();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.err().message, "refusing " + dir + ": it is a junction or symbolic link (remove it)");
}

// The rule for the engine's folder, with made-up access lists: on Windows
// only Administrators and SYSTEM may own or change it (Wine cannot show
// this: it keeps neither owners nor access lists).
namespace dir_rule {
using drover::platform::win::allowed_ace;
using drover::platform::win::judge_dir_security;
const std::string user = "S-1-5-21-1111-2222-3333-1001", ba = "S-1-5-32-544", sy = "S-1-5-18", everyone = "S-1-1-0";
const std::vector<std::string> elevated_only{ba, sy};
constexpr std::uint32_t full = FILE_ALL_ACCESS, read_execute = 0x1200a9;

TEST(machine_dir_rule, WhatDroverCreatesPasses) {
  std::vector<allowed_ace> aces{{sy, full}, {ba, full}, {user, read_execute}, {everyone, read_execute}};
  EXPECT_TRUE(judge_dir_security("C:\\ProgramData\\Drover", ba, aces, elevated_only));
  EXPECT_TRUE(judge_dir_security("C:\\ProgramData\\Drover", sy, aces, elevated_only));
}

TEST(machine_dir_rule, TheUsersOwnFolderIsRefused) {
  // What a program of the same user running without elevation leaves when it
  // makes the folder first: the user owns it and may write it.
  auto st = judge_dir_security("C:\\ProgramData\\Drover", user, {{sy, full}, {ba, full}, {user, full}}, elevated_only);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.err().code, "unsafe_path");
  EXPECT_NE(st.err().message.find("refusing C:\\ProgramData\\Drover: owned by "), std::string::npos)
      << st.err().message;
  EXPECT_NE(st.err().message.find(user), std::string::npos) << st.err().message;
  EXPECT_NE(st.err().message.find("without elevation"), std::string::npos) << st.err().message;
  EXPECT_NE(st.err().message.find("remove it"), std::string::npos) << st.err().message;
}

TEST(machine_dir_rule, AnyWriteRightForTheUserIsRefused) {
  for (std::uint32_t right : {std::uint32_t(FILE_ADD_FILE), std::uint32_t(FILE_ADD_SUBDIRECTORY),
                              std::uint32_t(FILE_DELETE_CHILD), std::uint32_t(DELETE), std::uint32_t(WRITE_DAC),
                              std::uint32_t(WRITE_OWNER), std::uint32_t(GENERIC_WRITE), std::uint32_t(GENERIC_ALL)}) {
    auto st = judge_dir_security("D", ba, {{ba, full}, {user, read_execute | right}}, elevated_only);
    ASSERT_FALSE(st) << std::hex << right;
    EXPECT_NE(st.err().message.find("writable by"), std::string::npos) << st.err().message;
  }
}

TEST(machine_dir_rule, NoOwnerIsRefused) {
  auto st = judge_dir_security("D", "", {{ba, full}}, elevated_only);
  ASSERT_FALSE(st);
  EXPECT_NE(st.err().message.find("owned by nobody"), std::string::npos) << st.err().message;
}

TEST(machine_dir_rule, UnderWineTheUserIsAmongTheWriters) {
  auto writers = drover::platform::win::machine_dir_writers();
  auto has = [&](const std::string& s) { return std::find(writers.begin(), writers.end(), s) != writers.end(); };
  EXPECT_TRUE(has(ba));
  EXPECT_TRUE(has(sy));
  EXPECT_EQ(has(drover::platform::win::current_user_sid()), drover::platform::win::under_wine());
}
}  // namespace dir_rule

TEST_F(paths_test, DumpsGoToTheUsersDocuments) {
  wchar_t* docs = nullptr;
  ASSERT_TRUE(SUCCEEDED(::SHGetKnownFolderPath(FOLDERID_Documents, 0, nullptr, &docs)));
  std::string expected = fs::path(docs).u8string();
  ::CoTaskMemFree(docs);
  auto d = dump_dir();
  ASSERT_TRUE(d) << d.err().message;
  EXPECT_EQ(*d, expected);
  EXPECT_FALSE(is_dir(at("programdata\\Drover")));  // not the engine's folder
}

std::string exe_path() {
  wchar_t buf[32768];
  DWORD n = ::GetModuleFileNameW(nullptr, buf, 32768);
  return fs::path(std::wstring(buf, n)).u8string();
}

TEST(install_id, IsSixteenHexDigitsOfTheExecutablesPath) {
  auto id = install_id();
  ASSERT_EQ(id.size(), 16u);
  for (char c : id) EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f')) << id;
  EXPECT_EQ(install_id(), id);
  EXPECT_EQ(install_id_for(exe_path()), id);
  // Upper-cased first: SHA-256("ABC") = b5d4045c3f466fa91fe2cc6abe79232a1a57cdf104f7a26e716e0a1e2789df78
  EXPECT_EQ(install_id_for("abc"), "b5d4045c3f466fa9");
  // One copy however its path is spelt (cmd, a shortcut, PATH): one engine.
  EXPECT_EQ(install_id_for("c:\\program files\\drover\\DROVER.EXE"),
            install_id_for("C:\\Program Files\\Drover\\drover.exe"));
  EXPECT_NE(install_id_for("C:\\Program Files\\Drover\\drover.exe"), install_id_for("D:\\portable\\drover.exe"));
  // drover.com beside drover.exe is the same copy: `drover status` in cmd runs it.
  EXPECT_EQ(install_id_for("C:\\Program Files\\Drover\\drover.com"),
            install_id_for("C:\\Program Files\\Drover\\drover.exe"));
  EXPECT_EQ(control_pipe_name(), "\\\\.\\pipe\\drover-" + id);
}

}  // namespace
