// Attribution on Windows comes from WinDivert's SOCKET layer (next step);
// until then no flow has a known owner, so none is ever sent direct.
#include "platform/flow_owner.hpp"

namespace drover::platform {
namespace {
class no_owner final : public flow_owner {
 public:
  result<uint32_t> owner(const packet::view&, const std::vector<uint32_t>&,
                         const std::function<bool(const std::string&)>&) override {
    return make_error("owner", "flow attribution not built yet on Windows");
  }
  bool reports_new_processes() const override { return false; }
};
}  // namespace

std::unique_ptr<flow_owner> make_flow_owner() { return std::make_unique<no_owner>(); }

}  // namespace drover::platform
