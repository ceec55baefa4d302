// Copyright 2026 The build-quiche test fixture authors.

#include "quiche/common/platform/api/quiche_command_line_flags.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>

namespace quiche {
namespace {

enum class FlagType { kBool, kInt32, kInt64, kString };

struct Flag {
  FlagType type;
  void* storage;
  std::string help;
  std::string default_value;
};

std::map<std::string, Flag>& Registry() {
  static auto* registry = new std::map<std::string, Flag>();
  return *registry;
}

std::string ValueToString(const Flag& flag) {
  switch (flag.type) {
    case FlagType::kBool:
      return *static_cast<bool*>(flag.storage) ? "true" : "false";
    case FlagType::kInt32:
      return std::to_string(*static_cast<int32_t*>(flag.storage));
    case FlagType::kInt64:
      return std::to_string(*static_cast<int64_t*>(flag.storage));
    case FlagType::kString:
      return "\"" + *static_cast<std::string*>(flag.storage) + "\"";
  }
  return "";
}

void Register(const char* name, FlagType type, void* storage,
              const char* help) {
  Flag flag{type, storage, help, ""};
  flag.default_value = ValueToString(flag);
  Registry()[name] = flag;
}

bool ParseInteger(const std::string& text, int64_t* out) {
  if (text.empty()) return false;
  char* end = nullptr;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (*end != '\0') return false;
  *out = value;
  return true;
}

bool SetFlag(Flag& flag, const std::string& value) {
  switch (flag.type) {
    case FlagType::kBool:
      if (value == "true" || value == "1" || value.empty()) {
        *static_cast<bool*>(flag.storage) = true;
      } else if (value == "false" || value == "0") {
        *static_cast<bool*>(flag.storage) = false;
      } else {
        return false;
      }
      return true;
    case FlagType::kInt32:
    case FlagType::kInt64: {
      int64_t number;
      if (!ParseInteger(value, &number)) return false;
      if (flag.type == FlagType::kInt32) {
        *static_cast<int32_t*>(flag.storage) = static_cast<int32_t>(number);
      } else {
        *static_cast<int64_t*>(flag.storage) = number;
      }
      return true;
    }
    case FlagType::kString:
      *static_cast<std::string*>(flag.storage) = value;
      return true;
  }
  return false;
}

}  // namespace

CommandLineFlagRegistrar::CommandLineFlagRegistrar(const char* name,
                                                   bool* flag,
                                                   const char* help) {
  Register(name, FlagType::kBool, flag, help);
}
CommandLineFlagRegistrar::CommandLineFlagRegistrar(const char* name,
                                                   int32_t* flag,
                                                   const char* help) {
  Register(name, FlagType::kInt32, flag, help);
}
CommandLineFlagRegistrar::CommandLineFlagRegistrar(const char* name,
                                                   int64_t* flag,
                                                   const char* help) {
  Register(name, FlagType::kInt64, flag, help);
}
CommandLineFlagRegistrar::CommandLineFlagRegistrar(const char* name,
                                                   std::string* flag,
                                                   const char* help) {
  Register(name, FlagType::kString, flag, help);
}

void QuichePrintCommandLineFlagHelp(const char* usage) {
  std::cout << usage << std::endl << std::endl << "Options:" << std::endl;
  for (const auto& [name, flag] : Registry()) {
    std::cout << "  --" << name << " (default: " << flag.default_value << ")"
              << std::endl
              << "      " << flag.help << std::endl;
  }
  std::cout << "  --help" << std::endl
            << "      Print this help message and exit." << std::endl;
}

std::vector<std::string> QuicheParseCommandLineFlags(const char* usage,
                                                     int argc,
                                                     const char* const* argv) {
  std::vector<std::string> positional;
  bool only_positional = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (only_positional || arg.size() < 2 || arg[0] != '-') {
      positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    std::string body = arg.substr(arg[1] == '-' ? 2 : 1);
    std::string name = body;
    std::string value;
    bool has_value = false;
    size_t eq = body.find('=');
    if (eq != std::string::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      has_value = true;
    }
    if (name == "help") {
      QuichePrintCommandLineFlagHelp(usage);
      exit(0);
    }
    auto it = Registry().find(name);
    if (it == Registry().end()) {
      std::cerr << "ERROR: Unknown command line flag '" << name << "'"
                << std::endl;
      exit(1);
    }
    if (!has_value && it->second.type != FlagType::kBool) {
      if (i + 1 >= argc) {
        std::cerr << "ERROR: Missing value for flag '" << name << "'"
                  << std::endl;
        exit(1);
      }
      value = argv[++i];
    }
    if (!SetFlag(it->second, value)) {
      std::cerr << "ERROR: Illegal value '" << value << "' specified for flag '"
                << name << "'" << std::endl;
      exit(1);
    }
  }
  return positional;
}

}  // namespace quiche
