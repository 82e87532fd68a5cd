// Private to the copy module: what a CopyPlan keeps alive.
#pragma once

#include <string>
#include <vector>

#include "build/copy.hpp"

namespace strata::build {

struct CopyPlan::Roots {
  std::vector<SourceRoot> roots;   // [i] serves items with root_index == i
  std::vector<std::string> temps;  // removed with the plan
  Roots() = default;
  Roots(const Roots&) = delete;
  Roots& operator=(const Roots&) = delete;
  ~Roots();
};

}  // namespace strata::build
