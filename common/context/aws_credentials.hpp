// Where S3 credentials and settings come from, as the AWS SDKs look for them
// (the subset a build context needs):
//   1. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN) in the
//   environment;
//   2. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, default
//   ~/.aws/credentials),
//      profile AWS_PROFILE (default "default"): aws_access_key_id,
//      aws_secret_access_key, aws_session_token;
//   3. none: the request goes unsigned (public buckets, s3rver without auth).
// Region: AWS_REGION, AWS_DEFAULT_REGION, the profile's `region` in
// ~/.aws/config (AWS_CONFIG_FILE), else us-east-1. Secrets found are registered
// with log::add_secret.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "context/context_spec.hpp"
#include "context/sigv4.hpp"
#include "util/result.hpp"

namespace strata::context {

// nullopt: no credentials anywhere. Errors: corrupt when the file exists but
// the profile named by AWS_PROFILE is not in it, or lacks a key.
Result<std::optional<AwsCredentials>> aws_credentials(const EnvLookup &env);
std::string aws_region(const EnvLookup &env);

// The value of `key` in `[section]` of INI text (AWS files: "[profile x]" in
// config). nullopt when absent.
std::optional<std::string> ini_value(std::string_view text,
                                     std::string_view section,
                                     std::string_view key);
bool ini_has_section(std::string_view text, std::string_view section);

} // namespace strata::context
