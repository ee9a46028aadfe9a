// Which libsrtp2 the core really runs, as the library reports itself at run time (its crypto
// kernel's modules), not as the build configured it. A build made with -Dsrtp=openssl must run
// the OpenSSL-backed libsrtp2 (scripts/libsrtp2-openssl.sh): a build that quietly linked the
// system's NSS-backed one instead fails here. DTLSTRANSPORT_EXPECT_SRTP_BACKEND=openssl|nss|
// built-in names the backend that must be loaded (scripts/test.sh's srtp-openssl step sets
// openssl); unset: the one the build asked for (meson's -Dsrtp; the system's: any known one).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "srtp_session.hpp"

#ifndef DTLSTRANSPORT_SRTP_BACKEND
#error "tests/core/meson.build defines DTLSTRANSPORT_SRTP_BACKEND (meson's -Dsrtp)"
#endif

namespace {

using dtlstransport::srtp_crypto_backend_name;
using dtlstransport::srtp_library_info;
using dtlstransport::SrtpCryptoBackend;

std::string module_list() {
  std::string list;
  for (const std::string& name : srtp_library_info().modules) {
    list += (list.empty() ? "" : ", ") + name;
  }
  return list;
}

TEST(SrtpLibrary, ReportsAKnownCryptoBackend) {
  const auto& info = srtp_library_info();
  // For the log: scripts/test.sh prints this line of its srtp-openssl step.
  std::printf("libsrtp2 at run time: %s, crypto backend %s (modules: %s)\n", info.version.c_str(),
              srtp_crypto_backend_name(info.backend), module_list().c_str());
  EXPECT_EQ(info.version.rfind("libsrtp2 2.", 0), 0u) << info.version;
  EXPECT_NE(info.backend, SrtpCryptoBackend::Unknown) << "modules: " << module_list();
}

TEST(SrtpLibrary, LoadedLibraryHasTheExpectedBackend) {
  const char* from_environment = std::getenv("DTLSTRANSPORT_EXPECT_SRTP_BACKEND");
  const std::string expected =
      from_environment && *from_environment ? from_environment : DTLSTRANSPORT_SRTP_BACKEND;
  const std::string loaded = srtp_crypto_backend_name(srtp_library_info().backend);
  if (expected.empty()) {
    // The system's libsrtp2, whatever its backend: the test above requires a known one.
    EXPECT_NE(loaded, "unknown");
  } else {
    EXPECT_EQ(loaded, expected) << "modules: " << module_list();
  }
}

}  // namespace
