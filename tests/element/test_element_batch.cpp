// The data path in bulk, between two connected bins on 127.0.0.1: what the send side does with
// the buffers it is given (protected where they are when it may, else copied once, one chunk per
// list, lists kept as lists down to nicesink) and what it asks upstream for. Buffers are followed
// by the address of their bytes: at the sender's nicesink (a pad probe on its sink pad), the
// datagram that leaves is either the application's own memory or a copy.
// pair.h (and the C++ library) first: gstcheck.h defines a `fail` macro that breaks <ios>.
#include "pair.h"
//
#include <gst/check/gstcheck.h>

#include <cstdint>
#include <mutex>
#include <vector>

using namespace elemtest;

namespace {

constexpr uint32_t kSsrc = 0x0badcafe;
constexpr size_t kPayload = 1000;
// The room libsrtp2 may write past a packet (SRTP_MAX_TRAILER_LEN), and 4 more for SRTCP's index
// (srtp_session.hpp).
constexpr size_t kRoom = 144;
constexpr size_t kRtcpRoom = kRoom + 4;

void connect_pair(Pair& pair) {
  pair.start();
  std::string why;
  fail_unless(pair.wait_connected(&why), "not connected:\n%s", why.c_str());
}

// The address of a buffer's first byte (mapped and unmapped again: only compared).
const void* data_address(GstBuffer* buffer) {
  GstMapInfo map;
  fail_unless(gst_buffer_map(buffer, &map, GST_MAP_READ));
  const void* address = map.data;
  gst_buffer_unmap(buffer, &map);
  return address;
}

// An RTP packet like make_rtp()'s whose memory has exactly `padding` bytes after the packet (a
// wrapped allocation: the allocator's alignment slack would add some).
GstBuffer* make_rtp_with_room(uint16_t seq, size_t padding) {
  GstBuffer* model = make_rtp(seq, kPayload, kSsrc);
  const size_t size = gst_buffer_get_size(model);
  auto* data = static_cast<guint8*>(g_malloc(size + padding));
  gst_buffer_extract(model, 0, data, size);
  gst_buffer_unref(model);
  return gst_buffer_new_wrapped_full(static_cast<GstMemoryFlags>(0), data, size + padding, 0, size,
                                     data, g_free);
}

// What one side's nicesink is given: per datagram whose first byte says RTP/RTCP (128–191), the
// address of its bytes and the memory's parent (a share of a larger allocation has one), and
// whether it came inside a buffer list.
class SendTap {
 public:
  struct Seen {
    const void* data;
    const GstMemory* parent;
    bool in_list;
    guint list_length;
  };

  explicit SendTap(Side& side) {
    GstElement* sink = gst_bin_get_by_name(GST_BIN(side.bin), "nicesink");
    fail_unless(sink != nullptr, "%s: no nicesink", side.label.c_str());
    pad_ = gst_element_get_static_pad(sink, "sink");
    gst_object_unref(sink);
    probe_ = gst_pad_add_probe(
        pad_,
        static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
        &SendTap::on_data, this, nullptr);
  }
  ~SendTap() {
    gst_pad_remove_probe(pad_, probe_);
    gst_object_unref(pad_);
  }
  SendTap(const SendTap&) = delete;
  SendTap& operator=(const SendTap&) = delete;

  std::vector<Seen> media() const {
    std::lock_guard lock(mutex_);
    return media_;
  }

 private:
  void see(GstBuffer* buffer, bool in_list, guint list_length) {
    GstMapInfo map;
    if (!gst_buffer_map(buffer, &map, GST_MAP_READ)) return;
    const bool media = map.size > 0 && map.data[0] >= 128 && map.data[0] <= 191;
    const void* data = map.data;
    gst_buffer_unmap(buffer, &map);
    if (!media) return;
    const GstMemory* parent =
        gst_buffer_n_memory(buffer) == 1 ? gst_buffer_peek_memory(buffer, 0)->parent : nullptr;
    std::lock_guard lock(mutex_);
    media_.push_back({data, parent, in_list, list_length});
  }

  static GstPadProbeReturn on_data(GstPad*, GstPadProbeInfo* info, gpointer data) {
    auto* self = static_cast<SendTap*>(data);
    if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
      GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
      for (guint i = 0; i < gst_buffer_list_length(list); i++)
        self->see(gst_buffer_list_get(list, i), true, gst_buffer_list_length(list));
    } else {
      self->see(GST_PAD_PROBE_INFO_BUFFER(info), false, 1);
    }
    return GST_PAD_PROBE_OK;
  }

  mutable std::mutex mutex_;
  GstPad* pad_ = nullptr;
  gulong probe_ = 0;
  std::vector<Seen> media_;
};

// The next `count` packets at `to`'s rtp_src must be RTP packets `first_seq`… in order, with
// make_rtp()'s bytes.
void expect_received(Side& to, uint16_t first_seq, unsigned count) {
  for (unsigned i = 0; i < count; i++) {
    GstBuffer* received = pull(to.rtp_out);
    fail_unless(received != nullptr, "packet %u of %u did not arrive at %s\n%s", i, count,
                to.label.c_str(), to.describe().c_str());
    GstBuffer* expected = make_rtp(static_cast<uint16_t>(first_seq + i), kPayload, kSsrc);
    fail_unless(same_bytes(expected, received), "packet %u arrived altered (%zu bytes)", i,
                gst_buffer_get_size(received));
    gst_buffer_unref(expected);
    gst_buffer_unref(received);
  }
}

}  // namespace

// A buffer the application hands over (no reference kept) with the trailer room after its
// packet is protected in its own memory: the datagram nicesink sends is those very bytes.
GST_START_TEST(test_send_in_place_when_room) {
  Pair pair;
  connect_pair(pair);
  SendTap tap(pair.a());
  std::vector<const void*> pushed;
  for (uint16_t seq = 10; seq < 14; seq++) {
    GstBuffer* buffer = make_rtp_with_room(seq, kRoom);
    pushed.push_back(data_address(buffer));
    push(pair.a().rtp_in, buffer);  // taken: ours no more
  }
  expect_received(pair.b(), 10, 4);
  auto seen = tap.media();
  fail_unless_equals_int(seen.size(), 4);
  for (size_t i = 0; i < seen.size(); i++)
    fail_unless(seen[i].data == pushed[i],
                "packet %zu was copied (sent from %p, pushed at %p): a writable buffer with room "
                "must be protected in place",
                i, seen[i].data, pushed[i]);
}
GST_END_TEST

// Room alone is not enough: a buffer the application still holds, or one without the whole
// trailer room, is copied, and the application's bytes stay as they were.
GST_START_TEST(test_send_copies_when_shared_or_no_room) {
  Pair pair;
  connect_pair(pair);
  SendTap tap(pair.a());
  GstBuffer* held = make_rtp_with_room(20, kRoom);
  GstBuffer* tight = make_rtp_with_room(21, kRoom - 1);
  const void* held_at = data_address(held);
  const void* tight_at = data_address(tight);
  push(pair.a().rtp_in, gst_buffer_ref(held));  // the application keeps a reference
  push(pair.a().rtp_in, tight);
  expect_received(pair.b(), 20, 2);
  GstBuffer* original = make_rtp(20, kPayload, kSsrc);
  fail_unless(same_bytes(held, original), "the application's buffer was modified");
  gst_buffer_unref(original);
  gst_buffer_unref(held);
  auto seen = tap.media();
  fail_unless_equals_int(seen.size(), 2);
  fail_if(seen[0].data == held_at, "a buffer the application holds was protected in place");
  fail_if(seen[1].data == tight_at, "a buffer without the trailer room was protected in place");
}
GST_END_TEST

// A list of buffers without room stays a list down to nicesink (one sendmmsg), and its copies
// share one allocation: every datagram is a share of the same parent memory.
GST_START_TEST(test_send_list_one_chunk) {
  Pair pair;
  connect_pair(pair);
  SendTap tap(pair.a());
  constexpr unsigned kCount = 8;
  GstBufferList* list = gst_buffer_list_new();
  for (unsigned i = 0; i < kCount; i++)
    gst_buffer_list_add(list, make_rtp(static_cast<uint16_t>(30 + i), kPayload, kSsrc));
  fail_unless_equals_int(gst_app_src_push_buffer_list(GST_APP_SRC(pair.a().rtp_in), list),
                         GST_FLOW_OK);
  expect_received(pair.b(), 30, kCount);
  auto seen = tap.media();
  fail_unless_equals_int(seen.size(), kCount);
  for (unsigned i = 0; i < kCount; i++) {
    fail_unless(seen[i].in_list && seen[i].list_length == kCount,
                "packet %u reached nicesink %s (list of %u)", i,
                seen[i].in_list ? "in a list" : "alone", seen[i].list_length);
    fail_unless(seen[i].parent != nullptr && seen[i].parent == seen[0].parent,
                "packet %u has its own allocation: a list's copies must share one", i);
  }
}
GST_END_TEST

// Mixed list: the buffers with room are protected in place, the others copied; order kept.
GST_START_TEST(test_send_list_mixed) {
  Pair pair;
  connect_pair(pair);
  SendTap tap(pair.a());
  GstBufferList* list = gst_buffer_list_new();
  std::vector<const void*> pushed;
  for (uint16_t seq = 40; seq < 46; seq++) {
    GstBuffer* buffer = seq % 2 ? make_rtp(seq, kPayload, kSsrc) : make_rtp_with_room(seq, kRoom);
    pushed.push_back(data_address(buffer));
    gst_buffer_list_add(list, buffer);
  }
  fail_unless_equals_int(gst_app_src_push_buffer_list(GST_APP_SRC(pair.a().rtp_in), list),
                         GST_FLOW_OK);
  expect_received(pair.b(), 40, 6);
  auto seen = tap.media();
  fail_unless_equals_int(seen.size(), 6);
  for (size_t i = 0; i < seen.size(); i++) {
    const bool room = (40 + i) % 2 == 0;
    fail_unless((seen[i].data == pushed[i]) == room, "packet %zu (%s room) was %s", i,
                room ? "with" : "without", seen[i].data == pushed[i] ? "not copied" : "copied");
  }
}
GST_END_TEST

// Upstream that allocates through the ALLOCATION query is asked for the trailer room.
GST_START_TEST(test_allocation_query_asks_trailer_room) {
  Pair pair;
  connect_pair(pair);  // pads active: a serialized query on a flushing pad is refused
  struct Case {
    GstElement* appsrc;
    const char* caps;
    size_t room;
  };
  for (const Case& c : {Case{pair.a().rtp_in, "application/x-rtp", kRoom},
                        Case{pair.a().rtcp_in, "application/x-rtcp", kRtcpRoom}}) {
    GstPad* src = gst_element_get_static_pad(c.appsrc, "src");
    GstCaps* caps = gst_caps_from_string(c.caps);
    GstQuery* query = gst_query_new_allocation(caps, TRUE);
    fail_unless(gst_pad_peer_query(src, query), "%s: ALLOCATION query not answered", c.caps);
    fail_unless(gst_query_get_n_allocation_params(query) >= 1, "%s: no allocation params", c.caps);
    GstAllocationParams params;
    gst_query_parse_nth_allocation_param(query, 0, nullptr, &params);
    fail_unless(params.padding >= c.room, "%s: padding %zu, trailer room %zu", c.caps,
                params.padding, c.room);
    gst_query_unref(query);
    gst_caps_unref(caps);
    gst_object_unref(src);
  }
}
GST_END_TEST

static Suite* element_batch_suite(void) {
  Suite* s = suite_create("element_batch");
  TCase* tc = tcase_create("batch");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_send_in_place_when_room);
  tcase_add_test(tc, test_send_copies_when_shared_or_no_room);
  tcase_add_test(tc, test_send_list_one_chunk);
  tcase_add_test(tc, test_send_list_mixed);
  tcase_add_test(tc, test_allocation_query_asks_trailer_room);
  suite_add_tcase(s, tc);
  return s;
}

GST_CHECK_MAIN(element_batch)
