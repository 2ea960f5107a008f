// libFuzzer target: SOCKS5 replies (method, auth, request reply) and UDP
// headers from a hostile proxy, fed in arbitrary splits, to a handshake
// going step by step or pipelined.
#include <cstdint>

#include "core/socks5.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace drover;
  if (size < 1) return 0;
  socks5::credentials c{"user", "pass"};
  auto cmd = data[0] & 1 ? socks5::command::connect : socks5::command::udp_associate;
  socks5::handshake h(cmd, endpoint::v4({1, 2, 3, 4}, 80), data[0] & 2 ? &c : nullptr,
                      endpoint::v4({9, 9, 9, 9}, 1080));
  h.start((data[0] & 4) != 0);  // step by step or pipelined
  size_t split = size > 2 ? data[1] % size : size;
  auto s1 = h.feed(data, split);
  if (!s1.failed && !s1.done) h.feed(data + split, size - split);
  (void)h.bound().to_string();
  auto d = socks5::udp_decapsulate(data, size);
  if (d.ok() && d->payload_offset + d->payload_len != size) __builtin_trap();
  return 0;
}
