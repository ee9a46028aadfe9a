// Codecs of an m= section (RFC 8866 §6.6 a=rtpmap, a=fmtp; RFC 4585 a=rtcp-fb) as the
// application/x-rtp caps GStreamer's RTP elements read (rtpbin's `rtcp-fb-nack-pli` …), and back;
// the match between what a peer offers and what the application sends and accepts.
#pragma once

#include <gst/gst.h>
#include <gst/sdp/sdp.h>

#include <string>

#include "result.hpp"

namespace gstdtls {

// The caps of payload type `pt` in `media`: application/x-rtp with media, payload, clock-rate,
// encoding-name (upper case), encoding-params, the a=fmtp parameters and the a=rtcp-fb values
// (gst_sdp_media_get_caps_from_media). Static payload types without a=rtpmap (RFC 3551: 0 PCMU,
// 8 PCMA, 9 G722) are filled in. NULL for a format it cannot describe (no rtpmap, dynamic type).
GstCaps* codec_caps(const GstSDPMedia* media, guint pt);

// Whether `a` and `b` are the same codec: same media, encoding-name (case-insensitive),
// clock-rate, and encoding-params (channels, default 1).
bool codec_is(const GstStructure* a, const GstStructure* b);

// Whether the application's `wanted` structure accepts the peer's `offered` one: same media,
// encoding-name (case-insensitive) and clock-rate; encoding-params (channels) equal when either
// gives it (default 1); every other field of `wanted` except payload and rtcp-fb-* equal in
// `offered` (e.g. H.264 `packetization-mode`, `profile-level-id` as strings).
bool codec_accepts(const GstStructure* wanted, const GstStructure* offered);

// What the application sends and accepts: one application/x-rtp structure per codec with media
// (audio/video), encoding-name, clock-rate; `payload` too when `need_payload` (an offer names its
// payload types). The error says which structure is wrong and why.
dtlstransport::Status check_codec_list(const GstCaps* codecs, bool need_payload);

// Adds `codec` (a structure as above, with payload) to `media`: the format on the m= line and
// its a=rtpmap, a=fmtp and a=rtcp-fb lines (gst_sdp_media_set_media_from_caps).
void add_codec(GstSDPMedia* media, const GstStructure* codec);

// "video VP8/90000", "audio OPUS/48000/2": a codec in messages.
std::string codec_name(const GstStructure* codec);

// Whether the caps list `map` maps payload type `pt`, and the structure if so.
const GstStructure* find_payload(const GstCaps* map, gint pt);

}  // namespace gstdtls
