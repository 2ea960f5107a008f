// The Windows capture's per-packet work (issue #14 item 4), at 1,500 bytes:
// every outbound packet of every process passes through it. Each benchmark
// walks a ring of 256 packets of distinct flows (one WinDivertRecvEx batch)
// and reports packets per second; the memcpy of the same ring is the
// baseline in the same run. Targets: pass-through >= 1,000,000 pkt/s per
// core, reflected >= 500,000.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "core/divert_rewrite.hpp"

using namespace drover;

namespace {

constexpr size_t ring_size = 256;
constexpr uint16_t listener_port = 34567;
constexpr uint16_t first_port = 50000;

// IPv4 TCP ACK with 1,460 bytes of data, 10.0.0.2:port -> 93.184.216.34:443.
std::vector<uint8_t> tcp_1500(uint16_t sport, uint16_t dport) {
  std::vector<uint8_t> p(1500, 0x5a);
  const uint8_t hdr[] = {0x45, 0, 0x05, 0xdc, 0, 0, 0x40, 0, 64, 6, 0, 0, 10,   0,    0,    2,    93, 184, 216, 34,
                         0,    0, 0,    0,    0, 0, 0,    1, 0,  0, 0, 1, 0x50, 0x10, 0xff, 0xff, 0,  0,   0,   0};
  std::memcpy(p.data(), hdr, sizeof hdr);
  p[20] = static_cast<uint8_t>(sport >> 8);
  p[21] = static_cast<uint8_t>(sport);
  p[22] = static_cast<uint8_t>(dport >> 8);
  p[23] = static_cast<uint8_t>(dport);
  packet::recompute_checksums(p.data(), p.size());
  return p;
}

std::vector<std::vector<uint8_t>> ring_of(bool from_listener) {
  std::vector<std::vector<uint8_t>> r;
  for (size_t i = 0; i < ring_size; ++i) {
    auto client = static_cast<uint16_t>(first_port + i);
    r.push_back(from_listener ? tcp_1500(listener_port, client) : tcp_1500(client, 443));
  }
  return r;
}

// 10,000 decided ports, the ring's among them.
void fill(port_table& t, verdict v) {
  for (uint16_t p = first_port - 5000; p < first_port + 5000; ++p)
    t.set(packet::ip_version::v4, flow_proto::tcp, p, {v, 443});
}

void count_rate(benchmark::State& s, size_t wrong) {
  s.counters["pkt_per_s"] = benchmark::Counter(static_cast<double>(s.iterations()), benchmark::Counter::kIsRate);
  s.SetBytesProcessed(static_cast<int64_t>(s.iterations() * 1500));
  if (wrong != 0) s.SkipWithError("a packet took the wrong route");
}

void BM_divert_memcpy_baseline_1500(benchmark::State& s) {
  auto ring = ring_of(false);
  std::vector<uint8_t> out(1500);
  size_t i = 0;
  for (auto _ : s) {
    std::memcpy(out.data(), ring[i++ % ring_size].data(), 1500);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  count_rate(s, 0);
}

// The loop every capture benchmark shares: a ring of packets of flows all
// decided `v`, each classified, then handled by `step` (false: the packet
// took the wrong route).
template <class Step>
void classify_ring(benchmark::State& s, bool from_listener, verdict v, divert::route want, Step step) {
  auto ring = ring_of(from_listener);
  port_table t;
  fill(t, v);
  size_t i = 0, wrong = 0;
  for (auto _ : s) {
    auto& p = ring[i++ % ring_size];
    auto c = divert::classify(p.data(), p.size(), t, listener_port);
    wrong += c.r != want || !step(p, c);
    benchmark::DoNotOptimize(c);
    benchmark::ClobberMemory();
  }
  count_rate(s, wrong);
}

// A non-target's packet: parse, one port_table read, reinjected as it is.
void BM_divert_pass_through_1500(benchmark::State& s) {
  classify_ring(s, false, verdict::direct, divert::route::reinject, [](auto&, auto&) { return true; });
}

// A redirected flow's packet: classify, swap, listener port, full checksums.
// In place: the reflected packet keeps its source port, so the next lap
// reflects it again (the same work).
void BM_divert_reflect_to_listener_1500(benchmark::State& s) {
  classify_ring(s, false, verdict::redirect_tcp, divert::route::to_listener,
                [](auto& p, auto&) { return divert::reflect_to_listener(p.data(), p.size(), listener_port); });
}

// The listener's reply: classify by the client's port, swap back, original
// port restored, full checksums. Its addresses and listener port are put
// back (a few bytes, inside the timing) so the next lap sees a reply again.
void BM_divert_reflect_from_listener_1500(benchmark::State& s) {
  classify_ring(s, true, verdict::redirect_tcp, divert::route::from_listener, [](auto& p, auto& c) {
    bool ok = divert::reflect_from_listener(p.data(), p.size(), c.orig_port).ok();
    uint8_t a[4];
    std::memcpy(a, p.data() + 12, 4);
    std::memmove(p.data() + 12, p.data() + 16, 4);
    std::memcpy(p.data() + 16, a, 4);
    p[20] = listener_port >> 8;
    p[21] = listener_port & 0xff;
    return ok;
  });
}

}  // namespace

BENCHMARK(BM_divert_memcpy_baseline_1500);
BENCHMARK(BM_divert_pass_through_1500);
BENCHMARK(BM_divert_reflect_to_listener_1500);
BENCHMARK(BM_divert_reflect_from_listener_1500);
