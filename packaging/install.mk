# packaging/install.mk: install, uninstall, dist, deb and rpm. Included at the end of the top Makefile,
# so VERSION and BUILDDIR come from there. docs/install.md says how an admin uses these.
#
#   make install [DESTDIR=...] [PREFIX=/usr] [BINDIR=...] [MANDIR=...] [SYSCONFDIR=/etc] ...
#   make uninstall               removes what install put there except the config, state and user
#   make dist                    $(BUILDDIR)/pcmon-$(VERSION).tar.gz and $(BUILDDIR)/install-pcmon.sh
#   make deb                     $(BUILDDIR)/deb/pcmon_$(VERSION)_*.deb (dpkg-buildpackage -b)
#   make rpm                     $(BUILDDIR)/rpm/RPMS/*/pcmon-$(VERSION)-*.rpm (rpmbuild -ta)
#
# A plain `make install` as root with no DESTDIR installs onto this machine: it also creates the
# pcmon user, gives the directories their owners and reloads systemd. With DESTDIR (packages, tests)
# it only lays the files out; the package's scriptlets do the rest.

PREFIX        ?= /usr
BINDIR        ?= $(PREFIX)/bin
DATAROOTDIR   ?= $(PREFIX)/share
DATADIR       ?= $(DATAROOTDIR)/pcmon
MANDIR        ?= $(DATAROOTDIR)/man
SYSCONFDIR    ?= /etc
LOCALSTATEDIR ?= /var
INSTALL       ?= install
PANDOC        ?= pandoc
RPMBUILD      ?= rpmbuild

# Where systemd looks, as the local systemd says (Debian 12: /lib/systemd/system); fallbacks are
# the paths every systemd searches. Evaluated once, and only when not given on the command line.
ifndef SYSTEMDUNITDIR
SYSTEMDUNITDIR := $(or $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null),/usr/lib/systemd/system)
endif
ifndef SYSUSERSDIR
SYSUSERSDIR := $(or $(shell pkg-config --variable=sysusersdir systemd 2>/dev/null),/usr/lib/sysusers.d)
endif
ifndef TMPFILESDIR
TMPFILESDIR := $(or $(shell pkg-config --variable=tmpfilesdir systemd 2>/dev/null),/usr/lib/tmpfiles.d)
endif

# The unit's directories are fixed by systemd (StateDirectory=, LogsDirectory=), not by PREFIX.
PCMON_STATEDIR := /var/lib/pcmon
PCMON_LOGDIR   := /var/log/pcmon

# Man pages: rendered from docs/*.md with pandoc. A release tarball carries them pre-rendered in
# docs/ (make dist), so building from it needs no pandoc (EL and AL2023 head nodes have none).
MAN_PAGES   := pcmon.8 pcmon.yaml.5
HAVE_PANDOC := $(shell command -v $(PANDOC) 2>/dev/null)
man_src      = $(if $(wildcard docs/$(1)),docs/$(1),$(if $(HAVE_PANDOC),$(BUILDDIR)/man/$(1)))
MAN_FILES   := $(foreach p,$(MAN_PAGES),$(call man_src,$(p)))
MAN_BUILT   := $(filter $(BUILDDIR)/man/%,$(MAN_FILES))

# The installed unit runs the installed binary; a config outside /etc is named with -c, since the
# binary's default is /etc/pcmon.yaml.
UNIT_EXEC := $(BINDIR)/pcmon run$(if $(filter-out /etc,$(SYSCONFDIR)), -c $(SYSCONFDIR)/pcmon.yaml)

# The package builds run make again in the unpacked tarball: none of this make's variables
# (BUILDDIR=..., DESTDIR=..., exported to the environment and in MAKEFLAGS) may leak into it.
CLEAN_ENV := env -i PATH="$$PATH" HOME="$$HOME" $(foreach v,TMPDIR LANG LC_ALL DEB_BUILD_OPTIONS,$(if $($(v)),$(v)="$$$(v)"))

DIST_NAME := pcmon-$(VERSION)
DIST_TGZ  := $(BUILDDIR)/$(DIST_NAME).tar.gz
DIST_TMP  := $(BUILDDIR)/dist

.PHONY: install uninstall man dist deb rpm

man: $(MAN_BUILT)

# Drops the page's own "# name(N)" heading (pandoc makes .TH from the metadata) and lifts "## NAME"
# to a section. -smart keeps "--option" from turning into an en dash.
$(BUILDDIR)/man/%: docs/%.md
	@mkdir -p $(dir $@)
	sed '0,/^# /{/^# /d}' $< | $(PANDOC) -s -f markdown-smart -t man --shift-heading-level-by=-1 \
	    -M title="$(basename $*)" -M section="$(subst .,,$(suffix $*))" -M date="" \
	    -M footer="pcmon $(VERSION)" \
	    -M header="$(if $(filter %.8,$*),System Manager's Manual,File Formats Manual)" -o $@

install: $(BUILDDIR)/pcmon man
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
	    $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(SYSCONFDIR)
	$(INSTALL) -m 0755 $(BUILDDIR)/pcmon $(DESTDIR)$(BINDIR)/pcmon
	sed 's|^ExecStart=/usr/bin/pcmon run$$|ExecStart=$(UNIT_EXEC)|' systemd/pcmon.service > $(BUILDDIR)/pcmon.service
	@grep -qx 'ExecStart=$(UNIT_EXEC)' $(BUILDDIR)/pcmon.service || \
	    { echo "install.mk: ExecStart= of systemd/pcmon.service not rewritten" >&2; exit 1; }
	$(INSTALL) -m 0644 $(BUILDDIR)/pcmon.service $(DESTDIR)$(SYSTEMDUNITDIR)/pcmon.service
	$(INSTALL) -m 0644 systemd/pcmon.sysusers $(DESTDIR)$(SYSUSERSDIR)/pcmon.conf
	$(INSTALL) -m 0644 systemd/pcmon.tmpfiles $(DESTDIR)$(TMPFILESDIR)/pcmon.conf
	$(INSTALL) -m 0644 conf/pcmon.yaml $(DESTDIR)$(DATADIR)/pcmon.yaml
	$(INSTALL) -d $(DESTDIR)$(SYSCONFDIR)/logrotate.d
	$(INSTALL) -m 0644 packaging/logrotate/pcmon $(DESTDIR)$(SYSCONFDIR)/logrotate.d/pcmon
	$(foreach f,$(MAN_FILES),$(INSTALL) -d $(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(f))) && \
	    $(INSTALL) -m 0644 $(f) $(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(f)))/$(notdir $(f));)
	$(if $(filter $(words $(MAN_PAGES)),$(words $(MAN_FILES))),,@echo "pcmon: man pages not installed:" \
	    "no $(PANDOC) to render docs/*.md (install it, or build from the release tarball)")
	$(INSTALL) -d -m 0750 $(DESTDIR)$(SYSCONFDIR)/pcmon $(DESTDIR)$(PCMON_STATEDIR) $(DESTDIR)$(PCMON_LOGDIR)
	@# The config is the admin's: installed only when absent, never overwritten.
	@if [ -e "$(DESTDIR)$(SYSCONFDIR)/pcmon.yaml" ]; then \
	    echo "pcmon: keeping the existing $(SYSCONFDIR)/pcmon.yaml (the shipped default is $(DATADIR)/pcmon.yaml)"; \
	else \
	    echo "$(INSTALL) -m 0640 conf/pcmon.yaml $(DESTDIR)$(SYSCONFDIR)/pcmon.yaml"; \
	    $(INSTALL) -m 0640 conf/pcmon.yaml $(DESTDIR)$(SYSCONFDIR)/pcmon.yaml && \
	    touch $(BUILDDIR)/.installed-new-config; \
	fi
ifeq ($(DESTDIR),)
	@if [ "$$(id -u)" = 0 ]; then \
	    set -e; \
	    getent passwd pcmon >/dev/null || systemd-sysusers $(SYSUSERSDIR)/pcmon.conf 2>/dev/null || \
	        getent passwd pcmon >/dev/null || \
	        useradd --system --user-group --home-dir $(PCMON_STATEDIR) --no-create-home \
	            --shell /sbin/nologin --comment "pcmon ParallelCluster alert daemon" pcmon; \
	    chown pcmon:pcmon $(PCMON_STATEDIR) $(PCMON_LOGDIR); \
	    chown root:pcmon $(SYSCONFDIR)/pcmon; \
	    if [ -e $(BUILDDIR)/.installed-new-config ]; then chown root:pcmon $(SYSCONFDIR)/pcmon.yaml; fi; \
	    if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; \
	    echo "pcmon: installed; edit $(SYSCONFDIR)/pcmon.yaml, then: systemctl enable --now pcmon"; \
	else \
	    echo "pcmon: not root, so the pcmon user and directory owners were not set up (see docs/install.md)"; \
	fi
endif
	@rm -f $(BUILDDIR)/.installed-new-config

# Leaves $(SYSCONFDIR)/pcmon.yaml, $(SYSCONFDIR)/pcmon/ (secrets), the state, the alert log and the user.
uninstall:
ifeq ($(DESTDIR),)
	@if [ "$$(id -u)" = 0 ] && [ -d /run/systemd/system ]; then systemctl disable --now pcmon.service || true; fi
endif
	rm -f $(DESTDIR)$(BINDIR)/pcmon $(DESTDIR)$(SYSTEMDUNITDIR)/pcmon.service \
	    $(DESTDIR)$(SYSUSERSDIR)/pcmon.conf $(DESTDIR)$(TMPFILESDIR)/pcmon.conf \
	    $(DESTDIR)$(DATADIR)/pcmon.yaml $(DESTDIR)$(MANDIR)/man8/pcmon.8 $(DESTDIR)$(MANDIR)/man5/pcmon.yaml.5 \
	    $(DESTDIR)$(SYSCONFDIR)/logrotate.d/pcmon
	rmdir $(DESTDIR)$(DATADIR) 2>/dev/null || true
ifeq ($(DESTDIR),)
	@if [ "$$(id -u)" = 0 ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
endif
	@echo "pcmon: kept $(SYSCONFDIR)/pcmon.yaml, $(SYSCONFDIR)/pcmon/, $(PCMON_STATEDIR), $(PCMON_LOGDIR) and the pcmon user"

# The release tarball: every file git tracks (as in the work tree), plus what a build host without
# pandoc or git needs: the rendered man pages, and the spec and the custom action with VERSION
# filled in (rpmbuild -ta reads the one *.spec inside). Reproducible: owners, order and mtimes fixed.
dist: $(foreach p,$(MAN_PAGES),$(BUILDDIR)/man/$(p))
	@git rev-parse --git-dir >/dev/null 2>&1 || \
	    { echo "make dist: needs a git checkout (it packs what git ls-files lists)" >&2; exit 1; }
	rm -rf $(DIST_TMP) && mkdir -p $(DIST_TMP)/$(DIST_NAME)
	git ls-files -z | xargs -0 sh -c 'for f; do if [ -e "$$f" ]; then printf "%s\0" "$$f"; fi; done' sh | \
	    tar --null -T - -cf - | tar -xf - -C $(DIST_TMP)/$(DIST_NAME)
	cp $(foreach p,$(MAN_PAGES),$(BUILDDIR)/man/$(p)) $(DIST_TMP)/$(DIST_NAME)/docs/
	sed -i 's/^Version:.*/Version:        $(VERSION)/' $(DIST_TMP)/$(DIST_NAME)/packaging/rpm/pcmon.spec
	sed -i 's/@VERSION@/$(VERSION)/' $(DIST_TMP)/$(DIST_NAME)/packaging/parallelcluster/install-pcmon.sh
	tar -C $(DIST_TMP) --sort=name --owner=0 --group=0 --numeric-owner \
	    --mtime="@$$(git log -1 --format=%ct 2>/dev/null || echo 0)" -cf - $(DIST_NAME) | gzip -n -9 > $(DIST_TGZ).tmp
	mv $(DIST_TGZ).tmp $(DIST_TGZ)
	$(INSTALL) -m 0755 $(DIST_TMP)/$(DIST_NAME)/packaging/parallelcluster/install-pcmon.sh $(BUILDDIR)/install-pcmon.sh
	rm -rf $(DIST_TMP)
	@echo "pcmon: $(DIST_TGZ) and $(BUILDDIR)/install-pcmon.sh (upload both to the same S3 prefix)"

# A .deb from the release tarball: unpacked in $(BUILDDIR)/deb with packaging/debian as its debian/
# (the source tree keeps no top-level debian/). Needs dpkg-dev and debhelper.
deb: dist
	@top=$$(sed -n '1s/^pcmon (\([^)]*\)).*/\1/p' packaging/debian/changelog); \
	    [ "$$top" = "$(VERSION)" ] || { echo "make deb: packaging/debian/changelog is at $$top," \
	    "the Makefile at $(VERSION): add a changelog entry" >&2; exit 1; }
	rm -rf $(BUILDDIR)/deb && mkdir -p $(BUILDDIR)/deb
	tar -xzf $(DIST_TGZ) -C $(BUILDDIR)/deb
	cp -R packaging/debian $(BUILDDIR)/deb/$(DIST_NAME)/debian
	cd $(BUILDDIR)/deb/$(DIST_NAME) && $(CLEAN_ENV) dpkg-buildpackage -us -uc -b
	@ls $(BUILDDIR)/deb/*.deb

# Debian's rpm has no rpm database of the build dependencies, hence --nodeps there.
RPMBUILD_FLAGS ?= $(if $(wildcard /etc/debian_version),--nodeps)
rpm: dist
	rm -rf $(BUILDDIR)/rpm
	$(CLEAN_ENV) $(RPMBUILD) -ta $(RPMBUILD_FLAGS) --define "_topdir $(abspath $(BUILDDIR))/rpm" $(DIST_TGZ)
	@ls $(BUILDDIR)/rpm/RPMS/*/*.rpm
