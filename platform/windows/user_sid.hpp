#pragma once
/// Who owns what, for the checks that keep other users out of Drover's
/// directories, pipe and lock: SIDs as strings ("S-1-5-21-…"), security
/// descriptors from SDDL. Defined in user_sid.cpp; no OS headers here.
#include <string>

#include "core/result.hpp"
#include "platform/windows/win_handle.hpp"

namespace drover::platform::win {

inline constexpr const char* sid_system = "S-1-5-18";
inline constexpr const char* sid_administrators = "S-1-5-32-544";

/// A binary SID (PSID) as text, "S-1-…"; empty if it cannot be converted.
std::string sid_text(void* sid);
/// The user this process runs as, read once; empty if the token cannot be read.
const std::string& current_user_sid();
/// True for the current user, Administrators and SYSTEM: the owners Drover trusts.
bool trusted_owner(const std::string& sid);
/// The user process `pid` runs as (needs only PROCESS_QUERY_LIMITED_INFORMATION).
result<std::string> process_user_sid(unsigned long pid);
/// The owner of the object behind `handle` (file, directory, pipe; READ_CONTROL).
result<std::string> owner_sid(void* handle);
/// "DOMAIN\name (S-1-…)" for messages; the SID alone when it has no name here.
std::string describe_sid(const std::string& sid);

namespace detail {
void local_free(void* p) noexcept;  ///< LocalFree
}

/// A self-relative security descriptor (PSECURITY_DESCRIPTOR) built from SDDL.
class security_descriptor {
 public:
  static result<security_descriptor> from_sddl(const std::string& sddl);
  void* get() const { return sd_.get(); }

 private:
  unique_handle_of<detail::local_free> sd_;
};

}  // namespace drover::platform::win
