// The file watch: edits in place, replacement by rename, a touch that
// changes nothing, deletion and return.

#include "control/file_watch.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace sluice::control {
namespace {

class FileWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sluice-file-watch-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/control.yaml";
  }
  void TearDown() override {
    std::remove((dir_ + "/next").c_str());
    std::remove(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  void write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
  }
  std::string dir_, path_;
};

TEST_F(FileWatchTest, SeesEditsInPlaceAndByRename) {
  write(path_, "a: 1\n");
  FileWatch w(path_);
  ASSERT_TRUE(w.read().ok);
  EXPECT_EQ(w.current().text, "a: 1\n");
  EXPECT_FALSE(w.changed());

  write(path_, "a: 22\n");
  EXPECT_TRUE(w.changed());
  EXPECT_EQ(w.current().text, "a: 22\n");
  EXPECT_FALSE(w.changed());

  write(dir_ + "/next", "a: 3\n");
  ASSERT_EQ(std::rename((dir_ + "/next").c_str(), path_.c_str()), 0);
  EXPECT_TRUE(w.changed());
  EXPECT_EQ(w.current().text, "a: 3\n");
}

TEST_F(FileWatchTest, SameBytesAreNoChange) {
  write(path_, "a: 1\n");
  FileWatch w(path_);
  w.read();
  // Rewritten with the same bytes, and a new inode with the same bytes.
  write(path_, "a: 1\n");
  EXPECT_FALSE(w.changed());
  write(dir_ + "/next", "a: 1\n");
  ASSERT_EQ(std::rename((dir_ + "/next").c_str(), path_.c_str()), 0);
  EXPECT_FALSE(w.changed());
}

TEST_F(FileWatchTest, DeletionIsAChangeAndSoIsTheReturn) {
  write(path_, "a: 1\n");
  FileWatch w(path_);
  w.read();
  std::remove(path_.c_str());
  EXPECT_TRUE(w.changed());
  EXPECT_FALSE(w.current().ok);
  EXPECT_EQ(w.current().error, "cannot read: No such file or directory");
  EXPECT_FALSE(w.changed());
  write(path_, "a: 1\n");
  EXPECT_TRUE(w.changed());
  EXPECT_TRUE(w.current().ok);
  EXPECT_EQ(w.current().text, "a: 1\n");
}

}  // namespace
}  // namespace sluice::control
