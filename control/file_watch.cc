#include "control/file_watch.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace sluice::control {

bool FileWatch::Stat::operator==(const Stat& o) const {
  return exists == o.exists && dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
         mtime.tv_nsec == o.mtime.tv_nsec && ctime.tv_sec == o.ctime.tv_sec && ctime.tv_nsec == o.ctime.tv_nsec;
}

FileWatch::Stat FileWatch::statNow() const {
  Stat s;
  struct stat st{};
  // stat, not lstat: a symlink swap shows as a change of the target.
  if (::stat(path_.c_str(), &st) != 0) return s;
  s.exists = true;
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.size = st.st_size;
  s.mtime = st.st_mtim;
  s.ctime = st.st_ctim;
  return s;
}

FileWatch::Content FileWatch::load() const {
  Content c;
  std::FILE* f = std::fopen(path_.c_str(), "rb");
  int err = f == nullptr ? errno : 0;
  if (f != nullptr) {
    char buf[8192];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) c.text.append(buf, n);
    if (std::ferror(f)) err = errno != 0 ? errno : EIO;  // EISDIR: fopen succeeds on a directory
    std::fclose(f);
  }
  if (err != 0) {
    c.text.clear();
    c.error = std::string("cannot read: ") + std::strerror(err);
    return c;
  }
  c.ok = true;
  return c;
}

const FileWatch::Content& FileWatch::read() {
  // Stat first: a write landing between the two is seen by the next check.
  stat_ = statNow();
  content_ = load();
  return content_;
}

bool FileWatch::changed() {
  const Stat now = statNow();
  if (now == stat_) return false;
  stat_ = now;
  Content next = load();
  if (next.ok == content_.ok && next.text == content_.text && next.error == content_.error) return false;
  content_ = std::move(next);
  return true;
}

}  // namespace sluice::control
