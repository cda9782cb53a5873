#!/usr/bin/env bash
# A real single-node SLURM on this machine (Debian packages), for testing `--executor slurm`
# (tests/test_workflow/test_slurm.py). Not for production clusters.
#
#   slurm-single-node.sh start [PARTITION]   install if missing, configure, start, wait until the node is idle
#   slurm-single-node.sh stop                cancel the jobs, stop the daemons that `start` started
#
# Both are idempotent. `stop` never touches a daemon it did not start (a munged that was already
# running stays up). Exit status 2: SLURM cannot be started here (not root, no apt-get, or a
# slurm.conf this script did not write, i.e. a real cluster's); the reason is the last line on stderr.
set -euo pipefail

STATE=/run/more3s-slurm # pid files of the daemons started here
CONF=/etc/slurm/slurm.conf
MARK="# written by more3s-bench workflow/scripts/slurm-single-node.sh"
PACKAGES=(slurmctld slurmd slurm-client munge)
NODE=$(hostname -s)
WAIT_S=60

cannot() {
    echo "cannot start SLURM here: $*" >&2
    exit 2
}

fail() {
    echo "slurm-single-node: $*" >&2
    exit 1
}

# Alive and not a zombie: daemons reparented to a PID 1 that does not reap linger as zombies.
alive() {
    local stat
    stat=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    [[ $stat != Z* ]]
}

ours_alive() {
    [[ -f $STATE/$1.pid ]] && alive "$(cat "$STATE/$1.pid")"
}

# Run a daemon in the foreground of its own session, detached from the caller's stdio (a caller
# capturing our output would otherwise wait for the daemon to exit), and remember its pid.
launch() {
    local name=$1
    shift
    setsid "$@" </dev/null >>"/var/log/slurm/$name.out" 2>&1 &
    echo $! >"$STATE/$name.pid"
}

install_packages() {
    local missing=()
    for cmd in slurmctld slurmd sinfo munged; do
        command -v "$cmd" >/dev/null || missing+=("$cmd")
    done
    ((${#missing[@]} == 0)) && return
    command -v apt-get >/dev/null || cannot "${missing[*]} not installed and no apt-get to install ${PACKAGES[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # A fresh machine may have no package lists yet: update only when the first try fails.
    apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" >/dev/null; } ||
        fail "apt-get could not install ${PACKAGES[*]}"
}

write_conf() {
    local partition=$1 cpus memory
    cpus=$(nproc)
    memory=$(awk '/^MemTotal:/ {print int($2 / 1024 * 0.9)}' /proc/meminfo) # MB, leaving the OS some
    cat <<EOF
$MARK
ClusterName=more3s
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
# No systemd, cgroups or accounting database on a CI machine.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
# Finished jobs stay visible to squeue for an hour: the executor's status checks and the test's
# check that every job COMPLETED read them there (no accounting database for sacct).
MinJobAge=3600
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=$partition Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
}

wait_idle() {
    local deadline=$((SECONDS + WAIT_S)) state=""
    while ((SECONDS < deadline)); do
        # Not `idle*` (the `*`: slurmd has not registered yet); busy states are up too.
        state=$(sinfo -h -N -n "$NODE" -o %T 2>/dev/null || true)
        [[ $state == idle || $state == mixed || $state == allocated ]] && return
        sleep 1
    done
    fail "node $NODE not idle after ${WAIT_S}s (sinfo: '${state}'); see /var/log/slurm/"
}

start() {
    local partition=${1:-main} conf
    [[ $(id -u) == 0 ]] || cannot "not root (installing packages and running slurmctld need root)"
    if [[ -f $CONF ]] && ! grep -qxF "$MARK" "$CONF"; then
        cannot "$CONF exists and was not written by this script (a real cluster's?); not touching it"
    fi
    install_packages
    mkdir -p "$STATE" /var/log/slurm /var/spool/slurmctld /var/spool/slurmd /run/munge /etc/slurm
    chown slurm /var/log/slurm /var/spool/slurmctld
    chown munge /run/munge

    conf=$(write_conf "$partition")
    if [[ ! -f $CONF || $(cat "$CONF") != "$conf" ]]; then
        stop_daemons # started under another configuration
        printf '%s\n' "$conf" >"$CONF.tmp" && mv "$CONF.tmp" "$CONF"
    fi

    # A munged already running (not a zombie) is used, and left running by `stop`.
    if ! pgrep --runstates RSD -x munged >/dev/null; then
        [[ -f /etc/munge/munge.key ]] || setpriv --reuid munge --regid munge --init-groups mungekey --create
        launch munged setpriv --reuid munge --regid munge --init-groups munged --foreground
        for _ in $(seq 50); do
            [[ -S /run/munge/munge.socket.2 ]] && break
            sleep 0.2
        done
    fi
    ours_alive slurmctld || launch slurmctld slurmctld -D
    ours_alive slurmd || launch slurmd slurmd -D -N "$NODE"
    wait_idle
    echo "SLURM up: node $NODE, partition $partition ($(nproc) CPUs)"
}

stop_daemons() {
    local name pid
    if ours_alive slurmctld; then
        squeue -h -o %i 2>/dev/null | xargs -r scancel 2>/dev/null || true
    fi
    for name in slurmd slurmctld munged; do
        [[ -f $STATE/$name.pid ]] || continue
        pid=$(cat "$STATE/$name.pid")
        if alive "$pid"; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 50); do
                alive "$pid" || break
                sleep 0.2
            done
            alive "$pid" && kill -KILL "$pid" 2>/dev/null
        fi
        rm -f "$STATE/$name.pid"
    done
}

case ${1:-} in
start) start "${2:-}" ;;
stop)
    stop_daemons
    echo "SLURM daemons started by this script: stopped"
    ;;
*)
    echo "usage: $0 start [PARTITION] | stop" >&2
    exit 64
    ;;
esac
