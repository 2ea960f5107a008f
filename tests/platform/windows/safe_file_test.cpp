// Writing and reading files on Windows in a fresh temporary directory: the
// same error codes and messages as on Linux, links never followed, and the
// log's rotation.
#include "platform/safe_file.hpp"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <windows.h>

#include <filesystem>
#include <memory>
#include <string>

#include "platform/log_sink.hpp"
#include "platform/read_file.hpp"
#include "platform/windows/win_handle.hpp"

namespace fs = std::filesystem;
using namespace drover::platform;

namespace {

using drover::platform::win::to_wide;

class safe_file_test : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("drover-files-" + std::to_string(::GetCurrentProcessId()) + "-" + std::to_string(::GetTickCount64()));
    fs::create_directories(root_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  std::string at(const std::string& rel) const { return (root_ / rel).u8string(); }
  std::string read(const std::string& rel) const {
    auto r = read_small_file(at(rel), 1 << 20);
    return r ? *r : "<" + r.err().code + ">";
  }
  fs::path root_;
};

TEST_F(safe_file_test, WriteTruncatesAndAppendAppends) {
  ASSERT_TRUE(write_file(at("a.txt"), "a long first content"));
  ASSERT_TRUE(write_file(at("a.txt"), "short"));
  EXPECT_EQ(read("a.txt"), "short");
  auto fd = open_for_write(at("a.txt"), write_mode::append);
  ASSERT_TRUE(fd) << fd.err().message;
  ASSERT_TRUE(write_all(fd->get(), "+more", 5, at("a.txt")));
  fd->reset();
  EXPECT_EQ(read("a.txt"), "short+more");
}

TEST_F(safe_file_test, AtomicWriteReplacesAndLeavesNoTemporaryFile) {
  ASSERT_TRUE(write_file_atomic(at("stats.json"), "{\"v\":1}"));
  ASSERT_TRUE(write_file_atomic(at("stats.json"), "{\"v\":2}"));
  EXPECT_EQ(read("stats.json"), "{\"v\":2}");
  int entries = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(root_)) ++entries;
  EXPECT_EQ(entries, 1);
  fs::create_directory(root_ / "dir");
  auto st = write_file_atomic(at("dir"), "x");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.err().message, "cannot write " + at("dir") + ": it is a directory");
}

TEST_F(safe_file_test, ErrorsNameThePathAndTheReason) {
  auto st = write_file(at("missing\\x.txt"), "x");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.err().code, "io_error");
  EXPECT_EQ(st.err().message.rfind("cannot write " + at("missing\\x.txt") + ": ", 0), 0u) << st.err().message;
  EXPECT_NE(st.err().message.find("(3)"), std::string::npos) << st.err().message;  // ERROR_PATH_NOT_FOUND
  fs::create_directory(root_ / "d");
  st = write_file(at("d"), "x");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.err().message, "cannot write " + at("d") + ": it is a directory");
}

TEST_F(safe_file_test, DevicesAreWrittenAsTheyAre) {
  EXPECT_TRUE(write_file("NUL", "into nothing"));
  auto fd = open_for_write("NUL", write_mode::append);
  ASSERT_TRUE(fd) << fd.err().message;
  EXPECT_TRUE(write_all(fd->get(), "x", 1, "NUL"));
}

TEST_F(safe_file_test, SymlinkIsRefusedNotFollowed) {
  ASSERT_TRUE(write_file(at("target.txt"), "keep"));
  auto link = at("link.txt");
  bool made = ::CreateSymbolicLinkW(to_wide(link).c_str(), to_wide(at("target.txt")).c_str(),
                                    SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE);
  DWORD attrs = ::GetFileAttributesW(to_wide(link).c_str());
  if (!made || attrs == INVALID_FILE_ATTRIBUTES || !(attrs & FILE_ATTRIBUTE_REPARSE_POINT))
    GTEST_SKIP() << "cannot make a symlink here (Wine 8's CreateSymbolicLinkW returns TRUE and creates nothing; "
                    "Windows needs Developer Mode or the privilege)";
  for (auto how : {write_mode::append, write_mode::truncate}) {
    auto fd = open_for_write(link, how);
    ASSERT_FALSE(fd);
    EXPECT_EQ(fd.err().message, "refusing to write " + link + ": it is a symlink (remove it)");
  }
  EXPECT_FALSE(write_file_atomic(link, "x"));
  EXPECT_EQ(read("target.txt"), "keep");
}

TEST_F(safe_file_test, ReadSmallFileCodes) {
  auto r = read_small_file(at("none.toml"), 100);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, "not_found");
  EXPECT_EQ(r.err().message, "not found");
  EXPECT_EQ(read_small_file(at("no\\dir\\x.toml"), 100).err().code, "not_found");
  fs::create_directory(root_ / "d");
  r = read_small_file(at("d"), 100);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, "is_directory");
  EXPECT_EQ(r.err().message, "is a directory");
  for (auto* dev : {"NUL", "CON", "\\\\.\\pipe\\drover-no-such-pipe"}) {
    r = read_small_file(dev, 100);
    ASSERT_FALSE(r) << dev;
    EXPECT_EQ(r.err().code, "not_regular") << dev << ": " << r.err().message;
    EXPECT_EQ(r.err().message, "not a regular file");
  }
}

TEST_F(safe_file_test, ReadSmallFileLimit) {
  ASSERT_TRUE(write_file(at("ten"), "0123456789"));
  EXPECT_EQ(read_small_file(at("ten"), 10).value(), "0123456789");
  auto r = read_small_file(at("ten"), 9);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, "too_large");
  EXPECT_EQ(r.err().message, "larger than 9 bytes");
  ASSERT_TRUE(write_file(at("big"), std::string((1 << 20) + 1, 'x')));
  r = read_small_file(at("big"), 1 << 20);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().message, "larger than 1 MB");
  ASSERT_TRUE(write_file(at("empty"), ""));
  EXPECT_EQ(read_small_file(at("empty"), 10).value(), "");
}

TEST_F(safe_file_test, FileHeldExclusivelyIsAnIoError) {
  ASSERT_TRUE(write_file(at("locked"), "x"));
  HANDLE h = ::CreateFileW(to_wide(at("locked")).c_str(), GENERIC_READ, 0, nullptr, OPEN_EXISTING, 0, nullptr);
  ASSERT_NE(h, INVALID_HANDLE_VALUE);
  auto r = read_small_file(at("locked"), 10);
  ::CloseHandle(h);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, "io");
  EXPECT_NE(r.err().message.find("(32)"), std::string::npos) << r.err().message;  // ERROR_SHARING_VIOLATION
  EXPECT_TRUE(std::islower(static_cast<unsigned char>(r.err().message[0]))) << r.err().message;
}

TEST_F(safe_file_test, LogRotatesThroughNumberedBackups) {
  auto sink = make_log_file_sink(root_.u8string(), 100, 2);
  ASSERT_TRUE(sink) << sink.err().message;
  spdlog::logger log("t", *sink);
  log.set_pattern("%v");
  for (int i = 0; i < 20; ++i) log.info("message {:02d} padded to about forty bytes", i);
  EXPECT_TRUE(fs::exists(root_ / "drover.log"));
  EXPECT_TRUE(fs::exists(root_ / "drover.1.log"));
  EXPECT_TRUE(fs::exists(root_ / "drover.2.log"));
  EXPECT_FALSE(fs::exists(root_ / "drover.3.log"));
  for (auto* f : {"drover.log", "drover.1.log", "drover.2.log"}) EXPECT_LE(fs::file_size(root_ / f), 100u) << f;
  EXPECT_NE(read("drover.log").find("message 19"), std::string::npos);
  EXPECT_NE(read("drover.2.log").find("message 1"), std::string::npos);
}

TEST_F(safe_file_test, LogSinkRefusesADirectoryAsItsFile) {
  fs::create_directory(root_ / "drover.log");
  auto sink = make_log_file_sink(root_.u8string(), 0, 0);
  ASSERT_FALSE(sink);
  EXPECT_NE(sink.err().message.find(at("drover.log")), std::string::npos) << sink.err().message;
}

}  // namespace
