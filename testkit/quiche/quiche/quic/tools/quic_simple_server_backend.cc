// Copyright 2026 The build-quiche test fixture authors.

#include "quiche/quic/tools/quic_simple_server_backend.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>

namespace quic {
namespace {

bool ReadFile(const std::string& path, std::string* contents) {
  FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) return false;
  char buffer[65536];
  size_t read;
  while ((read = std::fread(buffer, 1, sizeof(buffer), file)) > 0) {
    contents->append(buffer, read);
  }
  std::fclose(file);
  return true;
}

void LoadDirectory(const std::string& directory, const std::string& prefix,
                   std::map<std::string, std::string>* responses) {
  DIR* dir = opendir(directory.c_str());
  if (!dir) return;
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    std::string path = directory + "/" + name;
    struct stat info;
    if (stat(path.c_str(), &info) != 0) continue;
    if (S_ISDIR(info.st_mode)) {
      LoadDirectory(path, prefix + name + "/", responses);
    } else if (S_ISREG(info.st_mode)) {
      ReadFile(path, &(*responses)[prefix + name]);
    }
  }
  closedir(dir);
}

}  // namespace

bool QuicSimpleServerBackend::InitializeBackend(
    const std::string& cache_directory) {
  struct stat info;
  if (stat(cache_directory.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return false;
  }
  LoadDirectory(cache_directory, "", &responses_);
  return true;
}

void QuicSimpleServerBackend::FetchResponse(const std::string& authority,
                                            const std::string& path,
                                            uint16_t* status,
                                            std::string* body) const {
  std::string host = authority.substr(0, authority.find(':'));
  std::string relative = path.empty() || path[0] != '/' ? path : path.substr(1);
  auto it = responses_.find(host + "/" + relative);
  if (it != responses_.end()) {
    *status = 200;
    *body = it->second;
    return;
  }
  if (generate_dynamic_responses_ && !relative.empty() &&
      relative.find_first_not_of("0123456789") == std::string::npos &&
      relative.size() <= 10) {
    *status = 200;
    body->assign(std::strtoull(relative.c_str(), nullptr, 10), 'a');
    return;
  }
  *status = 404;
  *body = "file not found";
}

}  // namespace quic
