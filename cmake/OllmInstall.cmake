# `cmake --install` layout (GNUInstallDirs):
#   include/ollm/*.hpp, include/ollm/export.h   the C++ API
#   include/ollm.h                              the C ABI
#   lib/libollm.so.0.1.0 (+ .so.0, .so)          or lib/libollm.a with BUILD_SHARED_LIBS=OFF
#   lib/cmake/ollm/ollmConfig.cmake ...          find_package(ollm CONFIG) -> ollm::ollm
#   lib/pkgconfig/ollm.pc                        pkg-config ollm
# Included from the top-level CMakeLists.txt after src/ (needs the ollm target).
include(CMakePackageConfigHelpers)

set(OLLM_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/ollm" CACHE STRING
    "Where ollmConfig.cmake goes, relative to the install prefix")
mark_as_advanced(OLLM_INSTALL_CMAKEDIR)

# A static libollm carries its private dependencies: the CUDA backend is its own static library
# (kernels/cuda), so it is installed and exported next to libollm.a.
set(ollm_install_targets ollm)
if(NOT BUILD_SHARED_LIBS AND OLLM_HAS_CUDA)
  list(APPEND ollm_install_targets ollm_cuda)
endif()

install(TARGETS ${ollm_install_targets} EXPORT ollmTargets
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT Runtime
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT Runtime NAMELINK_COMPONENT Development
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT Development)
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/ollm" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
  COMPONENT Development FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h")
install(FILES "${PROJECT_SOURCE_DIR}/bindings/c/ollm.h" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
  COMPONENT Development)

# CMake package: ollmTargets.cmake (the imported ollm::ollm), ollmConfig.cmake (finds what a static
# libollm needs, then includes the targets), ollmConfigVersion.cmake (same major version).
install(EXPORT ollmTargets NAMESPACE ollm:: FILE ollmTargets.cmake
  DESTINATION "${OLLM_INSTALL_CMAKEDIR}" COMPONENT Development)
# What a static libollm's users must link comes from the target's own link libraries, so a new
# dependency cannot be forgotten here: each one maps to a find_dependency() for ollmConfig.cmake
# and to a pkg-config module (Requires.private) or flags (Libs.private) for ollm.pc.
set(OLLM_PKG_MODULE_PCRE2 libpcre2-8)     # the pkg_check_modules() of cmake/OllmDependencies.cmake
set(OLLM_PKG_MODULE_UTF8PROC libutf8proc)
set(OLLM_CONFIG_FIND_DEPENDENCIES "")   # ollmConfig.cmake lines
set(OLLM_CONFIG_PKG_MODULES "")         # PREFIX;module pairs, imported as PkgConfig::PREFIX
set(ollm_pc_requires "")
set(ollm_pc_libs "")
if(NOT BUILD_SHARED_LIBS)
  get_target_property(ollm_link_libraries ollm LINK_LIBRARIES)
  foreach(lib IN LISTS ollm_link_libraries)
    if(lib MATCHES "^\\$<INSTALL_INTERFACE:(.+)>$")       # a plain library name once installed
      list(APPEND ollm_pc_libs "-l${CMAKE_MATCH_1}")
    elseif(lib MATCHES "^\\$<" OR lib STREQUAL "Threads::Threads")  # build-only; Threads is public
    elseif(lib STREQUAL "fmt::fmt" OR lib STREQUAL "simdjson::simdjson")
      string(REGEX REPLACE "::.*" "" package "${lib}")
      string(APPEND OLLM_CONFIG_FIND_DEPENDENCIES "  find_dependency(${package})\n")
      list(APPEND ollm_pc_requires ${package})
    elseif(lib STREQUAL "DNNL::dnnl")
      string(APPEND OLLM_CONFIG_FIND_DEPENDENCIES "  find_dependency(dnnl)\n")
      list(APPEND ollm_pc_libs -ldnnl)                    # Debian's libdnnl has no .pc
    elseif(lib STREQUAL "OpenSSL::Crypto")
      string(APPEND OLLM_CONFIG_FIND_DEPENDENCIES "  find_dependency(OpenSSL COMPONENTS Crypto)\n")
      list(APPEND ollm_pc_requires libcrypto)
    elseif(lib MATCHES "^PkgConfig::(PCRE2|UTF8PROC)$")
      list(APPEND OLLM_CONFIG_PKG_MODULES "${CMAKE_MATCH_1}" "${OLLM_PKG_MODULE_${CMAKE_MATCH_1}}")
      list(APPEND ollm_pc_requires "${OLLM_PKG_MODULE_${CMAKE_MATCH_1}}")
    elseif(lib STREQUAL "ollm_cuda")                      # libollm_cuda.a, installed above
      string(APPEND OLLM_CONFIG_FIND_DEPENDENCIES "  find_dependency(CUDAToolkit)\n")
      list(APPEND ollm_pc_libs -lollm_cuda "-L${CUDAToolkit_LIBRARY_DIR}" -lcublas -lcudart_static -ldl -lrt)
    else()
      message(FATAL_ERROR "libollm links '${lib}': say in cmake/OllmInstall.cmake how a static "
                          "libollm's users find it (ollmConfig.cmake) and link it (ollm.pc)")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES ollm_pc_requires)
  list(APPEND ollm_pc_libs -pthread -lstdc++ -lm)         # libollm is C++: a C program links it too
endif()
configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/ollmConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/ollmConfig.cmake"
  INSTALL_DESTINATION "${OLLM_INSTALL_CMAKEDIR}"
  NO_SET_AND_CHECK_MACRO)
write_basic_package_version_file("${PROJECT_BINARY_DIR}/ollmConfigVersion.cmake"
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES "${PROJECT_BINARY_DIR}/ollmConfig.cmake" "${PROJECT_BINARY_DIR}/ollmConfigVersion.cmake"
  DESTINATION "${OLLM_INSTALL_CMAKEDIR}" COMPONENT Development)

# pkg-config. A shared libollm hides its dependencies, so ollm.pc names none (pkg-config --cflags
# would otherwise demand fmt.pc & co. for nothing); a static one lists them as private.
set(OLLM_PC_REQUIRES_PRIVATE "")
set(OLLM_PC_LIBS_PRIVATE "")
if(ollm_pc_requires)
  list(JOIN ollm_pc_requires " " ollm_pc_requires)
  set(OLLM_PC_REQUIRES_PRIVATE "Requires.private: ${ollm_pc_requires}")
endif()
if(ollm_pc_libs)
  list(JOIN ollm_pc_libs " " ollm_pc_libs)
  set(OLLM_PC_LIBS_PRIVATE "Libs.private: ${ollm_pc_libs}")
endif()
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
    set(OLLM_PC_${dir} "${CMAKE_INSTALL_${dir}}")
  else()
    set(OLLM_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
# The prefix is written at install time, so `cmake --install --prefix DIR` (Conan, vcpkg, the
# consumer test) gets a correct file; configure_file leaves the @OLLM_PC_PREFIX@ placeholder.
set(OLLM_PC_PREFIX "@OLLM_PC_PREFIX@")
configure_file("${PROJECT_SOURCE_DIR}/cmake/ollm.pc.in" "${PROJECT_BINARY_DIR}/ollm.pc.in" @ONLY)
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(ollm_pc_destination "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
else()
  set(ollm_pc_destination "\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig")
endif()
install(CODE "
  set(OLLM_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  configure_file(\"${PROJECT_BINARY_DIR}/ollm.pc.in\" \"${PROJECT_BINARY_DIR}/pkgconfig/ollm.pc\" @ONLY)
  file(INSTALL DESTINATION \"${ollm_pc_destination}\" TYPE FILE
       FILES \"${PROJECT_BINARY_DIR}/pkgconfig/ollm.pc\")
" COMPONENT Development)
