# OLLM_CUDA=AUTO builds the CUDA backend when a CUDA compiler and cuBLAS are found.
# Nothing here needs a GPU: configuring and building work on machines without one.
set(OLLM_HAS_CUDA OFF)
if(NOT OLLM_CUDA STREQUAL "OFF")
  if(NOT DEFINED CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    # Default: Ampere (sm_80) and Hopper (sm_90, H100/H200). Override with
    # -DCMAKE_CUDA_ARCHITECTURES=... ; "native" would need a GPU at configure time.
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES "80;90")
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(OLLM_HAS_CUDA ON)
  elseif(OLLM_CUDA STREQUAL "ON")
    message(FATAL_ERROR "OLLM_CUDA=ON but no CUDA compiler was found (set CMAKE_CUDA_COMPILER)")
  endif()
endif()
message(STATUS "ollm: CUDA backend ${OLLM_HAS_CUDA}, oneDNN ${OLLM_ONEDNN}")
