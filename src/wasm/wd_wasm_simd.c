/*
 * wd_wasm_simd.c -- the v128 lane operations (Wasm 2.0 SIMD minus memory
 * accesses and v128.const, which the dispatch loop handles itself): one
 * function per opcode, called by the interpreter's handler for it with the
 * frame and the instruction ([op dst srcs... imms...], a v128 operand naming
 * the first of its two slots). Sources are read before dst is written, so dst
 * may alias a source. The lane arithmetic lives in wd_wasm_simd.h.
 */
#include <math.h>
#include "wd_wasm_rt.h"
#include "wd_wasm_simd.h"

#define S(k) fp[ip[k]]
#define U32(k) ((uint32_t)fp[ip[k]])
#define CASE(x) void wd_simd_fn_##x(uint64_t *fp, const uint32_t *ip)
#define NEXT() return
#define VLD(k) wd_vld(&fp[ip[k]])
#define VST(k, v) wd_vst(&fp[ip[k]], (wd_v128)(v))
#define VBIN(OP, T, expr) CASE(WD_OP_##OP) { T a = (T)VLD(2), b = (T)VLD(3); (void)a; (void)b; \
        VST(1, (expr)); NEXT(); }
#define VUN(OP, T, expr) CASE(WD_OP_##OP) { T a = (T)VLD(2); VST(1, (expr)); NEXT(); }
/* compare: the vector extension's result is already all ones / all zeros per lane */
#define VCMP(OP, T, expr) VBIN(OP, T, expr)
#define VTEST(OP, expr) CASE(WD_OP_##OP) { wd_v128 a = VLD(2); S(1) = (uint32_t)(expr); NEXT(); }
/* shifts: count modulo the lane width */
#define VSHIFT(OP, T, bits, opr) CASE(WD_OP_##OP) { T a = (T)VLD(2); int n = (int)(U32(3) & ((bits) - 1)); \
        VST(1, a opr n); NEXT(); }
#define VMINMAX(OP, T, cmp) CASE(WD_OP_##OP) { T a = (T)VLD(2), b = (T)VLD(3); T m = (T)(a cmp b); \
        VST(1, WD_VSEL(m, a, b)); NEXT(); }
/* lanes: extract [op dst v lane], replace [op dst v x lane] */
#define VEXTRACT(OP, T, conv) CASE(WD_OP_##OP) { T lane; \
        memcpy(&lane, (const uint8_t *)&fp[ip[2]] + ip[3] * sizeof(T), sizeof(T)); S(1) = (conv); NEXT(); }
#define VREPLACE(OP, T) CASE(WD_OP_##OP) { uint8_t tmp[16]; T x = (T)S(3); memcpy(tmp, &fp[ip[2]], 16); \
        memcpy(tmp + ip[4] * sizeof(T), &x, sizeof(T)); memcpy(&fp[ip[1]], tmp, 16); NEXT(); }

    CASE(WD_OP_I8X16_SHUFFLE) { VST(1, wd_i8_shuffle(VLD(2), VLD(3), ip + 4)); NEXT(); }
    CASE(WD_OP_I8X16_SWIZZLE) { VST(1, wd_i8_swizzle(VLD(2), VLD(3))); NEXT(); }
    CASE(WD_OP_I8X16_SPLAT) { VST(1, ((wd_u8x16){ 0 } + (uint8_t)S(2))); NEXT(); }
    CASE(WD_OP_I16X8_SPLAT) { VST(1, ((wd_u16x8){ 0 } + (uint16_t)S(2))); NEXT(); }
    CASE(WD_OP_I32X4_SPLAT) { VST(1, ((wd_u32x4){ 0 } + (uint32_t)S(2))); NEXT(); }
    CASE(WD_OP_I64X2_SPLAT) { VST(1, ((wd_u64x2){ 0 } + S(2))); NEXT(); }
    CASE(WD_OP_F32X4_SPLAT) { VST(1, ((wd_u32x4){ 0 } + (uint32_t)S(2))); NEXT(); }
    CASE(WD_OP_F64X2_SPLAT) { VST(1, ((wd_u64x2){ 0 } + S(2))); NEXT(); }

    VEXTRACT(I8X16_EXTRACT_LANE_S, int8_t, (uint32_t)(int32_t)lane)
    VEXTRACT(I8X16_EXTRACT_LANE_U, uint8_t, (uint32_t)lane)
    VEXTRACT(I16X8_EXTRACT_LANE_S, int16_t, (uint32_t)(int32_t)lane)
    VEXTRACT(I16X8_EXTRACT_LANE_U, uint16_t, (uint32_t)lane)
    VEXTRACT(I32X4_EXTRACT_LANE, uint32_t, lane)
    VEXTRACT(I64X2_EXTRACT_LANE, uint64_t, lane)
    VEXTRACT(F32X4_EXTRACT_LANE, uint32_t, lane)
    VEXTRACT(F64X2_EXTRACT_LANE, uint64_t, lane)
    VREPLACE(I8X16_REPLACE_LANE, uint8_t)
    VREPLACE(I16X8_REPLACE_LANE, uint16_t)
    VREPLACE(I32X4_REPLACE_LANE, uint32_t)
    VREPLACE(I64X2_REPLACE_LANE, uint64_t)
    VREPLACE(F32X4_REPLACE_LANE, uint32_t)
    VREPLACE(F64X2_REPLACE_LANE, uint64_t)

    VCMP(I8X16_EQ, wd_i8x16, a == b)
    VCMP(I8X16_NE, wd_i8x16, a != b)
    VCMP(I8X16_LT_S, wd_i8x16, a < b)
    VCMP(I8X16_LT_U, wd_u8x16, a < b)
    VCMP(I8X16_GT_S, wd_i8x16, a > b)
    VCMP(I8X16_GT_U, wd_u8x16, a > b)
    VCMP(I8X16_LE_S, wd_i8x16, a <= b)
    VCMP(I8X16_LE_U, wd_u8x16, a <= b)
    VCMP(I8X16_GE_S, wd_i8x16, a >= b)
    VCMP(I8X16_GE_U, wd_u8x16, a >= b)
    VCMP(I16X8_EQ, wd_i16x8, a == b)
    VCMP(I16X8_NE, wd_i16x8, a != b)
    VCMP(I16X8_LT_S, wd_i16x8, a < b)
    VCMP(I16X8_LT_U, wd_u16x8, a < b)
    VCMP(I16X8_GT_S, wd_i16x8, a > b)
    VCMP(I16X8_GT_U, wd_u16x8, a > b)
    VCMP(I16X8_LE_S, wd_i16x8, a <= b)
    VCMP(I16X8_LE_U, wd_u16x8, a <= b)
    VCMP(I16X8_GE_S, wd_i16x8, a >= b)
    VCMP(I16X8_GE_U, wd_u16x8, a >= b)
    VCMP(I32X4_EQ, wd_i32x4, a == b)
    VCMP(I32X4_NE, wd_i32x4, a != b)
    VCMP(I32X4_LT_S, wd_i32x4, a < b)
    VCMP(I32X4_LT_U, wd_u32x4, a < b)
    VCMP(I32X4_GT_S, wd_i32x4, a > b)
    VCMP(I32X4_GT_U, wd_u32x4, a > b)
    VCMP(I32X4_LE_S, wd_i32x4, a <= b)
    VCMP(I32X4_LE_U, wd_u32x4, a <= b)
    VCMP(I32X4_GE_S, wd_i32x4, a >= b)
    VCMP(I32X4_GE_U, wd_u32x4, a >= b)
    VCMP(I64X2_EQ, wd_i64x2, a == b)
    VCMP(I64X2_NE, wd_i64x2, a != b)
    VCMP(I64X2_LT_S, wd_i64x2, a < b)
    VCMP(I64X2_GT_S, wd_i64x2, a > b)
    VCMP(I64X2_LE_S, wd_i64x2, a <= b)
    VCMP(I64X2_GE_S, wd_i64x2, a >= b)
    VCMP(F32X4_EQ, wd_f32x4, a == b)
    VCMP(F32X4_NE, wd_f32x4, a != b)
    VCMP(F32X4_LT, wd_f32x4, a < b)
    VCMP(F32X4_GT, wd_f32x4, a > b)
    VCMP(F32X4_LE, wd_f32x4, a <= b)
    VCMP(F32X4_GE, wd_f32x4, a >= b)
    VCMP(F64X2_EQ, wd_f64x2, a == b)
    VCMP(F64X2_NE, wd_f64x2, a != b)
    VCMP(F64X2_LT, wd_f64x2, a < b)
    VCMP(F64X2_GT, wd_f64x2, a > b)
    VCMP(F64X2_LE, wd_f64x2, a <= b)
    VCMP(F64X2_GE, wd_f64x2, a >= b)

    VUN(V128_NOT, wd_v128, ~a)
    VBIN(V128_AND, wd_v128, a & b)
    VBIN(V128_ANDNOT, wd_v128, a & ~b)
    VBIN(V128_OR, wd_v128, a | b)
    VBIN(V128_XOR, wd_v128, a ^ b)
    CASE(WD_OP_V128_BITSELECT) { wd_v128 a = VLD(2), b = VLD(3), c = VLD(4); VST(1, WD_VSEL(c, a, b)); NEXT(); }
    VTEST(V128_ANY_TRUE, (a[0] | a[1]) != 0)

    VUN(I8X16_ABS, wd_i8x16, WD_VSEL((wd_i8x16)(a < 0), (wd_i8x16)-(wd_u8x16)a, a))
    VUN(I8X16_NEG, wd_u8x16, -a)
    CASE(WD_OP_I8X16_POPCNT) { VST(1, wd_i8_popcnt(VLD(2))); NEXT(); }
    VTEST(I8X16_ALL_TRUE, wd_i8_bitmask((wd_v128)((wd_i8x16)a == 0)) == 0)
    VTEST(I8X16_BITMASK, wd_i8_bitmask(a))
    CASE(WD_OP_I8X16_NARROW_I16X8_S) { VST(1, wd_i8_narrow_s(VLD(2), VLD(3))); NEXT(); }
    CASE(WD_OP_I8X16_NARROW_I16X8_U) { VST(1, wd_i8_narrow_u(VLD(2), VLD(3))); NEXT(); }
    VSHIFT(I8X16_SHL, wd_u8x16, 8, <<)
    VSHIFT(I8X16_SHR_S, wd_i8x16, 8, >>)
    VSHIFT(I8X16_SHR_U, wd_u8x16, 8, >>)
    VBIN(I8X16_ADD, wd_u8x16, a + b)
    CASE(WD_OP_I8X16_ADD_SAT_S) { VST(1, wd_i8_add_sat_s(VLD(2), VLD(3))); NEXT(); }
    CASE(WD_OP_I8X16_ADD_SAT_U) { VST(1, wd_i8_add_sat_u(VLD(2), VLD(3))); NEXT(); }
    VBIN(I8X16_SUB, wd_u8x16, a - b)
    CASE(WD_OP_I8X16_SUB_SAT_S) { VST(1, wd_i8_sub_sat_s(VLD(2), VLD(3))); NEXT(); }
    CASE(WD_OP_I8X16_SUB_SAT_U) { VST(1, wd_i8_sub_sat_u(VLD(2), VLD(3))); NEXT(); }
    VMINMAX(I8X16_MIN_S, wd_i8x16, <)
    VMINMAX(I8X16_MIN_U, wd_u8x16, <)
    VMINMAX(I8X16_MAX_S, wd_i8x16, >)
    VMINMAX(I8X16_MAX_U, wd_u8x16, >)
    CASE(WD_OP_I8X16_AVGR_U) { VST(1, wd_i8_avgr_u(VLD(2), VLD(3))); NEXT(); }

    CASE(WD_OP_I16X8_EXTADD_PAIRWISE_I8X16_S) { VST(1, wd_i16_extadd_s(VLD(2))); NEXT(); }
    CASE(WD_OP_I16X8_EXTADD_PAIRWISE_I8X16_U) { VST(1, wd_i16_extadd_u(VLD(2))); NEXT(); }
    CASE(WD_OP_I32X4_EXTADD_PAIRWISE_I16X8_S) { VST(1, wd_i32_extadd_s(VLD(2))); NEXT(); }
    CASE(WD_OP_I32X4_EXTADD_PAIRWISE_I16X8_U) { VST(1, wd_i32_extadd_u(VLD(2))); NEXT(); }

    VUN(I16X8_ABS, wd_i16x8, WD_VSEL((wd_i16x8)(a < 0), (wd_i16x8)-(wd_u16x8)a, a))
    VUN(I16X8_NEG, wd_u16x8, -a)
    CASE(WD_OP_I16X8_Q15MULR_SAT_S) { VST(1, wd_i16_q15mulr_sat_s(VLD(2), VLD(3))); NEXT(); }
    VTEST(I16X8_ALL_TRUE, wd_i16_bitmask((wd_v128)((wd_i16x8)a == 0)) == 0)
    VTEST(I16X8_BITMASK, wd_i16_bitmask(a))
    CASE(WD_OP_I16X8_NARROW_I32X4_S) { VST(1, wd_i16_narrow_s(VLD(2), VLD(3))); NEXT(); }
    CASE(WD_OP_I16X8_NARROW_I32X4_U) { VST(1, wd_i16_narrow_u(VLD(2), VLD(3))); NEXT(); }
    CASE(WD_OP_I16X8_EXTEND_LOW_I8X16_S) { VST(1, wd_i16_extend_s(VLD(2), 0)); NEXT(); }
    CASE(WD_OP_I16X8_EXTEND_HIGH_I8X16_S) { VST(1, wd_i16_extend_s(VLD(2), 1)); NEXT(); }
    CASE(WD_OP_I16X8_EXTEND_LOW_I8X16_U) { VST(1, wd_i16_extend_u(VLD(2), 0)); NEXT(); }
    CASE(WD_OP_I16X8_EXTEND_HIGH_I8X16_U) { VST(1, wd_i16_extend_u(VLD(2), 1)); NEXT(); }
    VSHIFT(I16X8_SHL, wd_u16x8, 16, <<)
    VSHIFT(I16X8_SHR_S, wd_i16x8, 16, >>)
    VSHIFT(I16X8_SHR_U, wd_u16x8, 16, >>)
    VBIN(I16X8_ADD, wd_u16x8, a + b)
    CASE(WD_OP_I16X8_ADD_SAT_S) { VST(1, wd_i16_add_sat_s(VLD(2), VLD(3))); NEXT(); }
    CASE(WD_OP_I16X8_ADD_SAT_U) { VST(1, wd_i16_add_sat_u(VLD(2), VLD(3))); NEXT(); }
    VBIN(I16X8_SUB, wd_u16x8, a - b)
    CASE(WD_OP_I16X8_SUB_SAT_S) { VST(1, wd_i16_sub_sat_s(VLD(2), VLD(3))); NEXT(); }
    CASE(WD_OP_I16X8_SUB_SAT_U) { VST(1, wd_i16_sub_sat_u(VLD(2), VLD(3))); NEXT(); }
    VBIN(I16X8_MUL, wd_u16x8, a * b)
    VMINMAX(I16X8_MIN_S, wd_i16x8, <)
    VMINMAX(I16X8_MIN_U, wd_u16x8, <)
    VMINMAX(I16X8_MAX_S, wd_i16x8, >)
    VMINMAX(I16X8_MAX_U, wd_u16x8, >)
    CASE(WD_OP_I16X8_AVGR_U) { VST(1, wd_i16_avgr_u(VLD(2), VLD(3))); NEXT(); }
    CASE(WD_OP_I16X8_EXTMUL_LOW_I8X16_S) { VST(1, wd_i16_extmul_s(VLD(2), VLD(3), 0)); NEXT(); }
    CASE(WD_OP_I16X8_EXTMUL_HIGH_I8X16_S) { VST(1, wd_i16_extmul_s(VLD(2), VLD(3), 1)); NEXT(); }
    CASE(WD_OP_I16X8_EXTMUL_LOW_I8X16_U) { VST(1, wd_i16_extmul_u(VLD(2), VLD(3), 0)); NEXT(); }
    CASE(WD_OP_I16X8_EXTMUL_HIGH_I8X16_U) { VST(1, wd_i16_extmul_u(VLD(2), VLD(3), 1)); NEXT(); }

    VUN(I32X4_ABS, wd_i32x4, WD_VSEL((wd_i32x4)(a < 0), (wd_i32x4)-(wd_u32x4)a, a))
    VUN(I32X4_NEG, wd_u32x4, -a)
    VTEST(I32X4_ALL_TRUE, wd_i32_bitmask((wd_v128)((wd_i32x4)a == 0)) == 0)
    VTEST(I32X4_BITMASK, wd_i32_bitmask(a))
    CASE(WD_OP_I32X4_EXTEND_LOW_I16X8_S) { VST(1, wd_i32_extend_s(VLD(2), 0)); NEXT(); }
    CASE(WD_OP_I32X4_EXTEND_HIGH_I16X8_S) { VST(1, wd_i32_extend_s(VLD(2), 1)); NEXT(); }
    CASE(WD_OP_I32X4_EXTEND_LOW_I16X8_U) { VST(1, wd_i32_extend_u(VLD(2), 0)); NEXT(); }
    CASE(WD_OP_I32X4_EXTEND_HIGH_I16X8_U) { VST(1, wd_i32_extend_u(VLD(2), 1)); NEXT(); }
    VSHIFT(I32X4_SHL, wd_u32x4, 32, <<)
    VSHIFT(I32X4_SHR_S, wd_i32x4, 32, >>)
    VSHIFT(I32X4_SHR_U, wd_u32x4, 32, >>)
    VBIN(I32X4_ADD, wd_u32x4, a + b)
    VBIN(I32X4_SUB, wd_u32x4, a - b)
    VBIN(I32X4_MUL, wd_u32x4, a * b)
    VMINMAX(I32X4_MIN_S, wd_i32x4, <)
    VMINMAX(I32X4_MIN_U, wd_u32x4, <)
    VMINMAX(I32X4_MAX_S, wd_i32x4, >)
    VMINMAX(I32X4_MAX_U, wd_u32x4, >)
    CASE(WD_OP_I32X4_DOT_I16X8_S) { VST(1, wd_i32_dot_s(VLD(2), VLD(3))); NEXT(); }
    CASE(WD_OP_I32X4_EXTMUL_LOW_I16X8_S) { VST(1, wd_i32_extmul_s(VLD(2), VLD(3), 0)); NEXT(); }
    CASE(WD_OP_I32X4_EXTMUL_HIGH_I16X8_S) { VST(1, wd_i32_extmul_s(VLD(2), VLD(3), 1)); NEXT(); }
    CASE(WD_OP_I32X4_EXTMUL_LOW_I16X8_U) { VST(1, wd_i32_extmul_u(VLD(2), VLD(3), 0)); NEXT(); }
    CASE(WD_OP_I32X4_EXTMUL_HIGH_I16X8_U) { VST(1, wd_i32_extmul_u(VLD(2), VLD(3), 1)); NEXT(); }

    VUN(I64X2_ABS, wd_i64x2, WD_VSEL((wd_i64x2)(a < 0), (wd_i64x2)-(wd_u64x2)a, a))
    VUN(I64X2_NEG, wd_u64x2, -a)
    VTEST(I64X2_ALL_TRUE, a[0] != 0 && a[1] != 0)
    VTEST(I64X2_BITMASK, wd_i64_bitmask(a))
    CASE(WD_OP_I64X2_EXTEND_LOW_I32X4_S) { VST(1, wd_i64_extend_s(VLD(2), 0)); NEXT(); }
    CASE(WD_OP_I64X2_EXTEND_HIGH_I32X4_S) { VST(1, wd_i64_extend_s(VLD(2), 1)); NEXT(); }
    CASE(WD_OP_I64X2_EXTEND_LOW_I32X4_U) { VST(1, wd_i64_extend_u(VLD(2), 0)); NEXT(); }
    CASE(WD_OP_I64X2_EXTEND_HIGH_I32X4_U) { VST(1, wd_i64_extend_u(VLD(2), 1)); NEXT(); }
    VSHIFT(I64X2_SHL, wd_u64x2, 64, <<)
    VSHIFT(I64X2_SHR_S, wd_i64x2, 64, >>)
    VSHIFT(I64X2_SHR_U, wd_u64x2, 64, >>)
    VBIN(I64X2_ADD, wd_u64x2, a + b)
    VBIN(I64X2_SUB, wd_u64x2, a - b)
    VBIN(I64X2_MUL, wd_u64x2, a * b)
    CASE(WD_OP_I64X2_EXTMUL_LOW_I32X4_S) { VST(1, wd_i64_extmul_s(VLD(2), VLD(3), 0)); NEXT(); }
    CASE(WD_OP_I64X2_EXTMUL_HIGH_I32X4_S) { VST(1, wd_i64_extmul_s(VLD(2), VLD(3), 1)); NEXT(); }
    CASE(WD_OP_I64X2_EXTMUL_LOW_I32X4_U) { VST(1, wd_i64_extmul_u(VLD(2), VLD(3), 0)); NEXT(); }
    CASE(WD_OP_I64X2_EXTMUL_HIGH_I32X4_U) { VST(1, wd_i64_extmul_u(VLD(2), VLD(3), 1)); NEXT(); }

    /* floats: abs/neg by sign bit; IEEE add/sub/mul/div/sqrt as the hardware does them
     * (the same NaN rules as the scalar operators); min/max/rounding lane by lane */
    VUN(F32X4_ABS, wd_u32x4, a & 0x7fffffffu)
    VUN(F32X4_NEG, wd_u32x4, a ^ 0x80000000u)
    CASE(WD_OP_F32X4_SQRT) { wd_f32x4 a = (wd_f32x4)VLD(2);
        VST(1, ((wd_f32x4){ sqrtf(a[0]), sqrtf(a[1]), sqrtf(a[2]), sqrtf(a[3]) })); NEXT(); }
    VBIN(F32X4_ADD, wd_f32x4, a + b)
    VBIN(F32X4_SUB, wd_f32x4, a - b)
    VBIN(F32X4_MUL, wd_f32x4, a * b)
    VBIN(F32X4_DIV, wd_f32x4, a / b)
    CASE(WD_OP_F32X4_MIN) { VST(1, wd_f32x4_min(VLD(2), VLD(3))); NEXT(); }
    CASE(WD_OP_F32X4_MAX) { VST(1, wd_f32x4_max(VLD(2), VLD(3))); NEXT(); }
    CASE(WD_OP_F32X4_PMIN) { wd_f32x4 a = (wd_f32x4)VLD(2), b = (wd_f32x4)VLD(3);
        wd_i32x4 m = b < a; VST(1, WD_VSEL(m, (wd_i32x4)b, (wd_i32x4)a)); NEXT(); }
    CASE(WD_OP_F32X4_PMAX) { wd_f32x4 a = (wd_f32x4)VLD(2), b = (wd_f32x4)VLD(3);
        wd_i32x4 m = a < b; VST(1, WD_VSEL(m, (wd_i32x4)b, (wd_i32x4)a)); NEXT(); }
    CASE(WD_OP_F32X4_CEIL) { VST(1, wd_f32x4_ceil(VLD(2))); NEXT(); }
    CASE(WD_OP_F32X4_FLOOR) { VST(1, wd_f32x4_floor(VLD(2))); NEXT(); }
    CASE(WD_OP_F32X4_TRUNC) { VST(1, wd_f32x4_trunc(VLD(2))); NEXT(); }
    CASE(WD_OP_F32X4_NEAREST) { VST(1, wd_f32x4_nearest(VLD(2))); NEXT(); }
    VUN(F64X2_ABS, wd_u64x2, a & 0x7fffffffffffffffull)
    VUN(F64X2_NEG, wd_u64x2, a ^ 0x8000000000000000ull)
    CASE(WD_OP_F64X2_SQRT) { wd_f64x2 a = (wd_f64x2)VLD(2);
        VST(1, ((wd_f64x2){ sqrt(a[0]), sqrt(a[1]) })); NEXT(); }
    VBIN(F64X2_ADD, wd_f64x2, a + b)
    VBIN(F64X2_SUB, wd_f64x2, a - b)
    VBIN(F64X2_MUL, wd_f64x2, a * b)
    VBIN(F64X2_DIV, wd_f64x2, a / b)
    CASE(WD_OP_F64X2_MIN) { VST(1, wd_f64x2_min(VLD(2), VLD(3))); NEXT(); }
    CASE(WD_OP_F64X2_MAX) { VST(1, wd_f64x2_max(VLD(2), VLD(3))); NEXT(); }
    CASE(WD_OP_F64X2_PMIN) { wd_f64x2 a = (wd_f64x2)VLD(2), b = (wd_f64x2)VLD(3);
        wd_i64x2 m = b < a; VST(1, WD_VSEL(m, (wd_i64x2)b, (wd_i64x2)a)); NEXT(); }
    CASE(WD_OP_F64X2_PMAX) { wd_f64x2 a = (wd_f64x2)VLD(2), b = (wd_f64x2)VLD(3);
        wd_i64x2 m = a < b; VST(1, WD_VSEL(m, (wd_i64x2)b, (wd_i64x2)a)); NEXT(); }
    CASE(WD_OP_F64X2_CEIL) { VST(1, wd_f64x2_ceil(VLD(2))); NEXT(); }
    CASE(WD_OP_F64X2_FLOOR) { VST(1, wd_f64x2_floor(VLD(2))); NEXT(); }
    CASE(WD_OP_F64X2_TRUNC) { VST(1, wd_f64x2_trunc(VLD(2))); NEXT(); }
    CASE(WD_OP_F64X2_NEAREST) { VST(1, wd_f64x2_nearest(VLD(2))); NEXT(); }

    CASE(WD_OP_I32X4_TRUNC_SAT_F32X4_S) { VST(1, wd_i32x4_trunc_sat_f32x4_s(VLD(2))); NEXT(); }
    CASE(WD_OP_I32X4_TRUNC_SAT_F32X4_U) { VST(1, wd_i32x4_trunc_sat_f32x4_u(VLD(2))); NEXT(); }
    CASE(WD_OP_F32X4_CONVERT_I32X4_S) { VST(1, wd_f32x4_convert_i32x4(VLD(2), 0)); NEXT(); }
    CASE(WD_OP_F32X4_CONVERT_I32X4_U) { VST(1, wd_f32x4_convert_i32x4(VLD(2), 1)); NEXT(); }
    CASE(WD_OP_I32X4_TRUNC_SAT_F64X2_S_ZERO) { VST(1, wd_i32x4_trunc_sat_f64x2_zero(VLD(2), 0)); NEXT(); }
    CASE(WD_OP_I32X4_TRUNC_SAT_F64X2_U_ZERO) { VST(1, wd_i32x4_trunc_sat_f64x2_zero(VLD(2), 1)); NEXT(); }
    CASE(WD_OP_F64X2_CONVERT_LOW_I32X4_S) { VST(1, wd_f64x2_convert_low_i32x4(VLD(2), 0)); NEXT(); }
    CASE(WD_OP_F64X2_CONVERT_LOW_I32X4_U) { VST(1, wd_f64x2_convert_low_i32x4(VLD(2), 1)); NEXT(); }
    CASE(WD_OP_F32X4_DEMOTE_F64X2_ZERO) { VST(1, wd_f32x4_demote_f64x2_zero(VLD(2))); NEXT(); }
    CASE(WD_OP_F64X2_PROMOTE_LOW_F32X4) { VST(1, wd_f64x2_promote_low_f32x4(VLD(2))); NEXT(); }

