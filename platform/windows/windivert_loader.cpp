#include "platform/windows/windivert_loader.hpp"

#include <windows.h>

#include <mutex>

#include "platform/windows/sha256.hpp"
#include "platform/windows/win_handle.hpp"

namespace drover::platform::win {
namespace {

constexpr const char* dll_name = "WinDivert.dll";
constexpr const char* sys_name = "WinDivert64.sys";

std::mutex trust_mutex;
std::vector<windivert_file> extra_trust;  // guarded by trust_mutex

error gone(const std::string& message) { return make_error("driver_gone", message); }

// A file opened so that nobody can change it while it is hashed and loaded
// (no FILE_SHARE_WRITE), with its content.
struct held_file {
  unique_handle handle;
  std::string content;
};

result<held_file> hold(const std::string& path) {
  held_file f;
  f.handle.reset(::CreateFileW(to_wide(path).c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING,
                               FILE_ATTRIBUTE_NORMAL, nullptr));
  if (!f.handle) {
    DWORD e = ::GetLastError();
    if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND) return make_error("not_found", path);
    return gone("cannot read " + path + ": " + error_text(e));
  }
  LARGE_INTEGER size{};
  if (!::GetFileSizeEx(f.handle.get(), &size) || size.QuadPart > (16 << 20))
    return gone("cannot read " + path + ": not a WinDivert file");
  f.content.resize(static_cast<size_t>(size.QuadPart));
  DWORD got = 0;
  if (!f.content.empty() &&
      (!::ReadFile(f.handle.get(), f.content.data(), static_cast<DWORD>(f.content.size()), &got, nullptr) ||
       got != f.content.size()))
    return gone("cannot read " + path + ": " + last_error_text());
  return f;
}

bool trusted_hash(const std::string& name, const std::string& sha, const std::vector<windivert_file>& trusted) {
  for (const auto& t : trusted)
    if (t.name == name && t.sha256 == sha) return true;
  return false;
}

template <class Fn>
bool resolve(HMODULE m, const char* symbol, Fn& out) {
  out = reinterpret_cast<Fn>(reinterpret_cast<void*>(::GetProcAddress(m, symbol)));
  return out != nullptr;
}

}  // namespace

windivert_library::~windivert_library() {
  if (module) ::FreeLibrary(static_cast<HMODULE>(module));
}

const std::vector<windivert_file>& official_windivert_files() {
  static const std::vector<windivert_file> files{
      {dll_name, "c1e060ee19444a259b2162f8af0f3fe8c4428a1c6f694dce20de194ac8d7d9a2"},
      {sys_name, "8da085332782708d8767bcace5327a6ec7283c17cfb85e40b03cd2323a90ddc2"},
  };
  return files;
}

std::vector<windivert_file> trusted_windivert_files() {
  std::vector<windivert_file> out = official_windivert_files();
  std::lock_guard<std::mutex> lock(trust_mutex);
  out.insert(out.end(), extra_trust.begin(), extra_trust.end());
  return out;
}

void add_trusted_windivert_files(std::vector<windivert_file> files) {
  std::lock_guard<std::mutex> lock(trust_mutex);
  for (auto& f : files) extra_trust.push_back(std::move(f));
}

result<std::shared_ptr<windivert_library>> load_windivert(const std::string& dir,
                                                          const std::vector<windivert_file>& trusted) {
  const std::string dll_path = dir + "\\" + dll_name, sys_path = dir + "\\" + sys_name;
  auto dll = hold(dll_path);
  if (!dll && dll.err().code == "not_found")
    return gone("WinDivert.dll not found next to drover.exe: reinstall Drover");
  if (!dll) return dll.err();
  auto sys = hold(sys_path);
  if (!sys && sys.err().code == "not_found")
    return gone("WinDivert64.sys not found next to drover.exe: reinstall Drover");
  if (!sys) return sys.err();
  for (const auto* f : {&*dll, &*sys}) {
    const std::string& name = f == &*dll ? dll_name : sys_name;
    auto sha = sha256_hex(f->content.data(), f->content.size());
    if (!sha) return gone("cannot check " + name + ": Windows' SHA-256 (CNG) failed");
    if (!trusted_hash(name, *sha, trusted))
      return gone("WinDivert files changed (antivirus quarantine or a different version): " + name + " has SHA-256 " +
                  *sha + ", not the one Drover ships; reinstall Drover");
  }
  auto lib = std::make_shared<windivert_library>();
  // The full path, its own directory for nothing but itself, System32 for
  // its imports: never a DLL planted elsewhere on the search path.
  HMODULE m = ::LoadLibraryExW(to_wide(dll_path).c_str(), nullptr,
                               LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR | LOAD_LIBRARY_SEARCH_SYSTEM32);
  if (!m) return gone("cannot load " + dll_path + ": " + last_error_text() + "; reinstall Drover");
  lib->module = m;
  namespace sym = windivert::symbol;
  const char* missing = nullptr;
  if (!resolve(m, sym::open, lib->open)) missing = sym::open;
  if (!resolve(m, sym::recv_ex, lib->recv_ex)) missing = sym::recv_ex;
  if (!resolve(m, sym::send_ex, lib->send_ex)) missing = sym::send_ex;
  if (!resolve(m, sym::shutdown, lib->shutdown)) missing = sym::shutdown;
  if (!resolve(m, sym::close, lib->close)) missing = sym::close;
  if (!resolve(m, sym::set_param, lib->set_param)) missing = sym::set_param;
  if (!resolve(m, sym::get_param, lib->get_param)) missing = sym::get_param;
  if (!resolve(m, sym::compile_filter, lib->compile_filter)) missing = sym::compile_filter;
  if (!resolve(m, sym::calc_checksums, lib->calc_checksums)) missing = sym::calc_checksums;
  if (missing)
    return gone(std::string("WinDivert.dll has no function ") + missing +
                ": it is not WinDivert 2.2; reinstall Drover");
  return lib;
}

}  // namespace drover::platform::win
