// SCTP over the bin's DTLS association with GStreamer's sctpenc/sctpdec, and DCEP (RFC 8832) on
// top: see sctp_transport.h for the lifetime and the threads.
#include "sctp_transport.h"

#include <gst/app/gstappsrc.h>
#include <gst/sctp/sctpreceivemeta.h>
#include <gst/sctp/sctpsendmeta.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cstdio>

#include "dcep.hpp"
#include "main_context.h"
#include "sctp_transport_private.h"

GST_DEBUG_CATEGORY(datachannel_debug);
#define GST_CAT_DEFAULT datachannel_debug

namespace dt = dtlstransport;

namespace gstdtls {

namespace {

// gst-plugins-bad keeps one process-wide table of associations by id, shared with webrtcbin
// (which picks random ids): ours start at a random point and never repeat within the process.
guint next_association_id() {
  static std::atomic<guint> next{static_cast<guint>(g_random_int_range(1, 30000))};
  return 1 + next.fetch_add(1) % 65000;
}

// gst-plugins-bad 1.22 opens 1024 streams each way (DEFAULT_NUMBER_OF_SCTP_STREAMS).
constexpr uint32_t kStreams = 1024;

}  // namespace

void run_on_shared(std::function<void()> work) {
  GMainContext* context = shared_main_context_acquire();
  auto* closure = new std::function<void()>(std::move(work));
  g_main_context_invoke_full(
      context, G_PRIORITY_DEFAULT,
      [](gpointer data) -> gboolean {
        (*static_cast<std::function<void()>*>(data))();
        shared_main_context_release();
        return G_SOURCE_REMOVE;
      },
      closure, [](gpointer data) { delete static_cast<std::function<void()>*>(data); });
  g_main_context_unref(context);  // acquire gave us a reference; the use lasts until the release
}

struct DataChannelTransport::PendingDrop {
  std::mutex lock;
  bool done = false;
  std::vector<GstElement*> elements;
  GstPad* enc_pad = nullptr;
  // Once, from whichever comes first: the shared thread, or end(true) (the bin goes to NULL).
  void run(GstBin* bin) {
    std::lock_guard guard(lock);
    if (done) return;
    done = true;
    // The pad first: sctpenc's chain waits (for its turn, or for room in usrsctp's buffer) until
    // the pad is flushing, which the release sets; only then can the appsrc's task be stopped.
    if (enc_pad) {
      if (GstElement* sctpenc = gst_pad_get_parent_element(enc_pad)) {
        gst_element_release_request_pad(sctpenc, enc_pad);
        gst_object_unref(sctpenc);
      }
      gst_object_unref(enc_pad);
    }
    for (GstElement* element : elements) {
      gst_element_set_locked_state(element, TRUE);
      gst_element_set_state(element, GST_STATE_NULL);
      if (GST_OBJECT_PARENT(element) == GST_OBJECT(bin)) gst_bin_remove(bin, element);
      gst_object_unref(element);
    }
  }
};

DataChannelTransport::DataChannelTransport(GstBin* bin, GstDtlsTransportEndpoint* endpoint)
    : bin_(bin), endpoint_(endpoint) {
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(datachannel_debug, "dtlstransportdatachannel", 0,
                            "dtlstransportbin data channels");
    g_once_init_leave(&once, 1);
  }
}

DataChannelTransport::~DataChannelTransport() { end(true); }

void DataChannelTransport::start(const SctpConfig& config, dt::DtlsRole role) {
  end(false);  // a reconnect never gets here; a new DTLS association is a new SCTP association
  auto session = std::make_shared<Session>();
  session->association_id = next_association_id();
  session->sctpenc = gst_element_factory_make("sctpenc", nullptr);
  session->sctpdec = gst_element_factory_make("sctpdec", nullptr);
  if (!session->sctpenc || !session->sctpdec) {
    GST_ELEMENT_WARNING(bin_, CORE, MISSING_PLUGIN, ("data channels need sctpenc and sctpdec"),
                        ("gst-plugins-bad's sctp plugin is not installed"));
    if (session->sctpenc) gst_object_unref(session->sctpenc);
    if (session->sctpdec) gst_object_unref(session->sctpdec);
    return;
  }
  // One-to-one socket, as webrtcbin: usrsctp finds the association for a stream reset (a
  // channel's close) only on such a socket; partial reliability still comes per message (meta).
  g_object_set(session->sctpenc, "sctp-association-id", session->association_id, "remote-sctp-port",
               config.remote_port, "use-sock-stream", TRUE, nullptr);
  g_object_set(session->sctpdec, "sctp-association-id", session->association_id, "local-sctp-port",
               config.local_port, nullptr);
  g_signal_connect(session->sctpenc, "sctp-association-established",
                   G_CALLBACK(on_association_established), this);
  g_signal_connect(session->sctpdec, "pad-added", G_CALLBACK(on_dec_pad_added), this);
  g_signal_connect(session->sctpdec, "pad-removed", G_CALLBACK(on_dec_pad_removed), this);
  gst_object_ref(session->sctpenc);
  gst_object_ref(session->sctpdec);
  // Their state is ours alone (PLAYING from here until end()): the bin's own state changes never
  // touch them, so a session racing the bin's way to NULL cannot make its next start fail.
  gst_element_set_locked_state(session->sctpenc, TRUE);
  gst_element_set_locked_state(session->sctpdec, TRUE);
  gst_bin_add_many(bin_, session->sctpenc, session->sctpdec, nullptr);
  {
    std::lock_guard lock(lock_);
    config_ = config;
    role_ = role;
    session_ = session;
  }
  GstPad* dec_sink = gst_element_get_static_pad(session->sctpdec, "sink");
  GstPad* enc_src = gst_element_get_static_pad(session->sctpenc, "src");
  gst_pad_link(endpoint_data_src(endpoint_), dec_sink);
  gst_pad_link(enc_src, endpoint_data_sink(endpoint_));
  gst_object_unref(dec_sink);
  gst_object_unref(enc_src);
  GST_INFO_OBJECT(bin_, "DTLS connected: SCTP association %u, port %u → %u",
                  session->association_id, config.local_port, config.remote_port);
  // The decoder first, so that the peer's first packets find it; the encoder's READY→PAUSED
  // starts the association (INIT).
  gst_element_set_state(session->sctpdec, GST_STATE_PLAYING);
  gst_element_set_state(session->sctpenc, GST_STATE_PLAYING);
}

void DataChannelTransport::end(bool everything) {
  std::shared_ptr<Session> session;
  std::vector<std::shared_ptr<Entry>> entries;
  {
    std::lock_guard lock(lock_);
    session = std::move(session_);
    session_.reset();
    // Channels never opened on the wire wait for the next association, unless the bin goes.
    auto waiting = std::stable_partition(entries_.begin(), entries_.end(),
                                         [&](const auto& e) { return !e->opening && !everything; });
    entries.assign(waiting, entries_.end());
    entries_.erase(waiting, entries_.end());
  }
  // From a DTLS state change the elements leave on the shared thread: this may be one of their
  // own streaming threads (sctpenc's pushes reach the core, which may deliver a state change).
  const bool now = everything;
  if (session) {
    g_signal_handlers_disconnect_by_data(session->sctpenc, this);
    g_signal_handlers_disconnect_by_data(session->sctpdec, this);
    // Unlinked at once: the next association links the data path's pads again.
    GstPad* dec_sink = gst_element_get_static_pad(session->sctpdec, "sink");
    GstPad* enc_src = gst_element_get_static_pad(session->sctpenc, "src");
    gst_pad_unlink(endpoint_data_src(endpoint_), dec_sink);
    gst_pad_unlink(enc_src, endpoint_data_sink(endpoint_));
    gst_object_unref(dec_sink);
    gst_object_unref(enc_src);
  }
  for (auto& entry : entries) remove_send_path(entry, now);
  if (now) {
    // Going to NULL: what still waits for the shared thread leaves now, so that no element of ours
    // runs (and no channel signal comes) once the bin is in NULL.
    std::vector<std::weak_ptr<PendingDrop>> pending;
    {
      std::lock_guard lock(lock_);
      pending.swap(pending_drops_);
    }
    for (auto& weak : pending)
      if (auto drop = weak.lock()) drop->run(bin_);
  }
  if (session) {
    GST_INFO_OBJECT(bin_, "SCTP association %u ends", session->association_id);
    drop_elements({session->sctpenc, session->sctpdec}, nullptr, now);
  }
  for (auto& entry : entries) {
    if (data_channel_state(entry->channel) != GST_WEBRTC_DATA_CHANNEL_STATE_CLOSED &&
        entry->opening)
      channels_closed_.fetch_add(1);
    data_channel_set_state(entry->channel, GST_WEBRTC_DATA_CHANNEL_STATE_CLOSED);
  }
}

GstDtlsTransportDataChannel* DataChannelTransport::create_channel(ChannelOptions options,
                                                                  std::string& error) {
  if (options.max_packet_lifetime >= 0 && options.max_retransmits >= 0) {
    error = "max-packet-lifetime and max-retransmits cannot both be set (RFC 8831 §6.6)";
    return nullptr;
  }
  if (options.negotiated && options.id < 0) {
    error = "a negotiated data channel needs its id (the stream both sides agreed on)";
    return nullptr;
  }
  if (options.id > static_cast<int>(kStreams) - 1) {
    error = "id " + std::to_string(options.id) + " is beyond the " + std::to_string(kStreams) +
            " SCTP streams the association opens";
    return nullptr;
  }
  auto entry = std::make_shared<Entry>();
  entry->holds_early = options.negotiated;
  bool up = false;
  {
    std::lock_guard lock(lock_);
    if (options.id >= 0) {
      for (auto& other : entries_) {
        if (data_channel_id(other->channel) == options.id) {
          error = "id " + std::to_string(options.id) + " is already used by another data channel";
          return nullptr;
        }
      }
    }
    entry->channel = data_channel_new(options, weak_from_this());
    entries_.push_back(entry);
    up = session_ && session_->up;
  }
  if (up) open_channel(entry);
  return GST_DTLS_TRANSPORT_DATA_CHANNEL(g_object_ref(entry->channel));
}

void DataChannelTransport::on_association_established(GstElement*, gboolean established,
                                                      gpointer user_data) {
  auto* self = static_cast<DataChannelTransport*>(user_data);
  if (!established) return;
  // Emitted from inside usrsctp: requesting sctpenc pads there could deadlock, so the channels
  // open on the shared context.
  std::weak_ptr<DataChannelTransport> weak = self->weak_from_this();
  run_on_shared([weak] {
    if (auto transport = weak.lock()) transport->association_up();
  });
}

void DataChannelTransport::association_up() {
  std::vector<std::shared_ptr<Entry>> pending;
  {
    std::lock_guard lock(lock_);
    if (!session_ || session_->up) return;
    session_->up = true;
    GST_INFO_OBJECT(bin_, "SCTP association %u established", session_->association_id);
    pending = entries_;
  }
  for (auto& entry : pending) open_channel(entry);
}

void DataChannelTransport::open_channel(const std::shared_ptr<Entry>& entry) {
  ChannelOptions options = data_channel_options(entry->channel);
  int id = options.id;
  {
    std::lock_guard lock(lock_);
    if (entry->opening || !session_) return;
    entry->opening = true;
    if (id < 0) {
      auto picked = dt::pick_stream_id(role_, kStreams, [&](uint16_t candidate) {
        for (auto& other : entries_)
          if (data_channel_id(other->channel) == candidate) return true;
        return false;
      });
      if (!picked) {
        GST_WARNING_OBJECT(bin_, "cannot open data channel '%s': %s", options.label.c_str(),
                           picked.error().message.c_str());
        entry->opening = false;
        id = -1;
      } else {
        id = *picked;
      }
    }
  }
  if (id < 0) {
    finish_close(entry);
    return;
  }
  if (options.id < 0) data_channel_set_id(entry->channel, id);
  if (!add_send_path(entry, static_cast<guint>(id))) {
    finish_close(entry);
    return;
  }
  channels_opened_.fetch_add(1);
  if (options.negotiated) {
    data_channel_set_state(entry->channel, GST_WEBRTC_DATA_CHANNEL_STATE_OPEN);
    // What arrived before the channel was open, in order; until `holds_early` is cleared new
    // messages queue behind it (hold_early).
    for (;;) {
      std::vector<std::pair<guint32, GstBuffer*>> batch;
      {
        std::lock_guard lock(lock_);
        if (entry->early.empty()) {
          entry->holds_early = false;
          break;
        }
        batch.swap(entry->early);
      }
      for (auto& [ppid, buffer] : batch) {
        deliver(entry, ppid, buffer);
        gst_buffer_unref(buffer);
      }
    }
    return;
  }
  dt::DcepOpen open;
  open.label = options.label;
  open.protocol = options.protocol;
  open.ordered = options.ordered;
  if (options.max_retransmits >= 0) {
    open.reliability = dt::Reliability::Retransmits;
    open.reliability_parameter = static_cast<uint32_t>(options.max_retransmits);
  } else if (options.max_packet_lifetime >= 0) {
    open.reliability = dt::Reliability::Timed;
    open.reliability_parameter = static_cast<uint32_t>(options.max_packet_lifetime);
  }
  // RFC 8832 §4 priority values: 128 below normal, 256 normal, 512 high, 1024 extra high.
  static const uint16_t kPriorities[] = {128, 128, 256, 512, 1024};
  open.priority = kPriorities[std::clamp(static_cast<int>(options.priority), 0, 4)];
  auto bytes = dt::encode_dcep_open(open);
  if (!bytes) {
    data_channel_emit_error(entry->channel, bytes.error().message.c_str());
    close(entry->channel);
    return;
  }
  push_message(entry, static_cast<uint32_t>(dt::Ppid::Dcep), bytes->data(), bytes->size(), false);
}

bool DataChannelTransport::add_send_path(const std::shared_ptr<Entry>& entry, guint id) {
  std::shared_ptr<Session> session;
  {
    std::lock_guard lock(lock_);
    session = session_;
  }
  if (!session) return false;
  gchar name[32];
  g_snprintf(name, sizeof name, "sink_%u", id);
  GstPad* enc_pad = gst_element_request_pad_simple(session->sctpenc, name);
  if (!enc_pad) {
    GST_WARNING_OBJECT(bin_, "sctpenc refused stream %u", id);
    return false;
  }
  GstElement* appsrc = gst_element_factory_make("appsrc", nullptr);
  // Never blocks the sender: buffered-amount is how an application sees the queue.
  g_object_set(appsrc, "is-live", TRUE, "max-bytes", G_GUINT64_CONSTANT(0), "block", FALSE,
               "format", GST_FORMAT_BYTES, nullptr);
  gst_element_set_locked_state(appsrc, TRUE);  // ours alone, as sctpenc's (start())
  gst_bin_add(bin_, GST_ELEMENT(gst_object_ref(appsrc)));
  GstPad* src = gst_element_get_static_pad(appsrc, "src");
  gst_pad_link(src, enc_pad);
  gst_object_unref(src);
  gst_element_set_state(appsrc, GST_STATE_PLAYING);
  std::lock_guard lock(lock_);
  entry->appsrc = appsrc;
  entry->enc_pad = enc_pad;
  return true;
}

void DataChannelTransport::remove_send_path(const std::shared_ptr<Entry>& entry, bool now) {
  GstElement* appsrc = nullptr;
  GstPad* enc_pad = nullptr;
  {
    std::lock_guard lock(lock_);
    appsrc = std::exchange(entry->appsrc, nullptr);
    enc_pad = std::exchange(entry->enc_pad, nullptr);
  }
  if (appsrc || enc_pad)
    drop_elements(appsrc ? std::vector{appsrc} : std::vector<GstElement*>{}, enc_pad, now);
}

// Takes the references. `enc_pad` is released (sctpenc resets its stream: RFC 8831 §6.7, the
// peer closes its side), then the elements go to NULL and leave the bin. `now`, or else on the
// shared thread: a close or a DTLS state change may come from an element's own streaming thread
// (a handler of on-buffered-amount-low, on-message-*, or sctpenc's push into the data path), where
// GStreamer cannot stop that element's task.
void DataChannelTransport::drop_elements(std::vector<GstElement*> elements, GstPad* enc_pad,
                                         bool now) {
  auto drop = std::make_shared<PendingDrop>();
  drop->elements = std::move(elements);
  drop->enc_pad = enc_pad;
  if (now) {
    drop->run(bin_);
    return;
  }
  {
    std::lock_guard lock(lock_);
    std::erase_if(pending_drops_, [](const auto& weak) { return weak.expired(); });
    pending_drops_.push_back(drop);
  }
  // The bin is held until the drop has run: an application dropping it meanwhile cannot dispose
  // it inside the drop (GstBin emits element-removed with a reference of its own).
  auto* bin = GST_BIN(gst_object_ref(bin_));
  run_on_shared([drop, bin] {
    drop->run(bin);
    gst_object_unref(bin);
  });
}

bool DataChannelTransport::push_message(const std::shared_ptr<Entry>& entry, uint32_t ppid,
                                        const uint8_t* data, size_t size, bool count) {
  GstElement* appsrc = nullptr;
  {
    std::lock_guard lock(lock_);
    if (entry->appsrc) appsrc = GST_ELEMENT(gst_object_ref(entry->appsrc));
  }
  if (!appsrc) return false;
  ChannelOptions options = data_channel_options(entry->channel);
  // SCTP cannot carry an empty message (RFC 8831 §6.6): one byte with the "empty" PPID.
  static const uint8_t kZero = 0;
  if (size == 0) {
    ppid = ppid == static_cast<uint32_t>(dt::Ppid::String)
               ? static_cast<uint32_t>(dt::Ppid::StringEmpty)
               : static_cast<uint32_t>(dt::Ppid::BinaryEmpty);
    data = &kZero;
    size = 1;
  }
  GstBuffer* buffer = gst_buffer_new_memdup(data, size);
  const bool dcep = ppid == static_cast<uint32_t>(dt::Ppid::Dcep);
  auto pr = GST_SCTP_SEND_META_PARTIAL_RELIABILITY_NONE;
  guint32 pr_param = 0;
  if (!dcep && options.max_retransmits >= 0) {
    pr = GST_SCTP_SEND_META_PARTIAL_RELIABILITY_RTX;
    pr_param = static_cast<guint32>(options.max_retransmits);
  } else if (!dcep && options.max_packet_lifetime >= 0) {
    pr = GST_SCTP_SEND_META_PARTIAL_RELIABILITY_TTL;
    pr_param = static_cast<guint32>(options.max_packet_lifetime);
  }
  // DCEP messages go ordered and reliable (RFC 8832 §6).
  gst_sctp_buffer_add_send_meta(buffer, ppid, dcep || options.ordered, pr, pr_param);
  if (count) {
    // buffered-amount: from here until sctpenc has handed the message to usrsctp and drops it.
    struct Pending {
      GstDtlsTransportDataChannel* channel;
      uint64_t size;
    };
    data_channel_buffered_add(entry->channel, size);
    auto* pending =
        new Pending{GST_DTLS_TRANSPORT_DATA_CHANNEL(g_object_ref(entry->channel)), size};
    gst_mini_object_weak_ref(
        GST_MINI_OBJECT(buffer),
        [](gpointer user_data, GstMiniObject*) {
          auto* p = static_cast<Pending*>(user_data);
          data_channel_buffered_remove(p->channel, p->size);
          g_object_unref(p->channel);
          delete p;
        },
        pending);
  }
  GstFlowReturn ret = gst_app_src_push_buffer(GST_APP_SRC(appsrc), buffer);
  gst_object_unref(appsrc);
  if (ret != GST_FLOW_OK) return false;
  if (count) {
    messages_sent_.fetch_add(1);
    bytes_sent_.fetch_add(size);
  }
  return true;
}

std::string DataChannelTransport::send(GstDtlsTransportDataChannel* channel, bool binary,
                                       const uint8_t* data, size_t size) {
  auto entry = find(channel);
  std::string error;
  guint max = 0;
  {
    std::lock_guard lock(lock_);
    max = config_.max_message_size;
  }
  const auto state = data_channel_state(channel);
  if (state != GST_WEBRTC_DATA_CHANNEL_STATE_OPEN || !entry) {
    // RFC 8831 / W3C: nothing is queued for a channel that is not open (documented).
    error = state == GST_WEBRTC_DATA_CHANNEL_STATE_CONNECTING
                ? "the data channel is not open yet (ready-state connecting): nothing sent"
                : "the data channel is closed: nothing sent";
  } else if (max != 0 && size > max) {
    error = "message of " + std::to_string(size) + " bytes is larger than max-message-size " +
            std::to_string(max) + " (the largest the peer accepts): nothing sent";
  } else if (!push_message(entry,
                           static_cast<uint32_t>(binary ? dt::Ppid::Binary : dt::Ppid::String),
                           data, size, true)) {
    error = "the data channel's send path is gone: nothing sent";
  }
  if (!error.empty()) messages_refused_.fetch_add(1);
  return error;
}

void DataChannelTransport::close(GstDtlsTransportDataChannel* channel) {
  auto entry = find(channel);
  if (!entry) {
    data_channel_set_state(channel, GST_WEBRTC_DATA_CHANNEL_STATE_CLOSED);
    return;
  }
  const auto state = data_channel_state(channel);
  if (state == GST_WEBRTC_DATA_CHANNEL_STATE_CLOSING ||
      state == GST_WEBRTC_DATA_CHANNEL_STATE_CLOSED)
    return;
  bool has_path;
  {
    std::lock_guard lock(lock_);
    has_path = entry->enc_pad != nullptr;
  }
  if (!has_path) {  // never opened on the wire: nothing to tell the peer
    finish_close(entry);
    return;
  }
  data_channel_set_state(channel, GST_WEBRTC_DATA_CHANNEL_STATE_CLOSING);
  // Our outgoing stream is reset (RFC 8831 §6.7); closed comes with the peer's reset of its own
  // (peer_reset).
  remove_send_path(entry, false);
}

void DataChannelTransport::finish_close(const std::shared_ptr<Entry>& entry) {
  bool counted;
  {
    std::lock_guard lock(lock_);
    auto it = std::find(entries_.begin(), entries_.end(), entry);
    if (it == entries_.end()) return;
    entries_.erase(it);
    counted = entry->opening;
  }
  remove_send_path(entry, false);
  if (counted) channels_closed_.fetch_add(1);
  data_channel_set_state(entry->channel, GST_WEBRTC_DATA_CHANNEL_STATE_CLOSED);
}

std::shared_ptr<DataChannelTransport::Entry> DataChannelTransport::find(
    GstDtlsTransportDataChannel* channel) {
  std::lock_guard lock(lock_);
  for (auto& entry : entries_)
    if (entry->channel == channel) return entry;
  return nullptr;
}

std::shared_ptr<DataChannelTransport::Entry> DataChannelTransport::find_id(guint id) {
  std::lock_guard lock(lock_);
  for (auto& entry : entries_)
    if (entry->opening && data_channel_id(entry->channel) == static_cast<int>(id)) return entry;
  return nullptr;
}

bool DataChannelTransport::running() const {
  std::lock_guard lock(lock_);
  return session_ != nullptr;
}

void DataChannelTransport::set_max_message_size(guint size) {
  std::lock_guard lock(lock_);
  config_.max_message_size = size;
}

DataChannelStats DataChannelTransport::stats() const {
  DataChannelStats s;
  s.channels_opened = channels_opened_;
  s.channels_closed = channels_closed_;
  s.messages_sent = messages_sent_;
  s.bytes_sent = bytes_sent_;
  s.messages_received = messages_received_;
  s.bytes_received = bytes_received_;
  s.messages_refused = messages_refused_;
  s.dcep_malformed = dcep_malformed_;
  return s;
}

}  // namespace gstdtls
