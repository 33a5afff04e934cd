// kill -9 crash consistency, long variant: 200 cycles (RELIABILITY.md test 6).
// ctest-labels: slow
#include "crash_harness.h"

namespace agora::storage::test {
namespace {

TEST(CrashConsistency, TwoHundredKillNineCycles) {
  const CrashStats stats = run_crash_cycles(200, /*seed=*/600);
  EXPECT_EQ(stats.cycles, 200);
  EXPECT_GT(stats.acked_writes, 200);
}

}  // namespace
}  // namespace agora::storage::test
