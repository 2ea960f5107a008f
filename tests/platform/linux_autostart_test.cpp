// The tray's login start on Linux: real files in a fresh XDG_CONFIG_HOME
// (a mkdtemp dir), set per test and put back afterwards.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "platform/autostart.hpp"
#include "platform/process_table.hpp"

namespace fs = std::filesystem;
using namespace drover::platform;

namespace {

class LinuxAutostart : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto* v : {"XDG_CONFIG_HOME", "HOME"}) {
      const char* s = std::getenv(v);
      saved_.emplace_back(v, s ? std::optional<std::string>(s) : std::nullopt);
    }
    char tmpl[] = "/tmp/drover-autostart-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    config_ = root_ + "/config";
    ::setenv("XDG_CONFIG_HOME", config_.c_str(), 1);
  }
  void TearDown() override {
    for (auto& [name, value] : saved_) {
      if (value)
        ::setenv(name, value->c_str(), 1);
      else
        ::unsetenv(name);
    }
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  std::string entry() const { return config_ + "/autostart/drover-tray.desktop"; }
  void write_entry(const std::string& content) {
    fs::create_directories(config_ + "/autostart");
    std::ofstream(entry()) << content;
  }
  std::string read_entry() const {
    std::ifstream in(entry());
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  autostart_state state() {
    auto s = autostart_status();
    EXPECT_TRUE(s.ok()) << s.err().message;
    return s ? *s : autostart_state{};
  }

  std::string root_, config_;
  const std::string exe_ = own_executable_path();

 private:
  std::vector<std::pair<const char*, std::optional<std::string>>> saved_;
};

TEST_F(LinuxAutostart, OffWhenThereIsNoEntry) {
  auto s = state();
  EXPECT_FALSE(s.enabled);
  EXPECT_FALSE(s.stale);
  EXPECT_FALSE(s.disabled_by_user);
  EXPECT_EQ(s.command, "");
}

TEST_F(LinuxAutostart, EnableWritesAnEntryThatRunsThisProgramsTray) {
  ASSERT_FALSE(fs::exists(config_));
  auto st = autostart_enable();
  ASSERT_TRUE(st.ok()) << st.err().message;
  std::string text = read_entry();
  EXPECT_EQ(text.rfind("[Desktop Entry]\n", 0), 0u) << text;
  EXPECT_NE(text.find("\nType=Application\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nExec=" + exe_ + " tray\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("Hidden"), std::string::npos) << text;
  EXPECT_EQ(text.find("X-GNOME-Autostart-enabled"), std::string::npos) << text;
  // Directories it had to create are private (XDG base directory spec).
  struct stat st_dir {};
  ASSERT_EQ(::stat((config_ + "/autostart").c_str(), &st_dir), 0);
  EXPECT_EQ(st_dir.st_mode & 0777, 0700u);
  auto s = state();
  EXPECT_TRUE(s.enabled);
  EXPECT_FALSE(s.stale);
  EXPECT_FALSE(s.disabled_by_user);
  EXPECT_EQ(s.command, exe_ + " tray");
  ASSERT_TRUE(autostart_enable().ok());  // twice is the same
  EXPECT_EQ(read_entry(), text);
}

TEST_F(LinuxAutostart, HomeIsUsedWithoutXdgConfigHome) {
  ::unsetenv("XDG_CONFIG_HOME");
  ::setenv("HOME", root_.c_str(), 1);
  ASSERT_TRUE(autostart_enable().ok());
  EXPECT_TRUE(fs::exists(root_ + "/.config/autostart/drover-tray.desktop"));
  EXPECT_TRUE(state().enabled);
  // A relative XDG_CONFIG_HOME is ignored, as the spec says.
  ::setenv("XDG_CONFIG_HOME", "relative/config", 1);
  EXPECT_TRUE(state().enabled);
}

TEST_F(LinuxAutostart, DisableRemovesOnlyOurEntry) {
  write_entry("[Desktop Entry]\nExec=/usr/bin/other\n");
  fs::rename(entry(), config_ + "/autostart/other.desktop");
  ASSERT_TRUE(autostart_enable().ok());
  ASSERT_TRUE(autostart_disable().ok());
  EXPECT_FALSE(fs::exists(entry()));
  EXPECT_TRUE(fs::exists(config_ + "/autostart/other.desktop"));
  EXPECT_FALSE(state().enabled);
  EXPECT_TRUE(autostart_disable().ok());  // nothing left to remove is fine
}

TEST_F(LinuxAutostart, TheUsersOffIsReportedAndKept) {
  write_entry("[Desktop Entry]\nType=Application\nExec=" + exe_ + " tray\nX-GNOME-Autostart-enabled=false\n");
  auto s = state();
  EXPECT_TRUE(s.enabled);
  EXPECT_TRUE(s.disabled_by_user);
  ASSERT_TRUE(autostart_enable().ok());
  EXPECT_TRUE(state().disabled_by_user);
  EXPECT_NE(read_entry().find("\nX-GNOME-Autostart-enabled=false\n"), std::string::npos) << read_entry();

  write_entry("[Desktop Entry]\nExec=" + exe_ + " tray\nHidden=true\n");
  EXPECT_TRUE(state().disabled_by_user);
  ASSERT_TRUE(autostart_enable().ok());
  EXPECT_NE(read_entry().find("\nHidden=true\n"), std::string::npos) << read_entry();

  write_entry("[Desktop Entry]\nExec=" + exe_ + " tray\nHidden=false\nX-GNOME-Autostart-enabled=true\n");
  EXPECT_FALSE(state().disabled_by_user);
  // Keys of another group are not ours to read.
  write_entry("[Desktop Entry]\nExec=" + exe_ + " tray\n[Desktop Action x]\nHidden=true\n");
  EXPECT_FALSE(state().disabled_by_user);
}

TEST_F(LinuxAutostart, RefreshRewritesAnEntryNamingAProgramThatIsGone) {
  write_entry("[Desktop Entry]\nType=Application\nExec=\"" + root_ +
              "/gone/drover\" tray\nX-GNOME-Autostart-enabled=false\n");
  auto s = state();
  EXPECT_TRUE(s.enabled);
  EXPECT_TRUE(s.stale);
  ASSERT_TRUE(autostart_refresh().ok());
  s = state();
  EXPECT_FALSE(s.stale);
  EXPECT_EQ(s.command, exe_ + " tray");
  EXPECT_TRUE(s.disabled_by_user);  // still the user's choice
}

TEST_F(LinuxAutostart, RefreshLeavesAnotherCopyThatExists) {
  std::string other = root_ + "/other-drover";
  std::ofstream(other) << "#!/bin/sh\n";
  write_entry("[Desktop Entry]\nExec=" + other + " tray\n");
  ASSERT_TRUE(state().stale);
  ASSERT_TRUE(autostart_refresh().ok());
  EXPECT_EQ(state().command, other + " tray");
}

TEST_F(LinuxAutostart, RefreshCreatesNothing) {
  // `drover run` (root, a read-only home) calls it on every start.
  ASSERT_TRUE(autostart_refresh().ok());
  EXPECT_FALSE(fs::exists(config_));
  ::unsetenv("XDG_CONFIG_HOME");
  ::setenv("HOME", (root_ + "/no-such-home").c_str(), 1);
  EXPECT_TRUE(autostart_refresh().ok());
  EXPECT_FALSE(fs::exists(root_ + "/no-such-home"));
  ::unsetenv("HOME");
  EXPECT_TRUE(autostart_refresh().ok());
}

TEST_F(LinuxAutostart, AQuotedPathAndALinkNameThisProgram) {
  // Through a directory whose name needs quoting, as the spec writes it.
  fs::create_directories(root_ + "/my dir");
  fs::create_symlink(exe_, root_ + "/my dir/drover");
  write_entry("[Desktop Entry]\nExec=\"" + root_ + "/my dir/drover\" tray\n");
  auto s = state();
  EXPECT_TRUE(s.enabled);
  EXPECT_FALSE(s.stale) << s.command;
  // A backslash escape of the value itself (\\ is one backslash).
  fs::create_symlink(exe_, root_ + "/back\\slash");
  write_entry("[Desktop Entry]\nExec=\"" + root_ + "/back\\\\\\\\slash\" tray\n");
  EXPECT_FALSE(state().stale) << state().command;
  write_entry("[Desktop Entry]\nExec=" + root_ + "/my tray\n");
  EXPECT_TRUE(state().stale);
}

// Run by OddPathsRoundTrip as a copy of this test at an awkward path.
TEST_F(LinuxAutostart, ChildEnablesFromWhereItIs) {
  const char* config = std::getenv("DROVER_AUTOSTART_CHILD");
  if (config == nullptr) GTEST_SKIP() << "run by OddPathsRoundTrip";
  ::setenv("XDG_CONFIG_HOME", config, 1);
  ASSERT_TRUE(autostart_enable().ok());
  auto s = state();
  EXPECT_TRUE(s.enabled);
  EXPECT_FALSE(s.stale) << s.command;  // what it wrote names itself
}

TEST_F(LinuxAutostart, OddPathsRoundTrip) {
  if (std::getenv("DROVER_AUTOSTART_CHILD") != nullptr) GTEST_SKIP();
  // Every character the desktop entry spec makes us quote or escape.
  std::string dir = root_ + "/a \"b\" $c `d` \\e 100%";
  fs::create_directories(dir);
  std::string copy = dir + "/drover";
  fs::copy_file(exe_, copy);
  fs::permissions(copy, fs::perms::owner_all);
  std::string cmd = "DROVER_AUTOSTART_CHILD='" + config_ + "' '" + copy +
                    "' --gtest_filter=LinuxAutostart.ChildEnablesFromWhereItIs >/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "the copy could not enable autostart for itself: " << read_entry();
  auto s = state();
  EXPECT_TRUE(s.stale) << s.command;  // the copy, not us
  EXPECT_EQ(s.command.find('"'), 0u) << s.command;
  // The copy exists: refresh leaves its entry; once it is gone, it is ours.
  ASSERT_TRUE(autostart_refresh().ok());
  EXPECT_TRUE(state().stale);
  fs::remove(copy);
  ASSERT_TRUE(autostart_refresh().ok());
  EXPECT_FALSE(state().stale) << state().command;
}

TEST_F(LinuxAutostart, RefusesToWriteThroughASymlink) {
  fs::create_directories(config_ + "/autostart");
  std::string target = root_ + "/elsewhere";
  fs::create_symlink(target, entry());
  auto st = autostart_enable();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.err().message.find("symlink"), std::string::npos) << st.err().message;
  EXPECT_FALSE(fs::exists(target));
}

}  // namespace
