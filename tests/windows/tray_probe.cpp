// Drives the Windows tray (platform/windows/tray.cpp) for tests/windows/tray.sh:
// opens it on the main thread, runs the real main loop there, and reads one
// JSON command per line from stdin on another thread:
//   {"icon":"green","tooltip":"Drover: Active","menu":[{"id":3,"label":"Stop"},...]}  show()
//     (item keys: id, label, enabled, checkable, checked, separator_before)
//   {"notify":["title","text"]}    notify()
//   {"cmd":"drop_icon"}            NIM_DELETE of our icon, as an explorer crash loses it
//   {"cmd":"taskbar_created"}      broadcast TaskbarCreated, as a restarted explorer does
//   {"cmd":"open","path":"C:\\x"}  open_with_desktop, as Open config / Open log do
//   {"cmd":"quit"} or end of input ends the program.
// `drover_tray_probe.exe close` instead posts WM_CLOSE to every main-loop
// window (platform/windows/main_loop.cpp) of other processes, as taskkill
// does without the menu's own window, prints "closed <n>" and exits.
// Prints (flushed, one per line): "rgb <colour> <rrggbb>" for the four
// colours, then "ready" (or "error <code> <message>", exit 1), then
// "menu 1" / "menu 0" and "clicked <id>" as the tray reports them, "open ok"
// or "open error <code> <message>" and then "caller apartment none" (or
// "entered": the open left its calling thread in COM).
#include <windows.h>
// (after windows.h)
#include <objbase.h>
#include <shellapi.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "core/tray_model.hpp"
#include "platform/desktop.hpp"
#include "platform/main_loop.hpp"
#include "platform/tray.hpp"
#include "platform/windows/tray_gdi.hpp"
#include "platform/windows/window_class.hpp"

namespace {

using namespace drover;

std::mutex out_mutex;
void say(const std::string& line) {
  std::lock_guard<std::mutex> lock(out_mutex);
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

constexpr tray::colour colours[] = {tray::colour::grey, tray::colour::green, tray::colour::yellow, tray::colour::red};

tray::colour parse_colour(const std::string& name) {
  for (auto c : colours)
    if (name == tray::colour_name(c)) return c;
  throw std::runtime_error("unknown colour " + name);
}

tray::view parse_view(const nlohmann::json& j) {
  tray::view v;
  v.icon = parse_colour(j.at("icon").get<std::string>());
  v.tooltip = j.value("tooltip", std::string());
  for (const auto& m : j.value("menu", nlohmann::json::array())) {
    tray::item it;
    it.id = static_cast<tray::item_id>(m.at("id").get<int>());
    it.label = m.at("label").get<std::string>();
    it.enabled = m.value("enabled", true);
    it.checkable = m.value("checkable", false);
    it.checked = m.value("checked", false);
    it.separator_before = m.value("separator_before", false);
    v.menu.push_back(it);
  }
  return v;
}

// This process's tray window (tray.cpp's class): the shell knows our icon
// by it and the icon's id.
HWND tray_window() {
  HWND w = nullptr;
  while ((w = FindWindowExW(nullptr, w, platform::win::tray_window_class, nullptr)) != nullptr) {
    DWORD pid = 0;
    GetWindowThreadProcessId(w, &pid);
    if (pid == GetCurrentProcessId()) return w;
  }
  return nullptr;
}

void run_command(const nlohmann::json& j) {
  auto cmd = j.at("cmd").get<std::string>();
  if (cmd == "open") {
    auto st = platform::open_with_desktop(j.at("path").get<std::string>());
    say(st ? std::string("open ok") : "open error " + st.err().code + " " + st.err().message);
    // The open must leave its caller (an actor thread) outside any COM
    // apartment: S_OK means this thread had none.
    HRESULT hr = CoInitializeEx(nullptr, COINIT_MULTITHREADED);
    say(hr == S_OK ? "caller apartment none" : "caller apartment entered");
    if (SUCCEEDED(hr)) CoUninitialize();
  } else if (cmd == "drop_icon") {
    NOTIFYICONDATAW d{};
    d.cbSize = sizeof d;
    d.hWnd = tray_window();
    d.uID = platform::win::tray_icon_uid;
    say(std::string("dropped ") + (d.hWnd && Shell_NotifyIconW(NIM_DELETE, &d) ? "1" : "0"));
  } else if (cmd == "taskbar_created") {
    PostMessageW(HWND_BROADCAST, RegisterWindowMessageW(L"TaskbarCreated"), 0, 0);
    say("broadcast");
  } else {
    say("error unknown command " + cmd);
  }
}

// Returns at "quit" or the end of input, having asked the loop to stop.
void read_input(platform::tray_icon* icon) {
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    try {
      auto j = nlohmann::json::parse(line);
      if (j.contains("cmd") && j["cmd"] == "quit") break;
      if (j.contains("cmd")) {
        run_command(j);
      } else if (j.contains("notify")) {
        icon->notify(j["notify"].at(0).get<std::string>(), j["notify"].at(1).get<std::string>());
      } else {
        icon->show(parse_view(j));
      }
    } catch (const std::exception& e) {
      say(std::string("error bad input: ") + e.what());
    }
  }
  platform::post_main_loop(platform::os_request::stop);
}

int close_main_windows() {
  int n = 0;
  HWND w = nullptr;
  while ((w = FindWindowExW(nullptr, w, platform::win::main_window_class, nullptr)) != nullptr) {
    DWORD pid = 0;
    GetWindowThreadProcessId(w, &pid);
    if (pid != GetCurrentProcessId() && PostMessageW(w, WM_CLOSE, 0, 0)) ++n;
  }
  say("closed " + std::to_string(n));
  return n > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "close") return close_main_windows();
  platform::prepare_main_thread();
  for (auto c : colours) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "%06x", static_cast<unsigned>(tray::colour_rgb(c)));
    say(std::string("rgb ") + tray::colour_name(c) + " " + hex);
  }
  platform::tray_callbacks cb;
  cb.clicked = [](tray::item_id id) { say("clicked " + std::to_string(static_cast<int>(id))); };
  cb.menu_open = [](bool open) { say(open ? "menu 1" : "menu 0"); };
  auto icon = platform::open_tray(std::move(cb));
  if (!icon) {
    say("error " + icon.err().code + " " + icon.err().message);
    return 1;
  }
  say("ready");
  std::atomic<bool> input_done{false};
  std::thread input([&] {
    read_input(icon->get());
    input_done = true;
  });
  platform::run_main_loop([](platform::os_request r) { return r != platform::os_request::stop; });
  if (!input_done) {
    // Stopped from outside (console, WM_CLOSE) while the reader waits in
    // getline: it may still call show(), so the tray must outlive it.
    say("bye");
    ExitProcess(0);
  }
  input.join();
  icon->reset();  // NIM_DELETE (blocks ~2 s under Wine without a window manager)
  say("bye");
  return 0;
}
