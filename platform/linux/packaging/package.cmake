# Install rules and the Debian package (CPack's DEB generator), included by
# the top-level CMakeLists.txt. `./dev package` runs it; by hand:
#   cmake --build BUILD --target drover && (cd BUILD && cpack -G DEB)
# gives BUILD/drover_<version>-<release>_amd64.deb. The package holds:
#   /usr/bin/drover                          stripped
#   /lib/systemd/system/drover.service
#   /etc/drover/config.toml                  conffile, 0640 (root:drover via postinst)
#   /usr/share/man/man8/drover.8.gz
#   /usr/share/doc/drover/{README.md,copyright,changelog.Debian.gz}
#   /usr/share/lintian/overrides/drover      the two intentional lintian tags
# plus postinst, prerm and postrm (and conffiles, md5sums). Paths outside the prefix are absolute;
# CPack's DEB generator installs through DESTDIR, so nothing lands on the
# build machine itself.
if(DROVER_CORE_ONLY OR NOT TARGET drover)
  return()
endif()

set(_pkg ${CMAKE_SOURCE_DIR}/platform/linux/packaging)
set(_out ${CMAKE_BINARY_DIR}/packaging)
# Bumped for a new package of the same upstream version; the top entry of
# platform/linux/packaging/changelog must name ${PROJECT_VERSION}-${DROVER_DEB_RELEASE}.
set(DROVER_DEB_RELEASE 1)
set(DROVER_DEB_MAINTAINER "The Drover authors <drover@example.org>" CACHE STRING
    "Maintainer field of the Debian package")

# The changelog's top version must be the package's: say so at configure time.
file(STRINGS ${_pkg}/changelog _top LIMIT_COUNT 1)
if(NOT _top MATCHES "^drover \\(${PROJECT_VERSION}-${DROVER_DEB_RELEASE}\\) ")
  message(WARNING "platform/linux/packaging/changelog starts with '${_top}', "
                  "not version ${PROJECT_VERSION}-${DROVER_DEB_RELEASE}: add an entry")
endif()

# The man page carries the version; it and the changelog are shipped
# compressed (gzip -9n: no name, no timestamp, as dh_compress does).
configure_file(${_pkg}/drover.8 ${_out}/drover.8 @ONLY)
find_program(DROVER_GZIP gzip REQUIRED)
add_custom_command(
  OUTPUT ${_out}/drover.8.gz
  COMMAND ${DROVER_GZIP} -9nc ${_out}/drover.8 > ${_out}/drover.8.gz
  DEPENDS ${_out}/drover.8
  VERBATIM)
add_custom_command(
  OUTPUT ${_out}/changelog.Debian.gz
  COMMAND ${DROVER_GZIP} -9nc ${_pkg}/changelog > ${_out}/changelog.Debian.gz
  DEPENDS ${_pkg}/changelog
  VERBATIM)
add_custom_target(drover_package_docs DEPENDS ${_out}/drover.8.gz ${_out}/changelog.Debian.gz)
# Built with the binary, so `--target drover` is enough before cpack.
add_dependencies(drover drover_package_docs)
file(WRITE ${_out}/conffiles "/etc/drover/config.toml\n")

# `cpack` (and `cmake --install`) install what is built, not build everything
# first: the package needs the drover target only, not the tests.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY TRUE)
set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
install(TARGETS drover RUNTIME DESTINATION bin COMPONENT drover)
# A stripped install (cpack strips) also drops .comment and .note, as dh_strip does.
install(CODE "if(CMAKE_INSTALL_DO_STRIP)
  execute_process(COMMAND \"${CMAKE_STRIP}\" --remove-section=.comment --remove-section=.note
                  \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/bin/drover\" COMMAND_ERROR_IS_FATAL ANY)
endif()" COMPONENT drover)
install(FILES ${_pkg}/drover.service DESTINATION /lib/systemd/system COMPONENT drover)
install(FILES ${_pkg}/config.toml DESTINATION /etc/drover COMPONENT drover
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES ${_out}/drover.8.gz DESTINATION share/man/man8 COMPONENT drover)
# The desktop menu's way to start the tray (once; "Start at login" keeps it).
install(FILES ${_pkg}/drover-tray.desktop DESTINATION share/applications COMPONENT drover)
install(FILES ${_pkg}/drover.png DESTINATION share/icons/hicolor/48x48/apps COMPONENT drover)
install(FILES ${_pkg}/lintian-overrides DESTINATION share/lintian/overrides RENAME drover COMPONENT drover)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${_pkg}/copyright ${_out}/changelog.Debian.gz
        DESTINATION share/doc/drover COMPONENT drover)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME drover)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES TRUE)
set(CPACK_PACKAGE_CONTACT "${DROVER_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${DROVER_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_RELEASE ${DROVER_DEB_RELEASE})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE amd64)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Shared libraries by dpkg-shlibdeps; the programs it runs (iptables-restore,
# ip) and the group tools of postinst by hand.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "iptables, iproute2, adduser")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "route chosen applications through a SOCKS5 proxy")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Drover carries the traffic of chosen programs (Discord by default), found by
the name of their executable, through an upstream SOCKS5 proxy: their TCP
connections and their UDP flows (voice), transparently. The programs are not
modified or configured; everything else on the machine goes direct.
.
A target is never sent direct while the engine runs: while the proxy cannot
be reached its new connections are refused. The engine heals itself (proxy
down, capture lost, sleep and resume, config edits) and says what is wrong
in `drover status`.
.
This package runs the engine as a systemd service (drover.service, not
started on installation); members of the group drover may query and stop it.")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${_out}/conffiles ${_pkg}/postinst ${_pkg}/prerm ${_pkg}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_SOURCE_GENERATOR "")
include(CPack)
