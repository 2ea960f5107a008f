// Every documented WinDivertOpen error gets a sentence that names its number
// and what to do; an unknown one keeps the system's own text.
#include "core/windivert_errors.hpp"

#include <gtest/gtest.h>

using drover::windivert_open_error;

TEST(windivert_open_error, EveryKnownCodeSaysWhatToDo) {
  struct row {
    uint32_t code;
    const char* must_say;
  } rows[] = {
      {2, "reinstall Drover"},
      {5, "administrator"},
      {87, "bug in Drover"},
      {577, "signature"},
      {654, "stop the other tool and reboot"},
      {1060, "reinstall Drover"},
      {1114, "Memory Integrity"},
      {1275, "antivirus"},
      {1753, "Base Filtering Engine"},
  };
  for (const auto& r : rows) {
    auto text = windivert_open_error(r.code, "system text");
    EXPECT_NE(text.find(r.must_say), std::string::npos) << r.code << ": " << text;
    EXPECT_NE(text.find("(error " + std::to_string(r.code) + ")"), std::string::npos) << text;
    EXPECT_EQ(text.find("system text"), std::string::npos) << "a known code needs no system text: " << text;
  }
}

TEST(windivert_open_error, TheOtherToolIsNamed) {
  auto text = windivert_open_error(654, "");
  EXPECT_NE(text.find("zapret"), std::string::npos) << text;
  EXPECT_NE(text.find("GoodbyeDPI"), std::string::npos) << text;
}

TEST(windivert_open_error, AnUnknownCodeKeepsItsNumberAndText) {
  EXPECT_EQ(windivert_open_error(31, "A device attached to the system is not functioning."),
            "WinDivert could not start packet capture (error 31): A device attached to the system is not functioning.");
  EXPECT_EQ(windivert_open_error(31, ""), "WinDivert could not start packet capture (error 31)");
}
