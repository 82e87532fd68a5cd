// The executor: builds a Dockerfile into an image without a Docker daemon, with kaniko's flags
// (docs/executor.md lists them and what differs).
#pragma once

namespace strata::executor {

int main(int argc, char** argv);

}  // namespace strata::executor
