#pragma once
namespace drover::platform {
/// True when the system has a default route (IPv4 or IPv6).
bool has_default_route();
}  // namespace drover::platform
