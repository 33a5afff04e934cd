// Prefill on Intel AMX (the tile matrix unit of Sapphire Rapids and later Xeons), for weights
// in the repacked Q4_0 and Q4_K layouts (repacked.h).
//
// A tile multiply-add (TDPBSSD) takes 16 tokens' Q8_0 activation blocks (32 int8 each, rows of
// tile A, read in place from the quantized activations) and 16 weight rows' block values
// (nibble - 8, as int8, tile B: the Q4_0x8 records of two groups, unpacked once per block and
// shared by every token) and leaves the 16 x 16 exact integer block dots. Per token and row the
// float work is then exactly the Q4_0 contract of block_combine.h: acc = fma(float(sumi),
// d_w * d_y, acc), block after block. So the results are bit-identical to the Q4_0x8 and row
// kernels, and whether a pass runs here (passes of kAmxMinTokens+ tokens) or there never shows.
#pragma once

#include <cstddef>
#include <cstdint>

namespace agora {

struct WeightView;
struct Q8BlockAux;
struct Q8KBlockAux;
class ThreadPool;

// Passes with fewer tokens stay on the Q4_0x8 kernels (decode is bound by memory, not by the
// multiply-adds).
constexpr int64_t kAmxMinTokens = 16;

// True when the build has the AMX kernel, the CPU reports AMX-TILE and AMX-INT8, the OS enables
// tile state, the process got permission to use it, and AGORA_NO_AMX is unset (or "0").
bool amx_available();

// True when `w` (a Q4_0x8 or Q8_0x8 matrix) can run here: its rows come in whole pairs of groups.
bool amx_q4_0x8_eligible(const WeightView& w);

// y[t * n_out + r] = dot(row r, activation row t) for every row of the Q4_0x8 or Q8_0x8 matrix `w`
// (Q8_0 follows the same float order, block_combine.h) and
// t < n_tok. `act`: n_tok Q8_0 rows `act_row` bytes apart; `aux`: their per-block values
// (q8_0_block_aux), nb = n_in / 32 per token. Requires amx_available() and the eligibility above.
void matmul_q4_0x8_amx(const WeightView& w, const uint8_t* act, size_t act_row, const Q8BlockAux* aux,
                       int64_t n_tok, float* y, ThreadPool& pool);

// The same for Q4_Kx8 matrices (Q8_K activations; `aux` from q8_k_block_aux): per sub-block one
// tile multiply-add, then the exact scale and min integers and the Q4_K float steps.
bool amx_q4_kx8_eligible(const WeightView& w);
void matmul_q4_kx8_amx(const WeightView& w, const uint8_t* act, size_t act_row, const Q8KBlockAux* aux,
                       int64_t n_tok, float* y, ThreadPool& pool);

}  // namespace agora
