# cmake -DVERSION_FILE=.../ollmConfigVersion.cmake -DPACKAGE_FIND_VERSION=X.Y -DPACKAGE_FIND_VERSION_MAJOR=X
#       -DCMAKE_SIZEOF_VOID_P=8 -P check_version_file.cmake
# Prints what find_package(ollm X.Y) would decide: compatible=TRUE or compatible=FALSE.
include("${VERSION_FILE}")
if(PACKAGE_VERSION_COMPATIBLE AND NOT PACKAGE_VERSION_UNSUITABLE)
  message("compatible=TRUE (ollm ${PACKAGE_VERSION}, asked ${PACKAGE_FIND_VERSION})")
else()
  message("compatible=FALSE (ollm ${PACKAGE_VERSION}, asked ${PACKAGE_FIND_VERSION})")
endif()
