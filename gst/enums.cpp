#include "enums.h"

namespace {

GType register_enum(const char* name, const GEnumValue* values) {
  // g_enum_register_static keeps the pointer: `values` must be static.
  return g_enum_register_static(name, values);
}

}  // namespace

#define DEFINE_ENUM_TYPE(function, type_name, ...)                           \
  GType function(void) {                                                     \
    static const GEnumValue values[] = {__VA_ARGS__, {0, nullptr, nullptr}}; \
    static GType type = 0;                                                   \
    if (g_once_init_enter(&type)) {                                          \
      GType registered = register_enum(type_name, values);                   \
      g_once_init_leave(&type, registered);                                  \
    }                                                                        \
    return type;                                                             \
  }

DEFINE_ENUM_TYPE(gst_dtls_transport_bin_role_get_type, "GstDtlsTransportBinRole",
                 {GST_DTLS_TRANSPORT_BIN_ROLE_AUTO,
                  "Auto: follow the remote role, else the ICE role (actpass)", "auto"},
                 {GST_DTLS_TRANSPORT_BIN_ROLE_CLIENT, "Client: DTLS client (setup:active)",
                  "client"},
                 {GST_DTLS_TRANSPORT_BIN_ROLE_SERVER, "Server: DTLS server (setup:passive)",
                  "server"})

DEFINE_ENUM_TYPE(gst_dtls_transport_bin_state_get_type, "GstDtlsTransportBinState",
                 {GST_DTLS_TRANSPORT_BIN_STATE_NEW, "New: no handshake yet", "new"},
                 {GST_DTLS_TRANSPORT_BIN_STATE_CONNECTING, "Connecting: DTLS handshake running",
                  "connecting"},
                 {GST_DTLS_TRANSPORT_BIN_STATE_CONNECTED,
                  "Connected: peer verified, SRTP keys in use", "connected"},
                 {GST_DTLS_TRANSPORT_BIN_STATE_CLOSED, "Closed: close_notify sent or received",
                  "closed"},
                 {GST_DTLS_TRANSPORT_BIN_STATE_FAILED,
                  "Failed: handshake, verification or protocol failure", "failed"})

DEFINE_ENUM_TYPE(gst_dtls_transport_bin_ice_state_get_type, "GstDtlsTransportBinIceState",
                 {GST_DTLS_TRANSPORT_BIN_ICE_STATE_NEW, "New", "new"},
                 {GST_DTLS_TRANSPORT_BIN_ICE_STATE_CHECKING, "Checking", "checking"},
                 {GST_DTLS_TRANSPORT_BIN_ICE_STATE_CONNECTED, "Connected", "connected"},
                 {GST_DTLS_TRANSPORT_BIN_ICE_STATE_COMPLETED, "Completed", "completed"},
                 {GST_DTLS_TRANSPORT_BIN_ICE_STATE_FAILED, "Failed", "failed"},
                 {GST_DTLS_TRANSPORT_BIN_ICE_STATE_DISCONNECTED, "Disconnected", "disconnected"},
                 {GST_DTLS_TRANSPORT_BIN_ICE_STATE_CLOSED, "Closed", "closed"})

DEFINE_ENUM_TYPE(gst_dtls_transport_bin_ice_gathering_state_get_type,
                 "GstDtlsTransportBinIceGatheringState",
                 {GST_DTLS_TRANSPORT_BIN_ICE_GATHERING_STATE_NEW, "New", "new"},
                 {GST_DTLS_TRANSPORT_BIN_ICE_GATHERING_STATE_GATHERING, "Gathering", "gathering"},
                 {GST_DTLS_TRANSPORT_BIN_ICE_GATHERING_STATE_COMPLETE, "Complete", "complete"})

DEFINE_ENUM_TYPE(gst_dtls_transport_bin_key_type_get_type, "GstDtlsTransportBinKeyType",
                 {GST_DTLS_TRANSPORT_BIN_KEY_TYPE_ECDSA_P256, "ECDSA on curve P-256", "ecdsa-p256"},
                 {GST_DTLS_TRANSPORT_BIN_KEY_TYPE_RSA_2048, "RSA 2048 bits", "rsa-2048"})

DEFINE_ENUM_TYPE(gst_dtls_transport_bin_ice_transport_policy_get_type,
                 "GstDtlsTransportBinIceTransportPolicy",
                 {GST_DTLS_TRANSPORT_BIN_ICE_TRANSPORT_POLICY_ALL,
                  "All: host, server-reflexive and relayed candidates", "all"},
                 {GST_DTLS_TRANSPORT_BIN_ICE_TRANSPORT_POLICY_RELAY,
                  "Relay: only relayed candidates (TURN), the peer never learns our addresses",
                  "relay"})
