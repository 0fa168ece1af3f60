#!/usr/bin/env python3
"""t/hostile/gen_abi_wat.py -- writes hostile-abi.wat, a hand-rolled wasi:http handler that
attacks the host-call boundary in the way selected by the query string (GET /abi?NAME):

  wrap:*   every wasi:http import and every wasi_snapshot_preview1 function that takes a guest
           pointer, called with valid handles but a pointer+length that wraps past 4 GiB
           (ptr 0xFFFFFFF0 + len 0x20, a return area at 0xFFFFFFF8, or a list whose
           count*element-size wraps 32 bits). wasi:http calls must trap (500, "out of
           bounds" in the log); preview1 calls must return EFAULT (21), which the handler
           reports as the body "errno=21" (and any other errno as itself).
  handle:* forged handles (0, 0xFFFFFFFF, 0x80000000, 10001, 12345), double drops, use after a
           consuming call, finishing a body whose stream is alive -> trap (500).
  inject:* CR/LF/NUL/control bytes in field names and values through fields.append, .set and
           .from-list: every attempt must be refused; the handler answers 200 with one
           character per attempt ('1' refused, '0' accepted) and the accepted fields as the
           response's headers (so anything that slipped through would be on the wire).

Usage: gen_abi_wat.py OUT.wat            (the test imports CASES from this file)
"""
import sys

T = "wasi:http/types@0.2.0"
S = "wasi:io/streams@0.2.0"
P1 = "wasi_snapshot_preview1"

# name -> (module, field, core signature "params:results")
IMPORTS = {
    # wasi:http/types
    "req_method": (T, "[method]incoming-request.method", "ii:"),
    "req_path": (T, "[method]incoming-request.path-with-query", "ii:"),
    "req_scheme": (T, "[method]incoming-request.scheme", "ii:"),
    "req_authority": (T, "[method]incoming-request.authority", "ii:"),
    "req_headers": (T, "[method]incoming-request.headers", "i:i"),
    "req_consume": (T, "[method]incoming-request.consume", "ii:"),
    "req_drop": (T, "[resource-drop]incoming-request", "i:"),
    "inbody_stream": (T, "[method]incoming-body.stream", "ii:"),
    "inbody_finish": (T, "[static]incoming-body.finish", "i:i"),
    "futtrail_get": (T, "[method]future-trailers.get", "ii:"),
    "fields_new": (T, "[constructor]fields", ":i"),
    "fields_from_list": (T, "[static]fields.from-list", "iii:"),
    "fields_get": (T, "[method]fields.get", "iiii:"),
    "fields_has": (T, "[method]fields.has", "iii:i"),
    "fields_set": (T, "[method]fields.set", "iiiiii:"),
    "fields_delete": (T, "[method]fields.delete", "iiii:"),
    "fields_append": (T, "[method]fields.append", "iiiiii:"),
    "fields_entries": (T, "[method]fields.entries", "ii:"),
    "fields_drop": (T, "[resource-drop]fields", "i:"),
    "resp_new": (T, "[constructor]outgoing-response", "i:i"),
    "resp_set_status": (T, "[method]outgoing-response.set-status-code", "ii:i"),
    "resp_body": (T, "[method]outgoing-response.body", "ii:"),
    "obody_write": (T, "[method]outgoing-body.write", "ii:"),
    "obody_finish": (T, "[static]outgoing-body.finish", "iiii:"),
    "outparam_set": (T, "[static]response-outparam.set", "iiiiIiiii:"),
    "outparam_info": (T, "[method]response-outparam.send-informational", "iiii:"),
    "http_error_code": (T, "http-error-code", "ii:"),
    "outreq_new": (T, "[constructor]outgoing-request", "i:i"),
    "outreq_body": (T, "[method]outgoing-request.body", "ii:"),
    "outreq_method": (T, "[method]outgoing-request.method", "ii:"),
    "outreq_set_method": (T, "[method]outgoing-request.set-method", "iiii:i"),
    "outreq_path": (T, "[method]outgoing-request.path-with-query", "ii:"),
    "outreq_set_path": (T, "[method]outgoing-request.set-path-with-query", "iiii:i"),
    "outreq_scheme": (T, "[method]outgoing-request.scheme", "ii:"),
    "outreq_set_scheme": (T, "[method]outgoing-request.set-scheme", "iiiii:i"),
    "outreq_authority": (T, "[method]outgoing-request.authority", "ii:"),
    "outreq_set_authority": (T, "[method]outgoing-request.set-authority", "iiii:i"),
    "ro_new": (T, "[constructor]request-options", ":i"),
    "ro_connect": (T, "[method]request-options.connect-timeout", "ii:"),
    "ro_first_byte": (T, "[method]request-options.first-byte-timeout", "ii:"),
    "ro_between": (T, "[method]request-options.between-bytes-timeout", "ii:"),
    "outgoing_handle": ("wasi:http/outgoing-handler@0.2.0", "handle", "iiii:"),
    # wasi:io
    "in_read": (S, "[method]input-stream.read", "iIi:"),
    "in_blocking_read": (S, "[method]input-stream.blocking-read", "iIi:"),
    "in_skip": (S, "[method]input-stream.skip", "iIi:"),
    "in_blocking_skip": (S, "[method]input-stream.blocking-skip", "iIi:"),
    "out_check_write": (S, "[method]output-stream.check-write", "ii:"),
    "out_write": (S, "[method]output-stream.write", "iiii:"),
    "out_bwf": (S, "[method]output-stream.blocking-write-and-flush", "iiii:"),
    "out_flush": (S, "[method]output-stream.flush", "ii:"),
    "out_blocking_flush": (S, "[method]output-stream.blocking-flush", "ii:"),
    "out_write_zeroes": (S, "[method]output-stream.write-zeroes", "iIi:"),
    "out_bwz": (S, "[method]output-stream.blocking-write-zeroes-and-flush", "iIi:"),
    "out_splice": (S, "[method]output-stream.splice", "iiIi:"),
    "out_blocking_splice": (S, "[method]output-stream.blocking-splice", "iiIi:"),
    "out_drop": (S, "[resource-drop]output-stream", "i:"),
    "poll": ("wasi:io/poll@0.2.0", "poll", "iii:"),
    "error_debug": ("wasi:io/error@0.2.0", "[method]error.to-debug-string", "ii:"),
    "get_stdin": ("wasi:cli/stdin@0.2.0", "get-stdin", ":i"),
    "get_stdout": ("wasi:cli/stdout@0.2.0", "get-stdout", ":i"),
    "get_env": ("wasi:cli/environment@0.2.0", "get-environment", "i:"),
    "get_args": ("wasi:cli/environment@0.2.0", "get-arguments", "i:"),
    "initial_cwd": ("wasi:cli/environment@0.2.0", "initial-cwd", "i:"),
    "mono_sub_dur": ("wasi:clocks/monotonic-clock@0.2.0", "subscribe-duration", "I:i"),
    "wall_now": ("wasi:clocks/wall-clock@0.2.0", "now", "i:"),
    "wall_res": ("wasi:clocks/wall-clock@0.2.0", "resolution", "i:"),
    "random_bytes": ("wasi:random/random@0.2.0", "get-random-bytes", "Ii:"),
    "insecure_bytes": ("wasi:random/insecure@0.2.0", "get-insecure-random-bytes", "Ii:"),
    "insecure_seed": ("wasi:random/insecure-seed@0.2.0", "insecure-seed", "i:"),
    # preview1 (all return an errno)
    "args_get": (P1, "args_get", "ii:i"),
    "args_sizes_get": (P1, "args_sizes_get", "ii:i"),
    "environ_get": (P1, "environ_get", "ii:i"),
    "environ_sizes_get": (P1, "environ_sizes_get", "ii:i"),
    "clock_res_get": (P1, "clock_res_get", "ii:i"),
    "clock_time_get": (P1, "clock_time_get", "iIi:i"),
    "random_get": (P1, "random_get", "ii:i"),
    "poll_oneoff": (P1, "poll_oneoff", "iiii:i"),
    "fd_fdstat_get": (P1, "fd_fdstat_get", "ii:i"),
    "fd_filestat_get": (P1, "fd_filestat_get", "ii:i"),
    "fd_pread": (P1, "fd_pread", "iiiIi:i"),
    "fd_prestat_get": (P1, "fd_prestat_get", "ii:i"),
    "fd_prestat_dir_name": (P1, "fd_prestat_dir_name", "iii:i"),
    "fd_pwrite": (P1, "fd_pwrite", "iiiIi:i"),
    "fd_read": (P1, "fd_read", "iiii:i"),
    "fd_readdir": (P1, "fd_readdir", "iiiIi:i"),
    "fd_seek": (P1, "fd_seek", "iIii:i"),
    "fd_tell": (P1, "fd_tell", "ii:i"),
    "fd_write": (P1, "fd_write", "iiii:i"),
    "path_create_directory": (P1, "path_create_directory", "iii:i"),
    "path_filestat_get": (P1, "path_filestat_get", "iiiii:i"),
    "path_filestat_set_times": (P1, "path_filestat_set_times", "iiiiIIi:i"),
    "path_link": (P1, "path_link", "iiiiiii:i"),
    "path_open": (P1, "path_open", "iiiiiIIii:i"),
    "path_readlink": (P1, "path_readlink", "iiiiii:i"),
    "path_remove_directory": (P1, "path_remove_directory", "iii:i"),
    "path_rename": (P1, "path_rename", "iiiiii:i"),
    "path_symlink": (P1, "path_symlink", "iiiii:i"),
    "path_unlink_file": (P1, "path_unlink_file", "iii:i"),
}

B = "(i32.const -16)"       # 0xFFFFFFF0
L = "(i32.const 32)"        # B + L = 0x1_0000_0010: wraps to 0x10 in 32 bits
R = "(i32.const -8)"        # 0xFFFFFFF8: a return area (8-aligned) that wraps
OK = "(i32.const 64)"       # "x-test" (6 bytes), a valid string
OKL = "(i32.const 6)"
RET = "(i32.const 256)"     # a valid return area
PRE = "(i32.const 3)"       # the preopened directory (wasm_dir)


def c(name, *args):
    return "(call $%s %s)" % (name, " ".join(args))


# Helpers defined in the module: $f (new fields), $resp, $obody, $ostream (response body
# stream), $inbody, $instream, $futtrail, $outreq, $ro, $pollable, $error.
# wasi:http cases: (name, body); the body's call must trap.
HTTP = [
    ("req_method", c("req_method", "(local.get $req)", R)),
    ("req_path", c("req_path", "(local.get $req)", R)),
    ("req_scheme", c("req_scheme", "(local.get $req)", R)),
    ("req_authority", c("req_authority", "(local.get $req)", R)),
    ("req_consume", c("req_consume", "(local.get $req)", R)),
    ("inbody_stream", c("inbody_stream", "(call $inbody (local.get $req))", R)),
    ("futtrail_get", c("futtrail_get", "(call $futtrail (local.get $req))", R)),
    ("fields_from_list", c("fields_from_list", B, "(i32.const 0x10000001)", RET)),
    ("fields_from_list_entry", "(i32.store (i32.const 512) (i32.const -16)) (i32.store (i32.const 516) (i32.const 32))"
     "(i32.store (i32.const 520) (i32.const 64)) (i32.store (i32.const 524) (i32.const 1))"
     + c("fields_from_list", "(i32.const 512)", "(i32.const 1)", RET)),
    ("fields_from_list_ret", c("fields_from_list", "(i32.const 512)", "(i32.const 0)", R)),
    ("fields_get", c("fields_get", "(call $f)", B, L, RET)),
    ("fields_get_ret", c("fields_get", "(call $f)", OK, OKL, R)),
    ("fields_has", "(drop %s)" % c("fields_has", "(call $f)", B, L)),
    ("fields_set_name", c("fields_set", "(call $f)", B, L, "(i32.const 512)", "(i32.const 0)", RET)),
    ("fields_set_list", c("fields_set", "(call $f)", OK, OKL, "(i32.const -8)", "(i32.const 0x20000001)", RET)),
    ("fields_set_value", "(i32.store (i32.const 512) (i32.const -16)) (i32.store (i32.const 516) (i32.const 32))"
     + c("fields_set", "(call $f)", OK, OKL, "(i32.const 512)", "(i32.const 1)", RET)),
    ("fields_set_ret", c("fields_set", "(call $f)", OK, OKL, "(i32.const 512)", "(i32.const 0)", R)),
    ("fields_delete", c("fields_delete", "(call $f)", B, L, RET)),
    ("fields_delete_ret", c("fields_delete", "(call $f)", OK, OKL, R)),
    ("fields_append_name", c("fields_append", "(call $f)", B, L, OK, OKL, RET)),
    ("fields_append_value", c("fields_append", "(call $f)", OK, OKL, B, L, RET)),
    ("fields_append_ret", c("fields_append", "(call $f)", OK, OKL, OK, OKL, R)),
    ("fields_entries", c("fields_entries", "(call $f)", R)),
    ("resp_body", c("resp_body", "(call $resp)", R)),
    ("obody_write", c("obody_write", "(call $obody)", R)),
    ("obody_finish", c("obody_finish", "(call $obody)", "(i32.const 0)", "(i32.const 0)", R)),
    ("outparam_set_msg", c("outparam_set", "(local.get $out)", "(i32.const 1)", "(i32.const 38)",
                           "(i32.const 1)", "(i64.const 0xFFFFFFF0)", "(i32.const 32)",
                           "(i32.const 0)", "(i32.const 0)", "(i32.const 0)")),
    ("outparam_info", c("outparam_info", "(local.get $out)", "(i32.const 103)", "(call $f)", R)),
    ("http_error_code", c("http_error_code", "(call $error)", R)),
    ("outreq_body", c("outreq_body", "(call $outreq)", R)),
    ("outreq_method", c("outreq_method", "(call $outreq)", R)),
    ("outreq_set_method", "(drop %s)" % c("outreq_set_method", "(call $outreq)", "(i32.const 9)", B, L)),
    ("outreq_path", c("outreq_path", "(call $outreq)", R)),
    ("outreq_set_path", "(drop %s)" % c("outreq_set_path", "(call $outreq)", "(i32.const 1)", B, L)),
    ("outreq_scheme", c("outreq_scheme", "(call $outreq)", R)),
    ("outreq_set_scheme", "(drop %s)" % c("outreq_set_scheme", "(call $outreq)", "(i32.const 1)",
                                          "(i32.const 2)", B, L)),
    ("outreq_authority", c("outreq_authority", "(call $outreq)", R)),
    ("outreq_set_authority", "(drop %s)" % c("outreq_set_authority", "(call $outreq)", "(i32.const 1)", B, L)),
    ("ro_connect", c("ro_connect", "(call $ro_new)", R)),
    ("ro_first_byte", c("ro_first_byte", "(call $ro_new)", R)),
    ("ro_between", c("ro_between", "(call $ro_new)", R)),
    ("outgoing_handle", c("outgoing_handle", "(call $outreq)", "(i32.const 0)", "(i32.const 0)", R)),
    ("in_read", c("in_read", "(call $instream (local.get $req))", "(i64.const 16)", R)),
    ("in_blocking_read", c("in_blocking_read", "(call $instream (local.get $req))", "(i64.const 16)", R)),
    ("in_skip", c("in_skip", "(call $instream (local.get $req))", "(i64.const 16)", R)),
    ("in_blocking_skip", c("in_blocking_skip", "(call $instream (local.get $req))", "(i64.const 16)", R)),
    ("out_check_write", c("out_check_write", "(call $ostream)", R)),
    ("out_write", c("out_write", "(call $ostream)", B, L, RET)),
    ("out_write_ret", c("out_write", "(call $ostream)", OK, OKL, R)),
    ("out_bwf", c("out_bwf", "(call $ostream)", B, L, RET)),
    ("out_bwf_ret", c("out_bwf", "(call $ostream)", OK, OKL, R)),
    ("out_flush", c("out_flush", "(call $ostream)", R)),
    ("out_blocking_flush", c("out_blocking_flush", "(call $ostream)", R)),
    ("out_write_zeroes", c("out_write_zeroes", "(call $ostream)", "(i64.const 4)", R)),
    ("out_bwz", c("out_bwz", "(call $ostream)", "(i64.const 4)", R)),
    ("out_splice", c("out_splice", "(call $ostream)", "(call $instream (local.get $req))", "(i64.const 4)", R)),
    ("out_blocking_splice", c("out_blocking_splice", "(call $ostream)", "(call $instream (local.get $req))",
                              "(i64.const 4)", R)),
    ("stdout_write", c("out_write", "(call $get_stdout)", B, L, RET)),
    ("poll_list", c("poll", B, "(i32.const 0x40000001)", RET)),
    ("poll_ret", "(i32.store (i32.const 512) (call $mono_sub_dur (i64.const 0)))"
     + c("poll", "(i32.const 512)", "(i32.const 1)", R)),
    ("error_debug", c("error_debug", "(call $error)", R)),
    ("get_env", c("get_env", R)),
    ("get_args", c("get_args", R)),
    ("initial_cwd", c("initial_cwd", R)),
    ("wall_now", c("wall_now", R)),
    ("wall_res", c("wall_res", R)),
    ("random_bytes", c("random_bytes", "(i64.const 16)", R)),
    ("insecure_bytes", c("insecure_bytes", "(i64.const 16)", R)),
    ("insecure_seed", c("insecure_seed", R)),
    ("realloc_result", "(global.set $bad_alloc (i32.const 1))" + c("req_path", "(local.get $req)", RET)),
]

# preview1 cases: (name, errno-returning expression). An iovec at 512 = {0xFFFFFFF0, 32}.
IOV = "(i32.store (i32.const 512) (i32.const -16)) (i32.store (i32.const 516) (i32.const 32))"
P1CASES = [
    ("args_get", c("args_get", B, RET)),
    ("args_get_buf", c("args_get", RET, B)),
    ("args_sizes_get", c("args_sizes_get", R, RET)),
    ("environ_get", c("environ_get", B, RET)),
    ("environ_get_buf", c("environ_get", RET, B)),
    ("environ_sizes_get", c("environ_sizes_get", RET, R)),
    ("clock_res_get", c("clock_res_get", "(i32.const 1)", R)),
    ("clock_time_get", c("clock_time_get", "(i32.const 1)", "(i64.const 1)", R)),
    ("random_get", c("random_get", B, L)),
    ("poll_oneoff_in", c("poll_oneoff", B, "(i32.const 1024)", "(i32.const 1)", RET)),
    ("poll_oneoff_count", c("poll_oneoff", "(i32.const 1024)", "(i32.const 2048)",
                            "(i32.const 0x05555556)", RET)),
    ("poll_oneoff_nevents", c("poll_oneoff", "(i32.const 1024)", "(i32.const 2048)", "(i32.const 0)", R)),
    ("fd_fdstat_get", c("fd_fdstat_get", "(i32.const 1)", R)),
    ("fd_filestat_get", c("fd_filestat_get", PRE, R)),
    ("fd_prestat_get", c("fd_prestat_get", PRE, R)),
    ("fd_prestat_dir_name", c("fd_prestat_dir_name", PRE, B, L)),
    ("fd_read_iovs", c("fd_read", "(i32.const 0)", B, "(i32.const 2)", RET)),
    ("fd_read_iovcount", c("fd_read", "(i32.const 0)", "(i32.const 512)", "(i32.const 0x20000001)", RET)),
    ("fd_read_buf", IOV + c("fd_read", "(i32.const 0)", "(i32.const 512)", "(i32.const 1)", RET)),
    ("fd_read_nread", c("fd_read", "(i32.const 0)", "(i32.const 512)", "(i32.const 0)", R)),
    ("fd_write_iovs", c("fd_write", "(i32.const 1)", B, "(i32.const 2)", RET)),
    ("fd_write_iovcount", c("fd_write", "(i32.const 1)", "(i32.const 512)", "(i32.const 0x20000001)", RET)),
    ("fd_write_buf", IOV + c("fd_write", "(i32.const 1)", "(i32.const 512)", "(i32.const 1)", RET)),
    ("fd_write_nwritten", c("fd_write", "(i32.const 1)", "(i32.const 512)", "(i32.const 0)", R)),
    ("fd_pread", c("fd_pread", "(i32.const 0)", B, "(i32.const 2)", "(i64.const 0)", RET)),
    ("fd_pwrite", c("fd_pwrite", "(i32.const 1)", B, "(i32.const 2)", "(i64.const 0)", RET)),
    ("fd_readdir", c("fd_readdir", PRE, B, L, "(i64.const 0)", RET)),
    ("fd_readdir_used", c("fd_readdir", PRE, "(i32.const 1024)", "(i32.const 64)", "(i64.const 0)", R)),
    ("fd_seek", c("fd_seek", "(i32.const 1)", "(i64.const 0)", "(i32.const 1)", R)),
    ("fd_tell", c("fd_tell", "(i32.const 1)", R)),
    ("path_create_directory", c("path_create_directory", PRE, B, L)),
    ("path_filestat_get", c("path_filestat_get", PRE, "(i32.const 0)", B, L, RET)),
    ("path_filestat_get_out", c("path_filestat_get", PRE, "(i32.const 0)", "(i32.const 96)", "(i32.const 9)", R)),
    ("path_filestat_set_times", c("path_filestat_set_times", PRE, "(i32.const 0)", B, L,
                                  "(i64.const 0)", "(i64.const 0)", "(i32.const 0)")),
    ("path_link_old", c("path_link", PRE, "(i32.const 0)", B, L, PRE, OK, OKL)),
    ("path_link_new", c("path_link", PRE, "(i32.const 0)", "(i32.const 96)", "(i32.const 9)", PRE, B, L)),
    ("path_open", c("path_open", PRE, "(i32.const 0)", B, L, "(i32.const 0)", "(i64.const 2)",
                    "(i64.const 0)", "(i32.const 0)", RET)),
    ("path_open_fd", c("path_open", PRE, "(i32.const 0)", "(i32.const 96)", "(i32.const 9)",
                       "(i32.const 0)", "(i64.const 2)", "(i64.const 0)", "(i32.const 0)", R)),
    ("path_readlink", c("path_readlink", PRE, B, L, "(i32.const 1024)", "(i32.const 64)", RET)),
    ("path_readlink_buf", c("path_readlink", PRE, OK, OKL, B, L, RET)),
    ("path_remove_directory", c("path_remove_directory", PRE, B, L)),
    ("path_rename_old", c("path_rename", PRE, B, L, PRE, OK, OKL)),
    ("path_rename_new", c("path_rename", PRE, "(i32.const 96)", "(i32.const 9)", PRE, B, L)),
    ("path_symlink_old", c("path_symlink", B, L, PRE, OK, OKL)),
    ("path_symlink_new", c("path_symlink", OK, OKL, PRE, B, L)),
    ("path_unlink_file", c("path_unlink_file", PRE, B, L)),
]

# forged and dropped handles: each must trap; (name, body, log substring)
HANDLES = [
    ("zero", c("fields_drop", "(i32.const 0)"), "invalid handle 0"),
    ("minus1", c("fields_append", "(i32.const -1)", OK, OKL, OK, OKL, RET), "invalid handle"),
    ("high_bit", "(drop %s)" % c("resp_new", "(i32.const 0x80000000)"), "invalid handle"),
    ("past_limit", c("out_drop", "(i32.const 10001)"), "invalid handle"),
    ("double_drop", "(local.set $h (call $f)) (call $fields_drop (local.get $h))"
     "(call $fields_drop (local.get $h))", "invalid handle"),
    ("consumed_fields", "(local.set $h (call $f)) (drop (call $resp_new (local.get $h)))"
     "(call $fields_drop (local.get $h))", "invalid handle|expected fields"),
    ("consumed_resp", "(local.set $h (call $resp))"
     "(call $outparam_set (local.get $out) (i32.const 0) (local.get $h) (i32.const 0) (i64.const 0)"
     " (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))"
     "(drop (call $resp_set_status (local.get $h) (i32.const 201)))", "invalid handle"),
    ("outparam_twice", "(local.set $h (call $resp))"
     "(call $outparam_set (local.get $out) (i32.const 0) (local.get $h) (i32.const 0) (i64.const 0)"
     " (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))"
     "(call $outparam_set (local.get $out) (i32.const 0) (call $resp) (i32.const 0) (i64.const 0)"
     " (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))", "invalid handle|expected response-outparam"),
    ("request_twice", "(call $req_drop (local.get $req)) (call $req_drop (local.get $req))", "invalid handle"),
    ("wrong_type", c("out_drop", "(local.get $req)"), "expected"),
    ("finish_live_stream", "(local.set $h (call $obody)) (call $obody_write (local.get $h) (i32.const 256))"
     "(call $obody_finish (local.get $h) (i32.const 0) (i32.const 0) (i32.const 256))", "is alive"),
    ("dropped_stream_write", "(local.set $h (call $ostream)) (call $out_drop (local.get $h))"
     + c("out_write", "(local.get $h)", OK, OKL, RET), "invalid handle"),
]

# header injection: (name, bytes of the field name, bytes of the value)
INJECT = [
    ("crlf_value", b"x-a", b"v\r\nInjected: yes"),
    ("lf_value", b"x-a", b"v\nInjected: yes"),
    ("cr_value", b"x-a", b"v\rInjected: yes"),
    ("nul_value", b"x-a", b"v\x00Injected: yes"),
    ("del_value", b"x-a", b"v\x7fx"),
    ("crlf_name", b"x-a\r\nInjected", b"yes"),
    ("lf_name", b"x-a\nInjected", b"yes"),
    ("nul_name", b"x-a\x00Injected", b"yes"),
    ("colon_name", b"Injected:", b"yes"),
    ("space_name", b"x a", b"yes"),
    ("empty_name", b"", b"yes"),
    ("crlfcrlf_value", b"x-a", b"v\r\n\r\nHTTP/1.1 200 OK\r\nInjected: yes"),
]


def wat_str(b):
    return "".join("\\%02x" % x for x in b)


def sig_wat(sig):
    p, r = sig.split(":")
    t = {"i": "i32", "I": "i64"}
    s = ""
    if p:
        s += " (param %s)" % " ".join(t[x] for x in p)
    if r:
        s += " (result %s)" % " ".join(t[x] for x in r)
    return s


def cases():
    """[(case name, kind, extra)]: kind 'trap' (500 + 'out of bounds' logged), 'efault',
    'handle' (500 + extra logged), 'inject'."""
    out = [("wrap:" + n, "trap", None) for n, _ in HTTP]
    out += [("wrap:p1:" + n, "efault", None) for n, _ in P1CASES]
    out += [("handle:" + n, "handle", s) for n, _, s in HANDLES]
    out += [("inject:all", "inject", None)]
    return out


def generate():
    w = []
    w.append("(module")
    for k, (m, f, sig) in IMPORTS.items():
        w.append('  (import "%s" "%s" (func $%s%s))' % (m, f, k, sig_wat(sig)))
    w.append('  (memory (export "memory") 1)')
    w.append("  (global $heap (mut i32) (i32.const 16384))")
    w.append("  (global $bad_alloc (mut i32) (i32.const 0))")
    w.append('  (data (i32.const 64) "x-test")')
    w.append('  (data (i32.const 80) "no trap")')
    w.append('  (data (i32.const 96) "hello.txt")')
    w.append('  (data (i32.const 112) "errno=")')
    w.append('  (data (i32.const 128) "content-length")')
    w.append('  (data (i32.const 144) "1")')
    # case names, each NUL-terminated, from 4096
    names = [n for n, _, _ in cases()]
    off = 4096
    name_off = {}
    for n in names:
        key = n.split(":", 1)[1] if n.startswith("wrap:") or n.startswith("handle:") or n.startswith("inject:") else n
        name_off[n] = off
        w.append('  (data (i32.const %d) "%s\\00")' % (off, wat_str(n.encode())))
        off += len(n) + 1
    # injection strings from the current offset
    inj_off = []
    for n, nm, val in INJECT:
        inj_off.append((off, len(nm), off + len(nm), len(val)))
        w.append('  (data (i32.const %d) "%s")' % (off, wat_str(nm + val)))
        off += len(nm) + len(val)
    assert off < 16384, off
    w.append("""
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (if (global.get $bad_alloc) (then (return (i32.const -16))))
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.const 7)) (i32.const -8)))
    (global.set $heap (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (func $f (result i32) (call $fields_new))
  (func $resp (result i32) (call $resp_new (call $fields_new)))
  (func $obody (result i32) (call $resp_body (call $resp) (i32.const 256)) (i32.load (i32.const 260)))
  (func $ostream (result i32) (call $obody_write (call $obody) (i32.const 256)) (i32.load (i32.const 260)))
  (func $inbody (param $req i32) (result i32)
    (call $req_consume (local.get $req) (i32.const 256)) (i32.load (i32.const 260)))
  (func $instream (param $req i32) (result i32)
    (call $inbody_stream (call $inbody (local.get $req)) (i32.const 256)) (i32.load (i32.const 260)))
  (func $futtrail (param $req i32) (result i32) (call $inbody_finish (call $inbody (local.get $req))))
  (func $outreq (result i32) (call $outreq_new (call $fields_new)))
  ;; an error resource: a body stream that writes past its declared Content-Length (1)
  (func $error (result i32) (local $fl i32) (local $r i32) (local $b i32) (local $s i32)
    (local.set $fl (call $fields_new))
    (call $fields_append (local.get $fl) (i32.const 128) (i32.const 14) (i32.const 144) (i32.const 1) (i32.const 256))
    (local.set $r (call $resp_new (local.get $fl)))
    (call $resp_body (local.get $r) (i32.const 256))
    (local.set $b (i32.load (i32.const 260)))
    (call $obody_write (local.get $b) (i32.const 256))
    (local.set $s (i32.load (i32.const 260)))
    (call $out_write (local.get $s) (i32.const 64) (i32.const 6) (i32.const 256))
    (i32.load (i32.const 264)))
  ;; 200 response with fields $hdrs and body [msg, msg+len)
  (func $respond_with (param $out i32) (param $hdrs i32) (param $msg i32) (param $len i32)
    (local $r i32) (local $b i32) (local $s i32)
    (local.set $r (call $resp_new (local.get $hdrs)))
    (call $resp_body (local.get $r) (i32.const 256))
    (local.set $b (i32.load (i32.const 260)))
    (call $outparam_set (local.get $out) (i32.const 0) (local.get $r) (i32.const 0) (i64.const 0)
               (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
    (call $obody_write (local.get $b) (i32.const 256))
    (local.set $s (i32.load (i32.const 260)))
    (call $out_bwf (local.get $s) (local.get $msg) (local.get $len) (i32.const 272))
    (call $out_drop (local.get $s))
    (call $obody_finish (local.get $b) (i32.const 0) (i32.const 0) (i32.const 288)))
  (func $respond (param $out i32) (param $msg i32) (param $len i32)
    (call $respond_with (local.get $out) (call $fields_new) (local.get $msg) (local.get $len)))
  ;; "errno=NN"
  (func $respond_errno (param $out i32) (param $e i32)
    (i32.store8 (i32.const 118) (i32.add (i32.const 48) (i32.div_u (local.get $e) (i32.const 10))))
    (i32.store8 (i32.const 119) (i32.add (i32.const 48) (i32.rem_u (local.get $e) (i32.const 10))))
    (call $respond (local.get $out) (i32.const 112) (i32.const 8)))
  ;; does the query (after '?') equal the NUL-terminated string at $s?
  (func $is (param $q i32) (param $qlen i32) (param $s i32) (result i32) (local $i i32)
    (block $no
      (loop $l
        (if (i32.eq (local.get $i) (local.get $qlen))
          (then (return (i32.eqz (i32.load8_u (i32.add (local.get $s) (local.get $i)))))))
        (br_if $no (i32.ne (i32.load8_u (i32.add (local.get $q) (local.get $i)))
                           (i32.load8_u (i32.add (local.get $s) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i32.const 0))
  ;; header injection: every attempt through append, set and from-list; '1' = refused
  (func $inject (param $out i32) (local $fl i32)
    (local.set $fl (call $fields_new))""")
    body_off = 8192
    k = 0
    for i, (name, nl, vo, vl) in enumerate(inj_off):
        # append
        w.append("    (call $fields_append (local.get $fl) (i32.const %d) (i32.const %d) (i32.const %d) (i32.const %d) (i32.const 32))"
                 % (name, nl, vo, vl))
        w.append("    (i32.store8 (i32.const %d) (i32.add (i32.const 48) (i32.load8_u (i32.const 32))))" % (body_off + k))
        k += 1
        # set: list<list<u8>> of one value at 600
        w.append("    (i32.store (i32.const 600) (i32.const %d)) (i32.store (i32.const 604) (i32.const %d))" % (vo, vl))
        w.append("    (call $fields_set (local.get $fl) (i32.const %d) (i32.const %d) (i32.const 600) (i32.const 1) (i32.const 32))"
                 % (name, nl))
        w.append("    (i32.store8 (i32.const %d) (i32.add (i32.const 48) (i32.load8_u (i32.const 32))))" % (body_off + k))
        k += 1
        # from-list: one good entry then the bad one
        w.append("    (i32.store (i32.const 640) (i32.const 64)) (i32.store (i32.const 644) (i32.const 6))"
                 " (i32.store (i32.const 648) (i32.const 64)) (i32.store (i32.const 652) (i32.const 6))")
        w.append("    (i32.store (i32.const 656) (i32.const %d)) (i32.store (i32.const 660) (i32.const %d))"
                 " (i32.store (i32.const 664) (i32.const %d)) (i32.store (i32.const 668) (i32.const %d))"
                 % (name, nl, vo, vl))
        w.append("    (call $fields_from_list (i32.const 640) (i32.const 2) (i32.const 32))")
        w.append("    (i32.store8 (i32.const %d) (i32.add (i32.const 48) (i32.load8_u (i32.const 32))))" % (body_off + k))
        w.append("    (if (i32.eqz (i32.load8_u (i32.const 32))) (then (local.set $fl (i32.load (i32.const 36)))))")
        k += 1
    w.append("    (call $respond_with (local.get $out) (local.get $fl) (i32.const %d) (i32.const %d)))" % (body_off, k))
    w.append("""  (func (export "wasi:http/incoming-handler@0.2.0#handle") (param $req i32) (param $out i32)
    (local $p i32) (local $n i32) (local $q i32) (local $ql i32) (local $h i32)
    (call $req_path (local.get $req) (i32.const 16))
    (local.set $p (i32.load (i32.const 20)))
    (local.set $n (i32.load (i32.const 24)))
    ;; the query: after the first '?'
    (local.set $q (local.get $p))
    (block $found
      (loop $l
        (br_if $found (i32.ge_u (local.get $q) (i32.add (local.get $p) (local.get $n))))
        (if (i32.eq (i32.load8_u (local.get $q)) (i32.const 63))
          (then (local.set $q (i32.add (local.get $q) (i32.const 1))) (br $found)))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $l)))
    (local.set $ql (i32.sub (i32.add (local.get $p) (local.get $n)) (local.get $q)))""")

    def when(n):
        return "    (if (call $is (local.get $q) (local.get $ql) (i32.const %d)) (then\n" % name_off[n]
    for n, body in HTTP:
        w.append(when("wrap:" + n) + "      " + body +
                 "\n      (call $respond (local.get $out) (i32.const 80) (i32.const 7)) (return)))")
    for n, expr in P1CASES:
        w.append(when("wrap:p1:" + n) + "      (call $respond_errno (local.get $out) " + expr + ") (return)))")
    for n, body, _ in HANDLES:
        w.append(when("handle:" + n) + "      " + body +
                 "\n      (call $respond (local.get $out) (i32.const 80) (i32.const 7)) (return)))")
    w.append(when("inject:all") + "      (call $inject (local.get $out)) (return)))")
    w.append("    (call $respond (local.get $out) (i32.const 64) (i32.const 6)))")
    w.append(")")
    return "\n".join(w) + "\n"


if __name__ == "__main__":
    with open(sys.argv[1], "w") as fo:
        fo.write(generate())
