# drover-setup.exe, the Windows installer: makensis (Debian's nsis) runs
# platform/windows/installer/drover.nsi on the built drover.exe and
# drover.com, and bundles WinDivert only when third_party/windivert/x64/
# holds the official files (their SHA-256 as third_party/windivert/README.md
# pins them). Included from the top CMakeLists.txt; a Windows build only.
#   cmake --build build-windows --target installer  ->  build-windows/drover-setup.exe
# The same file runs at build time in script mode (cmake -P), so that the
# WinDivert files are checked again right before they are packed.

set(_drover_windivert_names WinDivert.dll WinDivert64.sys)

# WINDIVERT_DIR_OUT: the directory to bundle, or "" (none there). Files that
# are there but are not the pinned ones stop the build: shipping them would
# give every user the "WinDivert files changed" failure, or worse.
function(drover_check_windivert source_dir out_var)
  set(dir "${source_dir}/third_party/windivert/x64")
  set(readme "${source_dir}/third_party/windivert/README.md")
  set(present "")
  set(missing "")
  foreach(name IN LISTS _drover_windivert_names)
    if(EXISTS "${dir}/${name}")
      list(APPEND present ${name})
    else()
      list(APPEND missing ${name})
    endif()
  endforeach()
  if(NOT present)
    message(STATUS "installer built without WinDivert (place the official files in third_party/windivert/x64/)")
    set(${out_var} "" PARENT_SCOPE)
    return()
  endif()
  if(missing)
    message(FATAL_ERROR "third_party/windivert/x64/ has ${present} but not ${missing}: "
      "place both official WinDivert-2.2.2-A x64 files, or neither")
  endif()
  foreach(name IN LISTS _drover_windivert_names)
    # The README's table row: | `x64/NAME` | size | `sha256` |
    file(STRINGS "${readme}" row REGEX "`x64/${name}`.*`[0-9a-f]+`")
    if(NOT row MATCHES "`([0-9a-f]+)` *\\| *$")
      message(FATAL_ERROR "no SHA-256 for x64/${name} in ${readme}")
    endif()
    set(want "${CMAKE_MATCH_1}")
    string(LENGTH "${want}" len)
    if(NOT len EQUAL 64)
      message(FATAL_ERROR "the SHA-256 for x64/${name} in ${readme} is not 64 hex digits: ${want}")
    endif()
    file(SHA256 "${dir}/${name}" got)
    if(NOT got STREQUAL want)
      message(FATAL_ERROR "${dir}/${name} is not the official WinDivert-2.2.2-A file: "
        "its SHA-256 is ${got}, the pinned one (third_party/windivert/README.md) is ${want}. "
        "Replace it with the file from WinDivert-2.2.2-A.zip, or remove both files to build without WinDivert.")
    endif()
  endforeach()
  set(${out_var} "${dir}" PARENT_SCOPE)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE)
  # Build time: -DMAKENSIS -DVERSION -DDROVER_EXE -DDROVER_COM -DSOURCE_DIR
  # -DSTAGE -DOUT [-DSTRIP].
  drover_check_windivert("${SOURCE_DIR}" windivert_dir)
  # The built executables carry their DWARF debug info (~100 MB each), which
  # no Windows tool reads: the installer gets copies without it, the build
  # tree keeps the originals (for symbolising a user's crash report).
  file(MAKE_DIRECTORY "${STAGE}")
  foreach(pair "${DROVER_EXE};drover.exe" "${DROVER_COM};drover.com")
    list(GET pair 0 from)
    list(GET pair 1 to)
    if(STRIP)
      execute_process(COMMAND "${STRIP}" --strip-debug -o "${STAGE}/${to}" "${from}" RESULT_VARIABLE rc)
      if(NOT rc EQUAL 0)
        message(FATAL_ERROR "${STRIP} --strip-debug ${from} failed (${rc})")
      endif()
    else()
      configure_file("${from}" "${STAGE}/${to}" COPYONLY)
    endif()
  endforeach()
  set(args -V2 "-DVERSION=${VERSION}" "-DDROVER_EXE=${STAGE}/drover.exe" "-DDROVER_COM=${STAGE}/drover.com"
    "-DSOURCE_DIR=${SOURCE_DIR}" "-DOUT=${OUT}.part")
  if(windivert_dir)
    list(APPEND args "-DWINDIVERT_DIR=${windivert_dir}")
  endif()
  # Into a temporary name: a failed run must not leave a drover-setup.exe
  # that looks up to date.
  file(REMOVE "${OUT}.part")
  execute_process(COMMAND "${MAKENSIS}" ${args} "${SOURCE_DIR}/platform/windows/installer/drover.nsi"
    RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    file(REMOVE "${OUT}.part")
    message(FATAL_ERROR "makensis failed (${rc})")
  endif()
  file(RENAME "${OUT}.part" "${OUT}")
  return()
endif()

if(NOT WIN32 OR DROVER_CORE_ONLY)
  return()
endif()

# In the default build, so that `./dev windows` makes it and its test finds
# it; off for a quicker edit-build loop (makensis packs ~20 MB with LZMA).
option(DROVER_INSTALLER "build drover-setup.exe with every Windows build" ON)
find_program(DROVER_MAKENSIS makensis)
if(NOT DROVER_MAKENSIS)
  message(STATUS "makensis not found (apt-get install nsis): no drover-setup.exe")
  add_custom_target(installer
    COMMAND ${CMAKE_COMMAND} -E echo "makensis not found: apt-get install nsis, then reconfigure"
    COMMAND ${CMAKE_COMMAND} -E false)
  return()
endif()

# Checked now, to say at configure time what the installer will carry (and
# to refuse wrong files early); again when it is built. The glob makes the
# build reconfigure when files appear in or vanish from x64/.
drover_check_windivert("${CMAKE_SOURCE_DIR}" _drover_windivert_dir)
file(GLOB _drover_windivert_present CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/third_party/windivert/x64/*")

set(_drover_setup "${CMAKE_BINARY_DIR}/drover-setup.exe")
if(DROVER_INSTALLER)
  set(_drover_installer_all ALL)
else()
  set(_drover_installer_all "")
endif()
add_custom_command(OUTPUT "${_drover_setup}"
  COMMAND ${CMAKE_COMMAND}
    "-DMAKENSIS=${DROVER_MAKENSIS}"
    "-DSTRIP=${CMAKE_STRIP}"
    "-DVERSION=${drover_VERSION}"
    "-DDROVER_EXE=$<TARGET_FILE:drover>"
    "-DDROVER_COM=$<TARGET_FILE:drover_console>"
    "-DSOURCE_DIR=${CMAKE_SOURCE_DIR}"
    "-DSTAGE=${CMAKE_BINARY_DIR}/installer"
    "-DOUT=${_drover_setup}"
    -P "${CMAKE_CURRENT_LIST_FILE}"
  DEPENDS drover drover_console
    "${CMAKE_SOURCE_DIR}/platform/windows/installer/drover.nsi"
    "${CMAKE_CURRENT_LIST_FILE}"
    "${CMAKE_SOURCE_DIR}/LICENSE" "${CMAKE_SOURCE_DIR}/README.md"
    "${CMAKE_SOURCE_DIR}/third_party/windivert/README.md"
    ${_drover_windivert_present}
  COMMENT "makensis: drover-setup.exe"
  VERBATIM)
add_custom_target(installer ${_drover_installer_all} DEPENDS "${_drover_setup}")
