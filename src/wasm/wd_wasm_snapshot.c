/*
 * wd_wasm_snapshot.c -- snapshot/restore of an instance's state.
 *
 * Memory: the snapshot image is written into a memfd, and the live memory
 * [0, size) is replaced by a MAP_PRIVATE mapping of that memfd, so pages no
 * request writes stay shared with the image (an idle pooled instance costs
 * next to no RSS). The memfd is also mapped shared read-only ("image"): the
 * source restore copies from.
 *
 * Every write into the memory is tracked (WD_WASM_DIRTY_MAP in wd_wasm_rt.h):
 * the interpreter's stores, memory.fill/copy/init, and wd_wasm_memory_ptr(),
 * the host's only way to write guest memory (wd_wasm_memory_cptr reads). Restore
 * copies just the 1 KiB granules written since the last snapshot/restore back
 * from the image. No
 * system call, and the copies stay populated, so the next request touching the
 * same pages takes no page fault either (the earlier design dropped written
 * pages with madvise(MADV_DONTNEED): a syscall plus a copy-on-write fault per
 * page touched, per request).
 *
 * Fallback: when a request wrote more than WD_WASM_DIRTY_MAX granules, when
 * restores would keep more than WD_WASM_KEPT_MAX private pages populated
 * across requests, or after wd_wasm_memory_data() (untracked writes), restore drops
 * the whole memory with madvise(MADV_DONTNEED) as before: pages read from the
 * image again and the RSS of a one-off large request is released. Pages
 * grown after the snapshot are anonymous: madvise zeroes them, and
 * mprotect(PROT_NONE) takes them out of the accessible memory (rare, so the
 * two syscalls stay).
 *
 * The copies a memcpy restore leaves populated are private RSS: the embedder
 * calls wd_wasm_trim() on instances that stayed idle for a while to drop them.
 *
 * Shared images: instances of one module usually snapshot the very same bytes
 * (a pool of one handler; 5.5 MB of non-zero pages for a componentize-js one).
 * A memory the module defined looks for an image published by an earlier
 * snapshot of the same module and size and, when every byte is equal, maps
 * that memfd instead of writing its own: one image per module in the process
 * (and in the workers a master forks after making one), reference-counted,
 * freed with its last memory. The first image of a (module, size) is the one
 * published; a memory whose bytes differ keeps a private image as before.
 *
 * Globals, tables (size and contents) and the dropped state of element and
 * data segments are small and are copied.
 */
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include "wd_wasm_rt.h"

/* A snapshot image shared by memories of one module (see the top comment). */
typedef struct wd_wasm_image {
    struct wd_wasm_image *next;
    const void *owner;            /* the module: a key only (bytes are compared) */
    uint64_t size;
    int fd;
    const uint8_t *map;           /* the memfd mapped shared read-only */
    uint32_t refs;                /* memories using it */
} wd_wasm_image_t;

static pthread_mutex_t wd_wasm_images_lock = PTHREAD_MUTEX_INITIALIZER;
static wd_wasm_image_t *wd_wasm_images;

static void wd_wasm_image_unref(wd_wasm_image_t *im)
{
    pthread_mutex_lock(&wd_wasm_images_lock);
    int last = --im->refs == 0;
    if (last) {
        wd_wasm_image_t **pp = &wd_wasm_images;
        while (*pp != im) pp = &(*pp)->next;
        *pp = im->next;
    }
    pthread_mutex_unlock(&wd_wasm_images_lock);
    if (last) {
        munmap((void *)im->map, (size_t)im->size);
        close(im->fd);
        wd_wasm_free(im);
    }
}

/* The published image of (owner, size), with a reference taken, or NULL. */
static wd_wasm_image_t *wd_wasm_image_find(const void *owner, uint64_t size)
{
    pthread_mutex_lock(&wd_wasm_images_lock);
    wd_wasm_image_t *im = wd_wasm_images;
    while (im && !(im->owner == owner && im->size == size)) im = im->next;
    if (im) im->refs++;
    pthread_mutex_unlock(&wd_wasm_images_lock);
    return im;
}

/* Publish a memory's private image as the shared one of (owner, size) unless there is
 * one already; on success the memory's image and fd belong to it. */
static void wd_wasm_image_publish(wd_wasm_memory_t *mem)
{
    wd_wasm_image_t *im = wd_wasm_calloc(1, sizeof(*im));
    if (im == NULL) return;
    im->owner = mem->owner;
    im->size = mem->snap_size;
    im->fd = mem->memfd;
    im->map = mem->image;
    im->refs = 1;
    pthread_mutex_lock(&wd_wasm_images_lock);
    wd_wasm_image_t *o = wd_wasm_images;
    while (o && !(o->owner == im->owner && o->size == im->size)) o = o->next;
    if (o == NULL) {
        im->next = wd_wasm_images;
        wd_wasm_images = im;
    }
    pthread_mutex_unlock(&wd_wasm_images_lock);
    if (o != NULL) {
        wd_wasm_free(im);
        return;
    }
    mem->shared = im;
    mem->memfd = -1;
}

void wd_wasm_memory_image_drop(wd_wasm_memory_t *mem)
{
    if (mem->shared) {
        wd_wasm_image_unref(mem->shared);
    } else {
        if (mem->image) munmap((void *)mem->image, (size_t)mem->snap_size);
        if (mem->memfd >= 0) close(mem->memfd);
    }
    mem->shared = NULL;
    mem->image = NULL;
    mem->memfd = -1;
    mem->snap_size = 0;
}

/* Forget every mark for granules below `bytes` (the whole memory: nothing above
 * it is ever marked). With `release` (snapshot: an idle instance should not hold
 * its map's pages) or a big map, the map goes back to zero pages instead. */
static void wd_wasm_dirty_reset(wd_wasm_memory_t *mem, uint64_t bytes, int release)
{
    uint8_t *map = wd_wasm_dirty_map(mem);
    size_t n = (size_t)((bytes + WD_WASM_DIRTY_GRANULE - 1) >> WD_WASM_DIRTY_SHIFT);
    if (!(release || n > 65536) || madvise(map, (n + 4095) & ~(size_t)4095, MADV_DONTNEED) < 0)
        memset(map, 0, n);
    mem->ndirty = mem->nfresh = mem->nkept = 0;
    mem->dirty_overflow = 0;
}

/* The map byte holding granule g's page marks (WD_WASM_KEPT, WD_WASM_FRESH). */
static inline uint8_t *wd_wasm_page_marks(uint8_t *map, uint64_t g)
{
    return &map[g & ~(uint64_t)(WD_WASM_PAGE_GRANULES - 1)];
}

void wd_wasm_memory_mark(wd_wasm_memory_t *mem, uint64_t off, uint64_t len)
{
    if (len == 0 || off >= mem->size) return;
    if (len > mem->size - off) len = mem->size - off;
    uint8_t *map = wd_wasm_dirty_map(mem);
    uint64_t last = (off + len - 1) >> WD_WASM_DIRTY_SHIFT;
    for (uint64_t g = off >> WD_WASM_DIRTY_SHIFT; g <= last; g++) {
        if (map[g] & WD_WASM_DIRTY) continue;
        map[g] |= WD_WASM_DIRTY;        /* set even past the list: keeps stores on the fast path */
        if (mem->ndirty < WD_WASM_DIRTY_MAX) {
            mem->dirty[mem->ndirty++] = (uint32_t)g;
            uint8_t *page = wd_wasm_page_marks(map, g);
            if (!(*page & (WD_WASM_KEPT | WD_WASM_FRESH))) {
                *page |= WD_WASM_FRESH;
                mem->nfresh++;
            }
        } else {
            mem->dirty_overflow = 1;
        }
    }
}

static int wd_wasm_page_is_zero(const uint8_t *p)
{
    const uint64_t *w = (const uint64_t *)p;
    uint64_t acc = 0;
    for (int i = 0; i < 4096 / 8; i++) acc |= w[i];
    return acc == 0;
}

static int wd_wasm_snap_memory(wd_wasm_memory_t *mem)
{
    /* the same bytes as the image an instance of the same module published: map that */
    wd_wasm_image_t *im = mem->owner && mem->size ? wd_wasm_image_find(mem->owner, mem->size) : NULL;
    if (im && memcmp(mem->base, im->map, (size_t)mem->size) != 0) {
        wd_wasm_image_unref(im);
        im = NULL;
    }
    if (im) {
        void *p = mmap(mem->base, (size_t)mem->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, im->fd, 0);
        if (p == MAP_FAILED) {
            wd_wasm_image_unref(im);
            return -1;
        }
        wd_wasm_memory_image_drop(mem);     /* the previous one (maybe im: referenced twice) */
        wd_wasm_dirty_reset(mem, mem->size, 1);
        mem->shared = im;
        mem->image = im->map;
        mem->snap_size = mem->size;
        return 0;
    }
    wd_wasm_memory_image_drop(mem);
    wd_wasm_dirty_reset(mem, mem->size, 1);
    if (mem->size == 0) return 0;
    /* a new memfd each time: the memory may still be a private mapping of the old
       one, read below. All-zero pages are left as holes: they read as zeros and
       cost no memory. */
    int fd = memfd_create("wasmd-snapshot", MFD_CLOEXEC);
    if (fd < 0) return -1;
    if (ftruncate(fd, (off_t)mem->size) < 0) goto fail;
    for (uint64_t off = 0; off < mem->size;) {
        while (off < mem->size && wd_wasm_page_is_zero(mem->base + off)) off += 4096;
        uint64_t end = off;
        while (end < mem->size && !wd_wasm_page_is_zero(mem->base + end)) end += 4096;
        while (off < end) {
            ssize_t n = pwrite(fd, mem->base + off, (size_t)(end - off), (off_t)off);
            if (n <= 0) goto fail;
            off += (uint64_t)n;
        }
    }
    void *p = mmap(mem->base, (size_t)mem->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0);
    if (p == MAP_FAILED) goto fail;
    mem->memfd = fd;
    p = mmap(NULL, (size_t)mem->size, PROT_READ, MAP_SHARED, mem->memfd, 0);
    if (p == MAP_FAILED) return -1;
    mem->image = p;
    mem->snap_size = mem->size;
    if (mem->owner) wd_wasm_image_publish(mem);
    return 0;
fail:
    close(fd);
    return -1;
}

static int wd_wasm_restore_memory(wd_wasm_memory_t *mem)
{
    uint64_t size = mem->size, snap = mem->snap_size;
    if (size < snap) return -1;     /* memories never shrink */
    if (!mem->dirty_overflow && (mem->image || snap == 0) &&
        mem->nkept + mem->nfresh <= WD_WASM_KEPT_MAX) {
        uint8_t *map = wd_wasm_dirty_map(mem);
        for (uint32_t i = 0; i < mem->ndirty; i++) {
            uint64_t g = mem->dirty[i], off = g << WD_WASM_DIRTY_SHIFT;
            uint8_t *page = wd_wasm_page_marks(map, g);
            if (off < snap) {
                memcpy(mem->base + off, mem->image + off, WD_WASM_DIRTY_GRANULE);
                map[g] &= (uint8_t)~WD_WASM_DIRTY;
                if (*page & WD_WASM_FRESH) {
                    *page = (uint8_t)((*page & ~WD_WASM_FRESH) | WD_WASM_KEPT);
                    mem->nkept++;
                }
            } else {
                map[g] = 0;             /* grown since the snapshot: dropped below */
                *page = 0;              /* (snap is a multiple of 64 KiB: so is the page) */
            }
        }
        mem->ndirty = mem->nfresh = 0;
        mem->restores_fast++;
        if (size > snap && madvise(mem->base + snap, (size_t)(size - snap), MADV_DONTNEED) < 0) return -1;
    } else {
        if (size && madvise(mem->base, (size_t)size, MADV_DONTNEED) < 0) return -1;
        wd_wasm_dirty_reset(mem, size, 0);
        mem->restores_full++;
    }
    if (size > snap && mprotect(mem->base + snap, (size_t)(size - snap), PROT_NONE) < 0) return -1;
    mem->size = snap;
    mem->pages = (uint32_t)(snap / 65536);
    return 0;
}

int wd_wasm_snapshot(wd_wasm_instance_t *inst)
{
    const wd_wasm_module_t *m = inst->module;
    if (inst->suspended) return -1;
    if (!inst->has_snap) {
        inst->snap_globals = wd_wasm_calloc(2 * (size_t)m->nglobals + 1, sizeof(uint64_t));  /* val, val_hi */
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
    for (uint32_t i = 0; i < m->nglobals; i++) {
        inst->snap_globals[2 * i] = inst->globals[i]->val;
        inst->snap_globals[2 * i + 1] = inst->globals[i]->val_hi;
    }
    memcpy(inst->snap_elem_len, inst->elem_len, (size_t)m->nelems * sizeof(uint32_t));
    memcpy(inst->snap_data_len, inst->data_len, (size_t)m->ndatas * sizeof(uint32_t));
    inst->has_snap = 1;
    return 0;
}

size_t wd_wasm_trim(wd_wasm_instance_t *inst)
{
    wd_wasm_memory_t *mem = inst->mem;
    /* the pages of the call stack a call left populated: nothing lives there between calls */
    if (inst->stack_used && !inst->suspended && inst->depth == 0 &&
        madvise(inst->stack, inst->stack_bytes, MADV_DONTNEED) == 0)
        inst->stack_used = 0;
    if (!inst->has_snap || inst->suspended || mem == NULL || mem->image == NULL ||
        mem->nkept == 0 || mem->ndirty != 0 || mem->size != mem->snap_size)
        return 0;
    size_t kept = (size_t)mem->nkept * WD_WASM_PAGE_GRANULES * WD_WASM_DIRTY_GRANULE;
    if (madvise(mem->base, (size_t)mem->size, MADV_DONTNEED) < 0) return 0;
    /* the image pages restores read are mapped too (counted in RSS): unmap them, the
       memfd keeps the data */
    (void)madvise((void *)mem->image, (size_t)mem->snap_size, MADV_DONTNEED);
    wd_wasm_dirty_reset(mem, mem->size, 1);
    return kept;
}

int wd_wasm_restore(wd_wasm_instance_t *inst)
{
    const wd_wasm_module_t *m = inst->module;
    if (!inst->has_snap) return -1;
    if (inst->suspended) wd_wasm_abort(inst);
    if (inst->mem && wd_wasm_restore_memory(inst->mem) < 0) return -1;
    for (uint32_t i = 0; i < m->nglobals; i++) {
        inst->globals[i]->val = inst->snap_globals[2 * i];
        inst->globals[i]->val_hi = inst->snap_globals[2 * i + 1];
    }
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
    inst->fuel_reserve = 0;
    inst->depth = 0;
    inst->s_direct_args = NULL;
    inst->trap.kind = WD_TRAP_NONE;
    return 0;
}
