#include "warm_command.hpp"

int main(int argc, char** argv) { return strata::warmer::main(argc, argv); }
