// Element demo (the main job): two dtlstransportbins in one process, on 127.0.0.1, carry VP8 video
// from A to B and Opus audio from B to A over one DTLS-SRTP association. The two pipelines are
// signalled to each other through the element's properties only, as an application translating
// an SDP offer/answer would do it: ICE ufrag/pwd, certificate fingerprints, candidates (each step
// is one call of the two-bin fixture, tests/fixture/bin_pair.h, which the tests and the bench use
// too; main() below shows the order).
//
//   A: videotestsrc ! vp8enc ! rtpvp8pay ! dtlstransportbin ! rtpopusdepay ! opusdec ! fakesink
//   B: audiotestsrc ! opusenc ! rtpopuspay ! dtlstransportbin ! rtpvp8depay ! vp8dec ! fakesink
//                                                                   (or autovideosink with --show)
//
// One bin carries one RTP session (one SRTP context each way), so each direction carries one
// medium: that needs one handshake, not two.
//
// Usage: transport_demo [--seconds N] [--profile SRTP_NAME[:SRTP_NAME...]] [--show]
// Exit status 0 only if both sides connected with opposite roles and the same SRTP profile, the
// video and the audio were decoded at the far end (at least half the frames the sources made in
// the streaming time), nothing failed SRTP authentication or replay checks, no pipeline posted
// an error, and both sides reached `closed` after `stop`. Every wait is bounded.
#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bin_pair.h"

namespace {

constexpr int kVideoFps = 30;
constexpr int kAudioFps = 50;  // Opus frames of 20 ms: 960 samples at 48 kHz
constexpr gint64 kConnectLimitUs = 20 * G_USEC_PER_SEC;
constexpr gint64 kCloseLimitUs = 5 * G_USEC_PER_SEC;
constexpr guint kHandshakeTimeoutMs = 10000;  // the bin reports `failed` well inside our limit

using binpair::state_name;
using enum binpair::State;  // values of the element's GstDtlsTransportBinState enum

const char kVp8Caps[] =
    "application/x-rtp, media=(string)video, payload=(int)96, clock-rate=(int)90000, "
    "encoding-name=(string)VP8";
const char kOpusCaps[] =
    "application/x-rtp, media=(string)audio, payload=(int)111, clock-rate=(int)48000, "
    "encoding-name=(string)OPUS";

// Key frames every 10 frames: the packets sent before the keys exist are dropped by the bin (fail
// closed, counted as dropped-no-keys), and the decoder starts at the next key frame.
const char kSideA[] = BINPAIR_BIN
    " "
    "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! "
    "vp8enc name=venc deadline=1 keyframe-max-dist=10 ! rtpvp8pay pt=96 mtu=1100 ! dtls.rtp_sink "
    "dtls.rtp_src ! rtpopusdepay ! opusdec name=adec ! fakesink sync=false async=false";
const char kSideB[] = BINPAIR_BIN
    " "
    "audiotestsrc is-live=true samplesperbuffer=960 ! audio/x-raw,rate=48000,channels=2 ! "
    "audioconvert ! opusenc name=aenc ! rtpopuspay pt=111 ! dtls.rtp_sink "
    "dtls.rtp_src ! rtpvp8depay ! vp8dec name=vdec ! ";
const char kHeadlessVideoSink[] = "fakesink sync=false async=false";

gint64 g_start_us = 0;

double elapsed_ms() { return static_cast<double>(g_get_monotonic_time() - g_start_us) / 1000.0; }

const char* ice_state_name(int state) {
  static const char* const names[] = {"new",    "checking",     "connected", "completed",
                                      "failed", "disconnected", "closed"};
  return state >= 0 && state < 7 ? names[state] : "?";
}

struct ObjectUnref {
  void operator()(gpointer object) const { gst_object_unref(object); }
};
using ElementPtr = std::unique_ptr<GstElement, ObjectUnref>;

struct StructureFree {
  void operator()(GstStructure* structure) const { gst_structure_free(structure); }
};
using StructurePtr = std::unique_ptr<GstStructure, StructureFree>;

// One side: its pipeline and its dtlstransportbin (from the fixture's Endpoint: `pipeline`, `bin`,
// `label`, string_property(), enum_property()) and what the streaming threads counted.
struct Side : binpair::Endpoint {
  explicit Side(const char* side_name) : binpair::Endpoint(side_name), name(side_name) {}
  const char* name;
  std::atomic<int> state{kNew};
  std::atomic<uint64_t> encoded{0};  // frames out of this side's encoder
  std::atomic<uint64_t> decoded{0};  // frames out of this side's decoder
  int errors = 0;                    // ERROR messages on the bus (main thread only)

  StructurePtr stats() const {
    GstStructure* stats = nullptr;
    g_object_get(bin, "stats", &stats, nullptr);
    return StructurePtr(stats);
  }
};

uint64_t stat_u64(const GstStructure* stats, const char* field) {
  guint64 value = 0;
  return stats && gst_structure_get_uint64(stats, field, &value) ? value : 0;
}

std::string stat_string(const GstStructure* stats, const char* field) {
  const gchar* value = stats ? gst_structure_get_string(stats, field) : nullptr;
  return value && *value ? value : "?";
}

// --- Signal handlers (any thread: the bins emit from libnice's and the streaming threads) ------

void on_state_changed(GstElement*, gint state, gpointer data) {
  auto* side = static_cast<Side*>(data);
  side->state = state;
  std::printf("[%8.1f ms] %s: DTLS state %s\n", elapsed_ms(), side->name, state_name(state));
  std::fflush(stdout);
}

// Reading a property from a notify handler is safe with this element: it emits no signal or
// notify while holding its own lock (issue 3), unlike gst-plugins-bad's dtls elements.
void on_ice_state(GObject* bin, GParamSpec*, gpointer data) {
  gint state = -1;
  g_object_get(bin, "ice-state", &state, nullptr);
  std::printf("[%8.1f ms] %s: ICE state %s\n", elapsed_ms(), static_cast<Side*>(data)->name,
              ice_state_name(state));
  std::fflush(stdout);
}

GstPadProbeReturn count_buffers(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* counter = static_cast<std::atomic<uint64_t>*>(data);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST)
    *counter += gst_buffer_list_length(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
  else
    *counter += 1;
  return GST_PAD_PROBE_OK;
}

// Counts what leaves the src pad of the element called `name` in `side`'s pipeline.
bool count_at(Side& side, const char* name, std::atomic<uint64_t>* counter) {
  ElementPtr element(gst_bin_get_by_name(GST_BIN(side.pipeline), name));
  if (!element) return false;
  GstPad* pad = gst_element_get_static_pad(element.get(), "src");
  if (!pad) return false;
  gst_pad_add_probe(
      pad, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
      count_buffers, counter, nullptr);
  gst_object_unref(pad);
  return true;
}

// --- Main thread ----------------------------------------------------------------------------

// Prints and counts what the pipelines post: errors fail the demo; warnings are shown (a failed
// transport posts one naming the reason, never an error).
void pump(Side& a, Side& b) {
  while (g_main_context_iteration(nullptr, FALSE)) {
  }
  for (Side* side : {&a, &b}) {
    GstBus* bus = gst_element_get_bus(side->pipeline);
    while (GstMessage* message = gst_bus_pop(bus)) {
      const auto type = GST_MESSAGE_TYPE(message);
      if (type == GST_MESSAGE_ERROR || type == GST_MESSAGE_WARNING) {
        GError* error = nullptr;
        gchar* debug = nullptr;
        if (type == GST_MESSAGE_ERROR)
          gst_message_parse_error(message, &error, &debug);
        else
          gst_message_parse_warning(message, &error, &debug);
        std::printf("[%8.1f ms] %s: %s from %s: %s\n", elapsed_ms(), side->name,
                    type == GST_MESSAGE_ERROR ? "ERROR" : "warning",
                    GST_OBJECT_NAME(GST_MESSAGE_SRC(message)), error ? error->message : "?");
        if (type == GST_MESSAGE_ERROR) {
          side->errors++;
          if (debug) std::printf("             (%s)\n", debug);
        }
        g_clear_error(&error);
        g_free(debug);
      }
      gst_message_unref(message);
    }
    gst_object_unref(bus);
  }
}

// The two sides, signalled through the fixture's steps; shows what each step hands over, and
// pumps (prints) the buses while a step or main() waits.
class DemoPair : public binpair::BinPair {
 public:
  DemoPair() : BinPair(std::make_unique<Side>("A"), std::make_unique<Side>("B")) {}
  Side& a() { return static_cast<Side&>(first()); }
  Side& b() { return static_cast<Side&>(second()); }
  void pump() override { ::pump(a(), b()); }

 protected:
  void on_fingerprint(binpair::Endpoint& from, const std::string& fingerprint) override {
    std::printf("%s local fingerprint: %s\n", from.label.c_str(), fingerprint.c_str());
  }
  void on_candidates(binpair::Endpoint& from, gchar** candidates) override {
    for (gchar** candidate = candidates; *candidate; ++candidate)
      std::printf("[%8.1f ms] %s: local %s\n", elapsed_ms(), from.label.c_str(), *candidate);
  }
};

int fail(Side& a, Side& b, const std::string& what) {
  pump(a, b);
  std::printf("FAILED: %s\n", what.c_str());
  for (Side* side : {&a, &b}) {
    if (!side->bin) continue;
    std::printf("  %s: DTLS state %s, ICE state %s\n", side->name,
                state_name(side->enum_property("state")),
                ice_state_name(side->enum_property("ice-state")));
  }
  for (Side* side : {&a, &b})
    if (side->pipeline) gst_element_set_state(side->pipeline, GST_STATE_NULL);
  return 1;
}

void print_usage(const char* program) {
  std::fprintf(stderr,
               "usage: %s [--seconds N] [--profile SRTP_NAME[:SRTP_NAME...]] [--show]\n"
               "  --seconds N   stream for N seconds once both sides are connected (default 5)\n"
               "  --profile P   SRTP profiles both sides offer, e.g. SRTP_AES128_CM_SHA1_80\n"
               "                (default: the element's, AES-GCM first)\n"
               "  --show        show the received video in a window (needs DISPLAY or "
               "WAYLAND_DISPLAY)\n",
               program);
}

// The element: from GST_PLUGIN_PATH, the system, or else this build's gst/ directory (so the
// demo also runs straight from the build tree).
GstElementFactory* find_plugin() {
  GstElementFactory* factory = gst_element_factory_find("dtlstransportbin");
#ifdef DEMO_PLUGIN_DIR
  if (!factory) {
    gst_registry_scan_path(gst_registry_get(), DEMO_PLUGIN_DIR);
    factory = gst_element_factory_find("dtlstransportbin");
  }
#endif
  return factory;
}

// A window sink that can open the display, or "" for none. Not autovideosink: when no X or
// Wayland sink can open the display it goes on to try dfbvideosink, which crashes (SIGSEGV in
// libfusion, Debian 12) when there is no DirectFB either. A sink opens its display at READY.
std::string pick_window_sink() {
  std::vector<const char*> candidates;
  if (g_getenv("WAYLAND_DISPLAY")) candidates.push_back("waylandsink");
  if (g_getenv("DISPLAY")) candidates.insert(candidates.end(), {"xvimagesink", "ximagesink"});
  candidates.push_back("glimagesink");
  for (const char* name : candidates) {
    GstElement* sink = gst_element_factory_make(name, nullptr);
    if (!sink) continue;
    gst_object_ref_sink(sink);
    const bool opens = gst_element_set_state(sink, GST_STATE_READY) == GST_STATE_CHANGE_SUCCESS;
    gst_element_set_state(sink, GST_STATE_NULL);
    gst_object_unref(sink);
    if (opens) return name;
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  g_start_us = g_get_monotonic_time();
  int seconds = 5;
  std::string profiles;
  bool show = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      char* end = nullptr;
      const long value = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || value < 1 || value > 600) {
        std::fprintf(stderr, "transport_demo: --seconds must be 1..600\n");
        return 2;
      }
      seconds = static_cast<int>(value);
    } else if (std::strcmp(argv[i], "--profile") == 0 && i + 1 < argc) {
      profiles = argv[++i];
    } else if (std::strcmp(argv[i], "--show") == 0) {
      show = true;
    } else {
      print_usage(argv[0]);
      return 2;
    }
  }

  gst_init(&argc, &argv);
  std::printf(
      "gst-dtlstransport demo: VP8 video A->B and Opus audio B->A through two dtlstransportbins\n"
      "over one DTLS-SRTP association on 127.0.0.1 (one process, two pipelines)\n");

  GstElementFactory* factory = find_plugin();
  if (!factory) {
    std::printf(
        "FAILED: no element dtlstransportbin: build the plugin (ninja -C build "
        "gst/libgstdtlstransport.so) and set GST_PLUGIN_PATH=build/gst\n");
    return 1;
  }
  {
    GstPlugin* plugin = gst_plugin_feature_get_plugin(GST_PLUGIN_FEATURE(factory));
    std::printf("plugin: %s (version %s)\n", plugin ? gst_plugin_get_filename(plugin) : "?",
                plugin ? gst_plugin_get_version(plugin) : "?");
    if (plugin) gst_object_unref(plugin);
    gst_object_unref(factory);
  }
  // The media elements come from gst-plugins-base (videotestsrc, audiotestsrc, opus) and
  // gst-plugins-good (vp8, rtp): say which is missing rather than a parse error.
  for (const char* name : {"videotestsrc", "vp8enc", "vp8dec", "rtpvp8pay", "rtpvp8depay",
                           "audiotestsrc", "opusenc", "opusdec", "rtpopuspay", "rtpopusdepay"}) {
    if (GstElementFactory* media = gst_element_factory_find(name)) {
      gst_object_unref(media);
    } else {
      std::printf("FAILED: no element %s (Debian: gstreamer1.0-plugins-base/-good)\n", name);
      return 1;
    }
  }

  std::string video_sink = kHeadlessVideoSink;
  if (show) {
    if (!g_getenv("DISPLAY") && !g_getenv("WAYLAND_DISPLAY")) {
      std::printf("--show: no display (DISPLAY and WAYLAND_DISPLAY unset): running headless\n");
    } else if (std::string sink = pick_window_sink(); sink.empty()) {
      std::printf("--show: no video sink can open the display: running headless\n");
    } else {
      video_sink = "videoconvert ! " + sink + " sync=false";
      std::printf("--show: the video B receives is shown in a window (%s)\n", sink.c_str());
    }
  }

  DemoPair pair;
  Side& a = pair.a();
  Side& b = pair.b();
  Side* sides[] = {&a, &b};
  std::string why;
  if (!pair.build(kSideA, std::string(kSideB) + video_sink, &why)) return fail(a, b, why);
  if (!count_at(a, "venc", &a.encoded) || !count_at(a, "adec", &a.decoded) ||
      !count_at(b, "aenc", &b.encoded) || !count_at(b, "vdec", &b.decoded))
    return fail(a, b, "cannot find the encoders/decoders to count frames");

  // Roles as in an offer/answer: A offers (ICE controlling), B answers; both leave the DTLS role
  // on auto (actpass), so the controlling side becomes the DTLS server (RFC 5763 §5).
  pair.set_controlling(true, false);
  for (Side* side : sides) {
    g_object_set(side->bin, "handshake-timeout", kHandshakeTimeoutMs, nullptr);
    if (!profiles.empty()) {
      g_object_set(side->bin, "srtp-profiles", profiles.c_str(), nullptr);
      if (side->string_property("srtp-profiles") != profiles)
        return fail(a, b,
                    "the element rejected --profile " + profiles +
                        " (it takes OpenSSL names, ':'-separated: SRTP_AEAD_AES_128_GCM, "
                        "SRTP_AEAD_AES_256_GCM, SRTP_AES128_CM_SHA1_80, "
                        "SRTP_AES128_CM_SHA1_32)");
    }
    g_signal_connect(side->bin, "state-changed", G_CALLBACK(on_state_changed), side);
    g_signal_connect(side->bin, "notify::ice-state", G_CALLBACK(on_ice_state), side);
  }
  // What each side receives: the caps for its payload type (what an SDP's a=rtpmap says).
  for (auto [side, caps_text] : {std::pair{&a, kOpusCaps}, std::pair{&b, kVp8Caps}}) {
    GstCaps* caps = gst_caps_from_string(caps_text);
    g_object_set(side->bin, "pt-map", caps, nullptr);
    gst_caps_unref(caps);
  }
  const std::string offered = a.string_property("srtp-profiles");
  std::printf("offered SRTP profiles (both sides): %s\n", offered.c_str());
  std::printf("A: ICE controlling, DTLS role auto; B: ICE controlled, DTLS role auto\n");

  // Signalling, part 1: ICE credentials (a=ice-ufrag/a=ice-pwd), random ones from each bin.
  pair.exchange_ice_credentials();
  // NULL -> READY generates each certificate and starts gathering.
  if (!pair.set_state(GST_STATE_READY, &why)) return fail(a, b, why);
  // Signalling, part 2: fingerprints (a=fingerprint), readable from READY; each is printed.
  if (!pair.exchange_fingerprints(&why)) return fail(a, b, why);
  const gint64 playing_us = g_get_monotonic_time();
  std::printf("[%8.1f ms] both pipelines to PLAYING\n", elapsed_ms());
  if (!pair.set_state(GST_STATE_PLAYING, &why)) return fail(a, b, why);

  // Signalling, part 3: candidates (a=candidate), once gathering on 127.0.0.1 is complete; each
  // is printed.
  if (!pair.exchange_candidates(&why, kConnectLimitUs)) return fail(a, b, why);

  // ICE checks, then the DTLS handshake (started by each bin once ICE has a selected pair).
  const bool settled = pair.wait_until(
      [&] {
        const int sa = a.state, sb = b.state;
        return (sa == kConnected && sb == kConnected) || sa == kFailed || sb == kFailed ||
               a.errors || b.errors;
      },
      kConnectLimitUs);
  ;
  if (!settled) return fail(a, b, "not connected within 20 s");
  if (a.state != kConnected || b.state != kConnected)
    return fail(a, b, "the transport did not connect");
  std::printf("[%8.1f ms] both sides connected, %.1f ms after PLAYING\n", elapsed_ms(),
              static_cast<double>(g_get_monotonic_time() - playing_us) / 1000.0);

  std::string negotiated[2];
  std::string roles[2];
  for (int i = 0; i < 2; ++i) {
    StructurePtr stats = sides[i]->stats();
    double handshake_ms = -1;
    if (stats) gst_structure_get_double(stats.get(), "handshake-ms", &handshake_ms);
    negotiated[i] = stat_string(stats.get(), "srtp-profile");
    roles[i] = stat_string(stats.get(), "dtls-role");
    std::printf("%s: DTLS %s, %s, cipher %s, SRTP profile %s, handshake %.1f ms\n", sides[i]->name,
                roles[i].c_str(), stat_string(stats.get(), "dtls-version").c_str(),
                stat_string(stats.get(), "dtls-cipher").c_str(), negotiated[i].c_str(),
                handshake_ms);
    std::printf("%s: selected pair: local %s\n   remote %s\n", sides[i]->name,
                stat_string(stats.get(), "local-candidate").c_str(),
                stat_string(stats.get(), "remote-candidate").c_str());
  }
  if (negotiated[0] != negotiated[1]) return fail(a, b, "the sides report different SRTP profiles");
  if (roles[0] == roles[1]) return fail(a, b, "both sides took the DTLS role " + roles[0]);

  // Streaming: the sources have been running since PLAYING; what they sent before the keys
  // existed was dropped by the bins and counted (dropped-no-keys).
  std::printf("streaming for %d s ...\n", seconds);
  const uint64_t video_before = b.decoded, audio_before = a.decoded;
  for (int second = 1; second <= seconds; ++second) {
    pair.wait_until([&] { return a.errors || b.errors || a.state != kConnected; }, G_USEC_PER_SEC);
    if (a.errors || b.errors) return fail(a, b, "a pipeline posted an error while streaming");
    if (a.state != kConnected || b.state != kConnected)
      return fail(a, b, "the transport left the connected state while streaming");
    std::printf("[%8.1f ms] video frames decoded at B: %" G_GUINT64_FORMAT
                ", audio frames decoded at A: %" G_GUINT64_FORMAT "\n",
                elapsed_ms(), b.decoded.load(), a.decoded.load());
  }
  const uint64_t video_in_window = b.decoded - video_before;
  const uint64_t audio_in_window = a.decoded - audio_before;

  uint64_t integrity_drops = 0;
  for (Side* side : sides) {
    StructurePtr stats = side->stats();
    const uint64_t auth = stat_u64(stats.get(), "dropped-auth-failure");
    const uint64_t replay = stat_u64(stats.get(), "dropped-replay");
    integrity_drops += auth + replay;
    std::printf("%s: SRTP sent %" G_GUINT64_FORMAT " packets (%" G_GUINT64_FORMAT
                " bytes), received %" G_GUINT64_FORMAT " packets (%" G_GUINT64_FORMAT
                " bytes); dropped: %" G_GUINT64_FORMAT " before keys, %" G_GUINT64_FORMAT
                " auth failures, %" G_GUINT64_FORMAT " replays, %" G_GUINT64_FORMAT " malformed\n",
                side->name, stat_u64(stats.get(), "packets-sent"),
                stat_u64(stats.get(), "bytes-sent"), stat_u64(stats.get(), "packets-received"),
                stat_u64(stats.get(), "bytes-received"), stat_u64(stats.get(), "dropped-no-keys"),
                auth, replay, stat_u64(stats.get(), "dropped-malformed"));
  }
  const uint64_t video_frames = b.decoded, audio_frames = a.decoded;
  std::printf("video A->B: %" G_GUINT64_FORMAT " frames encoded, %" G_GUINT64_FORMAT
              " decoded (%d s at %d fps: %d)\n",
              a.encoded.load(), video_frames, seconds, kVideoFps, kVideoFps * seconds);
  if (video_frames < a.encoded)
    std::printf(
        "  (the bins drop what is sent before the keys exist, fail closed; the decoder then "
        "waits for the next key frame, at most 10 frames later)\n");
  std::printf("audio B->A: %" G_GUINT64_FORMAT " frames encoded, %" G_GUINT64_FORMAT
              " decoded (%d s at %d frames/s: %d)\n",
              b.encoded.load(), audio_frames, seconds, kAudioFps, kAudioFps * seconds);

  // Orderly end: A sends close_notify (RFC 5246 §7.2.1); both sides must report closed.
  std::printf("[%8.1f ms] A: stop (close_notify)\n", elapsed_ms());
  g_signal_emit_by_name(a.bin, "stop");
  const bool closed =
      pair.wait_until([&] { return a.state == kClosed && b.state == kClosed; }, kCloseLimitUs);
  for (Side* side : sides) gst_element_set_state(side->pipeline, GST_STATE_NULL);
  pump(a, b);

  // Half the frames the live sources made in the window: enough to say the media flows, with
  // room for a busy machine.
  const uint64_t min_video = static_cast<uint64_t>(kVideoFps * seconds / 2);
  const uint64_t min_audio = static_cast<uint64_t>(kAudioFps * seconds / 2);
  std::string problem;
  if (video_in_window < min_video)
    problem = "only " + std::to_string(video_in_window) + " video frames decoded in " +
              std::to_string(seconds) + " s (want >= " + std::to_string(min_video) + ")";
  else if (audio_in_window < min_audio)
    problem = "only " + std::to_string(audio_in_window) + " audio frames decoded in " +
              std::to_string(seconds) + " s (want >= " + std::to_string(min_audio) + ")";
  else if (integrity_drops != 0)
    problem =
        std::to_string(integrity_drops) + " packets failed SRTP authentication or replay checks";
  else if (a.errors || b.errors)
    problem = "a pipeline posted an error";
  else if (!closed)
    problem = std::string("after stop: A ") + state_name(a.state) + ", B " + state_name(b.state) +
              " (want closed, closed)";
  if (!problem.empty()) {
    std::printf("FAILED: %s\n", problem.c_str());
    return 1;
  }
  std::printf("closed: A closed, B closed\n");
  std::printf("SUCCESS: %" G_GUINT64_FORMAT " video frames and %" G_GUINT64_FORMAT
              " audio frames decoded over DTLS-SRTP (%s)\n",
              video_frames, audio_frames, negotiated[0].c_str());
  return 0;
}
