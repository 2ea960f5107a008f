// The pieces of owner lookup that read the live system: this process's own
// descriptor table and the kernel's process events.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "platform/linux/fd_table_cache.hpp"
#include "platform/linux/proc_events.hpp"

namespace {

using drover::platform::fd_table_cache;
using drover::platform::proc_events;

uint64_t inode_of(int fd) {
  struct stat st {};
  EXPECT_EQ(::fstat(fd, &st), 0);
  return st.st_ino;
}

TEST(FdTableCache, FindsANewSocketWithoutRereadingKnownDescriptors) {
  fd_table_cache cache;
  uint32_t me = static_cast<uint32_t>(::getpid());
  int a = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(a, 0);
  EXPECT_TRUE(cache.holds(me, inode_of(a), true));
  // The look itself used (and freed) the lowest free number; occupy it so
  // the new socket gets a number the cache has never seen.
  int pad = ::dup(0);
  int b = ::socket(AF_INET, SOCK_DGRAM, 0);
  EXPECT_TRUE(cache.holds(me, inode_of(b), true)) << "a descriptor opened since the last look";
  ::close(a);
  ::close(b);
  ::close(pad);
}

TEST(FdTableCache, AReusedDescriptorNumberIsOnlyFoundByAFullRead) {
  fd_table_cache cache;
  uint32_t me = static_cast<uint32_t>(::getpid());
  int a = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_TRUE(cache.holds(me, inode_of(a), true));
  // Same number, new socket: the cheap pass trusts its stale memory...
  int b = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(::dup2(b, a), a);
  ::close(b);
  uint64_t fresh = inode_of(a);
  EXPECT_FALSE(cache.holds(me, fresh, true));
  // ...which is why a miss is always followed by the full pass.
  EXPECT_TRUE(cache.holds(me, fresh, false));
  EXPECT_TRUE(cache.holds(me, fresh, true)) << "the full pass refreshed the memory";
  ::close(a);
}

TEST(FdTableCache, AGoneProcessHoldsNothing) {
  fd_table_cache cache;
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  EXPECT_FALSE(cache.holds(static_cast<uint32_t>(child), 1, false));
}

TEST(ProcEvents, ReportsAForkedChildAndItsExec) {
  if (::geteuid() != 0) GTEST_SKIP() << "the proc connector needs root";
  proc_events ev;
  ASSERT_TRUE(ev.open());
  ev.drain();
  pid_t child = ::fork();
  if (child == 0) {
    ::execl("/bin/true", "true", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::waitpid(child, nullptr, 0);
  auto b = ev.drain();
  EXPECT_FALSE(b.lost);
  // The fork and then the exec: both name the child.
  EXPECT_GE(std::count(b.pids.begin(), b.pids.end(), static_cast<uint32_t>(child)), 2);
}

}  // namespace
