// A text form for GStrv values where GStreamer has none (1.22), so GStrv properties such as
// local-candidates read as text in `gst-launch-1.0 -v` (strv_value.cpp).
#pragma once

#include <gst/gst.h>

namespace gstdtls {

// Registers GStrv (de)serialization as a GstValueArray of strings unless GStreamer already has
// one. Idempotent; called from plugin_init.
void register_strv_serialization();

}  // namespace gstdtls
