// One process-wide GMainContext + thread shared by every dtlstransportbin: libnice needs a running
// context for its timers and connectivity checks, and the DTLS retransmission timer runs there too.
// A media server runs hundreds of transports; one thread for all of them keeps the thread count per
// transport at what nicesrc needs (its streaming thread).
#pragma once

#include <glib.h>

namespace gstdtls {

// Returns the shared context (a new reference), starting its thread on first use.
GMainContext* shared_main_context_acquire();
// Drops a reference taken by acquire(); the thread stops with the last one. Safe to call from the
// shared thread itself (e.g. from a callback that drops the last user): that thread is then joined
// by the next acquire or at process exit, never left to race exit().
void shared_main_context_release();

}  // namespace gstdtls
