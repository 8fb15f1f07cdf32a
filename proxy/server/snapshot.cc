#include "proxy/server/snapshot.h"

#include <unistd.h>

namespace sluice::server {

void ListenerSockets::releaseHeld() {
  for (int& fd : held) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
}

ListenerSockets::~ListenerSockets() {
  // Sockets a worker never adopted (e.g. the config was superseded first).
  for (int fd : fds)
    if (fd >= 0) ::close(fd);
  releaseHeld();
}

}  // namespace sluice::server
