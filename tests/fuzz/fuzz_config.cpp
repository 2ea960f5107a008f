// libFuzzer target: the config loader never throws or crashes on any text,
// and whatever it accepts can be written back and read again as valid (the
// file writer must never produce a file the next start refuses).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace drover::config;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto r = parse(text, target_os::linux_os);
  if (r.error) (void)r.error->to_string("fuzz.toml");
  (void)r.cfg.describe();
  (void)to_toml(r.cfg);  // the redacted dump form
  if (!r.error) {
    auto again = parse(to_toml(r.cfg, secrets::include), target_os::linux_os);
    if (again.error) std::abort();
  }
  return 0;
}
