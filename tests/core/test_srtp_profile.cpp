// SRTP protection profiles: names, IANA ids, key/salt lengths, preference order, list parsing.
#include <gtest/gtest.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>

#include <string>

#include "openssl_handles.hpp"
#include "srtp_profile.hpp"

namespace dtlstransport {
namespace {

constexpr SrtpProfile kAll[] = {SrtpProfile::Aes128CmSha1_80, SrtpProfile::Aes128CmSha1_32,
                                SrtpProfile::AeadAes128Gcm, SrtpProfile::AeadAes256Gcm};

TEST(SrtpProfile, OpensslNames) {
  EXPECT_EQ(openssl_name(SrtpProfile::Aes128CmSha1_80), "SRTP_AES128_CM_SHA1_80");
  EXPECT_EQ(openssl_name(SrtpProfile::Aes128CmSha1_32), "SRTP_AES128_CM_SHA1_32");
  EXPECT_EQ(openssl_name(SrtpProfile::AeadAes128Gcm), "SRTP_AEAD_AES_128_GCM");
  EXPECT_EQ(openssl_name(SrtpProfile::AeadAes256Gcm), "SRTP_AEAD_AES_256_GCM");
  for (SrtpProfile profile : kAll) {
    EXPECT_EQ(srtp_profile_from_name(openssl_name(profile)), profile);
  }
  EXPECT_EQ(srtp_profile_from_name("SRTP_NULL_SHA1_80"), std::nullopt);
  EXPECT_EQ(srtp_profile_from_name(""), std::nullopt);
}

// Our ids and names must be the ones OpenSSL itself uses, or negotiation would silently differ.
TEST(SrtpProfile, NamesAndIdsAgreeWithOpenssl) {
  SslCtxPtr context(SSL_CTX_new(DTLS_method()));
  ASSERT_TRUE(context);
  for (SrtpProfile profile : kAll) {
    const std::string name(openssl_name(profile));
    // Inverted return value: 0 means success.
    ASSERT_EQ(SSL_CTX_set_tlsext_use_srtp(context.get(), name.c_str()), 0) << name;
    SslPtr ssl(SSL_new(context.get()));
    ASSERT_TRUE(ssl);
    STACK_OF(SRTP_PROTECTION_PROFILE)* profiles = SSL_get_srtp_profiles(ssl.get());
    ASSERT_EQ(sk_SRTP_PROTECTION_PROFILE_num(profiles), 1);
    const SRTP_PROTECTION_PROFILE* entry = sk_SRTP_PROTECTION_PROFILE_value(profiles, 0);
    EXPECT_EQ(entry->id, static_cast<unsigned long>(profile)) << name;
    EXPECT_STREQ(entry->name, name.c_str());
  }
}

TEST(SrtpProfile, IanaIds) {
  EXPECT_EQ(srtp_profile_from_id(0x0001), SrtpProfile::Aes128CmSha1_80);
  EXPECT_EQ(srtp_profile_from_id(0x0002), SrtpProfile::Aes128CmSha1_32);
  EXPECT_EQ(srtp_profile_from_id(0x0007), SrtpProfile::AeadAes128Gcm);
  EXPECT_EQ(srtp_profile_from_id(0x0008), SrtpProfile::AeadAes256Gcm);
  EXPECT_EQ(srtp_profile_from_id(0x0000), std::nullopt);
  EXPECT_EQ(srtp_profile_from_id(0x0005), std::nullopt);  // NULL_HMAC_SHA1_80: not offered
  EXPECT_EQ(srtp_profile_from_id(0xffff), std::nullopt);
}

TEST(SrtpProfile, KeyAndSaltLengths) {
  EXPECT_EQ(master_key_length(SrtpProfile::Aes128CmSha1_80), 16u);
  EXPECT_EQ(master_salt_length(SrtpProfile::Aes128CmSha1_80), 14u);
  EXPECT_EQ(master_key_length(SrtpProfile::Aes128CmSha1_32), 16u);
  EXPECT_EQ(master_salt_length(SrtpProfile::Aes128CmSha1_32), 14u);
  EXPECT_EQ(master_key_length(SrtpProfile::AeadAes128Gcm), 16u);
  EXPECT_EQ(master_salt_length(SrtpProfile::AeadAes128Gcm), 12u);
  EXPECT_EQ(master_key_length(SrtpProfile::AeadAes256Gcm), 32u);
  EXPECT_EQ(master_salt_length(SrtpProfile::AeadAes256Gcm), 12u);
}

TEST(SrtpProfile, DefaultOrder) {
  const std::vector<SrtpProfile> expected = {SrtpProfile::AeadAes128Gcm, SrtpProfile::AeadAes256Gcm,
                                             SrtpProfile::Aes128CmSha1_80,
                                             SrtpProfile::Aes128CmSha1_32};
  EXPECT_EQ(default_srtp_profiles(), expected);
  EXPECT_EQ(format_srtp_profiles(default_srtp_profiles()),
            "SRTP_AEAD_AES_128_GCM:SRTP_AEAD_AES_256_GCM:SRTP_AES128_CM_SHA1_80:"
            "SRTP_AES128_CM_SHA1_32");
}

TEST(SrtpProfile, ParseKeepsOrder) {
  auto parsed = parse_srtp_profiles("SRTP_AES128_CM_SHA1_32:SRTP_AEAD_AES_256_GCM");
  ASSERT_TRUE(parsed) << parsed.error().message;
  const std::vector<SrtpProfile> expected = {SrtpProfile::Aes128CmSha1_32,
                                             SrtpProfile::AeadAes256Gcm};
  EXPECT_EQ(*parsed, expected);

  auto single = parse_srtp_profiles("SRTP_AES128_CM_SHA1_80");
  ASSERT_TRUE(single);
  EXPECT_EQ(*single, std::vector<SrtpProfile>{SrtpProfile::Aes128CmSha1_80});
}

TEST(SrtpProfile, ParseToleratesWhiteSpace) {
  auto parsed = parse_srtp_profiles("  SRTP_AEAD_AES_128_GCM :\tSRTP_AES128_CM_SHA1_80 \n");
  ASSERT_TRUE(parsed) << parsed.error().message;
  const std::vector<SrtpProfile> expected = {SrtpProfile::AeadAes128Gcm,
                                             SrtpProfile::Aes128CmSha1_80};
  EXPECT_EQ(*parsed, expected);
}

TEST(SrtpProfile, FormatParseRoundTrip) {
  const std::vector<SrtpProfile> profiles = {SrtpProfile::Aes128CmSha1_80,
                                             SrtpProfile::AeadAes128Gcm};
  const std::string text = format_srtp_profiles(profiles);
  EXPECT_EQ(text, "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM");
  auto parsed = parse_srtp_profiles(text);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, profiles);
  EXPECT_EQ(format_srtp_profiles({}), "");
}

TEST(SrtpProfile, ParseRejectsUnknownName) {
  auto parsed = parse_srtp_profiles("SRTP_AEAD_AES_128_GCM:SRTP_BOGUS");
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("unknown SRTP profile 'SRTP_BOGUS'"), std::string::npos)
      << parsed.error().message;
  // Names are OpenSSL's, which are case-sensitive.
  EXPECT_FALSE(parse_srtp_profiles("srtp_aead_aes_128_gcm"));
}

TEST(SrtpProfile, ParseRejectsEmptyListsAndEntries) {
  for (const char* text : {"", "   ", ":", "SRTP_AEAD_AES_128_GCM:", ":SRTP_AEAD_AES_128_GCM",
                           "SRTP_AEAD_AES_128_GCM:: SRTP_AES128_CM_SHA1_80"}) {
    auto parsed = parse_srtp_profiles(text);
    ASSERT_FALSE(parsed) << "'" << text << "'";
    EXPECT_NE(parsed.error().message.find("empty"), std::string::npos) << parsed.error().message;
  }
}

TEST(SrtpProfile, ParseRejectsDuplicates) {
  auto parsed =
      parse_srtp_profiles("SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM: SRTP_AES128_CM_SHA1_80");
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("duplicate SRTP profile 'SRTP_AES128_CM_SHA1_80'"),
            std::string::npos)
      << parsed.error().message;
}

}  // namespace
}  // namespace dtlstransport
