#pragma once
// Bytes of heap the process has allocated and not freed, less the free
// buffer slices its threads keep for reuse (those are the allocator's cache
// in all but name: counting them would keep heap pressure up after a burst
// ended). For the overload manager's heap_bytes resource. Main thread, once
// per refresh: it walks the allocator's arenas under their locks.

#include <cstdint>

namespace sluice::overload {

uint64_t heapBytesInUse();

}  // namespace sluice::overload
