// Locating the shared test data (models, vocabularies, templates, reference outputs).
//
// The folder is `../shared/testdata` next to the source tree, or $AGORA_TESTDATA when set.
// A missing folder is a test failure with a clear message, never a silent skip.
#pragma once

#include <string>

namespace agora::test {

// Absolute path of the test-data folder (no trailing slash). Fails the current test with a
// message naming the folder and the override variable when it does not exist.
std::string testdata_dir();
// testdata_dir() + "/" + rel; fails the current test when the file does not exist.
std::string testdata_path(const std::string& rel);
// Reads a whole file as bytes; fails the current test when it cannot.
std::string read_file(const std::string& path);
// The source and build trees (for tests that run the agora binary or read committed corpora).
std::string source_dir();
std::string binary_dir();

}  // namespace agora::test
