// GTypes of the dtlstransportbin enums. Named GstDtlsTransportBin* so they cannot collide with
// gst-plugins-bad's dtls/srtp/webrtc types or libnice's; nicks are lower-case so gst-launch accepts
// e.g. role=client.
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum {
  GST_DTLS_TRANSPORT_BIN_ROLE_AUTO,
  GST_DTLS_TRANSPORT_BIN_ROLE_CLIENT,
  GST_DTLS_TRANSPORT_BIN_ROLE_SERVER,
} GstDtlsTransportBinRole;

typedef enum {
  GST_DTLS_TRANSPORT_BIN_STATE_NEW,
  GST_DTLS_TRANSPORT_BIN_STATE_CONNECTING,
  GST_DTLS_TRANSPORT_BIN_STATE_CONNECTED,
  GST_DTLS_TRANSPORT_BIN_STATE_CLOSED,
  GST_DTLS_TRANSPORT_BIN_STATE_FAILED,
} GstDtlsTransportBinState;

typedef enum {
  GST_DTLS_TRANSPORT_BIN_ICE_STATE_NEW,
  GST_DTLS_TRANSPORT_BIN_ICE_STATE_CHECKING,
  GST_DTLS_TRANSPORT_BIN_ICE_STATE_CONNECTED,
  GST_DTLS_TRANSPORT_BIN_ICE_STATE_COMPLETED,
  GST_DTLS_TRANSPORT_BIN_ICE_STATE_FAILED,
  GST_DTLS_TRANSPORT_BIN_ICE_STATE_DISCONNECTED,
  GST_DTLS_TRANSPORT_BIN_ICE_STATE_CLOSED,
} GstDtlsTransportBinIceState;

typedef enum {
  GST_DTLS_TRANSPORT_BIN_ICE_GATHERING_STATE_NEW,
  GST_DTLS_TRANSPORT_BIN_ICE_GATHERING_STATE_GATHERING,
  GST_DTLS_TRANSPORT_BIN_ICE_GATHERING_STATE_COMPLETE,
} GstDtlsTransportBinIceGatheringState;

typedef enum {
  GST_DTLS_TRANSPORT_BIN_KEY_TYPE_ECDSA_P256,
  GST_DTLS_TRANSPORT_BIN_KEY_TYPE_RSA_2048,
} GstDtlsTransportBinKeyType;

typedef enum {
  GST_DTLS_TRANSPORT_BIN_ICE_TRANSPORT_POLICY_ALL,
  GST_DTLS_TRANSPORT_BIN_ICE_TRANSPORT_POLICY_RELAY,
} GstDtlsTransportBinIceTransportPolicy;

GType gst_dtls_transport_bin_role_get_type(void);
GType gst_dtls_transport_bin_state_get_type(void);
GType gst_dtls_transport_bin_ice_state_get_type(void);
GType gst_dtls_transport_bin_ice_gathering_state_get_type(void);
GType gst_dtls_transport_bin_key_type_get_type(void);
GType gst_dtls_transport_bin_ice_transport_policy_get_type(void);

#define GST_TYPE_DTLS_TRANSPORT_BIN_ROLE (gst_dtls_transport_bin_role_get_type())
#define GST_TYPE_DTLS_TRANSPORT_BIN_STATE (gst_dtls_transport_bin_state_get_type())
#define GST_TYPE_DTLS_TRANSPORT_BIN_ICE_STATE (gst_dtls_transport_bin_ice_state_get_type())
#define GST_TYPE_DTLS_TRANSPORT_BIN_ICE_GATHERING_STATE \
  (gst_dtls_transport_bin_ice_gathering_state_get_type())
#define GST_TYPE_DTLS_TRANSPORT_BIN_KEY_TYPE (gst_dtls_transport_bin_key_type_get_type())
#define GST_TYPE_DTLS_TRANSPORT_BIN_ICE_TRANSPORT_POLICY \
  (gst_dtls_transport_bin_ice_transport_policy_get_type())

G_END_DECLS
