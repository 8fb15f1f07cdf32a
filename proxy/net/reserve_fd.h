#pragma once
// One file descriptor held back for the moment the process runs out of them.
// An accept loop that meets EMFILE/ENFILE cannot even take a queued
// connection to close it: the client would wait in the backlog, and an
// edge-triggered listener would not hear of it again until another one
// came. With a reserve, the loop frees it, takes the connection (to close it
// at once, or, for the admin server, to serve it) and holds it again after.
// Owned and used by one thread.

namespace sluice::net {

class ReserveFd {
 public:
  ReserveFd();  // holds one when the process has one to spare
  ~ReserveFd();
  ReserveFd(const ReserveFd&) = delete;
  ReserveFd& operator=(const ReserveFd&) = delete;

  bool held() const { return fd_ >= 0; }
  // Gives the descriptor back to the process; false when none was held.
  bool release();
  // Holds one again (no-op when held); false while the process has none.
  bool restore();

 private:
  int fd_ = -1;
};

}  // namespace sluice::net
