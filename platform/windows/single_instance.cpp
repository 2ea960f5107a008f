// Windows: one engine per installed copy. The lock is a named mutex
// (Global\DroverInstance-<install id>): it exists while its holder lives, and
// the kernel closes a crashed holder's handles, so nothing stale remains. The
// holder's pid sits beside it in a small named file mapping, for the message
// of a second run and for holder(), which never touches the mutex: holding it
// open even for a moment would make an engine starting then think it taken.
#include "platform/single_instance.hpp"

#include <windows.h>

#include <cstring>

#include "platform/windows/install_id.hpp"
#include "platform/windows/user_sid.hpp"

namespace drover::platform {

namespace {
void unmap_view(void* v) noexcept { ::UnmapViewOfFile(v); }
}  // namespace

struct single_instance::impl {
  win::unique_handle mutex;
  win::unique_handle mapping;
  win::unique_handle_of<unmap_view> view;  // the holder's pid (a LONG) lives here
  ~impl();
};

namespace {

std::string base_name(const std::string& name) { return name == single_instance::default_name ? install_id() : name; }
std::wstring mutex_name(const char* ns, const std::string& name) {
  return win::to_wide(std::string(ns) + "DroverInstance-" + base_name(name));
}
std::wstring pid_name(const char* ns, const std::string& name) {
  return win::to_wide(std::string(ns) + "DroverInstancePid-" + base_name(name));
}

// Full access for this user, Administrators and SYSTEM; everyone else may
// only see that it exists (SYNCHRONIZE) or read the pid (SECTION_MAP_READ).
// The medium label lets an unelevated `drover status` see an elevated engine.
result<win::security_descriptor> object_sd(const char* others) {
  const auto& me = win::current_user_sid();
  if (me.empty()) return make_error("lock", "cannot take the engine lock: this process's user is unknown");
  return win::security_descriptor::from_sddl("D:(A;;GA;;;SY)(A;;GA;;;BA)(A;;GA;;;" + me + ")(A;;" + others +
                                             ";;;AU)S:(ML;;NW;;;ME)");
}

// The pid another holder wrote, 0 when none can be read.
DWORD read_holder_pid(const std::string& name) {
  for (const char* ns : {"Global\\", "Local\\"}) {
    win::unique_handle m(::OpenFileMappingW(FILE_MAP_READ, FALSE, pid_name(ns, name).c_str()));
    if (!m) continue;
    void* v = ::MapViewOfFile(m.get(), FILE_MAP_READ, 0, 0, sizeof(DWORD));
    if (!v) continue;
    DWORD pid = 0;
    std::memcpy(&pid, v, sizeof pid);
    ::UnmapViewOfFile(v);
    if (pid != 0) return pid;
  }
  return 0;
}

error already_running(const std::string& name) {
  DWORD pid = read_holder_pid(name);
  return make_error("already_running",
                    pid ? "already running (pid " + std::to_string(pid) + ")" : std::string("already running"));
}

// Global\ needs SeCreateGlobalPrivilege for a mapping (an elevated engine has
// it; a development run may not): then the session's own namespace.
void publish_pid(single_instance::impl& i, const std::string& name) {
  auto sd = object_sd("0x4");  // SECTION_MAP_READ
  if (!sd) return;
  SECURITY_ATTRIBUTES sa{sizeof sa, sd->get(), FALSE};
  for (const char* ns : {"Global\\", "Local\\"}) {
    i.mapping.reset(
        ::CreateFileMappingW(INVALID_HANDLE_VALUE, &sa, PAGE_READWRITE, 0, sizeof(DWORD), pid_name(ns, name).c_str()));
    if (i.mapping) break;
  }
  if (!i.mapping) return;  // the lock holds without it; only messages lose the pid
  i.view.reset(::MapViewOfFile(i.mapping.get(), FILE_MAP_WRITE, 0, 0, sizeof(LONG)));
  // Written even into a mapping that existed: a prober may keep a dead
  // holder's open, and this pid is the one that holds the lock now.
  if (i.view)
    ::InterlockedExchange(static_cast<volatile LONG*>(i.view.get()), static_cast<LONG>(::GetCurrentProcessId()));
}

}  // namespace

result<std::unique_ptr<single_instance>> single_instance::acquire(const std::string& name) {
  if (name.empty()) return make_error("lock", "bad lock name: " + name);
  auto sd = object_sd("0x100000");  // SYNCHRONIZE
  if (!sd) return sd.err();
  SECURITY_ATTRIBUTES sa{sizeof sa, sd->get(), FALSE};
  auto i = std::make_unique<impl>();
  DWORD e = 0;
  for (const char* ns : {"Global\\", "Local\\"}) {
    // SYNCHRONIZE only, so another user's existing mutex opens (and says
    // "exists") instead of failing with access denied.
    i->mutex.reset(::CreateMutexExW(&sa, mutex_name(ns, name).c_str(), 0, SYNCHRONIZE));
    e = ::GetLastError();
    if (i->mutex && e == ERROR_ALREADY_EXISTS) return already_running(name);
    if (i->mutex) break;
    if (e != ERROR_ACCESS_DENIED) break;  // refused Global\ (a restricted session): try Local\ .
  }
  if (!i->mutex) return make_error("lock", "cannot take the engine lock: " + win::error_text(e));
  publish_pid(*i, name);
  return std::make_unique<single_instance>(std::move(i));
}

std::string single_instance::holder(const std::string& name) {
  if (name.empty()) return "";
  if (DWORD pid = read_holder_pid(name)) return "pid " + std::to_string(pid);
  return "";
}

single_instance::single_instance(std::unique_ptr<impl> i) : impl_(std::move(i)) {}
single_instance::~single_instance() = default;

// The mutex goes first: a prober then finds the pid mapping without the
// lock and a new engine may take the lock at once; the pid is cleared last,
// and only if it is still ours: that new engine may have written its own.
single_instance::impl::~impl() {
  mutex.reset();
  if (view)
    ::InterlockedCompareExchange(static_cast<volatile LONG*>(view.get()), 0,
                                 static_cast<LONG>(::GetCurrentProcessId()));
}

bool second_run_activates_first() { return true; }

}  // namespace drover::platform
