#pragma once
/// What a user reads when WinDivert cannot open: each error code WinDivertOpen
/// is documented to return (and those measured here) becomes a sentence that
/// says what is wrong and what to do. Pure, so the table is tested on Linux.
#include <cstdint>
#include <string>

namespace drover {

/// The sentence for WinDivertOpen's GetLastError() `code`; `os_text` is the
/// system's own text for it, used for codes this table does not know.
std::string windivert_open_error(uint32_t code, const std::string& os_text);

}  // namespace drover
