#include "core/flow_table.hpp"

namespace drover {

flow_table::flow_table(size_t capacity, flow_ttl ttl) : capacity_(capacity), ttl_(ttl) {
  map_.reserve(capacity < 4096 ? capacity : 4096);
}

status flow_table::put(flow_key k, flow_entry e) {
  auto it = map_.find(k);
  if (it != map_.end()) {
    it->second = std::move(e);
    return ok();
  }
  if (map_.size() >= capacity_)
    return make_error("flow_table_full", "flow table full (" + std::to_string(capacity_) + " flows); new flow refused");
  map_.emplace(k, std::move(e));
  return ok();
}

flow_entry* flow_table::find(flow_key k) {
  auto it = map_.find(k);
  return it == map_.end() ? nullptr : &it->second;
}

bool flow_table::touch(flow_key k, flow_clock::time_point now, uint64_t in, uint64_t out) {
  auto* e = find(k);
  if (!e) return false;
  e->last_seen = now;
  e->bytes_in += in;
  e->bytes_out += out;
  return true;
}

bool flow_table::erase(flow_key k) { return map_.erase(k) > 0; }

std::vector<flow_key> flow_table::sweep(flow_clock::time_point now) {
  std::vector<flow_key> gone;
  for (auto it = map_.begin(); it != map_.end();) {
    auto ttl = it->first.proto == flow_proto::tcp ? ttl_.tcp : ttl_.udp;
    if (now - it->second.last_seen >= ttl) {
      gone.push_back(it->first);
      it = map_.erase(it);
    } else {
      ++it;
    }
  }
  return gone;
}

size_t flow_table::count(flow_proto p) const {
  size_t n = 0;
  for (auto& kv : map_) n += kv.first.proto == p;
  return n;
}

}  // namespace drover
