// libFuzzer target: the packet parser and the rewrite paths on hostile input.
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace drover::packet;
  auto v = parse(data, size);
  std::vector<uint8_t> copy(data, data + size);
  if (v.ok()) {
    (void)addr_to_string(*v, true);
    if (v->payload_offset > size || v->payload_offset + v->payload_len > size) __builtin_trap();
  }
  (void)recompute_checksums(copy.data(), copy.size());
  (void)reflect_v4(copy.data(), copy.size(), 1234);
  (void)rewrite_v4(copy.data(), copy.size(), {127, 0, 0, 1}, 1, {10, 0, 0, 1}, 2);
  return 0;
}
