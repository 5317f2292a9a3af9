# System dependencies (Debian packages); nothing is vendored or downloaded.
find_package(fmt REQUIRED)
find_package(simdjson REQUIRED)      # JSON: safetensors headers, config.json, tokenizer.json
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)  # SHA-256 of model files (checksum manifests)
# Tokenizer: PCRE2 (pre-tokenizer regexes, JIT) and utf8proc (normalization, categories).
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
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
