/*
 * wd_wasm_opcodes.h -- the one table of WebAssembly 2.0 opcodes (X-macros).
 *
 * Every stage that needs to know about opcodes (decoder, validator,
 * translator, interpreter, disassembler) expands these lists instead of
 * keeping its own. Each entry is
 *
 *     X(SYM, code, "text", IMM, "sig", align)
 *
 *   SYM    C identifier suffix (WD_OP_##SYM in the enum below)
 *   code   the encoding byte (WD_WASM_OPCODES) or the u32 sub-opcode after the
 *          0xFC prefix (WD_WASM_OPCODES_FC)
 *   text   the text-format name
 *   IMM    immediate kind (wd_wasm_imm_t, as WD_IMM_##IMM)
 *   sig    stack effect "pops:pushes" with i=i32 I=i64 f=f32 F=f64
 *          (e.g. "ii:i"), or "*" when the effect depends on immediates or
 *          the control context (the validator handles those explicitly)
 *   align  for memory accesses: the natural alignment as log2 of the access
 *          size (the memarg's alignment may not exceed it); else 0
 *
 * The 0xFD prefix (SIMD) and the v128 type are not supported: the decoder
 * rejects them with "SIMD not supported".
 */
#ifndef WD_WASM_OPCODES_H
#define WD_WASM_OPCODES_H

#define WD_WASM_PREFIX_FC 0xfc
#define WD_WASM_PREFIX_FD 0xfd

typedef enum {
    WD_IMM_NONE,        /* no immediate */
    WD_IMM_BLOCK,       /* blocktype: 0x40 | valtype | s33 type index */
    WD_IMM_LABEL,       /* u32 label depth */
    WD_IMM_BR_TABLE,    /* vec(u32 labels) u32 default */
    WD_IMM_FUNC,        /* u32 function index */
    WD_IMM_CALL_IND,    /* u32 type index, u32 table index */
    WD_IMM_LOCAL,       /* u32 local index */
    WD_IMM_GLOBAL,      /* u32 global index */
    WD_IMM_TABLE,       /* u32 table index */
    WD_IMM_MEMARG,      /* u32 align (log2), u32 offset */
    WD_IMM_MEM,         /* one 0x00 byte (memory index) */
    WD_IMM_I32,         /* s32 */
    WD_IMM_I64,         /* s64 */
    WD_IMM_F32,         /* 4 bytes little endian */
    WD_IMM_F64,         /* 8 bytes little endian */
    WD_IMM_REFTYPE,     /* one reftype byte */
    WD_IMM_SELECT_T,    /* vec(valtype), length must be 1 */
    WD_IMM_DATA_MEM,    /* u32 data index, 0x00 */
    WD_IMM_DATA,        /* u32 data index */
    WD_IMM_MEM_MEM,     /* 0x00 0x00 */
    WD_IMM_ELEM_TABLE,  /* u32 elem index, u32 table index */
    WD_IMM_ELEM,        /* u32 elem index */
    WD_IMM_TABLE_TABLE  /* u32 dst table, u32 src table */
} wd_wasm_imm_t;

/* Single-byte opcodes. */
#define WD_WASM_OPCODES(X) \
    X(UNREACHABLE,        0x00, "unreachable",         NONE,     "*", 0) \
    X(NOP,                0x01, "nop",                 NONE,     ":", 0) \
    X(BLOCK,              0x02, "block",               BLOCK,    "*", 0) \
    X(LOOP,               0x03, "loop",                BLOCK,    "*", 0) \
    X(IF,                 0x04, "if",                  BLOCK,    "*", 0) \
    X(ELSE,               0x05, "else",                NONE,     "*", 0) \
    X(END,                0x0b, "end",                 NONE,     "*", 0) \
    X(BR,                 0x0c, "br",                  LABEL,    "*", 0) \
    X(BR_IF,              0x0d, "br_if",               LABEL,    "*", 0) \
    X(BR_TABLE,           0x0e, "br_table",            BR_TABLE, "*", 0) \
    X(RETURN,             0x0f, "return",              NONE,     "*", 0) \
    X(CALL,               0x10, "call",                FUNC,     "*", 0) \
    X(CALL_INDIRECT,      0x11, "call_indirect",       CALL_IND, "*", 0) \
    X(DROP,               0x1a, "drop",                NONE,     "*", 0) \
    X(SELECT,             0x1b, "select",              NONE,     "*", 0) \
    X(SELECT_T,           0x1c, "select",              SELECT_T, "*", 0) \
    X(LOCAL_GET,          0x20, "local.get",           LOCAL,    "*", 0) \
    X(LOCAL_SET,          0x21, "local.set",           LOCAL,    "*", 0) \
    X(LOCAL_TEE,          0x22, "local.tee",           LOCAL,    "*", 0) \
    X(GLOBAL_GET,         0x23, "global.get",          GLOBAL,   "*", 0) \
    X(GLOBAL_SET,         0x24, "global.set",          GLOBAL,   "*", 0) \
    X(TABLE_GET,          0x25, "table.get",           TABLE,    "*", 0) \
    X(TABLE_SET,          0x26, "table.set",           TABLE,    "*", 0) \
    X(I32_LOAD,           0x28, "i32.load",            MEMARG,   "i:i", 2) \
    X(I64_LOAD,           0x29, "i64.load",            MEMARG,   "i:I", 3) \
    X(F32_LOAD,           0x2a, "f32.load",            MEMARG,   "i:f", 2) \
    X(F64_LOAD,           0x2b, "f64.load",            MEMARG,   "i:F", 3) \
    X(I32_LOAD8_S,        0x2c, "i32.load8_s",         MEMARG,   "i:i", 0) \
    X(I32_LOAD8_U,        0x2d, "i32.load8_u",         MEMARG,   "i:i", 0) \
    X(I32_LOAD16_S,       0x2e, "i32.load16_s",        MEMARG,   "i:i", 1) \
    X(I32_LOAD16_U,       0x2f, "i32.load16_u",        MEMARG,   "i:i", 1) \
    X(I64_LOAD8_S,        0x30, "i64.load8_s",         MEMARG,   "i:I", 0) \
    X(I64_LOAD8_U,        0x31, "i64.load8_u",         MEMARG,   "i:I", 0) \
    X(I64_LOAD16_S,       0x32, "i64.load16_s",        MEMARG,   "i:I", 1) \
    X(I64_LOAD16_U,       0x33, "i64.load16_u",        MEMARG,   "i:I", 1) \
    X(I64_LOAD32_S,       0x34, "i64.load32_s",        MEMARG,   "i:I", 2) \
    X(I64_LOAD32_U,       0x35, "i64.load32_u",        MEMARG,   "i:I", 2) \
    X(I32_STORE,          0x36, "i32.store",           MEMARG,   "ii:", 2) \
    X(I64_STORE,          0x37, "i64.store",           MEMARG,   "iI:", 3) \
    X(F32_STORE,          0x38, "f32.store",           MEMARG,   "if:", 2) \
    X(F64_STORE,          0x39, "f64.store",           MEMARG,   "iF:", 3) \
    X(I32_STORE8,         0x3a, "i32.store8",          MEMARG,   "ii:", 0) \
    X(I32_STORE16,        0x3b, "i32.store16",         MEMARG,   "ii:", 1) \
    X(I64_STORE8,         0x3c, "i64.store8",          MEMARG,   "iI:", 0) \
    X(I64_STORE16,        0x3d, "i64.store16",         MEMARG,   "iI:", 1) \
    X(I64_STORE32,        0x3e, "i64.store32",         MEMARG,   "iI:", 2) \
    X(MEMORY_SIZE,        0x3f, "memory.size",         MEM,      ":i", 0) \
    X(MEMORY_GROW,        0x40, "memory.grow",         MEM,      "i:i", 0) \
    X(I32_CONST,          0x41, "i32.const",           I32,      ":i", 0) \
    X(I64_CONST,          0x42, "i64.const",           I64,      ":I", 0) \
    X(F32_CONST,          0x43, "f32.const",           F32,      ":f", 0) \
    X(F64_CONST,          0x44, "f64.const",           F64,      ":F", 0) \
    X(I32_EQZ,            0x45, "i32.eqz",             NONE,     "i:i", 0) \
    X(I32_EQ,             0x46, "i32.eq",              NONE,     "ii:i", 0) \
    X(I32_NE,             0x47, "i32.ne",              NONE,     "ii:i", 0) \
    X(I32_LT_S,           0x48, "i32.lt_s",            NONE,     "ii:i", 0) \
    X(I32_LT_U,           0x49, "i32.lt_u",            NONE,     "ii:i", 0) \
    X(I32_GT_S,           0x4a, "i32.gt_s",            NONE,     "ii:i", 0) \
    X(I32_GT_U,           0x4b, "i32.gt_u",            NONE,     "ii:i", 0) \
    X(I32_LE_S,           0x4c, "i32.le_s",            NONE,     "ii:i", 0) \
    X(I32_LE_U,           0x4d, "i32.le_u",            NONE,     "ii:i", 0) \
    X(I32_GE_S,           0x4e, "i32.ge_s",            NONE,     "ii:i", 0) \
    X(I32_GE_U,           0x4f, "i32.ge_u",            NONE,     "ii:i", 0) \
    X(I64_EQZ,            0x50, "i64.eqz",             NONE,     "I:i", 0) \
    X(I64_EQ,             0x51, "i64.eq",              NONE,     "II:i", 0) \
    X(I64_NE,             0x52, "i64.ne",              NONE,     "II:i", 0) \
    X(I64_LT_S,           0x53, "i64.lt_s",            NONE,     "II:i", 0) \
    X(I64_LT_U,           0x54, "i64.lt_u",            NONE,     "II:i", 0) \
    X(I64_GT_S,           0x55, "i64.gt_s",            NONE,     "II:i", 0) \
    X(I64_GT_U,           0x56, "i64.gt_u",            NONE,     "II:i", 0) \
    X(I64_LE_S,           0x57, "i64.le_s",            NONE,     "II:i", 0) \
    X(I64_LE_U,           0x58, "i64.le_u",            NONE,     "II:i", 0) \
    X(I64_GE_S,           0x59, "i64.ge_s",            NONE,     "II:i", 0) \
    X(I64_GE_U,           0x5a, "i64.ge_u",            NONE,     "II:i", 0) \
    X(F32_EQ,             0x5b, "f32.eq",              NONE,     "ff:i", 0) \
    X(F32_NE,             0x5c, "f32.ne",              NONE,     "ff:i", 0) \
    X(F32_LT,             0x5d, "f32.lt",              NONE,     "ff:i", 0) \
    X(F32_GT,             0x5e, "f32.gt",              NONE,     "ff:i", 0) \
    X(F32_LE,             0x5f, "f32.le",              NONE,     "ff:i", 0) \
    X(F32_GE,             0x60, "f32.ge",              NONE,     "ff:i", 0) \
    X(F64_EQ,             0x61, "f64.eq",              NONE,     "FF:i", 0) \
    X(F64_NE,             0x62, "f64.ne",              NONE,     "FF:i", 0) \
    X(F64_LT,             0x63, "f64.lt",              NONE,     "FF:i", 0) \
    X(F64_GT,             0x64, "f64.gt",              NONE,     "FF:i", 0) \
    X(F64_LE,             0x65, "f64.le",              NONE,     "FF:i", 0) \
    X(F64_GE,             0x66, "f64.ge",              NONE,     "FF:i", 0) \
    X(I32_CLZ,            0x67, "i32.clz",             NONE,     "i:i", 0) \
    X(I32_CTZ,            0x68, "i32.ctz",             NONE,     "i:i", 0) \
    X(I32_POPCNT,         0x69, "i32.popcnt",          NONE,     "i:i", 0) \
    X(I32_ADD,            0x6a, "i32.add",             NONE,     "ii:i", 0) \
    X(I32_SUB,            0x6b, "i32.sub",             NONE,     "ii:i", 0) \
    X(I32_MUL,            0x6c, "i32.mul",             NONE,     "ii:i", 0) \
    X(I32_DIV_S,          0x6d, "i32.div_s",           NONE,     "ii:i", 0) \
    X(I32_DIV_U,          0x6e, "i32.div_u",           NONE,     "ii:i", 0) \
    X(I32_REM_S,          0x6f, "i32.rem_s",           NONE,     "ii:i", 0) \
    X(I32_REM_U,          0x70, "i32.rem_u",           NONE,     "ii:i", 0) \
    X(I32_AND,            0x71, "i32.and",             NONE,     "ii:i", 0) \
    X(I32_OR,             0x72, "i32.or",              NONE,     "ii:i", 0) \
    X(I32_XOR,            0x73, "i32.xor",             NONE,     "ii:i", 0) \
    X(I32_SHL,            0x74, "i32.shl",             NONE,     "ii:i", 0) \
    X(I32_SHR_S,          0x75, "i32.shr_s",           NONE,     "ii:i", 0) \
    X(I32_SHR_U,          0x76, "i32.shr_u",           NONE,     "ii:i", 0) \
    X(I32_ROTL,           0x77, "i32.rotl",            NONE,     "ii:i", 0) \
    X(I32_ROTR,           0x78, "i32.rotr",            NONE,     "ii:i", 0) \
    X(I64_CLZ,            0x79, "i64.clz",             NONE,     "I:I", 0) \
    X(I64_CTZ,            0x7a, "i64.ctz",             NONE,     "I:I", 0) \
    X(I64_POPCNT,         0x7b, "i64.popcnt",          NONE,     "I:I", 0) \
    X(I64_ADD,            0x7c, "i64.add",             NONE,     "II:I", 0) \
    X(I64_SUB,            0x7d, "i64.sub",             NONE,     "II:I", 0) \
    X(I64_MUL,            0x7e, "i64.mul",             NONE,     "II:I", 0) \
    X(I64_DIV_S,          0x7f, "i64.div_s",           NONE,     "II:I", 0) \
    X(I64_DIV_U,          0x80, "i64.div_u",           NONE,     "II:I", 0) \
    X(I64_REM_S,          0x81, "i64.rem_s",           NONE,     "II:I", 0) \
    X(I64_REM_U,          0x82, "i64.rem_u",           NONE,     "II:I", 0) \
    X(I64_AND,            0x83, "i64.and",             NONE,     "II:I", 0) \
    X(I64_OR,             0x84, "i64.or",              NONE,     "II:I", 0) \
    X(I64_XOR,            0x85, "i64.xor",             NONE,     "II:I", 0) \
    X(I64_SHL,            0x86, "i64.shl",             NONE,     "II:I", 0) \
    X(I64_SHR_S,          0x87, "i64.shr_s",           NONE,     "II:I", 0) \
    X(I64_SHR_U,          0x88, "i64.shr_u",           NONE,     "II:I", 0) \
    X(I64_ROTL,           0x89, "i64.rotl",            NONE,     "II:I", 0) \
    X(I64_ROTR,           0x8a, "i64.rotr",            NONE,     "II:I", 0) \
    X(F32_ABS,            0x8b, "f32.abs",             NONE,     "f:f", 0) \
    X(F32_NEG,            0x8c, "f32.neg",             NONE,     "f:f", 0) \
    X(F32_CEIL,           0x8d, "f32.ceil",            NONE,     "f:f", 0) \
    X(F32_FLOOR,          0x8e, "f32.floor",           NONE,     "f:f", 0) \
    X(F32_TRUNC,          0x8f, "f32.trunc",           NONE,     "f:f", 0) \
    X(F32_NEAREST,        0x90, "f32.nearest",         NONE,     "f:f", 0) \
    X(F32_SQRT,           0x91, "f32.sqrt",            NONE,     "f:f", 0) \
    X(F32_ADD,            0x92, "f32.add",             NONE,     "ff:f", 0) \
    X(F32_SUB,            0x93, "f32.sub",             NONE,     "ff:f", 0) \
    X(F32_MUL,            0x94, "f32.mul",             NONE,     "ff:f", 0) \
    X(F32_DIV,            0x95, "f32.div",             NONE,     "ff:f", 0) \
    X(F32_MIN,            0x96, "f32.min",             NONE,     "ff:f", 0) \
    X(F32_MAX,            0x97, "f32.max",             NONE,     "ff:f", 0) \
    X(F32_COPYSIGN,       0x98, "f32.copysign",        NONE,     "ff:f", 0) \
    X(F64_ABS,            0x99, "f64.abs",             NONE,     "F:F", 0) \
    X(F64_NEG,            0x9a, "f64.neg",             NONE,     "F:F", 0) \
    X(F64_CEIL,           0x9b, "f64.ceil",            NONE,     "F:F", 0) \
    X(F64_FLOOR,          0x9c, "f64.floor",           NONE,     "F:F", 0) \
    X(F64_TRUNC,          0x9d, "f64.trunc",           NONE,     "F:F", 0) \
    X(F64_NEAREST,        0x9e, "f64.nearest",         NONE,     "F:F", 0) \
    X(F64_SQRT,           0x9f, "f64.sqrt",            NONE,     "F:F", 0) \
    X(F64_ADD,            0xa0, "f64.add",             NONE,     "FF:F", 0) \
    X(F64_SUB,            0xa1, "f64.sub",             NONE,     "FF:F", 0) \
    X(F64_MUL,            0xa2, "f64.mul",             NONE,     "FF:F", 0) \
    X(F64_DIV,            0xa3, "f64.div",             NONE,     "FF:F", 0) \
    X(F64_MIN,            0xa4, "f64.min",             NONE,     "FF:F", 0) \
    X(F64_MAX,            0xa5, "f64.max",             NONE,     "FF:F", 0) \
    X(F64_COPYSIGN,       0xa6, "f64.copysign",        NONE,     "FF:F", 0) \
    X(I32_WRAP_I64,       0xa7, "i32.wrap_i64",        NONE,     "I:i", 0) \
    X(I32_TRUNC_F32_S,    0xa8, "i32.trunc_f32_s",     NONE,     "f:i", 0) \
    X(I32_TRUNC_F32_U,    0xa9, "i32.trunc_f32_u",     NONE,     "f:i", 0) \
    X(I32_TRUNC_F64_S,    0xaa, "i32.trunc_f64_s",     NONE,     "F:i", 0) \
    X(I32_TRUNC_F64_U,    0xab, "i32.trunc_f64_u",     NONE,     "F:i", 0) \
    X(I64_EXTEND_I32_S,   0xac, "i64.extend_i32_s",    NONE,     "i:I", 0) \
    X(I64_EXTEND_I32_U,   0xad, "i64.extend_i32_u",    NONE,     "i:I", 0) \
    X(I64_TRUNC_F32_S,    0xae, "i64.trunc_f32_s",     NONE,     "f:I", 0) \
    X(I64_TRUNC_F32_U,    0xaf, "i64.trunc_f32_u",     NONE,     "f:I", 0) \
    X(I64_TRUNC_F64_S,    0xb0, "i64.trunc_f64_s",     NONE,     "F:I", 0) \
    X(I64_TRUNC_F64_U,    0xb1, "i64.trunc_f64_u",     NONE,     "F:I", 0) \
    X(F32_CONVERT_I32_S,  0xb2, "f32.convert_i32_s",   NONE,     "i:f", 0) \
    X(F32_CONVERT_I32_U,  0xb3, "f32.convert_i32_u",   NONE,     "i:f", 0) \
    X(F32_CONVERT_I64_S,  0xb4, "f32.convert_i64_s",   NONE,     "I:f", 0) \
    X(F32_CONVERT_I64_U,  0xb5, "f32.convert_i64_u",   NONE,     "I:f", 0) \
    X(F32_DEMOTE_F64,     0xb6, "f32.demote_f64",      NONE,     "F:f", 0) \
    X(F64_CONVERT_I32_S,  0xb7, "f64.convert_i32_s",   NONE,     "i:F", 0) \
    X(F64_CONVERT_I32_U,  0xb8, "f64.convert_i32_u",   NONE,     "i:F", 0) \
    X(F64_CONVERT_I64_S,  0xb9, "f64.convert_i64_s",   NONE,     "I:F", 0) \
    X(F64_CONVERT_I64_U,  0xba, "f64.convert_i64_u",   NONE,     "I:F", 0) \
    X(F64_PROMOTE_F32,    0xbb, "f64.promote_f32",     NONE,     "f:F", 0) \
    X(I32_REINTERPRET_F32,0xbc, "i32.reinterpret_f32", NONE,     "f:i", 0) \
    X(I64_REINTERPRET_F64,0xbd, "i64.reinterpret_f64", NONE,     "F:I", 0) \
    X(F32_REINTERPRET_I32,0xbe, "f32.reinterpret_i32", NONE,     "i:f", 0) \
    X(F64_REINTERPRET_I64,0xbf, "f64.reinterpret_i64", NONE,     "I:F", 0) \
    X(I32_EXTEND8_S,      0xc0, "i32.extend8_s",       NONE,     "i:i", 0) \
    X(I32_EXTEND16_S,     0xc1, "i32.extend16_s",      NONE,     "i:i", 0) \
    X(I64_EXTEND8_S,      0xc2, "i64.extend8_s",       NONE,     "I:I", 0) \
    X(I64_EXTEND16_S,     0xc3, "i64.extend16_s",      NONE,     "I:I", 0) \
    X(I64_EXTEND32_S,     0xc4, "i64.extend32_s",      NONE,     "I:I", 0) \
    X(REF_NULL,           0xd0, "ref.null",            REFTYPE,  "*", 0) \
    X(REF_IS_NULL,        0xd1, "ref.is_null",         NONE,     "*", 0) \
    X(REF_FUNC,           0xd2, "ref.func",            FUNC,     "*", 0)

/* 0xFC-prefixed opcodes (u32 sub-opcode). */
#define WD_WASM_OPCODES_FC(X) \
    X(I32_TRUNC_SAT_F32_S, 0, "i32.trunc_sat_f32_s",   NONE,        "f:i", 0) \
    X(I32_TRUNC_SAT_F32_U, 1, "i32.trunc_sat_f32_u",   NONE,        "f:i", 0) \
    X(I32_TRUNC_SAT_F64_S, 2, "i32.trunc_sat_f64_s",   NONE,        "F:i", 0) \
    X(I32_TRUNC_SAT_F64_U, 3, "i32.trunc_sat_f64_u",   NONE,        "F:i", 0) \
    X(I64_TRUNC_SAT_F32_S, 4, "i64.trunc_sat_f32_s",   NONE,        "f:I", 0) \
    X(I64_TRUNC_SAT_F32_U, 5, "i64.trunc_sat_f32_u",   NONE,        "f:I", 0) \
    X(I64_TRUNC_SAT_F64_S, 6, "i64.trunc_sat_f64_s",   NONE,        "F:I", 0) \
    X(I64_TRUNC_SAT_F64_U, 7, "i64.trunc_sat_f64_u",   NONE,        "F:I", 0) \
    X(MEMORY_INIT,         8, "memory.init",           DATA_MEM,    "iii:", 0) \
    X(DATA_DROP,           9, "data.drop",             DATA,        ":", 0) \
    X(MEMORY_COPY,        10, "memory.copy",           MEM_MEM,     "iii:", 0) \
    X(MEMORY_FILL,        11, "memory.fill",           MEM,         "iii:", 0) \
    X(TABLE_INIT,         12, "table.init",            ELEM_TABLE,  "iii:", 0) \
    X(ELEM_DROP,          13, "elem.drop",             ELEM,        ":", 0) \
    X(TABLE_COPY,         14, "table.copy",            TABLE_TABLE, "iii:", 0) \
    X(TABLE_GROW,         15, "table.grow",            TABLE,       "*", 0) \
    X(TABLE_SIZE,         16, "table.size",            TABLE,       ":i", 0) \
    X(TABLE_FILL,         17, "table.fill",            TABLE,       "*", 0)

/* One enum over both families: single-byte opcodes keep their byte value,
 * 0xFC opcodes are numbered from WD_OP_FC_BASE + sub-opcode. */
#define WD_OP_FC_BASE 0x100
enum {
#define WD_X_(sym, code, text, imm, sig, al) WD_OP_##sym = (code),
    WD_WASM_OPCODES(WD_X_)
#undef WD_X_
#define WD_X_(sym, code, text, imm, sig, al) WD_OP_##sym = WD_OP_FC_BASE + (code),
    WD_WASM_OPCODES_FC(WD_X_)
#undef WD_X_
    WD_OP_LIMIT_ = WD_OP_FC_BASE + 18
};

/* Per-opcode facts, indexed by the enum above (filled from the same lists). */
typedef struct {
    const char *name;       /* NULL: not an opcode */
    const char *sig;
    unsigned char imm;      /* wd_wasm_imm_t */
    unsigned char align;
} wd_wasm_opinfo_t;

static const wd_wasm_opinfo_t wd_wasm_opinfo[WD_OP_LIMIT_] __attribute__((unused)) = {
#define WD_X_(sym, code, text, imm, sig, al) [WD_OP_##sym] = { text, sig, WD_IMM_##imm, al },
    WD_WASM_OPCODES(WD_X_)
    WD_WASM_OPCODES_FC(WD_X_)
#undef WD_X_
};

#endif /* WD_WASM_OPCODES_H */
