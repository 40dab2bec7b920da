#pragma once
// A fresh directory under /tmp for one test, removed with everything in it afterwards.

#include <cstdlib>
#include <string>

#include "freshet/io/file_system.h"

namespace freshet::testing {

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/freshet-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { (void)io::posix_file_system().remove_all(path); }
  std::string file(const std::string& name) const { return path + "/" + name; }
  std::string path;
};

}  // namespace freshet::testing
