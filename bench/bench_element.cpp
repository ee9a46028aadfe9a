// Element figures (need the plugin from gst/ on GST_PLUGIN_PATH). Implemented so far:
//   3. Time to connected on 127.0.0.1: ours vs a webrtcbin pair, median and p90.
// Figures 2 (data path), 5 (scale) and 6 (latency) are still TODO (docs/performance.md).
//
// Ours: two dtlstransportbin, each alone in a pipeline, local-addresses=127.0.0.1. Both go to
// READY (certificate generated, candidates gathered), exchange ICE credentials, fingerprints and
// candidates through properties (what the application learns from the SDP), then t0 = just
// before both are set PLAYING; t1 = when the later of the two `state` notifications says
// connected. Certificate generation and gathering are outside the timed span.
// webrtcbin: the usual offer/answer between two webrtcbin with one sendrecv video transceiver,
// 127.0.0.1 added to each ICE agent, candidates trickled directly; t0 = the answer set on the
// offerer (the last signalling step), t1 = both `connection-state` connected (ICE + DTLS).
// Both: wall time (this is latency, not CPU cost), fresh elements per run.
#include <gst/gst.h>
#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace {

int64_t now_us() { return g_get_monotonic_time(); }

struct Endpoint {
  GstElement* pipeline = nullptr;
  GstElement* bin = nullptr;
  std::atomic<int64_t> connected_at{0};
  std::atomic<bool> failed{false};
};

// Waits until fn() holds or the timeout passes; returns fn().
template <class Fn>
bool wait_for(Fn&& fn, int timeout_ms) {
  const int64_t end = now_us() + int64_t{timeout_ms} * 1000;
  while (!fn()) {
    if (now_us() > end) return false;
    g_usleep(200);
  }
  return true;
}

// --- ours ---------------------------------------------------------------------------------------

void on_our_state(GObject* bin, GParamSpec*, gpointer data) {
  auto* endpoint = static_cast<Endpoint*>(data);
  gint state = 0;
  g_object_get(bin, "state", &state, nullptr);
  if (state == 2 /* connected */ && endpoint->connected_at.load() == 0) {
    endpoint->connected_at = now_us();
  } else if (state == 4 /* failed */) {
    endpoint->failed = true;
  }
}

std::string get_string(GObject* object, const char* property) {
  gchar* value = nullptr;
  g_object_get(object, property, &value, nullptr);
  std::string result = value != nullptr ? value : "";
  g_free(value);
  return result;
}

std::string joined_candidates(GObject* bin) {
  gchar** candidates = nullptr;
  g_object_get(bin, "local-candidates", &candidates, nullptr);
  std::string joined;
  for (gchar** c = candidates; c != nullptr && *c != nullptr; ++c) {
    if (!joined.empty()) joined += ";";
    joined += *c;
  }
  g_strfreev(candidates);
  return joined;
}

bool make_ours(Endpoint& endpoint, bool controlling) {
  endpoint.pipeline = gst_pipeline_new(nullptr);
  endpoint.bin = gst_element_factory_make("dtlstransportbin", nullptr);
  if (endpoint.bin == nullptr) return false;
  g_object_set(endpoint.bin, "local-addresses", "127.0.0.1", "ice-controlling", controlling,
               nullptr);
  gst_bin_add(GST_BIN(endpoint.pipeline), endpoint.bin);
  g_signal_connect(endpoint.bin, "notify::state", G_CALLBACK(on_our_state), &endpoint);
  return true;
}

void destroy(Endpoint& endpoint) {
  if (endpoint.pipeline != nullptr) {
    gst_element_set_state(endpoint.pipeline, GST_STATE_NULL);
    gst_object_unref(endpoint.pipeline);
  }
  endpoint.pipeline = nullptr;
  endpoint.bin = nullptr;
}

// One run; returns ms to both connected, or < 0 on failure.
double ours_once(std::string& error) {
  Endpoint a, b;
  double result = -1;
  if (!make_ours(a, true) || !make_ours(b, false)) {
    error = "no dtlstransportbin (GST_PLUGIN_PATH?)";
    destroy(a);
    destroy(b);
    return -1;
  }
  gst_element_set_state(a.pipeline, GST_STATE_READY);
  gst_element_set_state(b.pipeline, GST_STATE_READY);
  auto gathered = [](Endpoint& e) {
    gint state = 0;
    g_object_get(e.bin, "ice-gathering-state", &state, nullptr);
    return state == 2;
  };
  if (!wait_for([&] { return gathered(a) && gathered(b); }, 5000)) {
    error = "candidate gathering did not complete";
  } else {
    for (auto [self, peer] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
      GObject* from = G_OBJECT(peer->bin);
      g_object_set(self->bin, "remote-ice-ufrag", get_string(from, "local-ice-ufrag").c_str(),
                   "remote-ice-pwd", get_string(from, "local-ice-pwd").c_str(),
                   "remote-fingerprints", get_string(from, "local-fingerprint").c_str(),
                   "remote-candidates", joined_candidates(from).c_str(), nullptr);
    }
    const int64_t t0 = now_us();
    gst_element_set_state(a.pipeline, GST_STATE_PLAYING);
    gst_element_set_state(b.pipeline, GST_STATE_PLAYING);
    const bool connected = wait_for(
        [&] {
          return (a.connected_at.load() != 0 && b.connected_at.load() != 0) || a.failed || b.failed;
        },
        10000);
    if (connected && !a.failed && !b.failed) {
      result =
          static_cast<double>(std::max(a.connected_at.load(), b.connected_at.load()) - t0) / 1000.0;
    } else {
      error = a.failed || b.failed ? "a transport failed" : "not connected within 10 s";
    }
  }
  destroy(a);
  destroy(b);
  return result;
}

// --- webrtcbin ----------------------------------------------------------------------------------

struct WebrtcPair {
  Endpoint offerer, answerer;
};

void on_webrtc_state(GObject* webrtc, GParamSpec*, gpointer data) {
  auto* endpoint = static_cast<Endpoint*>(data);
  GstWebRTCPeerConnectionState state = GST_WEBRTC_PEER_CONNECTION_STATE_NEW;
  g_object_get(webrtc, "connection-state", &state, nullptr);
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED && endpoint->connected_at.load() == 0) {
    endpoint->connected_at = now_us();
  } else if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED) {
    endpoint->failed = true;
  }
}

void on_ice_candidate_to(GstElement*, guint mline, gchar* candidate, gpointer peer) {
  g_signal_emit_by_name(peer, "add-ice-candidate", mline, candidate);
}

bool make_webrtc(Endpoint& endpoint) {
  endpoint.pipeline = gst_pipeline_new(nullptr);
  endpoint.bin = gst_element_factory_make("webrtcbin", nullptr);
  if (endpoint.bin == nullptr) return false;
  g_object_set(endpoint.bin, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, nullptr);
  gst_bin_add(GST_BIN(endpoint.pipeline), endpoint.bin);
  GstCaps* caps = gst_caps_from_string(
      "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000");
  GstWebRTCRTPTransceiver* transceiver = nullptr;
  g_signal_emit_by_name(endpoint.bin, "add-transceiver",
                        GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV, caps, &transceiver);
  gst_caps_unref(caps);
  if (transceiver != nullptr) gst_object_unref(transceiver);
  GObject* ice = nullptr;
  g_object_get(endpoint.bin, "ice-agent", &ice, nullptr);
  if (ice != nullptr) {
    gboolean added = FALSE;
    g_signal_emit_by_name(ice, "add-local-ip-address", "127.0.0.1", &added);
    g_object_unref(ice);
  }
  g_signal_connect(endpoint.bin, "notify::connection-state", G_CALLBACK(on_webrtc_state),
                   &endpoint);
  return true;
}

GstWebRTCSessionDescription* create_description(GstElement* webrtc, const char* what) {
  GstPromise* promise = gst_promise_new();
  g_signal_emit_by_name(webrtc, what, nullptr, promise);
  gst_promise_wait(promise);
  const GstStructure* reply = gst_promise_get_reply(promise);
  GstWebRTCSessionDescription* description = nullptr;
  const char* field = std::strcmp(what, "create-offer") == 0 ? "offer" : "answer";
  if (reply != nullptr) {
    gst_structure_get(reply, field, GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &description, nullptr);
  }
  gst_promise_unref(promise);
  return description;
}

void set_description(GstElement* webrtc, const char* which, GstWebRTCSessionDescription* desc) {
  GstPromise* promise = gst_promise_new();
  g_signal_emit_by_name(webrtc, which, desc, promise);
  gst_promise_wait(promise);
  gst_promise_unref(promise);
}

double webrtc_once(std::string& error) {
  WebrtcPair pair;
  Endpoint& a = pair.offerer;
  Endpoint& b = pair.answerer;
  double result = -1;
  if (!make_webrtc(a) || !make_webrtc(b)) {
    error = "no webrtcbin";
    destroy(a);
    destroy(b);
    return -1;
  }
  g_signal_connect(a.bin, "on-ice-candidate", G_CALLBACK(on_ice_candidate_to), b.bin);
  g_signal_connect(b.bin, "on-ice-candidate", G_CALLBACK(on_ice_candidate_to), a.bin);
  gst_element_set_state(a.pipeline, GST_STATE_PLAYING);
  gst_element_set_state(b.pipeline, GST_STATE_PLAYING);

  GstWebRTCSessionDescription* offer = create_description(a.bin, "create-offer");
  if (offer == nullptr) {
    error = "webrtcbin made no offer";
  } else {
    set_description(a.bin, "set-local-description", offer);
    set_description(b.bin, "set-remote-description", offer);
    GstWebRTCSessionDescription* answer = create_description(b.bin, "create-answer");
    if (answer == nullptr) {
      error = "webrtcbin made no answer";
    } else {
      set_description(b.bin, "set-local-description", answer);
      const int64_t t0 = now_us();
      set_description(a.bin, "set-remote-description", answer);
      const bool done = wait_for(
          [&] {
            return (a.connected_at.load() != 0 && b.connected_at.load() != 0) || a.failed ||
                   b.failed;
          },
          10000);
      if (done && !a.failed && !b.failed) {
        result = static_cast<double>(std::max(a.connected_at.load(), b.connected_at.load()) - t0) /
                 1000.0;
      } else {
        error = a.failed || b.failed ? "webrtcbin failed" : "webrtcbin not connected in 10 s";
      }
      gst_webrtc_session_description_free(answer);
    }
    gst_webrtc_session_description_free(offer);
  }
  destroy(a);
  destroy(b);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const bool quick = bench::has_flag(argc, argv, "--quick");
  const int runs = quick ? 7 : 25;
  const char* figure = "3 Time to connected (127.0.0.1)";

  std::vector<double> ours, theirs;
  std::string error;
  int failures = 0;
  // Alternate ours and webrtcbin so that load from neighbours hits both alike.
  for (int i = 0; i < runs; ++i) {
    const double ms_ours = ours_once(error);
    if (ms_ours >= 0) {
      ours.push_back(ms_ours);
    } else {
      ++failures;
      std::printf("# ours, run %d: %s\n", i, error.c_str());
    }
    const double ms_webrtc = webrtc_once(error);
    if (ms_webrtc >= 0) {
      theirs.push_back(ms_webrtc);
    } else {
      std::printf("# webrtcbin, run %d: %s\n", i, error.c_str());
    }
  }
  std::printf("# %zu/%d of ours and %zu/%d webrtcbin pairs connected\n", ours.size(), runs,
              theirs.size(), runs);
  if (!ours.empty() && !theirs.empty()) {
    bench::print_row(figure, "median, ours vs webrtcbin pair", bench::median(ours),
                     bench::median(theirs), "ms", bench::Better::Lower, 1);
    bench::print_row(figure, "p90, ours vs webrtcbin pair", bench::percentile(ours, 90),
                     bench::percentile(theirs, 90), "ms", bench::Better::Lower, 1);
  }
  return ours.empty() || theirs.empty() || failures > 0 ? 1 : 0;
}
