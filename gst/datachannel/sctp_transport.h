// The data channels of one dtlstransportbin: an SCTP association (RFC 8261, GStreamer's
// sctpenc/sctpdec from gst-plugins-bad, usrsctp) over the bin's DTLS association, DCEP (RFC 8832,
// src/dcep.*) and the channels (data_channel.*).
//
// Lifetime: the association exists only while DTLS is connected. start() (DTLS connected, the
// peer verified) adds sctpenc and sctpdec to the bin with a fresh process-unique
// sctp-association-id and links them to the data path's data_src/data_sink; both sides then send
// INIT (gst-plugins-bad 1.22 always connects, as webrtcbin does: SCTP resolves the simultaneous
// open). end() (DTLS closed or failed, stop, leaving PLAYING) removes them and closes every
// channel. So no SCTP packet exists before the peer is verified, and none is sent after.
//
// Threads: start/end run on the thread that delivered the DTLS state (nicesrc's or the shared
// context's), create/send/close on the application's; messages arrive on sctpdec's pad tasks; a
// peer's stream reset is handled on the shared context. One mutex guards the tables; element
// state changes, signals and notifies happen with it released.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "data_channel.h"
#include "datapath/endpoint.h"
#include "dtls_transport.hpp"

namespace gstdtls {

struct SctpConfig {
  guint local_port = 5000;         // sctp-port (a=sctp-port we announce)
  guint remote_port = 5000;        // remote-sctp-port (the peer's a=sctp-port)
  guint max_message_size = 65536;  // the peer's a=max-message-size; 0 = no limit (RFC 8841 §6.1)
};

struct DataChannelStats {
  uint64_t channels_opened = 0, channels_closed = 0;
  uint64_t messages_sent = 0, bytes_sent = 0, messages_received = 0, bytes_received = 0;
  uint64_t messages_refused = 0;  // sends refused: channel not open, or above max-message-size
  uint64_t dcep_malformed = 0;    // DCEP messages rejected (malformed, unexpected)
};

class DataChannelTransport : public std::enable_shared_from_this<DataChannelTransport> {
 public:
  // `bin` and `endpoint` outlive the transport (the bin owns it).
  DataChannelTransport(GstBin* bin, GstDtlsTransportEndpoint* endpoint);
  ~DataChannelTransport();

  // Emitted (no lock held) for each channel the peer opens: the bin's on-data-channel.
  std::function<void(GstDtlsTransportDataChannel*)> on_data_channel;

  // DTLS connected (peer verified) with `role`: the SCTP association starts.
  void start(const SctpConfig& config, dtlstransport::DtlsRole role);
  // DTLS gone (closed, failed, stopped, the run ended): SCTP removed, every channel opened on it
  // closed; channels not yet opened wait for the next association, or, `everything` (the bin
  // goes), are closed too.
  void end(bool everything = false);
  // Whether an association runs (between start() and end()).
  bool running() const;

  // create-data-channel: a new channel (a new reference) or nullptr with `error` set. Before the
  // association is up the channel waits in `connecting` and opens once it is.
  GstDtlsTransportDataChannel* create_channel(ChannelOptions options, std::string& error);
  // A message on `channel`; "" when queued for SCTP, else why it was refused (nothing sent).
  std::string send(GstDtlsTransportDataChannel* channel, bool binary, const uint8_t* data,
                   size_t size);
  void close(GstDtlsTransportDataChannel* channel);

  DataChannelStats stats() const;
  // max-message-size changed: applies to the next send.
  void set_max_message_size(guint size);

  struct Entry;

 private:
  struct Session;
  static void on_association_established(GstElement* sctpenc, gboolean established,
                                         gpointer user_data);
  static void on_dec_pad_added(GstElement* sctpdec, GstPad* pad, gpointer user_data);
  static void on_dec_pad_removed(GstElement* sctpdec, GstPad* pad, gpointer user_data);
  static GstPadProbeReturn on_message(GstPad* pad, GstPadProbeInfo* info, gpointer user_data);

  void association_up();
  // Opens `entry` now that the association is up: stream id, send path, DCEP OPEN (or, negotiated,
  // open at once). Call with no lock held.
  void open_channel(const std::shared_ptr<Entry>& entry);
  bool add_send_path(const std::shared_ptr<Entry>& entry, guint id);
  void remove_send_path(const std::shared_ptr<Entry>& entry, bool now);
  void drop_elements(std::vector<GstElement*> elements, GstPad* enc_pad, bool now);
  bool push_message(const std::shared_ptr<Entry>& entry, uint32_t ppid, const uint8_t* data,
                    size_t size, bool count);
  void handle_message(guint stream_id, guint32 ppid, GstBuffer* buffer);
  // A message on the stream of a negotiated channel not yet open (or whose early messages are
  // not yet delivered): kept for open_channel. False when there is none (or too many kept).
  bool hold_early(guint stream_id, guint32 ppid, GstBuffer* buffer);
  void deliver(const std::shared_ptr<Entry>& entry, guint32 ppid, GstBuffer* buffer);
  void handle_dcep(guint stream_id, GstBuffer* buffer);
  void peer_reset(guint stream_id);
  std::shared_ptr<Entry> find(GstDtlsTransportDataChannel* channel);
  std::shared_ptr<Entry> find_id(guint id);
  void finish_close(const std::shared_ptr<Entry>& entry);

  GstBin* bin_;
  GstDtlsTransportEndpoint* endpoint_;
  mutable std::mutex lock_;
  std::shared_ptr<Session> session_;             // while DTLS is connected
  std::vector<std::shared_ptr<Entry>> entries_;  // every channel not yet closed
  struct PendingDrop;
  std::vector<std::weak_ptr<PendingDrop>> pending_drops_;  // drop_elements() not yet run
  SctpConfig config_;
  dtlstransport::DtlsRole role_ = dtlstransport::DtlsRole::Auto;

  std::atomic<uint64_t> channels_opened_{0}, channels_closed_{0}, messages_sent_{0}, bytes_sent_{0},
      messages_received_{0}, bytes_received_{0}, messages_refused_{0}, dcep_malformed_{0};
};

}  // namespace gstdtls
