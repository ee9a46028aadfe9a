// dtlstransportbin: ICE (libnice) + DTLS (the sans-IO core) + SRTP in one bin. See docs/ and
// issue 3 for the interface contract; this file is glue, the core in src/ decides.
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS
#define GST_TYPE_DTLS_TRANSPORT_BIN (gst_dtls_transport_bin_get_type())
G_DECLARE_FINAL_TYPE(GstDtlsTransportBin, gst_dtls_transport_bin, GST, DTLS_TRANSPORT_BIN, GstBin)
G_END_DECLS
