// Loading WinDivert.dll from a directory of the test's own: each way the
// files can be missing or wrong gives the sentence the user reads, and
// nothing is loaded from anywhere else.
#include "platform/windows/windivert_loader.hpp"

#include <gtest/gtest.h>
#include <windows.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "platform/windows/sha256.hpp"

namespace fs = std::filesystem;
using namespace drover::platform::win;

namespace {

class windivert_loader : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("drover-windivert-" + std::to_string(::GetCurrentProcessId()) + "-" + std::to_string(::GetTickCount64()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string dir() const { return dir_.u8string(); }
  void write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name, std::ios::binary) << content;
  }
  static std::string sha_of(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return sha256_hex(s.data(), s.size()).value_or("?");
  }
  fs::path dir_;
};

TEST(sha256, KnownDigest) {
  EXPECT_EQ(sha256_hex("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(windivert_files, TheOfficialReleaseIsPinned) {
  const auto& f = official_windivert_files();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].name, "WinDivert.dll");
  EXPECT_EQ(f[0].sha256, "c1e060ee19444a259b2162f8af0f3fe8c4428a1c6f694dce20de194ac8d7d9a2");
  EXPECT_EQ(f[1].name, "WinDivert64.sys");
  EXPECT_EQ(f[1].sha256, "8da085332782708d8767bcace5327a6ec7283c17cfb85e40b03cd2323a90ddc2");
}

TEST_F(windivert_loader, NoDllSaysReinstall) {
  auto r = load_windivert(dir(), official_windivert_files());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, "driver_gone");
  EXPECT_EQ(r.err().message, "WinDivert.dll not found next to drover.exe: reinstall Drover");
}

TEST_F(windivert_loader, NoDriverFileSaysReinstall) {
  write("WinDivert.dll", "MZ");
  auto r = load_windivert(dir(), official_windivert_files());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().message, "WinDivert64.sys not found next to drover.exe: reinstall Drover");
}

TEST_F(windivert_loader, ChangedFilesAreRefusedBeforeLoading) {
  write("WinDivert.dll", "not the DLL Drover ships");
  write("WinDivert64.sys", "not the driver either");
  auto r = load_windivert(dir(), official_windivert_files());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, "driver_gone");
  const std::string& m = r.err().message;
  EXPECT_EQ(
      m.rfind("WinDivert files changed (antivirus quarantine or a different version): WinDivert.dll has SHA-256 ", 0),
      0u)
      << m;
  EXPECT_NE(m.find(sha_of(dir_ / "WinDivert.dll")), std::string::npos) << m;
  EXPECT_NE(m.find("reinstall Drover"), std::string::npos) << m;
}

TEST_F(windivert_loader, ATrustedDllWithoutTheFunctionsIsNamed) {
  // A real DLL that is not WinDivert: loads, but has none of its functions.
  wchar_t sys[MAX_PATH];
  ASSERT_GT(::GetSystemDirectoryW(sys, MAX_PATH), 0u);
  fs::copy_file(fs::path(sys) / L"version.dll", dir_ / "WinDivert.dll");
  write("WinDivert64.sys", "a driver");
  std::vector<windivert_file> trusted{{"WinDivert.dll", sha_of(dir_ / "WinDivert.dll")},
                                      {"WinDivert64.sys", sha_of(dir_ / "WinDivert64.sys")}};
  auto r = load_windivert(dir(), trusted);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().message.rfind("WinDivert.dll has no function WinDivert", 0), 0u) << r.err().message;
  EXPECT_NE(r.err().message.find("not WinDivert 2.2"), std::string::npos) << r.err().message;
}

TEST(windivert_trust, TestFilesAreAddedOnlyWhenAsked) {
  auto before = trusted_windivert_files();
  EXPECT_EQ(before.size(), official_windivert_files().size());  // nothing in this process adds any
  add_trusted_windivert_files({{"WinDivert.dll", "00"}});
  EXPECT_EQ(trusted_windivert_files().size(), before.size() + 1);
}

}  // namespace
