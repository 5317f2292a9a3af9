// The C ABI's error contract: status codes, thread-local messages, out-parameters untouched on failure.
#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <thread>

#include "ollm.h"

TEST_CASE("C ABI reports failures without touching out-parameters") {
  ollm_model_info* sentinel = reinterpret_cast<ollm_model_info*>(0x1);
  ollm_model_info* info = sentinel;
  CHECK(ollm_model_info_open("/nonexistent/model.gguf", &info) == OLLM_ERR_IO);
  CHECK(info == sentinel);
  CHECK(std::string(ollm_last_error()) == "[model] '/nonexistent/model.gguf' does not exist");
  CHECK(ollm_model_info_open(nullptr, &info) == OLLM_ERR_INVALID_ARGUMENT);
  CHECK(info == sentinel);
  ollm_model_info_destroy(nullptr);  // accepted
}

TEST_CASE("C ABI errors are per thread") {
  ollm_model_info* info = nullptr;
  CHECK(ollm_model_info_open("/nonexistent/a.gguf", &info) == OLLM_ERR_IO);
  std::string other;
  std::thread([&] { other = ollm_last_error(); }).join();
  CHECK(other.empty());
  CHECK(std::string(ollm_last_error()).find("a.gguf") != std::string::npos);
}

TEST_CASE("C ABI opens a GGUF file") {
  const std::string path = std::string(OLLM_BUILD_DIR) + "/c_api_test.gguf";
  {
    // Smallest useful GGUF: architecture plus the three required hyper-parameters.
    std::ofstream f(path, std::ios::binary);
    auto u32 = [&](uint32_t v) { f.write(reinterpret_cast<const char*>(&v), 4); };
    auto u64 = [&](uint64_t v) { f.write(reinterpret_cast<const char*>(&v), 8); };
    auto str = [&](const std::string& s) { u64(s.size()); f.write(s.data(), static_cast<std::streamsize>(s.size())); };
    f.write("GGUF", 4);
    u32(3); u64(0); u64(4);
    str("general.architecture"); u32(8); str("llama");
    str("llama.embedding_length"); u32(4); u32(64);
    str("llama.block_count"); u32(4); u32(2);
    str("llama.attention.head_count"); u32(4); u32(4);
  }
  ollm_model_info* info = nullptr;
  REQUIRE(ollm_model_info_open(path.c_str(), &info) == OLLM_OK);
  CHECK(std::string(ollm_model_info_architecture(info)) == "llama");
  CHECK(ollm_model_info_tensor_count(info) == 0);
  CHECK(std::string(ollm_last_error()).empty());
  ollm_model_info_destroy(info);
}
