#pragma once
/// COM on this thread, in a single-threaded apartment, while the object
/// lives: the shell (ShellExecute*) may hand a verb to a shell extension,
/// which needs it. Balanced only if this object was the one that started it.
namespace drover::platform::win {

class com_apartment {
 public:
  com_apartment();
  ~com_apartment();
  com_apartment(const com_apartment&) = delete;
  com_apartment& operator=(const com_apartment&) = delete;

 private:
  long hr_;  ///< CoInitializeEx's HRESULT (a LONG)
};

}  // namespace drover::platform::win
