# contrib/build.mk: the ./configure installation paths and `make install`.
#
#   make install [DESTDIR=/stage]   the binary, the configuration (an existing wasmd.conf is
#                                   kept; wasmd.conf.default is always refreshed, as nginx does),
#                                   the example handlers, the C SDK, the systemd unit and the
#                                   logrotate file (paths substituted) under share/wasmd/, and
#                                   the log directories
#   make install-service [DESTDIR]  also /etc/systemd/system/wasmd.service and
#                                   /etc/logrotate.d/wasmd
# The paths come from objs/config.mk (./configure --prefix=... --conf-path=... ...).
ifdef WD_PREFIX_DIR

# a path relative to the prefix when it lies under it (the binary keeps those relative, so
# -p moves them), else absolute
wd_rel = $(patsubst $(patsubst %/,%,$(WD_PREFIX_DIR))/%,%,$(1))
WD_PREFIX_SLASH := $(patsubst %/,%,$(WD_PREFIX_DIR))/
WD_SHARE_DIR := $(patsubst %/,%,$(WD_PREFIX_DIR))/share/wasmd

$(B)/src/core/wd_main.o: objs/config.mk
$(B)/src/core/wd_main.o: CFLAGS += -DWD_CFG_PREFIX='"$(WD_PREFIX_SLASH)"' \
	-DWD_CFG_SBIN_PATH='"$(WD_SBIN_PATH)"' \
	-DWD_CFG_CONF_PATH='"$(call wd_rel,$(WD_CONF_PATH))"' \
	-DWD_CFG_ERROR_LOG_PATH='"$(call wd_rel,$(WD_ERROR_LOG_PATH))"' \
	-DWD_CFG_PID_PATH='"$(call wd_rel,$(WD_PID_PATH))"' \
	-DWD_CFG_HTTP_LOG_PATH='"$(call wd_rel,$(WD_HTTP_LOG_PATH))"' \
	-DWD_CFG_ARGS='"$(strip $(WD_CONFIGURE_ARGS))"'

# the shipped files with the configured paths
WD_SUBST = sed -e 's|@SBIN_PATH@|$(WD_SBIN_PATH)|g' -e 's|@CONF_PATH@|$(WD_CONF_PATH)|g' \
	-e 's|@PID_PATH@|$(WD_PID_PATH)|g' -e 's|@ERROR_LOG_PATH@|$(WD_ERROR_LOG_PATH)|g' \
	-e 's|@HTTP_LOG_PATH@|$(WD_HTTP_LOG_PATH)|g' -e 's|@PREFIX@|$(WD_PREFIX_SLASH)|g'

objs/install/wasmd.service: contrib/wasmd.service objs/config.mk
	@mkdir -p $(dir $@)
	$(WD_SUBST) contrib/wasmd.service > $@

objs/install/wasmd.logrotate: contrib/wasmd.logrotate objs/config.mk
	@mkdir -p $(dir $@)
	$(WD_SUBST) contrib/wasmd.logrotate > $@

# conf/wasmd.conf as installed: handlers from share/wasmd/handlers, the configured pid file
# and error log
objs/install/wasmd.conf: conf/wasmd.conf objs/config.mk
	@mkdir -p $(dir $@)
	sed -e 's|objs/handlers/|share/wasmd/handlers/|g' \
	    -e 's|^error_log  logs/error.log |error_log  $(call wd_rel,$(WD_ERROR_LOG_PATH)) |' \
	    -e 's|^pid        logs/wasmd.pid;|pid        $(call wd_rel,$(WD_PID_PATH));|' \
	    -e 's|^# Relative paths are relative to the prefix.*|# Relative paths are relative to the prefix ($(WD_PREFIX_SLASH); -p changes it).|' \
	    conf/wasmd.conf > $@

WD_INSTALL_FILES := objs/install/wasmd.conf objs/install/wasmd.service objs/install/wasmd.logrotate

.PHONY: install install-service
install: $(WASMD) $(HANDLER_WASMS) $(WD_INSTALL_FILES)
	install -d '$(DESTDIR)$(dir $(WD_SBIN_PATH))' '$(DESTDIR)$(dir $(WD_CONF_PATH))' \
	    '$(DESTDIR)$(WD_SHARE_DIR)/handlers' '$(DESTDIR)$(WD_SHARE_DIR)/include' \
	    '$(DESTDIR)$(WD_SHARE_DIR)/examples' '$(DESTDIR)$(WD_PREFIX_SLASH)logs' \
	    '$(DESTDIR)$(dir $(WD_ERROR_LOG_PATH))' '$(DESTDIR)$(dir $(WD_PID_PATH))' \
	    '$(DESTDIR)$(dir $(WD_HTTP_LOG_PATH))'
	install -m 755 $(WASMD) '$(DESTDIR)$(WD_SBIN_PATH)'
	install -m 644 objs/install/wasmd.conf '$(DESTDIR)$(WD_CONF_PATH).default'
	test -f '$(DESTDIR)$(WD_CONF_PATH)' \
	    || install -m 644 objs/install/wasmd.conf '$(DESTDIR)$(WD_CONF_PATH)'
	install -m 644 $(HANDLER_WASMS) '$(DESTDIR)$(WD_SHARE_DIR)/handlers/'
	install -m 644 wasm-handlers/include/*.h '$(DESTDIR)$(WD_SHARE_DIR)/include/'
	install -m 644 $(HANDLER_SRCS) '$(DESTDIR)$(WD_SHARE_DIR)/examples/'
	install -m 644 objs/install/wasmd.service '$(DESTDIR)$(WD_SHARE_DIR)/wasmd.service'
	install -m 644 objs/install/wasmd.logrotate '$(DESTDIR)$(WD_SHARE_DIR)/wasmd.logrotate'

install-service: install
	install -d '$(DESTDIR)/etc/systemd/system' '$(DESTDIR)/etc/logrotate.d'
	install -m 644 objs/install/wasmd.service '$(DESTDIR)/etc/systemd/system/wasmd.service'
	install -m 644 objs/install/wasmd.logrotate '$(DESTDIR)/etc/logrotate.d/wasmd'

endif
