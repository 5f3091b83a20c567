// The setup and cleanup tests of the CTest fixture docker_engine (see support/docker_engine.hpp):
//   ferry_docker_engine start <dir>   starts the tests' dockerd, returns once it answers
//   ferry_docker_engine stop <dir>    stops it and removes dir
#include <cstring>
#include <exception>
#include <iostream>

#include "support/docker_engine.hpp"

int main(int argc, char** argv) {
    if (argc != 3 || (std::strcmp(argv[1], "start") != 0 && std::strcmp(argv[1], "stop") != 0)) {
        std::cerr << "usage: ferry_docker_engine start|stop <dir>\n";
        return 2;
    }
    try {
        if (std::strcmp(argv[1], "start") == 0) {
            ferry::testing::start_docker_engine(argv[2]);
            std::cout << "dockerd answers on unix://" << argv[2] << "/docker.sock\n";
        } else {
            ferry::testing::stop_docker_engine(argv[2]);
        }
    } catch (const std::exception& e) {
        std::cerr << "ferry_docker_engine " << argv[1] << ": " << e.what() << "\n";
        return 1;
    }
    return 0;
}
