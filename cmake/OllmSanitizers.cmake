# OLLM_SANITIZE=address,undefined instruments every target of this project.
# Added per target through an interface library so nothing is set globally.
add_library(ollm_sanitizers INTERFACE)
if(OLLM_SANITIZE)
  target_compile_options(ollm_sanitizers INTERFACE
    -fsanitize=${OLLM_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(ollm_sanitizers INTERFACE -fsanitize=${OLLM_SANITIZE})
endif()

# Fuzzing builds instrument the library for coverage; the fuzz executables add the libFuzzer runtime.
if(OLLM_BUILD_FUZZERS)
  target_compile_options(ollm_sanitizers INTERFACE -fsanitize=fuzzer-no-link)
endif()
