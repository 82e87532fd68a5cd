// libFuzzer target: applies arbitrary bytes as a layer (any compression, any tar) into a scratch
// root and aborts if anything appears outside it. Errors are fine; escapes and crashes are not.
//
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I common \
//     tests/fuzz/tar_reader_fuzz.cpp <strata_common and its libraries>
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

#include "archive/extractor.hpp"
#include "archive/stream.hpp"

namespace {

struct Scratch {
  std::string base;
  std::string root;
  std::string sentinel;

  Scratch() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "strata-tar-fuzz-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) std::abort();
    base = tmpl;
    root = base + "/root";
    sentinel = base + "/sentinel";
    std::filesystem::create_directories(sentinel);
  }
};

void check_contained(const Scratch& s) {
  std::size_t top = 0;
  for (const auto& e : std::filesystem::directory_iterator(s.base)) {
    (void)e;
    ++top;
  }
  if (top != 2 || !std::filesystem::is_empty(s.sentinel)) {
    std::fprintf(stderr, "escape: something was written outside %s\n", s.root.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Scratch scratch;
  std::error_code ec;
  std::filesystem::remove_all(scratch.root, ec);
  std::filesystem::create_directories(scratch.root);

  strata::archive::ExtractOptions options;
  options.limits.max_entries = 10000;
  options.decompress.ratio_floor_bytes = 64u << 20;
  options.decompress.max_ratio = 1000;
  options.ignore_paths = {"proc"};
  strata::archive::MemorySource in(std::string_view(reinterpret_cast<const char*>(data), size));
  auto result = strata::archive::apply_layer(in, scratch.root, options);
  (void)result;
  check_contained(scratch);
  return 0;
}
