// libFuzzer target for the Dockerfile front end: the scanner, the typed layer, the stage graph and
// the flag value parsers must never crash, hang or grow without bound on any input.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dockerfile/ast.hpp"
#include "dockerfile/instructions.hpp"
#include "dockerfile/stages.hpp"

using namespace strata::dockerfile;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto ast = parse_ast(text)) {
    std::string dumped = dump(*ast);
    (void)dumped;
  }
  if (auto df = parse_dockerfile(text)) {
    StageGraphOptions options;
    options.build_args = [](std::string_view name) -> std::optional<std::string> {
      if (name.size() == 1) return std::string(name) + "-value";
      return std::nullopt;
    };
    options.target = df->stages.back().from.stage_name;
    auto graph = build_stage_graph(*df, options);
    (void)graph;
  }
  auto trigger = parse_instruction_line(text, size % 2 ? '`' : '\\');
  (void)trigger;

  // The flag value parsers see the first line alone.
  std::string_view first = text.substr(0, text.find('\n'));
  (void)parse_mount(first);
  (void)parse_chmod(first);
  (void)parse_port(first);
  (void)parse_go_duration(first);
  Heredoc doc;
  (void)parse_heredoc_word(first, doc);
  return 0;
}
