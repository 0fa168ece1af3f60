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
 *   sig    stack effect "pops:pushes" with i=i32 I=i64 f=f32 F=f64 v=v128
 *          (e.g. "ii:i"), or "*" when the effect depends on immediates or
 *          the control context (the validator handles those explicitly)
 *   align  for memory accesses: the natural alignment as log2 of the access
 *          size (the memarg's alignment may not exceed it); for lane
 *          immediates (LANE, MEMARG_LANE) log2 of the lane's byte width, so
 *          the lane index must be below 16 >> align; else 0
 *
 * The 0xFD prefix (fixed-width SIMD, WD_WASM_OPCODES_FD) takes a u32
 * sub-opcode like 0xFC.
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
    WD_IMM_TABLE_TABLE, /* u32 dst table, u32 src table */
    WD_IMM_V128,        /* 16 bytes (v128.const) */
    WD_IMM_LANE,        /* one lane index byte */
    WD_IMM_MEMARG_LANE, /* memarg, then one lane index byte */
    WD_IMM_SHUFFLE      /* 16 lane index bytes, each < 32 */
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

/* 0xFD-prefixed opcodes (u32 sub-opcode): the Wasm 2.0 fixed-width SIMD set, in two
 * lists: memory accesses and v128.const (handled inside the interpreter loop), and the
 * pure lane operations (one out-of-line function each, wd_wasm_simd.c). */
#define WD_WASM_OPCODES_FD_MEM(X) \
    X(V128_LOAD,                       0, "v128.load", MEMARG, "i:v", 4) \
    X(V128_LOAD8X8_S,                  1, "v128.load8x8_s", MEMARG, "i:v", 3) \
    X(V128_LOAD8X8_U,                  2, "v128.load8x8_u", MEMARG, "i:v", 3) \
    X(V128_LOAD16X4_S,                 3, "v128.load16x4_s", MEMARG, "i:v", 3) \
    X(V128_LOAD16X4_U,                 4, "v128.load16x4_u", MEMARG, "i:v", 3) \
    X(V128_LOAD32X2_S,                 5, "v128.load32x2_s", MEMARG, "i:v", 3) \
    X(V128_LOAD32X2_U,                 6, "v128.load32x2_u", MEMARG, "i:v", 3) \
    X(V128_LOAD8_SPLAT,                7, "v128.load8_splat", MEMARG, "i:v", 0) \
    X(V128_LOAD16_SPLAT,               8, "v128.load16_splat", MEMARG, "i:v", 1) \
    X(V128_LOAD32_SPLAT,               9, "v128.load32_splat", MEMARG, "i:v", 2) \
    X(V128_LOAD64_SPLAT,              10, "v128.load64_splat", MEMARG, "i:v", 3) \
    X(V128_STORE,                     11, "v128.store", MEMARG, "iv:", 4) \
    X(V128_CONST,                     12, "v128.const", V128, ":v", 0) \
    X(V128_LOAD8_LANE,                84, "v128.load8_lane", MEMARG_LANE, "iv:v", 0) \
    X(V128_LOAD16_LANE,               85, "v128.load16_lane", MEMARG_LANE, "iv:v", 1) \
    X(V128_LOAD32_LANE,               86, "v128.load32_lane", MEMARG_LANE, "iv:v", 2) \
    X(V128_LOAD64_LANE,               87, "v128.load64_lane", MEMARG_LANE, "iv:v", 3) \
    X(V128_STORE8_LANE,               88, "v128.store8_lane", MEMARG_LANE, "iv:", 0) \
    X(V128_STORE16_LANE,              89, "v128.store16_lane", MEMARG_LANE, "iv:", 1) \
    X(V128_STORE32_LANE,              90, "v128.store32_lane", MEMARG_LANE, "iv:", 2) \
    X(V128_STORE64_LANE,              91, "v128.store64_lane", MEMARG_LANE, "iv:", 3) \
    X(V128_LOAD32_ZERO,               92, "v128.load32_zero", MEMARG, "i:v", 2) \
    X(V128_LOAD64_ZERO,               93, "v128.load64_zero", MEMARG, "i:v", 3)

#define WD_WASM_OPCODES_FD_ALU(X) \
    X(I8X16_SHUFFLE,                  13, "i8x16.shuffle", SHUFFLE, "vv:v", 0) \
    X(I8X16_SWIZZLE,                  14, "i8x16.swizzle", NONE, "vv:v", 0) \
    X(I8X16_SPLAT,                    15, "i8x16.splat", NONE, "i:v", 0) \
    X(I16X8_SPLAT,                    16, "i16x8.splat", NONE, "i:v", 0) \
    X(I32X4_SPLAT,                    17, "i32x4.splat", NONE, "i:v", 0) \
    X(I64X2_SPLAT,                    18, "i64x2.splat", NONE, "I:v", 0) \
    X(F32X4_SPLAT,                    19, "f32x4.splat", NONE, "f:v", 0) \
    X(F64X2_SPLAT,                    20, "f64x2.splat", NONE, "F:v", 0) \
    X(I8X16_EXTRACT_LANE_S,           21, "i8x16.extract_lane_s", LANE, "v:i", 0) \
    X(I8X16_EXTRACT_LANE_U,           22, "i8x16.extract_lane_u", LANE, "v:i", 0) \
    X(I8X16_REPLACE_LANE,             23, "i8x16.replace_lane", LANE, "vi:v", 0) \
    X(I16X8_EXTRACT_LANE_S,           24, "i16x8.extract_lane_s", LANE, "v:i", 1) \
    X(I16X8_EXTRACT_LANE_U,           25, "i16x8.extract_lane_u", LANE, "v:i", 1) \
    X(I16X8_REPLACE_LANE,             26, "i16x8.replace_lane", LANE, "vi:v", 1) \
    X(I32X4_EXTRACT_LANE,             27, "i32x4.extract_lane", LANE, "v:i", 2) \
    X(I32X4_REPLACE_LANE,             28, "i32x4.replace_lane", LANE, "vi:v", 2) \
    X(I64X2_EXTRACT_LANE,             29, "i64x2.extract_lane", LANE, "v:I", 3) \
    X(I64X2_REPLACE_LANE,             30, "i64x2.replace_lane", LANE, "vI:v", 3) \
    X(F32X4_EXTRACT_LANE,             31, "f32x4.extract_lane", LANE, "v:f", 2) \
    X(F32X4_REPLACE_LANE,             32, "f32x4.replace_lane", LANE, "vf:v", 2) \
    X(F64X2_EXTRACT_LANE,             33, "f64x2.extract_lane", LANE, "v:F", 3) \
    X(F64X2_REPLACE_LANE,             34, "f64x2.replace_lane", LANE, "vF:v", 3) \
    X(I8X16_EQ,                       35, "i8x16.eq", NONE, "vv:v", 0) \
    X(I8X16_NE,                       36, "i8x16.ne", NONE, "vv:v", 0) \
    X(I8X16_LT_S,                     37, "i8x16.lt_s", NONE, "vv:v", 0) \
    X(I8X16_LT_U,                     38, "i8x16.lt_u", NONE, "vv:v", 0) \
    X(I8X16_GT_S,                     39, "i8x16.gt_s", NONE, "vv:v", 0) \
    X(I8X16_GT_U,                     40, "i8x16.gt_u", NONE, "vv:v", 0) \
    X(I8X16_LE_S,                     41, "i8x16.le_s", NONE, "vv:v", 0) \
    X(I8X16_LE_U,                     42, "i8x16.le_u", NONE, "vv:v", 0) \
    X(I8X16_GE_S,                     43, "i8x16.ge_s", NONE, "vv:v", 0) \
    X(I8X16_GE_U,                     44, "i8x16.ge_u", NONE, "vv:v", 0) \
    X(I16X8_EQ,                       45, "i16x8.eq", NONE, "vv:v", 0) \
    X(I16X8_NE,                       46, "i16x8.ne", NONE, "vv:v", 0) \
    X(I16X8_LT_S,                     47, "i16x8.lt_s", NONE, "vv:v", 0) \
    X(I16X8_LT_U,                     48, "i16x8.lt_u", NONE, "vv:v", 0) \
    X(I16X8_GT_S,                     49, "i16x8.gt_s", NONE, "vv:v", 0) \
    X(I16X8_GT_U,                     50, "i16x8.gt_u", NONE, "vv:v", 0) \
    X(I16X8_LE_S,                     51, "i16x8.le_s", NONE, "vv:v", 0) \
    X(I16X8_LE_U,                     52, "i16x8.le_u", NONE, "vv:v", 0) \
    X(I16X8_GE_S,                     53, "i16x8.ge_s", NONE, "vv:v", 0) \
    X(I16X8_GE_U,                     54, "i16x8.ge_u", NONE, "vv:v", 0) \
    X(I32X4_EQ,                       55, "i32x4.eq", NONE, "vv:v", 0) \
    X(I32X4_NE,                       56, "i32x4.ne", NONE, "vv:v", 0) \
    X(I32X4_LT_S,                     57, "i32x4.lt_s", NONE, "vv:v", 0) \
    X(I32X4_LT_U,                     58, "i32x4.lt_u", NONE, "vv:v", 0) \
    X(I32X4_GT_S,                     59, "i32x4.gt_s", NONE, "vv:v", 0) \
    X(I32X4_GT_U,                     60, "i32x4.gt_u", NONE, "vv:v", 0) \
    X(I32X4_LE_S,                     61, "i32x4.le_s", NONE, "vv:v", 0) \
    X(I32X4_LE_U,                     62, "i32x4.le_u", NONE, "vv:v", 0) \
    X(I32X4_GE_S,                     63, "i32x4.ge_s", NONE, "vv:v", 0) \
    X(I32X4_GE_U,                     64, "i32x4.ge_u", NONE, "vv:v", 0) \
    X(F32X4_EQ,                       65, "f32x4.eq", NONE, "vv:v", 0) \
    X(F32X4_NE,                       66, "f32x4.ne", NONE, "vv:v", 0) \
    X(F32X4_LT,                       67, "f32x4.lt", NONE, "vv:v", 0) \
    X(F32X4_GT,                       68, "f32x4.gt", NONE, "vv:v", 0) \
    X(F32X4_LE,                       69, "f32x4.le", NONE, "vv:v", 0) \
    X(F32X4_GE,                       70, "f32x4.ge", NONE, "vv:v", 0) \
    X(F64X2_EQ,                       71, "f64x2.eq", NONE, "vv:v", 0) \
    X(F64X2_NE,                       72, "f64x2.ne", NONE, "vv:v", 0) \
    X(F64X2_LT,                       73, "f64x2.lt", NONE, "vv:v", 0) \
    X(F64X2_GT,                       74, "f64x2.gt", NONE, "vv:v", 0) \
    X(F64X2_LE,                       75, "f64x2.le", NONE, "vv:v", 0) \
    X(F64X2_GE,                       76, "f64x2.ge", NONE, "vv:v", 0) \
    X(V128_NOT,                       77, "v128.not", NONE, "v:v", 0) \
    X(V128_AND,                       78, "v128.and", NONE, "vv:v", 0) \
    X(V128_ANDNOT,                    79, "v128.andnot", NONE, "vv:v", 0) \
    X(V128_OR,                        80, "v128.or", NONE, "vv:v", 0) \
    X(V128_XOR,                       81, "v128.xor", NONE, "vv:v", 0) \
    X(V128_BITSELECT,                 82, "v128.bitselect", NONE, "vvv:v", 0) \
    X(V128_ANY_TRUE,                  83, "v128.any_true", NONE, "v:i", 0) \
    X(F32X4_DEMOTE_F64X2_ZERO,        94, "f32x4.demote_f64x2_zero", NONE, "v:v", 0) \
    X(F64X2_PROMOTE_LOW_F32X4,        95, "f64x2.promote_low_f32x4", NONE, "v:v", 0) \
    X(I8X16_ABS,                      96, "i8x16.abs", NONE, "v:v", 0) \
    X(I8X16_NEG,                      97, "i8x16.neg", NONE, "v:v", 0) \
    X(I8X16_POPCNT,                   98, "i8x16.popcnt", NONE, "v:v", 0) \
    X(I8X16_ALL_TRUE,                 99, "i8x16.all_true", NONE, "v:i", 0) \
    X(I8X16_BITMASK,                 100, "i8x16.bitmask", NONE, "v:i", 0) \
    X(I8X16_NARROW_I16X8_S,          101, "i8x16.narrow_i16x8_s", NONE, "vv:v", 0) \
    X(I8X16_NARROW_I16X8_U,          102, "i8x16.narrow_i16x8_u", NONE, "vv:v", 0) \
    X(F32X4_CEIL,                    103, "f32x4.ceil", NONE, "v:v", 0) \
    X(F32X4_FLOOR,                   104, "f32x4.floor", NONE, "v:v", 0) \
    X(F32X4_TRUNC,                   105, "f32x4.trunc", NONE, "v:v", 0) \
    X(F32X4_NEAREST,                 106, "f32x4.nearest", NONE, "v:v", 0) \
    X(I8X16_SHL,                     107, "i8x16.shl", NONE, "vi:v", 0) \
    X(I8X16_SHR_S,                   108, "i8x16.shr_s", NONE, "vi:v", 0) \
    X(I8X16_SHR_U,                   109, "i8x16.shr_u", NONE, "vi:v", 0) \
    X(I8X16_ADD,                     110, "i8x16.add", NONE, "vv:v", 0) \
    X(I8X16_ADD_SAT_S,               111, "i8x16.add_sat_s", NONE, "vv:v", 0) \
    X(I8X16_ADD_SAT_U,               112, "i8x16.add_sat_u", NONE, "vv:v", 0) \
    X(I8X16_SUB,                     113, "i8x16.sub", NONE, "vv:v", 0) \
    X(I8X16_SUB_SAT_S,               114, "i8x16.sub_sat_s", NONE, "vv:v", 0) \
    X(I8X16_SUB_SAT_U,               115, "i8x16.sub_sat_u", NONE, "vv:v", 0) \
    X(F64X2_CEIL,                    116, "f64x2.ceil", NONE, "v:v", 0) \
    X(F64X2_FLOOR,                   117, "f64x2.floor", NONE, "v:v", 0) \
    X(I8X16_MIN_S,                   118, "i8x16.min_s", NONE, "vv:v", 0) \
    X(I8X16_MIN_U,                   119, "i8x16.min_u", NONE, "vv:v", 0) \
    X(I8X16_MAX_S,                   120, "i8x16.max_s", NONE, "vv:v", 0) \
    X(I8X16_MAX_U,                   121, "i8x16.max_u", NONE, "vv:v", 0) \
    X(F64X2_TRUNC,                   122, "f64x2.trunc", NONE, "v:v", 0) \
    X(I8X16_AVGR_U,                  123, "i8x16.avgr_u", NONE, "vv:v", 0) \
    X(I16X8_EXTADD_PAIRWISE_I8X16_S, 124, "i16x8.extadd_pairwise_i8x16_s", NONE, "v:v", 0) \
    X(I16X8_EXTADD_PAIRWISE_I8X16_U, 125, "i16x8.extadd_pairwise_i8x16_u", NONE, "v:v", 0) \
    X(I32X4_EXTADD_PAIRWISE_I16X8_S, 126, "i32x4.extadd_pairwise_i16x8_s", NONE, "v:v", 0) \
    X(I32X4_EXTADD_PAIRWISE_I16X8_U, 127, "i32x4.extadd_pairwise_i16x8_u", NONE, "v:v", 0) \
    X(I16X8_ABS,                     128, "i16x8.abs", NONE, "v:v", 0) \
    X(I16X8_NEG,                     129, "i16x8.neg", NONE, "v:v", 0) \
    X(I16X8_Q15MULR_SAT_S,           130, "i16x8.q15mulr_sat_s", NONE, "vv:v", 0) \
    X(I16X8_ALL_TRUE,                131, "i16x8.all_true", NONE, "v:i", 0) \
    X(I16X8_BITMASK,                 132, "i16x8.bitmask", NONE, "v:i", 0) \
    X(I16X8_NARROW_I32X4_S,          133, "i16x8.narrow_i32x4_s", NONE, "vv:v", 0) \
    X(I16X8_NARROW_I32X4_U,          134, "i16x8.narrow_i32x4_u", NONE, "vv:v", 0) \
    X(I16X8_EXTEND_LOW_I8X16_S,      135, "i16x8.extend_low_i8x16_s", NONE, "v:v", 0) \
    X(I16X8_EXTEND_HIGH_I8X16_S,     136, "i16x8.extend_high_i8x16_s", NONE, "v:v", 0) \
    X(I16X8_EXTEND_LOW_I8X16_U,      137, "i16x8.extend_low_i8x16_u", NONE, "v:v", 0) \
    X(I16X8_EXTEND_HIGH_I8X16_U,     138, "i16x8.extend_high_i8x16_u", NONE, "v:v", 0) \
    X(I16X8_SHL,                     139, "i16x8.shl", NONE, "vi:v", 0) \
    X(I16X8_SHR_S,                   140, "i16x8.shr_s", NONE, "vi:v", 0) \
    X(I16X8_SHR_U,                   141, "i16x8.shr_u", NONE, "vi:v", 0) \
    X(I16X8_ADD,                     142, "i16x8.add", NONE, "vv:v", 0) \
    X(I16X8_ADD_SAT_S,               143, "i16x8.add_sat_s", NONE, "vv:v", 0) \
    X(I16X8_ADD_SAT_U,               144, "i16x8.add_sat_u", NONE, "vv:v", 0) \
    X(I16X8_SUB,                     145, "i16x8.sub", NONE, "vv:v", 0) \
    X(I16X8_SUB_SAT_S,               146, "i16x8.sub_sat_s", NONE, "vv:v", 0) \
    X(I16X8_SUB_SAT_U,               147, "i16x8.sub_sat_u", NONE, "vv:v", 0) \
    X(F64X2_NEAREST,                 148, "f64x2.nearest", NONE, "v:v", 0) \
    X(I16X8_MUL,                     149, "i16x8.mul", NONE, "vv:v", 0) \
    X(I16X8_MIN_S,                   150, "i16x8.min_s", NONE, "vv:v", 0) \
    X(I16X8_MIN_U,                   151, "i16x8.min_u", NONE, "vv:v", 0) \
    X(I16X8_MAX_S,                   152, "i16x8.max_s", NONE, "vv:v", 0) \
    X(I16X8_MAX_U,                   153, "i16x8.max_u", NONE, "vv:v", 0) \
    X(I16X8_AVGR_U,                  155, "i16x8.avgr_u", NONE, "vv:v", 0) \
    X(I16X8_EXTMUL_LOW_I8X16_S,      156, "i16x8.extmul_low_i8x16_s", NONE, "vv:v", 0) \
    X(I16X8_EXTMUL_HIGH_I8X16_S,     157, "i16x8.extmul_high_i8x16_s", NONE, "vv:v", 0) \
    X(I16X8_EXTMUL_LOW_I8X16_U,      158, "i16x8.extmul_low_i8x16_u", NONE, "vv:v", 0) \
    X(I16X8_EXTMUL_HIGH_I8X16_U,     159, "i16x8.extmul_high_i8x16_u", NONE, "vv:v", 0) \
    X(I32X4_ABS,                     160, "i32x4.abs", NONE, "v:v", 0) \
    X(I32X4_NEG,                     161, "i32x4.neg", NONE, "v:v", 0) \
    X(I32X4_ALL_TRUE,                163, "i32x4.all_true", NONE, "v:i", 0) \
    X(I32X4_BITMASK,                 164, "i32x4.bitmask", NONE, "v:i", 0) \
    X(I32X4_EXTEND_LOW_I16X8_S,      167, "i32x4.extend_low_i16x8_s", NONE, "v:v", 0) \
    X(I32X4_EXTEND_HIGH_I16X8_S,     168, "i32x4.extend_high_i16x8_s", NONE, "v:v", 0) \
    X(I32X4_EXTEND_LOW_I16X8_U,      169, "i32x4.extend_low_i16x8_u", NONE, "v:v", 0) \
    X(I32X4_EXTEND_HIGH_I16X8_U,     170, "i32x4.extend_high_i16x8_u", NONE, "v:v", 0) \
    X(I32X4_SHL,                     171, "i32x4.shl", NONE, "vi:v", 0) \
    X(I32X4_SHR_S,                   172, "i32x4.shr_s", NONE, "vi:v", 0) \
    X(I32X4_SHR_U,                   173, "i32x4.shr_u", NONE, "vi:v", 0) \
    X(I32X4_ADD,                     174, "i32x4.add", NONE, "vv:v", 0) \
    X(I32X4_SUB,                     177, "i32x4.sub", NONE, "vv:v", 0) \
    X(I32X4_MUL,                     181, "i32x4.mul", NONE, "vv:v", 0) \
    X(I32X4_MIN_S,                   182, "i32x4.min_s", NONE, "vv:v", 0) \
    X(I32X4_MIN_U,                   183, "i32x4.min_u", NONE, "vv:v", 0) \
    X(I32X4_MAX_S,                   184, "i32x4.max_s", NONE, "vv:v", 0) \
    X(I32X4_MAX_U,                   185, "i32x4.max_u", NONE, "vv:v", 0) \
    X(I32X4_DOT_I16X8_S,             186, "i32x4.dot_i16x8_s", NONE, "vv:v", 0) \
    X(I32X4_EXTMUL_LOW_I16X8_S,      188, "i32x4.extmul_low_i16x8_s", NONE, "vv:v", 0) \
    X(I32X4_EXTMUL_HIGH_I16X8_S,     189, "i32x4.extmul_high_i16x8_s", NONE, "vv:v", 0) \
    X(I32X4_EXTMUL_LOW_I16X8_U,      190, "i32x4.extmul_low_i16x8_u", NONE, "vv:v", 0) \
    X(I32X4_EXTMUL_HIGH_I16X8_U,     191, "i32x4.extmul_high_i16x8_u", NONE, "vv:v", 0) \
    X(I64X2_ABS,                     192, "i64x2.abs", NONE, "v:v", 0) \
    X(I64X2_NEG,                     193, "i64x2.neg", NONE, "v:v", 0) \
    X(I64X2_ALL_TRUE,                195, "i64x2.all_true", NONE, "v:i", 0) \
    X(I64X2_BITMASK,                 196, "i64x2.bitmask", NONE, "v:i", 0) \
    X(I64X2_EXTEND_LOW_I32X4_S,      199, "i64x2.extend_low_i32x4_s", NONE, "v:v", 0) \
    X(I64X2_EXTEND_HIGH_I32X4_S,     200, "i64x2.extend_high_i32x4_s", NONE, "v:v", 0) \
    X(I64X2_EXTEND_LOW_I32X4_U,      201, "i64x2.extend_low_i32x4_u", NONE, "v:v", 0) \
    X(I64X2_EXTEND_HIGH_I32X4_U,     202, "i64x2.extend_high_i32x4_u", NONE, "v:v", 0) \
    X(I64X2_SHL,                     203, "i64x2.shl", NONE, "vi:v", 0) \
    X(I64X2_SHR_S,                   204, "i64x2.shr_s", NONE, "vi:v", 0) \
    X(I64X2_SHR_U,                   205, "i64x2.shr_u", NONE, "vi:v", 0) \
    X(I64X2_ADD,                     206, "i64x2.add", NONE, "vv:v", 0) \
    X(I64X2_SUB,                     209, "i64x2.sub", NONE, "vv:v", 0) \
    X(I64X2_MUL,                     213, "i64x2.mul", NONE, "vv:v", 0) \
    X(I64X2_EQ,                      214, "i64x2.eq", NONE, "vv:v", 0) \
    X(I64X2_NE,                      215, "i64x2.ne", NONE, "vv:v", 0) \
    X(I64X2_LT_S,                    216, "i64x2.lt_s", NONE, "vv:v", 0) \
    X(I64X2_GT_S,                    217, "i64x2.gt_s", NONE, "vv:v", 0) \
    X(I64X2_LE_S,                    218, "i64x2.le_s", NONE, "vv:v", 0) \
    X(I64X2_GE_S,                    219, "i64x2.ge_s", NONE, "vv:v", 0) \
    X(I64X2_EXTMUL_LOW_I32X4_S,      220, "i64x2.extmul_low_i32x4_s", NONE, "vv:v", 0) \
    X(I64X2_EXTMUL_HIGH_I32X4_S,     221, "i64x2.extmul_high_i32x4_s", NONE, "vv:v", 0) \
    X(I64X2_EXTMUL_LOW_I32X4_U,      222, "i64x2.extmul_low_i32x4_u", NONE, "vv:v", 0) \
    X(I64X2_EXTMUL_HIGH_I32X4_U,     223, "i64x2.extmul_high_i32x4_u", NONE, "vv:v", 0) \
    X(F32X4_ABS,                     224, "f32x4.abs", NONE, "v:v", 0) \
    X(F32X4_NEG,                     225, "f32x4.neg", NONE, "v:v", 0) \
    X(F32X4_SQRT,                    227, "f32x4.sqrt", NONE, "v:v", 0) \
    X(F32X4_ADD,                     228, "f32x4.add", NONE, "vv:v", 0) \
    X(F32X4_SUB,                     229, "f32x4.sub", NONE, "vv:v", 0) \
    X(F32X4_MUL,                     230, "f32x4.mul", NONE, "vv:v", 0) \
    X(F32X4_DIV,                     231, "f32x4.div", NONE, "vv:v", 0) \
    X(F32X4_MIN,                     232, "f32x4.min", NONE, "vv:v", 0) \
    X(F32X4_MAX,                     233, "f32x4.max", NONE, "vv:v", 0) \
    X(F32X4_PMIN,                    234, "f32x4.pmin", NONE, "vv:v", 0) \
    X(F32X4_PMAX,                    235, "f32x4.pmax", NONE, "vv:v", 0) \
    X(F64X2_ABS,                     236, "f64x2.abs", NONE, "v:v", 0) \
    X(F64X2_NEG,                     237, "f64x2.neg", NONE, "v:v", 0) \
    X(F64X2_SQRT,                    239, "f64x2.sqrt", NONE, "v:v", 0) \
    X(F64X2_ADD,                     240, "f64x2.add", NONE, "vv:v", 0) \
    X(F64X2_SUB,                     241, "f64x2.sub", NONE, "vv:v", 0) \
    X(F64X2_MUL,                     242, "f64x2.mul", NONE, "vv:v", 0) \
    X(F64X2_DIV,                     243, "f64x2.div", NONE, "vv:v", 0) \
    X(F64X2_MIN,                     244, "f64x2.min", NONE, "vv:v", 0) \
    X(F64X2_MAX,                     245, "f64x2.max", NONE, "vv:v", 0) \
    X(F64X2_PMIN,                    246, "f64x2.pmin", NONE, "vv:v", 0) \
    X(F64X2_PMAX,                    247, "f64x2.pmax", NONE, "vv:v", 0) \
    X(I32X4_TRUNC_SAT_F32X4_S,       248, "i32x4.trunc_sat_f32x4_s", NONE, "v:v", 0) \
    X(I32X4_TRUNC_SAT_F32X4_U,       249, "i32x4.trunc_sat_f32x4_u", NONE, "v:v", 0) \
    X(F32X4_CONVERT_I32X4_S,         250, "f32x4.convert_i32x4_s", NONE, "v:v", 0) \
    X(F32X4_CONVERT_I32X4_U,         251, "f32x4.convert_i32x4_u", NONE, "v:v", 0) \
    X(I32X4_TRUNC_SAT_F64X2_S_ZERO,  252, "i32x4.trunc_sat_f64x2_s_zero", NONE, "v:v", 0) \
    X(I32X4_TRUNC_SAT_F64X2_U_ZERO,  253, "i32x4.trunc_sat_f64x2_u_zero", NONE, "v:v", 0) \
    X(F64X2_CONVERT_LOW_I32X4_S,     254, "f64x2.convert_low_i32x4_s", NONE, "v:v", 0) \
    X(F64X2_CONVERT_LOW_I32X4_U,     255, "f64x2.convert_low_i32x4_u", NONE, "v:v", 0)

#define WD_WASM_OPCODES_FD(X) WD_WASM_OPCODES_FD_MEM(X) WD_WASM_OPCODES_FD_ALU(X)

/* One enum over all families: single-byte opcodes keep their byte value,
 * 0xFC opcodes are numbered from WD_OP_FC_BASE + sub-opcode, 0xFD opcodes from
 * WD_OP_FD_BASE + sub-opcode. */
#define WD_OP_FC_BASE 0x100
#define WD_OP_FC_LIMIT_ (WD_OP_FC_BASE + 18)
#define WD_OP_FD_BASE 0x200
#define WD_OP_FD_LIMIT_ (WD_OP_FD_BASE + 256)
enum {
#define WD_X_(sym, code, text, imm, sig, al) WD_OP_##sym = (code),
    WD_WASM_OPCODES(WD_X_)
#undef WD_X_
#define WD_X_(sym, code, text, imm, sig, al) WD_OP_##sym = WD_OP_FC_BASE + (code),
    WD_WASM_OPCODES_FC(WD_X_)
#undef WD_X_
#define WD_X_(sym, code, text, imm, sig, al) WD_OP_##sym = WD_OP_FD_BASE + (code),
    WD_WASM_OPCODES_FD(WD_X_)
#undef WD_X_
    WD_OP_LIMIT_ = WD_OP_FD_LIMIT_
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
    WD_WASM_OPCODES_FD(WD_X_)
#undef WD_X_
};

#endif /* WD_WASM_OPCODES_H */
