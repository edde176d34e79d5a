// Runs a fuzz target's harness once on each input file, without libFuzzer: what builds
// without the fuzzers (GCC, the ASan build) use, so that ctest still runs the seed corpus and
// every kept crash through the same harness code.
//
//   pk-fuzz-<target> FILE_OR_DIRECTORY...
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace fs = std::filesystem;

int main(int argc, char **argv)
{
    std::vector<fs::path> files;
    for (int i = 1; i < argc; ++i) {
        const fs::path arg(argv[i]);
        if (fs::is_directory(arg)) {
            for (const fs::directory_entry &entry : fs::directory_iterator(arg)) {
                if (entry.is_regular_file())
                    files.push_back(entry.path());
            }
        } else {
            files.push_back(arg);
        }
    }
    if (files.empty()) {
        std::fprintf(stderr, "%s: no input files\n", argv[0]);
        return 2;
    }
    std::sort(files.begin(), files.end()); // the same order every run
    for (const fs::path &file : files) {
        std::ifstream in(file, std::ios::binary);
        if (!in) {
            std::fprintf(stderr, "%s: cannot read %s\n", argv[0], file.c_str());
            return 2;
        }
        const std::vector<char> data { std::istreambuf_iterator<char>(in),
            std::istreambuf_iterator<char>() };
        std::printf("running %s (%zu bytes)\n", file.c_str(), data.size());
        std::fflush(stdout); // so that a crash names its input
        LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(data.data()), data.size());
    }
    std::printf("%zu inputs passed\n", files.size());
    return 0;
}
