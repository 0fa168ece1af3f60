/*
 * wd_event_sendfile.h -- file bytes to a plain TCP connection with sendfile(2), without
 * blocking the worker's loop.
 *
 * When every page of the range is in the page cache (mincore() on a PROT_READ mapping of
 * it) sendfile cannot wait for the disk and runs on the loop, as nginx's does; otherwise it
 * runs on libuv's thread pool (uv_queue_work; not uv_fs_sendfile, which tries
 * copy_file_range first and falls back to read + write for a socket), so a file not in the
 * page cache never blocks the loop. The socket is non-blocking: when it is full (EAGAIN or
 * a short count) the loop waits until it is writable with a uv_poll on a dup() of it
 * (libuv allows one handle per descriptor); the thread pool also writes to that duplicate,
 * which keeps the socket from being reused while a sendfile is in flight, so a connection
 * closed meanwhile only makes that sendfile fail. TLS connections cannot use it (the bytes
 * must be encrypted): callers read and write instead.
 */
#ifndef WD_EVENT_SENDFILE_H
#define WD_EVENT_SENDFILE_H

#include "wd_event.h"

typedef struct wd_sendfile_s wd_sendfile_t;

/* status: 0 when all bytes were sent, else a negative libuv error. Called on the loop. */
typedef void (*wd_sendfile_pt)(wd_sendfile_t *sf, int status);

struct wd_sendfile_s {
    wd_connection_t    *c;
    int                 in_fd;
    int                 sock_fd;    /* the connection's socket (used on the loop only) */
    int                 out_fd;     /* dup() of it for the thread pool and the poll, made
                                       when first needed; -1: none yet */
    int                 use_fd;     /* the descriptor the current sendfile writes to */
    int64_t             off;        /* next file offset */
    size_t              left;       /* bytes still to send */
    size_t              max_chunk;  /* per sendfile call (nginx's sendfile_max_chunk; after
                                       one the loop serves other events); 0: no limit */
    uint64_t            sent;       /* bytes sent so far (all calls) */
    wd_sendfile_pt      done;
    wd_sendfile_pt      progress;   /* NULL, or called after each partial send (status 0) */
    void               *data;       /* the caller's */
    void              (*free_cb)(wd_sendfile_t *sf);
    uv_work_t           req;
    size_t              chunk;      /* bytes asked of the current sendfile */
    ssize_t             result;     /* of the last sendfile: bytes, or -errno */
    uv_poll_t           poll;
    unsigned            busy:1;     /* a sendfile is on the thread pool */
    unsigned            polling:1;  /* poll handle initialized */
    unsigned            waiting:1;  /* waiting for writability */
    unsigned            closing:1;  /* wd_sendfile_close() called */
    /* the caller knows the file's pages were resident a moment ago (it saw found_resident
     * for the whole file less than a second before): no residency check, sendfile runs on
     * the loop as nginx's always does (an eviction since costs one wait for the disk) */
    unsigned            assume_resident:1;
    unsigned            found_resident:1;   /* out: a check found [off, off+chunk) resident */
};

/* Prepares sf (allocated by the caller) for c. WD_OK or WD_ERROR (TLS connection). */
int  wd_sendfile_init(wd_sendfile_t *sf, wd_connection_t *c);

/* Sends len bytes of in_fd from off; calls done once. WD_OK or WD_ERROR. */
int  wd_sendfile_start(wd_sendfile_t *sf, int in_fd, int64_t off, size_t len,
                       wd_sendfile_pt done);

/* Ends the use of sf (also mid-transfer: done is not called any more). free_cb(sf) runs
 * when its memory may be freed (later, when a sendfile is in flight). */
void wd_sendfile_close(wd_sendfile_t *sf, void (*free_cb)(wd_sendfile_t *sf));

#endif /* WD_EVENT_SENDFILE_H */
