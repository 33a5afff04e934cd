#include "cli/cpu_check.h"

#include <cstdio>

#include "engine/util/cpu_features.h"

namespace agora::cli {

bool cpu_supported() {
#if defined(AGORA_PORTABLE)
  return true;
#else
  const bool ok = cpu_has_avx2_fma_f16c();
  if (!ok) {
    std::fprintf(stderr,
                 "agora: this build needs a CPU with AVX2, FMA and F16C (x86-64-v3); "
                 "rebuild with -DAGORA_PORTABLE=ON (cmake --preset portable) to run here\n");
  }
  return ok;
#endif
}

}  // namespace agora::cli

namespace {
// Runs before any other static initialiser of the program (which may already use AVX2).
__attribute__((constructor(101))) void agora_check_cpu_early() {
  if (!agora::cli::cpu_supported()) __builtin_exit(2);
}
}  // namespace
