# make bench: runs every bench/<name>/run in turn (each prints its own table of ratios
# against a reference run). wrk is installed here (nginx by ./configure: t/static uses it too).
.PHONY: bench
bench: all handlers
	./configure --with-bench >/dev/null
	WASMD_BIN=$(abspath $(WASMD)) B=$(B) sh bench/run
