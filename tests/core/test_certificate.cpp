// Certificate: generation (key type, serial, validity, signature), PEM/DER round trips, loading
// errors (missing key, wrong key, garbage, weak or oversized RSA), sharing on copy.
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "certificate.hpp"

namespace dtlstransport {
namespace {

using namespace std::chrono_literals;
using ASN1_TimePtr = std::unique_ptr<ASN1_TIME, OpenSslDeleter<ASN1_TIME_free>>;

// A temporary file removed when the test ends.
class TempFile {
 public:
  explicit TempFile(const std::string& contents) {
    static std::atomic<int> counter{0};
    path_ =
        std::filesystem::temp_directory_path() / ("test_certificate_" + std::to_string(::getpid()) +
                                                  "_" + std::to_string(counter++) + ".pem");
    std::ofstream out(path_, std::ios::binary);
    out << contents;
  }
  ~TempFile() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

Certificate generate_or_die(const CertificateOptions& options = {}) {
  auto certificate = Certificate::generate(options);
  if (!certificate) ADD_FAILURE() << certificate.error().message;
  return std::move(certificate).value();
}

// A self-signed certificate for a key made by the test itself (for key sizes generate() does not
// offer). Written independently of Certificate::generate so it does not share its bugs.
std::string self_signed_pem_for(EVP_PKEY* key, std::string* key_pem) {
  X509Ptr x509(X509_new());
  X509_set_version(x509.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(x509.get()), 4242);
  X509_gmtime_adj(X509_getm_notBefore(x509.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(x509.get()), 3600);
  X509_NAME* name = X509_get_subject_name(x509.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("test"), -1, -1, 0);
  X509_set_issuer_name(x509.get(), name);
  X509_set_pubkey(x509.get(), key);
  EXPECT_GT(X509_sign(x509.get(), key, EVP_sha256()), 0);

  BioPtr key_bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(key_bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long length = BIO_get_mem_data(key_bio.get(), &data);
  key_pem->assign(data, static_cast<size_t>(length));
  return certificate_to_pem(x509.get());
}

long long seconds_between(const ASN1_TIME* from, const ASN1_TIME* to) {
  int days = 0;
  int seconds = 0;
  EXPECT_EQ(ASN1_TIME_diff(&days, &seconds, from, to), 1);
  return static_cast<long long>(days) * 86400 + seconds;
}

std::string common_name(X509_NAME* name) {
  char buffer[256] = {};
  X509_NAME_get_text_by_NID(name, NID_commonName, buffer, sizeof buffer);
  return buffer;
}

TEST(CertificateGenerate, DefaultIsEcdsaP256) {
  Certificate certificate = generate_or_die();
  ASSERT_NE(certificate.x509(), nullptr);
  ASSERT_NE(certificate.private_key(), nullptr);
  EVP_PKEY* key = certificate.private_key();
  EXPECT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
  EXPECT_EQ(EVP_PKEY_get_bits(key), 256);
  char group[64] = {};
  size_t group_length = 0;
  ASSERT_EQ(EVP_PKEY_get_group_name(key, group, sizeof group, &group_length), 1);
  EXPECT_STREQ(group, "prime256v1");
  // The certificate carries the same public key.
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(certificate.x509()), key), 1);
  EXPECT_EQ(X509_get_signature_nid(certificate.x509()), NID_ecdsa_with_SHA256);
}

TEST(CertificateGenerate, Rsa2048) {
  CertificateOptions options;
  options.key_type = KeyType::Rsa2048;
  Certificate certificate = generate_or_die(options);
  EXPECT_EQ(EVP_PKEY_get_base_id(certificate.private_key()), EVP_PKEY_RSA);
  EXPECT_EQ(EVP_PKEY_get_bits(certificate.private_key()), 2048);
  EXPECT_EQ(X509_get_signature_nid(certificate.x509()), NID_sha256WithRSAEncryption);
  EXPECT_EQ(X509_verify(certificate.x509(), X509_get0_pubkey(certificate.x509())), 1);
}

TEST(CertificateGenerate, SelfSignedV3WithValidSignature) {
  Certificate certificate = generate_or_die();
  X509* x509 = certificate.x509();
  EXPECT_EQ(X509_get_version(x509), X509_VERSION_3);
  EXPECT_EQ(X509_verify(x509, X509_get0_pubkey(x509)), 1);
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(x509), X509_get_issuer_name(x509)), 0);
  EXPECT_EQ(common_name(X509_get_subject_name(x509)), "gst-dtlstransport");
  // Verification must be able to fail: a different key does not verify it.
  Certificate other = generate_or_die();
  EXPECT_NE(X509_verify(x509, X509_get0_pubkey(other.x509())), 1);
  ERR_clear_error();
}

TEST(CertificateGenerate, CustomCommonName) {
  CertificateOptions options;
  options.common_name = "alice.example";
  Certificate certificate = generate_or_die(options);
  EXPECT_EQ(common_name(X509_get_subject_name(certificate.x509())), "alice.example");
  EXPECT_EQ(common_name(X509_get_issuer_name(certificate.x509())), "alice.example");
}

TEST(CertificateGenerate, SerialIsPositiveAndAtLeast64BitsAndRandom) {
  Certificate a = generate_or_die();
  Certificate b = generate_or_die();
  BignumPtr serial_a(ASN1_INTEGER_to_BN(X509_get0_serialNumber(a.x509()), nullptr));
  BignumPtr serial_b(ASN1_INTEGER_to_BN(X509_get0_serialNumber(b.x509()), nullptr));
  ASSERT_TRUE(serial_a && serial_b);
  EXPECT_GE(BN_num_bits(serial_a.get()), 64);
  EXPECT_FALSE(BN_is_negative(serial_a.get()));
  EXPECT_FALSE(BN_is_zero(serial_a.get()));
  // RFC 5280 §4.1.2.2: at most 20 octets.
  EXPECT_LE(BN_num_bytes(serial_a.get()), 20);
  EXPECT_NE(BN_cmp(serial_a.get(), serial_b.get()), 0);
}

TEST(CertificateGenerate, DefaultValidityIs30DaysBackdatedOneDay) {
  Certificate certificate = generate_or_die();
  const ASN1_TIME* not_before = X509_get0_notBefore(certificate.x509());
  const ASN1_TIME* not_after = X509_get0_notAfter(certificate.x509());
  // notBefore is in the past (by about a day), notAfter about 30 days ahead.
  EXPECT_LT(X509_cmp_current_time(not_before), 0);
  EXPECT_GT(X509_cmp_current_time(not_after), 0);
  ASN1_TimePtr now(ASN1_TIME_set(nullptr, std::time(nullptr)));
  ASSERT_TRUE(now);
  const long long back = seconds_between(not_before, now.get());
  EXPECT_GE(back, 86400 - 60);
  EXPECT_LE(back, 86400 + 60);
  const long long ahead = seconds_between(now.get(), not_after);
  EXPECT_GE(ahead, 30 * 86400 - 60);
  EXPECT_LE(ahead, 30 * 86400 + 60);
}

TEST(CertificateGenerate, CustomLifetime) {
  CertificateOptions options;
  options.lifetime = 2h;
  Certificate certificate = generate_or_die(options);
  const long long total = seconds_between(X509_get0_notBefore(certificate.x509()),
                                          X509_get0_notAfter(certificate.x509()));
  EXPECT_GE(total, 86400 + 7200 - 60);
  EXPECT_LE(total, 86400 + 7200 + 60);

  options.lifetime = std::chrono::hours(24 * 365 * 10);  // long lifetimes must not overflow
  Certificate long_lived = generate_or_die(options);
  ASN1_TimePtr now(ASN1_TIME_set(nullptr, std::time(nullptr)));
  const long long ahead = seconds_between(now.get(), X509_get0_notAfter(long_lived.x509()));
  EXPECT_GE(ahead, 3650LL * 86400 - 60);
  EXPECT_LE(ahead, 3650LL * 86400 + 60);
}

TEST(CertificateDates, AccessorsReadTheValidityPeriod) {
  const auto now = std::chrono::system_clock::now();
  CertificateOptions options;
  options.lifetime = 2h;
  Certificate certificate = generate_or_die(options);
  EXPECT_NEAR(std::chrono::duration<double>(certificate.not_after() - now).count(), 7200, 60);
  EXPECT_NEAR(std::chrono::duration<double>(now - certificate.not_before()).count(), 86400, 60);
  EXPECT_TRUE(certificate.check_validity(now));
}

TEST(CertificateDates, ValidityCheckNamesWhichLimitAndWhen) {
  const auto now = std::chrono::system_clock::now();
  CertificateOptions options;
  options.lifetime = 48h;
  options.not_before = now + 24h;  // not yet valid
  Certificate future = generate_or_die(options);
  Status early = future.check_validity(now);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().message, "not valid before " + utc_text(now + 24h));
  EXPECT_TRUE(future.check_validity(now + 25h));
  Status late = future.check_validity(now + 49h);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().message.rfind("expired on ", 0), 0u) << late.error().message;
  EXPECT_EQ(late.error().message, "expired on " + utc_text(future.not_after()));
}

TEST(CertificateDates, UtcTextIsIsoLikeUtc) {
  EXPECT_EQ(utc_text(std::chrono::system_clock::from_time_t(0)), "1970-01-01 00:00:00 UTC");
}

TEST(CertificateGenerate, RejectsNonPositiveLifetimeAndEmptyName) {
  CertificateOptions options;
  options.lifetime = 0s;
  auto zero = Certificate::generate(options);
  ASSERT_FALSE(zero);
  EXPECT_NE(zero.error().message.find("lifetime"), std::string::npos) << zero.error().message;

  options = {};
  options.common_name = "";
  auto unnamed = Certificate::generate(options);
  ASSERT_FALSE(unnamed);
  EXPECT_NE(unnamed.error().message.find("common name"), std::string::npos);
}

TEST(CertificatePem, RoundTripKeepsFingerprintAndKey) {
  for (KeyType type : {KeyType::EcdsaP256, KeyType::Rsa2048}) {
    CertificateOptions options;
    options.key_type = type;
    Certificate original = generate_or_die(options);
    const std::string cert_pem = original.certificate_pem();
    const std::string key_pem = original.private_key_pem();
    EXPECT_EQ(cert_pem.rfind("-----BEGIN CERTIFICATE-----", 0), 0u) << cert_pem;
    EXPECT_EQ(cert_pem.find("PRIVATE KEY"), std::string::npos);      // never the key
    EXPECT_EQ(key_pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);  // PKCS#8

    auto combined = Certificate::from_pem(cert_pem + key_pem);
    ASSERT_TRUE(combined) << combined.error().message;
    EXPECT_EQ(combined->fingerprint(), original.fingerprint());
    EXPECT_EQ(combined->der(), original.der());
    EXPECT_EQ(EVP_PKEY_eq(combined->private_key(), original.private_key()), 1);

    auto separate = Certificate::from_pem(cert_pem, key_pem);
    ASSERT_TRUE(separate) << separate.error().message;
    EXPECT_EQ(separate->fingerprint(HashAlgorithm::Sha512),
              original.fingerprint(HashAlgorithm::Sha512));

    // Key first, certificate second: order within one text does not matter.
    auto key_first = Certificate::from_pem(key_pem + cert_pem);
    ASSERT_TRUE(key_first) << key_first.error().message;
    EXPECT_EQ(key_first->fingerprint(), original.fingerprint());
  }
}

TEST(CertificatePem, DerMatchesPem) {
  Certificate certificate = generate_or_die();
  const std::vector<uint8_t> der = certificate.der();
  ASSERT_FALSE(der.empty());
  EXPECT_EQ(der, certificate_to_der(certificate.x509()));
  const unsigned char* cursor = der.data();
  X509Ptr parsed(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(X509_cmp(parsed.get(), certificate.x509()), 0);
  EXPECT_EQ(certificate_to_pem(certificate.x509()), certificate.certificate_pem());
  EXPECT_EQ(Fingerprint::of_der(HashAlgorithm::Sha256, der), certificate.fingerprint());
  EXPECT_EQ(certificate_to_pem(nullptr), "");
  EXPECT_TRUE(certificate_to_der(nullptr).empty());
}

TEST(CertificatePem, MissingKeyIsAnError) {
  Certificate certificate = generate_or_die();
  auto loaded = Certificate::from_pem(certificate.certificate_pem());
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("no private key"), std::string::npos)
      << loaded.error().message;
  auto separate = Certificate::from_pem(certificate.certificate_pem(), "");
  ASSERT_FALSE(separate);
  EXPECT_NE(separate.error().message.find("no private key"), std::string::npos);
}

TEST(CertificatePem, MissingCertificateIsAnError) {
  Certificate certificate = generate_or_die();
  auto loaded = Certificate::from_pem(certificate.private_key_pem());
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("no certificate"), std::string::npos)
      << loaded.error().message;
  EXPECT_EQ(ERR_peek_error(), 0u) << "the OpenSSL error queue must be drained";
}

TEST(CertificatePem, MismatchedKeyIsAnError) {
  Certificate a = generate_or_die();
  Certificate b = generate_or_die();
  auto loaded = Certificate::from_pem(a.certificate_pem() + b.private_key_pem());
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("does not belong"), std::string::npos)
      << loaded.error().message;
  EXPECT_EQ(ERR_peek_error(), 0u);
  auto separate = Certificate::from_pem(a.certificate_pem(), b.private_key_pem());
  EXPECT_FALSE(separate);
}

TEST(CertificatePem, GarbageIsAnError) {
  auto plain = Certificate::from_pem("hello, I am not a certificate");
  ASSERT_FALSE(plain);
  EXPECT_NE(plain.error().message.find("no PEM data"), std::string::npos) << plain.error().message;

  // PEM armour around bytes that are not a certificate.
  auto armoured = Certificate::from_pem(
      "-----BEGIN CERTIFICATE-----\nAAAAAAAAAAAAAAAA\n-----END CERTIFICATE-----\n");
  ASSERT_FALSE(armoured);
  EXPECT_NE(armoured.error().message.find("certificate"), std::string::npos);

  Certificate good = generate_or_die();
  auto bad_key = Certificate::from_pem(
      good.certificate_pem() +
      "-----BEGIN PRIVATE KEY-----\nAAAAAAAAAAAAAAAA\n-----END PRIVATE KEY-----\n");
  ASSERT_FALSE(bad_key);
  EXPECT_NE(bad_key.error().message.find("private key"), std::string::npos)
      << bad_key.error().message;

  EXPECT_FALSE(Certificate::from_pem(""));
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(CertificatePem, Rsa4096Accepted) {
  EvpPkeyPtr key(EVP_RSA_gen(4096));
  ASSERT_TRUE(key);
  std::string key_pem;
  const std::string cert_pem = self_signed_pem_for(key.get(), &key_pem);
  auto loaded = Certificate::from_pem(cert_pem, key_pem);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(EVP_PKEY_get_bits(loaded->private_key()), 4096);
  auto combined = Certificate::from_pem(cert_pem + key_pem);
  ASSERT_TRUE(combined) << combined.error().message;
}

TEST(CertificatePem, Rsa1024Rejected) {
  EvpPkeyPtr key(EVP_RSA_gen(1024));
  ASSERT_TRUE(key);
  std::string key_pem;
  const std::string cert_pem = self_signed_pem_for(key.get(), &key_pem);
  auto loaded = Certificate::from_pem(cert_pem + key_pem);
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("1024"), std::string::npos) << loaded.error().message;
  EXPECT_NE(loaded.error().message.find("too small"), std::string::npos);
}

TEST(CertificatePem, RsaLargerThan4096Rejected) {
  // 4104 bits: just over the limit, and about as quick to generate as 4096.
  EvpPkeyPtr key(EVP_RSA_gen(4104));
  ASSERT_TRUE(key);
  std::string key_pem;
  const std::string cert_pem = self_signed_pem_for(key.get(), &key_pem);
  auto loaded = Certificate::from_pem(cert_pem + key_pem);
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("too large"), std::string::npos) << loaded.error().message;
}

TEST(CertificatePem, UnsupportedKeyTypeRejected) {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  ASSERT_TRUE(key);
  X509Ptr x509(X509_new());
  X509_set_version(x509.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(x509.get()), 7);
  X509_gmtime_adj(X509_getm_notBefore(x509.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(x509.get()), 3600);
  X509_set_pubkey(x509.get(), key.get());
  ASSERT_GT(X509_sign(x509.get(), key.get(), nullptr), 0);  // Ed25519 takes no digest
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  auto loaded = Certificate::from_pem(certificate_to_pem(x509.get()),
                                      std::string(data, static_cast<size_t>(length)));
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("unsupported private key type"), std::string::npos)
      << loaded.error().message;
}

TEST(CertificateFile, LoadsCombinedPemFile) {
  Certificate original = generate_or_die();
  TempFile file(original.certificate_pem() + original.private_key_pem());
  auto loaded = Certificate::from_file(file.path());
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->fingerprint(), original.fingerprint());
}

TEST(CertificateFile, MissingPathNamesPathAndReason) {
  const std::string path = "/nonexistent-dir-for-test/identity.pem";
  auto loaded = Certificate::from_file(path);
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find(path), std::string::npos) << loaded.error().message;
  EXPECT_NE(loaded.error().message.find("No such file"), std::string::npos)
      << loaded.error().message;
}

TEST(CertificateFile, BadContentNamesPath) {
  TempFile file("not a pem file");
  auto loaded = Certificate::from_file(file.path());
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find(file.path()), std::string::npos);
  EXPECT_NE(loaded.error().message.find("no PEM data"), std::string::npos);
}

TEST(CertificateFile, DevicesAreRefusedUnread) {
  // /dev/zero never ends: reading it whole ran out of memory (std::bad_alloc) and aborted.
  auto loaded = Certificate::from_file("/dev/zero");
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().message, "'/dev/zero' is not a regular file");
}

TEST(CertificateFile, FifosAreRefusedWithoutWaitingForAWriter) {
  const std::string path = ::testing::TempDir() + "dtlstransport-test-fifo";
  std::remove(path.c_str());
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  auto loaded = Certificate::from_file(path);  // opening it blocking would wait for ever
  std::remove(path.c_str());
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().message, "'" + path + "' is not a regular file");
}

TEST(CertificateFile, FilesOverOneMebibyteAreRefused) {
  Certificate original = generate_or_die();
  // A valid identity followed by padding: over the limit, so refused although it would parse.
  TempFile file(original.certificate_pem() + original.private_key_pem() +
                std::string(Certificate::kMaxPemBytes, '\n'));
  auto loaded = Certificate::from_file(file.path());
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("larger than the limit of 1 MiB"), std::string::npos)
      << loaded.error().message;
}

TEST(CertificatePem, TextOverOneMebibyteIsRefused) {
  Certificate original = generate_or_die();
  auto loaded = Certificate::from_pem(original.certificate_pem() + original.private_key_pem() +
                                      std::string(Certificate::kMaxPemBytes, '\n'));
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("over the limit of 1 MiB"), std::string::npos)
      << loaded.error().message;
}

TEST(CertificateCopy, CopiesShareOpenSslObjects) {
  std::optional<Certificate> original(generate_or_die());
  X509* x509 = original->x509();
  EVP_PKEY* key = original->private_key();
  const Fingerprint fingerprint = original->fingerprint();

  Certificate copy(*original);
  EXPECT_EQ(copy.x509(), x509);
  EXPECT_EQ(copy.private_key(), key);

  Certificate assigned = generate_or_die();
  assigned = copy;
  EXPECT_EQ(assigned.x509(), x509);
  const Certificate& alias = assigned;
  assigned = alias;  // self-assignment keeps the objects alive
  EXPECT_EQ(assigned.x509(), x509);

  // The copies keep the objects alive after the original is gone.
  original.reset();
  EXPECT_EQ(copy.fingerprint(), fingerprint);
  EXPECT_EQ(assigned.fingerprint(), fingerprint);
  EXPECT_EQ(X509_check_private_key(copy.x509(), copy.private_key()), 1);

  Certificate moved(std::move(copy));
  EXPECT_EQ(moved.x509(), x509);
}

}  // namespace
}  // namespace dtlstransport
