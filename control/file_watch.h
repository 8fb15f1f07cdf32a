#pragma once
// Notices edits of one file (control.yaml) by polling, every
// watch_interval, rather than with inotify: polling follows the path
// however the file is replaced (an editor's write-then-rename, a Kubernetes
// ConfigMap's symlink swap, a file deleted and written again), which an
// inotify watch on the old inode or on the directory each handle only in
// part, and an interval of a few hundred milliseconds costs one stat(2).
// The bytes decide: a touch that changes nothing is not a change.
//
// One thread (the daemon's main loop); no threads of its own.

#include <sys/types.h>

#include <ctime>
#include <string>

namespace sluice::control {

class FileWatch {
 public:
  explicit FileWatch(std::string path) : path_(std::move(path)) {}

  // What the file held the last time it was read.
  struct Content {
    bool ok = false;
    std::string text;   // when ok
    std::string error;  // when not: "cannot read: No such file or directory"
  };

  // Reads the file now; later changes are measured against this.
  const Content& read();
  // Checks the file: true when its content (or readability) differs from
  // the last read; current() then holds the new content.
  bool changed();
  const Content& current() const { return content_; }
  const std::string& path() const { return path_; }

 private:
  struct Stat {
    bool exists = false;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    timespec mtime{};
    timespec ctime{};
    bool operator==(const Stat& o) const;
  };
  Stat statNow() const;
  Content load() const;

  std::string path_;
  Stat stat_;
  Content content_;
};

}  // namespace sluice::control
