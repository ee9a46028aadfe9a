// DTLS identities (RFC 8827 §6.5: a fresh self-signed certificate; its fingerprint, not a CA,
// authenticates it, RFC 5763 §5).
#include "certificate.hpp"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <memory>
#include <system_error>

namespace dtlstransport {
namespace {

// Serial numbers: RFC 5280 §4.1.2.2 wants them positive and at most 20 octets; 128 random bits
// (top bit forced to one so the length is fixed) keeps them unpredictable and unique.
constexpr int kSerialBits = 128;
// Back-dating covers peers whose clocks run behind ours.
constexpr long kNotBeforeSkewSeconds = 24 * 60 * 60;
// RSA bounds for loaded identities: below 2048 is too weak to offer (NIST SP 800-131A); above
// 4096 the handshake flight grows large and signing becomes needlessly slow.
constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 4096;

struct FileCloser {
  void operator()(FILE* file) const { std::fclose(file); }
};
using FilePtr = std::unique_ptr<FILE, FileCloser>;

Error openssl_error(std::string what) {
  const std::string details = take_openssl_errors();
  if (!details.empty()) what += ": " + details;
  return Error{std::move(what)};
}

// A password callback that supplies none: without it OpenSSL would prompt on the terminal for an
// encrypted key.
int no_password(char*, int, int, void*) { return 0; }

BioPtr memory_bio(std::string_view text) {
  // BIO_new_mem_buf takes an int length; longer texts are not certificates.
  if (text.size() > static_cast<size_t>(INT32_MAX)) return nullptr;
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  if (length <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<size_t>(length));
}

EvpPkeyPtr generate_key(KeyType type) {
  EvpPkeyPtr key;
  switch (type) {
    case KeyType::EcdsaP256:
      // Named-curve encoding is OpenSSL 3's default, as RFC 8422 §5.1.1 requires for TLS.
      key.reset(EVP_EC_gen("P-256"));
      break;
    case KeyType::Rsa2048:
      key.reset(EVP_RSA_gen(2048));
      break;
  }
  return key;
}

Result<X509Ptr> read_certificate(std::string_view pem) {
  if (pem.find("-----BEGIN") == std::string_view::npos) {
    return Error{"no PEM data found (no '-----BEGIN' line): the text is not a PEM certificate"};
  }
  BioPtr bio = memory_bio(pem);
  if (!bio) return openssl_error("could not read the PEM text");
  // PEM_read_bio_X509 skips blocks of other types (e.g. a key placed first).
  X509Ptr certificate(PEM_read_bio_X509(bio.get(), nullptr, no_password, nullptr));
  if (!certificate) {
    if (pem.find("CERTIFICATE-----") != std::string_view::npos) {
      return openssl_error("could not parse the certificate in the PEM text (corrupt data)");
    }
    return openssl_error(
        "no certificate found in the PEM text (expected a '-----BEGIN "
        "CERTIFICATE-----' block)");
  }
  return certificate;
}

Result<EvpPkeyPtr> read_private_key(std::string_view pem) {
  if (pem.find("PRIVATE KEY-----") == std::string_view::npos) {
    return Error{
        "no private key found in the PEM text (expected a '-----BEGIN PRIVATE KEY-----' "
        "block)"};
  }
  BioPtr bio = memory_bio(pem);
  if (!bio) return openssl_error("could not read the PEM text");
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr));
  if (!key) {
    return openssl_error(
        "could not parse the private key in the PEM text (corrupt, or encrypted: encrypted keys "
        "are not supported)");
  }
  return key;
}

Status check_key_strength(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA: {
      const int bits = EVP_PKEY_get_bits(key);
      if (bits < kMinRsaBits) {
        return Error{"RSA key of " + std::to_string(bits) + " bits is too small (at least " +
                     std::to_string(kMinRsaBits) + " bits required)"};
      }
      if (bits > kMaxRsaBits) {
        return Error{"RSA key of " + std::to_string(bits) + " bits is too large (at most " +
                     std::to_string(kMaxRsaBits) + " bits supported)"};
      }
      return Status::success();
    }
    case EVP_PKEY_EC:
      return Status::success();
    default: {
      const char* name = OBJ_nid2sn(EVP_PKEY_get_base_id(key));
      return Error{std::string("unsupported private key type '") +
                   (name != nullptr ? name : "unknown") + "' (only RSA and EC keys are supported)"};
    }
  }
}

}  // namespace

Result<Certificate> Certificate::generate(const CertificateOptions& options) {
  ERR_clear_error();
  if (options.lifetime.count() <= 0) {
    return Error{"certificate lifetime must be positive, got " +
                 std::to_string(options.lifetime.count()) + " s"};
  }
  if (options.common_name.empty()) return Error{"certificate common name must not be empty"};

  EvpPkeyPtr key = generate_key(options.key_type);
  if (!key) return openssl_error("key generation failed");

  X509Ptr certificate(X509_new());
  if (!certificate) return openssl_error("X509_new failed");
  if (X509_set_version(certificate.get(), X509_VERSION_3) != 1) {
    return openssl_error("could not set the certificate version");
  }

  BignumPtr serial(BN_new());
  if (!serial || BN_rand(serial.get(), kSerialBits, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate.get())) == nullptr) {
    return openssl_error("could not set a random serial number");
  }

  // X509_time_adj_ex splits the offset into days and seconds, so long lifetimes cannot overflow.
  const long long lifetime = options.lifetime.count();
  const time_t not_before = options.not_before
                                ? std::chrono::system_clock::to_time_t(*options.not_before)
                                : std::time(nullptr) - kNotBeforeSkewSeconds;
  if (ASN1_TIME_set(X509_getm_notBefore(certificate.get()), not_before) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(certificate.get()), static_cast<int>(lifetime / 86400),
                       static_cast<long>(lifetime % 86400), nullptr) == nullptr) {
    return openssl_error("could not set the validity period");
  }

  X509NamePtr name(X509_NAME_new());
  if (!name ||
      X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(options.common_name.data()),
                                 static_cast<int>(options.common_name.size()), -1, 0) != 1) {
    return openssl_error("could not set the common name '" + options.common_name + "'");
  }
  // Self-signed: subject and issuer are the same name (both setters copy).
  if (X509_set_subject_name(certificate.get(), name.get()) != 1 ||
      X509_set_issuer_name(certificate.get(), name.get()) != 1 ||
      X509_set_pubkey(certificate.get(), key.get()) != 1) {
    return openssl_error("could not fill in the certificate");
  }
  if (X509_sign(certificate.get(), key.get(), EVP_sha256()) <= 0) {
    return openssl_error("could not sign the certificate");
  }
  return Certificate(std::move(certificate), std::move(key));
}

Result<Certificate> Certificate::from_pem(std::string_view certificate_and_key_pem) {
  return from_pem(certificate_and_key_pem, certificate_and_key_pem);
}

Result<Certificate> Certificate::from_pem(std::string_view certificate_pem,
                                          std::string_view key_pem) {
  if (certificate_pem.size() > kMaxPemBytes || key_pem.size() > kMaxPemBytes) {
    return Error{"PEM text of " + std::to_string(std::max(certificate_pem.size(), key_pem.size())) +
                 " bytes is over the limit of 1 MiB"};
  }
  ERR_clear_error();
  auto certificate = read_certificate(certificate_pem);
  if (!certificate) return certificate.error();
  auto key = read_private_key(key_pem);
  if (!key) return key.error();

  if (Status strength = check_key_strength(key->get()); !strength) return strength.error();
  if (X509_check_private_key(certificate->get(), key->get()) != 1) {
    return openssl_error("the private key does not belong to the certificate");
  }
  return Certificate(std::move(certificate).value(), std::move(key).value());
}

Result<Certificate> Certificate::from_file(const std::string& path) {
  // O_NONBLOCK: opening a FIFO without a writer would otherwise wait for one.
  const int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    return Error{"cannot open '" + path + "': " + std::generic_category().message(errno)};
  }
  struct stat status {};
  if (fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) {
    close(fd);
    return Error{"'" + path + "' is not a regular file"};
  }
  FilePtr file(fdopen(fd, "rb"));
  if (!file) {
    close(fd);
    return Error{"cannot open '" + path + "': " + std::generic_category().message(errno)};
  }
  std::string text;
  char buffer[4096];
  size_t count = 0;
  while (text.size() <= kMaxPemBytes &&
         (count = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) {
    text.append(buffer, count);
  }
  OPENSSL_cleanse(buffer, sizeof buffer);
  if (std::ferror(file.get())) {
    const int error = errno;
    OPENSSL_cleanse(text.data(), text.size());
    return Error{"cannot read '" + path + "': " + std::generic_category().message(error)};
  }
  if (text.size() > kMaxPemBytes) {
    OPENSSL_cleanse(text.data(), text.size());
    return Error{"'" + path + "' is larger than the limit of 1 MiB for a PEM certificate and key"};
  }
  auto certificate = from_pem(text);
  // The file may hold the private key: do not leave a copy in freed memory.
  OPENSSL_cleanse(text.data(), text.size());
  if (!certificate) return Error{"'" + path + "': " + certificate.error().message};
  return certificate;
}

namespace {

std::chrono::system_clock::time_point to_time_point(const ASN1_TIME* time) {
  struct tm fields {};
  if (time == nullptr || ASN1_TIME_to_tm(time, &fields) != 1) return {};
  return std::chrono::system_clock::from_time_t(timegm(&fields));
}

}  // namespace

std::chrono::system_clock::time_point Certificate::not_before() const {
  return to_time_point(X509_get0_notBefore(certificate_.get()));
}

std::chrono::system_clock::time_point Certificate::not_after() const {
  return to_time_point(X509_get0_notAfter(certificate_.get()));
}

Status Certificate::check_validity(std::chrono::system_clock::time_point now) const {
  if (now > not_after()) return Error{"expired on " + utc_text(not_after())};
  if (now < not_before()) return Error{"not valid before " + utc_text(not_before())};
  return Status::success();
}

std::string utc_text(std::chrono::system_clock::time_point time) {
  const time_t seconds = std::chrono::system_clock::to_time_t(time);
  struct tm fields {};
  char text[32];
  if (gmtime_r(&seconds, &fields) == nullptr ||
      std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &fields) == 0)
    return "(unknown date)";
  return text;
}

Certificate::Certificate(const Certificate& other) { *this = other; }

Certificate& Certificate::operator=(const Certificate& other) {
  if (this == &other) return *this;
  // Sharing is safe: both objects are immutable once built, and their reference counts are
  // atomic.
  X509* certificate = other.certificate_.get();
  EVP_PKEY* key = other.key_.get();
  if (certificate != nullptr) X509_up_ref(certificate);
  if (key != nullptr) EVP_PKEY_up_ref(key);
  certificate_.reset(certificate);
  key_.reset(key);
  return *this;
}

Fingerprint Certificate::fingerprint(HashAlgorithm algorithm) const {
  return Fingerprint::of_certificate(algorithm, certificate_.get());
}

std::string Certificate::certificate_pem() const { return certificate_to_pem(certificate_.get()); }

std::string Certificate::private_key_pem() const {
  if (!key_) return {};
  // Secure memory BIO: its buffer is cleansed when freed.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr,
                                            nullptr) != 1) {
    ERR_clear_error();
    return {};
  }
  return bio_contents(bio.get());
}

std::vector<uint8_t> Certificate::der() const { return certificate_to_der(certificate_.get()); }

std::string certificate_to_pem(X509* certificate) {
  if (certificate == nullptr) return {};
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), certificate) != 1) {
    ERR_clear_error();
    return {};
  }
  return bio_contents(bio.get());
}

std::vector<uint8_t> certificate_to_der(X509* certificate) {
  if (certificate == nullptr) return {};
  const int length = i2d_X509(certificate, nullptr);
  if (length <= 0) {
    ERR_clear_error();
    return {};
  }
  std::vector<uint8_t> der(static_cast<size_t>(length));
  unsigned char* cursor = der.data();
  if (i2d_X509(certificate, &cursor) != length) {
    ERR_clear_error();
    return {};
  }
  return der;
}

}  // namespace dtlstransport
