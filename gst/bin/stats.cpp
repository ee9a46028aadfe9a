// The `stats` property: the data path's counters and negotiated parameters, and the ICE pair.
// A new field: count it in EndpointInfo (datapath/endpoint.h), add it here, in the `stats`
// property's blurb (property_specs.cpp) and in docs/element.md.
#include "bin_private.h"

namespace dt = dtlstransport;

namespace gstdtls {

GstStructure* make_stats(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  EndpointInfo info = endpoint_info(self->endpoint);
  std::shared_ptr<IceTransport> ice;
  guint64 restarts;
  {
    std::lock_guard lock(impl.lock);
    ice = impl.run.ice;
    restarts = impl.restart.count;
  }
  const DataChannelStats dc = impl.data_channels->stats();
  const std::string local = ice ? ice->selected_local_candidate() : "";
  const std::string remote = ice ? ice->selected_remote_candidate() : "";
  return gst_structure_new("application/x-dtlstransport-stats",                                 //
                           "packets-sent", G_TYPE_UINT64, info.packets_sent,                    //
                           "bytes-sent", G_TYPE_UINT64, info.bytes_sent,                        //
                           "packets-received", G_TYPE_UINT64, info.packets_received,            //
                           "bytes-received", G_TYPE_UINT64, info.bytes_received,                //
                           "rtcp-packets-sent", G_TYPE_UINT64, info.rtcp_packets_sent,          //
                           "rtcp-packets-received", G_TYPE_UINT64, info.rtcp_packets_received,  //
                           "dropped-auth-failure", G_TYPE_UINT64, info.dropped_auth_failure,    //
                           "dropped-replay", G_TYPE_UINT64, info.dropped_replay,                //
                           "dropped-no-keys", G_TYPE_UINT64, info.dropped_no_keys,              //
                           "dropped-malformed", G_TYPE_UINT64, info.dropped_malformed,          //
                           "state", G_TYPE_STRING, dt::dtls_state_name(info.state),             //
                           "dtls-role", G_TYPE_STRING, dt::dtls_role_name(info.role),           //
                           "dtls-version", G_TYPE_STRING, info.dtls_version.c_str(),            //
                           "dtls-cipher", G_TYPE_STRING, info.cipher.c_str(),                   //
                           "srtp-profile", G_TYPE_STRING, info.srtp_profile.c_str(),            //
                           "handshake-ms", G_TYPE_DOUBLE, info.handshake_ms,                    //
                           "handshakes", G_TYPE_UINT64, info.handshakes,                        //
                           "reconnects", G_TYPE_UINT64, info.reconnects,                        //
                           "local-candidate", G_TYPE_STRING, local.c_str(),                     //
                           "remote-candidate", G_TYPE_STRING, remote.c_str(),                   //
                           "auto-restarts", G_TYPE_UINT64, restarts,                            //
                           "data-channels-opened", G_TYPE_UINT64, dc.channels_opened,           //
                           "data-channels-closed", G_TYPE_UINT64, dc.channels_closed,           //
                           "messages-sent", G_TYPE_UINT64, dc.messages_sent,                    //
                           "messages-received", G_TYPE_UINT64, dc.messages_received,            //
                           "message-bytes-sent", G_TYPE_UINT64, dc.bytes_sent,                  //
                           "message-bytes-received", G_TYPE_UINT64, dc.bytes_received,          //
                           "messages-refused", G_TYPE_UINT64, dc.messages_refused,              //
                           "dcep-malformed", G_TYPE_UINT64, dc.dcep_malformed,                  //
                           "sctp-packets-sent", G_TYPE_UINT64, info.sctp_packets_sent,          //
                           "sctp-packets-received", G_TYPE_UINT64, info.sctp_packets_received,  //
                           "sctp-packets-dropped", G_TYPE_UINT64, info.sctp_packets_dropped,
                           nullptr);
}

}  // namespace gstdtls
