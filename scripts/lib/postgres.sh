# Throwaway PostgreSQL cluster for tests and benchmarks (sourced by scripts/test and bench/run).
# pg_throwaway_start: initdb into a temporary folder, listen on a unix socket only, export
# DATABASE_URL, and stop and delete the cluster when the calling shell exits.

pg_find_bin() {
    if command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"
        return
    fi
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

pg_install() {
    echo "==> pg_ctl not found: installing PostgreSQL from Debian's packages"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    # Only the server binaries are wanted, not a system cluster that starts at boot.
    $sudo mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.conf >/dev/null
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
}

pg_throwaway_start() {
    local bin owner run
    bin=$(pg_find_bin)
    if [ -z "$bin" ]; then
        pg_install
        bin=$(pg_find_bin)
    fi
    PG_TMP=$(mktemp -d /tmp/cdp-pg.XXXXXX)
    run=()
    if [ "$(id -u)" -eq 0 ]; then
        # PostgreSQL refuses to run as root: run it as an unprivileged system user.
        owner=postgres
        id -u "$owner" >/dev/null 2>&1 || useradd --system --no-create-home "$owner"
        chown "$owner" "$PG_TMP"
        run=(runuser -u "$owner" --)
    fi
    PG_RUN=("${run[@]}")
    PG_BIN=$bin
    "${run[@]}" "$bin/initdb" -D "$PG_TMP/data" -U postgres --auth=trust -E UTF8 --no-locale >"$PG_TMP/initdb.log"
    "${run[@]}" "$bin/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -s start \
        -o "-c listen_addresses='' -k $PG_TMP -c fsync=off -c synchronous_commit=off -c full_page_writes=off ${PG_EXTRA_OPTIONS:-}"
    trap pg_throwaway_stop EXIT
    local socket_dir=${PG_TMP//\//%2F}
    export DATABASE_URL="postgres://postgres@${socket_dir}/postgres"
    echo "==> throwaway PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on unix socket in $PG_TMP"
}

pg_throwaway_stop() {
    if [ -n "${PG_TMP:-}" ] && [ -d "$PG_TMP/data" ]; then
        "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m fast -s stop || true
        rm -rf "$PG_TMP"
    fi
}
