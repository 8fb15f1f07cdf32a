// A thread's own object: one per thread, and null once the thread's exit
// has destroyed it, for whatever is freed later in that exit.
#include "proxy/util/thread_own.h"

#include <gtest/gtest.h>

#include <thread>

namespace sluice::util {
namespace {

struct Counter {
  int n = 0;
};

TEST(ThreadOwn, OnePerThreadMadeOnFirstUse) {
  Counter* mine = threadOwn<Counter>();
  ASSERT_NE(mine, nullptr);
  EXPECT_EQ(threadOwn<Counter>(), mine);
  ++mine->n;
  int theirs = -1;
  Counter* their_ptr = nullptr;
  std::thread([&] {
    their_ptr = threadOwn<Counter>();
    theirs = their_ptr->n;
  }).join();
  EXPECT_NE(their_ptr, mine);
  EXPECT_EQ(theirs, 0);
}

struct Lists {};

TEST(ThreadOwn, NullForWhatDiesAfterItInTheThreadsExit) {
  bool seen_null = false;
  struct Late {
    bool* seen;
    ~Late() { *seen = threadOwn<Lists>() == nullptr; }
  };
  std::thread([&] {
    thread_local Late late{&seen_null};  // made first, so destroyed after the lists
    (void)threadOwn<Lists>();
  }).join();
  EXPECT_TRUE(seen_null);
}

}  // namespace
}  // namespace sluice::util
