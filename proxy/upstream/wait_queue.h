#pragma once
// WaitQueue: the requests a pool holds while none of its connections can
// take them, oldest first, each with the pending-request breaker slot it
// holds (pool_limits.h admitWaiting). The handle the requester gets is a
// PendingStream whose cancel() takes the request off the queue. Every way
// off the queue gives the slot back; a move to another pool's queue
// (takeAll) keeps it. Worker thread only.

#include <cstddef>
#include <list>

#include "proxy/upstream/conn_pool.h"
#include "proxy/util/thread_pool_alloc.h"

namespace sluice::upstream {

// Who asked for a stream, and where its response goes.
struct StreamRequest {
  http::MessageDecoder* response;
  StreamCallbacks* stream_callbacks;
  PoolCallbacks* callbacks;
};

class WaitQueue {
  class Entry;
  // One node per queued request, from the worker's free lists; handles point into it.
  using List = std::list<Entry, util::PoolAllocator<Entry>>;

  class Entry final : public PendingStream {
   public:
    Entry(WaitQueue& q, const StreamRequest& r, BreakerGroup* g) : queue(&q), request(r), group(g) {}
    void cancel() override { queue->erase(self); }

    WaitQueue* queue;  // the one it is on (takeAll moves it)
    StreamRequest request;
    BreakerGroup* group;  // holds a pending slot of this group; null when none
    List::iterator self;
  };

 public:
  WaitQueue() = default;
  WaitQueue(const WaitQueue&) = delete;
  WaitQueue& operator=(const WaitQueue&) = delete;
  ~WaitQueue() { clear(); }

  // Queues `r`, which holds a slot of `group` (null: none): the requester's handle.
  PendingStream& push(const StreamRequest& r, BreakerGroup* group) {
    Entry& e = entries_.emplace_back(*this, r, group);
    e.self = std::prev(entries_.end());
    return e;
  }
  // The oldest request, taken off the queue.
  StreamRequest pop() {
    const StreamRequest r = entries_.front().request;
    erase(entries_.begin());
    return r;
  }
  // Takes the newest request back off (nothing can serve it after all).
  void dropNewest() { erase(std::prev(entries_.end())); }
  // Moves every request of `from` behind this queue's, with the slots they
  // hold; their handles stay valid (the nodes move, nothing is copied).
  void takeAll(WaitQueue& from) {
    for (Entry& e : from.entries_) e.queue = this;
    entries_.splice(entries_.end(), from.entries_);
  }
  // Every request off the queue, unanswered (the pool is going away).
  void clear() {
    while (!entries_.empty()) erase(entries_.begin());
  }

  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }

 private:
  void erase(List::iterator it) {
    if (it->group) it->group->pending.release();
    entries_.erase(it);
  }

  List entries_;
};

}  // namespace sluice::upstream
