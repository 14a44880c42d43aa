# Sourced by the intake benchmarks: the least time meldpunt could take on this machine.
#
# meldpunt must do what the peer does (receive, decrypt the transport, write) and, besides,
# hash every byte with SHA-256 (the receipt's sha256) and encrypt it with age (the sealed
# file). The floor assumes everything else is free: validation costs nothing, meldpunt's
# transport costs no more CPU than the peer's server, and the work spreads perfectly over all
# cores. Then meldpunt cannot finish before
#     (peer client CPU + peer server CPU + SHA-256 CPU + age CPU) / cores
# and no ratio below floor / peer time is possible here. CPU is user + system seconds.

# user + system seconds of a process and of its children it has reaped.
proc_cpu() { # pid
    sed 's/.*) //' "/proc/$1/stat" | awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f\n", ($12 + $13 + $14 + $15) / hz}'
}

# Sum of proc_cpu over pids.
procs_cpu() { # pid...
    local p
    for p in "$@"; do proc_cpu "$p"; done | awk '{s += $1} END {printf "%.2f\n", s}'
}

# Runs a command (stdout dropped, stderr shown) and writes its user + system seconds, its
# children's included, to a file.
cpu_of() { # file cmd...
    local out=$1 TIMEFORMAT='%U %S'
    shift
    { time "$@" >/dev/null 2>"$out.err"; } 2>"$out.time"
    cat "$out.err" >&2
    awk '{printf "%.2f\n", $1 + $2}' "$out.time" > "$out"
}

# CPU seconds of SHA-256 (OpenSSL's, with the CPU's SHA instructions: faster here than
# coreutils' sha256sum and the sha2 crate) and of age encryption (the age CLI) of a file,
# each on one core, the file cached. Needs openssl and age.
crypto_cpu() { # file workdir → prints "sha age"
    local f=$1 w=$2
    [ -f "$w/floor.key" ] || age-keygen -o "$w/floor.key" 2>/dev/null
    cat "$f" > /dev/null
    cpu_of "$w/sha.cpu" openssl dgst -sha256 "$f"
    cpu_of "$w/age.cpu" age -r "$(age-keygen -y "$w/floor.key")" -o /dev/null "$f"
    echo "$(cat "$w/sha.cpu") $(cat "$w/age.cpu")"
}

# Prints the floor for one peer run.
print_floor() { # peer-seconds peer-client-cpu peer-server-cpu sha-cpu age-cpu
    local cores floor
    cores=$(nproc)
    floor=$(echo "($2 + $3 + $4 + $5) / $cores" | bc -l)
    printf 'floor: peer client %.2f + server %.2f CPU-s, SHA-256 %.2f + age %.2f CPU-s; on %d cores meldpunt needs >= %.2fs, ratio >= %.2f (validation free, transport as cheap as the peer, perfect use of the cores)\n' \
        "$2" "$3" "$4" "$5" "$cores" "$floor" "$(echo "$floor / $1" | bc -l)"
}
