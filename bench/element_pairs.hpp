// bench_element's pairs (shared by its figures, see bench_element.cpp): a connected pair of ours
// from the two-bin fixture (tests/fixture/bin_pair.h), prepared through the properties, and a
// webrtcbin pair negotiated by offer/answer; waiting for both ends to be connected.
#pragma once

#include <gst/gst.h>
#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "bin_pair.h"

namespace elementbench {

inline int64_t now_us() { return g_get_monotonic_time(); }

// One side, ours or webrtcbin: its pipeline and transport element (owned references, dropped by
// shut_down() or the destructor), and when it connected.
struct Endpoint : binpair::Endpoint {
  explicit Endpoint(std::string name = "") : binpair::Endpoint(std::move(name)) {}
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

inline void on_our_state(GObject* bin, GParamSpec*, gpointer data) {
  auto* endpoint = static_cast<Endpoint*>(data);
  gint state = 0;
  g_object_get(bin, "state", &state, nullptr);
  if (state == 2 /* connected */ && endpoint->connected_at.load() == 0) {
    endpoint->connected_at = now_us();
  } else if (state == 4 /* failed */) {
    endpoint->failed = true;
  }
}

// A pair of ours from the two-bin fixture: the sender (ICE controlling, so the DTLS server) and
// the receiver, each a pipeline holding BINPAIR_BIN, connected when both `state`s say so.
class OurPair : public binpair::BinPair {
 public:
  OurPair()
      : BinPair(std::make_unique<Endpoint>("sender"), std::make_unique<Endpoint>("receiver")) {}
  Endpoint& tx() { return static_cast<Endpoint&>(first()); }
  Endpoint& rx() { return static_cast<Endpoint&>(second()); }
  bool build(const std::string& sender, const std::string& receiver, std::string& error) {
    if (!BinPair::build(sender, receiver, &error)) return false;
    set_controlling(true, false);
    for (Endpoint* e : {&tx(), &rx()})
      g_signal_connect(e->bin, "notify::state", G_CALLBACK(on_our_state), e);
    return true;
  }
};

// What a run of ours changes from the element's defaults. Negative = leave libnice's default.
struct OurOptions {
  const char* srtp_profiles = nullptr;
  bool drop_first_client_hello = false;
  int stun_pacing_ms = -1;
  int stun_initial_timeout_ms = -1;
  int socket_buffer_size = -1;  // bytes; 0 = the system default
};

// Both to READY (certificate, gathering: outside any timed span), ICE agent tuning, then the
// exchange of credentials, fingerprints and candidates through the properties.
inline bool prepare_ours(OurPair& pair, const OurOptions& options, std::string& error) {
  for (Endpoint* e : {&pair.tx(), &pair.rx()}) {
    if (options.srtp_profiles)
      g_object_set(e->bin, "srtp-profiles", options.srtp_profiles, nullptr);
    if (options.socket_buffer_size >= 0)
      g_object_set(e->bin, "socket-buffer-size", guint(options.socket_buffer_size), nullptr);
  }
  if (!pair.set_state(GST_STATE_READY, &error)) return false;
  // Only the DTLS client sends a ClientHello; arming both keeps the roles out of it.
  if (options.drop_first_client_hello && !pair.drop_first_client_hello(&error)) return false;
  for (Endpoint* e : {&pair.tx(), &pair.rx()}) {
    if (options.stun_pacing_ms >= 0 || options.stun_initial_timeout_ms >= 0) {
      GObject* agent = nullptr;
      g_object_get(e->bin, "ice-agent", &agent, nullptr);
      if (agent == nullptr) {
        error = "no ice-agent in READY";
        return false;
      }
      if (options.stun_pacing_ms >= 0)
        g_object_set(agent, "stun-pacing-timer", guint(options.stun_pacing_ms), nullptr);
      if (options.stun_initial_timeout_ms >= 0)
        g_object_set(agent, "stun-initial-timeout", guint(options.stun_initial_timeout_ms),
                     nullptr);
      g_object_unref(agent);
    }
  }
  pair.exchange_ice_credentials();
  return pair.exchange_fingerprints(&error) && pair.exchange_candidates(&error, 5 * G_USEC_PER_SEC);
}

inline bool wait_connected(Endpoint& a, Endpoint& b, int timeout_ms, std::string& error) {
  const bool done = wait_for(
      [&] {
        return (a.connected_at.load() != 0 && b.connected_at.load() != 0) || a.failed || b.failed;
      },
      timeout_ms);
  if (done && !a.failed && !b.failed) return true;
  error = a.failed || b.failed ? "a transport failed" : "not connected in time";
  return false;
}

// Connects a pair; returns ms from both set PLAYING to both connected, < 0 on failure.
inline double connect_ours(OurPair& pair, const OurOptions& options, std::string& error) {
  if (!prepare_ours(pair, options, error)) return -1;
  Endpoint& a = pair.tx();
  Endpoint& b = pair.rx();
  const int64_t t0 = now_us();
  gst_element_set_state(a.pipeline, GST_STATE_PLAYING);
  gst_element_set_state(b.pipeline, GST_STATE_PLAYING);
  if (!wait_connected(a, b, 10000, error)) return -1;
  return static_cast<double>(std::max(a.connected_at.load(), b.connected_at.load()) - t0) / 1000.0;
}

// One run of figure 3; returns ms to both connected, or < 0 on failure.
inline double ours_once(const OurOptions& options, std::string& error) {
  OurPair pair;
  if (!pair.build(BINPAIR_BIN, BINPAIR_BIN, error)) {
    error = "no dtlstransportbin (GST_PLUGIN_PATH?): " + error;
    return -1;
  }
  return connect_ours(pair, options, error);
}

// --- webrtcbin ----------------------------------------------------------------------------------

struct WebrtcPair {
  Endpoint offerer, answerer;
};

inline void on_webrtc_state(GObject* webrtc, GParamSpec*, gpointer data) {
  auto* endpoint = static_cast<Endpoint*>(data);
  GstWebRTCPeerConnectionState state = GST_WEBRTC_PEER_CONNECTION_STATE_NEW;
  g_object_get(webrtc, "connection-state", &state, nullptr);
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED && endpoint->connected_at.load() == 0) {
    endpoint->connected_at = now_us();
  } else if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED) {
    endpoint->failed = true;
  }
}

inline void on_ice_candidate_to(GstElement*, guint mline, gchar* candidate, gpointer peer) {
  g_signal_emit_by_name(peer, "add-ice-candidate", mline, candidate);
}

inline bool make_webrtc(Endpoint& endpoint) {
  endpoint.pipeline = gst_pipeline_new(nullptr);
  endpoint.bin = gst_element_factory_make("webrtcbin", nullptr);
  if (endpoint.bin == nullptr) return false;
  g_object_set(endpoint.bin, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, nullptr);
  gst_bin_add(GST_BIN(endpoint.pipeline), endpoint.bin);
  gst_object_ref(endpoint.bin);  // the Endpoint's own reference
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

inline GstWebRTCSessionDescription* create_description(GstElement* webrtc, const char* what) {
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

inline void set_description(GstElement* webrtc, const char* which,
                            GstWebRTCSessionDescription* desc) {
  GstPromise* promise = gst_promise_new();
  g_signal_emit_by_name(webrtc, which, desc, promise);
  gst_promise_wait(promise);
  gst_promise_unref(promise);
}

// Builds both webrtcbin, plays them and runs the offer/answer; t0 = just before the answer is set
// on the offerer (the last signalling step). False (with a message) on failure.
inline bool start_webrtc(WebrtcPair& pair, int64_t& t0, std::string& error) {
  Endpoint& a = pair.offerer;
  Endpoint& b = pair.answerer;
  if (!make_webrtc(a) || !make_webrtc(b)) {
    error = "no webrtcbin";
    return false;
  }
  g_signal_connect(a.bin, "on-ice-candidate", G_CALLBACK(on_ice_candidate_to), b.bin);
  g_signal_connect(b.bin, "on-ice-candidate", G_CALLBACK(on_ice_candidate_to), a.bin);
  gst_element_set_state(a.pipeline, GST_STATE_PLAYING);
  gst_element_set_state(b.pipeline, GST_STATE_PLAYING);

  bool ok = false;
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
      t0 = now_us();
      set_description(a.bin, "set-remote-description", answer);
      ok = true;
      gst_webrtc_session_description_free(answer);
    }
    gst_webrtc_session_description_free(offer);
  }
  return ok;
}

inline double webrtc_once(std::string& error) {
  WebrtcPair pair;
  int64_t t0 = 0;
  double result = -1;
  if (start_webrtc(pair, t0, error) && wait_connected(pair.offerer, pair.answerer, 10000, error)) {
    result =
        static_cast<double>(
            std::max(pair.offerer.connected_at.load(), pair.answerer.connected_at.load()) - t0) /
        1000.0;
  }
  pair.offerer.shut_down();
  pair.answerer.shut_down();
  return result;
}

}  // namespace elementbench
