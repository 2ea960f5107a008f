#pragma once
// The exports of the WinDivert.dll test double: C linkage, so the names are
// the undecorated ones GetProcAddress is given (x64 has one calling
// convention), and types checked against the pointer types Drover uses.
#include <type_traits>

#include "third_party/windivert/windivert_api.hpp"

#define DOUBLE_EXPORT __declspec(dllexport)

extern "C" {
DOUBLE_EXPORT void* WinDivertOpen(const char* filter, windivert::layer layer, int16_t priority, uint64_t flags);
DOUBLE_EXPORT int WinDivertRecvEx(void* handle, void* packet, unsigned packet_len, unsigned* recv_len, uint64_t flags,
                                  windivert::address* addr, unsigned* addr_len, _OVERLAPPED* overlapped);
DOUBLE_EXPORT int WinDivertSendEx(void* handle, const void* packet, unsigned packet_len, unsigned* send_len,
                                  uint64_t flags, const windivert::address* addr, unsigned addr_len,
                                  _OVERLAPPED* overlapped);
DOUBLE_EXPORT int WinDivertShutdown(void* handle, windivert::shutdown_how how);
DOUBLE_EXPORT int WinDivertClose(void* handle);
DOUBLE_EXPORT int WinDivertSetParam(void* handle, windivert::param p, uint64_t value);
DOUBLE_EXPORT int WinDivertGetParam(void* handle, windivert::param p, uint64_t* value);
DOUBLE_EXPORT int WinDivertHelperCompileFilter(const char* filter, windivert::layer layer, char* object,
                                               unsigned object_len, const char** error_str, unsigned* error_pos);
DOUBLE_EXPORT int WinDivertHelperCalcChecksums(void* packet, unsigned packet_len, windivert::address* addr,
                                               uint64_t flags);
}

static_assert(std::is_same_v<decltype(&WinDivertOpen), windivert::open_fn>);
static_assert(std::is_same_v<decltype(&WinDivertRecvEx), windivert::recv_ex_fn>);
static_assert(std::is_same_v<decltype(&WinDivertSendEx), windivert::send_ex_fn>);
static_assert(std::is_same_v<decltype(&WinDivertShutdown), windivert::shutdown_fn>);
static_assert(std::is_same_v<decltype(&WinDivertClose), windivert::close_fn>);
static_assert(std::is_same_v<decltype(&WinDivertSetParam), windivert::set_param_fn>);
static_assert(std::is_same_v<decltype(&WinDivertGetParam), windivert::get_param_fn>);
static_assert(std::is_same_v<decltype(&WinDivertHelperCompileFilter), windivert::compile_filter_fn>);
static_assert(std::is_same_v<decltype(&WinDivertHelperCalcChecksums), windivert::calc_checksums_fn>);
