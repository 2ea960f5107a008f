// The pieces of owner lookup that read the live system: this process's own
// descriptor table and the kernel's process events.
#include <fcntl.h>
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

// Runs `body` in a child whose descriptor table is only 0, 1 and 2 (the
// test runner's own extra descriptors would make it sparse); the child's
// exit code is the number of the first failed expectation, 0 if none.
int in_clean_child(int (*body)()) {
  pid_t child = ::fork();
  if (child == 0) {
    for (int fd = 3; fd < 4096; ++fd) ::close(fd);
    ::_exit(body());
  }
  int st = 0;
  ::waitpid(child, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

TEST(FdTableCache, FindsANewSocketWithoutAListing) {
  EXPECT_EQ(in_clean_child([] {
              fd_table_cache cache;
              uint32_t me = static_cast<uint32_t>(::getpid());
              int a = ::socket(AF_INET, SOCK_STREAM, 0);
              if (!cache.holds(me, inode_of(a), true)) return 1;  // first look: a full listing
              // That look used (and freed) a number of its own; occupy it, as
              // in a process other than ours it would not exist.
              if (::dup(0) < 0) return 6;
              int b = ::socket(AF_INET, SOCK_DGRAM, 0);
              if (!cache.holds(me, inode_of(b), true)) return 2;  // past the end of the last listing
              ::close(a);
              int c = ::socket(AF_INET, SOCK_DGRAM, 0);  // takes a's number: a known socket, read again
              if (!cache.holds(me, inode_of(c), true)) return 3;
              if (!cache.holds(me, inode_of(c), false)) return 4;
              // A file's number reused by a socket: the quick look trusts what
              // it read before, so a miss is followed by a full read.
              int f = ::open("/dev/null", O_RDONLY);
              if (f < 0) return 7;
              (void)cache.holds(me, inode_of(c), false);  // learns f's number as a file
              ::close(f);
              int d = ::socket(AF_INET, SOCK_DGRAM, 0);
              if (d != f) return 9;
              if (cache.holds(me, inode_of(d), true)) return 10;
              if (!cache.holds(me, inode_of(d), false)) return 5;
              return 0;
            }),
            0);
}

TEST(FdTableCache, AFarDescriptorOrAReusedNumberNeedsNoListing) {
  EXPECT_EQ(in_clean_child([] {
              fd_table_cache cache;
              uint32_t me = static_cast<uint32_t>(::getpid());
              if (::dup2(0, 251) != 251) return 1;  // as inherited from a shell
              int a = ::socket(AF_INET, SOCK_STREAM, 0);
              if (!cache.holds(me, inode_of(a), true) || cache.listings() != 1) return 2;  // first look
              if (::dup(0) < 0) return 3;  // the number that look used, taken as another process would have it
              int b = ::socket(AF_INET, SOCK_STREAM, 0);
              if (!cache.holds(me, inode_of(b), true)) return 4;  // in the gap below 251
              ::close(a);
              int c = ::socket(AF_INET, SOCK_STREAM, 0);  // a's number again
              if (c != a) return 5;
              if (!cache.holds(me, inode_of(c), true)) return 6;
              if (cache.listings() != 1) return 7;
              return 0;
            }),
            0);
}

TEST(FdTableCache, ASparseTableIsListedInFull) {
  fd_table_cache cache;
  uint32_t me = static_cast<uint32_t>(::getpid());
  int a = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_TRUE(cache.holds(me, inode_of(a), true));
  // A socket far past the end, behind many gaps: still found.
  int far = ::fcntl(a, F_DUPFD, 900);
  ::close(a);
  int b = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_EQ(::dup2(b, far), far);
  ::close(b);
  EXPECT_TRUE(cache.holds(me, inode_of(far), true) || cache.holds(me, inode_of(far), false));
  EXPECT_TRUE(cache.holds(me, inode_of(far), false));
  ::close(far);
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
