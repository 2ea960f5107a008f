# Dependencies of the mingw-w64 cross build, all from Debian: CAF (caf_core
# only: Drover's network I/O is Asio) built once
# from Debian's source package into DROVER_WINDOWS_CACHE (by
# tools/windows/build-caf.sh), header-only libraries exposed through a
# directory of symlinks (never /usr/include, which would bring glibc's headers).
if(NOT DROVER_WINDOWS_CACHE)
  message(FATAL_ERROR "set DROVER_WINDOWS_CACHE to the cache tools/windows/build-caf.sh filled (./dev windows does)")
endif()
set(caf_prefix ${DROVER_WINDOWS_CACHE}/caf-0.17.6)
find_library(CAF_CORE_LIBRARY NAMES caf_core_static PATHS ${caf_prefix}/lib NO_DEFAULT_PATH)
if(NOT CAF_CORE_LIBRARY)
  message(FATAL_ERROR "no mingw build of CAF in ${caf_prefix}: run tools/windows/build-caf.sh")
endif()
add_library(CAF::core STATIC IMPORTED)
# CAF itself is built with CAF_NO_THREAD_LOCAL (without it ~5 % of mingw runs
# hang in ~actor_system); only its logger reads it, so defining it here too
# just keeps every translation unit's view the same.
set_target_properties(CAF::core PROPERTIES IMPORTED_LOCATION "${CAF_CORE_LIBRARY}"
  INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${caf_prefix}/include"
  INTERFACE_INCLUDE_DIRECTORIES "${caf_prefix}/include"
  INTERFACE_COMPILE_DEFINITIONS "CAF_NO_THREAD_LOCAL"
  INTERFACE_COMPILE_OPTIONS "-Wno-deprecated-declarations"
  INTERFACE_LINK_LIBRARIES "Threads::Threads;ws2_32;iphlpapi;psapi")
add_library(CAF::test INTERFACE IMPORTED)
set_target_properties(CAF::test PROPERTIES INTERFACE_LINK_LIBRARIES CAF::core)

set(header_dir ${CMAKE_BINARY_DIR}/mingw-include)
execute_process(COMMAND env MINGW_INCLUDE_DIR=${header_dir} bash ${CMAKE_SOURCE_DIR}/tools/mingw-includes.sh
  OUTPUT_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "tools/mingw-includes.sh failed")
endif()
add_library(drover_third_party INTERFACE)
target_include_directories(drover_third_party SYSTEM INTERFACE ${header_dir})
# spdlog and fmt header-only (SPDLOG_HEADER_ONLY itself clashes under -Werror);
# Windows 10 APIs; no min/max macros; wide Win32 APIs.
target_compile_definitions(drover_third_party INTERFACE FMT_HEADER_ONLY _WIN32_WINNT=0x0A00 WIN32_LEAN_AND_MEAN
  NOMINMAX UNICODE _UNICODE)
# Asio on Windows: Winsock and AcceptEx.
target_link_libraries(drover_third_party INTERFACE Threads::Threads ws2_32 mswsock)
add_library(spdlog::spdlog ALIAS drover_third_party)
add_library(nlohmann_json::nlohmann_json ALIAS drover_third_party)
# Static linking (drover.exe imports only system DLLs) is the toolchain
# file's (cmake/mingw-w64.cmake).
