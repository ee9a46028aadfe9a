#include "dtls_context.hpp"

#include <openssl/ssl.h>

namespace dtlstransport {

namespace {

// ECDHE only (forward secrecy), AEAD first; the CBC suites keep older peers working.
constexpr char kCipherList[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA";

}  // namespace

Result<std::shared_ptr<const DtlsContext>> DtlsContext::create(
    Certificate certificate, std::vector<SrtpProfile> srtp_profiles) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(DTLS_method()));
  if (!ctx) return Error{"SSL_CTX_new failed: " + take_openssl_errors()};
  SSL_CTX* raw = ctx.get();
  // DTLS 1.2 only: 1.0 lacks AEAD suites and is deprecated (RFC 8996).
  if (SSL_CTX_set_min_proto_version(raw, DTLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(raw, DTLS1_2_VERSION) != 1) {
    return Error{"cannot restrict DTLS to 1.2: " + take_openssl_errors()};
  }
  if (SSL_CTX_use_certificate(raw, certificate.x509()) != 1 ||
      SSL_CTX_use_PrivateKey(raw, certificate.private_key()) != 1 ||
      SSL_CTX_check_private_key(raw) != 1) {
    return Error{"certificate or key unusable: " + take_openssl_errors()};
  }
  if (SSL_CTX_set_cipher_list(raw, kCipherList) != 1) {
    return Error{"cipher list rejected: " + take_openssl_errors()};
  }
  if (SSL_CTX_set1_groups_list(raw, "X25519:P-256:P-384") != 1) {
    return Error{"groups rejected: " + take_openssl_errors()};
  }
  if (srtp_profiles.empty()) return Error{"no SRTP profile configured"};
  // Inverted return value: 0 means success (an OpenSSL wart).
  if (SSL_CTX_set_tlsext_use_srtp(raw, format_srtp_profiles(srtp_profiles).c_str()) != 0) {
    return Error{"SRTP profiles rejected: " + take_openssl_errors()};
  }
  SSL_CTX_set_options(raw, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_session_cache_mode(raw, SSL_SESS_CACHE_OFF);
  return std::make_shared<const DtlsContext>(ConstructionKey{}, std::move(certificate),
                                             std::move(srtp_profiles), std::move(ctx));
}

}  // namespace dtlstransport
