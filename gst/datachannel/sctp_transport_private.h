// What sctp_transport.cpp (the association, the channels' opening and send paths) and
// sctp_receive.cpp (what sctpdec delivers: messages, DCEP, the peer's stream resets) share.
#pragma once

#include <gst/gst.h>

#include <functional>
#include <utility>
#include <vector>

#include "sctp_transport.h"

GST_DEBUG_CATEGORY_EXTERN(datachannel_debug);

namespace gstdtls {

// Runs `work` on the shared thread; the shared context stays alive until it has run. (Released
// by the run itself: a source dropped unrun, at process exit, must not release again.)
void run_on_shared(std::function<void()> work);

struct DataChannelTransport::Session {
  GstElement* sctpenc = nullptr;
  GstElement* sctpdec = nullptr;
  guint association_id = 0;
  bool up = false;  // the SCTP association is established
};

struct DataChannelTransport::Entry {
  GstDtlsTransportDataChannel* channel = nullptr;  // a reference
  GstElement* appsrc = nullptr;                    // the send path, while open
  GstPad* enc_pad = nullptr;                       // sctpenc's sink_<id>
  bool opening = false;                            // open_channel begun
  // Negotiated channels: messages the peer sent on the stream before this side's association
  // came up (the peer may send as soon as its side is up), with their PPIDs; delivered in order
  // once the channel is open. `holds_early`: set for a negotiated channel we created, cleared once
  // its early messages are delivered (later messages go straight through).
  std::vector<std::pair<guint32, GstBuffer*>> early;
  bool holds_early = false;
  ~Entry() {
    if (channel) g_object_unref(channel);
    for (auto& [ppid, buffer] : early) gst_buffer_unref(buffer);
  }
};

}  // namespace gstdtls
