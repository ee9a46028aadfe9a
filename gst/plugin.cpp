// The dtlstransport plugin: registers dtlstransportbin.
#include <gst/gst.h>

#include "bin/dtlstransportbin.h"
#include "strv_value.h"

#ifndef PACKAGE
#define PACKAGE "gst-dtlstransport"
#endif

static gboolean plugin_init(GstPlugin* plugin) {
  gstdtls::register_strv_serialization();
  return gst_element_register(plugin, "dtlstransportbin", GST_RANK_NONE,
                              GST_TYPE_DTLS_TRANSPORT_BIN);
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, dtlstransport,
                  "DTLS-SRTP transport: ICE (libnice) + DTLS 1.2 + SRTP in one bin", plugin_init,
                  PACKAGE_VERSION, "LGPL", PACKAGE, "Unknown package origin")
