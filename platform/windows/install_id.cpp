#include "platform/windows/install_id.hpp"

#include <windows.h>

#include <bcrypt.h>

#include <cstdint>
#include <vector>

#include "platform/windows/win_handle.hpp"

namespace drover::platform {
namespace {

std::string hex(const unsigned char* p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

bool sha256(const std::string& data, unsigned char (&digest)[32]) {
  BCRYPT_ALG_HANDLE alg = nullptr;
  if (!BCRYPT_SUCCESS(::BCryptOpenAlgorithmProvider(&alg, BCRYPT_SHA256_ALGORITHM, nullptr, 0))) return false;
  BCRYPT_HASH_HANDLE hash = nullptr;
  bool done = BCRYPT_SUCCESS(::BCryptCreateHash(alg, &hash, nullptr, 0, nullptr, 0, 0)) &&
              BCRYPT_SUCCESS(::BCryptHashData(hash, reinterpret_cast<PUCHAR>(const_cast<char*>(data.data())),
                                              static_cast<ULONG>(data.size()), 0)) &&
              BCRYPT_SUCCESS(::BCryptFinishHash(hash, digest, sizeof digest, 0));
  if (hash) ::BCryptDestroyHash(hash);
  ::BCryptCloseAlgorithmProvider(alg, 0);
  return done;
}

// Without CNG (it is in every Windows since Vista) the id must still be
// stable and path-specific: FNV-1a, 64 bits, also 16 hex digits.
std::string fallback_id(const std::string& data) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : data) h = (h ^ c) * 1099511628211ull;
  unsigned char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(h >> (56 - 8 * i));
  return hex(bytes, sizeof bytes);
}

std::wstring module_path() {
  std::wstring buf(MAX_PATH, L'\0');
  for (;;) {
    DWORD n = ::GetModuleFileNameW(nullptr, buf.data(), static_cast<DWORD>(buf.size()));
    if (n == 0) return L"";
    if (n < buf.size()) return buf.substr(0, n);
    buf.resize(buf.size() * 2);  // truncated: paths may exceed MAX_PATH
  }
}

// The one name of this file however it was started (another case, an 8.3
// short name, a subst drive, a PATH entry): two spellings of one copy must
// not make two engines.
std::string exe_path() {
  std::wstring path = module_path();
  win::unique_handle f(::CreateFileW(path.c_str(), FILE_READ_ATTRIBUTES,
                                     FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_EXISTING,
                                     FILE_FLAG_BACKUP_SEMANTICS, nullptr));
  if (f) {
    std::wstring final_path(MAX_PATH, L'\0');
    DWORD n = ::GetFinalPathNameByHandleW(f.get(), final_path.data(), static_cast<DWORD>(final_path.size()), 0);
    if (n >= final_path.size()) {
      final_path.resize(n + 1);
      n = ::GetFinalPathNameByHandleW(f.get(), final_path.data(), static_cast<DWORD>(final_path.size()), 0);
    }
    if (n > 0 && n < final_path.size()) {
      final_path.resize(n);
      if (final_path.rfind(L"\\\\?\\", 0) == 0) final_path.erase(0, 4);
      path = final_path;
    }
  }
  return win::to_utf8(path);
}

// Windows file names are case-insensitive: compare them upper-cased, the
// file system's own way (invariant, not the user's locale).
std::string upper(const std::string& utf8) {
  std::wstring w = win::to_wide(utf8);
  if (w.empty()) return utf8;
  std::wstring out(w.size(), L'\0');
  int n = ::LCMapStringEx(LOCALE_NAME_INVARIANT, LCMAP_UPPERCASE, w.c_str(), static_cast<int>(w.size()), out.data(),
                          static_cast<int>(out.size()), nullptr, nullptr, 0);
  if (n <= 0) return utf8;
  out.resize(static_cast<size_t>(n));
  return win::to_utf8(out);
}

}  // namespace

std::string install_id_for(const std::string& exe_path) {
  std::string path = upper(exe_path);
  unsigned char digest[32];
  if (!sha256(path, digest)) return fallback_id(path);
  return hex(digest, 8);
}

std::string install_id() {
  static const std::string id = install_id_for(exe_path());
  return id;
}

std::string control_pipe_name() { return "\\\\.\\pipe\\drover-" + install_id(); }

}  // namespace drover::platform
