#include "app/engine_client.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "platform/control_socket.hpp"

namespace drover::app {

// Answers reach their callbacks through here. The callbacks (which hold
// actor handles) stay in this map, owned by the client: a thread that
// outlives the client finds the gate closed and its callback already gone,
// so nothing of the actor system is touched after it is destroyed.
struct detail::client_gate {
  using sink = engine_client::sink;
  std::mutex mutex;
  bool open = true;
  uint64_t next = 0;
  std::map<uint64_t, sink> pending;
  sink status;

  uint64_t add(sink s) {
    std::lock_guard<std::mutex> lock(mutex);
    pending.emplace(++next, std::move(s));
    return next;
  }
  void deliver(uint64_t id, std::string line) {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = pending.find(id);
    if (!open || it == pending.end()) return;
    auto s = std::move(it->second);
    pending.erase(it);
    s(std::move(line));
  }
  void publish(std::string line) {
    std::lock_guard<std::mutex> lock(mutex);
    if (open && status) status(std::move(line));
  }
  void set_status(sink s) {
    std::lock_guard<std::mutex> lock(mutex);
    status = std::move(s);
  }
  void close() {
    std::lock_guard<std::mutex> lock(mutex);
    open = false;
    pending.clear();
    status = nullptr;
  }
  bool is_open() {
    std::lock_guard<std::mutex> lock(mutex);
    return open;
  }
};

namespace {

using gate = detail::client_gate;

std::string error_line(const std::string& why) { return nlohmann::json{{"error", why}}.dump(); }

// `check` probes the proxy with the configured timeouts; the rest answer at once.
int timeout_for(const std::string& request) { return request == "check" ? 60000 : 5000; }

class socket_client final : public engine_client {
 public:
  explicit socket_client(std::string path) : path_(std::move(path)), gate_(std::make_shared<gate>()) {}
  ~socket_client() override { gate_->close(); }

  void request(const std::string& request, sink done) override {
    auto id = gate_->add(std::move(done));
    // Detached: a request blocked on a stuck engine must not hold up the
    // tray's exit; the gate makes a late answer harmless.
    std::thread([g = gate_, id, path = path_, request] {
      auto r = platform::control_request(path, request, timeout_for(request));
      g->deliver(id, r ? *r : error_line(r.err().message));
    }).detach();
  }

  void watch(sink on_status) override {
    gate_->set_status(std::move(on_status));
    std::thread([g = gate_, path = path_] {
      while (g->is_open()) {
        auto st = platform::control_watch(path, [&g](const std::string& line) {
          g->publish(line);
          return g->is_open();
        });
        if (!g->is_open()) break;
        g->publish(error_line(st ? "the engine went away" : st.err().message));
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
    }).detach();
  }

 private:
  std::string path_;
  std::shared_ptr<gate> gate_;
};

}  // namespace

std::unique_ptr<engine_client> make_socket_client(std::string socket_path) {
  return std::make_unique<socket_client>(std::move(socket_path));
}

in_process_client::in_process_client() : gate_(std::make_shared<detail::client_gate>()) {}
in_process_client::~in_process_client() { gate_->close(); }

void in_process_client::request(const std::string& request, sink done) {
  auto id = gate_->add(std::move(done));
  if (!ctx_.sys) return gate_->deliver(id, error_line("the engine has not started yet"));
  handle_control_request(ctx_, request, [g = gate_, id](std::string line) { g->deliver(id, std::move(line)); });
}

void in_process_client::watch(sink on_status) { gate_->set_status(std::move(on_status)); }

void in_process_client::publish(const std::string& line) { gate_->publish(line); }

std::function<void(const std::string&)> in_process_client::publisher() const {
  return [g = gate_](const std::string& line) { g->publish(line); };
}

}  // namespace drover::app
