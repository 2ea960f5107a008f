// Real directories, files, uids and symlinks in a fresh mktemp dir; the environment is set per test.
#include "platform/paths.hpp"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "platform/log_sink.hpp"
#include "platform/safe_file.hpp"

namespace fs = std::filesystem;
using namespace drover::platform;

namespace {

const char* const k_vars[] = {"XDG_RUNTIME_DIR", "XDG_STATE_HOME", "XDG_CONFIG_HOME"};

class paths_test : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto* v : k_vars) {
      const char* s = std::getenv(v);
      saved_.emplace_back(s ? s : "", s != nullptr);
    }
    char tmpl[] = "/tmp/drover-paths-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    for (std::size_t i = 0; i < saved_.size(); ++i) {
      if (saved_[i].second)
        ::setenv(k_vars[i], saved_[i].first.c_str(), 1);
      else
        ::unsetenv(k_vars[i]);
    }
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  std::string root_;
  std::vector<std::pair<std::string, bool>> saved_;
};

struct stat stat_of(const std::string& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st;
}
unsigned mode_of(const std::string& p) { return stat_of(p).st_mode & 07777; }
std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
void spit(const std::string& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }
#define EXPECT_HAS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

TEST_F(paths_test, runtime_dir_is_created_0755_and_ours_despite_umask) {
  ::setenv("XDG_RUNTIME_DIR", root_.c_str(), 1);
  auto old = ::umask(077);
  auto r = runtime_dir();
  ::umask(old);
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(*r, root_ + "/drover");
  EXPECT_TRUE(S_ISDIR(stat_of(*r).st_mode));
  EXPECT_EQ(mode_of(*r), 0755u);
  EXPECT_EQ(stat_of(*r).st_uid, ::geteuid());
  auto again = runtime_dir();  // an existing good directory is accepted
  EXPECT_TRUE(again.ok());
}

TEST_F(paths_test, runtime_dir_owned_by_another_uid_is_refused) {
  ::setenv("XDG_RUNTIME_DIR", root_.c_str(), 1);
  auto dir = root_ + "/drover";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  ASSERT_EQ(::chown(dir.c_str(), 65534, 65534), 0);
  auto r = runtime_dir();
  ASSERT_FALSE(r.ok());
  EXPECT_HAS(r.err().message, "refusing " + dir + ": owned by uid 65534");
  EXPECT_HAS(r.err().message, "remove it, or fix its owner");
}

TEST_F(paths_test, runtime_dir_that_is_a_symlink_is_refused) {
  ::setenv("XDG_RUNTIME_DIR", root_.c_str(), 1);
  auto elsewhere = root_ + "/elsewhere";
  ASSERT_EQ(::mkdir(elsewhere.c_str(), 0700), 0);
  ASSERT_EQ(::symlink(elsewhere.c_str(), (root_ + "/drover").c_str()), 0);
  auto r = runtime_dir();
  ASSERT_FALSE(r.ok());
  EXPECT_HAS(r.err().message, "refusing " + root_ + "/drover: it is a symlink");
  EXPECT_EQ(mode_of(elsewhere), 0700u);  // the target was not chmod-ed through the link
}

TEST_F(paths_test, runtime_dir_writable_by_others_is_refused) {
  ::setenv("XDG_RUNTIME_DIR", root_.c_str(), 1);
  auto dir = root_ + "/drover";
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(dir.c_str(), 0777), 0);
  auto r = runtime_dir();
  ASSERT_FALSE(r.ok());
  EXPECT_HAS(r.err().message, "refusing " + dir + ": writable by group or others (mode 0777");
}

TEST_F(paths_test, shared_parent_is_accepted_only_when_sticky) {
  auto shared = root_ + "/shared";
  ASSERT_EQ(::mkdir(shared.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(shared.c_str(), 0777), 0);
  ::setenv("XDG_RUNTIME_DIR", shared.c_str(), 1);
  auto r = runtime_dir();
  ASSERT_FALSE(r.ok());
  EXPECT_HAS(r.err().message, "its parent " + shared + " is writable by group or others without the sticky bit");
  EXPECT_NE(::access((shared + "/drover").c_str(), F_OK), 0);  // nothing created in it
  ASSERT_EQ(::chmod(shared.c_str(), 01777), 0);
  auto sticky = runtime_dir();
  EXPECT_TRUE(sticky.ok()) << sticky.err().message;
  ASSERT_EQ(::rmdir((shared + "/drover").c_str()), 0);
  ASSERT_EQ(::chown(shared.c_str(), 0, 65534), 0);  // writable by a user group: refused
  ASSERT_EQ(::chmod(shared.c_str(), 0775), 0);
  EXPECT_FALSE(runtime_dir().ok());
  ASSERT_EQ(::chown(shared.c_str(), 0, 100), 0);  // root:users 0775: a group of people, low gid or not
  EXPECT_FALSE(runtime_dir().ok());
  auto adm = group_id("adm");
  ASSERT_TRUE(adm.has_value());
  ASSERT_EQ(::chown(shared.c_str(), 0, *adm), 0);  // root:adm 0775, like Ubuntu's /var/log root:syslog
  auto system_group = runtime_dir();
  EXPECT_TRUE(system_group.ok()) << system_group.err().message;
}

TEST_F(paths_test, missing_parent_is_not_created_and_named) {
  auto missing = root_ + "/missing";
  ::setenv("XDG_RUNTIME_DIR", missing.c_str(), 1);
  auto r = runtime_dir();
  ASSERT_FALSE(r.ok());
  EXPECT_HAS(r.err().message, "its parent " + missing + " does not exist");
  EXPECT_NE(::access(missing.c_str(), F_OK), 0);
}

TEST_F(paths_test, ensure_private_dir_sets_the_group_asked_for) {
  auto dir = root_ + "/logs";
  auto st = ensure_private_dir(dir, 0750, 65534u);
  ASSERT_TRUE(st.ok()) << st.err().message;
  EXPECT_EQ(stat_of(dir).st_gid, 65534u);
  EXPECT_EQ(mode_of(dir), 0750u);
}

TEST_F(paths_test, system_paths_without_xdg_as_root_and_never_tmp) {
  ::unsetenv("XDG_RUNTIME_DIR");
  ::unsetenv("XDG_STATE_HOME");
  ::setenv("XDG_CONFIG_HOME", root_.c_str(), 1);
  if (::geteuid() != 0) {
    auto r = runtime_dir_path();
    ASSERT_FALSE(r.ok());
    EXPECT_HAS(r.err().message, "XDG_RUNTIME_DIR is not set");
    return;
  }
  EXPECT_EQ(*runtime_dir_path(), "/run/drover");
  EXPECT_EQ(*log_dir_path(), "/var/log/drover");
  EXPECT_EQ(*state_dir_path(), "/var/lib/drover");
  EXPECT_EQ(default_config_path(), "/etc/drover/config.toml");
  ::setenv("XDG_RUNTIME_DIR", "relative/dir", 1);  // invalid per the XDG spec: ignored
  EXPECT_EQ(*runtime_dir_path(), "/run/drover");
}

TEST_F(paths_test, client_socket_prefers_an_existing_xdg_socket) {
  ::setenv("XDG_RUNTIME_DIR", root_.c_str(), 1);
  EXPECT_EQ(control_socket_path(), "/run/drover/control.sock");
  EXPECT_NE(::access((root_ + "/drover").c_str(), F_OK), 0);  // the client creates nothing
  auto listen = control_socket_listen_path();
  ASSERT_TRUE(listen.ok()) << listen.err().message;
  EXPECT_EQ(*listen, root_ + "/drover/control.sock");
  int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(s, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", listen->c_str());
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(control_socket_path(), *listen);
  ::close(s);
}

TEST_F(paths_test, log_and_state_dirs_follow_xdg_state_home_with_their_modes) {
  ::setenv("XDG_STATE_HOME", root_.c_str(), 1);
  auto log = log_dir();
  ASSERT_TRUE(log.ok()) << log.err().message;
  EXPECT_EQ(*log, root_ + "/drover");
  EXPECT_EQ(mode_of(*log), 0750u);
  ASSERT_EQ(::rmdir(log->c_str()), 0);
  auto state = state_dir();
  ASSERT_TRUE(state.ok()) << state.err().message;
  EXPECT_EQ(mode_of(*state), 0700u);
}

TEST_F(paths_test, write_file_creates_0600_and_tightens_an_existing_file) {
  auto f = root_ + "/dump.txt";
  auto old = ::umask(0);
  auto st = write_file(f, "hello");
  ::umask(old);
  ASSERT_TRUE(st.ok()) << st.err().message;
  EXPECT_EQ(mode_of(f), 0600u);
  EXPECT_EQ(slurp(f), "hello");
  ASSERT_EQ(::chmod(f.c_str(), 0644), 0);
  ASSERT_TRUE(write_file(f, "hi").ok());
  EXPECT_EQ(mode_of(f), 0600u);
  EXPECT_EQ(slurp(f), "hi");
  std::string big(3 << 20, 'x');
  ASSERT_TRUE(write_file(f, big).ok());
  EXPECT_EQ(slurp(f), big);
}

TEST_F(paths_test, write_through_a_symlink_is_refused_and_the_target_untouched) {
  auto victim = root_ + "/victim";
  auto link = root_ + "/link";
  spit(victim, "secret");
  ASSERT_EQ(::symlink(victim.c_str(), link.c_str()), 0);
  auto st = write_file(link, "pwned");
  ASSERT_FALSE(st.ok());
  EXPECT_HAS(st.err().message, "refusing to write " + link + ": it is a symlink");
  EXPECT_FALSE(open_for_write(link, write_mode::append).ok());
  EXPECT_FALSE(write_file_atomic(link, "pwned").ok());
  EXPECT_EQ(slurp(victim), "secret");
  EXPECT_TRUE(S_ISLNK(stat_of(link).st_mode));
}

TEST_F(paths_test, write_errors_name_the_path_and_the_os_reason) {
  auto full = write_file("/dev/full", "data");
  ASSERT_FALSE(full.ok());
  EXPECT_HAS(full.err().message, "cannot write /dev/full: No space left on device");
  auto missing = root_ + "/no/such/file";
  auto r = write_file(missing, "x");
  ASSERT_FALSE(r.ok());
  EXPECT_HAS(r.err().message, "cannot write " + missing + ": No such file or directory");
  EXPECT_TRUE(write_file("/dev/null", "x").ok());  // a device the user chose is written, not refused
  auto fifo = root_ + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto f = write_file(fifo, "x");  // fails at once instead of waiting for a reader
  ASSERT_FALSE(f.ok());
  EXPECT_HAS(f.err().message, fifo);
}

TEST_F(paths_test, atomic_write_shows_readers_old_or_new_never_a_mix) {
  auto f = root_ + "/stats.json";
  const std::string a(256 << 10, 'a'), b(256 << 10, 'b');
  ASSERT_TRUE(write_file_atomic(f, a).ok());
  std::atomic<bool> done{false};
  std::atomic<int> bad{0}, reads{0};
  std::thread reader([&] {
    while (!done) {
      auto s = slurp(f);
      if (s != a && s != b) ++bad;
      ++reads;
    }
  });
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(write_file_atomic(f, i % 2 ? a : b).ok());
  done = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0) << "of " << reads.load() << " reads";
  EXPECT_EQ(mode_of(f), 0600u);
  auto adir = root_ + "/adir";  // rename onto a non-empty directory fails: old kept, no temp left
  ASSERT_EQ(::mkdir(adir.c_str(), 0700), 0);
  spit(adir + "/inside", "keep");
  EXPECT_FALSE(write_file_atomic(adir, "x").ok());
  EXPECT_EQ(slurp(adir + "/inside"), "keep");
  std::vector<std::string> names;
  for (auto& e : fs::directory_iterator(root_)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"adir", "stats.json"}));
}

std::shared_ptr<spdlog::logger> logger_on(const std::shared_ptr<spdlog::sinks::sink>& sink) {
  auto lg = std::make_shared<spdlog::logger>("test", sink);
  lg->set_pattern("%v");
  return lg;
}
std::string line(int n) {  // 100 bytes with the newline
  auto s = std::to_string(n);
  return s + std::string(99 - s.size(), '.');
}
std::string lines(int from, int to) {
  std::string s;
  for (int i = from; i <= to; ++i) s += line(i) + "\n";
  return s;
}

TEST_F(paths_test, log_sink_refuses_a_planted_symlink_and_never_writes_the_victim) {
  auto victim = root_ + "/victim";
  spit(victim, "secret");
  ASSERT_EQ(::symlink(victim.c_str(), (root_ + "/drover.log").c_str()), 0);
  auto sink = make_log_file_sink(root_, 1000, 2);
  ASSERT_FALSE(sink.ok());
  EXPECT_HAS(sink.err().message, "refusing to write " + root_ + "/drover.log: it is a symlink");
  EXPECT_EQ(slurp(victim), "secret");
}

TEST_F(paths_test, log_sink_appends_with_a_private_mode) {
  auto log = root_ + "/drover.log";
  spit(log, "earlier\n");
  ASSERT_EQ(::chmod(log.c_str(), 0644), 0);
  auto sink = make_log_file_sink(root_, 1 << 20, 2);
  ASSERT_TRUE(sink.ok()) << sink.err().message;
  logger_on(*sink)->info("line one");
  EXPECT_EQ(slurp(log), "earlier\nline one\n");
  EXPECT_EQ(mode_of(log), drover_group_id() ? 0640u : 0600u);
}

TEST_F(paths_test, log_sink_rotates_at_max_bytes_keeping_n_backups) {
  auto sink = make_log_file_sink(root_, 1000, 2);
  ASSERT_TRUE(sink.ok()) << sink.err().message;
  auto lg = logger_on(*sink);
  for (int i = 1; i <= 45; ++i) lg->info(line(i));
  EXPECT_EQ(slurp(root_ + "/drover.log"), lines(41, 45));
  EXPECT_EQ(slurp(root_ + "/drover.1.log"), lines(31, 40));
  EXPECT_EQ(slurp(root_ + "/drover.2.log"), lines(21, 30));
  EXPECT_NE(::access((root_ + "/drover.3.log").c_str(), F_OK), 0);
}

TEST_F(paths_test, log_rotation_never_follows_or_keeps_a_planted_symlink) {
  auto victim = root_ + "/victim";
  spit(victim, "secret");
  auto sink = make_log_file_sink(root_, 200, 2);
  ASSERT_TRUE(sink.ok()) << sink.err().message;
  ASSERT_EQ(::symlink(victim.c_str(), (root_ + "/drover.1.log").c_str()), 0);
  auto lg = logger_on(*sink);
  for (int i = 1; i <= 3; ++i) lg->info(line(i));  // rotates before line 3
  EXPECT_EQ(slurp(root_ + "/drover.log"), lines(3, 3));
  EXPECT_EQ(slurp(root_ + "/drover.1.log"), lines(1, 2));
  EXPECT_TRUE(S_ISREG(stat_of(root_ + "/drover.1.log").st_mode));
  EXPECT_NE(::access((root_ + "/drover.2.log").c_str(), F_OK), 0);  // removed, not moved down
  // drover.log itself swapped for a link while the sink runs: the next rotation replaces it.
  ASSERT_EQ(::unlink((root_ + "/drover.log").c_str()), 0);
  ASSERT_EQ(::symlink(victim.c_str(), (root_ + "/drover.log").c_str()), 0);
  for (int i = 4; i <= 5; ++i) lg->info(line(i));  // line 4 fits the old file, 5 rotates
  EXPECT_EQ(slurp(victim), "secret");
  EXPECT_TRUE(S_ISREG(stat_of(root_ + "/drover.log").st_mode));
  EXPECT_EQ(slurp(root_ + "/drover.log"), lines(5, 5));
  EXPECT_EQ(slurp(root_ + "/drover.2.log"), lines(1, 2));
}

TEST_F(paths_test, log_rotation_without_backups_truncates_by_replacing_not_through_a_link) {
  auto victim = root_ + "/victim";
  spit(victim, "secret");
  auto sink = make_log_file_sink(root_, 200, 0);
  ASSERT_TRUE(sink.ok()) << sink.err().message;
  auto lg = logger_on(*sink);
  for (int i = 1; i <= 2; ++i) lg->info(line(i));
  ASSERT_EQ(::unlink((root_ + "/drover.log").c_str()), 0);
  ASSERT_EQ(::symlink(victim.c_str(), (root_ + "/drover.log").c_str()), 0);
  lg->info(line(3));  // rotates: a sink reopening drover.log with O_TRUNC would empty the victim
  EXPECT_EQ(slurp(victim), "secret");
  EXPECT_TRUE(S_ISREG(stat_of(root_ + "/drover.log").st_mode));
  EXPECT_EQ(slurp(root_ + "/drover.log"), lines(3, 3));
}

}  // namespace
