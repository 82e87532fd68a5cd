#include "integration/support/test_ca.hpp"

#include <sys/stat.h>

#include <memory>
#include <mutex>

#include "integration/support/process.hpp"
#include "integration/support/temp_dir.hpp"

namespace strata::itest {

namespace {

Result<void> openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  TRY_CTX(run_checked(argv, {}, std::chrono::seconds(60)), "making test certificates");
  return {};
}

// A CA-signed leaf: key, CSR, then the CA's signature with the given extensions.
Result<void> make_leaf(const std::string& dir, const std::string& name, const std::string& cn,
                       const std::string& extensions) {
  TRY(write_file(dir + "/" + name + ".ext", extensions));
  TRY(openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
               "-keyout", dir + "/" + name + ".key", "-out", dir + "/" + name + ".csr", "-subj",
               "/CN=" + cn}));
  TRY(openssl({"x509", "-req", "-in", dir + "/" + name + ".csr", "-CA", dir + "/ca.crt", "-CAkey",
               dir + "/ca.key", "-CAcreateserial", "-CAserial", dir + "/ca.srl", "-days", "2",
               "-sha256", "-extfile", dir + "/" + name + ".ext", "-out", dir + "/" + name + ".crt"}));
  return {};
}

Result<void> copy_file(const std::string& from, const std::string& to) {
  std::string content = TRY(read_file(from));
  return write_file(to, content, 0600);
}

}  // namespace

Result<void> TestCA::make(const std::string& dir) {
  TRY(openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
               "-keyout", dir + "/ca.key", "-out",
               dir + "/ca.crt", "-days", "2", "-sha256", "-subj", "/CN=strata-test-ca", "-addext",
               "basicConstraints=critical,CA:TRUE", "-addext",
               "keyUsage=critical,keyCertSign,cRLSign"}));
  TRY(make_leaf(dir, "server", "localhost",
                "basicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=IP:127.0.0.1,DNS:localhost\n"));
  TRY(make_leaf(dir, "client", "strata-test-client",
                "basicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=clientAuth\n"));
  // The token signer is its own root: the registry trusts exactly this certificate. RSA, as the
  // JWTs are RS256; everything else is P-256, whose keys take milliseconds to make.
  TRY(openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/token.key",
               "-out", dir + "/token.crt", "-days", "2", "-sha256", "-subj",
               "/CN=strata-test-token-signer"}));

  for (const char* sub : {"/certs", "/client-certs"})
    if (::mkdir((dir + sub).c_str(), 0755) != 0) return fail_errno("mkdir " + dir + sub, errno);
  TRY(copy_file(dir + "/ca.crt", dir + "/certs/ca.crt"));
  // skopeo/containers-image naming: *.crt are CAs, NAME.cert + NAME.key a client pair.
  TRY(copy_file(dir + "/ca.crt", dir + "/client-certs/ca.crt"));
  TRY(copy_file(dir + "/client.crt", dir + "/client-certs/client.cert"));
  TRY(copy_file(dir + "/client.key", dir + "/client-certs/client.key"));
  return {};
}

Result<const TestCA*> TestCA::get() {
  static std::mutex mutex;
  static TempDir dir;
  static std::unique_ptr<TestCA> ca;
  std::lock_guard lock(mutex);
  if (ca) return ca.get();
  if (find_binary("openssl").empty())
    return fail(ErrorKind::not_found, "openssl: not installed (scripts/install-deps.sh)");
  dir = TRY(TempDir::create("ca"));
  TRY(make(dir.path()));
  ca.reset(new TestCA(dir.path()));
  return ca.get();
}

}  // namespace strata::itest
