// Which OpenSSL the core tests really run against. The library loaded at run time must be the one
// the build's headers describe (same major and minor version): a build configured against one
// OpenSSL that loads another (a missing rpath, a stray LD_LIBRARY_PATH) fails here instead of
// quietly testing the wrong one. DTLSTRANSPORT_EXPECT_OPENSSL=MAJOR.MINOR names the version that
// must be loaded (scripts/test.sh's openssl35 step sets 3.5; unset: the headers' version).
#include <gtest/gtest.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

std::string major_minor(unsigned major, unsigned minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

const std::string kLoaded = major_minor(OPENSSL_version_major(), OPENSSL_version_minor());
const std::string kHeaders = major_minor(OPENSSL_VERSION_MAJOR, OPENSSL_VERSION_MINOR);

TEST(OpenSslVersion, LoadedLibraryIsTheOneTheHeadersDescribe) {
  // For the log: scripts/test.sh prints this line of its openssl35 step.
  std::printf("OpenSSL at run time: %s; headers: %s\n", OpenSSL_version(OPENSSL_VERSION),
              OPENSSL_VERSION_TEXT);
  EXPECT_EQ(kLoaded, kHeaders) << "loaded: " << OpenSSL_version(OPENSSL_VERSION);
}

TEST(OpenSslVersion, LoadedLibraryIsTheExpectedOne) {
  const char* expected = std::getenv("DTLSTRANSPORT_EXPECT_OPENSSL");
  const std::string want = expected && *expected ? expected : kHeaders;
  EXPECT_EQ(kLoaded, want) << "loaded: " << OpenSSL_version(OPENSSL_VERSION);
}

}  // namespace
