// Fingerprint: SDP form (RFC 8122 §5) parsing and printing, digests checked against the openssl
// command line tool (an implementation we did not write), matching against certificates.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "certificate.hpp"
#include "fingerprint.hpp"

namespace dtlstransport {
namespace {

constexpr std::array<HashAlgorithm, 5> kAll = {HashAlgorithm::Sha1, HashAlgorithm::Sha224,
                                               HashAlgorithm::Sha256, HashAlgorithm::Sha384,
                                               HashAlgorithm::Sha512};

Certificate generate_or_die() {
  auto certificate = Certificate::generate();
  if (!certificate) ADD_FAILURE() << certificate.error().message;
  return std::move(certificate).value();
}

std::string openssl_binary() {
  const char* bin = std::getenv("OPENSSL_BIN");
  return bin != nullptr && *bin != '\0' ? bin : "openssl";
}

// Runs a command and returns its standard output ("" if it could not run).
std::string run(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return output;
  char buffer[512];
  size_t count = 0;
  while ((count = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, count);
  const int status = ::pclose(pipe);
  if (status != 0) ADD_FAILURE() << "'" << command << "' exited with status " << status;
  return output;
}

// "sha1 Fingerprint=AB:CD:..." (OpenSSL 3 prints the digest name, then '=', then the hex).
std::string openssl_fingerprint(const std::string& pem_path, const std::string& digest) {
  std::string output =
      run(openssl_binary() + " x509 -noout -fingerprint -" + digest + " -in '" + pem_path + "'");
  const size_t equals = output.find('=');
  if (equals == std::string::npos) return {};
  std::string hex = output.substr(equals + 1);
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) hex.pop_back();
  return hex;
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

TEST(Fingerprint, AlgorithmNames) {
  EXPECT_EQ(hash_algorithm_name(HashAlgorithm::Sha1), "sha-1");
  EXPECT_EQ(hash_algorithm_name(HashAlgorithm::Sha224), "sha-224");
  EXPECT_EQ(hash_algorithm_name(HashAlgorithm::Sha256), "sha-256");
  EXPECT_EQ(hash_algorithm_name(HashAlgorithm::Sha384), "sha-384");
  EXPECT_EQ(hash_algorithm_name(HashAlgorithm::Sha512), "sha-512");
}

TEST(Fingerprint, AllAlgorithmsAgreeWithOpensslTool) {
  Certificate certificate = generate_or_die();
  static std::atomic<int> counter{0};
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("test_fingerprint_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".pem");
  {
    std::ofstream out(path);
    out << certificate.certificate_pem();
  }
  const std::pair<HashAlgorithm, std::string> cases[] = {
      {HashAlgorithm::Sha1, "sha1"},     {HashAlgorithm::Sha224, "sha224"},
      {HashAlgorithm::Sha256, "sha256"}, {HashAlgorithm::Sha384, "sha384"},
      {HashAlgorithm::Sha512, "sha512"},
  };
  const size_t lengths[] = {20, 28, 32, 48, 64};
  size_t index = 0;
  for (const auto& [algorithm, digest] : cases) {
    const std::string expected_hex = openssl_fingerprint(path.string(), digest);
    ASSERT_FALSE(expected_hex.empty()) << "openssl printed no " << digest << " fingerprint";
    const Fingerprint ours = certificate.fingerprint(algorithm);
    EXPECT_EQ(ours.algorithm(), algorithm);
    EXPECT_EQ(ours.digest().size(), lengths[index++]);
    // Upper-case SDP form: "sha-256 AB:CD:..".
    EXPECT_EQ(ours.to_string(), std::string(hash_algorithm_name(algorithm)) + " " + expected_hex);
    // The same digest from DER, and parsing what openssl printed gives an equal value.
    EXPECT_EQ(Fingerprint::of_der(algorithm, certificate.der()), ours);
    auto parsed =
        Fingerprint::parse(std::string(hash_algorithm_name(algorithm)) + " " + expected_hex);
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(*parsed, ours);
    EXPECT_TRUE(parsed->matches(certificate.x509()));
  }
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
}

TEST(Fingerprint, ParseIsCaseInsensitiveAndRoundTrips) {
  Certificate certificate = generate_or_die();
  for (HashAlgorithm algorithm : kAll) {
    const Fingerprint fingerprint = certificate.fingerprint(algorithm);
    const std::string text = fingerprint.to_string();
    auto upper_alg = Fingerprint::parse("SHA" + text.substr(3));
    ASSERT_TRUE(upper_alg) << upper_alg.error().message;
    EXPECT_EQ(*upper_alg, fingerprint);
    auto lower_hex = Fingerprint::parse(lower(text));
    ASSERT_TRUE(lower_hex) << lower_hex.error().message;
    EXPECT_EQ(*lower_hex, fingerprint);
    EXPECT_EQ(lower_hex->to_string(), text);  // printing is always upper case
  }
}

TEST(Fingerprint, ParseToleratesSurroundingWhiteSpace) {
  const std::string hex =
      "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:"
      "EE:FF";
  auto parsed = Fingerprint::parse("  sha-256 \t " + hex + "  \r\n");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->algorithm(), HashAlgorithm::Sha256);
  EXPECT_EQ(parsed->digest()[1], 0x11);
  EXPECT_EQ(parsed->digest()[31], 0xff);
}

TEST(Fingerprint, ParseAcceptsHexWithoutColons) {
  auto parsed = Fingerprint::parse("sha-1 00112233445566778899aabbccddeeff00112233");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->to_string(),
            "sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33");
}

TEST(Fingerprint, WrongLengthIsRejected) {
  Certificate certificate = generate_or_die();
  // A sha-1 digest labelled sha-256, and a sha-256 digest one byte short.
  const std::string sha1 = certificate.fingerprint(HashAlgorithm::Sha1).to_string();
  auto mislabelled = Fingerprint::parse("sha-256" + sha1.substr(5));
  ASSERT_FALSE(mislabelled);
  EXPECT_NE(mislabelled.error().message.find("needs 32 bytes, got 20"), std::string::npos)
      << mislabelled.error().message;

  const std::string sha256 = certificate.fingerprint().to_string();
  auto short_one = Fingerprint::parse(sha256.substr(0, sha256.size() - 3));
  ASSERT_FALSE(short_one);
  EXPECT_NE(short_one.error().message.find("got 31"), std::string::npos);

  auto long_one = Fingerprint::parse(sha256 + ":00");
  ASSERT_FALSE(long_one);
  EXPECT_NE(long_one.error().message.find("got 33"), std::string::npos);
}

TEST(Fingerprint, BadHexIsRejectedNamingTheText) {
  const std::string good = generate_or_die().fingerprint().to_string();
  std::string bad = good;
  bad[8] = 'G';  // first hex group becomes "xG"
  auto not_hex = Fingerprint::parse(bad);
  ASSERT_FALSE(not_hex);
  EXPECT_NE(not_hex.error().message.find("is not hex"), std::string::npos)
      << not_hex.error().message;
  EXPECT_NE(not_hex.error().message.find(bad), std::string::npos);  // names the offending text

  // Groups that are not pairs, empty groups, and odd digit counts without colons.
  for (const char* text : {"sha-1 0:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:333",
                           "sha-1 00::11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33",
                           "sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:",
                           "sha-1 0011223344556677889", "sha-1 00 11", "sha-1 -1:00"}) {
    auto parsed = Fingerprint::parse(text);
    EXPECT_FALSE(parsed) << text;
    if (!parsed) {
      EXPECT_NE(parsed.error().message.find("bad fingerprint"), std::string::npos);
    }
  }
}

TEST(Fingerprint, UnknownAlgorithmOrMissingPartsRejected) {
  auto md5 = Fingerprint::parse("md5 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF");
  ASSERT_FALSE(md5);
  EXPECT_NE(md5.error().message.find("unknown hash algorithm 'md5'"), std::string::npos)
      << md5.error().message;
  EXPECT_FALSE(Fingerprint::parse("sha256 00:11"));  // the SDP name has a dash
  auto no_hex = Fingerprint::parse("sha-256");
  ASSERT_FALSE(no_hex);
  EXPECT_NE(no_hex.error().message.find("no hex"), std::string::npos);
  EXPECT_FALSE(Fingerprint::parse(""));
  EXPECT_FALSE(Fingerprint::parse("   "));
}

TEST(Fingerprint, ParseListWithSpaces) {
  Certificate a = generate_or_die();
  Certificate b = generate_or_die();
  const std::string text = "  " + a.fingerprint().to_string() + " ,\t" +
                           lower(b.fingerprint(HashAlgorithm::Sha1).to_string()) + "  ";
  auto list = Fingerprint::parse_list(text);
  ASSERT_TRUE(list) << list.error().message;
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0], a.fingerprint());
  EXPECT_EQ((*list)[1], b.fingerprint(HashAlgorithm::Sha1));

  auto single = Fingerprint::parse_list(a.fingerprint().to_string());
  ASSERT_TRUE(single);
  EXPECT_EQ(single->size(), 1u);
}

TEST(Fingerprint, ParseListErrors) {
  const std::string good = generate_or_die().fingerprint().to_string();
  auto empty = Fingerprint::parse_list("  ");
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message.find("empty"), std::string::npos);
  EXPECT_FALSE(Fingerprint::parse_list(good + ","));
  EXPECT_FALSE(Fingerprint::parse_list("," + good));
  auto bad_item = Fingerprint::parse_list(good + ", sha-1 00:11");
  ASSERT_FALSE(bad_item);
  EXPECT_NE(bad_item.error().message.find("sha-1 00:11"), std::string::npos)
      << bad_item.error().message;
}

TEST(Fingerprint, MatchesOnlyItsCertificate) {
  Certificate a = generate_or_die();
  Certificate b = generate_or_die();
  for (HashAlgorithm algorithm : kAll) {
    EXPECT_TRUE(a.fingerprint(algorithm).matches(a.x509()));
    EXPECT_FALSE(a.fingerprint(algorithm).matches(b.x509()));
  }
  EXPECT_FALSE(a.fingerprint().matches(nullptr));

  // One flipped bit in the expected digest is a mismatch.
  std::string text = a.fingerprint().to_string();
  text.back() = text.back() == '0' ? '1' : '0';
  auto flipped = Fingerprint::parse(text);
  ASSERT_TRUE(flipped);
  EXPECT_FALSE(flipped->matches(a.x509()));
}

TEST(Fingerprint, MatchesAny) {
  Certificate a = generate_or_die();
  Certificate b = generate_or_die();
  Certificate c = generate_or_die();
  const std::vector<Fingerprint> list = {b.fingerprint(HashAlgorithm::Sha512),
                                         a.fingerprint(HashAlgorithm::Sha1)};
  EXPECT_TRUE(matches_any(list, a.x509()));
  EXPECT_TRUE(matches_any(list, b.x509()));
  EXPECT_FALSE(matches_any(list, c.x509()));
  EXPECT_FALSE(matches_any({}, a.x509()));
  EXPECT_FALSE(matches_any(list, nullptr));
}

}  // namespace
}  // namespace dtlstransport
