# OLLM_SANITIZE=address,undefined instruments every target of this project.
# Added per target through an interface library so nothing is set globally.
add_library(ollm_sanitizers INTERFACE)
if(OLLM_SANITIZE)
  target_compile_options(ollm_sanitizers INTERFACE
    -fsanitize=${OLLM_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(ollm_sanitizers INTERFACE -fsanitize=${OLLM_SANITIZE})
endif()
