// Weights repacked at load time into groups of eight interleaved rows, and the matrix kernels
// that read them: Q4_0 ("Q4_0x8", below), Q8_0 ("Q8_0x8"), Q4_K ("Q4_Kx8") and Q6_K ("Q6_Kx8")
// further down.
//
// Layout: the rows of a Q4_0 matrix are taken eight at a time (n_out must be a multiple of 8).
// For each group g and each block index i the group stores one 144-byte record:
//     uint16_t d[8];          the eight rows' f16 scales, row order
//     uint8_t  qs[4][8][4];   chunk c: packed bytes 4c..4c+3 of row 0, of row 1, ... of row 7
// The packed bytes are as stored (byte j: low nibble = value j, high nibble = value j + 16), so
// one 32-byte load of chunk c gives, in 32-bit lane r, values 4c..4c+3 (low nibbles) and
// 16+4c..16+4c+3 (high nibbles) of row r: a multiply-add against those four activations
// broadcast leaves row r's partial dot in lane r, and a block needs no horizontal sums. The
// records of a group follow each other: a thread that owns a range of groups reads one
// sequential stream of memory.
//
// Arithmetic: the unsigned nibbles u (0..15) go straight into the u8 x s8 multiply-adds; the
// stored value is u - 8, so each block's exact integer dot is
//     sumi = sum_j u_j * y_j  -  8 * sum_j y_j
// with 8 * sum_j y_j and d_y taken once per activation block (q8_0_block_aux) and shared by every
// row. Then, per row, acc = fma(float(sumi), d_w * d_y, acc), block after block (block_combine.h, Q4_0): the
// same floats, bit for bit, as vec_dot_q4_0_q8_0 on the unpacked rows, whichever kernel runs.
#pragma once

#include <cstddef>
#include <cstdint>

namespace agora {

struct WeightView;

constexpr size_t kQ4_0x8RecordBytes = 144;  // 8 x f16 scale + 8 x 16 quant bytes

// True when `w` is a row-major Q4_0 matrix that can be repacked (n_out a multiple of 8).
bool q4_0x8_eligible(const WeightView& w);
// Bytes of the repacked matrix.
size_t q4_0x8_bytes(int64_t n_in, int64_t n_out);
// Writes the repacked form of `w` (eligible) to dst (q4_0x8_bytes of it). Groups [g0, g1) only,
// so callers can split the work.
void repack_q4_0x8(const WeightView& w, uint8_t* dst, int64_t g0, int64_t g1);

// Per activation block: its scale as f32 and 8 x the sum of its quants (the Q4_0 offset term).
struct Q8BlockAux {
  float d;
  int32_t sum8;
};

// out[t * out_stride + r] = dot(row r of the group, activation row t) for r < 8, t < n_act (1..8).
// `group` is the group's first record; `act` holds n_act Q8_0 rows `act_row` bytes apart, and
// `aux` their per-block values (q8_0_block_aux), `aux_row` entries apart. nb = blocks per row.
using Q4_0x8Kernel = void (*)(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row,
                              const Q8BlockAux* aux, size_t aux_row, int n_act, float* out, size_t out_stride);

// The fastest kernel this CPU runs (AVX-VNNI, AVX2, scalar), and its name for reports.
Q4_0x8Kernel q4_0x8_kernel();
// Two groups per call (16 rows: out[t * out_stride + r] for r < 16, the second group's records
// right after the first's), on CPUs with AVX-512 F/BW/VNNI; null elsewhere, or when
// AGORA_Q4_0X8_KERNEL names another kernel. The same bits as q4_0x8_kernel().
Q4_0x8Kernel q4_0x8_pair_kernel();
const char* q4_0x8_kernel_name();
// The scalar reference, and every kernel this CPU can run (for the equality tests).
Q4_0x8Kernel q4_0x8_kernel_scalar();
struct Q4_0x8KernelEntry {
  const char* name;
  Q4_0x8Kernel fn;
};
int q4_0x8_kernels_available(Q4_0x8KernelEntry* out, int max);

// The Q8BlockAux of each of nb Q8_0 blocks.
void q8_0_block_aux(const void* act_row, int64_t nb, Q8BlockAux* out);

// ---- Q8_0, eight rows interleaved ("Q8_0x8") -------------------------------------------------
// Record per group and block (272 bytes): uint16_t d[8] (row order), then 8 chunks of 32 bytes,
// chunk c = quants 4c..4c+3 of row 0, of row 1, ... of row 7, each stored as q + 128 (unsigned,
// for the u8 x s8 multiply-add). Lane r of the eight multiply-adds of a block's chunks against the
// activations broadcast is row r's whole block dot plus 128 x the activations' sum; started at
// -128 x that sum (16 x Q8BlockAux::sum8) it is exact. Then, per row, the Q8_0 order of
// block_combine.h (as Q4_0): acc = fma(float(sumi), d_w * d_y, acc), block after block — the bits
// of vec_dot_q8_0_q8_0.
constexpr size_t kQ8_0x8RecordBytes = 272;

bool q8_0x8_eligible(const WeightView& w);
size_t q8_0x8_bytes(int64_t n_in, int64_t n_out);
void repack_q8_0x8(const WeightView& w, uint8_t* dst, int64_t g0, int64_t g1);

// As Q4_0x8Kernel (the same per-block activation values, q8_0_block_aux); n_act 1..8.
using Q8_0x8Kernel = void (*)(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row,
                              const Q8BlockAux* aux, size_t aux_row, int n_act, float* out, size_t out_stride);
// The fast kernel (AVX-VNNI), or null when this CPU has none: then Q8_0 stays in rows (the row
// kernels are faster than the scalar one here).
Q8_0x8Kernel q8_0x8_kernel();
Q8_0x8Kernel q8_0x8_kernel_scalar();

// ---- Q4_K, eight rows interleaved ("Q4_Kx8") -------------------------------------------------
// Record per group and super-block (1184 bytes; 8 x 144 in the file, plus the unpacked scales):
//     uint16_t d[8], dmin[8];     the eight rows' f16 scales, row order
//     uint8_t  sc[8][8];          sc[j][r]: row r's 6-bit scale of sub-block j (values 32j..32j+31)
//     uint8_t  mn[4][8][2];       mn[m][r] = row r's mins of sub-blocks 2m and 2m+1
//     uint8_t  qs[4][8][8][4];    qs[c][k][r]: bytes 32c+4k..32c+4k+3 of row r's packed quants
// A packed byte of pair c holds (low nibble) a value of sub-block 2c and (high nibble) the value
// 32 further on, of sub-block 2c+1, so one 32-byte load of qs[c][k] gives, in 32-bit lane r,
// values 4k..4k+3 of sub-blocks 2c (low nibbles) and 2c+1 (high nibbles) of row r: a four-way
// multiply-add against those four activations broadcast adds row r's partial dot to lane r, and
// eight of them make sub-block j's whole dot, one int32 per row, with no horizontal sum.
//
// Arithmetic (block_combine.h, Q4_K): per row and super-block sumi = sum_j sc[j] * dot_j and
// summ = sum_j mn[j] * (bsums[2j] + bsums[2j+1]), exact integers, then acc = fma(d, float(sumi),
// acc), acc = fma(dmin, float(summ), acc), with d = dy * d_x and dmin = -dy * dmin_x: the bits of
// vec_dot_q4_k_q8_k on the unpacked rows, whichever kernel runs.
constexpr size_t kQ4_Kx8RecordBytes = 1184;

bool q4_kx8_eligible(const WeightView& w);
size_t q4_kx8_bytes(int64_t n_in, int64_t n_out);
void repack_q4_kx8(const WeightView& w, uint8_t* dst, int64_t g0, int64_t g1);

// Per Q8_K activation block: its scale and the sums of its 32-value sub-blocks (bsums[2j] +
// bsums[2j+1]; |sum| <= 32 x 128, an int16), the operands of the min term.
struct Q8KBlockAux {
  float d;
  int16_t bsum[8];
};
void q8_k_block_aux(const void* act_row, int64_t nb, Q8KBlockAux* out);

// As Q4_0x8Kernel: out[t * out_stride + r] for r < 8, t < n_act (1..8); act holds Q8_K rows.
using Q4_Kx8Kernel = void (*)(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row,
                              const Q8KBlockAux* aux, size_t aux_row, int n_act, float* out, size_t out_stride);
Q4_Kx8Kernel q4_kx8_kernel();
const char* q4_kx8_kernel_name();
Q4_Kx8Kernel q4_kx8_kernel_scalar();
struct Q4_Kx8KernelEntry {
  const char* name;
  Q4_Kx8Kernel fn;
};
int q4_kx8_kernels_available(Q4_Kx8KernelEntry* out, int max);

// ---- Q6_K, eight rows interleaved ("Q6_Kx8") -------------------------------------------------
// Record per group and super-block (1680 bytes, 8 x 210 as in the file):
//     uint16_t d[8];              the eight rows' f16 scales
//     int8_t   sc[8][8][2];       sc[G][r][e]: row r's scale of 16-value sub-block 2G+e
//     uint8_t  ql[4][8][8][4];    ql[c][k][r]: low 4 bits of values 4k..4k+3 of 32-value groups
//                                 2c (low nibbles) and 2c+1 (high nibbles) of row r
//     uint8_t  qh[2][8][8][4];    qh[h][k][r]: their high 2 bits, group 4h+g at bits 2g..2g+1
// Lane r of a 32-byte load (unpacked) holds four values of row r, as u = q + 32 (0..63) for the
// u8 x s8 multiply-adds; per sub-block j, dot_j = sum u y - 32 x bsums[j] (bsums: the Q8_K
// activation's sums of 16).
// Arithmetic (block_combine.h, Q6_K): sumi = sum_j sc[j] * dot_j exact, acc = fma(dy * d_x,
// float(sumi), acc): vec_dot_q6_k_q8_k's bits. The kernels take the Q4_Kx8 signature (they read
// aux[].d only).
constexpr size_t kQ6_Kx8RecordBytes = 1680;

bool q6_kx8_eligible(const WeightView& w);
size_t q6_kx8_bytes(int64_t n_in, int64_t n_out);
void repack_q6_kx8(const WeightView& w, uint8_t* dst, int64_t g0, int64_t g1);
Q4_Kx8Kernel q6_kx8_kernel();
Q4_Kx8Kernel q6_kx8_kernel_scalar();
int q6_kx8_kernels_available(Q4_Kx8KernelEntry* out, int max);

}  // namespace agora
