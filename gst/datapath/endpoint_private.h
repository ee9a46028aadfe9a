// Inside the data-path element: its state, shared by endpoint.cpp, dtls_driver.cpp,
// send_path.cpp and receive_path.cpp. Not for the bin (it uses endpoint.h).
#pragma once

#include <array>
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "endpoint.h"
#include "srtp_session.hpp"

GST_DEBUG_CATEGORY_EXTERN(endpoint_debug);

namespace gstdtls {

// One state change of the core, on its way to the bin.
struct DtlsEvent {
  dtlstransport::DtlsState state;
  dtlstransport::FailureReason reason;
  std::string detail;
  bool reconnected = false;  // a reconnect (state unchanged) instead of a state change
};

// Per media src pad, touched only by the nicesrc streaming thread (and by change_state while no
// streaming runs).
struct SrcPadState {
  bool started = false;
  int caps_pt = -1;              // payload type whose caps were last pushed; -1 none
  unsigned caps_generation = 0;  // pt-map generation those caps came from
};

struct EndpointImpl {
  EndpointListener listener;

  // DTLS: the core is single-threaded by contract; this mutex serializes every call.
  std::mutex dtls_mutex;
  std::unique_ptr<dtlstransport::DtlsTransport> dtls;
  GSource* timer = nullptr;
  dtlstransport::TimePoint started_at;
  // The core's state changes leave in the order it produced them, whichever thread caused them:
  // its callback queues them here (under dtls_mutex) and one thread at a time delivers the queue
  // with no lock held (two threads delivering their own batches could reorder
  // connecting/connected). A leaf lock.
  std::mutex deliver_mutex;
  std::deque<DtlsEvent> outbox;
  bool delivering = false;

  // SRTP: one session, each direction serialized by its own mutex (srtp_session.hpp).
  std::mutex protect_mutex;
  std::mutex unprotect_mutex;
  dtlstransport::SrtpSession srtp;
  std::atomic<bool> media_open{false};

  // Everything pushed on net_src (DTLS and SRTP), so sticky events precede data and pushes from
  // the DTLS timer, the receive thread and the send threads do not interleave inside nicesink.
  std::mutex net_mutex;
  bool network_open = false;
  bool net_started = false;

  std::mutex info_mutex;
  EndpointInfo info;  // non-counter fields

  std::atomic<uint64_t> packets_sent{0}, bytes_sent{0}, packets_received{0}, bytes_received{0};
  std::atomic<uint64_t> rtcp_packets_sent{0}, rtcp_packets_received{0};
  std::atomic<uint64_t> dropped_auth_failure{0}, dropped_replay{0}, dropped_no_keys{0},
      dropped_malformed{0};
  std::atomic<uint64_t> sctp_packets_sent{0}, sctp_packets_received{0}, sctp_packets_dropped{0};
  // Application data the core decrypted during a call, pushed on data_src after it (under
  // dtls_mutex while filled; data_push_mutex serializes the pushes and the sticky events).
  std::deque<std::vector<uint8_t>> data_inbox;
  std::mutex data_push_mutex;
  bool data_src_started = false;  // under data_push_mutex
  // DTLS records the core discarded unread (dtls_record.hpp); part of dropped-malformed.
  std::atomic<uint64_t> discarded_dtls_records{0};

  // Received RTP's caps per payload type (RFC 3550 §5.1: 7 bits, so 128 of them).
  static constexpr size_t kPayloadTypes = 128;
  std::mutex pt_mutex;
  GstCaps* pt_map = nullptr;
  std::array<GstCaps*, kPayloadTypes> pt_cache{};
  std::atomic<unsigned> pt_generation{0};  // written under pt_mutex

  SrcPadState rtp_src_state, rtcp_src_state;

  ~EndpointImpl() {
    gst_caps_replace(&pt_map, nullptr);
    for (auto& caps : pt_cache) gst_caps_replace(&caps, nullptr);
  }
};

}  // namespace gstdtls

struct _GstDtlsTransportEndpoint {
  GstElement parent;
  GstPad* net_sink;
  GstPad* net_src;
  GstPad* rtp_sink;
  GstPad* rtcp_sink;
  GstPad* rtp_src;
  GstPad* rtcp_src;
  GstPad* data_sink;
  GstPad* data_src;
  std::unique_ptr<gstdtls::EndpointImpl> impl;  // placement-constructed in init
};

namespace gstdtls {

inline EndpointImpl& impl_of(GstDtlsTransportEndpoint* self) { return *self->impl; }

inline std::span<uint8_t> as_span(const GstMapInfo& map) { return {map.data, map.size}; }

// endpoint.cpp: sticky events for a pad's first data.
void push_stream_start(GstPad* pad, const char* suffix);
void push_caps(GstPad* pad, GstCaps* caps);  // takes `caps`

// dtls_driver.cpp: a DTLS datagram from the network, fed to the core.
void dtls_handle_datagram(GstDtlsTransportEndpoint* self, std::span<const uint8_t> datagram);

// dtls_driver.cpp: one SCTP packet as one DTLS record; false (nothing sent) unless connected.
bool dtls_send_application_data(GstDtlsTransportEndpoint* self, std::span<const uint8_t> data);

// application_data.cpp
GstFlowReturn data_sink_chain(GstPad* pad, GstObject* parent, GstBuffer* buffer);
// Pushes what the core decrypted during the last call on data_src (no endpoint lock held).
void push_application_data(GstDtlsTransportEndpoint* self);

// send_path.cpp
// Hands a buffer or a list to nicesink (takes it); dropped unless PLAYING.
void push_network(GstDtlsTransportEndpoint* self, GstBuffer* buffer, GstBufferList* list);
GstFlowReturn send_chain(GstPad* pad, GstObject* parent, GstBuffer* buffer);
GstFlowReturn send_chain_list(GstPad* pad, GstObject* parent, GstBufferList* list);
gboolean media_sink_event(GstPad* pad, GstObject* parent, GstEvent* event);

// receive_path.cpp
GstFlowReturn net_chain(GstPad* pad, GstObject* parent, GstBuffer* buffer);
gboolean media_src_query(GstPad* pad, GstObject* parent, GstQuery* query);

}  // namespace gstdtls
