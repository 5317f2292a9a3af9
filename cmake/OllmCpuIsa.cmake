# Per-ISA kernel compilation: one source, compiled once per instruction-set flag set, each copy
# in its own namespace (ollm::cpu::scalar, ::avx2, ::avx512); kernels/cpu/isa.hpp picks one at
# run time. The build never needs -march=native: the flags below name exactly the extensions a
# variant may use, and the dispatcher only runs a variant the CPU (and OS) supports.
#
#   scalar  baseline x86-64 (SSE2), the portable reference path
#   avx2    AVX2 + FMA + F16C (Haswell / Zen 1 and later)
#   avx512  AVX-512 F/BW/VL/DQ + VNNI (Cascade Lake / Zen 4 and later). AVX512-BF16 is NOT
#           implied: code that wants vdpbf16ps checks cpu_features().avx512_bf16 at run time and
#           lives in a function marked __attribute__((target("avx512bf16"))).
set(OLLM_CPU_ISAS scalar avx2 avx512)
set(OLLM_CPU_ISA_FLAGS_scalar "")
set(OLLM_CPU_ISA_FLAGS_avx2 -mavx2 -mfma -mf16c -mbmi2)
set(OLLM_CPU_ISA_FLAGS_avx512 -mavx2 -mfma -mf16c -mbmi2 -mavx512f -mavx512bw -mavx512vl
    -mavx512dq -mavx512vnni)

# ollm_add_isa_kernels(<name> <source>...): builds OBJECT libraries <name>_<isa> for every ISA
# and appends them to the global property OLLM_KERNEL_OBJECT_LIBS (src/CMakeLists.txt puts
# their objects into libollm). Each copy sees OLLM_ISA_NAMESPACE=<isa> and OLLM_ISA_<ISA>=1.
function(ollm_add_isa_kernels name)
  foreach(isa IN LISTS OLLM_CPU_ISAS)
    set(lib ${name}_${isa})
    add_library(${lib} OBJECT ${ARGN})
    string(TOUPPER ${isa} isa_upper)
    target_compile_definitions(${lib} PRIVATE OLLM_ISA_NAMESPACE=${isa} OLLM_ISA_${isa_upper}=1
                                              OLLM_BUILDING_LIBRARY)
    target_compile_options(${lib} PRIVATE ${OLLM_CPU_ISA_FLAGS_${isa}} -Wall -Wextra)
    target_include_directories(${lib} PRIVATE
      ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/kernels)
    target_link_libraries(${lib} PRIVATE ollm_sanitizers)
    set_target_properties(${lib} PROPERTIES POSITION_INDEPENDENT_CODE ON)
    set_property(GLOBAL APPEND PROPERTY OLLM_KERNEL_OBJECT_LIBS ${lib})
  endforeach()
endfunction()
