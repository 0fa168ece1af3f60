# t/p3: WASI 0.3 / component-model async. Component text (t/p3/ok, t/p3/hostile) is assembled
# by the pinned jco (`jco parse`, t/component/build.mk installs it) into objs/p3/; the
# components of ../shared/components/p3 are read where they are (never copied).
P3_OUT := objs/p3
P3_STAMP := $(P3_OUT)/.stamp
P3_WATS := $(wildcard t/p3/ok/*.wat t/p3/hostile/*.wat)
P3_TRAPS := $(wildcard t/p3/trap/*.wat) t/p3/trap.tmpl t/p3/mktrap.sh
TEST_BINS += $(P3_STAMP)

$(P3_STAMP): $(JCO_STAMP) $(COMP_STAMP) $(P3_WATS) $(P3_TRAPS)
	@mkdir -p $(P3_OUT)/ok $(P3_OUT)/hostile
	for w in $(P3_WATS); do \
	    d=$$(basename $$(dirname $$w)); n=$$(basename $$w .wat); \
	    node --import $(CURDIR)/$(COMP_OUT)/preopen.mjs $(CURDIR)/objs/npm/node_modules/.bin/jco \
	        parse $(CURDIR)/$$w -o $(CURDIR)/$(P3_OUT)/$$d/$$n.wasm || exit 1; \
	done
	sh t/p3/mktrap.sh $(P3_OUT)/trap
	touch $@
