/* Internal helpers shared by the wd_cabi_*.c files. */
#ifndef WD_CABI_INT_H
#define WD_CABI_INT_H

#include "wd_cabi.h"

/* Calls the guest's realloc (or cx->realloc_cb); 0 or -1 (trap). Does not check the result:
   the callers make the spec's alignment and bounds checks. */
int wd_cabi_realloc(wd_cabi_cx_t *cx, uint32_t old, uint32_t old_size, uint32_t align,
                    uint32_t new_size, uint32_t *ptr);

/* Writable guest range (marked written for restore), NULL if out of bounds. */
static inline uint8_t *
wd_cabi_wptr(wd_cabi_cx_t *cx, uint64_t off, uint64_t len)
{
    return wd_wasm_memory_ptr(cx->mem, off, len);
}

/* Handle lifting/lowering (wd_cabi_handles.c). */
int wd_cabi_lift_own(wd_cabi_cx_t *cx, const wd_comp_type_t *t, uint32_t idx, uint32_t *rep);
int wd_cabi_lift_borrow(wd_cabi_cx_t *cx, const wd_comp_type_t *t, uint32_t idx, uint32_t *rep);
int wd_cabi_lower_own(wd_cabi_cx_t *cx, const wd_comp_type_t *t, uint32_t rep, uint32_t *idx);
int wd_cabi_lower_borrow(wd_cabi_cx_t *cx, const wd_comp_type_t *t, uint32_t rep,
                         uint32_t *idx);
/* End of a call's scope: undo the lends recorded by lift_borrow. */
void wd_cabi_scope_end(wd_cabi_cx_t *cx, wd_cabi_scope_t *s);

/* charge n bytes of lifting work; -1 (trap) past the limit */
static inline int
wd_cabi_charge(wd_cabi_cx_t *cx, uint64_t n)
{
    cx->work += n;
    if (cx->work > (cx->work_limit ? cx->work_limit : WD_CABI_WORK_LIMIT)) {
        cx->trap = "value too large to lift";
        return -1;
    }
    return 0;
}

#define WD_CANON_NAN32 0x7fc00000u
#define WD_CANON_NAN64 0x7ff8000000000000ull

#endif
