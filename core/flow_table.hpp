#pragma once
/// NAT table: what each redirected flow really wanted to reach. Keyed by
/// (protocol, client port); time is passed in so tests control it.
#include <chrono>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "core/address.hpp"
#include "core/result.hpp"

namespace drover {

enum class flow_proto : uint8_t { tcp = 6, udp = 17 };

struct flow_key {
  flow_proto proto;
  uint16_t client_port;
  bool operator==(const flow_key& o) const { return proto == o.proto && client_port == o.client_port; }
};

struct flow_key_hash {
  size_t operator()(const flow_key& k) const { return static_cast<size_t>(k.proto) << 16 | k.client_port; }
};

using flow_clock = std::chrono::steady_clock;

struct flow_entry {
  endpoint original_dst;
  uint32_t owner_pid = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  flow_clock::time_point last_seen{};
};

/// Idle lifetimes from the seed: TCP mappings 30 min, UDP flows 5 min.
struct flow_ttl {
  std::chrono::seconds tcp{30 * 60};
  std::chrono::seconds udp{5 * 60};
};

class flow_table {
 public:
  explicit flow_table(size_t capacity = 65536, flow_ttl ttl = {});
  /// Inserts or replaces; fails with "flow_table_full" at capacity.
  status put(flow_key k, flow_entry e);
  flow_entry* find(flow_key k);
  /// Marks activity and adds traffic; false if the flow is unknown.
  bool touch(flow_key k, flow_clock::time_point now, uint64_t in = 0, uint64_t out = 0);
  bool erase(flow_key k);
  /// Removes entries idle past their TTL and returns their keys.
  std::vector<flow_key> sweep(flow_clock::time_point now);
  size_t size() const { return map_.size(); }
  size_t count(flow_proto p) const;
  size_t capacity() const { return capacity_; }

 private:
  size_t capacity_;
  flow_ttl ttl_;
  std::unordered_map<flow_key, flow_entry, flow_key_hash> map_;
};

}  // namespace drover
