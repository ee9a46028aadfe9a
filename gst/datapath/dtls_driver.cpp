// The data path's DTLS driver: one sans-IO DtlsTransport per run, called under one lock, its
// timer a GSource on the shared main context, its datagrams sent through the send path and its
// state changes delivered to the bin in order, with no lock held.
#include <chrono>
#include <utility>

#include "endpoint_private.h"

#define GST_CAT_DEFAULT endpoint_debug

using dtlstransport::Clock;
using dtlstransport::DtlsState;
using dtlstransport::FailureReason;

namespace gstdtls {
namespace {

void rearm_timer_locked(EndpointImpl& impl) {
  if (!impl.timer) return;
  auto deadline = impl.dtls ? impl.dtls->next_timeout() : std::nullopt;
  if (!deadline) {
    g_source_set_ready_time(impl.timer, -1);
    return;
  }
  auto delta =
      std::chrono::duration_cast<std::chrono::microseconds>(*deadline - Clock::now()).count();
  // g_source ready times are CLOCK_MONOTONIC µs, the same clock as std::chrono::steady_clock.
  g_source_set_ready_time(impl.timer, g_get_monotonic_time() + std::max<int64_t>(delta, 0));
}

void update_info_locked(EndpointImpl& impl) {
  std::lock_guard lock(impl.info_mutex);
  auto& t = *impl.dtls;
  impl.discarded_dtls_records.store(t.discarded_records(), std::memory_order_relaxed);
  // A reconnect changes what was negotiated without changing the state.
  bool changed = impl.info.state != t.state() || impl.info.role != t.role() ||
                 impl.info.handshakes != t.handshakes();
  impl.info.state = t.state();
  impl.info.role = t.role();
  impl.info.handshakes = t.handshakes();
  impl.info.reconnects = t.reconnects();
  if (!changed) return;
  auto profile = t.srtp_profile();
  impl.info.srtp_profile = profile ? std::string(dtlstransport::openssl_name(*profile)) : "";
  impl.info.dtls_version = t.dtls_version();
  impl.info.cipher = t.cipher_suite();
  impl.info.remote_certificate_pem = t.remote_certificate_pem();
  if (t.state() == DtlsState::Connected && impl.info.handshake_ms < 0)
    impl.info.handshake_ms =
        std::chrono::duration<double, std::milli>(Clock::now() - impl.started_at).count();
}

// Drains the outbox unless another thread is draining it (that thread then delivers our events
// too, after its own). A listener calling back into the endpoint only queues more.
void deliver(EndpointImpl& impl) {
  std::unique_lock lock(impl.deliver_mutex);
  if (impl.delivering) return;
  impl.delivering = true;
  while (!impl.outbox.empty()) {
    DtlsEvent event = std::move(impl.outbox.front());
    impl.outbox.pop_front();
    lock.unlock();
    if (event.reconnected) {
      if (impl.listener.reconnected) impl.listener.reconnected();
    } else if (impl.listener.state_changed) {
      impl.listener.state_changed(event.state, event.reason, event.detail);
    }
    lock.lock();
  }
  impl.delivering = false;
}

// Runs one core call under the DTLS lock, then delivers its events with no lock held.
template <class F>
void with_dtls(GstDtlsTransportEndpoint* self, F&& call) {
  EndpointImpl& impl = impl_of(self);
  {
    std::lock_guard lock(impl.dtls_mutex);
    if (!impl.dtls) return;
    call(*impl.dtls);
    update_info_locked(impl);
    rearm_timer_locked(impl);
  }
  deliver(impl);
}

void on_srtp_keys(GstDtlsTransportEndpoint* self, const dtlstransport::SrtpKeys& keys) {
  EndpointImpl& impl = impl_of(self);
  std::scoped_lock lock(impl.protect_mutex, impl.unprotect_mutex);
  auto status = impl.srtp.set_keys(keys);
  if (!status) {
    GST_ERROR_OBJECT(self, "cannot install SRTP keys: %s", status.error().message.c_str());
    return;
  }
  impl.media_open = true;
}

// --- The timer: a GSource whose ready time is the core's next_timeout() ---

struct TimerSource {
  GSource source;
  GstDtlsTransportEndpoint* self;  // a reference, dropped when the source is finalized
};

gboolean timer_dispatch(GSource* source, GSourceFunc, gpointer) {
  auto* timer = reinterpret_cast<TimerSource*>(source);
  g_source_set_ready_time(source, -1);  // re-armed from next_timeout() below
  with_dtls(timer->self, [](auto& dtls) { dtls.handle_timeout(Clock::now()); });
  return G_SOURCE_CONTINUE;
}

void timer_finalize(GSource* source) {
  gst_object_unref(reinterpret_cast<TimerSource*>(source)->self);
}

GSourceFuncs timer_funcs = {nullptr, nullptr, timer_dispatch, timer_finalize, nullptr, nullptr};

}  // namespace

void dtls_handle_datagram(GstDtlsTransportEndpoint* self, std::span<const uint8_t> datagram) {
  with_dtls(self, [&](auto& dtls) { dtls.handle_datagram(datagram, Clock::now()); });
  push_application_data(self);
}

bool dtls_send_application_data(GstDtlsTransportEndpoint* self, std::span<const uint8_t> data) {
  bool sent = false;
  with_dtls(self, [&](auto& dtls) {
    // The core refuses in any state but connected (the peer verified): nothing of SCTP leaves
    // before that, nor after failed or stop.
    auto status = dtls.send_application_data(data);
    sent = status.ok();
    if (!sent) GST_LOG_OBJECT(self, "SCTP packet dropped: %s", status.error().message.c_str());
  });
  return sent;
}

dtlstransport::Status endpoint_prepare(GstDtlsTransportEndpoint* self,
                                       dtlstransport::DtlsConfig config, GMainContext* context) {
  endpoint_reset(self);
  EndpointImpl& impl = impl_of(self);
  dtlstransport::DtlsCallbacks callbacks;
  // The callbacks run inside a core call, under dtls_mutex (see with_dtls).
  callbacks.send_datagram = [self](std::span<const uint8_t> datagram) {
    push_network(self, gst_buffer_new_memdup(datagram.data(), datagram.size()), nullptr);
  };
  callbacks.state_changed = [self, &impl](DtlsState state, FailureReason reason,
                                          const std::string& detail) {
    if (state == DtlsState::Failed || state == DtlsState::Closed) impl.media_open = false;
    // The peer's certificate is public (its fingerprint goes in its offer): shown to diagnose a
    // wrong remote-fingerprints. Inside the core's call, impl.dtls is the caller.
    if (reason == FailureReason::FingerprintMismatch && impl.dtls)
      GST_INFO_OBJECT(self, "fingerprint mismatch: the peer presented %s",
                      impl.dtls->presented_fingerprint().c_str());
    std::lock_guard lock(impl.deliver_mutex);
    impl.outbox.push_back({state, reason, detail});
  };
  // Also on a reconnect: set_keys replaces both directions at once, under both SRTP locks.
  callbacks.srtp_keys = [self](const dtlstransport::SrtpKeys& keys) { on_srtp_keys(self, keys); };
  // Decrypted application data (SCTP packets): kept for push_application_data, after the call.
  callbacks.application_data = [&impl](std::span<const uint8_t> data) {
    impl.data_inbox.emplace_back(data.begin(), data.end());
  };
  callbacks.reconnected = [self, &impl] {
    GST_INFO_OBJECT(self, "DTLS reconnected: the peer completed a new verified handshake");
    std::lock_guard lock(impl.deliver_mutex);
    impl.outbox.push_back({DtlsState::Connected, FailureReason::None, {}, true});
  };
  auto transport = dtlstransport::DtlsTransport::create(std::move(config), std::move(callbacks));
  if (!transport) return transport.error();

  GSource* source = g_source_new(&timer_funcs, sizeof(TimerSource));
  reinterpret_cast<TimerSource*>(source)->self = GST_DTLS_TRANSPORT_ENDPOINT(gst_object_ref(self));
  g_source_set_ready_time(source, -1);
  g_source_set_priority(source, G_PRIORITY_DEFAULT);
  g_source_attach(source, context);

  std::lock_guard lock(impl.dtls_mutex);
  impl.dtls = std::move(transport).value();
  impl.timer = source;
  {
    std::lock_guard info_lock(impl.info_mutex);
    impl.info = {};
  }
  for (auto* counter :
       {&impl.packets_sent, &impl.bytes_sent, &impl.packets_received, &impl.bytes_received,
        &impl.rtcp_packets_sent, &impl.rtcp_packets_received, &impl.dropped_auth_failure,
        &impl.dropped_replay, &impl.dropped_no_keys, &impl.dropped_malformed,
        &impl.discarded_dtls_records, &impl.sctp_packets_sent, &impl.sctp_packets_received,
        &impl.sctp_packets_dropped})
    counter->store(0);
  return {};
}

void endpoint_start(GstDtlsTransportEndpoint* self, dtlstransport::DtlsRole local_role,
                    const dtlstransport::DtlsParameters& remote, bool ice_controlling) {
  EndpointImpl& impl = impl_of(self);
  with_dtls(self, [&](auto& dtls) {
    if (dtls.state() != DtlsState::New) return;
    impl.started_at = Clock::now();
    auto status = dtls.start(local_role, remote, ice_controlling, impl.started_at);
    if (!status) GST_WARNING_OBJECT(self, "DTLS start: %s", status.error().message.c_str());
  });
}

void endpoint_set_remote_fingerprints(GstDtlsTransportEndpoint* self,
                                      std::vector<dtlstransport::Fingerprint> fingerprints) {
  with_dtls(self, [&](auto& dtls) {
    dtls.set_remote_fingerprints(std::move(fingerprints), Clock::now());
  });
}

void endpoint_set_context(GstDtlsTransportEndpoint* self,
                          std::shared_ptr<const dtlstransport::DtlsContext> context) {
  EndpointImpl& impl = impl_of(self);
  // No event can come of it: nothing to deliver.
  std::lock_guard lock(impl.dtls_mutex);
  if (impl.dtls) impl.dtls->set_context(std::move(context));
}

void endpoint_stop(GstDtlsTransportEndpoint* self) {
  impl_of(self).media_open = false;
  with_dtls(self, [](auto& dtls) { dtls.stop(); });
}

void endpoint_transport_lost(GstDtlsTransportEndpoint* self, const std::string& detail) {
  impl_of(self).media_open = false;  // RFC 7675 §5.1: nothing more is sent
  with_dtls(self, [&](auto& dtls) { dtls.transport_lost(detail); });
}

void endpoint_reset(GstDtlsTransportEndpoint* self) {
  EndpointImpl& impl = impl_of(self);
  impl.media_open = false;
  std::unique_ptr<dtlstransport::DtlsTransport> old;
  GSource* timer = nullptr;
  {
    std::lock_guard lock(impl.dtls_mutex);
    old = std::move(impl.dtls);
    timer = std::exchange(impl.timer, nullptr);
    {
      std::lock_guard out(impl.deliver_mutex);
      impl.outbox.clear();  // the old run's events must not reach the next one
    }
    impl.data_inbox.clear();
    std::lock_guard info_lock(impl.info_mutex);
    impl.info = {};  // the next run starts at new; counters stay readable until then
  }
  if (timer) {
    g_source_destroy(timer);  // finalizing it drops its reference to us
    g_source_unref(timer);
  }
  {
    std::scoped_lock lock(impl.protect_mutex, impl.unprotect_mutex);
    impl.srtp = dtlstransport::SrtpSession();
  }
  // `old` is destroyed here, outside every lock; no network push can reach it any more.
}

}  // namespace gstdtls
