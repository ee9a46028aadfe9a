// The `dtlstransport-local-parameters` element message: what to tell the peer (ICE ufrag and
// password, our certificate's fingerprint, the local candidates so far), posted at NULL→READY,
// on each new local candidate and at gathering done. It makes these visible where no application
// reads properties, e.g. `gst-launch-1.0 -m`.
#include <string>
#include <vector>

#include "bin_private.h"
#include "ice/ice_candidate.h"

namespace gstdtls {

void post_local_parameters(GstDtlsTransportBin* self) {
  std::shared_ptr<IceTransport> ice = current_ice(self);
  if (!ice) return;
  const std::string ufrag = ice->local_ufrag(), pwd = ice->local_pwd();
  std::string fingerprint;
  {
    BinImpl& impl = impl_of(self);
    std::lock_guard lock(impl.lock);
    if (impl.settings.certificate)
      fingerprint = impl.settings.certificate->fingerprint().to_string();
  }
  // ';'-joined as remote-candidates takes them: a GStrv field prints as "(GStrv)NULL" in
  // GStreamer 1.22's gst_structure_to_string.
  const std::vector<std::string> candidates = ice->local_candidates();
  const bool complete =
      ice->gathering_state() == GST_DTLS_TRANSPORT_BIN_ICE_GATHERING_STATE_COMPLETE;
  post_element_message(self, "dtlstransport-local-parameters", "ufrag", G_TYPE_STRING,
                       ufrag.c_str(), "pwd", G_TYPE_STRING, pwd.c_str(), "fingerprint",
                       G_TYPE_STRING, fingerprint.c_str(), "candidates", G_TYPE_STRING,
                       join_candidate_list(candidates).c_str(), "gathering-complete",
                       G_TYPE_BOOLEAN, complete, nullptr);
}

}  // namespace gstdtls
