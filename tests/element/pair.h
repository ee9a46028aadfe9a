// Fixture for the element tests: two pipelines in one process, each holding one
// dtlstransportbin named "dtls" gathering on 127.0.0.1, signalled to each other through the
// element's properties and signals only (as an application translating SDP would do it).
//
// Every wait is bounded (kWaitUs unless told otherwise) and pumps both buses, so warnings and
// errors the bins post are recorded per side. Helpers fail the running gst-check test on setup
// errors; checks that a test is about return values for the test to assert on.
#pragma once

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace elemtest {

inline constexpr gint64 kWaitUs = 20 * G_USEC_PER_SEC;

// Nick values of the element's enums (GstDtlsTransportBinState / Role / IceGatheringState).
enum State { kNew = 0, kConnecting = 1, kConnected = 2, kClosed = 3, kFailed = 4 };
enum Role { kAuto = 0, kClient = 1, kServer = 2 };
inline constexpr int kGatheringComplete = 2;

const char* state_name(int state);

// Counts buffers (and buffers inside lists) crossing a pad; the probe holds a raw pointer, so a
// Counter lives as long as its Side.
struct Counter {
  std::atomic<uint64_t> buffers{0};
};

struct Side {
  explicit Side(const char* label);
  ~Side();
  Side(const Side&) = delete;
  Side& operator=(const Side&) = delete;

  std::string label;  // "A" or "B", in messages
  GstElement* pipeline = nullptr;
  GstElement* bin = nullptr;  // the dtlstransportbin "dtls"
  // Standard pipelines only (nullptr in custom ones): appsrc → rtp_sink/rtcp_sink,
  // rtp_src/rtcp_src → appsink.
  GstElement* rtp_in = nullptr;
  GstElement* rtcp_in = nullptr;
  GstElement* rtp_out = nullptr;
  GstElement* rtcp_out = nullptr;
  Counter* rtp_out_count = nullptr;  // buffers that left rtp_src (standard pipelines)

  // Bus messages, "source: text (debug)", filled by Pair::pump().
  std::vector<std::string> warnings;
  std::vector<std::string> errors;

  // Every state-changed emission, in order (any thread).
  std::vector<int> state_changes() const;
  int count_state_changes(int state) const;

  int state() const;
  int enum_property(const char* name) const;
  std::string string_property(const char* name) const;  // "" for NULL
  uint64_t stat(const char* field) const;               // fails the test if missing
  // Whether any warning contains every one of `needles` (case-insensitive).
  bool has_warning(std::initializer_list<const char*> needles) const;
  std::string describe() const;  // state, ice-state, warnings: for failure messages

  Counter* count_buffers(GstElement* element, const char* pad_name);
  void record_state_change(int state);

 private:
  mutable std::mutex mutex_;
  std::vector<int> state_changes_;
  std::vector<std::unique_ptr<Counter>> counters_;
};

struct PairOptions {
  bool a_controlling = true;
  bool b_controlling = false;
  bool exchange_fingerprints = true;
  // Candidates: trickled through on-local-candidate → add-remote-candidate as they are gathered;
  // otherwise the local-candidates property is read once gathering is complete and set as
  // remote-candidates on the peer.
  bool trickle = false;
};

class Pair {
 public:
  // Standard pipelines: appsrc/appsink on all four pads of each bin.
  explicit Pair(PairOptions options = {});
  // Custom pipelines: gst-launch descriptions, each containing "dtlstransportbin name=dtls".
  Pair(const std::string& a_description, const std::string& b_description,
       PairOptions options = {});
  ~Pair();
  Pair(const Pair&) = delete;
  Pair& operator=(const Pair&) = delete;

  Side& a() { return *a_; }
  Side& b() { return *b_; }

  // READY, exchange credentials (and fingerprints unless disabled), PLAYING, candidates. Does not
  // wait for the DTLS state.
  void start();
  // Both pipelines to NULL; the remote candidates are cleared (new ports next run).
  void stop();
  // Both connected within the limit; on false, `why` says what each side was in.
  bool wait_connected(std::string* why = nullptr, gint64 limit_us = kWaitUs);
  // Both sides in `state` within the limit.
  bool wait_both(int state, gint64 limit_us = kWaitUs);
  bool wait_state(Side& side, int state, gint64 limit_us = kWaitUs);
  // Waits until the predicate is true (pumping the buses) or the limit passes.
  template <typename Predicate>
  bool wait_until(Predicate predicate, gint64 limit_us = kWaitUs) {
    gint64 deadline = g_get_monotonic_time() + limit_us;
    for (;;) {
      pump();
      if (predicate()) return true;
      if (g_get_monotonic_time() > deadline) return false;
      g_usleep(5000);
    }
  }
  // Lets time pass while pumping the buses.
  void settle(gint64 duration_us);
  // Drains both buses into the sides' warnings/errors.
  void pump();

  void exchange_fingerprints(Side& from, Side& to);
  void exchange_candidates(Side& from, Side& to);

 private:
  void init(PairOptions options);
  PairOptions options_;
  std::unique_ptr<Side> a_, b_;
};

// RTP packet: V=2, PT `pt`, sequence `seq`, SSRC `ssrc`, a payload of `payload_size` bytes whose
// content depends on seq so a swapped or corrupted packet shows.
GstBuffer* make_rtp(uint16_t seq, size_t payload_size, uint32_t ssrc, uint8_t pt = 96);
// A lone PLI (RFC 4585 §6.3.1) as reduced-size RTCP (RFC 5506): 12 bytes, V=2 FMT=1 PT=206.
GstBuffer* make_pli(uint32_t sender_ssrc, uint32_t media_ssrc);
// A sender report (RFC 3550 §6.4.1) with no report blocks, 28 bytes.
GstBuffer* make_sr(uint32_t ssrc, uint32_t packet_count);

// Pushes into an appsrc (takes `buffer`).
void push(GstElement* appsrc, GstBuffer* buffer);
// The next buffer from an appsink within the limit, or nullptr (owned by the caller).
GstBuffer* pull(GstElement* appsink, gint64 limit_us = 5 * G_USEC_PER_SEC);
// Byte-wise equality of two buffers.
bool same_bytes(GstBuffer* a, GstBuffer* b);

// Sends `count` RTP packets from one side's rtp_sink and checks each arrives at the other's
// rtp_src with identical bytes, in order. Fails the test otherwise. Sequence numbers must not
// repeat for one SSRC: SRTP's replay protection (RFC 3711 §3.3.2) rightly drops a repeat.
void send_rtp_and_check(Side& from, Side& to, unsigned count, uint32_t ssrc,
                        uint16_t first_seq = 100);
// One RTCP packet via rtcp_sink (or send-rtcp when `action`), checked byte-wise at the peer.
void send_rtcp_and_check(Side& from, Side& to, GstBuffer* packet, bool action);

// Open file descriptors of this process (sockets included).
int open_fd_count();
// "socket: 12, anon_inode:[eventfd]: 3, …": what the open descriptors are, for messages.
std::string open_fd_summary();

}  // namespace elemtest
