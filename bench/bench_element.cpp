// Element figures (need the plugin from gst/ on GST_PLUGIN_PATH), each ours next to an anchor run
// in the same process:
//   3. Time to connected on 127.0.0.1 vs a webrtcbin pair (median, p90); then variants of ours:
//      the first ClientHello dropped (the fixture's pad probe), and libnice settings written to
//      the agent through `ice-agent` in READY (stun-pacing-timer, stun-initial-timeout).
//   2. Data path, 1200-byte RTP: appsrc → rtp_sink … rtp_src → fakesink of a connected pair vs
//      appsrc ! srtpenc ! udpsink … udpsrc ! srtpdec ! fakesink with the same profile and keys.
//   6. One-way delay of a paced stream (timestamp in the payload) vs plain udpsink/udpsrc.
//   5. N pairs in one process (each N in a fresh child process: --scale N / --scale-webrtc N),
//      each carrying a 30 fps-like stream (one 1200-byte packet per pair every 33 ms, all pushed
//      by one bench thread): time to all connected, then with media flowing process CPU,
//      delivery, RSS, threads and fds per transport.
// The pairs are in element_pairs.hpp, the streams in element_streams.hpp, figure 5 in
// element_scale.cpp.
//
// Figure 3, ours: two dtlstransportbin, each alone in a pipeline, local-addresses=127.0.0.1 (the
// two-bin fixture of tests/fixture/bin_pair.h). Both go to READY (certificate generated,
// candidates gathered), exchange ICE credentials, fingerprints and candidates through properties
// (what the application learns from the SDP), then t0 = just before both are set PLAYING; t1 = when
// the later of the two `state` notifications says connected. Certificate generation and gathering
// are outside the timed span. webrtcbin: the usual offer/answer between two webrtcbin with one
// sendrecv video transceiver, 127.0.0.1 added to each ICE agent, candidates trickled directly; t0 =
// the answer set on the offerer (the last signalling step), t1 = both `connection-state` connected
// (ICE + DTLS). Both: wall time (this is latency, not CPU cost), fresh elements per run.
#include <gst/gst.h>
#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "bench_common.hpp"
#include "bin_pair.h"
#include "element_pairs.hpp"
#include "element_scale.hpp"
#include "element_streams.hpp"

namespace elementbench {

// Figure 2. Returns false if a run could not be set up.
// Two kinds of run per case: flat out (appsrc pushed as fast as it takes them: the max rate
// received, and the loss, which on one 2-core box is the receiving socket overflowing while the
// sender holds a core), and paced at kCostRate (below every max, ~no loss): there the process CPU
// per packet is the cost of the path, not of pushing packets the kernel then drops.
constexpr double kCostRate = 15000;

struct Case {
  StreamResult flat, paced;
};

template <class Stream>
Case measure(GstElement* sender, Stream& stream, int packets, int batch, bool quick,
             uint16_t& seq) {
  Case c;
  c.flat = run_stream(sender, stream.receiver, packets, batch, 0, false, seq);
  c.paced = run_stream(sender, stream.receiver, static_cast<int>(kCostRate * (quick ? 0.5 : 2.0)),
                       batch, kCostRate, false, seq);
  return c;
}

bool figure_data_path(bool quick) {
  const char* figure = "2 Data path 1200B RTP (127.0.0.1)";
  const int packets = quick ? 20000 : 200000;
  bool all_ok = true;
  for (const Profile* profile : {&kGcm, &kCm80}) {
    std::string error;
    OurOptions options;
    options.srtp_profiles = profile->openssl;
    Case ours_single, ours_list, anchor_single, anchor_list;
    StreamResult ours_80, ours_80_default_buffers;
    double rate_80 = 0;
    {
      OurStream ours(options, error);
      if (!ours.ok) {
        std::printf("# figure 2 %s: ours: %s\n", profile->name, error.c_str());
        all_ok = false;
        continue;
      }
      uint16_t seq = 1;
      run_stream(ours.tx.pipeline, ours.receiver, packets / 10, 1, 0, false, seq);  // warm-up
      ours_single = measure(ours.tx.pipeline, ours, packets, 1, quick, seq);
      ours_list = measure(ours.tx.pipeline, ours, packets, kListSize, quick, seq);
      // Loss at 80 % of our best flat-out rate, paced in lists of 8 (≈ a video frame's worth).
      rate_80 = 0.8 * std::max(ours_list.flat.pps(), ours_single.flat.pps());
      ours_80 = run_stream(ours.tx.pipeline, ours.receiver,
                           static_cast<int>(rate_80 * (quick ? 0.5 : 2.0)), 8, rate_80, false, seq);
    }
    {
      // The same rate with the kernel's default socket buffers (socket-buffer-size=0), as the
      // element had before that property: what the larger buffers buy.
      OurOptions defaults = options;
      defaults.socket_buffer_size = 0;
      OurStream ours(defaults, error);
      if (ours.ok && rate_80 > 0) {
        uint16_t seq = 1;
        ours_80_default_buffers =
            run_stream(ours.tx.pipeline, ours.receiver,
                       static_cast<int>(rate_80 * (quick ? 0.5 : 2.0)), 8, rate_80, false, seq);
      }
    }
    {
      UdpStream anchor(profile, error);
      if (!anchor.ok) {
        std::printf("# figure 2 %s: srtpenc/srtpdec anchor: %s\n", profile->name, error.c_str());
        all_ok = false;
        continue;
      }
      uint16_t seq = 1;
      run_stream(anchor.tx, anchor.receiver, packets / 10, 1, 0, false, seq);
      anchor_single = measure(anchor.tx, anchor, packets, 1, quick, seq);
      // Lists only on the sending side (srtpenc → udpsink, sendmmsg): udpsrc pushes single
      // buffers, so srtpdec never sees a list and its buffer-list bug in 1.22 is not reached.
      anchor_list = measure(anchor.tx, anchor, packets, kListSize, quick, seq);
    }
    Case webrtc_single, webrtc_list;
    bool webrtc_ok = false;
    if (profile == &kGcm) {
      // webrtcbin picks its own SRTP profile (1.22 offers AES_CM_128_HMAC_SHA1_80 first): it is
      // compared with ours GCM, the profile ours negotiates by default.
      WebrtcStream webrtc(error);
      if (!webrtc.ok) {
        std::printf("# figure 2: webrtcbin anchor: %s\n", error.c_str());
      } else {
        uint16_t seq = 1;
        run_stream(webrtc.tx.pipeline, webrtc.receiver, packets / 10, 1, 0, false, seq);
        webrtc_single = measure(webrtc.tx.pipeline, webrtc, packets, 1, quick, seq);
        webrtc_list = measure(webrtc.tx.pipeline, webrtc, packets, kListSize, quick, seq);
        webrtc_ok = true;
      }
    }
    const std::string p = profile->name;
    if (webrtc_ok) {
      note_stream("webrtcbin single, flat out", webrtc_single.flat);
      note_stream("webrtcbin single, paced", webrtc_single.paced);
      note_stream("webrtcbin lists, flat out", webrtc_list.flat);
      note_stream("webrtcbin lists, paced", webrtc_list.paced);
      bench::print_row(figure, p + " pkt/CPU-s lists vs webrtcbin lists",
                       ours_list.paced.per_cpu_second(), webrtc_list.paced.per_cpu_second(),
                       "pkt/CPU-s", bench::Better::Higher, 0);
      bench::print_row(figure, p + " pkt/CPU-s single vs webrtcbin single",
                       ours_single.paced.per_cpu_second(), webrtc_single.paced.per_cpu_second(),
                       "pkt/CPU-s", bench::Better::Higher, 0);
      bench::print_row(figure, p + " max pkt/s received, lists vs webrtcbin lists",
                       ours_list.flat.pps(), webrtc_list.flat.pps(), "pkt/s", bench::Better::Higher,
                       0);
      bench::print_row(figure, p + " context switches/pkt single vs webrtcbin single, paced",
                       ours_single.paced.switches_per_packet(),
                       webrtc_single.paced.switches_per_packet(), "switches/pkt",
                       bench::Better::Lower, 3);
      bench::print_row(figure, p + " context switches/pkt lists vs webrtcbin lists, paced",
                       ours_list.paced.switches_per_packet(),
                       webrtc_list.paced.switches_per_packet(), "switches/pkt",
                       bench::Better::Lower, 3);
    }
    note_stream(("ours " + p + " single, flat out").c_str(), ours_single.flat);
    note_stream(("ours " + p + " single, paced").c_str(), ours_single.paced);
    note_stream(("ours " + p + " lists, flat out").c_str(), ours_list.flat);
    note_stream(("ours " + p + " lists, paced").c_str(), ours_list.paced);
    note_stream(("ours " + p + " lists of 8 at 80% of max").c_str(), ours_80);
    note_stream(("ours " + p + " same, socket-buffer-size=0").c_str(), ours_80_default_buffers);
    note_stream(("srtpenc/dec " + p + " single, flat out").c_str(), anchor_single.flat);
    note_stream(("srtpenc/dec " + p + " single, paced").c_str(), anchor_single.paced);
    note_stream(("srtpenc/dec " + p + " send lists, flat out").c_str(), anchor_list.flat);
    note_stream(("srtpenc/dec " + p + " send lists, paced").c_str(), anchor_list.paced);
    bench::print_row(figure, p + " pkt/CPU-s single vs srtpenc/dec single",
                     ours_single.paced.per_cpu_second(), anchor_single.paced.per_cpu_second(),
                     "pkt/CPU-s", bench::Better::Higher, 0);
    bench::print_row(figure, p + " pkt/CPU-s lists vs srtpenc/dec single",
                     ours_list.paced.per_cpu_second(), anchor_single.paced.per_cpu_second(),
                     "pkt/CPU-s", bench::Better::Higher, 0);
    bench::print_row(figure, p + " pkt/CPU-s lists vs srtpenc/dec send lists",
                     ours_list.paced.per_cpu_second(), anchor_list.paced.per_cpu_second(),
                     "pkt/CPU-s", bench::Better::Higher, 0);
    bench::print_row(figure, p + " context switches/pkt single vs srtpenc/dec single, paced",
                     ours_single.paced.switches_per_packet(),
                     anchor_single.paced.switches_per_packet(), "switches/pkt",
                     bench::Better::Lower, 3);
    bench::print_row(figure, p + " context switches/pkt lists vs srtpenc/dec send lists, paced",
                     ours_list.paced.switches_per_packet(), anchor_list.paced.switches_per_packet(),
                     "switches/pkt", bench::Better::Lower, 3);
    bench::print_row(figure, p + " context switches/pkt lists vs srtpenc/dec send lists, flat out",
                     ours_list.flat.switches_per_packet(), anchor_list.flat.switches_per_packet(),
                     "switches/pkt", bench::Better::Lower, 3);
    for (const auto& [who, single, list] : {std::tuple{"ours", &ours_single, &ours_list},
                                            std::tuple{"srtpenc", &anchor_single, &anchor_list}}) {
      metrics(who, p, "single_paced", single->paced);
      metrics(who, p, "lists_paced", list->paced);
      metrics(who, p, "lists_flat", list->flat);
    }
    bench::print_row(figure, p + " max pkt/s received, single", ours_single.flat.pps(),
                     anchor_single.flat.pps(), "pkt/s", bench::Better::Higher, 0);
    bench::print_row(figure, p + " max pkt/s received, lists", ours_list.flat.pps(),
                     anchor_list.flat.pps(), "pkt/s", bench::Better::Higher, 0);
    bench::print_row(figure, p + " loss % flat out, lists", 100.0 * ours_list.flat.loss(),
                     100.0 * anchor_list.flat.loss(), "%", bench::Better::Lower, 1);
    bench::print_row(figure, p + " loss % at 80% of max, 1 MiB vs default socket buffers",
                     100.0 * ours_80.loss(), 100.0 * ours_80_default_buffers.loss(), "%",
                     bench::Better::Lower, 2);
  }
  return all_ok;
}

// For a profiler (valgrind --tool=callgrind, perf, strace -c): one connected pair of ours, or
// with `anchor` the srtpenc/srtpdec anchor, GCM-128, `packets` packets in lists of `batch`
// (1 = single buffers) paced at `rate` pkt/s (slow enough that nothing is lost under valgrind),
// nothing else. Not part of any figure.
int profile_path(int packets, double rate, int batch, bool anchor) {
  std::string error;
  StreamResult r;
  uint16_t seq = 1;
  if (anchor) {
    UdpStream stream(&kGcm, error);
    if (!stream.ok) {
      std::printf("# profile: %s\n", error.c_str());
      return 1;
    }
    r = run_stream(stream.tx, stream.receiver, packets, batch, rate, false, seq);
  } else {
    OurOptions options;
    options.srtp_profiles = kGcm.openssl;
    OurStream ours(options, error);
    if (!ours.ok) {
      std::printf("# profile: %s\n", error.c_str());
      return 1;
    }
    r = run_stream(ours.tx.pipeline, ours.receiver, packets, batch, rate, false, seq);
  }
  note_stream(anchor ? "srtpenc/dec GCM-128 profile run" : "ours GCM-128 profile run", r);
  return 0;
}

// Figure 6: one-way delay of a paced stream (1 packet per ms), ours vs plain udpsink/udpsrc.
bool figure_latency(bool quick) {
  const char* figure = "6 Latency added (one way, paced)";
  const int packets = quick ? 1000 : 5000;
  std::string error;
  std::vector<double> ours_delays, plain_delays;
  {
    OurOptions options;
    OurStream ours(options, error);
    if (!ours.ok) {
      std::printf("# figure 6: ours: %s\n", error.c_str());
      return false;
    }
    ours.receiver.latency = true;
    ours.receiver.delays_us.reserve(static_cast<size_t>(packets) * 2);
    uint16_t seq = 1;
    run_stream(ours.tx.pipeline, ours.receiver, 100, 1, 1000, true, seq);  // warm-up
    ours.receiver.delays_us.clear();
    const StreamResult r = run_stream(ours.tx.pipeline, ours.receiver, packets, 1, 1000, true, seq);
    note_stream("ours GCM-128 paced 1000 pkt/s", r);
    gst_element_set_state(ours.rx.pipeline, GST_STATE_NULL);  // no more writers
    ours_delays = ours.receiver.delays_us;
  }
  {
    UdpStream plain(nullptr, error);
    if (!plain.ok) {
      std::printf("# figure 6: plain udp: %s\n", error.c_str());
      return false;
    }
    plain.receiver.latency = true;
    plain.receiver.delays_us.reserve(static_cast<size_t>(packets) * 2);
    uint16_t seq = 1;
    run_stream(plain.tx, plain.receiver, 100, 1, 1000, true, seq);
    plain.receiver.delays_us.clear();
    const StreamResult r = run_stream(plain.tx, plain.receiver, packets, 1, 1000, true, seq);
    note_stream("plain udpsink/udpsrc paced 1000 pkt/s", r);
    gst_element_set_state(plain.rx, GST_STATE_NULL);
    plain_delays = plain.receiver.delays_us;
  }
  if (ours_delays.empty() || plain_delays.empty()) return false;
  const double p50 = bench::percentile(ours_delays, 50), p99 = bench::percentile(ours_delays, 99);
  const double a50 = bench::percentile(plain_delays, 50), a99 = bench::percentile(plain_delays, 99);
  bench::print_row(figure, "p50 appsrc→sink, ours vs plain udp", p50, a50, "us",
                   bench::Better::Lower, 1);
  bench::print_row(figure, "p99 appsrc→sink, ours vs plain udp", p99, a99, "us",
                   bench::Better::Lower, 1);
  bench::print_row(figure, "p50 added by ours", p50 - a50, -1, "us", bench::Better::Lower, 1);
  bench::print_row(figure, "p99 added by ours", p99 - a99, -1, "us", bench::Better::Lower, 1);
  return true;
}

// --- figure 3 ------------------------------------------------------------------------------------

bool figure_connect(bool quick) {
  const char* figure = "3 Time to connected (127.0.0.1)";
  const int runs = quick ? 7 : 25;
  std::vector<double> ours, theirs;
  std::string error;
  int failures = 0;
  // Alternate ours and webrtcbin so that load from neighbours hits both alike.
  for (int i = 0; i < runs; ++i) {
    const double ms_ours = ours_once(OurOptions{}, error);
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

  // Variants of ours: a lost first ClientHello, and libnice settings set through `ice-agent`
  // in READY. Each vs ours with the element's defaults (the median above).
  struct Variant {
    const char* label;
    OurOptions options;
  };
  OurOptions drop;
  drop.drop_first_client_hello = true;
  OurOptions pacing1;
  pacing1.stun_pacing_ms = 1;
  OurOptions pacing5;
  pacing5.stun_pacing_ms = 5;
  OurOptions initial100;
  initial100.stun_initial_timeout_ms = 100;
  OurOptions drop_pacing1 = drop;
  drop_pacing1.stun_pacing_ms = 1;
  const Variant variants[] = {
      {"first ClientHello dropped", drop},
      {"first ClientHello dropped, pacing 1 ms", drop_pacing1},
      {"stun-pacing-timer 1 ms (default 20)", pacing1},
      {"stun-pacing-timer 5 ms (default 20)", pacing5},
      {"stun-initial-timeout 100 ms (default 500)", initial100},
  };
  const int variant_runs = quick ? 3 : 11;
  const double base = bench::median(ours);
  for (const Variant& variant : variants) {
    std::vector<double> times;
    for (int i = 0; i < variant_runs; ++i) {
      const double ms = ours_once(variant.options, error);
      if (ms >= 0) {
        times.push_back(ms);
      } else {
        ++failures;
        std::printf("# ours (%s), run %d: %s\n", variant.label, i, error.c_str());
      }
    }
    if (times.empty()) continue;
    bench::print_row(figure, std::string("median, ") + variant.label + " vs default",
                     bench::median(times), ours.empty() ? -1 : base, "ms", bench::Better::Lower, 1);
    if (std::strncmp(variant.label, "first", 5) == 0)
      bench::print_row(figure, std::string("p90, ") + variant.label, bench::percentile(times, 90),
                       -1, "ms", bench::Better::Lower, 1);
  }
  return !ours.empty() && !theirs.empty() && failures == 0;
}

}  // namespace elementbench

using namespace elementbench;

// Usage: bench_element [--quick] [--only 2|3|5|6]   (--scale N / --scale-webrtc N: internal)
//        bench_element --profile-path PACKETS [RATE [BATCH [anchor]]]   (see profile_path)
int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const bool quick = bench::has_flag(argc, argv, "--quick");
  int only = 0;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--scale") == 0)
      return scale_child(std::atoi(argv[i + 1]), false, quick);
    if (std::strcmp(argv[i], "--scale-webrtc") == 0)
      return scale_child(std::atoi(argv[i + 1]), true, quick);
    if (std::strcmp(argv[i], "--only") == 0) only = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--profile-path") == 0) {
      // --profile-path PACKETS [RATE [BATCH [anchor]]]
      const double rate = i + 2 < argc ? std::atof(argv[i + 2]) : 500;
      const int batch = i + 3 < argc ? std::atoi(argv[i + 3]) : 1;
      const bool anchor = i + 4 < argc && std::strcmp(argv[i + 4], "anchor") == 0;
      return profile_path(std::atoi(argv[i + 1]), rate, batch, anchor);
    }
  }
  bool ok = true;
  if (only == 0 || only == 3) ok = figure_connect(quick) && ok;
  if (only == 0 || only == 2) ok = figure_data_path(quick) && ok;
  if (only == 0 || only == 6) ok = figure_latency(quick) && ok;
  if (only == 0 || only == 5) {
    // The children are this binary; resolve the link here (in popen's shell it names the shell).
    gchar* self = g_file_read_link("/proc/self/exe", nullptr);
    ok = self != nullptr && figure_scale(self, quick) && ok;
    g_free(self);
  }
  return ok ? 0 : 1;
}
