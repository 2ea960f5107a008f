#pragma once
// For the double's own tests: WinDivert.dll loaded as Drover loads it
// (LoadLibraryW from this program's directory, GetProcAddress by the
// documented names), a fresh control directory per test, and records.
#include <gtest/gtest.h>
#include <windows.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/windows/windivert_double/double_control.hpp"

namespace double_test {

namespace wd = windivert;
namespace dc = windivert_double;

struct api {
  wd::open_fn open = nullptr;
  wd::recv_ex_fn recv_ex = nullptr;
  wd::send_ex_fn send_ex = nullptr;
  wd::shutdown_fn shutdown = nullptr;
  wd::close_fn close = nullptr;
  wd::set_param_fn set_param = nullptr;
  wd::get_param_fn get_param = nullptr;
  wd::compile_filter_fn compile_filter = nullptr;
  wd::calc_checksums_fn calc_checksums = nullptr;
};

inline std::wstring own_dir() {
  wchar_t buf[MAX_PATH];
  DWORD n = ::GetModuleFileNameW(nullptr, buf, MAX_PATH);
  std::wstring p(buf, n);
  return p.substr(0, p.find_last_of(L"\\/"));
}

template <class Fn>
void resolve(HMODULE m, const char* name, Fn& out) {
  out = reinterpret_cast<Fn>(reinterpret_cast<void*>(::GetProcAddress(m, name)));
}

/// The DLL beside this program, loaded once; null members if it has not
/// got a function.
inline const api& dll() {
  static api a = [] {
    api x;
    HMODULE m = ::LoadLibraryW((own_dir() + L"\\WinDivert.dll").c_str());
    if (!m) return x;
    namespace s = wd::symbol;
    resolve(m, s::open, x.open);
    resolve(m, s::recv_ex, x.recv_ex);
    resolve(m, s::send_ex, x.send_ex);
    resolve(m, s::shutdown, x.shutdown);
    resolve(m, s::close, x.close);
    resolve(m, s::set_param, x.set_param);
    resolve(m, s::get_param, x.get_param);
    resolve(m, s::compile_filter, x.compile_filter);
    resolve(m, s::calc_checksums, x.calc_checksums);
    return x;
  }();
  return a;
}

inline void remove_tree(const std::wstring& dir) {
  for (const auto& name : dc::list(dir, L"*")) ::DeleteFileW(dc::path(dir, name).c_str());
  WIN32_FIND_DATAW fd;
  HANDLE h = ::FindFirstFileW(dc::path(dir, L"*").c_str(), &fd);
  if (h != INVALID_HANDLE_VALUE) {
    do {
      std::wstring n = fd.cFileName;
      if ((fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) && n != L"." && n != L"..") remove_tree(dc::path(dir, n));
    } while (::FindNextFileW(h, &fd));
    ::FindClose(h);
  }
  ::RemoveDirectoryW(dir.c_str());
}

/// Each test: its own control directory, named by the variable the DLL reads.
class double_fixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(dll().open, nullptr) << "WinDivert.dll (the double) not loaded from "
                                   << std::string(own_dir().begin(), own_dir().end());
    wchar_t tmp[MAX_PATH];
    ::GetTempPathW(MAX_PATH, tmp);
    static int serial = 0;
    dir = std::wstring(tmp) + L"drover-wd-double-" + std::to_wstring(::GetCurrentProcessId()) + L"-" +
          std::to_wstring(++serial);
    remove_tree(dir);
    ASSERT_TRUE(::CreateDirectoryW(dir.c_str(), nullptr));
    ::SetEnvironmentVariableW(dc::dir_variable, dir.c_str());
  }
  void TearDown() override { remove_tree(dir); }

  std::wstring at(const std::wstring& name) const { return dc::path(dir, name); }
  void put(const std::wstring& name, const std::string& content) const {
    ASSERT_TRUE(dc::write_all(at(name), content));
  }
  std::string get(const std::wstring& name) const { return dc::read_all(at(name)).value_or("<missing>"); }

  /// Feeds one record to handles of `layer`, as a test script would.
  void feed(wd::layer layer, const wd::address& a, const std::string& packet) const {
    std::wstring in = at(std::wstring(L"in-") + dc::layer_name(layer));
    ::CreateDirectoryW(in.c_str(), nullptr);
    ASSERT_GT(dc::publish_numbered(in, L"", 6, L".pkt", dc::record(a, packet.data(), packet.size()), 1), 0);
  }

  void* open(const char* filter, wd::layer l = wd::layer_network, int16_t prio = 0, uint64_t flags = 0) const {
    return dll().open(filter, l, prio, flags);
  }

  std::wstring dir;
};

/// An IPv4 or IPv6 UDP packet with `payload` (checksums left zero).
inline std::string udp_packet(bool v6, const std::string& payload, uint16_t sport = 5000, uint16_t dport = 7001) {
  size_t ul = 8 + payload.size(), hl = v6 ? 40 : 20;
  std::string p(hl + ul, '\0');
  auto* b = reinterpret_cast<uint8_t*>(&p[0]);
  if (v6) {
    b[0] = 0x60, b[4] = static_cast<uint8_t>(ul >> 8), b[5] = static_cast<uint8_t>(ul), b[6] = 17, b[7] = 64;
    b[8] = 0xfd, b[9] = 0x77, b[23] = 1, b[24] = 0xfd, b[25] = 0x77, b[39] = 3;  // fd77::1 -> fd77::3
  } else {
    size_t tl = hl + ul;
    b[0] = 0x45, b[2] = static_cast<uint8_t>(tl >> 8), b[3] = static_cast<uint8_t>(tl), b[8] = 64, b[9] = 17;
    b[12] = 198, b[13] = 18, b[14] = 0, b[15] = 1, b[16] = 198, b[17] = 18, b[18] = 0, b[19] = 3;
  }
  uint8_t* u = b + hl;
  u[0] = static_cast<uint8_t>(sport >> 8), u[1] = static_cast<uint8_t>(sport);
  u[2] = static_cast<uint8_t>(dport >> 8), u[3] = static_cast<uint8_t>(dport);
  u[4] = static_cast<uint8_t>(ul >> 8), u[5] = static_cast<uint8_t>(ul);
  if (!payload.empty()) std::memcpy(u + 8, payload.data(), payload.size());
  return p;
}

inline void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace double_test
