// Files the unit tests write: under ::testing::TempDir(), with the process id in the name (ctest
// runs the tests of one binary in parallel processes), and removed when the process exits.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

namespace fluxscore::test {

// A path for a test file named `name`, removed at exit (whether or not it was written).
inline std::string TempPath(const std::string& name) {
  struct Registry {
    std::mutex mu;
    std::vector<std::string> paths;
    ~Registry() {
      for (const std::string& p : paths) std::remove(p.c_str());
    }
  };
  static Registry registry;
  std::string path = ::testing::TempDir() + "/" + std::to_string(getpid()) + "-" + name;
  const std::lock_guard<std::mutex> lock(registry.mu);
  registry.paths.push_back(path);
  return path;
}

// TempPath(name), written with `content`.
inline std::string WriteTempFile(const std::string& name, const std::string& content) {
  std::string path = TempPath(name);
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

}  // namespace fluxscore::test
