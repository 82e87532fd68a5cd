#include "executor_command.hpp"

int main(int argc, char** argv) { return strata::executor::main(argc, argv); }
