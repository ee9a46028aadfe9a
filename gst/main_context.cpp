#include "main_context.h"

#include <openssl/crypto.h>

#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <utility>

namespace gstdtls {
namespace {

// The one shared loop. Never destroyed: the exit handler below still uses it.
struct SharedLoop {
  std::mutex mutex;
  unsigned users = 0;
  GMainContext* context = nullptr;
  GMainLoop* loop = nullptr;
  GThread* thread = nullptr;    // running the loop
  GThread* finished = nullptr;  // stopped by its own last user; joined later
  std::condition_variable owned_changed;
  bool context_owned = false;
};

SharedLoop& shared() {
  static auto* loop = new SharedLoop;
  return *loop;
}

gpointer run_loop(gpointer data) {
  auto* loop = static_cast<GMainLoop*>(data);
  GMainContext* context = g_main_loop_get_context(loop);
  // Own the context before anyone else can see it: g_main_context_invoke() from another thread
  // runs the function inline when the context has no owner, and then this thread could not
  // acquire it any more.
  g_main_context_acquire(context);
  g_main_context_push_thread_default(context);
  {
    std::lock_guard lock(shared().mutex);
    shared().context_owned = true;
  }
  shared().owned_changed.notify_all();
  g_main_loop_run(loop);
  g_main_context_pop_thread_default(context);
  g_main_context_release(context);
  g_main_loop_unref(loop);  // the reference given to this thread
  return nullptr;
}

void join(GThread* thread) {
  if (thread && thread != g_thread_self()) g_thread_join(thread);
}

// At exit, before OpenSSL's own exit handler (registered earlier, so run later): a thread that
// still runs, or that has stopped but not been joined, would run libcrypto's thread-local
// destructors while exit() tears libcrypto down.
void stop_at_exit() {
  GThread* running = nullptr;
  GThread* finished = nullptr;
  {
    std::lock_guard lock(shared().mutex);
    running = shared().thread;
    finished = std::exchange(shared().finished, nullptr);
    if (running) {
      g_main_loop_quit(shared().loop);
      shared().thread = nullptr;
    }
  }
  join(finished);
  join(running);
}

}  // namespace

GMainContext* shared_main_context_acquire() {
  static std::once_flag exit_handler;
  std::call_once(exit_handler, [] {
    OPENSSL_init_crypto(0, nullptr);  // its exit handler first, so ours runs before it
    std::atexit(stop_at_exit);
  });
  SharedLoop& s = shared();
  std::unique_lock lock(s.mutex);
  if (s.users++ == 0) {
    GThread* finished = std::exchange(s.finished, nullptr);
    lock.unlock();
    join(finished);  // a previous loop's thread, stopped from inside itself
    lock.lock();
    s.context = g_main_context_new();
    s.loop = g_main_loop_new(s.context, FALSE);
    s.context_owned = false;
    s.thread = g_thread_new("dtlstransport", run_loop, g_main_loop_ref(s.loop));
  }
  s.owned_changed.wait(lock, [&s] { return s.context_owned; });
  return g_main_context_ref(s.context);
}

void shared_main_context_release() {
  SharedLoop& s = shared();
  GThread* thread = nullptr;
  GMainLoop* loop = nullptr;
  GMainContext* context = nullptr;
  {
    std::lock_guard lock(s.mutex);
    if (s.users == 0 || --s.users > 0) return;
    thread = std::exchange(s.thread, nullptr);
    loop = std::exchange(s.loop, nullptr);
    context = std::exchange(s.context, nullptr);
    // The last user may be a callback running on the shared thread: it cannot join itself, so
    // the thread is joined by the next acquire or at exit.
    if (thread == g_thread_self()) s.finished = std::exchange(thread, nullptr);
  }
  g_main_loop_quit(loop);
  g_main_loop_unref(loop);
  join(thread);
  g_main_context_unref(context);
}

}  // namespace gstdtls
