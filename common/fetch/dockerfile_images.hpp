// The images a Dockerfile pulls: the FROM images of its stages (with global ARGs substituted,
// stage names and "scratch" skipped) and the images named by COPY --from / RUN --mount from=.
// Used by `warmer --dockerfile` so that a CI job can warm exactly what a build will need.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "image/platform.hpp"
#include "util/result.hpp"

namespace strata::fetch {

// Reads and parses the Dockerfile at path. Errors name the file and line.
Result<std::vector<std::string>> dockerfile_base_images(const std::string& path,
                                                        const std::map<std::string, std::string>& build_args,
                                                        const image::Platform& target_platform);

// The automatic platform ARGs (TARGETPLATFORM, TARGETOS, TARGETARCH, TARGETVARIANT and the
// BUILD* ones for the machine we run on).
std::map<std::string, std::string> automatic_platform_args(const image::Platform& target);

}  // namespace strata::fetch
