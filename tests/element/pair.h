// Fixture for the element tests: the two-bin set-up of tests/fixture/bin_pair.h (two pipelines in
// one process, each holding one dtlstransportbin named "dtls" gathering on 127.0.0.1, signalled
// to each other through the element's properties and signals only) with gst-check assertions,
// standard appsrc/appsink pipelines and per-side records.
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
#include <utility>
#include <vector>

#include "bin_pair.h"

namespace elemtest {

// The fixture's names, as the element tests have always spelled them.
using binpair::kGatheringComplete;
using binpair::kWaitUs;
using binpair::Role;
using binpair::State;
using binpair::state_name;
using enum binpair::State;
using enum binpair::Role;

// Counts buffers (and buffers inside lists) crossing a pad; the probe holds a raw pointer, so a
// Counter lives as long as its Side.
struct Counter {
  std::atomic<uint64_t> buffers{0};
};

// One side. From binpair::Endpoint: `label` ("A" or "B"), `pipeline`, `bin` (the
// dtlstransportbin "dtls"), `client_hellos` (the ClientHello dropper, armed by
// PairOptions::drop_first_client_hello), string_property(), enum_property(), state().
struct Side : binpair::Endpoint {
  explicit Side(const char* label);
  ~Side() override;

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
  // Element messages, their structures serialized ("dtlstransport-restart, attempt=(uint)1, …").
  std::vector<std::string> element_messages;
  // How many element messages are named `name`.
  size_t count_element_messages(const char* name) const;

  // Every state-changed emission, in order (any thread).
  std::vector<int> state_changes() const;
  int count_state_changes(int state) const;

  uint64_t stat(const char* field) const;  // fails the test if missing
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
  // Each start() drops the first ClientHello the DTLS client sends (a pad probe on its nicesink,
  // see binpair::ClientHelloDropper; counted in Side::client_hellos): the handshake then needs
  // the retransmission timer (RFC 6347 §4.2.4).
  bool drop_first_client_hello = false;
};

class Pair : public binpair::BinPair {
 public:
  // Standard pipelines: appsrc/appsink on all four pads of each bin.
  explicit Pair(PairOptions options = {});
  // Custom pipelines: gst-launch descriptions, each containing "dtlstransportbin name=dtls".
  Pair(const std::string& a_description, const std::string& b_description,
       PairOptions options = {});
  ~Pair() override;

  Side& a() { return static_cast<Side&>(*a_); }
  Side& b() { return static_cast<Side&>(*b_); }
  // Read before each start(): may be changed between runs.
  PairOptions& options() { return options_; }

  // Credentials, READY (then the ClientHello dropper when asked), fingerprints unless disabled,
  // PLAYING, candidates. Does not wait for the DTLS state.
  void start();
  // Both pipelines to NULL; the remote candidates are cleared (new ports next run).
  void stop();
  // Both connected within the limit; on false, `why` says what each side was in.
  bool wait_connected(std::string* why = nullptr, gint64 limit_us = kWaitUs);
  // Both sides in `state` within the limit.
  bool wait_both(int state, gint64 limit_us = kWaitUs);
  bool wait_state(Side& side, int state, gint64 limit_us = kWaitUs);
  // wait_until(predicate, limit_us) (from BinPair): waits until the predicate is true, pumping
  // the buses, or until the limit passes.
  // Lets time pass while pumping the buses.
  void settle(gint64 duration_us);
  // Drains both buses into the sides' warnings/errors.
  void pump() override;

  // One way, failing the test if the step cannot be done.
  void exchange_fingerprints(Side& from, Side& to);
  void exchange_candidates(Side& from, Side& to);
  using BinPair::exchange_candidates;
  using BinPair::exchange_fingerprints;

 private:
  PairOptions options_;
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
// Sends one RTCP packet (not taken) through rtcp_sink, or with send-rtcp when `action`.
void send_rtcp(Side& from, GstBuffer* packet, bool action);
// The same, checked byte-wise at the peer (takes `packet`).
void send_rtcp_and_check(Side& from, Side& to, GstBuffer* packet, bool action);

// Whether a UDP socket can be bound to 127.0.0.1:port now. After NULL an agent closes
// asynchronously; a restarted process would find its fixed port free.
bool udp_port_free(guint port);
// Two different UDP ports on 127.0.0.1 that no socket holds now (the kernel's picks), for a pair
// with fixed ports (min-port = max-port): tests running side by side never share them.
std::pair<guint, guint> two_free_udp_ports();
// From now on nothing `bin` sends reaches the network (a probe dropping everything on its
// nicesink's sink pad): a process that dies sends no close_notify. Until the bin's next run.
void silence(GstElement* bin);

// Open file descriptors of this process (sockets included).
int open_fd_count();
// "socket: 12, anon_inode:[eventfd]: 3, …": what the open descriptors are, for messages.
std::string open_fd_summary();

}  // namespace elemtest
