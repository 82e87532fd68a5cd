#include <iostream>

#include "cachectl/command.hpp"

int main(int argc, char** argv) {
  strata::cachectl::Context ctx(std::cout, std::cerr);
  return strata::cachectl::run(std::vector<std::string>(argv + 1, argv + argc), ctx);
}
