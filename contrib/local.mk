# contrib/: bootstrap script, systemd user units, environment.d and shell
# snippets.  The units and snippets name installed paths, substituted here
# (not by configure: the paths are only final at make time).
EXTRA_DIST += contrib/bootstrap
EXTRA_DIST += contrib/demo

CONTRIB_GENERATED = \
	contrib/systemd/tokagent.socket \
	contrib/systemd/tokagent.service \
	contrib/shell/tokagent.sh \
	contrib/shell/tokagent.fish
EXTRA_DIST += $(CONTRIB_GENERATED:=.in)
CLEANFILES += $(CONTRIB_GENERATED)

contrib_edit = sed \
	-e 's|@bindir[@]|$(bindir)|g' \
	-e 's|@pkgdatadir[@]|$(pkgdatadir)|g'
$(CONTRIB_GENERATED): Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && rm -f $@ $@.tmp && \
	    $(contrib_edit) $(srcdir)/$@.in >$@.tmp && mv $@.tmp $@
contrib/systemd/tokagent.socket: $(srcdir)/contrib/systemd/tokagent.socket.in
contrib/systemd/tokagent.service: $(srcdir)/contrib/systemd/tokagent.service.in
contrib/shell/tokagent.sh: $(srcdir)/contrib/shell/tokagent.sh.in
contrib/shell/tokagent.fish: $(srcdir)/contrib/shell/tokagent.fish.in

if INSTALL_SYSTEMD_UNITS
systemduserunit_DATA = contrib/systemd/tokagent.socket \
	contrib/systemd/tokagent.service
else
noinst_DATA = contrib/systemd/tokagent.socket contrib/systemd/tokagent.service
endif
nodist_pkgdata_DATA = contrib/shell/tokagent.sh contrib/shell/tokagent.fish
envddir = $(pkgdatadir)/environment.d
dist_envd_DATA = contrib/systemd/60-tokagent.conf

dist_doc_DATA = LICENSE NEWS README.md

# The middleware is dlopen'ed by path: its libtool archive is of no use.
install-exec-hook:
	rm -f $(DESTDIR)$(pkglibdir)/tokagent-sk.la
# ... so libtool's uninstall, which reads it, needs help.
uninstall-local:
	rm -f $(DESTDIR)$(pkglibdir)/tokagent-sk.so
