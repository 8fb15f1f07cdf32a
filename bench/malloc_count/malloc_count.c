// LD_PRELOAD library for bench/mallocs.sh: counts malloc calls in a window,
// keyed by their four innermost callers, and writes the counts with caller
// names to $MC_DIR/counts.txt. The window opens when the file
// $MC_DIR/start appears and closes when $MC_DIR/stop does. The table is not
// locked: measure a proxy with one worker.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { kSlots = 65536, kDepth = 4 };

static void* (*real_malloc)(size_t);
static __thread int inside;  // backtrace() may allocate: do not count ourselves
static volatile int counting;
static struct {
  void* callers[kDepth];
  unsigned long count;
} table[kSlots];

static char dir[4096];

static int exists(const char* name) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return access(path, F_OK) == 0;
}

static void dump(void) {
  char path[4200];
  snprintf(path, sizeof path, "%s/counts.tmp", dir);
  FILE* f = fopen(path, "w");
  if (!f) return;
  for (int i = 0; i < kSlots; ++i) {
    if (!table[i].count) continue;
    fprintf(f, "%lu", table[i].count);
    for (int j = 0; j < kDepth; ++j) {
      Dl_info info;
      void* p = table[i].callers[j];
      if (p && dladdr(p, &info) && info.dli_sname) {
        fprintf(f, " %s", info.dli_sname);
      } else {
        fprintf(f, " %p", p);
      }
    }
    fputc('\n', f);
  }
  fclose(f);
  char done[4200];
  snprintf(done, sizeof done, "%s/counts.txt", dir);
  rename(path, done);
}

static void* window(void* unused) {
  (void)unused;
  while (!exists("start")) usleep(20000);
  counting = 1;
  while (!exists("stop")) usleep(20000);
  counting = 0;
  dump();
  return NULL;
}

__attribute__((constructor)) static void start(void) {
  real_malloc = (void* (*)(size_t))dlsym(RTLD_NEXT, "malloc");
  snprintf(dir, sizeof dir, "%s", getenv("MC_DIR") ? getenv("MC_DIR") : ".");
  pthread_t t;
  pthread_create(&t, NULL, window, NULL);
  pthread_detach(t);
}

__attribute__((noinline)) static void record(void) {
  void* frames[kDepth + 2];
  const int n = backtrace(frames, kDepth + 2);
  void* key[kDepth] = {0};
  for (int i = 0; i < kDepth && i + 2 < n; ++i) key[i] = frames[i + 2];  // skip record() and malloc()
  uintptr_t h = 0;
  for (int i = 0; i < kDepth; ++i) h = h * 31 + (uintptr_t)key[i];
  for (int probe = 0; probe < kSlots; ++probe) {
    const int s = (int)((h + probe) % kSlots);
    if (table[s].count == 0) {
      memcpy(table[s].callers, key, sizeof key);
      table[s].count = 1;
      return;
    }
    if (memcmp(table[s].callers, key, sizeof key) == 0) {
      ++table[s].count;
      return;
    }
  }
}

void* malloc(size_t n) {
  if (!real_malloc) real_malloc = (void* (*)(size_t))dlsym(RTLD_NEXT, "malloc");
  if (counting && !inside) {
    inside = 1;
    record();
    inside = 0;
  }
  return real_malloc(n);
}
