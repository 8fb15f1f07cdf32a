#include "proxy/server/snapshot.h"

#include <unistd.h>

namespace sluice::server {

ListenerSockets::~ListenerSockets() {
  // Sockets a worker never adopted (e.g. the config was superseded first).
  for (int fd : fds)
    if (fd >= 0) ::close(fd);
}

}  // namespace sluice::server
