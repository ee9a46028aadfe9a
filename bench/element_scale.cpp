// Figure 5 of bench_element: N pairs in one process (each N in a fresh child process, this binary
// re-executed with --scale N / --scale-webrtc N), each carrying a 30 fps-like stream (one 1200-byte
// packet per pair every 33 ms, all pushed by one bench thread): time to all connected, then with
// media flowing process CPU, delivery, RSS, threads and fds per transport.
#include "element_scale.hpp"

#include <sys/wait.h>

#include <thread>

#include "bench_common.hpp"
#include "element_streams.hpp"

namespace elementbench {

// --- figure 5: scale -----------------------------------------------------------------------------

struct ProcStatus {
  double rss_kib = 0;
  int threads = 0;
  int fds = 0;
};

ProcStatus proc_status() {
  ProcStatus status;
  FILE* file = std::fopen("/proc/self/status", "r");
  if (file != nullptr) {
    char line[256];
    while (std::fgets(line, sizeof line, file) != nullptr) {
      if (std::strncmp(line, "VmRSS:", 6) == 0) status.rss_kib = std::atof(line + 6);
      if (std::strncmp(line, "Threads:", 8) == 0) status.threads = std::atoi(line + 8);
    }
    std::fclose(file);
  }
  if (GDir* dir = g_dir_open("/proc/self/fd", 0, nullptr)) {
    while (g_dir_read_name(dir) != nullptr) ++status.fds;
    g_dir_close(dir);
  }
  return status;
}

// One pair of figure 5: sender appsrc → transport … transport → counted fakesink, ours or
// webrtcbin (figure 2's WebrtcStream: appsrc into a sendonly transceiver, recvonly peer).
struct ScalePair {
  std::unique_ptr<WebrtcStream> webrtc;  // webrtcbin pairs; null for ours
  std::unique_ptr<OurPair> ours;         // ours; null for webrtcbin pairs
  Receiver own_receiver;
  Endpoint* tx = nullptr;
  Endpoint* rx = nullptr;
  Receiver* receiver = nullptr;
  GstElement* src = nullptr;  // the sender's appsrc (a reference of ours)
  uint32_t ssrc = 0;
  uint16_t seq = 1;               // written by the pump thread only
  std::atomic<uint64_t> sent{0};  // packets appsrc accepted
  ~ScalePair() {
    if (src != nullptr) gst_object_unref(src);
    ours.reset();  // stopped before own_receiver, which its probe counts into, goes
  }
};

constexpr int64_t kFramePeriodNs = 1'000'000'000 / 30;  // 30 fps-like: one packet per frame

// ONE bench thread feeds every pair (not one per pair, which would add N threads of the bench's
// own to the footprint): every 33.3 ms a 1200-byte RTP packet into each pair's appsrc, with the
// pair's SSRC, its next sequence number and a 90 kHz timestamp that follows real time. A tick
// that starts late is not skipped (the pump catches up), so `sent` is what was really pushed.
class MediaPump {
 public:
  explicit MediaPump(std::vector<ScalePair*> pairs)
      : pairs_(std::move(pairs)), t0_(mono_ns()), thread_([this] { run(); }) {}
  ~MediaPump() { stop(); }
  MediaPump(const MediaPump&) = delete;
  MediaPump& operator=(const MediaPump&) = delete;
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Sleeps until half a period after a tick, at or after `not_before`: a sample taken there sees
  // the tick's packets delivered (loopback takes well under 16 ms), so a window's edges do not
  // cut a tick in two.
  void sleep_until_mid_tick(int64_t not_before) const {
    const int64_t phase = t0_ + kFramePeriodNs / 2;
    int64_t k = (not_before - phase + kFramePeriodNs - 1) / kFramePeriodNs;
    if (k < 0) k = 0;
    const int64_t wait = phase + k * kFramePeriodNs - mono_ns();
    if (wait > 0) g_usleep(static_cast<gulong>(wait / 1000));
  }
  double cpu_seconds() const { return static_cast<double>(cpu_ns_.load()) * 1e-9; }
  uint64_t late_ticks() const { return late_ticks_.load(); }

 private:
  void run() {
    for (int64_t tick = 0; !stop_; ++tick) {
      const int64_t wait = t0_ + tick * kFramePeriodNs - mono_ns();
      if (wait > 0) {
        g_usleep(static_cast<gulong>(wait / 1000));
      } else if (wait < -kFramePeriodNs / 2) {
        late_ticks_.fetch_add(1, std::memory_order_relaxed);
      }
      for (ScalePair* pair : pairs_) {
        if (pair->src == nullptr) continue;  // no appsrc found: counted as sending nothing
        GstBuffer* buffer = make_packet(pair->seq++, false, pair->ssrc);
        GstFlowReturn flow = GST_FLOW_ERROR;
        g_signal_emit_by_name(pair->src, "push-buffer", buffer, &flow);
        gst_buffer_unref(buffer);
        if (flow == GST_FLOW_OK) pair->sent.fetch_add(1, std::memory_order_relaxed);
      }
      timespec cpu{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
      cpu_ns_ = int64_t{cpu.tv_sec} * 1000000000 + cpu.tv_nsec;
    }
  }
  std::vector<ScalePair*> pairs_;
  const int64_t t0_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> cpu_ns_{0};
  std::atomic<uint64_t> late_ticks_{0};
  std::thread thread_;  // last: starts once everything above is initialised
};

struct MediaSample {
  int64_t wall_ns = 0;
  double cpu = 0, pump_cpu = 0;
  uint64_t sent = 0, received = 0;
  std::vector<uint64_t> received_per_pair;
};

MediaSample sample_media(const std::vector<std::unique_ptr<ScalePair>>& pairs,
                         const MediaPump& pump) {
  MediaSample s;
  s.wall_ns = mono_ns();
  s.cpu = process_cpu_seconds();
  s.pump_cpu = pump.cpu_seconds();
  for (const auto& pair : pairs) {
    s.sent += pair->sent.load();
    const uint64_t received = pair->receiver->packets.load();
    s.received += received;
    s.received_per_pair.push_back(received);
  }
  return s;
}

// N pairs in this (fresh) process, each carrying a 30 fps-like stream once all are connected.
// Prints for the parent "scale <connected pairs> <s from PLAYING> <RSS KiB/transport>
// <threads/transport> <fds/transport> <s from creation> <CPU % of one core, whole process>
// <delivery %>", plus notes.
int scale_child(int pairs, bool webrtc, bool quick) {
  // Warm up with one streaming pair of the same kind (plugins loaded — appsrc, fakesink, rtpbin's
  // jitterbuffer for webrtcbin —, the shared thread and OpenSSL/libnice initialised), then the
  // baseline: what a process that already streamed over one pair holds.
  std::string error;
  {
    uint16_t seq = 1;
    if (webrtc) {
      WebrtcStream warm(error);
      if (warm.ok) run_stream(warm.tx.pipeline, warm.receiver, 30, 1, 300, false, seq);
    } else {
      OurStream warm(OurOptions{}, error);
      if (warm.ok) run_stream(warm.tx.pipeline, warm.receiver, 30, 1, 300, false, seq);
    }
    if (!error.empty()) std::printf("# warm-up pair: %s\n", error.c_str());
    error.clear();
  }
  const ProcStatus base = proc_status();
  std::vector<std::unique_ptr<ScalePair>> scale_pairs;
  // Two spans: from the first element created (everything: certificates, gathering, signalling,
  // checks, handshakes — comparable between ours and webrtcbin), and from t0 (ours: all set
  // PLAYING after every pair was prepared; webrtcbin: the first answer set, so its signalling of
  // the later pairs is inside).
  const int64_t t_created = now_us();
  int64_t t0 = 0;
  for (int i = 0; i < pairs; ++i) {
    auto pair = std::make_unique<ScalePair>();
    pair->ssrc = 0x10000000u + static_cast<uint32_t>(i);
    if (webrtc) {
      // webrtcbin's signalling is asynchronous: the pairs negotiate one after another without
      // waiting for the previous one to connect; t0 = the first answer set.
      pair->webrtc = std::make_unique<WebrtcStream>(error, false);
      if (!pair->webrtc->ok) {
        std::printf("# webrtcbin pair %d: %s\n", i, error.c_str());
        break;
      }
      if (t0 == 0) t0 = pair->webrtc->answer_set_at;
      pair->tx = &pair->webrtc->tx;
      pair->rx = &pair->webrtc->rx;
      pair->receiver = &pair->webrtc->receiver;
    } else {
      // Ours: every pair prepared (READY, gathered, parameters exchanged), then t0 and all PLAYING.
      pair->ours = std::make_unique<OurPair>();
      if (!pair->ours->build(kOurSender, kOurReceiver, error) ||
          !prepare_ours(*pair->ours, OurOptions{}, error)) {
        std::printf("# pair %d: %s\n", i, error.empty() ? "cannot build" : error.c_str());
        break;
      }
      pair->tx = &pair->ours->tx();
      pair->rx = &pair->ours->rx();
      pair->receiver = &pair->own_receiver;
      attach_receiver(pair->rx->pipeline, pair->own_receiver);
    }
    pair->src = gst_bin_get_by_name(GST_BIN(pair->tx->pipeline), "src");
    scale_pairs.push_back(std::move(pair));
  }
  const int built = static_cast<int>(scale_pairs.size());
  if (!webrtc) {
    t0 = now_us();
    for (auto& pair : scale_pairs) {
      gst_element_set_state(pair->tx->pipeline, GST_STATE_PLAYING);
      gst_element_set_state(pair->rx->pipeline, GST_STATE_PLAYING);
    }
  }
  std::vector<Endpoint*> all;
  for (auto& pair : scale_pairs) {
    all.push_back(pair->tx);
    all.push_back(pair->rx);
  }
  wait_for(
      [&] {
        for (Endpoint* e : all)
          if (e->connected_at.load() == 0 && !e->failed) return false;
        return true;
      },
      std::max(30000, 60 * pairs));  // 60 s at N = 1,000: the goal is 10 s, the bench measures
  int64_t last = t0;
  int connected = 0, failed = 0;
  for (Endpoint* e : all) {
    if (e->connected_at.load() != 0) {
      ++connected;
      last = std::max(last, e->connected_at.load());
    }
    if (e->failed) ++failed;
  }
  if (webrtc) {  // where an unconnected webrtcbin got stuck
    for (auto& pair : scale_pairs) {
      for (Endpoint* e : {pair->tx, pair->rx}) {
        if (e->connected_at.load() != 0) continue;
        gint ice = 0, pc = 0, gathering = 0;
        g_object_get(e->bin, "ice-connection-state", &ice, "connection-state", &pc,
                     "ice-gathering-state", &gathering, nullptr);
        std::printf(
            "# webrtcbin %s not connected: ice-connection-state %d, connection-state %d, "
            "ice-gathering-state %d\n",
            e == pair->tx ? "sender" : "receiver", ice, pc, gathering);
      }
    }
  }

  // Media: streaming runs 2 s (1 s quick) before the window opens, so that queues, jitterbuffers
  // and socket buffers are in their steady state; then a fixed window of 3 s (1 s quick) gives
  // the process CPU per wall second and the delivery (received / sent in the window); the
  // footprint is sampled at the end of the window, with media flowing.
  std::vector<ScalePair*> pointers;
  for (auto& pair : scale_pairs) pointers.push_back(pair.get());
  MediaPump pump(pointers);
  const int64_t warm_ns = quick ? 1'000'000'000 : 2'000'000'000;
  const int64_t window_ns = quick ? 1'000'000'000 : 3'000'000'000;
  pump.sleep_until_mid_tick(mono_ns() + warm_ns);
  const MediaSample begin = sample_media(scale_pairs, pump);
  pump.sleep_until_mid_tick(begin.wall_ns + window_ns);
  const MediaSample end = sample_media(scale_pairs, pump);
  const ProcStatus now = proc_status();
  pump.stop();

  const double wall = static_cast<double>(end.wall_ns - begin.wall_ns) * 1e-9;
  const double cpu_pct = 100.0 * (end.cpu - begin.cpu) / wall;
  const double pump_pct = 100.0 * (end.pump_cpu - begin.pump_cpu) / wall;
  const uint64_t sent = end.sent - begin.sent;
  const uint64_t received = end.received - begin.received;
  const double delivery =
      sent > 0 ? 100.0 * static_cast<double>(received) / static_cast<double>(sent) : 0;
  int silent = 0;  // pairs that received nothing in the window
  for (size_t i = 0; i < end.received_per_pair.size(); ++i)
    if (end.received_per_pair[i] == begin.received_per_pair[i]) ++silent;

  const double transports = std::max<double>(1, connected);
  const char* who = webrtc ? "webrtcbin" : "ours";
  std::printf(
      "# %s N=%d: %d pairs built, %d/%zu transports connected, %d failed; with media flowing: "
      "process %.1f MiB RSS, %d threads, %d fds (baseline %.1f MiB, %d, %d)\n",
      who, pairs, built, connected, all.size(), failed, now.rss_kib / 1024, now.threads, now.fds,
      base.rss_kib / 1024, base.threads, base.fds);
  std::printf(
      "# %s N=%d: %.2f s window: sent %llu (%.0f pkt/s, nominal %.0f), received %llu (%.2f %%), "
      "%d pairs silent; process CPU %.1f %% of one core, of which the bench's pump thread %.1f %%; "
      "%llu late ticks\n",
      who, pairs, wall, static_cast<unsigned long long>(sent), static_cast<double>(sent) / wall,
      30.0 * built, static_cast<unsigned long long>(received), delivery, silent, cpu_pct, pump_pct,
      static_cast<unsigned long long>(pump.late_ticks()));
  std::printf("scale\t%d\t%.3f\t%.1f\t%.2f\t%.2f\t%.3f\t%.2f\t%.3f\n", connected / 2,
              static_cast<double>(last - t0) / 1e6, (now.rss_kib - base.rss_kib) / transports,
              (now.threads - base.threads) / transports, (now.fds - base.fds) / transports,
              static_cast<double>(last - t_created) / 1e6, cpu_pct, delivery);
  scale_pairs.clear();  // pump stopped: nothing pushes any more
  return connected == 2 * pairs ? 0 : 1;
}

struct ScaleResult {
  int connected_pairs = -1;
  double seconds = 0, rss_kib = 0, threads = 0, fds = 0, total_seconds = 0, cpu_pct = 0,
         delivery_pct = 0;
};

// Runs scale_child in a fresh process (a clean heap and thread count for each N).
ScaleResult run_scale(const char* self, int pairs, bool webrtc, bool quick) {
  ScaleResult result;
  std::string command = std::string(self) + (webrtc ? " --scale-webrtc " : " --scale ") +
                        std::to_string(pairs) + (quick ? " --quick" : "") + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char line[1024];
  while (std::fgets(line, sizeof line, pipe) != nullptr) {
    if (std::strncmp(line, "scale\t", 6) == 0) {
      std::sscanf(line + 6, "%d %lf %lf %lf %lf %lf %lf %lf", &result.connected_pairs,
                  &result.seconds, &result.rss_kib, &result.threads, &result.fds,
                  &result.total_seconds, &result.cpu_pct, &result.delivery_pct);
    } else if (line[0] == '#') {
      std::fputs(line, stdout);
    } else if (std::strstr(line, "ERROR") != nullptr || std::strstr(line, "CRITICAL") != nullptr) {
      std::printf("# %s N=%d, the child said: %s", webrtc ? "webrtcbin" : "ours", pairs, line);
    }
  }
  // A child that dies after its result line (an abort while tearing down) is reported, not hidden.
  const int status = pclose(pipe);
  if (status != 0)
    std::printf("# %s N=%d: the child process exited with status %d (after %s its result)\n",
                webrtc ? "webrtcbin" : "ours", pairs,
                WIFEXITED(status) ? WEXITSTATUS(status) : status,
                result.connected_pairs >= 0 ? "printing" : "without printing");
  return result;
}

bool figure_scale(const char* self, bool quick) {
  const char* figure = "5 Scale (N pairs, one process)";
  const int webrtc_n = quick ? 5 : 50;
  const ScaleResult webrtc = run_scale(self, webrtc_n, true, quick);
  bool ok = webrtc.connected_pairs >= 0;
  if (!ok) std::printf("# webrtcbin, N=%d: the child produced no result\n", webrtc_n);
  std::vector<int> sizes = quick ? std::vector<int>{5} : std::vector<int>{25, 50, 100, 200, 1000};
  for (int n : sizes) {
    const ScaleResult ours = run_scale(self, n, false, quick);
    if (ours.connected_pairs < 0) {
      std::printf("# ours, N=%d: the child produced no result\n", n);
      ok = false;
      continue;
    }
    const std::string label = "N=" + std::to_string(n);
    const bool comparable = webrtc.connected_pairs >= 0 && n == webrtc_n;
    const std::string vs = comparable ? ", vs webrtcbin N=" + std::to_string(webrtc_n) : "";
    auto anchor = [&](double value) { return comparable ? value : -1; };
    bench::print_row(figure, label + " pairs connected", ours.connected_pairs,
                     anchor(webrtc.connected_pairs), "pairs", bench::Better::Higher, 0);
    bench::print_row(figure, label + " s to all connected, from creation" + vs, ours.total_seconds,
                     anchor(webrtc.total_seconds), "s", bench::Better::Lower, 2);
    bench::print_row(figure, label + " s to all connected, from all PLAYING", ours.seconds, -1, "s",
                     bench::Better::Lower, 2);
    // Steady state with a 30 fps-like stream per pair; the footprint rows below are sampled with
    // media flowing too.
    const double transports = 2.0 * std::max(1, ours.connected_pairs);
    const double webrtc_transports = 2.0 * std::max(1, webrtc.connected_pairs);
    bench::print_row(figure, label + " CPU whole process" + vs, ours.cpu_pct,
                     anchor(webrtc.cpu_pct), "% of a core", bench::Better::Lower, 1);
    bench::print_row(figure, label + " CPU per transport" + vs, ours.cpu_pct / transports,
                     anchor(webrtc.cpu_pct / webrtc_transports), "% of a core",
                     bench::Better::Lower, 3);
    bench::print_row(figure, label + " delivery recv/sent" + vs, ours.delivery_pct,
                     anchor(webrtc.delivery_pct), "%", bench::Better::Higher, 2);
    bench::print_row(figure, label + " RSS per transport" + vs, ours.rss_kib / 1024,
                     anchor(webrtc.rss_kib / 1024), "MiB", bench::Better::Lower, 3);
    bench::print_row(figure, label + " threads per transport" + vs, ours.threads,
                     anchor(webrtc.threads), "threads", bench::Better::Lower, 2);
    bench::print_row(figure, label + " fds per transport" + vs, ours.fds, anchor(webrtc.fds), "fds",
                     bench::Better::Lower, 2);
  }
  return ok;
}

}  // namespace elementbench
