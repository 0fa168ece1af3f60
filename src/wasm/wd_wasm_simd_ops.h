/*
 * wd_wasm_simd_ops.h -- the interpreter's v128 handlers, included inside the
 * dispatch loop of wd_wasm_interp.c (they use its CASE/NEXT/TRAP macros and
 * locals). Operand layout as for every plain operator: [op dst srcs... imms...];
 * a v128 operand names the first of its two slots. Here: memory accesses,
 * v128.const and the engine's v128 moves; the lane operations are functions in
 * wd_wasm_simd.c, one call per instruction.
 *
 * Memory: ea = addr + offset in 64 bits against the cached size (or the guard
 * pages); stores mark the dirty map like the scalar stores.
 */

#define VLD(k) wd_vld(&fp[ip[k]])
#define VST(k, v) wd_vst(&fp[ip[k]], (wd_v128)(v))
/* v128 loads: [op dst addr offset] */
#define VLOADBODY(w, body) \
        if (OOB_CHECK(ea, (w))) TRAP(WD_TRAP_OOB_MEMORY); \
        { const uint8_t *src = mem_base + ea; body } ip += 4; NEXT();
#define VLOAD(OP, w, body) CASE(WD_OP_##OP) { uint64_t ea = (uint64_t)U32(2) + ip[3]; VLOADBODY(w, body) }
#define VEXTLOAD(OP, ST, DT, DL, n) VLOAD(OP, 8, { ST s; DT r = { 0 }; memcpy(&s, src, sizeof(s)); \
        for (int i = 0; i < n; i++) r[i] = (DL)s[i]; VST(1, r); })
typedef int8_t wd_i8x8_ __attribute__((vector_size(8)));
typedef uint8_t wd_u8x8_ __attribute__((vector_size(8)));
typedef int16_t wd_i16x4_ __attribute__((vector_size(8)));
typedef uint16_t wd_u16x4_ __attribute__((vector_size(8)));
typedef int32_t wd_i32x2_ __attribute__((vector_size(8)));
typedef uint32_t wd_u32x2_ __attribute__((vector_size(8)));

    CASE(WD_OP_V128_LOAD) {
        uint64_t ea = (uint64_t)U32(2) + ip[3];
        if (OOB_CHECK(ea, 16)) TRAP(WD_TRAP_OOB_MEMORY);
        memcpy(&fp[ip[1]], mem_base + ea, 16);
        ip += 4;
        NEXT();
    }
    VEXTLOAD(V128_LOAD8X8_S, wd_i8x8_, wd_i16x8, int16_t, 8)
    VEXTLOAD(V128_LOAD8X8_U, wd_u8x8_, wd_u16x8, uint16_t, 8)
    VEXTLOAD(V128_LOAD16X4_S, wd_i16x4_, wd_i32x4, int32_t, 4)
    VEXTLOAD(V128_LOAD16X4_U, wd_u16x4_, wd_u32x4, uint32_t, 4)
    VEXTLOAD(V128_LOAD32X2_S, wd_i32x2_, wd_i64x2, int64_t, 2)
    VEXTLOAD(V128_LOAD32X2_U, wd_u32x2_, wd_u64x2, uint64_t, 2)
    VLOAD(V128_LOAD8_SPLAT, 1, { VST(1, ((wd_u8x16){ 0 } + src[0])); })
    VLOAD(V128_LOAD16_SPLAT, 2, { uint16_t x; memcpy(&x, src, 2); VST(1, ((wd_u16x8){ 0 } + x)); })
    VLOAD(V128_LOAD32_SPLAT, 4, { uint32_t x; memcpy(&x, src, 4); VST(1, ((wd_u32x4){ 0 } + x)); })
    VLOAD(V128_LOAD64_SPLAT, 8, { uint64_t x; memcpy(&x, src, 8); VST(1, ((wd_u64x2){ 0 } + x)); })
    VLOAD(V128_LOAD32_ZERO, 4, { uint32_t x; memcpy(&x, src, 4); VST(1, ((wd_u32x4){ x, 0, 0, 0 })); })
    VLOAD(V128_LOAD64_ZERO, 8, { uint64_t x; memcpy(&x, src, 8); VST(1, ((wd_u64x2){ x, 0 })); })
    CASE(WD_OP_V128_STORE) {
        uint64_t ea = (uint64_t)U32(1) + ip[3];
        if (OOB_CHECK(ea, 16)) TRAP(WD_TRAP_OOB_MEMORY);
        memcpy(mem_base + ea, &fp[ip[2]], 16);
        if (__builtin_expect(!WD_WASM_DIRTY_BOTH(mem_base, ea, 16), 0)) wd_wasm_memory_mark(inst->mem, ea, 16);
        ip += 4;
        NEXT();
    }
    /* [op dst addr vec offset lane] */
#define VLOADLANE(OP, w) CASE(WD_OP_##OP) { uint64_t ea = (uint64_t)U32(2) + ip[4]; \
        if (OOB_CHECK(ea, (w))) TRAP(WD_TRAP_OOB_MEMORY); \
        uint8_t tmp[16]; memcpy(tmp, &fp[ip[3]], 16); memcpy(tmp + ip[5] * (w), mem_base + ea, (w)); \
        memcpy(&fp[ip[1]], tmp, 16); ip += 6; NEXT(); }
    VLOADLANE(V128_LOAD8_LANE, 1)
    VLOADLANE(V128_LOAD16_LANE, 2)
    VLOADLANE(V128_LOAD32_LANE, 4)
    VLOADLANE(V128_LOAD64_LANE, 8)
    /* [op addr vec offset lane] */
#define VSTORELANE(OP, w) CASE(WD_OP_##OP) { uint64_t ea = (uint64_t)U32(1) + ip[3]; \
        if (OOB_CHECK(ea, (w))) TRAP(WD_TRAP_OOB_MEMORY); \
        memcpy(mem_base + ea, (const uint8_t *)&fp[ip[2]] + ip[4] * (w), (w)); \
        if (__builtin_expect(!WD_WASM_DIRTY_BOTH(mem_base, ea, (w)), 0)) wd_wasm_memory_mark(inst->mem, ea, (w)); \
        ip += 5; NEXT(); }
    VSTORELANE(V128_STORE8_LANE, 1)
    VSTORELANE(V128_STORE16_LANE, 2)
    VSTORELANE(V128_STORE32_LANE, 4)
    VSTORELANE(V128_STORE64_LANE, 8)

    CASE(WD_OP_V128_CONST) { goto bad; }   /* translated to CONST128 */
    CASE(WD_XOP_CONST128) { memcpy(&fp[ip[1]], ip + 2, 16); ip += 6; NEXT(); }
    CASE(WD_XOP_MOV2) { wd_v128 v = VLD(2); VST(1, v); ip += 3; NEXT(); }
    CASE(WD_XOP_SELECT2) { wd_v128 v = U32(4) ? VLD(2) : VLD(3); VST(1, v); ip += 5; NEXT(); }
    CASE(WD_XOP_GLOBAL_GET2) { wd_wasm_global_t *g = globals[ip[2]]; fp[ip[1]] = g->val; fp[ip[1] + 1] = g->val_hi;
        ip += 3; NEXT(); }
    CASE(WD_XOP_GLOBAL_SET2) { wd_wasm_global_t *g = globals[ip[2]]; g->val = fp[ip[1]]; g->val_hi = fp[ip[1] + 1];
        ip += 3; NEXT(); }

    /* the lane operations: one out-of-line function each (wd_wasm_simd.c), so the
     * dispatch loop stays small; [op dst srcs... imms...] is 1 + pops + pushes + imm
     * cells. The memory base and size are read again after the call, so they are not
     * live across any of these ~200 calls: when they were, GCC kept them on the stack
     * in every scalar load and store handler (non-SIMD geomean ~1-3% slower than before
     * SIMD). One shared call site instead (an indirect call) cost the SIMD kernels 5-10%. */
#define WD_SIMD_LEN_(imm, sig) (1 + (int)sizeof(sig) - 2 + \
        (WD_IMM_##imm == WD_IMM_LANE ? 1 : WD_IMM_##imm == WD_IMM_SHUFFLE ? 4 : 0))
#define WD_X_(sym, code, text, imm, sig, al) \
    CASE(WD_OP_##sym) { wd_simd_fn_WD_OP_##sym(fp, ip); ip += WD_SIMD_LEN_(imm, sig); \
        RELOAD_MEM(); NEXT(); }
    WD_WASM_OPCODES_FD_ALU(WD_X_)
#undef WD_X_
#undef WD_SIMD_LEN_

#undef VLD
#undef VST
