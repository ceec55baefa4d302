// Copyright 2026 The build-quiche test fixture authors.
// A small stand-in for quiche's command line flag platform API, used by the
// fixture toy client and server. Flags are written --name=value (or
// --name value); a bool flag given as --name alone is set to true.

#ifndef QUICHE_COMMON_PLATFORM_API_QUICHE_COMMAND_LINE_FLAGS_H_
#define QUICHE_COMMON_PLATFORM_API_QUICHE_COMMAND_LINE_FLAGS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace quiche {

class CommandLineFlagRegistrar {
 public:
  CommandLineFlagRegistrar(const char* name, bool* flag, const char* help);
  CommandLineFlagRegistrar(const char* name, int32_t* flag, const char* help);
  CommandLineFlagRegistrar(const char* name, int64_t* flag, const char* help);
  CommandLineFlagRegistrar(const char* name, std::string* flag,
                           const char* help);
};

// Parses argv, sets the registered flags and returns the positional
// arguments. Prints usage and exits on --help (0) or on a bad flag (1).
std::vector<std::string> QuicheParseCommandLineFlags(const char* usage,
                                                     int argc,
                                                     const char* const* argv);

void QuichePrintCommandLineFlagHelp(const char* usage);

}  // namespace quiche

#define DEFINE_QUICHE_COMMAND_LINE_FLAG(type, name, default_value, help) \
  type FLAGS_##name = default_value;                                     \
  static ::quiche::CommandLineFlagRegistrar quiche_flag_registrar_##name( \
      #name, &FLAGS_##name, help)

#define GetQuicFlag(flag) (flag)
#define SetQuicFlag(flag, value) ((flag) = (value))

#endif  // QUICHE_COMMON_PLATFORM_API_QUICHE_COMMAND_LINE_FLAGS_H_
