// The AMX-INT8 kernel for repacked Q4_0 (amx.h). This file alone is compiled with -mamx-tile
// -mamx-int8 -mavx512f (CMakeLists.txt); nothing here runs unless amx_available() said yes (every
// AMX CPU has AVX-512F, which the float steps use).

// No fused multiply-add unless written as one (see block_combine.h).
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "engine/kernels/amx.h"

#include <algorithm>
#include <cstdlib>
#include <new>
#include <cstring>
#include <vector>

#include "engine/kernels/matmul.h"
#include "engine/kernels/repacked.h"
#include "engine/kernels/thread_pool.h"
#include "engine/tensor/quant_blocks.h"

#if !defined(AGORA_PORTABLE) && defined(__linux__) && defined(__AMX_TILE__) && defined(__AMX_INT8__) && \
    defined(__AVX512F__) && defined(__AVX512VNNI__) && defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define AGORA_AMX 1
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace agora {

bool amx_q4_0x8_eligible(const WeightView& w) {
  return (w.layout == WeightLayout::q4_0x8 || w.layout == WeightLayout::q8_0x8) && w.n_out % 16 == 0 &&
         w.n_in % QK8_0 == 0;
}

bool amx_q4_kx8_eligible(const WeightView& w) {
  return w.layout == WeightLayout::q4_kx8 && w.n_out % 16 == 0 && w.n_in % QK_K == 0;
}

#ifdef AGORA_AMX
namespace {

bool detect_amx() {
  if (const char* e = std::getenv("AGORA_NO_AMX"); e && *e && std::strcmp(e, "0") != 0) return false;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return false;  // OSXSAVE
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  if (!(d & (1u << 24)) || !(d & (1u << 25))) return false;  // AMX-TILE, AMX-INT8
  if (!(b & (1u << 16))) return false;                        // AVX-512F (the float steps)
  if (!(c & (1u << 11))) return false;                        // AVX-512 VNNI (the Q4_K min sums)
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  if ((lo & 0xE6u) != 0xE6u) return false;             // XMM, YMM, opmask and ZMM state enabled by the OS
  if ((lo & (3u << 17)) != (3u << 17)) return false;  // XTILECFG, XTILEDATA
  // Linux hands out the (8 KiB) tile data state only to processes that ask for it.
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

// 64-byte aligned storage for the unpacked tiles (tile loads and 512-bit loads).
template <typename T>
struct AlignedAlloc {
  using value_type = T;
  AlignedAlloc() = default;
  template <typename U>
  AlignedAlloc(const AlignedAlloc<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(64))); }
  void deallocate(T* p, size_t) { ::operator delete(p, std::align_val_t(64)); }
  bool operator==(const AlignedAlloc&) const { return true; }
};

// The LDTILECFG operand (palette 1).
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

// Two sets of three tiles, used by alternate blocks so that one block's loads and multiply
// overlap the other's: A (0, 3), activations, m tokens x 32 bytes; B (1, 4), weights, 8 rows of
// 4-byte groups x 16 weight rows = 64 bytes; C (2, 5), int32 dots, m tokens x 16 rows.
void configure(int m) {
  TileConfig cfg;
  for (int set = 0; set < 2; ++set) {
    const int a = 3 * set;
    cfg.rows[a] = static_cast<uint8_t>(m);
    cfg.colsb[a] = 32;
    cfg.rows[a + 1] = 8;
    cfg.colsb[a + 1] = 64;
    cfg.rows[a + 2] = static_cast<uint8_t>(m);
    cfg.colsb[a + 2] = 64;
  }
  _tile_loadconfig(&cfg);
}

// B for one block of two groups (16 weight rows): row q of the tile holds, for each weight row n,
// its values 4q..4q+3 as int8 (nibble - 8). Chunk c of a Q4_0x8 record is exactly that layout for
// eight rows: low nibbles are values 4c..4c+3 (tile row c), high nibbles 16+4c.. (tile row 4+c).
inline void unpack_b(const uint8_t* rec0, const uint8_t* rec1, int8_t* bt) {
  const __m256i m4 = _mm256_set1_epi8(0x0F), eight = _mm256_set1_epi8(8);
  for (int c = 0; c < 4; ++c) {
    const uint8_t* src[2] = {rec0, rec1};
    for (int g = 0; g < 2; ++g) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src[g] + 16 + 32 * c));
      const __m256i lo = _mm256_sub_epi8(_mm256_and_si256(v, m4), eight);
      const __m256i hi = _mm256_sub_epi8(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4), eight);
      _mm256_store_si256(reinterpret_cast<__m256i*>(bt + 64 * c + 32 * g), lo);
      _mm256_store_si256(reinterpret_cast<__m256i*>(bt + 64 * (4 + c) + 32 * g), hi);
    }
  }
}

// acc[r] = fma(float(c[r]), dx * dy_r, acc[r]) for the tile's tokens r in [r0, m): the Q4_0 float
// step, sixteen rows per 512-bit register.
inline void combine(__m512* acc, const int32_t* c, __m512 dx, const Q8BlockAux* aux, int64_t nb, int64_t i, int r0,
                    int m) {
  for (int r = 0; r < 16; ++r) {
    if (r < r0 || r >= m) continue;
    const __m512 s = _mm512_cvtepi32_ps(_mm512_load_si512(c + 16 * r));
    acc[r] = _mm512_fmadd_ps(s, _mm512_mul_ps(dx, _mm512_set1_ps(aux[r * nb + i].d)), acc[r]);
  }
}

// The activations as A tiles, gathered once per product into the calling thread's buffer:
// for token tile k (first token min(16 k, n_tok - m)), block i and 32-value piece j of it (one
// for Q8_0 blocks, eight for Q8_K's 256 values), the m tokens' quants contiguous at
// tiles[((k * nb + i) * kPieces + j) * 512 + 32 r]. Returns the buffer (a pointer, for the
// workers: inside their lambdas a thread_local would name each worker's own).
template <class Block, int kPieces>
const int8_t* gather_a(const uint8_t* act, size_t act_row, int64_t n_tok, int64_t nb) {
  thread_local std::vector<int8_t, AlignedAlloc<int8_t>> buf;
  const size_t need = static_cast<size_t>((n_tok + 15) / 16 * nb * kPieces * 512);
  if (buf.size() < need) buf.resize(need);
  int8_t* const tiles = buf.data();
  const int64_t m = std::min<int64_t>(16, n_tok);
  for (int64_t k = 0; k * 16 < n_tok; ++k) {
    const int64_t base = std::min<int64_t>(16 * k, n_tok - m);
    for (int64_t r = 0; r < m; ++r) {
      const auto* yb = reinterpret_cast<const Block*>(act + static_cast<size_t>(base + r) * act_row);
      for (int64_t i = 0; i < nb; ++i)
        for (int j = 0; j < kPieces; ++j)
          _mm256_store_si256(reinterpret_cast<__m256i*>(tiles + ((k * nb + i) * kPieces + j) * 512 + 32 * r),
                             _mm256_loadu_si256(reinterpret_cast<const __m256i*>(yb[i].qs + 32 * j)));
    }
  }
  return tiles;
}

// B for one block of a Q8_0x8 pair of groups: chunk c (values 4c..4c+3 of eight rows, stored
// q + 128) is tile row c once its bytes are flipped back to signed.
inline void unpack_b_q8(const uint8_t* rec0, const uint8_t* rec1, int8_t* bt) {
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  for (int c = 0; c < 8; ++c) {
    const uint8_t* src[2] = {rec0, rec1};
    for (int g = 0; g < 2; ++g) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src[g] + 16 + 32 * c));
      _mm256_store_si256(reinterpret_cast<__m256i*>(bt + 64 * c + 32 * g), _mm256_xor_si256(v, flip));
    }
  }
}

// Row blocks [rb0, rb1) (16 rows each) against all n_tok tokens (A tiles from gather_a), for a
// layout whose records start with the eight rows' f16 scales (Q4_0x8, Q8_0x8).
template <size_t kRecordBytes, void (*Unpack)(const uint8_t*, const uint8_t*, int8_t*)>
void run_rows(const WeightView& w, const int8_t* atiles, const Q8BlockAux* aux, int64_t n_tok, float* y, int64_t rb0,
              int64_t rb1) {
  const int64_t nb = w.n_in / QK8_0, n_out = w.n_out;
  const size_t group_bytes = static_cast<size_t>(nb) * kRecordBytes;
  const auto* wd = static_cast<const uint8_t*>(w.data);
  // Tiles of 16 tokens; the last one ends at n_tok (overlapping the one before it, whose tokens
  // it does not add again). Fewer than 16 tokens: one tile of all of them.
  const int m = static_cast<int>(std::min<int64_t>(16, n_tok));
  // The row block's weights as B tiles and its row scales, unpacked once for all token tiles.
  thread_local std::vector<int8_t, AlignedAlloc<int8_t>> bstore;
  thread_local std::vector<float, AlignedAlloc<float>> dxstore;
  if (bstore.size() < static_cast<size_t>(nb * 512)) bstore.resize(static_cast<size_t>(nb * 512));
  if (dxstore.size() < static_cast<size_t>(nb * 16)) dxstore.resize(static_cast<size_t>(nb * 16));
  int8_t* const bbuf = bstore.data();  // plain pointers: no thread_local lookups in the loops
  float* const dxbuf = dxstore.data();
  alignas(64) int32_t cbuf[2][16 * 16];
  configure(m);
  for (int64_t rb = rb0; rb < rb1; ++rb) {
    const uint8_t* g0 = wd + static_cast<size_t>(2 * rb) * group_bytes;
    const uint8_t* g1 = g0 + group_bytes;
    for (int64_t i = 0; i < nb; ++i) {
      const uint8_t* rec0 = g0 + static_cast<size_t>(i) * kRecordBytes;
      const uint8_t* rec1 = g1 + static_cast<size_t>(i) * kRecordBytes;
      _mm_prefetch(reinterpret_cast<const char*>(rec0 + 8 * kRecordBytes), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(rec1 + 8 * kRecordBytes), _MM_HINT_T0);
      Unpack(rec0, rec1, bbuf + i * 512);
      _mm256_store_ps(dxbuf + i * 16, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rec0))));
      _mm256_store_ps(dxbuf + i * 16 + 8, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rec1))));
    }
    for (int64_t t0 = 0; t0 < n_tok; t0 += 16) {
      const int64_t base = std::min<int64_t>(t0, n_tok - m);  // the tile's first token
      const int r0 = static_cast<int>(t0 - base);              // tokens before it belong to the previous tile
      const int8_t* a = atiles + (t0 / 16) * nb * 512;
      const Q8BlockAux* ta = aux + base * nb;
      __m512 acc[16];
      for (auto& v : acc) v = _mm512_setzero_ps();
      // Block i runs on tile set i % 2; its dots are combined one block later.
      for (int64_t i = 0; i < nb; ++i) {
        const int8_t* b = bbuf + i * 512;
        const int8_t* ai = a + i * 512;
        if (i & 1) {
          _tile_loadd(4, b, 64);
          _tile_loadd(3, ai, 32);
          _tile_zero(5);
          _tile_dpbssd(5, 3, 4);
        } else {
          _tile_loadd(1, b, 64);
          _tile_loadd(0, ai, 32);
          _tile_zero(2);
          _tile_dpbssd(2, 0, 1);
        }
        if (i > 0) combine(acc, cbuf[(i - 1) & 1], _mm512_load_ps(dxbuf + (i - 1) * 16), ta, nb, i - 1, r0, m);
        if (i & 1) _tile_stored(5, cbuf[1], 64);
        else _tile_stored(2, cbuf[0], 64);
      }
      combine(acc, cbuf[(nb - 1) & 1], _mm512_load_ps(dxbuf + (nb - 1) * 16), ta, nb, nb - 1, r0, m);
      for (int r = 0; r < 16; ++r)
        if (r >= r0 && r < m) _mm512_storeu_ps(y + (base + r) * n_out + rb * 16, acc[r]);
    }
  }
  _tile_release();
}

// ---- Q4_Kx8 ----------------------------------------------------------------------------------
// Per super-block i and sub-block j (32 values), one tile multiply-add gives the 16 x 16 exact dots
// dot_j; the Q4_K contract (block_combine.h) then needs, per token and row, the exact integers
// sumi = sum_j sc[j] dot_j and summ = sum_j mn[j] bsum_j and two fused multiply-adds.

// Record offsets of a Q4_Kx8 record (repacked.h).
constexpr size_t kK4Dmin = 16, kK4Sc = 32, kK4Mn = 96, kK4Qs = 160;


// One row block's weights, unpacked once for every token tile: B tiles (sub-block j = 2c + h of
// super-block i: tile row k holds, per weight row, nibble h of bytes 4k..4k+3 of pair c), and the
// rows' scales, mins (as int32, 16 rows) and float scales.
struct RowBlockK {
  std::vector<int8_t, AlignedAlloc<int8_t>> b;
  std::vector<int32_t, AlignedAlloc<int32_t>> sc;
  // mins as int16 pairs: mn[(i * 4 + p) * 32 + 2 n + h] = row n's min of sub-block 2p + h, so that
  // one vpdpwssd against (bsum_2p, bsum_2p+1) adds two sub-blocks' min products per row.
  std::vector<int16_t, AlignedAlloc<int16_t>> mn;
  std::vector<float, AlignedAlloc<float>> d, dmin;
  void unpack(const uint8_t* g0, const uint8_t* g1, int64_t nbk) {
    if (b.size() < static_cast<size_t>(nbk * 8 * 512)) {
      b.resize(static_cast<size_t>(nbk * 8 * 512));
      sc.resize(static_cast<size_t>(nbk * 8 * 16));
      mn.resize(static_cast<size_t>(nbk * 4 * 32));
      d.resize(static_cast<size_t>(nbk * 16));
      dmin.resize(static_cast<size_t>(nbk * 16));
    }
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int64_t i = 0; i < nbk; ++i) {
      const uint8_t* rec[2] = {g0 + static_cast<size_t>(i) * kQ4_Kx8RecordBytes, g1 + static_cast<size_t>(i) * kQ4_Kx8RecordBytes};
      for (int g = 0; g < 2; ++g) {
        for (int c = 0; c < 4; ++c)
          for (int k = 0; k < 8; ++k) {
            const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rec[g] + kK4Qs + 256 * c + 32 * k));
            int8_t* lo = b.data() + ((i * 8 + 2 * c) * 8 + k) * 64 + 32 * g;
            int8_t* hi = b.data() + ((i * 8 + 2 * c + 1) * 8 + k) * 64 + 32 * g;
            _mm256_store_si256(reinterpret_cast<__m256i*>(lo), _mm256_and_si256(v, m4));
            _mm256_store_si256(reinterpret_cast<__m256i*>(hi), _mm256_and_si256(_mm256_srli_epi16(v, 4), m4));
          }
        for (int j = 0; j < 8; ++j)
          for (int r = 0; r < 8; ++r) {
            sc[static_cast<size_t>((i * 8 + j) * 16 + 8 * g + r)] = rec[g][kK4Sc + 8 * j + r];
            mn[static_cast<size_t>((i * 4 + j / 2) * 32 + 2 * (8 * g + r) + (j & 1))] =
                rec[g][kK4Mn + 16 * (j / 2) + 2 * r + (j & 1)];
          }
        _mm256_store_ps(d.data() + i * 16 + 8 * g, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rec[g]))));
        _mm256_store_ps(dmin.data() + i * 16 + 8 * g,
                        _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rec[g] + kK4Dmin))));
      }
    }
  }
};

// The Q4_K step of super-block i for the tile's tokens r in [r0, m): cd[j] holds sub-block j's
// dots (token r at 16 r).
struct RowBlockKView {
  const int32_t* sc;
  const int16_t* mn;
  const float *d, *dmin;
};

inline void combine_k(__m512* acc, const int32_t (*cd)[256], const RowBlockKView& rbk, const Q8KBlockAux* aux,
                      int64_t nbk, int64_t i, int r0, int m) {
  __m512i sc[8], mn[4];
  for (int j = 0; j < 8; ++j) sc[j] = _mm512_load_si512(rbk.sc + (i * 8 + j) * 16);
  for (int q = 0; q < 4; ++q) mn[q] = _mm512_load_si512(rbk.mn + (i * 4 + q) * 32);
  const __m512 dx = _mm512_load_ps(rbk.d + i * 16), mx = _mm512_load_ps(rbk.dmin + i * 16);
  for (int r = 0; r < 16; ++r) {
    if (r < r0 || r >= m) continue;
    const Q8KBlockAux& a = aux[r * nbk + i];
    __m512i sumi = _mm512_setzero_si512(), summ = _mm512_setzero_si512();
    for (int j = 0; j < 8; ++j) sumi = _mm512_add_epi32(sumi, _mm512_mullo_epi32(sc[j], _mm512_load_si512(cd[j] + 16 * r)));
    int32_t pairs[4];
    std::memcpy(pairs, a.bsum, sizeof(pairs));  // (bsum_2q, bsum_2q+1) as one int32
    for (int q = 0; q < 4; ++q) summ = _mm512_dpwssd_epi32(summ, mn[q], _mm512_set1_epi32(pairs[q]));
    const __m512 d = _mm512_mul_ps(_mm512_set1_ps(a.d), dx);
    const __m512 dmin = _mm512_mul_ps(_mm512_set1_ps(-a.d), mx);
    acc[r] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(sumi), acc[r]);
    acc[r] = _mm512_fmadd_ps(dmin, _mm512_cvtepi32_ps(summ), acc[r]);
  }
}

void run_rows_k(const WeightView& w, const int8_t* atiles, const Q8KBlockAux* aux, int64_t n_tok, float* y,
                int64_t rb0, int64_t rb1) {
  const int64_t nbk = w.n_in / QK_K, n_out = w.n_out;
  const size_t group_bytes = static_cast<size_t>(nbk) * kQ4_Kx8RecordBytes;
  const auto* wd = static_cast<const uint8_t*>(w.data);
  const int m = static_cast<int>(std::min<int64_t>(16, n_tok));
  thread_local RowBlockK rbk_store;
  RowBlockK& rbk = rbk_store;
  alignas(64) int32_t cbuf[2][8][256];
  configure(m);
  for (int64_t rb = rb0; rb < rb1; ++rb) {
    const uint8_t* g0 = wd + static_cast<size_t>(2 * rb) * group_bytes;
    rbk.unpack(g0, g0 + group_bytes, nbk);
    const RowBlockKView view{rbk.sc.data(), rbk.mn.data(), rbk.d.data(), rbk.dmin.data()};
    const int8_t* bdata = rbk.b.data();
    for (int64_t t0 = 0; t0 < n_tok; t0 += 16) {
      const int64_t base = std::min<int64_t>(t0, n_tok - m);
      const int r0 = static_cast<int>(t0 - base);
      const int8_t* a = atiles + (t0 / 16) * nbk * 8 * 512;
      const Q8KBlockAux* ta = aux + base * nbk;
      __m512 acc[16];
      for (auto& v : acc) v = _mm512_setzero_ps();
      // Super-block i's eight dots go to cbuf[i % 2] (sub-blocks alternate between the tile sets);
      // they are combined while super-block i + 1 multiplies.
      for (int64_t i = 0; i < nbk; ++i) {
        for (int j = 0; j < 8; ++j) {
          const int8_t* bj = bdata + (i * 8 + j) * 512;
          const int8_t* aj = a + (i * 8 + j) * 512;
          int32_t* cj = cbuf[i & 1][j];
          if (j & 1) {
            _tile_loadd(4, bj, 64);
            _tile_loadd(3, aj, 32);
            _tile_zero(5);
            _tile_dpbssd(5, 3, 4);
            _tile_stored(5, cj, 64);
          } else {
            _tile_loadd(1, bj, 64);
            _tile_loadd(0, aj, 32);
            _tile_zero(2);
            _tile_dpbssd(2, 0, 1);
            _tile_stored(2, cj, 64);
          }
        }
        if (i > 0) combine_k(acc, cbuf[(i - 1) & 1], view, ta, nbk, i - 1, r0, m);
      }
      combine_k(acc, cbuf[(nbk - 1) & 1], view, ta, nbk, nbk - 1, r0, m);
      for (int r = 0; r < 16; ++r)
        if (r >= r0 && r < m) _mm512_storeu_ps(y + (base + r) * n_out + rb * 16, acc[r]);
    }
  }
  _tile_release();
}

}  // namespace

bool amx_available() {
  static const bool ok = detect_amx();
  return ok;
}

void matmul_q4_0x8_amx(const WeightView& w, const uint8_t* act, size_t act_row, const Q8BlockAux* aux,
                       int64_t n_tok, float* y, ThreadPool& pool) {
  const int8_t* const tiles = gather_a<BlockQ8_0, 1>(act, act_row, n_tok, w.n_in / QK8_0);
  if (w.layout == WeightLayout::q8_0x8)
    pool.parallel_for(w.n_out / 16, [&](int64_t b, int64_t e) {
      run_rows<kQ8_0x8RecordBytes, unpack_b_q8>(w, tiles, aux, n_tok, y, b, e);
    });
  else
    pool.parallel_for(w.n_out / 16, [&](int64_t b, int64_t e) {
      run_rows<kQ4_0x8RecordBytes, unpack_b>(w, tiles, aux, n_tok, y, b, e);
    });
}

void matmul_q4_kx8_amx(const WeightView& w, const uint8_t* act, size_t act_row, const Q8KBlockAux* aux,
                       int64_t n_tok, float* y, ThreadPool& pool) {
  const int8_t* const tiles = gather_a<BlockQ8_K, 8>(act, act_row, n_tok, w.n_in / QK_K);
  pool.parallel_for(w.n_out / 16, [&](int64_t b, int64_t e) { run_rows_k(w, tiles, aux, n_tok, y, b, e); });
}

#else

bool amx_available() { return false; }

void matmul_q4_kx8_amx(const WeightView&, const uint8_t*, size_t, const Q8KBlockAux*, int64_t, float*, ThreadPool&) {
  std::abort();  // callers check amx_available()
}

void matmul_q4_0x8_amx(const WeightView&, const uint8_t*, size_t, const Q8BlockAux*, int64_t, float*, ThreadPool&) {
  std::abort();  // callers check amx_available()
}

#endif

}  // namespace agora
