// kill -9 crash consistency, default suite: 50 cycles (crash_harness.h has the protocol).
// ctest-labels: unit
#include "crash_harness.h"

namespace agora::storage::test {
namespace {

TEST(CrashConsistency, FiftyKillNineCycles) {
  const CrashStats stats = run_crash_cycles(50, /*seed=*/6);
  EXPECT_EQ(stats.cycles, 50);
  EXPECT_GT(stats.acked_writes, 50);  // the children did get work done between kills
}

}  // namespace
}  // namespace agora::storage::test
