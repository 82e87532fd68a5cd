// The warmer: pre-fetches base images into a cache dir before builds (kaniko's warmer flags).
#pragma once

namespace strata::warmer {

int main(int argc, char** argv);

}  // namespace strata::warmer
