# Sourced by bin/ublkctl and scripts/*: finds a JDK >= 25 and exports JAVA_HOME.
# Order: $JAVA_HOME if new enough, then the newest /usr/lib/jvm/* that is.

_ublkctl_jdk_major() {  # prints the major version of the JDK at $1, or 0
    local rel="$1/release" v
    [ -x "$1/bin/java" ] || { echo 0; return; }
    if [ -r "$rel" ]; then
        v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$rel")
    fi
    echo "${v:-0}"
}

ublkctl_find_java() {
    local want=25 cand best="" bestv=0 v
    if [ -n "${JAVA_HOME:-}" ] && [ "$(_ublkctl_jdk_major "$JAVA_HOME")" -ge "$want" ]; then
        export JAVA_HOME; return 0
    fi
    for cand in /usr/lib/jvm/*; do
        [ -d "$cand" ] || continue
        v=$(_ublkctl_jdk_major "$cand")
        if [ "$v" -ge "$want" ] && [ "$v" -gt "$bestv" ]; then best=$cand; bestv=$v; fi
    done
    if [ -z "$best" ]; then
        echo "ublkctl: needs a JDK >= $want; set JAVA_HOME or install one under /usr/lib/jvm (e.g. Temurin 25)" >&2
        return 1
    fi
    export JAVA_HOME="$best"
}
