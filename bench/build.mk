# make bench: runs every bench/<name>/run in turn (each prints its own table of ratios
# against a reference run). nginx and wrk are installed here, never by the test path.
.PHONY: bench
bench: all handlers
	./configure --with-bench >/dev/null
	WASMD_BIN=$(abspath $(WASMD)) B=$(B) sh bench/run
