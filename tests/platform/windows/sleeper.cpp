// A process to be found by name: the tests copy this program under a target's
// name (Discord.exe, ...) and start it. Sleeps argv[1] ms (default 30 s) so
// that a test which dies before killing it leaves nothing behind for long.
#include <chrono>
#include <cstdlib>
#include <thread>

int main(int argc, char** argv) {
  long ms = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 30000;
  std::this_thread::sleep_for(std::chrono::milliseconds(ms > 0 ? ms : 0));
  return 0;
}
