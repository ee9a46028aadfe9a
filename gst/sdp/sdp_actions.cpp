#include "sdp_actions.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "bin/bin_private.h"
#include "sdp_answer.h"
#include "sdp_offer.h"
#include "sdp_remote.h"
#include "text.hpp"

#define GST_CAT_DEFAULT bin_debug

namespace dt = dtlstransport;

namespace gstdtls {
namespace {

const char* role_name(GstDtlsTransportBinRole role) {
  return role == GST_DTLS_TRANSPORT_BIN_ROLE_CLIENT   ? "client"
         : role == GST_DTLS_TRANSPORT_BIN_ROLE_SERVER ? "server"
                                                      : "auto";
}

// Our side of an m=application section (RFC 8841): our SCTP port (sctp-port), and the largest
// message we accept (a constant: what the bin is tested to receive). Call with impl.lock held.
SctpParameters local_sctp(const BinImpl& impl) {
  SctpParameters out;
  out.port = impl.settings.sctp_port;
  out.max_message_size = kLocalMaxMessageSize;
  return out;
}

// What we say about ourselves; an error before there is a certificate.
dt::Result<LocalParameters> local_parameters(GstDtlsTransportBin* self, SdpSetup setup) {
  LocalParameters local;
  local.setup = setup;
  std::shared_ptr<IceTransport> ice = current_ice(self);
  {
    BinImpl& impl = impl_of(self);
    std::lock_guard lock(impl.lock);
    if (!impl.settings.certificate)
      return dt::Error{
          "no certificate yet: it is generated at NULL->READY (go to READY first, or set "
          "certificate / certificate-file)"};
    local.fingerprint = impl.settings.certificate->fingerprint().to_string();
    local.ufrag = impl.settings.local_ufrag;
    local.pwd = impl.settings.local_pwd;
    local.sctp = local_sctp(impl);
    local.data_channels = impl.data_channel_created;
  }
  if (ice) {
    local.ufrag = ice->local_ufrag();
    local.pwd = ice->local_pwd();
    local.candidates = ice->local_candidates();
    local.gathering_complete =
        ice->gathering_state() == GST_DTLS_TRANSPORT_BIN_ICE_GATHERING_STATE_COMPLETE;
  }
  return local;
}

GstDtlsTransportBinRole configured_role(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  std::lock_guard lock(impl.lock);
  return impl.settings.role;
}

// The peer's role once `peer` is what it said and `ours` what we say, checked against the role
// property (RFC 4145 §4, RFC 5763 §5): one side active (DTLS client), the other passive.
dt::Result<GstDtlsTransportBinRole> peer_role(GstDtlsTransportBinRole configured, SdpSetup ours) {
  const GstDtlsTransportBinRole we = ours == SdpSetup::Active ? GST_DTLS_TRANSPORT_BIN_ROLE_CLIENT
                                                              : GST_DTLS_TRANSPORT_BIN_ROLE_SERVER;
  if (configured != GST_DTLS_TRANSPORT_BIN_ROLE_AUTO && configured != we)
    return dt::Error{std::string("the role property is ") + role_name(configured) +
                     " but the descriptions make us the DTLS " + role_name(we) + " (a=setup:" +
                     sdp_setup_name(ours) + "); set role to auto or " + role_name(we)};
  return we == GST_DTLS_TRANSPORT_BIN_ROLE_CLIENT ? GST_DTLS_TRANSPORT_BIN_ROLE_SERVER
                                                  : GST_DTLS_TRANSPORT_BIN_ROLE_CLIENT;
}

std::string joined_fingerprints(const RemoteTransport& t) {
  std::vector<std::string> texts;
  for (const auto& fingerprint : t.fingerprints) texts.push_back(fingerprint.to_string());
  return dt::join_list(texts, ",");
}

// Sets what a checked remote description says, through the element's properties (so notifies,
// late-value warnings and the run see it as if the application had set them).
void apply_remote(GstDtlsTransportBin* self, const char* action, const RemoteTransport& t,
                  GstDtlsTransportBinRole remote_role, bool controlling, GstCaps* pt_map,
                  const std::optional<SctpParameters>& sctp) {
  g_object_set(self, "ice-controlling", controlling, "remote-role", remote_role,
               "remote-fingerprints", joined_fingerprints(t).c_str(), "remote-ice-ufrag",
               t.ufrag.c_str(), "remote-ice-pwd", t.pwd.c_str(), "pt-map", pt_map, nullptr);
  {
    BinImpl& impl = impl_of(self);
    std::lock_guard lock(impl.lock);
    impl.sdp_data_channels = sctp.has_value();
  }
  if (sctp) {
    // RFC 8841 §6.1: 0 is "any size", as the property's 0; beyond 4 GiB is no limit either.
    const guint size = static_cast<guint>(std::min<guint64>(sctp->max_message_size, G_MAXUINT));
    g_object_set(self, "remote-sctp-port", sctp->port, "max-message-size", size, nullptr);
    GST_INFO_OBJECT(self, "%s: data channels: remote SCTP port %u, max-message-size %u", action,
                    sctp->port, size);
  }
  // A description lists all the candidates known so far: those already given (trickled, or in
  // an earlier description) are not given twice.
  std::vector<std::string> known;
  {
    BinImpl& impl = impl_of(self);
    std::lock_guard lock(impl.lock);
    known = impl.settings.remote_candidates;
  }
  for (const auto& line : t.candidates)
    if (std::find(known.begin(), known.end(), line) == known.end())
      add_remote_candidate(self, line.c_str());
  if (!t.refused_candidates.empty())
    warn(self, "%s: %zu of the peer's candidates cannot be used (more may be trickled): %s", action,
         t.refused_candidates.size(), dt::join_list(t.refused_candidates, "; ").c_str());
  GST_INFO_OBJECT(self,
                  "%s: remote ufrag %s, %zu fingerprint(s), peer is DTLS %s, %zu "
                  "candidate(s)%s, ICE %s",
                  action, t.ufrag.c_str(), t.fingerprints.size(), role_name(remote_role),
                  t.candidates.size(), t.end_of_candidates ? " (end-of-candidates)" : "",
                  controlling ? "controlling" : "controlled");
}

}  // namespace

gchar* sdp_create_offer(GstDtlsTransportBin* self, const GstCaps* codecs) {
  static const char* const kAction = "create-sdp-offer";
  GstCaps* pt_map = nullptr;
  if (!codecs) {
    g_object_get(self, "pt-map", &pt_map, nullptr);
    codecs = pt_map;
  }
  const GstDtlsTransportBinRole role = configured_role(self);
  const SdpSetup setup = role == GST_DTLS_TRANSPORT_BIN_ROLE_CLIENT   ? SdpSetup::Active
                         : role == GST_DTLS_TRANSPORT_BIN_ROLE_SERVER ? SdpSetup::Passive
                                                                      : SdpSetup::ActPass;
  auto local = local_parameters(self, setup);
  dt::Result<std::string> offer = local ? make_offer(codecs, *local) : local.error();
  if (pt_map) gst_caps_unref(pt_map);
  if (!offer) {
    warn(self, "%s refused: %s", kAction, offer.error().message.c_str());
    return nullptr;
  }
  {
    BinImpl& impl = impl_of(self);
    std::lock_guard lock(impl.lock);
    impl.local_offer = *offer;
  }
  g_object_set(self, "ice-controlling", TRUE, nullptr);  // RFC 8445 §6.1.1: the offerer
  return g_strdup(offer->c_str());
}

gchar* sdp_answer_offer(GstDtlsTransportBin* self, const gchar* offer_text, const GstCaps* codecs) {
  static const char* const kAction = "answer-sdp-offer";
  const gint64 begin = g_get_monotonic_time();
  auto offer = parse_remote_description(offer_text ? offer_text : "");
  if (!offer) {
    warn(self, "%s refused: %s", kAction, offer.error().message.c_str());
    return nullptr;
  }
  const RemoteTransport& t = offer->transport;
  // RFC 8842 §5.3: the answerer to actpass is active; to active, passive; to passive, active.
  const SdpSetup ours = t.setup == SdpSetup::Active ? SdpSetup::Passive : SdpSetup::Active;
  auto remote_role = peer_role(configured_role(self), ours);
  if (!remote_role) {
    warn(self, "%s refused: %s", kAction, remote_role.error().message.c_str());
    return nullptr;
  }
  GstCaps* pt_map = nullptr;
  if (!codecs) {
    g_object_get(self, "pt-map", &pt_map, nullptr);
    codecs = pt_map;
  }
  auto local = local_parameters(self, ours);
  dt::Result<Answer> answer = local ? make_answer(*offer, codecs, *local) : local.error();
  if (pt_map) gst_caps_unref(pt_map);
  if (!answer) {
    warn(self, "%s refused: %s", kAction, answer.error().message.c_str());
    return nullptr;
  }
  for (const auto& why : answer->rejected)
    GST_INFO_OBJECT(self, "%s: answered with port 0: %s", kAction, why.c_str());
  {
    BinImpl& impl = impl_of(self);
    std::lock_guard lock(impl.lock);
    impl.local_offer.clear();
  }
  // RFC 8445 §6.1.1: the answerer is controlled, unless the offerer is ICE lite.
  apply_remote(self, kAction, t, *remote_role, t.ice_lite, answer->pt_map, answer->remote_sctp);
  GST_INFO_OBJECT(self, "%s: parse and answer in %" G_GINT64_FORMAT " us", kAction,
                  g_get_monotonic_time() - begin);
  return g_strdup(answer->text.c_str());
}

gboolean sdp_apply_answer(GstDtlsTransportBin* self, const gchar* answer_text) {
  static const char* const kAction = "apply-sdp-answer";
  std::string offer;
  {
    BinImpl& impl = impl_of(self);
    std::lock_guard lock(impl.lock);
    offer = impl.local_offer;
  }
  if (offer.empty()) {
    warn(self, "%s refused: no offer to answer (call create-sdp-offer first)", kAction);
    return FALSE;
  }
  auto answer = parse_remote_description(answer_text ? answer_text : "");
  if (!answer) {
    warn(self, "%s refused: %s", kAction, answer.error().message.c_str());
    return FALSE;
  }
  const RemoteTransport& t = answer->transport;
  if (t.setup == SdpSetup::ActPass) {
    warn(self,
         "%s refused: the answer says a=setup:actpass; an answerer must choose active or passive "
         "(RFC 5763 §5, RFC 8842 §5.3)",
         kAction);
    return FALSE;
  }
  const SdpSetup ours = t.setup == SdpSetup::Active ? SdpSetup::Passive : SdpSetup::Active;
  auto remote_role = peer_role(configured_role(self), ours);
  if (!remote_role) {
    warn(self, "%s refused: %s", kAction, remote_role.error().message.c_str());
    return FALSE;
  }
  std::optional<SctpParameters> sctp;
  auto pt_map = read_answer(offer, *answer, &sctp);
  if (!pt_map) {
    warn(self, "%s refused: %s", kAction, pt_map.error().message.c_str());
    return FALSE;
  }
  // We offered: controlling, unless the answerer is ICE lite (then we stay controlling too).
  apply_remote(self, kAction, t, *remote_role, TRUE, *pt_map, sctp);
  gst_caps_unref(*pt_map);
  return TRUE;
}

}  // namespace gstdtls
