// bench_element's streams (figures 2, 5 and 6): RTP packets pushed into appsrc, counted at the
// receiving fakesink, with the process CPU and context switches over a run; the streams of ours,
// of the srtpenc/srtpdec + udp anchor and of webrtcbin; the `metric` lines bench/run joins with
// bench_floor's.
#pragma once

#include <sys/resource.h>

#include <cstdint>
#include <string>
#include <vector>

#include "element_pairs.hpp"

namespace elementbench {

// --- figure 2 and 6: streams ---------------------------------------------------------------------

constexpr size_t kRtpSize = 1200;  // the whole RTP packet: 12-byte header + 1188 bytes payload
constexpr uint32_t kSsrc = 0x11223344;

inline double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

// Voluntary + involuntary context switches of the whole process (every thread), the wakeups
// figure 2 counts per packet next to its CPU.
inline long process_context_switches() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_nvcsw + usage.ru_nivcsw;
}

inline int64_t mono_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1000000000 + now.tv_nsec;
}

// Counts what reaches the receiving sink; optionally the one-way delay from the send timestamp
// carried in the payload (bytes 12..19, CLOCK_MONOTONIC ns, same process).
struct Receiver {
  std::atomic<uint64_t> packets{0};
  std::atomic<int64_t> last_ns{0};
  bool latency = false;
  std::vector<double> delays_us;  // written by the one streaming thread, read after the run
};

inline void count_buffer(Receiver& receiver, GstBuffer* buffer) {
  const int64_t now = mono_ns();
  if (receiver.latency) {
    int64_t sent = 0;
    if (gst_buffer_extract(buffer, 12, &sent, sizeof sent) == sizeof sent)
      receiver.delays_us.push_back(static_cast<double>(now - sent) / 1000.0);
  }
  receiver.packets.fetch_add(1, std::memory_order_relaxed);
  receiver.last_ns.store(now, std::memory_order_relaxed);
}

inline GstPadProbeReturn on_received(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto& receiver = *static_cast<Receiver*>(data);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    for (guint i = 0; i < gst_buffer_list_length(list); ++i)
      count_buffer(receiver, gst_buffer_list_get(list, i));
  } else {
    count_buffer(receiver, GST_PAD_PROBE_INFO_BUFFER(info));
  }
  return GST_PAD_PROBE_OK;
}

inline void attach_receiver(GstElement* pipeline, Receiver& receiver) {
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  GstPad* pad = gst_element_get_static_pad(sink, "sink");
  gst_pad_add_probe(
      pad, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
      on_received, &receiver, nullptr);
  gst_object_unref(pad);
  gst_object_unref(sink);
}

// `padding`: bytes of room after the packet in its memory (what the sender asks for, below).
inline GstBuffer* make_packet(uint16_t seq, bool stamp, uint32_t ssrc = kSsrc, size_t padding = 0) {
  GstAllocationParams params;
  gst_allocation_params_init(&params);
  params.padding = padding;
  GstBuffer* buffer = gst_buffer_new_allocate(nullptr, kRtpSize, &params);
  GstMapInfo map;
  gst_buffer_map(buffer, &map, GST_MAP_WRITE);
  uint8_t* p = map.data;
  std::memset(p + 12, 0xab, kRtpSize - 12);
  p[0] = 0x80;
  p[1] = 96;
  p[2] = static_cast<uint8_t>(seq >> 8);
  p[3] = static_cast<uint8_t>(seq);
  // A 90 kHz clock that follows real time, as a live source's would: webrtcbin's jitterbuffer
  // (anchor b) treats timestamps racing ahead of arrival times as a broken stream.
  const uint32_t rtp_ts = static_cast<uint32_t>(mono_ns() / 100000 * 9);
  for (int i = 0; i < 4; ++i) {
    p[4 + i] = static_cast<uint8_t>(rtp_ts >> (24 - 8 * i));
    p[8 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
  }
  if (stamp) {
    const int64_t now = mono_ns();
    std::memcpy(p + 12, &now, sizeof now);
  }
  gst_buffer_unmap(buffer, &map);
  return buffer;
}

// The padding the element after appsrc `src` asks for in the ALLOCATION query (what a payloader
// allocating through the query would give it): ours asks for the SRTP trailer room, so that it
// protects in place; srtpenc, udpsink and webrtcbin ask for none. 0 if unanswered.
inline size_t allocation_padding(GstElement* src) {
  GstPad* pad = gst_element_get_static_pad(src, "src");
  GstCaps* caps = gst_caps_new_empty_simple("application/x-rtp");
  GstQuery* query = gst_query_new_allocation(caps, TRUE);
  size_t padding = 0;
  if (gst_pad_peer_query(pad, query) && gst_query_get_n_allocation_params(query) > 0) {
    GstAllocationParams params;
    gst_query_parse_nth_allocation_param(query, 0, nullptr, &params);
    padding = params.padding;
  }
  gst_query_unref(query);
  gst_caps_unref(caps);
  gst_object_unref(pad);
  return padding;
}

struct StreamResult {
  uint64_t sent = 0, received = 0;
  double wall_seconds = 0, cpu_seconds = 0;
  long context_switches = 0;
  double pps() const { return wall_seconds > 0 ? static_cast<double>(received) / wall_seconds : 0; }
  double loss() const {
    return sent > 0 ? static_cast<double>(sent - received) / static_cast<double>(sent) : 0;
  }
  double per_cpu_second() const {
    return cpu_seconds > 0 ? static_cast<double>(received) / cpu_seconds : 0;
  }
  double switches_per_packet() const {
    return received > 0 ? static_cast<double>(context_switches) / static_cast<double>(received) : 0;
  }
};

// Pushes `packets` RTP packets into appsrc "src" of `sender` (in lists of `batch` when batch > 1),
// flat out (rate 0) or paced at `rate` packets/s, and waits for the receiver to go quiet. CPU and
// context switches are the whole process's (sender, receiver, every thread) over the run:
// getrusage(RUSAGE_SELF).
inline StreamResult run_stream(GstElement* sender, Receiver& receiver, int packets, int batch,
                               double rate, bool stamp, uint16_t& seq) {
  GstElement* src = gst_bin_get_by_name(GST_BIN(sender), "src");
  const size_t padding = allocation_padding(src);
  const uint64_t received_before = receiver.packets.load();
  StreamResult result;
  const double cpu0 = process_cpu_seconds();
  const long switches0 = process_context_switches();
  const int64_t t0 = mono_ns();
  for (int sent = 0; sent < packets;) {
    if (rate > 0) {
      const int64_t due = t0 + static_cast<int64_t>(sent / rate * 1e9);
      const int64_t wait = due - mono_ns();
      if (wait > 0) g_usleep(static_cast<gulong>(wait / 1000));
    }
    const int n = std::min(batch, packets - sent);
    GstFlowReturn flow = GST_FLOW_OK;
    if (batch > 1) {
      GstBufferList* list = gst_buffer_list_new_sized(static_cast<guint>(n));
      for (int i = 0; i < n; ++i)
        gst_buffer_list_add(list, make_packet(seq++, stamp, kSsrc, padding));
      g_signal_emit_by_name(src, "push-buffer-list", list, &flow);
      gst_buffer_list_unref(list);
    } else {
      GstBuffer* buffer = make_packet(seq++, stamp, kSsrc, padding);
      g_signal_emit_by_name(src, "push-buffer", buffer, &flow);
      gst_buffer_unref(buffer);
    }
    if (flow != GST_FLOW_OK) break;
    sent += n;
    result.sent += static_cast<uint64_t>(n);
  }
  // Quiet for 300 ms (or everything arrived): the run is over.
  int64_t last_seen = mono_ns();
  uint64_t last_count = receiver.packets.load();
  while (receiver.packets.load() - received_before < result.sent) {
    g_usleep(5000);
    const uint64_t count = receiver.packets.load();
    if (count != last_count) {
      last_count = count;
      last_seen = mono_ns();
    } else if (mono_ns() - last_seen > 300'000'000) {
      break;
    }
  }
  result.cpu_seconds = process_cpu_seconds() - cpu0;
  result.context_switches = process_context_switches() - switches0;
  result.received = receiver.packets.load() - received_before;
  // Nothing received: no wall time either (last_ns would be an earlier run's).
  result.wall_seconds =
      result.received > 0 ? static_cast<double>(receiver.last_ns.load() - t0) * 1e-9 : 0;
  gst_object_unref(src);
  return result;
}

struct Profile {
  const char* name;     // row label
  const char* openssl;  // our srtp-profiles
  const char* cipher;   // srtpenc/srtpdec
  const char* auth;
  size_t key_length;  // master key + salt
};
const Profile kGcm{"GCM-128", "SRTP_AEAD_AES_128_GCM", "aes-128-gcm", "null", 28};
const Profile kCm80{"CM_80", "SRTP_AES128_CM_SHA1_80", "aes-128-icm", "hmac-sha1-80", 30};

constexpr const char* kOurSender = BINPAIR_BIN
    " appsrc name=src caps=application/x-rtp format=time "
    "max-bytes=1000000 block=true ! dtls.rtp_sink";
constexpr const char* kOurReceiver =
    BINPAIR_BIN " dtls.rtp_src ! fakesink name=sink sync=false async=false";

// A connected pair of ours, sender → receiver, with the receiver's sink counted.
struct OurStream {
  OurPair pair;
  Endpoint& tx = pair.tx();
  Endpoint& rx = pair.rx();
  Receiver receiver;
  bool ok = false;
  OurStream(const OurOptions& options, std::string& error) {
    if (!pair.build(kOurSender, kOurReceiver, error)) {
      error = "cannot build the pipelines of ours: " + error;
      return;
    }
    attach_receiver(rx.pipeline, receiver);
    ok = connect_ours(pair, options, error) >= 0;
  }
  ~OurStream() {  // stopped before the receiver its probe counts into goes
    tx.shut_down();
    rx.shut_down();
  }
};

inline GstBuffer* key_buffer(size_t length) {
  GstBuffer* key = gst_buffer_new_allocate(nullptr, length, nullptr);
  gst_buffer_memset(key, 0, 0x5a, length);
  return key;
}

inline GstCaps* on_request_key(GstElement*, guint, gpointer data) {
  const Profile& profile = *static_cast<const Profile*>(data);
  GstBuffer* key = key_buffer(profile.key_length);
  GstCaps* caps = gst_caps_new_simple(
      "application/x-srtp", "srtp-key", GST_TYPE_BUFFER, key, "srtp-cipher", G_TYPE_STRING,
      profile.cipher, "srtp-auth", G_TYPE_STRING, profile.auth, "srtcp-cipher", G_TYPE_STRING,
      profile.cipher, "srtcp-auth", G_TYPE_STRING, profile.auth, nullptr);
  gst_buffer_unref(key);
  return caps;
}

// The anchors: appsrc ! [srtpenc !] udpsink … udpsrc ! [srtpdec !] fakesink, same keys both sides.
struct UdpStream {
  GstElement* tx = nullptr;
  GstElement* rx = nullptr;
  Receiver receiver;
  bool ok = false;
  UdpStream(const Profile* profile, std::string& error) {
    std::string rx_desc = "udpsrc name=usrc address=127.0.0.1 port=0 caps=application/x-";
    rx_desc += profile ? "srtp ! srtpdec name=dec ! " : "rtp ! ";
    rx_desc += "fakesink name=sink sync=false async=false";
    rx = gst_parse_launch(rx_desc.c_str(), nullptr);
    if (rx == nullptr) {
      error = "cannot build " + rx_desc;
      return;
    }
    if (profile) {
      GstElement* dec = gst_bin_get_by_name(GST_BIN(rx), "dec");
      g_signal_connect(dec, "request-key", G_CALLBACK(on_request_key),
                       const_cast<Profile*>(profile));
      gst_object_unref(dec);
    }
    attach_receiver(rx, receiver);
    gst_element_set_state(rx, GST_STATE_PLAYING);
    gst_element_get_state(rx, nullptr, nullptr, GST_SECOND);
    GstElement* usrc = gst_bin_get_by_name(GST_BIN(rx), "usrc");
    gint port = 0;
    g_object_get(usrc, "port", &port, nullptr);
    gst_object_unref(usrc);
    if (port == 0) {
      error = "udpsrc did not report its port";
      return;
    }
    std::string tx_desc =
        "appsrc name=src caps=application/x-rtp format=time max-bytes=1000000 block=true ! ";
    if (profile) tx_desc += "srtpenc name=enc ! ";
    tx_desc += "udpsink host=127.0.0.1 port=" + std::to_string(port) + " sync=false async=false";
    tx = gst_parse_launch(tx_desc.c_str(), nullptr);
    if (tx == nullptr) {
      error = "cannot build " + tx_desc;
      return;
    }
    if (profile) {
      GstElement* enc = gst_bin_get_by_name(GST_BIN(tx), "enc");
      GstBuffer* key = key_buffer(profile->key_length);
      gst_util_set_object_arg(G_OBJECT(enc), "rtp-cipher", profile->cipher);
      gst_util_set_object_arg(G_OBJECT(enc), "rtp-auth", profile->auth);
      gst_util_set_object_arg(G_OBJECT(enc), "rtcp-cipher", profile->cipher);
      gst_util_set_object_arg(G_OBJECT(enc), "rtcp-auth", profile->auth);
      g_object_set(enc, "key", key, nullptr);
      gst_buffer_unref(key);
      gst_object_unref(enc);
    }
    gst_element_set_state(tx, GST_STATE_PLAYING);
    ok = gst_element_get_state(tx, nullptr, nullptr, GST_SECOND) != GST_STATE_CHANGE_FAILURE;
    if (!ok) error = "the anchor sender did not play";
  }
  ~UdpStream() {
    for (GstElement* p : {tx, rx}) {
      if (p != nullptr) {
        gst_element_set_state(p, GST_STATE_NULL);
        gst_object_unref(p);
      }
    }
  }
};

// Anchor (b): appsrc → webrtcbin (a sendonly VP8-like transceiver, max-bundle) … webrtcbin →
// fakesink, negotiated by offer/answer on 127.0.0.1. The receiving webrtcbin's src pad appears
// with the first packet (pad-added) and is linked to the counted fakesink then. Its receive path
// includes rtpbin (session, SSRC/PT demux, jitterbuffer), which is what webrtcbin costs; its
// jitterbuffer latency is 0 so that nothing is held past the end of a run.
inline void on_webrtc_pad(GstElement*, GstPad* pad, gpointer data) {
  if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
  auto* sink = static_cast<GstElement*>(data);
  GstPad* sinkpad = gst_element_get_static_pad(sink, "sink");
  if (!gst_pad_is_linked(sinkpad)) gst_pad_link(pad, sinkpad);
  gst_object_unref(sinkpad);
}

struct WebrtcStream {
  Endpoint tx, rx;
  Receiver receiver;
  bool ok = false;
  int64_t answer_set_at = 0;  // just before the answer is set on the offerer (figure 5's t0)
  // wait = false (figure 5, many pairs): return once negotiated; the caller waits for connected.
  explicit WebrtcStream(std::string& error, bool wait = true) {
    GError* parse_error = nullptr;
    tx.pipeline = gst_parse_launch(
        "webrtcbin name=w bundle-policy=max-bundle appsrc name=src format=time max-bytes=1000000 "
        "block=true caps=application/x-rtp,media=video,encoding-name=VP8,payload=96,"
        "clock-rate=90000 ! w.",
        &parse_error);
    if (parse_error) g_error_free(parse_error);
    rx.pipeline = gst_parse_launch(
        "webrtcbin name=w bundle-policy=max-bundle latency=0 fakesink name=sink sync=false "
        "async=false",
        nullptr);
    if (tx.pipeline == nullptr || rx.pipeline == nullptr) {
      error = "cannot build the webrtcbin pipelines";
      return;
    }
    tx.bin = gst_bin_get_by_name(GST_BIN(tx.pipeline), "w");  // the Endpoints' own references
    rx.bin = gst_bin_get_by_name(GST_BIN(rx.pipeline), "w");
    GstCaps* caps = gst_caps_from_string(
        "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000");
    // The sender's transceiver (made by the request pad) gets its codec from a caps query
    // upstream when the offer is made; under load that query sometimes finds nothing and 1.22
    // then leaves the media out of the offer ("no caps available for transceiver, skipping": the
    // pair never gathers nor connects; 2–6 of 50 pairs in figure 5). Naming the codec removes
    // the race.
    if (GstPad* pad = gst_element_get_static_pad(tx.bin, "sink_0")) {
      GstWebRTCRTPTransceiver* sending = nullptr;
      g_object_get(pad, "transceiver", &sending, nullptr);
      if (sending != nullptr) {
        g_object_set(sending, "codec-preferences", caps, nullptr);
        gst_object_unref(sending);
      }
      gst_object_unref(pad);
    }
    GstWebRTCRTPTransceiver* transceiver = nullptr;
    g_signal_emit_by_name(rx.bin, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY,
                          caps, &transceiver);
    gst_caps_unref(caps);
    if (transceiver != nullptr) gst_object_unref(transceiver);
    for (Endpoint* e : {&tx, &rx}) {
      GObject* ice = nullptr;
      g_object_get(e->bin, "ice-agent", &ice, nullptr);
      if (ice != nullptr) {
        gboolean added = FALSE;
        g_signal_emit_by_name(ice, "add-local-ip-address", "127.0.0.1", &added);
        g_object_unref(ice);
      }
      g_signal_connect(e->bin, "notify::connection-state", G_CALLBACK(on_webrtc_state), e);
    }
    GstElement* sink = gst_bin_get_by_name(GST_BIN(rx.pipeline), "sink");
    g_signal_connect(rx.bin, "pad-added", G_CALLBACK(on_webrtc_pad), sink);
    gst_object_unref(sink);  // the pipeline keeps it alive
    attach_receiver(rx.pipeline, receiver);
    g_signal_connect(tx.bin, "on-ice-candidate", G_CALLBACK(on_ice_candidate_to), rx.bin);
    g_signal_connect(rx.bin, "on-ice-candidate", G_CALLBACK(on_ice_candidate_to), tx.bin);
    gst_element_set_state(tx.pipeline, GST_STATE_PLAYING);
    gst_element_set_state(rx.pipeline, GST_STATE_PLAYING);
    GstWebRTCSessionDescription* offer = create_description(tx.bin, "create-offer");
    if (offer == nullptr) {
      error = "webrtcbin made no offer";
      return;
    }
    set_description(tx.bin, "set-local-description", offer);
    set_description(rx.bin, "set-remote-description", offer);
    gst_webrtc_session_description_free(offer);
    GstWebRTCSessionDescription* answer = create_description(rx.bin, "create-answer");
    if (answer == nullptr) {
      error = "webrtcbin made no answer";
      return;
    }
    set_description(rx.bin, "set-local-description", answer);
    answer_set_at = now_us();
    set_description(tx.bin, "set-remote-description", answer);
    gst_webrtc_session_description_free(answer);
    ok = !wait || wait_connected(tx, rx, 10000, error);
  }
  ~WebrtcStream() {  // stopped before the receiver its probe counts into goes
    tx.shut_down();
    rx.shut_down();
  }
};

constexpr int kListSize = 32;

inline void note_stream(const char* what, const StreamResult& r) {
  std::printf(
      "# %-34s sent %7llu received %7llu lost %6llu in %.3f s wall, %.3f s CPU: %.0f pkt/s, "
      "%.0f pkt/CPU-s, %.3f context switches/pkt\n",
      what, static_cast<unsigned long long>(r.sent), static_cast<unsigned long long>(r.received),
      static_cast<unsigned long long>(r.sent - r.received), r.wall_seconds, r.cpu_seconds, r.pps(),
      r.per_cpu_second(), r.switches_per_packet());
}

// `metric <TAB> name <TAB> value` lines for bench/run, which joins them with bench_floor's to
// print ours / floor. name = who.profile.mode.measure (mode: single_paced, lists_paced,
// lists_flat, as bench_floor names them).
inline void metric(const std::string& name, double value) {
  std::printf("metric\t%s\t%.4f\n", name.c_str(), value);
}

inline void metrics(const std::string& who, const std::string& profile, const char* mode,
                    const StreamResult& r) {
  const std::string key = who + "." + profile + "." + mode + ".";
  metric(key + "pkt_cpu_s", r.per_cpu_second());
  metric(key + "pkt_s", r.pps());
  metric(key + "loss_pct", 100.0 * r.loss());
  metric(key + "cs_pkt", r.switches_per_packet());
}

}  // namespace elementbench
