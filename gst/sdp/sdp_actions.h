// The SDP action signals of dtlstransportbin (registered in bin/dtlstransportbin.cpp):
// create-sdp-offer, answer-sdp-offer, apply-sdp-answer. They read our local parameters from the
// element, translate with sdp_offer.h / sdp_answer.h / sdp_remote.h, and set what the remote
// description says through the element's own properties and add-remote-candidate — all checked
// first, so a refused description changes nothing. A refusal returns NULL / FALSE and posts a
// WARNING saying what and why.
#pragma once

#include <gst/gst.h>

#include "bin/dtlstransportbin.h"

namespace gstdtls {

// Our offer from our local parameters and `codecs` (NULL: pt-map). Makes us ICE controlling
// (RFC 8445 §6.1.1: the offerer) and remembers the offer for apply-sdp-answer. Returns a new
// string.
gchar* sdp_create_offer(GstDtlsTransportBin* self, const GstCaps* codecs);

// Applies the peer's offer and returns our answer (a new string).
gchar* sdp_answer_offer(GstDtlsTransportBin* self, const gchar* offer, const GstCaps* codecs);

// Applies the peer's answer to the offer create-sdp-offer made.
gboolean sdp_apply_answer(GstDtlsTransportBin* self, const gchar* answer);

}  // namespace gstdtls
