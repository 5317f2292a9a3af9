# System dependencies (Debian packages); nothing is vendored or downloaded.
find_package(fmt REQUIRED)
find_package(simdjson REQUIRED)      # JSON: safetensors headers, config.json, tokenizer.json
find_package(Threads REQUIRED)
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
if(OLLM_ONEDNN)
  find_package(dnnl REQUIRED)
endif()
if(OLLM_BUILD_TESTS)
  find_package(doctest REQUIRED)
endif()
if(OLLM_BUILD_EXAMPLES)
  find_package(CLI11 REQUIRED)
endif()
