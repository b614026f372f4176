#!/usr/bin/env bash
# Hostile-input probe of the nstudent binary (meant to run as root).
#
#   scripts/hostile.sh [NSTUDENT_BIN] [OUTDIR]
#
# NSTUDENT_BIN defaults to target/release/nstudent, OUTDIR to a fresh `mktemp -d`.
# Every scenario runs in its own scratch folder OUTDIR/s/NAME (its stdout, stderr and
# bookkeeping go to OUTDIR/m/NAME) and each invocation is classified:
#
#   timeout     it ran past its limit (60 s unless the scenario says less)
#   panic       exit 101 or "panicked at" on stderr
#   abort       killed by a signal (exit >= 128)
#   destroyed   a watched input, device, symlink target or pre-existing file changed or was
#               replaced (sha256 + `stat -c '%F %a %i'`), or a pre-existing file vanished
#               in a refusal
#   escape      a raw ESC byte on stdout or stderr
#   bad-exit0   exit 0 where the scenario expects a refusal
#   leftover    a refusal left new files (hidden ones too) in the scratch folder
#   multi-line  a refusal whose stderr is not exactly one line, or whose exit code is not 2
#   bad-refuse  a non-zero exit where the scenario expects success
#   mode        a file written with the wrong permissions (new files 0644 under umask 022,
#               a symlink target keeps 0640)
#   incomplete  a study that should have finished has no complete metrics table
#   mixed       two studies wrote into one results directory
#   ok          none of the above
#
# The first class in that order is the scenario's class; the others are shown as "also".
# It prints one line per non-ok scenario and a count per class, writes OUTDIR/hostile.tsv
# (scenario, expected, exit code, class, first stderr line) and exits 0 (2 when the binary
# is missing). Fixtures are made with bash and the python3 standard library only.
# Datasets: $HOSTILE_DATA, else ../shared/datasets next to the repository (sklearn-digits,
# mnist, cifar-10-subset); what is missing there is synthesised (random pixels).

set -u
umask 022
export LC_ALL=C

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)

BIN_ARG=${1:-target/release/nstudent}
BIN=""
case $BIN_ARG in
*/*)
    if [ -f "$BIN_ARG" ]; then
        BIN=$(readlink -f -- "$BIN_ARG")
    elif [ -f "$REPO/$BIN_ARG" ]; then
        BIN=$(readlink -f -- "$REPO/$BIN_ARG")
    fi
    ;;
*) BIN=$(command -v -- "$BIN_ARG" 2>/dev/null || true) ;;
esac
if [ -z "$BIN" ] || [ ! -f "$BIN" ] || [ ! -x "$BIN" ]; then
    echo "hostile.sh: no nstudent binary at '$BIN_ARG' (build it, or pass its path)" >&2
    exit 2
fi

OUTDIR=${2:-}
if [ -z "$OUTDIR" ]; then
    OUTDIR=$(mktemp -d)
fi
mkdir -p "$OUTDIR" || exit 2
OUTDIR=$(cd "$OUTDIR" && pwd)
SCR=$OUTDIR/s
META=$OUTDIR/m
FIX=$OUTDIR/fixtures
# An OUTDIR of an earlier run of this script: start afresh.
if [ -f "$OUTDIR/hostile.tsv" ]; then
    rm -rf -- "$SCR" "$META" "$FIX"
fi
mkdir -p "$SCR" "$META" "$FIX"
TSV=$OUTDIR/hostile.tsv
printf 'scenario\texpected\texit\tclass\tfirst_stderr_line\n' >"$TSV"
: >"$OUTDIR/nonok.txt"

ROOT=0
[ "$(id -u)" = 0 ] && ROOT=1
START=$(date +%s)

# ---------------------------------------------------------------- helpers

# Enter a new scratch folder for scenario NAME.
scratch() {
    local d=$SCR/$1
    rm -rf -- "$d"
    mkdir -p -- "$d"
    cd -- "$d" || exit 2
}

# Everything in the current folder, one path per line (hidden files included).
listing() {
    find . -mindepth 1 -printf '%y %p\n' 2>/dev/null | sort
}

# What must not change about a path: the link itself, then what it points to.
fp() {
    local p=$1
    if [ -L "$p" ]; then
        printf 'link %s -> %s\n' "$(stat -c '%a %i' -- "$p")" "$(readlink -- "$p")"
    fi
    if [ ! -e "$p" ]; then
        echo "missing"
        return
    fi
    stat -L -c '%F %a %i %t:%T' -- "$p"
    if [ -f "$p" ]; then
        sha256sum <"$p" | cut -d' ' -f1
    elif [ -d "$p" ]; then
        (cd -- "$p" && find . -printf '%y %p %s %i\n' | sort | sha256sum | cut -d' ' -f1)
    fi
}

first_line() {
    # First stderr line, made printable for a TSV cell.
    head -n 1 -- "$1" 2>/dev/null | sed -e 's/\x1b/\\e/g' -e 's/\r//g' -e 's/\t/ /g' | cut -c1-220
}

line_count() {
    awk 'END { print NR }' "$1"
}

# run_cmd META_DIR TIMEOUT VLIMIT CMD... : runs CMD (stdin /dev/null), records
# stdout, stderr, rc and elapsed seconds in META_DIR.
run_cmd() {
    local md=$1 tmo=$2 vl=$3
    shift 3
    local t0 t1 rc
    t0=$(date +%s)
    # The outer 2>/dev/null only hides bash's own "Aborted" job notices.
    if [ "$vl" = 1 ]; then
        {
            (
                ulimit -v 4000000
                exec timeout -k 5 "$tmo" "$@"
            ) </dev/null >"$md/stdout" 2>"$md/stderr"
        } 2>/dev/null
        rc=$?
    else
        {
            timeout -k 5 "$tmo" "$@" </dev/null >"$md/stdout" 2>"$md/stderr"
        } 2>/dev/null
        rc=$?
    fi
    t1=$(date +%s)
    echo "$rc" >"$md/rc"
    echo $((t1 - t0)) >"$md/elapsed"
    printf '%q ' "$@" >"$md/cmd"
    echo >>"$md/cmd"
}

# Classes of one finished invocation that do not depend on the expectation.
# Usage: base_classes META_DIR TIMEOUT ; prints class words with a note after '|'.
base_classes() {
    local md=$1 tmo=$2 rc el
    rc=$(cat "$md/rc")
    el=$(cat "$md/elapsed")
    if [ "$rc" = 124 ] || { [ "$rc" = 137 ] && [ "$el" -ge "$tmo" ]; }; then
        echo "timeout|ran past ${tmo}s"
    fi
    if [ "$rc" = 101 ] || grep -q 'panicked at' "$md/stderr"; then
        echo "panic|"
    fi
    if [ "$rc" -ge 128 ] && [ "$rc" != 124 ]; then
        echo "abort|signal $((rc - 128))"
    fi
    if grep -q $'\x1b' "$md/stdout" "$md/stderr"; then
        echo "escape|raw ESC byte in output"
    fi
}

ORDER="timeout panic abort destroyed escape bad-exit0 leftover multi-line bad-refuse mode incomplete mixed"

declare -A COUNT=()

# record NAME EXPECT RC FIRSTLINE CLASSFILE : picks the class, writes TSV and the report.
record() {
    local name=$1 expect=$2 rc=$3 first=$4 cf=$5 cls="ok" c also="" notes=""
    for c in $ORDER; do
        if grep -q "^$c|" "$cf"; then
            cls=$c
            break
        fi
    done
    if [ "$cls" != ok ]; then
        also=$(cut -d'|' -f1 "$cf" | grep -vx -- "$cls" | sort -u | tr '\n' ' ')
        notes=$(cut -s -d'|' -f2- "$cf" | grep -v '^$' | sort -u | head -n 3 | tr '\n' ';' | cut -c1-300)
    fi
    COUNT[$cls]=$((${COUNT[$cls]:-0} + 1))
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$expect" "$rc" "$cls" "$first" >>"$TSV"
    if [ "$cls" != ok ]; then
        {
            printf '%-28s %-11s exit %-4s %s\n' "$name" "$cls" "$rc" "$first"
            if [ -n "$also" ] || [ -n "$notes" ]; then
                printf '%-28s   also: %s %s\n' "" "$also" "$notes"
            fi
        } >>"$OUTDIR/nonok.txt"
    fi
}

# probe NAME EXPECT [-w PATH]... [-t SECS] [-V] [-c CHECK] -- CMD...
#   EXPECT: refuse (exit 2, one stderr line, nothing left), ok (exit 0), any (either, but a
#   refusal must still be clean). -w: a path that must not change. -t: time limit (60).
#   -V: under `ulimit -v 4000000`. -c: shell code run in the scratch folder afterwards, with
#   RC, SO (stdout file) and SE (stderr file) set; each line it prints is "CLASS|note".
probe() {
    local name=$1 expect=$2
    shift 2
    local tmo=60 vl=0 check="" w i
    local -a watches=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do
        case $1 in
        -w) watches+=("$2"); shift 2 ;;
        -t) tmo=$2; shift 2 ;;
        -V) vl=1; shift ;;
        -c) check=$2; shift 2 ;;
        *) echo "hostile.sh: probe $name: bad option $1" >&2; return 0 ;;
        esac
    done
    [ $# -gt 0 ] && shift
    local md=$META/$name
    rm -rf -- "$md"
    mkdir -p -- "$md"
    listing >"$md/before"
    i=0
    for w in ${watches[@]+"${watches[@]}"}; do
        fp "$w" >"$md/watch$i.before"
        i=$((i + 1))
    done
    run_cmd "$md" "$tmo" "$vl" "$@"
    local rc
    rc=$(cat "$md/rc")
    listing >"$md/after"
    local cf=$md/classes
    base_classes "$md" "$tmo" >"$cf"
    i=0
    for w in ${watches[@]+"${watches[@]}"}; do
        fp "$w" >"$md/watch$i.after"
        if ! cmp -s "$md/watch$i.before" "$md/watch$i.after"; then
            echo "destroyed|$w: $(tr '\n' ' ' <"$md/watch$i.before")-> $(tr '\n' ' ' <"$md/watch$i.after")" >>"$cf"
        fi
        i=$((i + 1))
    done
    if [ "$rc" != 0 ]; then
        local gone new
        gone=$(comm -23 "$md/before" "$md/after" | head -n 3 | tr '\n' ' ')
        new=$(comm -13 "$md/before" "$md/after" | head -n 5 | tr '\n' ' ')
        [ -n "$gone" ] && echo "destroyed|vanished: $gone" >>"$cf"
        [ -n "$new" ] && echo "leftover|$new" >>"$cf"
        if [ "$expect" != ok ]; then
            local n
            # A refusal after work (a diverged training) follows its progress lines: one
            # `error:` line, the last, is what counts.
            local n errors last
            n=$(line_count "$md/stderr")
            errors=$(grep -c '^error:' "$md/stderr")
            last=$(tail -n 1 "$md/stderr")
            if [ "$errors" != 1 ] || [ "${last#error:}" = "$last" ] || [ "$rc" != 2 ]; then
                echo "multi-line|$n stderr lines ($errors errors), exit $rc" >>"$cf"
            fi
        fi
    fi
    [ "$expect" = refuse ] && [ "$rc" = 0 ] && echo "bad-exit0|" >>"$cf"
    [ "$expect" = ok ] && [ "$rc" != 0 ] && echo "bad-refuse|" >>"$cf"
    if [ -n "$check" ]; then
        (
            # shellcheck disable=SC2034
            RC=$rc SO=$md/stdout SE=$md/stderr
            eval "$check"
        ) >>"$cf" 2>/dev/null
    fi
    record "$name" "$expect" "$rc" "$(first_line "$md/stderr")" "$cf"
}

# ----------------------------------------------------------------- checks (-c)

# The file exists and has mode MODE.
chk_mode() { # FILE MODE
    if [ -e "$1" ] && [ "$(stat -c '%a' -- "$1")" != "$2" ]; then
        echo "mode|$1 is $(stat -c '%a' -- "$1"), not $2"
    fi
    if [ "$RC" = 0 ] && [ ! -e "$1" ]; then
        echo "incomplete|$1 not written"
    fi
}

# LINK still a symlink to TARGET, TARGET a regular file of mode 640; on a refusal
# TARGET still holds ORIGINAL.
chk_link() { # LINK TARGET ORIGINAL
    if [ ! -L "$1" ] || [ "$(readlink -- "$1")" != "$2" ]; then
        echo "destroyed|$1 is no longer a symlink to $2"
    fi
    if [ ! -f "$2" ]; then
        echo "destroyed|$2 is no longer a regular file"
    elif [ "$(stat -c '%a' -- "$2")" != 640 ]; then
        echo "mode|$2 is $(stat -c '%a' -- "$2"), not 640"
    fi
    if [ "$RC" != 0 ] && [ "$(cat -- "$2" 2>/dev/null)" != "$3" ]; then
        echo "destroyed|$2 changed by a refused invocation"
    fi
}

# Exit 0 with no word about a header: the first row was silently dropped.
chk_header() {
    if [ "$RC" = 0 ] && ! grep -qi 'header' "$SE" "$SO"; then
        echo "bad-exit0|first row silently taken as a header"
    fi
}

# DIR/metrics_table.csv has ROWS data rows.
chk_table() { # DIR ROWS
    local n=0
    [ -f "$1/metrics_table.csv" ] && n=$(($(line_count "$1/metrics_table.csv") - 1))
    if [ "$RC" = 0 ] && [ "$n" != "$2" ]; then
        echo "incomplete|$1/metrics_table.csv has $n rows, not $2"
    fi
}

# --------------------------------------------------------------- fixtures

DATA=${HOSTILE_DATA:-$REPO/../shared/datasets}
[ -d "$DATA" ] && DATA=$(cd "$DATA" && pwd)
if [ ! -f "$DATA/sklearn-digits/digits.csv.gz" ]; then
    echo "hostile.sh: no sklearn-digits under $DATA; synthesising one in $FIX/data" >&2
    DATA=$FIX/data
fi
export NSTUDENT_DATA=$DATA
unset NSTUDENT_KERNELS NSTUDENT_MIRROR

# Everything built with python: CSVs, small IDX copies, the huge-header IDX, PNG folders.
python3 - "$FIX" "$DATA" "$REPO" <<'PY'
import gzip, os, random, struct, sys, zlib
fix, data, repo = sys.argv[1:4]
rng = random.Random(7)

def synth_digits(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with gzip.open(path, "wt") as f:
        for i in range(1797):
            lab = i % 10
            px = [min(16, max(0, int(rng.gauss(4 + lab, 4)))) for _ in range(64)]
            f.write(",".join(map(str, px + [lab])) + "\n")

digits = os.path.join(data, "sklearn-digits", "digits.csv.gz")
if not os.path.exists(digits):
    synth_digits(digits)
rows = [r.split(",") for r in gzip.open(digits, "rt").read().split()]
# x.csv: 120 rows of digits 0-4, label first, no header.
x = [[r[-1]] + r[:-1] for r in rows if int(r[-1]) < 5][:120]
def write_csv(name, rs, header=None):
    with open(os.path.join(fix, name), "w") as f:
        if header:
            f.write(header + "\n")
        for r in rs:
            f.write(",".join(r) + "\n")
write_csv("x.csv", x)
for tag, val in (("nan", "nan"), ("inf", "inf"), ("text", "abc")):
    bad = [list(r) for r in x]
    bad[0][5] = val
    write_csv("first-%s.csv" % tag, bad)
ragged = [list(r) for r in x]
ragged[10] = ragged[10][:30]
write_csv("ragged.csv", ragged)
neg = [list(r) for r in x]
neg[3][0] = "-1"
write_csv("label-neg.csv", neg)
with open(os.path.join(fix, "x.csv")) as f:
    txt = f.read()
with open(os.path.join(fix, "trunc.csv"), "w") as f:
    f.write(txt[: len(txt) // 2 + 7])

# IDX: small copies of MNIST (or random pixels).
mn = os.path.join(data, "mnist")
n = 200
try:
    im = gzip.open(os.path.join(mn, "train-images-idx3-ubyte.gz")).read(16 + n * 784)[16:]
    lb = gzip.open(os.path.join(mn, "train-labels-idx1-ubyte.gz")).read(8 + n)[8:]
except OSError:
    im = bytes(rng.randrange(256) for _ in range(n * 784))
    lb = bytes(i % 10 for i in range(n))
idx = os.path.join(fix, "idx")
os.makedirs(idx, exist_ok=True)
img_hdr = lambda k: struct.pack(">IIII", 0x803, k, 28, 28)
lab_hdr = lambda k: struct.pack(">II", 0x801, k)
open(os.path.join(idx, "train-images-idx3-ubyte"), "wb").write(img_hdr(n) + im)
open(os.path.join(idx, "train-labels-idx1-ubyte"), "wb").write(lab_hdr(n) + lb)
def idx_pair(folder, images, labels):
    p = os.path.join(fix, folder)
    os.makedirs(p, exist_ok=True)
    open(os.path.join(p, "train-images-idx3-ubyte"), "wb").write(images)
    open(os.path.join(p, "train-labels-idx1-ubyte"), "wb").write(labels)
idx_pair("idx-trunc", img_hdr(n) + im[: 100 * 784], lab_hdr(n) + lb)
idx_pair("idx-magic", struct.pack(">IIII", 0x1234, n, 28, 28) + im, lab_hdr(n) + lb)
idx_pair("idx-u32max", img_hdr(0xFFFFFFFF) + im, lab_hdr(0xFFFFFFFF) + lb)
idx_pair("idx-labels-mismatch", img_hdr(n) + im, lab_hdr(n - 50) + lb[: n - 50])
# Huge header: 1,000,000 images claimed, 3 MB of zero pixels present (gzip).
big = os.path.join(fix, "idx-huge")
os.makedirs(big, exist_ok=True)
with gzip.open(os.path.join(big, "train-images-idx3-ubyte.gz"), "wb") as f:
    f.write(img_hdr(1000000))
    f.write(bytes(3 * 1000 * 1000))
with gzip.open(os.path.join(big, "train-labels-idx1-ubyte.gz"), "wb") as f:
    f.write(lab_hdr(1000000) + bytes(range(10)) * 100000)
# A gzip cut in the middle.
gz = gzip.compress(img_hdr(n) + im)
gzc = os.path.join(fix, "idx-gzcut")
os.makedirs(gzc, exist_ok=True)
open(os.path.join(gzc, "train-images-idx3-ubyte.gz"), "wb").write(gz[: len(gz) // 2])
open(os.path.join(gzc, "train-labels-idx1-ubyte.gz"), "wb").write(gzip.compress(lab_hdr(n) + lb))

# PNG folders.
def png(path, w, h, pixels):
    raw = b"".join(b"\x00" + bytes(pixels[y * w:(y + 1) * w]) for y in range(h))
    def chunk(t, d):
        c = struct.pack(">I", len(d)) + t + d
        return c + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
def folder(root, classes, per=20):
    for ci, c in enumerate(classes):
        d = os.path.join(root, c)
        os.makedirs(d, exist_ok=True)
        for i in range(per):
            png(os.path.join(d, "%03d.png" % i), 8, 8,
                [min(255, max(0, int(rng.gauss(60 + 120 * ci, 40)))) for _ in range(64)])
folder(os.path.join(fix, "esc", "ds\x1b[32m"), ["\x1b[31mred", "blue"])
folder(os.path.join(fix, "pngs"), ["a", "b"])
open(os.path.join(fix, "pngs", "a", "000.png"), "wb").close()
PY
[ $? = 0 ] || echo "hostile.sh: fixture generation failed (scenarios will show it)" >&2

# The study configs.
cat >"$FIX/tiny.toml" <<'EOF'
seed = 1
tasks = ["sklearn-digits:0-4"]
algorithms = ["baseline"]
outer_folds = 2
inner_folds = 2
[training]
epochs = 1
[pseudo]
labeled_split = "stratified"
EOF
race_config() { # SEED
    cat <<EOF
seed = $1
tasks = ["sklearn-digits"]
algorithms = ["baseline", "noisy-student"]
outer_folds = 2
inner_folds = 2
[space]
threshold = [0.5]
num_students = [1]
[training]
epochs = 2
[pseudo]
labeled_split = "stratified"
EOF
}

# The models, results directory and tables the scenarios take as input.
cd "$FIX" || exit 2
{
    "$BIN" train --data sklearn-digits:0-4 --algo baseline --epochs 1 --out model04
    "$BIN" train --data sklearn-digits:5-9 --algo baseline --epochs 1 --out model59
    "$BIN" train --data sklearn-digits:0-4 --algo ensemble --ensemble-size 2 --num-students 1 --epochs 1 --out ens
    "$BIN" predict --model model04 --data sklearn-digits:0-4 --out p04.csv --labels-out l04.csv
    "$BIN" predict --model model59 --data sklearn-digits:5-9 --out p59.csv --labels-out l59.csv
    "$BIN" run --config tiny.toml --out r0 -q
} >"$FIX/setup.log" 2>&1
if [ -f "$REPO/docs/results/standard-v2/metrics_table.csv" ]; then
    cp "$REPO/docs/results/standard-v2/metrics_table.csv" "$FIX/table.csv"
else
    cp "$FIX/r0/metrics_table.csv" "$FIX/table.csv"
fi
for f in model04 model59 ens/ensemble.json p04.csv l04.csv r0/metrics_table.csv table.csv; do
    [ -e "$FIX/$f" ] || echo "hostile.sh: setup did not make $f (see $FIX/setup.log)" >&2
done
TASKDIR=$(cd "$FIX/r0/cells" 2>/dev/null && ls | head -n 1)
TASKDIR=${TASKDIR:-sklearn-digits_0-4}

# A wide table (5 datasets x 3 algorithms) whose first value is VALUE.
wide() { # VALUE
    printf 'dataset,A,B,C\nd1,%s,0.61,0.72\nd2,0.52,0.63,0.70\nd3,0.55,0.60,0.75\nd4,0.51,0.66,0.71\nd5,0.50,0.64,0.78\n' "$1"
}
# table.csv with the first row's Accuracy set to VALUE.
table_with() { # VALUE
    python3 - "$FIX/table.csv" "$1" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
rows[1][rows[0].index("Accuracy")] = sys.argv[2]
w = csv.writer(sys.stdout, lineterminator="\n")
w.writerows(rows)
PY
}
# A copy of r0 whose fold-1 cell has accuracy VALUE.
cell_with() { # VALUE DEST
    cp -a "$FIX/r0" "$2"
    python3 - "$2/cells/$TASKDIR/1/baseline.json" "$1" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["metrics"]["accuracy"] = float(sys.argv[2])
json.dump(c, open(p, "w"), indent=2)
PY
}

# tiny.toml with the tasks line replaced by LINE (TOML, written as given).
with_tasks() { # LINE
    printf '%s\n' "$1"
    grep -v '^tasks = ' "$FIX/tiny.toml"
}

B=$BIN
X=$FIX/x.csv
D04=sklearn-digits:0-4
T="--epochs 1 --algo baseline"

echo "hostile.sh: probing $BIN; scratch in $OUTDIR" >&2

# ============================================ 1. outputs that never destroy

if [ $ROOT = 1 ]; then
    KINDS="dev fifo dir"
else
    KINDS="fifo dir"
    echo "hostile.sh: not root: the device-file scenarios are skipped" >&2
fi
for kind in $KINDS; do
    tmo=60
    [ "$kind" = fifo ] && tmo=10
    for target in predict-out train-out predict-labels-out train-report train-metrics report-out stats-plot; do
        name=out-$kind-$target
        scratch "$name"
        # stats --plot wants .svg or .png: name it so, or the name alone is refused.
        n=n
        [ "$target" = stats-plot ] && n=n.svg
        case $kind in
        dev) mknod "$n" c 1 3 ;;
        fifo) mkfifo "$n" ;;
        dir) mkdir "$n" && echo keep >"$n/keep" ;;
        esac
        cp "$FIX/table.csv" t.csv
        case $target in
        predict-out) probe "$name" refuse -t $tmo -w n -- "$B" predict --model "$FIX/model04" --data $D04 --out n ;;
        train-out) probe "$name" refuse -t $tmo -w n -- "$B" train --data "$X" $T --out n ;;
        predict-labels-out) probe "$name" refuse -t $tmo -w n -- "$B" predict --model "$FIX/model04" --data $D04 --out p.csv --labels-out n ;;
        train-report) probe "$name" refuse -t $tmo -w n -- "$B" train --data "$X" $T --out m --report n ;;
        train-metrics) probe "$name" refuse -t $tmo -w n -- "$B" train --data "$X" $T --out m --metrics n ;;
        report-out) probe "$name" refuse -t $tmo -w n -w t.csv -- "$B" report t.csv --out n ;;
        stats-plot) probe "$name" refuse -t $tmo -w n.svg -w t.csv -- "$B" stats t.csv --plot n.svg ;;
        esac
    done
done

# Symlinked outputs: refused, or the target written with its mode kept.
for target in predict-out train-out train-report report-out stats-plot; do
    name=out-symlink-$target
    scratch "$name"
    echo precious >target.csv
    chmod 0640 target.csv
    ln -s target.csv link.csv
    cp "$FIX/table.csv" t.csv
    chk="chk_link link.csv target.csv precious"
    case $target in
    predict-out) probe "$name" any -c "$chk" -- "$B" predict --model "$FIX/model04" --data $D04 --out link.csv ;;
    train-out) probe "$name" any -c "$chk" -- "$B" train --data "$X" $T --out link.csv ;;
    train-report) probe "$name" any -c "$chk" -- "$B" train --data "$X" $T --out m --report link.csv ;;
    report-out) probe "$name" any -c "$chk" -w t.csv -- "$B" report t.csv --out link.csv ;;
    stats-plot)
        mv target.csv target.svg
        ln -sfn target.svg link.svg
        rm link.csv
        probe "$name" any -c "chk_link link.svg target.svg precious" -w t.csv -- "$B" stats t.csv --plot link.svg
        ;;
    esac
done

# New files get 0644 under umask 022.
scratch new-mode-predict
probe new-mode-predict ok -c "chk_mode p.csv 644; chk_mode l.csv 644" -- "$B" predict --model "$FIX/model04" --data $D04 --out p.csv --labels-out l.csv
scratch new-mode-train
probe new-mode-train ok -c "chk_mode m 644; chk_mode rep.json 644; chk_mode met.jsonl 644" -- "$B" train --data "$X" $T --out m --report rep.json --metrics met.jsonl
scratch new-mode-report
cp "$FIX/table.csv" t.csv
probe new-mode-report ok -c "chk_mode rep.html 644; chk_mode metrics_table.xlsx 644" -- "$B" report t.csv --out rep.html
scratch new-mode-stats
cp "$FIX/table.csv" t.csv
probe new-mode-stats ok -c "chk_mode cd.svg 644" -- "$B" stats t.csv --plot cd.svg

# nstudent.log / metrics.jsonl of a results directory are symlinks to files outside.
for f in nstudent.log metrics.jsonl; do
    name=results-symlink-$f
    scratch "$name"
    cp -a "$FIX/r0" r
    rm -f "r/cells/$TASKDIR/2/baseline.json" r/metrics_table.csv
    mkdir outside
    echo precious >"outside/$f"
    rm -f "r/$f"
    ln -s "../outside/$f" "r/$f"
    probe "$name" any -w "outside/$f" -- "$B" run --config "$FIX/tiny.toml" --out r -q
done

# An output that is also an input.
scratch same-train-idx
cp -r "$FIX/idx" d
probe same-train-idx refuse -w d/train-images-idx3-ubyte -w d/train-labels-idx1-ubyte -- "$B" train --data d/train-images-idx3-ubyte $T --out d/train-images-idx3-ubyte
scratch same-predict-model
cp "$FIX/model04" m
probe same-predict-model refuse -w m -- "$B" predict --model m --data $D04 --out m
scratch same-predict-data
cp "$X" x.csv
probe same-predict-data refuse -w x.csv -- "$B" predict --model "$FIX/model04" --data x.csv --out x.csv
scratch same-predict-labels-data
cp "$X" x.csv
probe same-predict-labels-data refuse -w x.csv -- "$B" predict --model "$FIX/model04" --data x.csv --out p.csv --labels-out x.csv
scratch same-predict-out-labels
probe same-predict-out-labels refuse -- "$B" predict --model "$FIX/model04" --data $D04 --out p.csv --labels-out p.csv
scratch same-predict-ens-member
cp -r "$FIX/ens" e
probe same-predict-ens-member refuse -w e/member-1.safetensors -w e/ensemble.json -- "$B" predict --model e --data $D04 --out e/member-1.safetensors
scratch same-train-data-report
cp "$X" x.csv
probe same-train-data-report refuse -w x.csv -- "$B" train --data x.csv $T --out m --report x.csv
scratch same-train-data-metrics
cp "$X" x.csv
probe same-train-data-metrics refuse -w x.csv -- "$B" train --data x.csv $T --out m --metrics x.csv
scratch same-train-out-report
probe same-train-out-report refuse -- "$B" train --data "$X" $T --out a --report a
scratch same-train-out-metrics
probe same-train-out-metrics refuse -- "$B" train --data "$X" $T --out a --metrics a
scratch same-report-table
cp "$FIX/table.csv" t.csv
probe same-report-table refuse -w t.csv -- "$B" report t.csv --out t.csv
scratch same-stats-plot-svg
cp "$FIX/table.csv" t.svg
probe same-stats-plot-svg refuse -w t.svg -- "$B" stats t.svg --plot t.svg
scratch same-stats-plot-csv
cp "$FIX/table.csv" t.csv
probe same-stats-plot-csv refuse -w t.csv -- "$B" stats t.csv --plot t.csv
scratch same-report-results-table
cp -a "$FIX/r0" r
probe same-report-results-table refuse -w r/metrics_table.csv -- "$B" report r --out r/metrics_table.csv
scratch same-curve-out-table
cp -a "$FIX/r0" r1
cp -a "$FIX/r0" r2
probe same-curve-out-table refuse -w r1/metrics_table.csv -- "$B" curve r1 r2 --out r1/metrics_table

# ============================================ 2. studies that never mix

race() { # NAME
    local name=$1 md=$META/$1 cf
    scratch "$name"
    race_config 1 >a.toml
    race_config 2 >b.toml
    rm -rf -- "$md"
    mkdir -p "$md/a" "$md/b"
    run_cmd "$md/a" 60 0 "$B" run --config a.toml --out r -q &
    run_cmd "$md/b" 60 0 "$B" run --config b.toml --out r -q &
    wait
    cf=$md/classes
    : >"$cf"
    base_classes "$md/a" 60 >>"$cf"
    base_classes "$md/b" 60 >>"$cf"
    local ra rb win lose first=""
    ra=$(cat "$md/a/rc")
    rb=$(cat "$md/b/rc")
    if [ "$ra" = 0 ] && [ "$rb" = 0 ]; then
        echo "bad-exit0|both runs exited 0 on one --out" >>"$cf"
        win=""
    elif [ "$ra" != 0 ] && [ "$rb" != 0 ]; then
        echo "bad-refuse|both runs refused" >>"$cf"
        win=""
        first=$(first_line "$md/a/stderr")
    elif [ "$ra" = 0 ]; then
        win=a lose=b
    else
        win=b lose=a
    fi
    if [ -n "$win" ]; then
        local lr n seed want
        lr=$(cat "$md/$lose/rc")
        first=$(first_line "$md/$lose/stderr")
        n=$(line_count "$md/$lose/stderr")
        if [ "$lr" != 2 ] || [ "$n" != 1 ]; then
            echo "multi-line|refusal: $n stderr lines, exit $lr" >>"$cf"
        fi
        want=1
        [ "$win" = b ] && want=2
        n=0
        [ -f r/metrics_table.csv ] && n=$(($(line_count r/metrics_table.csv) - 1))
        [ "$n" != 4 ] && echo "incomplete|metrics_table.csv has $n rows, not 4" >>"$cf"
        seed=$(sed -n 's/^seed = \([0-9]*\).*/\1/p' r/study.toml 2>/dev/null | head -n 1)
        [ "$seed" != "$want" ] && echo "mixed|study.toml has seed '$seed', the winner ran seed $want" >>"$cf"
    fi
    if [ -d r/cells ]; then
        local hashes
        hashes=$(grep -rhoE '"config_hash": *"[0-9a-f]+"' r/cells 2>/dev/null | sort -u | wc -l)
        [ "$hashes" -gt 1 ] && echo "mixed|cells of $hashes configs in one directory" >>"$cf"
    fi
    record "$name" one-refuses "$ra/$rb" "$first" "$cf"
}
for i in 1 2 3 4 5; do
    race "race-$i"
done

# Claims: an empty claim younger than 2 s (torn or being written: wait, then take over).
claim_setup() {
    cp -a "$FIX/r0" r
    rm -f "r/cells/$TASKDIR/2/baseline.json" r/metrics_table.csv
}
scratch claim-empty-young
claim_setup
: >"r/cells/$TASKDIR/2/baseline.claim"
probe claim-empty-young ok -t 30 -c "chk_table r 2" -- "$B" run --config "$FIX/tiny.toml" --out r -q --worker --claim-timeout 5
scratch claim-empty-future
claim_setup
: >"r/cells/$TASKDIR/2/baseline.claim"
touch -d '+1 hour' "r/cells/$TASKDIR/2/baseline.claim"
probe claim-empty-future ok -t 30 -c "chk_table r 2" -- "$B" run --config "$FIX/tiny.toml" --out r -q --worker --claim-timeout 5
scratch claim-other-host-future
claim_setup
printf '{"host":"elsewhere.invalid","pid":1,"started":1,"token":42}' >"r/cells/$TASKDIR/2/baseline.claim"
touch -d '+1 hour' "r/cells/$TASKDIR/2/baseline.claim"
probe claim-other-host-future ok -t 30 -c "chk_table r 2" -- "$B" run --config "$FIX/tiny.toml" --out r -q --worker --claim-timeout 3
scratch claim-garbage-old
claim_setup
printf 'garbage' >"r/cells/$TASKDIR/2/baseline.claim"
touch -d '-1 hour' "r/cells/$TASKDIR/2/baseline.claim"
probe claim-garbage-old ok -t 30 -c "chk_table r 2" -- "$B" run --config "$FIX/tiny.toml" --out r -q --worker --claim-timeout 5

# ============================================ 3. nothing impossible is published

scratch cell-1.7-merge
cell_with 1.7 r
probe cell-1.7-merge refuse -w r/metrics_table.csv -- "$B" merge r
scratch cell-1.7-run
cell_with 1.7 r
probe cell-1.7-run refuse -w r/metrics_table.csv -- "$B" run --config "$FIX/tiny.toml" --out r -q
scratch cell-nan-merge
cell_with 1 r
sed -i 's/"accuracy": 1.0/"accuracy": NaN/' "r/cells/$TASKDIR/1/baseline.json"
probe cell-nan-merge refuse -w r/metrics_table.csv -- "$B" merge r

for v in 1.7 1e308 -0.5 nan; do
    scratch "table-$v-stats"
    table_with "$v" >t.csv
    probe "table-$v-stats" refuse -w t.csv -- "$B" stats t.csv
    scratch "table-$v-report"
    table_with "$v" >t.csv
    probe "table-$v-report" refuse -w t.csv -- "$B" report t.csv --out rep.html
done
for v in 1.7 1e308 -3; do
    scratch "wide-$v-stats"
    wide "$v" >w.csv
    probe "wide-$v-stats" ok -- "$B" stats w.csv --layout wide --value-name F1
done
for v in nan inf -inf; do
    scratch "wide-$v-stats"
    wide "$v" >w.csv
    probe "wide-$v-stats" refuse -- "$B" stats w.csv --layout wide --value-name F1
done
scratch wide-1.7-report
wide 1.7 >w.csv
probe wide-1.7-report ok -- "$B" report w.csv --layout wide --value-name F1 --out rep.html
scratch wide-nan-report
wide nan >w.csv
probe wide-nan-report refuse -- "$B" report w.csv --layout wide --value-name F1 --out rep.html

scratch model59-predict-04
probe model59-predict-04 refuse -- "$B" predict --model "$FIX/model59" --data $D04 --out p.csv --labels-out l.csv
scratch model59-score-04
# Probabilities of the 5-9 model (header "class 5".."class 9") against 0-4 labels, same rows.
head -n 801 "$FIX/p59.csv" >p.csv
head -n 801 "$FIX/l04.csv" >l.csv
# `score` sees label numbers and probability columns only, no class names: it cannot tell.
# The pair is refused where the names are known (`predict`, model59-predict-04).
probe model59-score-04 ok -- "$B" score --labels l.csv --proba p.csv
scratch train-lr-1e10
probe train-lr-1e10 refuse -- "$B" train --data "$X" $T --lr 1e10 --out m --report rep.json --metrics met.jsonl

# ============================================ 4. sizes that never abort

scratch ensemble-size-config
cat >big.toml <<'EOF'
seed = 1
tasks = ["sklearn-digits:0-4"]
algorithms = ["baseline-ensemble", "ensemble"]
outer_folds = 2
[space]
ensemble_size = [100000]
[training]
epochs = 1
[pseudo]
labeled_split = "stratified"
EOF
probe ensemble-size-config refuse -V -- "$B" run --config big.toml --out r -q
scratch ensemble-size-train
probe ensemble-size-train refuse -V -- "$B" train --data "$X" --algo ensemble --ensemble-size 100000 --epochs 1 --out m
scratch ensemble-size-train-config
printf 'algorithm = "ensemble"\nensemble_size = 100000\n' >t.toml
probe ensemble-size-train-config refuse -V -- "$B" train --data "$X" --config t.toml --epochs 1 --out m
scratch num-students-2p32
probe num-students-2p32 refuse -V -- "$B" train --data "$X" --algo noisy-student --num-students 4294967296 --epochs 1 --out m
scratch num-students-u32max
probe num-students-u32max refuse -V -t 30 -- "$B" train --data "$X" --algo noisy-student --num-students 4294967295 --epochs 1 --out m
scratch run-folds-2p32
probe run-folds-2p32 refuse -V -- "$B" run --config "$FIX/tiny.toml" --folds 4294967296 --out r -q
scratch run-folds-u32max
probe run-folds-u32max refuse -V -- "$B" run --config "$FIX/tiny.toml" --folds 4294967295 --out r -q
scratch idx-huge-header
cp -r "$FIX/idx-huge" d
probe idx-huge-header refuse -V -- "$B" train --data d $T --out m
scratch idx-huge-header-info
cp -r "$FIX/idx-huge" d
probe idx-huge-header-info refuse -V -- "$B" data info d
scratch idx-u32max-header
cp -r "$FIX/idx-u32max" d
probe idx-u32max-header refuse -V -- "$B" train --data d $T --out m
scratch outer-folds-200
with_tasks "tasks = [\"$X\"]" | sed 's/^outer_folds = 2/outer_folds = 200/' >c.toml
probe outer-folds-200 refuse -V -- "$B" run --config c.toml --out r -q
scratch inner-folds-200
cat >c.toml <<EOF
tasks = ["$X"]
algorithms = ["noisy-student"]
outer_folds = 2
inner_folds = 200
[space]
threshold = [0.5]
num_students = [1]
[training]
epochs = 1
[pseudo]
labeled_split = "stratified"
EOF
probe inner-folds-200 refuse -V -- "$B" run --config c.toml --out r -q
scratch width-huge
probe width-huge refuse -V -- "$B" train --data "$X" $T --width 1e6 --out m
scratch resize-huge
probe resize-huge refuse -V -- "$B" train --data "$X" $T --resize 100000x100000 --out m
scratch batch-2p32
probe batch-2p32 any -V -- "$B" train --data "$X" $T --batch 4294967296 --out m
scratch epochs-u32max
probe epochs-u32max refuse -V -t 30 -- "$B" train --data "$X" --algo baseline --epochs 4294967295 --out m

# ============================================ 5. never silent

for v in nan inf text; do
    scratch "csv-first-$v-info"
    cp "$FIX/first-$v.csv" f.csv
    probe "csv-first-$v-info" any -c chk_header -- "$B" data info f.csv
    scratch "csv-first-$v-train"
    cp "$FIX/first-$v.csv" f.csv
    probe "csv-first-$v-train" any -c chk_header -- "$B" train --data f.csv $T --out m
done
if [ -d "$DATA/cifar-10-subset" ]; then
    scratch coarse-cifar10-info
    probe coarse-cifar10-info refuse -- "$B" data info cifar-10-subset --coarse
    scratch coarse-cifar10-train
    probe coarse-cifar10-train refuse -- "$B" train --data cifar-10-subset --coarse $T --out m
fi
scratch coarse-digits-train
probe coarse-digits-train refuse -- "$B" train --data "$X" --coarse $T --out m
scratch coarse-digits-predict
probe coarse-digits-predict refuse -- "$B" predict --model "$FIX/model04" --data $D04 --coarse --out p.csv
scratch epochs-by-source-unknown
sed 's/^epochs = 1/epochs = 1\nepochs_by_source = { mnistt = 2, "sklearn-digitz" = 3 }/' "$FIX/tiny.toml" >c.toml
probe epochs-by-source-unknown refuse -- "$B" run --config c.toml --out r -q
scratch epochs-by-source-unknown-plan
cp "$SCR/epochs-by-source-unknown/c.toml" c.toml
probe epochs-by-source-unknown-plan refuse -- "$B" run --config c.toml --out r --plan
scratch score-negative-proba
printf 'label\n0\n1\n2\n' >l.csv
printf 'c0,c1,c2\n1.2,-0.2,0\n0.1,0.8,0.1\n0,0.3,0.7\n' >p.csv
probe score-negative-proba refuse -- "$B" score --labels l.csv --proba p.csv
scratch score-proba-over-1
printf 'label\n0\n1\n2\n' >l.csv
printf 'c0,c1,c2\n3,2,1\n0.1,0.8,0.1\n0,0.3,0.7\n' >p.csv
# Scores that do not sum to 1 are scored with a warning (AUC ranks scores); negative ones
# are refused (score-negative-proba).
probe score-proba-over-1 ok -- "$B" score --labels l.csv --proba p.csv
scratch score-proba-nan
printf 'label\n0\n1\n2\n' >l.csv
printf 'c0,c1,c2\nnan,0.5,0.5\n0.1,0.8,0.1\n0,0.3,0.7\n' >p.csv
probe score-proba-nan refuse -- "$B" score --labels l.csv --proba p.csv
scratch verify-sample-0
cp -a "$FIX/r0" r
probe verify-sample-0 refuse -- "$B" verify r --sample 0
scratch tasks-collide
mkdir a
cp "$X" a/b.csv
cp "$X" a_b.csv
with_tasks 'tasks = ["a/b.csv", "a_b.csv"]' >c.toml
probe tasks-collide refuse -- "$B" run --config c.toml --out r -q
scratch tasks-duplicate
with_tasks 'tasks = ["sklearn-digits:0-4", "sklearn-digits:0-4"]' >c.toml
probe tasks-duplicate refuse -- "$B" run --config c.toml --out r -q
ESCDS=$(printf 'ds\033[32m')
scratch escape-data-info
cp -r "$FIX/esc/$ESCDS" .
probe escape-data-info ok -- "$B" data info "$ESCDS"
scratch escape-run
cp -r "$FIX/esc/$ESCDS" .
with_tasks 'tasks = ["ds\u001b[32m"]' >c.toml
probe escape-run any -- "$B" run --config c.toml --out r
scratch escape-train
cp -r "$FIX/esc/$ESCDS" .
probe escape-train any -- "$B" train --data "$ESCDS" $T --out m
scratch escape-missing-path
probe escape-missing-path refuse -- "$B" data info "$(printf 'no\033[2Jsuch\033]0;x\007')"
scratch ensemble-json-2000
cp -r "$FIX/ens" e
python3 -c 'import json,sys; json.dump({"format":"nstudent-ensemble","version":1,"members":["member-1.safetensors"]*2000}, open(sys.argv[1],"w"))' e/ensemble.json
probe ensemble-json-2000 refuse -V -- "$B" predict --model e --data $D04 --out p.csv
scratch ensemble-json-escape
cp -r "$FIX/ens" e
python3 -c 'import json,sys; json.dump({"format":"nstudent-ensemble","version":1,"members":["../../../etc/passwd"]}, open(sys.argv[1],"w"))' e/ensemble.json
probe ensemble-json-escape refuse -- "$B" predict --model e --data $D04 --out p.csv

# ============================================ generic hostile inputs

scratch g-model-empty
: >m
probe g-model-empty refuse -- "$B" predict --model m --data $D04 --out p.csv
scratch g-model-truncated
head -c 1000 "$FIX/model04" >m
probe g-model-truncated refuse -- "$B" predict --model m --data $D04 --out p.csv
scratch g-model-dir-empty
mkdir m
probe g-model-dir-empty refuse -- "$B" predict --model m --data $D04 --out p.csv
scratch g-model-missing
probe g-model-missing refuse -- "$B" predict --model nope --data $D04 --out p.csv
scratch g-model-newline
probe g-model-newline refuse -- "$B" predict --model "$(printf 'no\nsuch')" --data $D04 --out p.csv
scratch g-model-devzero
probe g-model-devzero refuse -V -t 30 -- "$B" predict --model /dev/zero --data $D04 --out p.csv
scratch g-data-empty-csv
: >e.csv
probe g-data-empty-csv refuse -- "$B" train --data e.csv $T --out m
scratch g-data-truncated-csv
cp "$FIX/trunc.csv" t.csv
probe g-data-truncated-csv refuse -- "$B" train --data t.csv $T --out m
scratch g-data-ragged-csv
cp "$FIX/ragged.csv" t.csv
probe g-data-ragged-csv refuse -- "$B" train --data t.csv $T --out m
scratch g-data-label-neg
cp "$FIX/label-neg.csv" t.csv
probe g-data-label-neg refuse -- "$B" train --data t.csv $T --out m
scratch g-data-missing
probe g-data-missing refuse -- "$B" train --data nope.csv $T --out m
scratch g-data-dir-empty
mkdir d
probe g-data-dir-empty refuse -- "$B" train --data d $T --out m
scratch g-data-devnull
probe g-data-devnull refuse -- "$B" data info /dev/null
scratch g-data-devzero
probe g-data-devzero refuse -V -t 30 -- "$B" train --data /dev/zero $T --out m
scratch g-idx-truncated
cp -r "$FIX/idx-trunc" d
probe g-idx-truncated refuse -- "$B" train --data d $T --out m
scratch g-idx-bad-magic
cp -r "$FIX/idx-magic" d
probe g-idx-bad-magic refuse -- "$B" data info d
scratch g-idx-label-count
cp -r "$FIX/idx-labels-mismatch" d
probe g-idx-label-count refuse -- "$B" train --data d $T --out m
scratch g-gzip-cut
cp -r "$FIX/idx-gzcut" d
probe g-gzip-cut refuse -- "$B" train --data d $T --out m
scratch g-png-empty-file
cp -r "$FIX/pngs" d
probe g-png-empty-file refuse -- "$B" train --data d $T --out m
scratch g-config-devzero
probe g-config-devzero refuse -V -t 30 -- "$B" run --config /dev/zero --out r -q
scratch g-config-syntax
printf 'seed = \nouter_folds = [\n' >c.toml
probe g-config-syntax refuse -- "$B" run --config c.toml --out r -q
scratch g-config-unknown-key
printf 'outer_foldz = 2\n' >c.toml
probe g-config-unknown-key refuse -- "$B" run --config c.toml --out r -q
scratch g-config-missing
probe g-config-missing refuse -- "$B" run --config nope.toml --out r -q
scratch g-train-config-dir
mkdir c
probe g-train-config-dir refuse -- "$B" train --data "$X" --config c $T --out m
scratch g-score-empty-labels
: >l.csv
probe g-score-empty-labels refuse -- "$B" score --labels l.csv --proba "$FIX/p04.csv"
scratch g-score-label-range
printf 'label\n0\n7\n2\n' >l.csv
printf 'c0,c1,c2\n0.8,0.1,0.1\n0.1,0.8,0.1\n0,0.3,0.7\n' >p.csv
probe g-score-label-range refuse -- "$B" score --labels l.csv --proba p.csv
scratch g-score-row-mismatch
probe g-score-row-mismatch refuse -- "$B" score --labels "$FIX/l59.csv" --proba "$FIX/p04.csv"
scratch g-score-proba-dir
mkdir p
probe g-score-proba-dir refuse -- "$B" score --labels "$FIX/l04.csv" --proba p

# Numeric flags: zero, negative, NaN, overflowing, out of range.
while IFS='|' read -r expect args; do
    [ -z "$args" ] && continue
    name=g-flag-$(printf '%s' "${args#--}" | tr -c 'A-Za-z0-9.-' '_' | cut -c1-40)
    scratch "$name"
    ep="--epochs 1"
    case $args in --epochs*) ep="" ;; esac
    # shellcheck disable=SC2086
    probe "$name" "$expect" -V -t 30 -- "$B" train --data "$X" --algo noisy-student --num-students 1 $ep --out m $args
done <<'EOF'
refuse|--epochs 0
refuse|--epochs 99999999999999999999
refuse|--batch 0
refuse|--lr -1
refuse|--lr nan
refuse|--lr inf
refuse|--teacher-factor 0
refuse|--teacher-factor 1.5
refuse|--unl-factor -0.1
refuse|--threshold -1
refuse|--threshold nan
refuse|--temperature 0
refuse|--dropout 1
refuse|--survival 0
refuse|--magnitude 31
refuse|--magnitude nan
refuse|--augment-ops 1000000000
refuse|--width 0
refuse|--student-width -1
refuse|--balance-target 18446744073709551615
refuse|--resize 0x0
refuse|--shape 0x0
refuse|--shape 7x7
refuse|--max-value 0
refuse|--max-value nan
refuse|--label-column 99999
refuse|--seed -1
any|--threads 100000
EOF

scratch g-run-threads-100000
probe g-run-threads-100000 any -V -- "$B" run --config "$FIX/tiny.toml" --threads 100000 --out r -q
scratch g-run-jobs-100000
probe g-run-jobs-100000 any -V -- "$B" run --config "$FIX/tiny.toml" --jobs 100000 --out r -q
scratch g-run-folds-0
probe g-run-folds-0 refuse -- "$B" run --config "$FIX/tiny.toml" --folds 0 --out r -q
scratch g-run-folds-1
probe g-run-folds-1 refuse -- "$B" run --config "$FIX/tiny.toml" --folds 1 --out r -q
scratch g-run-epochs-0
probe g-run-epochs-0 refuse -- "$B" run --config "$FIX/tiny.toml" --epochs 0 --out r -q
scratch g-run-shard-3of2
probe g-run-shard-3of2 refuse -- "$B" run --config "$FIX/tiny.toml" --shard 3/2 --out r -q
scratch g-run-shard-0of0
probe g-run-shard-0of0 refuse -- "$B" run --config "$FIX/tiny.toml" --shard 0/0 --out r -q
scratch g-run-out-is-file
echo precious >r
probe g-run-out-is-file refuse -w r -- "$B" run --config "$FIX/tiny.toml" --out r -q
scratch g-merge-missing
probe g-merge-missing refuse -- "$B" merge nope
scratch g-merge-empty-dir
mkdir r
probe g-merge-empty-dir refuse -w r -- "$B" merge r
scratch g-verify-empty-dir
mkdir r
probe g-verify-empty-dir refuse -w r -- "$B" verify r
scratch g-verify-cells-999
cp -a "$FIX/r0" r
probe g-verify-cells-999 refuse -- "$B" verify r --cells 999
scratch g-curve-same-dir
cp -a "$FIX/r0" r
probe g-curve-same-dir refuse -- "$B" curve r r --out c
scratch g-stats-empty
: >t.csv
probe g-stats-empty refuse -- "$B" stats t.csv
scratch g-stats-header-only
head -n 1 "$FIX/table.csv" >t.csv
probe g-stats-header-only refuse -- "$B" stats t.csv
scratch g-stats-dir
mkdir t.csv
probe g-stats-dir refuse -- "$B" stats t.csv
scratch g-stats-alpha-2
cp "$FIX/table.csv" t.csv
probe g-stats-alpha-2 refuse -- "$B" stats t.csv --alpha 2
scratch g-report-empty-dir
mkdir r
probe g-report-empty-dir refuse -w r -- "$B" report r
scratch g-train-unlabeled-missing
probe g-train-unlabeled-missing refuse -- "$B" train --data "$X" --algo noisy-student --unlabeled nope --epochs 1 --out m
scratch g-train-eval-missing
probe g-train-eval-missing refuse -- "$B" train --data "$X" $T --eval nope --out m
scratch g-data-dir-is-file
probe g-data-dir-is-file refuse -- "$B" train --data sklearn-digits:0-4 --data-dir "$X" $T --out m
scratch g-out-newline
probe g-out-newline any -- "$B" train --data "$X" $T --out "$(printf 'm\nx')"
scratch g-task-range-bad
probe g-task-range-bad refuse -- "$B" train --data sklearn-digits:7-3 $T --out m
scratch g-task-range-huge
probe g-task-range-huge refuse -- "$B" train --data sklearn-digits:0-99999999999 $T --out m

# --------------------------------------------------------------------- report

END=$(date +%s)
total=$(($(wc -l <"$TSV") - 1))
echo
echo "== non-ok scenarios (name, class, exit, first stderr line)"
cat "$OUTDIR/nonok.txt"
echo
echo "== summary: $total scenarios in $((END - START)) s ($BIN)"
for c in ok $ORDER; do
    [ -n "${COUNT[$c]:-}" ] && printf '  %-11s %s\n' "$c" "${COUNT[$c]}"
done
echo "  table: $TSV"
exit 0
