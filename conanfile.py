"""Conan 2 recipe for ollm.

    conan create . --build=missing -s compiler.cppstd=20     (scripts/check-conan.sh does this)

Dependencies come from the system's Debian packages (scripts/setup-debian.sh installs them), not
from Conan Center: the recipe declares no requirements, checks the apt packages in
system_requirements() (Conan's default mode only checks, it never installs), and names the
system libraries a static libollm needs in package_info().
"""
import os

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, CMakeToolchain, cmake_layout
from conan.tools.files import rmdir
from conan.tools.system.package_manager import Apt


class OllmConan(ConanFile):
    name = "ollm"
    version = "0.1.0"
    description = "Embeddable C++ inference library for open-weight language models, with a C ABI"
    topics = ("llm", "inference", "gguf", "transformers")
    package_type = "library"
    settings = "os", "arch", "compiler", "build_type"
    options = {"shared": [True, False], "fPIC": [True, False], "with_cuda": [True, False]}
    default_options = {"shared": True, "fPIC": True, "with_cuda": False}
    # Only what building the library needs (tests, examples, benchmarks stay behind).
    exports_sources = ("CMakeLists.txt", "cmake/*", "include/*", "src/*", "kernels/*", "bindings/c/*")

    def config_options(self):
        if self.settings.os == "Windows":
            del self.options.fPIC

    def configure(self):
        if self.options.shared:
            self.options.rm_safe("fPIC")

    def layout(self):
        cmake_layout(self)

    def validate(self):
        check_min_cppstd(self, 20)  # the public headers use std::span

    def system_requirements(self):
        Apt(self).install(["pkg-config", "libfmt-dev", "libsimdjson-dev", "libpcre2-dev", "libutf8proc-dev",
                           "libeigen3-dev", "libdnnl-dev", "libssl-dev"], update=False, check=True)

    def generate(self):
        tc = CMakeToolchain(self, generator="Ninja")  # BUILD_SHARED_LIBS follows options.shared
        tc.cache_variables["OLLM_CUDA"] = "ON" if self.options.with_cuda else "OFF"
        tc.cache_variables["OLLM_ONEDNN"] = "ON"
        tc.cache_variables["OLLM_BUILD_TESTS"] = "OFF"
        tc.cache_variables["OLLM_BUILD_EXAMPLES"] = "OFF"
        tc.cache_variables["OLLM_BUILD_FUZZERS"] = "OFF"
        tc.generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        CMake(self).install()
        # Conan consumers get ollm::ollm from CMakeDeps / PkgConfigDeps (package_info below).
        rmdir(self, os.path.join(self.package_folder, "lib", "cmake"))
        rmdir(self, os.path.join(self.package_folder, "lib", "pkgconfig"))

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "ollm")
        self.cpp_info.set_property("cmake_target_name", "ollm::ollm")
        self.cpp_info.set_property("pkg_config_name", "ollm")
        self.cpp_info.libs = ["ollm"]
        self.cpp_info.system_libs = ["pthread"]
        if not self.options.shared:
            # A static libollm carries its private dependencies (cmake/OllmInstall.cmake lists them).
            if self.options.with_cuda:
                self.cpp_info.libs.append("ollm_cuda")
                cuda_lib = os.path.join(os.environ.get("CUDA_PATH", "/usr/local/cuda"), "lib64")
                self.cpp_info.libdirs.append(cuda_lib)
                self.cpp_info.system_libs += ["cublas", "cudart_static", "dl", "rt"]
            self.cpp_info.system_libs += ["fmt", "simdjson", "pcre2-8", "utf8proc", "crypto",
                                          "dnnl", "gomp", "stdc++", "m"]
