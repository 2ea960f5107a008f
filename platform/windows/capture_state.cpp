#include "platform/windows/capture_state.hpp"

#include <cstring>

namespace drover::platform::win {

void capture_state::set_listeners(uint16_t tcp, uint16_t udp) {
  tcp_.store(tcp, std::memory_order_relaxed);
  udp_.store(udp, std::memory_order_relaxed);
}
uint16_t capture_state::tcp_listener() const { return tcp_.load(std::memory_order_relaxed); }
uint16_t capture_state::udp_listener() const { return udp_.load(std::memory_order_relaxed); }

void capture_state::put_nat(const socket_key& k, const nat_entry& e) {
  std::lock_guard<std::mutex> lock(mutex_);
  nat_[k] = e;
}
std::optional<nat_entry> capture_state::nat(const socket_key& k) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = nat_.find(k);
  if (it == nat_.end()) return std::nullopt;
  return it->second;
}
void capture_state::erase_nat(const socket_key& k) {
  std::lock_guard<std::mutex> lock(mutex_);
  nat_.erase(k);
}

void capture_state::put_owner(const socket_key& k, uint32_t pid) {
  std::lock_guard<std::mutex> lock(mutex_);
  owners_[k] = pid;
}
std::optional<uint32_t> capture_state::owner(const socket_key& k) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = owners_.find(k);
  if (it == owners_.end()) return std::nullopt;
  return it->second;
}
void capture_state::forget(const socket_key& k) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    owners_.erase(k);
    nat_.erase(k);
  }
  ports.clear(k.family, k.proto, k.port);
}

void capture_state::set_injector(std::shared_ptr<injector> i) {
  std::lock_guard<std::mutex> lock(mutex_);
  injector_ = std::move(i);
}
std::shared_ptr<injector> capture_state::current_injector() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return injector_;
}

void capture_state::set_filter(std::string f) {
  std::lock_guard<std::mutex> lock(mutex_);
  filter_ = std::move(f);
  ++filter_generation_;
}
std::pair<std::string, uint64_t> capture_state::filter() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {filter_, filter_generation_};
}

void capture_state::set_diagnostics(std::string planned_filter, std::string library) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!planned_filter.empty()) planned_filter_ = std::move(planned_filter);
  if (!library.empty()) library_ = std::move(library);
}
std::pair<std::string, std::string> capture_state::diagnostics() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {planned_filter_, library_};
}

// Layout: magic (4, big-endian), family (4 or 6), source address (16) and
// port (2, big-endian), destination address (16) and port (2).
namespace {
void put_endpoint(uint8_t* out, const std::array<uint8_t, 16>& ip, uint16_t port) {
  std::memcpy(out, ip.data(), 16);
  out[16] = static_cast<uint8_t>(port >> 8), out[17] = static_cast<uint8_t>(port);
}
endpoint get_endpoint(const uint8_t* in, bool v6) {
  std::array<uint8_t, 16> ip{};
  std::memcpy(ip.data(), in, 16);
  uint16_t port = static_cast<uint16_t>(in[16] << 8 | in[17]);
  return v6 ? endpoint::v6(ip, port) : endpoint::v4({ip[0], ip[1], ip[2], ip[3]}, port);
}
}  // namespace

void write_forward_header(const packet::view& v, uint8_t* out) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<uint8_t>(forward_magic >> (24 - 8 * i));
  out[4] = v.version == packet::ip_version::v6 ? 6 : 4;
  put_endpoint(out + 5, v.src, v.src_port);
  put_endpoint(out + 23, v.dst, v.dst_port);
}

std::optional<forwarded> read_forward_header(const uint8_t* in, size_t len) {
  if (len < forward_header_len) return std::nullopt;
  uint32_t magic = static_cast<uint32_t>(in[0]) << 24 | in[1] << 16 | in[2] << 8 | in[3];
  if (magic != forward_magic || (in[4] != 4 && in[4] != 6)) return std::nullopt;
  return forwarded{get_endpoint(in + 5, in[4] == 6), get_endpoint(in + 23, in[4] == 6)};
}

capture_state& shared_capture() {
  static capture_state state;
  return state;
}

}  // namespace drover::platform::win
