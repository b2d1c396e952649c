# pg_dash: PGXS build, front-end assets, tests and the demo.
#
#   make                 build the extension and the front end
#   make install         install both (as root)
#   make demo            install what is missing, build, start a demo cluster
#   make demo-stop       stop it
#   make demo-replicas   the demo on a primary + 2 hot standbys behind HAProxy
#   make test            install what the tests need and run every suite
#                        (as root it runs the suites as the postgres user)

EXTENSION  = pg_dash
MODULE_big = pg_dash
PGFILEDESC = "pg_dash - dashboards served by PostgreSQL"

SERVER_SRCS = $(wildcard src/*.c)
LIB_SRCS    = $(wildcard src/lib/*.c)
OBJS = pg_dash.o $(SERVER_SRCS:.c=.o) $(LIB_SRCS:.c=.o)

# The install script of the current version (default_version in
# pg_dash.control) is assembled from sql/parts/*.sql, one file per module, in
# name order.  The install scripts of released versions, frozen as they
# shipped, and the upgrade scripts between versions (pg_dash--A--B.sql) are
# checked in under sql/ and installed as they are.
EXTVERSION := $(shell sed -n "s/^default_version = '\([^']*\)'.*/\1/p" pg_dash.control)
DATA_built = sql/pg_dash--$(EXTVERSION).sql
DATA       = $(filter-out $(DATA_built),$(wildcard sql/pg_dash--*.sql))

PG_CPPFLAGS = -Isrc -Isrc/lib -I$(libpq_srcdir)
PG_CFLAGS   = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
              -Wno-sign-compare
SHLIB_LINK  = -lwebsockets -lcjson -lcrypto -lz -lpq

REGRESS      = $(sort $(patsubst sql/%.sql,%,$(filter-out sql/pg_dash--%,$(wildcard sql/*.sql))))
REGRESS_OPTS = --temp-instance=./tmp_check_regress --temp-config=test/regress.conf
TAP_TESTS    = 1
PROVE_FLAGS  = -I t

EXTRA_CLEAN = build tmp_check tmp_check_regress results regression.diffs regression.out \
              test/unit/build

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(DATA_built): $(sort $(wildcard sql/parts/*.sql))
	cat $^ > $@

# The front end: www/ plus the npm libraries it uses, with a precompressed
# .gz beside every text asset, assembled in build/www.
WWW_SRC := $(shell find www -type f 2>/dev/null)

all: build/www/.stamp

build/www/.stamp: $(WWW_SRC) $(wildcard scripts/echarts/*.js) scripts/build-www.sh package.json
	sh scripts/build-www.sh
	@touch $@

install: install-www

install-www: build/www/.stamp
	rm -rf '$(DESTDIR)$(datadir)/pg_dash/www'
	$(MKDIR_P) '$(DESTDIR)$(datadir)/pg_dash'
	cp -R build/www '$(DESTDIR)$(datadir)/pg_dash/www'
	rm -f '$(DESTDIR)$(datadir)/pg_dash/www/.stamp'

# The TAP suite alone (make installcheck runs pg_regress and then this).
tap:
	$(prove_installcheck)

unit:
	$(MAKE) -C test/unit run

fuzz:
	$(MAKE) -C test/unit fuzz-run

browser:
	sh scripts/run-browser-tests.sh

demo:
	sh scripts/demo.sh start

demo-stop:
	sh scripts/demo.sh stop

demo-replicas:
	sh scripts/demo-replicas.sh start

demo-replicas-stop:
	sh scripts/demo-replicas.sh stop

test:
	sh scripts/test.sh

bench:
	sh scripts/bench.sh

.PHONY: install-www tap unit fuzz browser demo demo-stop demo-replicas demo-replicas-stop test bench
