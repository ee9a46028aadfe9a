// Consent freshness (RFC 7675) over libnice 0.1.21's: libnice declares consent lost 10 s after
// the last answer and never sends on that pair again; the element re-arms the pair, shows
// ice-state disconnected, and decides between regained and failed within the 30 s RFC 7675 §5.1
// allows. on_component_state_changed (ice_transport.cpp) tells a loss apart and calls here.
#include "ice_transport.h"

GST_DEBUG_CATEGORY_EXTERN(ice_debug);
#define GST_CAT_DEFAULT ice_debug

namespace gstdtls {
namespace {

// libnice 0.1.21 declares consent lost 10 s after the last answer; RFC 7675 §5.1 allows 30.
constexpr guint kLibniceConsentMs = 10000;
constexpr guint kConsentGraceMs = 20000;
// After re-arming, libnice starts its 10 s consent clock at its next consent check (checks go
// every 4–6 s, RFC 7675 §5.1's 0.8–1.2 × 5 s), so a peer that stays silent is declared lost again
// 10–16 s after the re-arm. Consent holds if no loss came within that, plus 3 s for timers that
// run late on a loaded machine: 16 s alone made a dead peer look regained when libnice's tick came
// a little after 16 s, and its failure then took another grace. The check must still come before
// the grace ends, or a pair that did come back would be declared failed.
constexpr guint kConsentCheckMaxIntervalMs = 6000;
constexpr guint kTimerSlackMs = 3000;
// A re-armed pair that went this long without a new loss has consent again.
constexpr guint kConsentHeldMs = kLibniceConsentMs + kConsentCheckMaxIntervalMs;
constexpr guint kConsentRegainedMs = kConsentHeldMs + kTimerSlackMs;
static_assert(kConsentRegainedMs < kConsentGraceMs,
              "consent must be known regained before the grace ends");

}  // namespace

// libnice 0.1.21 stops sending on a pair whose consent it declared lost and never takes it back,
// even when the peer answers again. Selecting the same pair again (its only public way) lets it
// send and restarts its 10 s consent clock. If no new loss comes within kConsentRegainedMs, the
// peer answered: consent is back and so is the state from before the loss. Media meanwhile may
// go into a cut path for at most the 30 s RFC 7675 §5.1 allows.
void IceTransport::rearm_consent() {
  NiceCandidate *local = nullptr, *remote = nullptr;
  unsigned losses;
  {
    std::lock_guard lock(mutex_);
    if (closed_ || consent_expired_) return;
    losses = consent_losses_;
    last_rearm_us_ = g_get_monotonic_time();
  }
  if (!nice_agent_get_selected_pair(agent_, stream_, kComponent, &local, &remote)) return;
  const std::string local_foundation = local->foundation, remote_foundation = remote->foundation;
  {
    std::lock_guard lock(mutex_);
    reselecting_ = true;
  }
  const bool rearmed = nice_agent_set_selected_pair(
      agent_, stream_, kComponent, local_foundation.c_str(), remote_foundation.c_str());
  {
    std::lock_guard lock(mutex_);
    reselecting_ = false;
  }
  GST_INFO("consent lost (%u): pair re-armed: %s", losses, rearmed ? "yes" : "no");
  struct Check {
    std::weak_ptr<IceTransport> transport;
    unsigned losses;
  };
  GSource* source = g_timeout_source_new(kConsentRegainedMs);
  g_source_set_callback(
      source,
      [](gpointer data) -> gboolean {
        auto* check = static_cast<Check*>(data);
        auto self = check->transport.lock();
        if (!self) return G_SOURCE_REMOVE;
        bool regained;
        {
          std::lock_guard lock(self->mutex_);
          regained = !self->closed_ && self->consent_losses_ == check->losses &&
                     self->state_ == GST_DTLS_TRANSPORT_BIN_ICE_STATE_DISCONNECTED;
          if (regained) self->state_ = self->state_before_loss_;
        }
        if (!regained) return G_SOURCE_REMOVE;
        GST_INFO("consent regained");
        if (self->events_.state_changed) self->events_.state_changed();
        return G_SOURCE_REMOVE;
      },
      new Check{weak_from_this(), losses}, [](gpointer data) { delete static_cast<Check*>(data); });
  g_source_attach(source, context_);
  g_source_unref(source);
}

// RFC 7675 §5.1 gives consent 30 s; libnice 0.1.21 gives up after 10 s (later versions after 30).
// The remaining 20 s are a grace during which ice-state says disconnected and libnice may find the
// pair again (the peer's checks get through once the path is back); at its end, still
// disconnected, ICE has failed.
void IceTransport::start_consent_grace() {
  struct Grace {
    std::weak_ptr<IceTransport> transport;
    unsigned episode;
  };
  unsigned episode;
  {
    std::lock_guard lock(mutex_);
    episode = consent_episode_;
  }
  GSource* source = g_timeout_source_new(kConsentGraceMs);
  g_source_set_callback(
      source,
      [](gpointer data) -> gboolean {
        auto* grace = static_cast<Grace*>(data);
        auto self = grace->transport.lock();
        if (!self) return G_SOURCE_REMOVE;
        bool expired = false, regained = false;
        {
          std::lock_guard lock(self->mutex_);
          // Still disconnected since this loss (a later loss has its own grace).
          const bool disconnected = !self->closed_ && self->consent_episode_ == grace->episode &&
                                    self->state_ == GST_DTLS_TRANSPORT_BIN_ICE_STATE_DISCONNECTED;
          // Decided by how long the latest re-arm has held, not by which timer runs first: on a
          // late thread the re-arm's own check may come due in the same iteration, after this.
          regained = disconnected &&
                     g_get_monotonic_time() - self->last_rearm_us_ >= gint64{kConsentHeldMs} * 1000;
          expired = disconnected && !regained;
          if (regained) self->state_ = self->state_before_loss_;
          if (expired) {
            self->state_ = GST_DTLS_TRANSPORT_BIN_ICE_STATE_FAILED;
            self->consent_expired_ = true;
          }
        }
        if (regained) {
          GST_INFO("consent regained (at the end of the grace)");
          if (self->events_.state_changed) self->events_.state_changed();
        }
        if (!expired) return G_SOURCE_REMOVE;
        GST_INFO("consent not regained within the grace: ICE failed");
        if (self->events_.state_changed) self->events_.state_changed();
        if (self->events_.failed)
          self->events_.failed(
              "ICE connectivity lost: consent expired (no answer from the peer to consent "
              "checks for 30 s, RFC 7675)");
        return G_SOURCE_REMOVE;
      },
      new Grace{weak_from_this(), episode},
      [](gpointer data) { delete static_cast<Grace*>(data); });
  g_source_attach(source, context_);
  g_source_unref(source);
}

}  // namespace gstdtls
