// The release build uses AVX2/FMA/F16C; refuse to start on a CPU without them, with a message,
// instead of dying on an illegal instruction. The portable build runs everywhere.
#pragma once

namespace agora::cli {
bool cpu_supported();
}
