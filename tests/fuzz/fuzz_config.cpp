// libFuzzer target: the config loader never throws or crashes on any text.
#include <cstdint>
#include <string>

#include "core/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace drover::config;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto r = parse(text, target_os::linux_os);
  if (r.error) (void)r.error->to_string("fuzz.toml");
  (void)r.cfg.describe();
  return 0;
}
