// auto-restart: when this run's DTLS transport fails (consent expired, ICE failed, handshake
// timeout, …) or the peer closes it, and the element is PLAYING with auto-restart set, the run is
// torn down at once and a new one (ICE agent + DTLS transport, same settings) begins after a
// backoff: 1 s, doubling to 30 s, back to 1 s once connected. Each step runs on the shared main
// context with the element's state lock held, so it never races a state change; a state change
// that leaves PLAYING cancels what is pending.
#include <algorithm>

#include "bin_private.h"
#include "main_context.h"

#define GST_CAT_DEFAULT bin_debug

namespace gstdtls {
namespace {

constexpr guint kFirstBackoffMs = 1000;
constexpr guint kMaxBackoffMs = 30000;
// How soon to look again when a state change holds the state lock.
constexpr guint kBusyRetryMs = 50;

// The wait before the next run, after `attempts` restarts without a connection in between.
guint backoff_ms(guint attempts) {
  guint ms = kFirstBackoffMs;
  for (guint i = 0; i < attempts && ms < kMaxBackoffMs; ++i) ms *= 2;
  return std::min(ms, kMaxBackoffMs);
}

enum class Step { TearDown, Begin };

struct Pending {
  GstDtlsTransportBin* self;  // a reference
  Step step;
};

bool target_is_playing(GstDtlsTransportBin* self) {
  GST_OBJECT_LOCK(self);
  const bool playing = GST_STATE_TARGET(self) == GST_STATE_PLAYING;
  GST_OBJECT_UNLOCK(self);
  return playing;
}

gboolean run_step(gpointer data);

// Makes `step` the pending one, after `delay_ms`. Call with impl.lock held; the source holds a
// reference to the element and a user of the shared context until it is done or cancelled.
void schedule_locked(GstDtlsTransportBin* self, Step step, guint delay_ms) {
  BinImpl& impl = impl_of(self);
  GMainContext* context = shared_main_context_acquire();
  GSource* source = g_timeout_source_new(delay_ms);
  g_source_set_priority(source, G_PRIORITY_DEFAULT);
  g_source_set_callback(source, run_step,
                        new Pending{GST_DTLS_TRANSPORT_BIN(gst_object_ref(self)), step},
                        [](gpointer data) {
                          auto* pending = static_cast<Pending*>(data);
                          gst_object_unref(pending->self);
                          delete pending;
                          shared_main_context_release();
                        });
  g_source_attach(source, context);
  g_main_context_unref(context);
  impl.restart.source = source;  // our reference, dropped when it is done or cancelled
}

// The old run goes: agent closed (its port is free again by the time the next run gathers),
// nicesrc/nicesink removed. The failed transport stays readable until the next run begins.
void tear_down(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  endpoint_set_network_open(self->endpoint, false);
  destroy_run(self);
  guint attempt, delay;
  {
    std::lock_guard lock(impl.lock);
    delay = backoff_ms(impl.restart.attempts);
    attempt = ++impl.restart.attempts;
    ++impl.restart.count;
    schedule_locked(self, Step::Begin, delay);
  }
  GST_INFO_OBJECT(self, "auto-restart: attempt %u in %u ms", attempt, delay);
  post_element_message(self, "dtlstransport-restart", "attempt", G_TYPE_UINT, attempt, "delay-ms",
                       G_TYPE_UINT, delay, nullptr);
}

// A new run, as NULL→PLAYING would make it, inside the PLAYING bin.
void begin(GstDtlsTransportBin* self) {
  if (!create_run(self)) return;  // an error was posted: nothing more to try
  if (!prepare_transport(self)) return;
  gst_element_sync_state_with_parent(self->nicesrc);
  gst_element_sync_state_with_parent(self->nicesink);
  if (auto ice = current_ice(self)) {
    ice->gather();
    notify(self, PROP_ICE_GATHERING_STATE);
  }
  apply_remote_candidates(self);
  notify(self, PROP_STATE);
  play_run(self);
}

gboolean run_step(gpointer data) {
  auto* pending = static_cast<Pending*>(data);
  GstDtlsTransportBin* self = pending->self;
  BinImpl& impl = impl_of(self);
  GSource* current = g_main_current_source();
  if (!GST_STATE_TRYLOCK(self)) {
    // A state change is under way; if it leaves PLAYING it cancels us. Look again shortly.
    std::lock_guard lock(impl.lock);
    if (impl.restart.source == current) {
      g_source_unref(current);
      schedule_locked(self, pending->step, kBusyRetryMs);
    }
    return G_SOURCE_REMOVE;
  }
  bool go;
  {
    std::lock_guard lock(impl.lock);
    go = impl.restart.source == current && impl.settings.auto_restart;
    if (impl.restart.source == current) {
      impl.restart.source = nullptr;
      g_source_unref(current);  // the dispatch holds its own reference
    }
  }
  go = go && target_is_playing(self);
  if (go && pending->step == Step::TearDown) tear_down(self);
  if (go && pending->step == Step::Begin) begin(self);
  GST_STATE_UNLOCK(self);
  return G_SOURCE_REMOVE;
}

}  // namespace

void auto_restart_after_failure(GstDtlsTransportBin* self) {
  if (!target_is_playing(self)) return;
  BinImpl& impl = impl_of(self);
  std::lock_guard lock(impl.lock);
  if (!impl.settings.auto_restart || impl.restart.source || impl.run.phase == Phase::Null) return;
  schedule_locked(self, Step::TearDown, 0);
}

void auto_restart_connected(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  std::lock_guard lock(impl.lock);
  impl.restart.attempts = 0;
}

void auto_restart_cancel(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  GSource* source;
  {
    std::lock_guard lock(impl.lock);
    source = std::exchange(impl.restart.source, nullptr);
  }
  if (!source) return;
  g_source_destroy(source);  // its destroy notify drops the element and the context
  g_source_unref(source);
}

}  // namespace gstdtls
