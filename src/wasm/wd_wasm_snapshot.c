/*
 * wd_wasm_snapshot.c -- snapshot/restore of an instance's state.
 *
 * Memory: the snapshot image is written into a memfd, and the live memory
 * [0, size) is replaced by a MAP_PRIVATE mapping of that memfd. Pages the
 * guest writes afterwards become private copies; restore drops them with
 * madvise(MADV_DONTNEED), after which the pages read from the image again.
 * Pages grown after the snapshot are anonymous: the same madvise zeroes
 * them, and mprotect(PROT_NONE) takes them out of the accessible memory.
 * The kernel only visits populated page tables, so the cost scales with the
 * pages touched since the snapshot, not with the memory size.
 *
 * Globals, tables (size and contents) and the dropped state of element and
 * data segments are small and are copied.
 */
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include "wd_wasm_rt.h"

static int wd_wasm_snap_memory(wd_wasm_memory_t *mem)
{
    if (mem->size == 0) {
        mem->snap_size = 0;
        return 0;
    }
    if (mem->memfd < 0) {
        mem->memfd = memfd_create("wasmd-snapshot", MFD_CLOEXEC);
        if (mem->memfd < 0) return -1;
    }
    if (ftruncate(mem->memfd, (off_t)mem->size) < 0) return -1;
    uint64_t off = 0;
    while (off < mem->size) {
        ssize_t n = pwrite(mem->memfd, mem->base + off, (size_t)(mem->size - off), (off_t)off);
        if (n <= 0) return -1;
        off += (uint64_t)n;
    }
    void *p = mmap(mem->base, (size_t)mem->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED,
                   mem->memfd, 0);
    if (p == MAP_FAILED) return -1;
    mem->snap_size = mem->size;
    return 0;
}

static int wd_wasm_restore_memory(wd_wasm_memory_t *mem)
{
    if (mem->size && madvise(mem->base, (size_t)mem->size, MADV_DONTNEED) < 0) return -1;
    if (mem->size > mem->snap_size) {
        if (mprotect(mem->base + mem->snap_size, (size_t)(mem->size - mem->snap_size), PROT_NONE) < 0)
            return -1;
    } else if (mem->size < mem->snap_size) {
        return -1;     /* memories never shrink */
    }
    mem->size = mem->snap_size;
    mem->pages = (uint32_t)(mem->snap_size / 65536);
    return 0;
}

int wd_wasm_snapshot(wd_wasm_instance_t *inst)
{
    const wd_wasm_module_t *m = inst->module;
    if (inst->suspended) return -1;
    if (!inst->has_snap) {
        inst->snap_globals = wd_wasm_calloc((size_t)m->nglobals + 1, sizeof(uint64_t));
        inst->snap_elem_len = wd_wasm_calloc((size_t)m->nelems + 1, sizeof(uint32_t));
        inst->snap_data_len = wd_wasm_calloc((size_t)m->ndatas + 1, sizeof(uint32_t));
        inst->snap_table_size = wd_wasm_calloc((size_t)m->ntables + 1, sizeof(uint32_t));
        inst->snap_table_elems = wd_wasm_calloc((size_t)m->ntables + 1, sizeof(uint64_t *));
        if (!inst->snap_globals || !inst->snap_elem_len || !inst->snap_data_len ||
            !inst->snap_table_size || !inst->snap_table_elems)
            return -1;     /* freed with the instance */
    }
    for (uint32_t i = 0; i < m->ntables; i++) {
        wd_wasm_table_t *t = inst->tables[i];
        uint64_t *e = wd_wasm_realloc(inst->snap_table_elems[i], ((size_t)t->size + 1) * sizeof(uint64_t));
        if (e == NULL) return -1;
        memcpy(e, t->elems, (size_t)t->size * sizeof(uint64_t));
        inst->snap_table_elems[i] = e;
        inst->snap_table_size[i] = t->size;
    }
    if (inst->mem && wd_wasm_snap_memory(inst->mem) < 0) return -1;
    for (uint32_t i = 0; i < m->nglobals; i++) inst->snap_globals[i] = inst->globals[i]->val;
    memcpy(inst->snap_elem_len, inst->elem_len, (size_t)m->nelems * sizeof(uint32_t));
    memcpy(inst->snap_data_len, inst->data_len, (size_t)m->ndatas * sizeof(uint32_t));
    inst->has_snap = 1;
    return 0;
}

int wd_wasm_restore(wd_wasm_instance_t *inst)
{
    const wd_wasm_module_t *m = inst->module;
    if (!inst->has_snap) return -1;
    if (inst->suspended) wd_wasm_abort(inst);
    if (inst->mem && wd_wasm_restore_memory(inst->mem) < 0) return -1;
    for (uint32_t i = 0; i < m->nglobals; i++) inst->globals[i]->val = inst->snap_globals[i];
    memcpy(inst->elem_len, inst->snap_elem_len, (size_t)m->nelems * sizeof(uint32_t));
    memcpy(inst->data_len, inst->snap_data_len, (size_t)m->ndatas * sizeof(uint32_t));
    for (uint32_t i = 0; i < m->ntables; i++) {
        wd_wasm_table_t *t = inst->tables[i];
        uint32_t n = inst->snap_table_size[i];
        memcpy(t->elems, inst->snap_table_elems[i], (size_t)n * sizeof(uint64_t));
        t->size = n;       /* tables never shrink below the snapshot: elems holds >= n */
    }
    __atomic_store_n(&inst->attn, 0, __ATOMIC_RELAXED);   /* interrupt and yield */
    inst->yield_deferred = 0;
    inst->depth = 0;
    inst->s_direct_args = NULL;
    inst->trap.kind = WD_TRAP_NONE;
    return 0;
}
