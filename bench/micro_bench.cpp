// Micro benchmarks of the per-packet and per-flow pure code. Each has a
// baseline in the same run (memcpy of the same bytes, an unordered_map
// lookup) so results read as ratios, not machine-dependent nanoseconds.
#include <benchmark/benchmark.h>

#include <cstring>
#include <unordered_map>
#include <vector>

#include "core/flow_table.hpp"
#include "core/packet.hpp"
#include "core/socks5.hpp"

using namespace drover;

namespace {

std::vector<uint8_t> tcp_packet(size_t size) {
  std::vector<uint8_t> p(size, 0xab);
  const uint8_t hdr[] = {0x45, 0, 0,  0,   0x12, 0x34, 0x40, 0,    0x40, 6,    0, 0, 10, 0,
                         0,    1, 93, 184, 216,  34,   0x9c, 0x40, 0x01, 0xbb, 0, 0, 0,  1,
                         0,    0, 0,  0,   0x50, 0x10, 0xff, 0xff, 0,    0,    0, 0};
  std::memcpy(p.data(), hdr, sizeof hdr);
  p[2] = static_cast<uint8_t>(size >> 8);
  p[3] = static_cast<uint8_t>(size);
  packet::recompute_checksums(p.data(), p.size());
  return p;
}

void BM_memcpy_baseline(benchmark::State& s) {
  auto p = tcp_packet(static_cast<size_t>(s.range(0)));
  std::vector<uint8_t> out(p.size());
  for (auto _ : s) {
    std::memcpy(out.data(), p.data(), p.size());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  s.SetBytesProcessed(static_cast<int64_t>(s.iterations() * p.size()));
}

// The Windows reflect path per packet: parse, swap + port rewrite with
// incremental checksums.
void BM_parse_reflect(benchmark::State& s) {
  auto p = tcp_packet(static_cast<size_t>(s.range(0)));
  for (auto _ : s) {
    auto v = packet::parse(p.data(), p.size());
    benchmark::DoNotOptimize(v);
    packet::reflect_v4(p.data(), p.size(), 40001);
  }
  s.SetBytesProcessed(static_cast<int64_t>(s.iterations() * p.size()));
}

// GSO packets arrive with partial checksums: a full recompute per packet.
void BM_full_checksum(benchmark::State& s) {
  auto p = tcp_packet(static_cast<size_t>(s.range(0)));
  for (auto _ : s) {
    packet::recompute_checksums(p.data(), p.size());
    benchmark::DoNotOptimize(p.data());
  }
  s.SetBytesProcessed(static_cast<int64_t>(s.iterations() * p.size()));
}

void BM_unordered_map_baseline(benchmark::State& s) {
  std::unordered_map<uint32_t, uint64_t> m;
  for (uint32_t i = 0; i < 10000; ++i) m[(6u << 16) | (20000 + i)] = i;
  uint32_t k = 0;
  for (auto _ : s) {
    benchmark::DoNotOptimize(m.find((6u << 16) | (20000 + (k++ % 10000))));
  }
}

void BM_flow_table_lookup_10k(benchmark::State& s) {
  flow_table t(20000);
  for (uint16_t i = 0; i < 10000; ++i) t.put({flow_proto::tcp, static_cast<uint16_t>(20000 + i)}, flow_entry{});
  uint32_t k = 0;
  for (auto _ : s) {
    benchmark::DoNotOptimize(t.find({flow_proto::tcp, static_cast<uint16_t>(20000 + (k++ % 10000))}));
  }
}

void BM_udp_encap_decap(benchmark::State& s) {
  std::vector<uint8_t> payload(static_cast<size_t>(s.range(0)), 0x5a);
  auto dst = endpoint::v4({93, 184, 216, 34}, 50000);
  for (auto _ : s) {
    auto enc = socks5::udp_encapsulate(dst, payload.data(), payload.size());
    auto dec = socks5::udp_decapsulate(enc.data(), enc.size());
    benchmark::DoNotOptimize(dec);
  }
  s.SetBytesProcessed(static_cast<int64_t>(s.iterations() * payload.size()));
}

void BM_vector_copy_baseline(benchmark::State& s) {
  std::vector<uint8_t> payload(static_cast<size_t>(s.range(0)), 0x5a);
  for (auto _ : s) {
    std::vector<uint8_t> copy(payload);
    benchmark::DoNotOptimize(copy.data());
  }
  s.SetBytesProcessed(static_cast<int64_t>(s.iterations() * payload.size()));
}

}  // namespace

BENCHMARK(BM_memcpy_baseline)->Arg(1500)->Arg(65535);
BENCHMARK(BM_parse_reflect)->Arg(1500)->Arg(65535);
BENCHMARK(BM_full_checksum)->Arg(1500)->Arg(65535);
BENCHMARK(BM_unordered_map_baseline);
BENCHMARK(BM_flow_table_lookup_10k);
BENCHMARK(BM_vector_copy_baseline)->Arg(160)->Arg(1400);
BENCHMARK(BM_udp_encap_decap)->Arg(160)->Arg(1400);
BENCHMARK_MAIN();
