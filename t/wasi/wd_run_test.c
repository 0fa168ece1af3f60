/*
 * wd_run_test.c -- a stand-alone `wasmd run` for the WASI tests and benchmarks:
 * main(argc, argv) == `wasmd run ARGS...`. Built from the same wd_host_run.c
 * as the server binary, linked with the engine library and the WASI host only.
 */
#include "wd_host_run.h"

int main(int argc, char **argv)
{
    argv[0] = (char *)"run";
    return wd_run_main(argc, argv);
}
