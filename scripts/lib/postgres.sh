# Throwaway PostgreSQL cluster for tests and benchmarks (sourced by scripts/test and bench/run).
# pg_throwaway_start: initdb into a temporary folder, listen on a unix socket only, export
# DATABASE_URL, and stop and delete the cluster when the calling shell exits.
# pg_kept_start DIR / pg_kept_stop DIR: the same in DIR, kept running (with its data) between runs.

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

pg_prepare() {
    # PG_BIN and PG_RUN (runuser as `postgres` when root: PostgreSQL refuses to run as root) for DIR.
    local dir=$1 owner
    PG_BIN=$(pg_find_bin)
    if [ -z "$PG_BIN" ]; then
        pg_install
        PG_BIN=$(pg_find_bin)
    fi
    PG_RUN=()
    if [ "$(id -u)" -eq 0 ]; then
        owner=postgres
        id -u "$owner" >/dev/null 2>&1 || useradd --system --no-create-home "$owner"
        chown "$owner" "$dir"
        PG_RUN=(runuser -u "$owner" --)
    fi
}

pg_start_in() {
    # initdb into DIR/data unless it is there, start the server (socket in DIR), export DATABASE_URL.
    local dir=$1
    if [ ! -d "$dir/data" ]; then
        "${PG_RUN[@]}" "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log"
    fi
    "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -s start \
        -o "-c listen_addresses='' -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off ${PG_EXTRA_OPTIONS:-}"
    local socket_dir=${dir//\//%2F}
    export DATABASE_URL="postgres://postgres@${socket_dir}/postgres"
    echo "==> PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on unix socket in $dir"
}

pg_throwaway_start() {
    PG_TMP=$(mktemp -d /tmp/cdp-pg.XXXXXX)
    pg_prepare "$PG_TMP"
    pg_start_in "$PG_TMP"
    trap pg_throwaway_stop EXIT
}

pg_kept_start() {
    # The cluster in DIR (an absolute path), kept across runs: made on first use, started unless it runs,
    # and left running at exit, with its data (a benchmark that finds its dataset skips the load).
    local dir=$1
    mkdir -p "$dir"
    pg_prepare "$dir"
    if "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        local socket_dir=${dir//\//%2F}
        export DATABASE_URL="postgres://postgres@${socket_dir}/postgres"
        echo "==> the kept PostgreSQL cluster in $dir (running)"
    else
        pg_start_in "$dir"
    fi
}

pg_kept_stop() {
    # Stop the kept cluster in DIR and delete its data (only a folder that holds a cluster).
    local dir=$1
    [ -f "$dir/data/PG_VERSION" ] || { echo "no PostgreSQL cluster in $dir" >&2; return 1; }
    pg_prepare "$dir"
    "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -s stop || true
    rm -rf "$dir/data" "$dir/server.log" "$dir/initdb.log"
    rmdir "$dir" 2>/dev/null || true
}

pg_throwaway_stop() {
    if [ -n "${PG_TMP:-}" ] && [ -d "$PG_TMP/data" ]; then
        "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m fast -s stop || true
        rm -rf "$PG_TMP"
    fi
}
