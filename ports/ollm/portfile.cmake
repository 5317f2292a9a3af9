# vcpkg port for ollm, kept in the ollm repository and used as an overlay port:
#   vcpkg install ollm --overlay-ports=<ollm checkout>/ports
#   vcpkg install "ollm[cuda]" --overlay-ports=<ollm checkout>/ports
# Source: a port that lives inside the project it builds takes that checkout as its source
# (SOURCE_PATH = two levels up from this file), the usual way for in-tree overlay ports; another
# checkout can be named with the OLLM_SOURCE_DIR environment variable (list it in the triplet's
# VCPKG_ENV_PASSTHROUGH, vcpkg clears the environment otherwise). vcpkg hashes only the port
# directory, so rebuild after source changes with `vcpkg remove ollm` or `--editable`.
# A registry copy of this port would instead fetch a release:
#   vcpkg_from_github(OUT_SOURCE_PATH SOURCE_PATH REPO <owner>/ollm REF "v${VERSION}" SHA512 <hash>)
if(DEFINED ENV{OLLM_SOURCE_DIR})
  set(SOURCE_PATH "$ENV{OLLM_SOURCE_DIR}")
else()
  get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
endif()
if(NOT EXISTS "${SOURCE_PATH}/cmake/OllmInstall.cmake")
  message(FATAL_ERROR "ollm sources not found at ${SOURCE_PATH} (set OLLM_SOURCE_DIR)")
endif()

# Features map one-to-one onto the CMake options, both ways: FEATURES gives -D<option>=ON when
# the feature is selected and -D<option>=OFF when it is not (so OLLM_CUDA is never left at its
# AUTO default, and OLLM_ONEDNN=OFF when the default feature is turned off: ollm[core]).
vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS
  FEATURES
    cuda    OLLM_CUDA
    onednn  OLLM_ONEDNN
)

# libpcre2-8 and libutf8proc are found through pkg-config.
vcpkg_find_acquire_program(PKGCONFIG)

# BUILD_SHARED_LIBS follows the triplet's VCPKG_LIBRARY_LINKAGE (vcpkg_cmake_configure sets it).
vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    ${FEATURE_OPTIONS}
    -DOLLM_BUILD_TESTS=OFF
    -DOLLM_BUILD_EXAMPLES=OFF
    -DOLLM_BUILD_FUZZERS=OFF
    "-DPKG_CONFIG_EXECUTABLE=${PKGCONFIG}"
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(CONFIG_PATH lib/cmake/ollm)
vcpkg_fixup_pkgconfig()

file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug/include" "${CURRENT_PACKAGES_DIR}/debug/share")

if(EXISTS "${SOURCE_PATH}/LICENSE")
  vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
else()
  # vcpkg requires share/ollm/copyright; the source tree carries no LICENSE file yet.
  file(WRITE "${CURRENT_PACKAGES_DIR}/share/${PORT}/copyright" "ollm ${VERSION}: no LICENSE file in the source tree.\n")
endif()
