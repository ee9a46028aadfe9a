#include "main_context.h"

#include <condition_variable>
#include <mutex>

namespace gstdtls {
namespace {

std::mutex g_mutex;
unsigned g_users = 0;
GMainContext* g_context = nullptr;
GMainLoop* g_loop = nullptr;
GThread* g_thread = nullptr;
std::condition_variable g_owned;
bool g_context_owned = false;

gpointer run_loop(gpointer data) {
  auto* loop = static_cast<GMainLoop*>(data);
  GMainContext* context = g_main_loop_get_context(loop);
  // Own the context before anyone else can see it: g_main_context_invoke() from another thread
  // runs the function inline when the context has no owner, and then this thread could not
  // acquire it any more.
  g_main_context_acquire(context);
  g_main_context_push_thread_default(context);
  {
    std::lock_guard lock(g_mutex);
    g_context_owned = true;
  }
  g_owned.notify_all();
  g_main_loop_run(loop);
  g_main_context_pop_thread_default(context);
  g_main_context_release(context);
  g_main_loop_unref(loop);  // the reference given to this thread
  return nullptr;
}

}  // namespace

GMainContext* shared_main_context_acquire() {
  std::unique_lock lock(g_mutex);
  if (g_users++ == 0) {
    g_context = g_main_context_new();
    g_loop = g_main_loop_new(g_context, FALSE);
    g_context_owned = false;
    g_thread = g_thread_new("dtlstransport", run_loop, g_main_loop_ref(g_loop));
  }
  g_owned.wait(lock, [] { return g_context_owned; });
  return g_main_context_ref(g_context);
}

void shared_main_context_release() {
  GThread* thread = nullptr;
  GMainLoop* loop = nullptr;
  GMainContext* context = nullptr;
  {
    std::lock_guard lock(g_mutex);
    if (g_users == 0 || --g_users > 0) return;
    thread = g_thread;
    loop = g_loop;
    context = g_context;
    g_thread = nullptr;
    g_loop = nullptr;
    g_context = nullptr;
  }
  g_main_loop_quit(loop);
  g_main_loop_unref(loop);
  // The last user may be a callback running on the shared thread: it cannot join itself, so the
  // thread is detached and finishes on its own once the loop returns.
  if (thread == g_thread_self())
    g_thread_unref(thread);
  else
    g_thread_join(thread);
  g_main_context_unref(context);
}

}  // namespace gstdtls
