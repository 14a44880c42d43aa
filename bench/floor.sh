# Sourced by the intake benchmarks: the least time meldpunt could take on this machine.
#
# The client runs on the same cores, and meldpunt must, besides what the peer does (receive,
# decrypt the transport, write), hash every byte with SHA-256 (the receipt's sha256) and
# encrypt it with age (the sealed file). Two floors, both with free validation and the work
# spread perfectly over all cores:
#     bare:      (client CPU + SHA-256 CPU + age CPU) / cores   (meldpunt's transport free too)
#     transport: (client CPU + peer server CPU + SHA-256 CPU + age CPU) / cores
#                (meldpunt's transport as cheap as the peer's whole server)
# meldpunt cannot finish before the first, and not before the second unless its transport is
# cheaper than the peer's server. Ratios below floor / peer time are out of reach here. CPU is
# user + system seconds.

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

# Prints the floors for one peer run.
print_floor() { # peer-seconds peer-client-cpu peer-server-cpu sha-cpu age-cpu
    local cores bare transport
    cores=$(nproc)
    bare=$(echo "($2 + $4 + $5) / $cores" | bc -l)
    transport=$(echo "($2 + $3 + $4 + $5) / $cores" | bc -l)
    printf 'floor: client %.2f, peer server %.2f, SHA-256 %.2f, age %.2f CPU-s; on %d cores meldpunt needs >= %.2fs (ratio >= %.2f) with free validation and transport, >= %.2fs (ratio >= %.2f) with its transport as costly as the peer server\n' \
        "$2" "$3" "$4" "$5" "$cores" "$bare" "$(echo "$bare / $1" | bc -l)" "$transport" "$(echo "$transport / $1" | bc -l)"
}
