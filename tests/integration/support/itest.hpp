// The integration-test fixture in one include: temp dirs, processes, the test CA, registry and
// token servers, base images and skopeo/umoci helpers. See docs/testing.md.
#pragma once

#include "integration/support/http_client.hpp"
#include "integration/support/images.hpp"
#include "integration/support/process.hpp"
#include "integration/support/registry_server.hpp"
#include "integration/support/temp_dir.hpp"
#include "integration/support/test_ca.hpp"
#include "integration/support/token_server.hpp"
