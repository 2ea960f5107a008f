#include "actors/config_watch.hpp"

#include <chrono>
#include <filesystem>

namespace drover {
namespace {

struct stamp {
  std::filesystem::file_time_type mtime{};
  uintmax_t size = 0;
  bool exists = false;
  bool operator!=(const stamp& o) const { return mtime != o.mtime || size != o.size || exists != o.exists; }
};

stamp read_stamp(const std::string& path) {
  std::error_code ec;
  stamp s;
  s.mtime = std::filesystem::last_write_time(path, ec);
  if (ec) return {};
  s.size = std::filesystem::file_size(path, ec);
  s.exists = !ec;
  return s;
}

}  // namespace

config_watch_actor::behavior_type config_watch(config_watch_actor::pointer self, std::string path,
                                               supervisor_actor parent) {
  auto last = std::make_shared<stamp>(read_stamp(path));
  self->delayed_send(self, std::chrono::seconds(1), watch_atom_v);
  return {
      [=](watch_atom) {
        auto now = read_stamp(path);
        if (now != *last) {
          *last = now;
          // The supervisor re-reads and validates: one parser, one place.
          self->send(parent, reload_atom_v);
        }
        self->delayed_send(self, std::chrono::seconds(1), watch_atom_v);
      },
  };
}

}  // namespace drover
