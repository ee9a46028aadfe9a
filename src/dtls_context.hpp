// The OpenSSL side of a DTLS identity: one SSL_CTX holding a certificate, its key, DTLS 1.2 and
// the SRTP profiles. Creating one costs about as much as half a handshake, so transports that share
// an identity (a server's many sessions, one bin's restarts) may share one context. Immutable once
// created; transports on any thread may use it at once.
#pragma once

#include <memory>
#include <vector>

#include "certificate.hpp"
#include "openssl_handles.hpp"
#include "result.hpp"
#include "srtp_profile.hpp"

namespace dtlstransport {

class DtlsContext {
 public:
  static Result<std::shared_ptr<const DtlsContext>> create(Certificate certificate,
                                                           std::vector<SrtpProfile> srtp_profiles);

  const Certificate& certificate() const { return certificate_; }
  const std::vector<SrtpProfile>& srtp_profiles() const { return srtp_profiles_; }
  SSL_CTX* ssl_ctx() const { return ctx_.get(); }

 private:
  struct ConstructionKey {
    explicit ConstructionKey() = default;
  };

 public:
  DtlsContext(ConstructionKey, Certificate certificate, std::vector<SrtpProfile> srtp_profiles,
              SslCtxPtr ctx)  // use create()
      : certificate_(std::move(certificate)),
        srtp_profiles_(std::move(srtp_profiles)),
        ctx_(std::move(ctx)) {}

 private:
  Certificate certificate_;
  std::vector<SrtpProfile> srtp_profiles_;
  SslCtxPtr ctx_;
};

}  // namespace dtlstransport
