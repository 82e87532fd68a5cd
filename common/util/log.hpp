// Logging for the three tools. One process-wide logger, configured once by main() from
// --verbosity, --log-format (text|color|json) and --log-timestamp, as kaniko's logrus flags.
//
// Thread safety: every function here may be called from any thread; lines are never interleaved.
// Secrets: anything registered with add_secret() (passwords, tokens, Authorization values) is
// replaced by "***" in every line written, whatever the level or format.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "util/result.hpp"

namespace strata::log {

enum class Level { panic, fatal, error, warn, info, debug, trace };
enum class Format { text, color, json };

struct Field {
  std::string key;
  std::string value;
};

struct Options {
  Level level = Level::info;
  Format format = Format::text;
  bool timestamps = false;
  std::string tool;  // "executor", "warmer", "cachectl": prefixes text lines and errors
};

void configure(const Options& options);
const Options& options();

Result<Level> parse_level(std::string_view text);
Result<Format> parse_format(std::string_view text);

bool enabled(Level level);
void write(Level level, std::string_view message, std::initializer_list<Field> fields = {});

inline void error(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::error, m, f); }
inline void warn(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::warn, m, f); }
inline void info(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::info, m, f); }
inline void debug(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::debug, m, f); }
inline void trace(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::trace, m, f); }

// Registers a string that must never be printed (ignored if shorter than 4 characters).
void add_secret(std::string_view secret);
// Returns text with every registered secret replaced by "***".
std::string redact(std::string_view text);

// Where lines go (default stderr); tests redirect. Not thread-safe against concurrent write().
void set_sink(int fd);

}  // namespace strata::log
