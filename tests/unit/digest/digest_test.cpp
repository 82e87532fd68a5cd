#include "digest/digest.hpp"

#include <cstdio>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

using strata::ErrorKind;
using strata::digest::Algorithm;
using strata::digest::Digest;
using strata::digest::Hasher;

TEST(Digest, HashesKnownVectors) {
  EXPECT_EQ(strata::digest::sha256("").str(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(strata::digest::sha256("abc").str(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Hasher h;
  h.update("a");
  h.update("bc");
  EXPECT_EQ(h.bytes(), 3u);
  EXPECT_EQ(h.finish(), strata::digest::sha256("abc"));
  h.update("abc");  // reusable after finish
  EXPECT_EQ(h.finish(), strata::digest::sha256("abc"));
  h.update("ab");
  EXPECT_EQ(h.peek(), strata::digest::sha256("ab"));  // peek leaves the state alone
  h.update("c");
  EXPECT_EQ(h.peek(), strata::digest::sha256("abc"));
  EXPECT_EQ(h.finish(), strata::digest::sha256("abc"));
  Hasher h512(Algorithm::sha512);
  h512.update("abc");
  EXPECT_EQ(h512.finish().hex().substr(0, 16), "ddaf35a193617aba");
}

TEST(Digest, ParsesAndValidates) {
  auto d = Digest::parse("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->algorithm_name(), "sha256");
  EXPECT_TRUE(d->valid());

  auto wrong_len = Digest::parse("sha256:abc");
  ASSERT_FALSE(wrong_len);
  EXPECT_EQ(wrong_len.error().kind(), ErrorKind::invalid_argument);
  EXPECT_NE(wrong_len.error().message().find("64 hex"), std::string::npos);

  auto upper = Digest::parse("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855");
  EXPECT_FALSE(upper);
  auto md5 = Digest::parse("md5:d41d8cd98f00b204e9800998ecf8427e");
  ASSERT_FALSE(md5);
  EXPECT_EQ(md5.error().kind(), ErrorKind::unsupported);
  EXPECT_FALSE(Digest::parse("nocolon"));
  EXPECT_FALSE(Digest::parse(":abc"));
  EXPECT_FALSE(Digest::parse("sha256:../../../../etc/passwd0000000000000000000000000000000000000000000"));
}

TEST(Digest, HashesFiles) {
  std::string path = testing::TempDir() + "/digest_test_file";
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string(3 << 20, 'x');
  }
  std::uint64_t size = 0;
  auto d = strata::digest::hash_file(path, Algorithm::sha256, &size);
  ASSERT_TRUE(d);
  EXPECT_EQ(size, 3u << 20);
  EXPECT_EQ(*d, strata::digest::sha256(std::string(3 << 20, 'x')));
  auto missing = strata::digest::hash_file(path + ".missing");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind(), ErrorKind::not_found);
  std::remove(path.c_str());
}
