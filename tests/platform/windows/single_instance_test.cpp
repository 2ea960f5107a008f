// The engine lock across processes: the test starts itself again
// (CreateProcessW, one child test selected with --gtest_filter) and the child
// holds the lock until it is killed, as a crashed engine would be.
#include "platform/single_instance.hpp"

#include <gtest/gtest.h>
#include <windows.h>

#include <chrono>
#include <string>

namespace {

using drover::platform::single_instance;
using clock_type = std::chrono::steady_clock;

constexpr const wchar_t* hold_var = L"DROVER_TEST_HOLD_LOCK";    // the lock name the child takes
constexpr const wchar_t* ready_var = L"DROVER_TEST_LOCK_READY";  // the event it sets once it holds it

std::string test_name(const char* what) {
  return "drover-test-" + std::string(what) + "-" + std::to_string(::GetCurrentProcessId());
}

std::wstring env(const wchar_t* name) {
  wchar_t buf[512];
  DWORD n = ::GetEnvironmentVariableW(name, buf, 512);
  return n > 0 && n < 512 ? std::wstring(buf, n) : std::wstring();
}

// Not a test of its own: it runs only in the child the parent starts.
TEST(single_instance_child, HoldsTheLock) {
  auto name = env(hold_var);
  if (name.empty()) GTEST_SKIP() << "runs only as the child of TheLockIsHeldAcrossProcesses";
  auto lock = single_instance::acquire(std::string(name.begin(), name.end()));
  ASSERT_TRUE(lock) << lock.err().message;
  HANDLE ready = ::OpenEventW(EVENT_MODIFY_STATE, FALSE, env(ready_var).c_str());
  ASSERT_NE(ready, nullptr);
  ::SetEvent(ready);
  ::Sleep(INFINITE);  // until the parent kills us
}

struct child_process {
  PROCESS_INFORMATION pi{};
  ~child_process() {
    if (pi.hProcess) {
      ::TerminateProcess(pi.hProcess, 1);
      ::CloseHandle(pi.hProcess);
      ::CloseHandle(pi.hThread);
    }
  }
};

TEST(single_instance, SecondAcquireInTheSameProcessIsRefused) {
  auto name = test_name("self");
  EXPECT_EQ(single_instance::holder(name), "");
  {
    auto lock = single_instance::acquire(name);
    ASSERT_TRUE(lock) << lock.err().message;
    EXPECT_TRUE((*lock)->squatter().empty());
    std::string me = "pid " + std::to_string(::GetCurrentProcessId());
    EXPECT_EQ(single_instance::holder(name), me);
    auto again = single_instance::acquire(name);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.err().code, "already_running");
    EXPECT_EQ(again.err().message, "already running (" + me + ")");
  }
  EXPECT_EQ(single_instance::holder(name), "");
  EXPECT_TRUE(single_instance::acquire(name));
  EXPECT_TRUE(drover::platform::second_run_activates_first());
}

// The default name is this copy's (Global\DroverInstance-<install id>): a
// test binary's id is its own path's, so no real engine is disturbed.
TEST(single_instance, DefaultNameIsThisCopys) {
  auto lock = single_instance::acquire();
  ASSERT_TRUE(lock) << lock.err().message;
  EXPECT_EQ(single_instance::holder(), "pid " + std::to_string(::GetCurrentProcessId()));
  EXPECT_EQ(single_instance::holder(test_name("other")), "");
}

TEST(single_instance, TheLockIsHeldAcrossProcesses) {
  auto name = test_name("child");
  std::wstring wname(name.begin(), name.end());
  std::wstring ready_name = L"Local\\DroverTestReady-" + std::to_wstring(::GetCurrentProcessId());
  HANDLE ready = ::CreateEventW(nullptr, TRUE, FALSE, ready_name.c_str());
  ASSERT_NE(ready, nullptr);
  wchar_t exe[32768];
  ASSERT_GT(::GetModuleFileNameW(nullptr, exe, 32768), 0u);
  std::wstring cmd = L"\"" + std::wstring(exe) + L"\" --gtest_filter=single_instance_child.HoldsTheLock";
  // The child inherits the environment: set for it alone, then cleared.
  ::SetEnvironmentVariableW(hold_var, wname.c_str());
  ::SetEnvironmentVariableW(ready_var, ready_name.c_str());
  STARTUPINFOW si{};
  si.cb = sizeof si;
  child_process child;
  BOOL started = ::CreateProcessW(exe, cmd.data(), nullptr, nullptr, FALSE, 0, nullptr, nullptr, &si, &child.pi);
  ::SetEnvironmentVariableW(hold_var, nullptr);
  ::SetEnvironmentVariableW(ready_var, nullptr);
  ASSERT_TRUE(started) << ::GetLastError();
  HANDLE waits[] = {ready, child.pi.hProcess};
  DWORD w = ::WaitForMultipleObjects(2, waits, FALSE, 30000);
  ::CloseHandle(ready);
  ASSERT_EQ(w, WAIT_OBJECT_0) << "the child did not take the lock (it exited, or took over 30 s)";

  std::string child_pid = "pid " + std::to_string(child.pi.dwProcessId);
  EXPECT_EQ(single_instance::holder(name), child_pid);
  auto taken = single_instance::acquire(name);
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.err().code, "already_running");
  EXPECT_EQ(taken.err().message, "already running (" + child_pid + ")");

  // A crashed holder leaves nothing behind: the kernel closed its handles.
  ASSERT_TRUE(::TerminateProcess(child.pi.hProcess, 9));
  ASSERT_EQ(::WaitForSingleObject(child.pi.hProcess, 10000), WAIT_OBJECT_0);
  auto t0 = clock_type::now();
  auto lock = single_instance::acquire(name);
  ASSERT_TRUE(lock) << lock.err().message;
  EXPECT_LT(clock_type::now() - t0, std::chrono::milliseconds(100));
  EXPECT_EQ(single_instance::holder(name), "pid " + std::to_string(::GetCurrentProcessId()));
}

}  // namespace
