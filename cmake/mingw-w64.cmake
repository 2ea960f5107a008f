# CMake toolchain: cross-build for 64-bit Windows with Debian's mingw-w64.
#   cmake -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64.cmake -DDROVER_WINDOWS_CACHE=DIR
# DIR holds what tools/windows/build-caf.sh and build-gtest.sh installed
# (default: $DROVER_WINDOWS_CACHE, else $XDG_CACHE_HOME or ~/.cache, /drover-windows).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

# The -posix variants: the -win32 thread model has no std::thread/std::mutex.
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)

if(NOT DROVER_WINDOWS_CACHE)
  if(DEFINED ENV{DROVER_WINDOWS_CACHE} AND NOT "$ENV{DROVER_WINDOWS_CACHE}" STREQUAL "")
    set(DROVER_WINDOWS_CACHE "$ENV{DROVER_WINDOWS_CACHE}")
  elseif(DEFINED ENV{XDG_CACHE_HOME} AND NOT "$ENV{XDG_CACHE_HOME}" STREQUAL "")
    set(DROVER_WINDOWS_CACHE "$ENV{XDG_CACHE_HOME}/drover-windows")
  else()
    set(DROVER_WINDOWS_CACHE "$ENV{HOME}/.cache/drover-windows")
  endif()
endif()
set(DROVER_WINDOWS_CACHE "${DROVER_WINDOWS_CACHE}" CACHE PATH
  "prefixes built by tools/windows/build-caf.sh and build-gtest.sh")
# try_compile() re-reads this file in a fresh project: hand the cache on.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES DROVER_WINDOWS_CACHE)
set(DROVER_CAF_PREFIX "${DROVER_WINDOWS_CACHE}/caf-0.17.6")
set(DROVER_GTEST_PREFIX "${DROVER_WINDOWS_CACHE}/googletest")

# Libraries and headers only from the mingw sysroot and the cache (never the
# host's glibc ones); programs (protoc, python, ...) from the host.
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32 "${DROVER_CAF_PREFIX}" "${DROVER_GTEST_PREFIX}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Self-contained .exe files: without these Wine (and a user's machine) needs
# libstdc++-6.dll, libgcc_s_seh-1.dll and libwinpthread-1.dll beside them.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")

# ctest (and add_custom_command on a target) runs .exe files through Wine.
# Via bash so that a lost executable bit on the script does not matter.
get_filename_component(_drover_wine_run
  "${CMAKE_CURRENT_LIST_DIR}/../tools/windows/wine-run.sh" ABSOLUTE)
set(CMAKE_CROSSCOMPILING_EMULATOR /bin/bash "${_drover_wine_run}")
