#!/usr/bin/env bash
# Reproduces the two TUI figures of issue 5 on the real binary, in tmux.
#   1. latency from a file's creation in a container to its name on screen
#   2. TUI memory (VmHWM/VmRSS) with a 100,000-entry merged tree, and G latency
# Usage: scripts/tui-figures.sh [samples]   (needs root, tmux, python3)
set -euo pipefail
N=${1:-50}
W=/tmp/tuim; M=$W/minidocker; R=$W/store; S=tuifig
mkdir -p $W
(cd "$(dirname "$0")/.." && go build -o $M .)
cleanup() {
  tmux -L $S kill-server 2>/dev/null || true
  $M --root $R rm -f lat >/dev/null 2>&1 || true
  $M --root $R rm -f big >/dev/null 2>&1 || true
}
trap cleanup EXIT
$M --root $R image create-base >/dev/null
$M --root $R rm -f lat >/dev/null 2>&1 || true
$M --root $R rm -f big >/dev/null 2>&1 || true

# wait until the screen shows $1 (timeout 60 s)
waitfor() { for _ in $(seq 1 1200); do tmux -L $S capture-pane -p -t ui | grep -qF -- "$1" && return 0; sleep 0.05; done; echo "never saw $1" >&2; tmux -L $S capture-pane -p -t ui >&2; return 1; }

echo "== 1. change-to-screen latency ($N samples)"
$M --root $R run -d -i -t --name lat base /bin/sh >/dev/null
tmux -L $S new-session -d -s ui -x 120 -y 40 "$M --root $R ui"
waitfor "● lat running"
tmux -L $S send-keys -t ui 2 Enter
waitfor "merged"
sleep 1
python3 - "$M" "$R" "$N" <<'PY'
import subprocess,sys,time,re,threading
M,R,N=sys.argv[1],sys.argv[2],int(sys.argv[3])
cap=["tmux","-L","tuifig","capture-pane","-p","-t","ui"]
# cost of one capture-pane
t=time.perf_counter()
for _ in range(100): subprocess.run(cap,capture_output=True)
cost=(time.perf_counter()-t)/100*1000
print(f"capture-pane: {cost:.1f} ms per call (poll interval ~5 ms + this)")
# one long exec: per sample, take the time, create /zqNNN, wait, remove it
script=f'i=100; while [ $i -lt {100+N} ]; do t=$(date +%s%N); echo $t > /zq$i; echo "zq$i $t"; sleep 0.4; rm /zq$i; sleep 0.3; i=$((i+1)); done'
p=subprocess.Popen([M,"--root",R,"exec","lat","sh","-c",script],stdout=subprocess.PIPE,text=True)
created={}
def rd():
    for l in p.stdout:
        n,t=l.split(); created[n]=int(t)
threading.Thread(target=rd,daemon=True).start()
seen={}; pat=re.compile(r"\bzq(\d{3})\b")
while p.poll() is None or len(seen)<len(created):
    out=subprocess.run(cap,capture_output=True,text=True).stdout
    t=time.time_ns()  # after the capture: an upper bound on when the frame was there
    for m in pat.finditer(out):
        seen.setdefault("zq"+m.group(1),t)
    time.sleep(0.005)
    if p.poll() is not None and len(seen)>=len(created): break
    if p.poll() is not None:
        # give the last sample up to 3 s
        if not hasattr(sys,"_end"): sys._end=time.time()
        if time.time()-sys._end>3: break
lat=sorted((seen[n]-created[n])/1e6 for n in created if n in seen)
miss=[n for n in created if n not in seen]
def pct(q): return lat[min(len(lat)-1,int(round(q*(len(lat)-1))))]
print(f"samples {len(lat)} (missed {len(miss)})  p50 {pct(.5):.0f} ms  p95 {pct(.95):.0f} ms  max {lat[-1]:.0f} ms  min {lat[0]:.0f} ms")
print("all:", " ".join(f"{x:.0f}" for x in lat))
PY
tmux -L $S kill-server || true
$M --root $R rm -f lat >/dev/null

echo "== 2. memory with a 100,000-entry tree"
$M --root $R run -d -i -t --name big base /bin/sh >/dev/null
# 100 dirs x 1,000 empty files, written inside the container: they land in the upper dir
$M --root $R exec big sh -c 'i=0; while [ $i -lt 100 ]; do mkdir -p /data/d$i; cd /data/d$i; j=0; while [ $j -lt 1000 ]; do : > f$j; j=$((j+1)); done; i=$((i+1)); done'
tmux -L $S new-session -d -s ui -x 120 -y 40 "$M --root $R ui"
waitfor "● big running"
P=$(tmux -L $S list-panes -t ui -F '#{pane_pid}')
echo "pane pid $P ($(cat /proc/$P/comm)) before open: $(grep VmRSS /proc/$P/status)"
ms() { echo $(( ($(date +%s%N)-$1)/1000000 )); }
# time from a key to the first frame that contains $2
key() { local s; s=$(date +%s%N); tmux -L $S send-keys -t ui "$1"; for _ in $(seq 4000); do tmux -L $S capture-pane -p -t ui | grep -qF -- "$2" && break; sleep 0.005; done; ms $s; }
tmux -L $S send-keys -t ui 2
echo "open layer view (Enter): $(key Enter 'merged 1/') ms"
sleep 1
tmux -L $S capture-pane -p -t ui | sed -n 4p
TOTAL=$(tmux -L $S capture-pane -p -t ui | sed -n 4p | grep -o 'merged 1/[0-9]*' | cut -d/ -f2)
echo "after open: $(grep -E 'VmHWM|VmRSS' /proc/$P/status | tr -s '\t ' ' ' | tr '\n' ' ')"
for i in $(seq 10); do echo "g $(key g "merged 1/$TOTAL") ms   G $(key G "merged $TOTAL/$TOTAL") ms"; done
tmux -L $S send-keys -t ui g
for i in $(seq 30); do tmux -L $S send-keys -t ui C-f; done
for i in $(seq 50); do tmux -L $S send-keys -t ui j; done
sleep 1
tmux -L $S capture-pane -p -t ui | sed -n 4p
echo "after scrolling: $(grep -E 'VmHWM|VmRSS' /proc/$P/status | tr -s '\t ' ' ' | tr '\n' ' ')"
tmux -L $S send-keys -t ui q
sleep 0.5
tmux -L $S kill-server 2>/dev/null || true
$M --root $R rm -f big >/dev/null
grep -c " $R" /proc/mounts || true
