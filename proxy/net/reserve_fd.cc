#include "proxy/net/reserve_fd.h"

#include <sys/eventfd.h>
#include <unistd.h>

namespace sluice::net {

// An eventfd: the cheapest descriptor that needs no path and no socket.
ReserveFd::ReserveFd() { restore(); }

ReserveFd::~ReserveFd() { release(); }

bool ReserveFd::release() {
  if (fd_ < 0) return false;
  ::close(fd_);
  fd_ = -1;
  return true;
}

bool ReserveFd::restore() {
  if (fd_ < 0) fd_ = ::eventfd(0, EFD_CLOEXEC);
  return fd_ >= 0;
}

}  // namespace sluice::net
