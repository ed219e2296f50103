#!/usr/bin/env bash
# Reproduces the TUI figures of issues 5 and 12 on the real binary, in tmux.
#   1. latency from a file's creation in a container to its name on screen
#   2. TUI memory (VmHWM/VmRSS) with a 100,000-entry merged tree, and G latency
#   3. a busy container: the TUI's CPU (share of one core) and memory while the
#      container makes about 1,000 changes a second in a 10,000-entry /tmp,
#      and the latency of a change to screen meanwhile
# Usage: scripts/tui-figures.sh [samples] [sections]   (needs root, tmux, python3)
#   sections defaults to "1 2 3"
set -euo pipefail
N=${1:-50}
SECTIONS=${2:-1 2 3}
on() { [[ " $SECTIONS " == *" $1 "* ]]; }
# TUIFIG_DIR and TUIFIG_SOCKET let two runs side by side keep apart.
W=${TUIFIG_DIR:-/tmp/tuim}; M=$W/minidocker; R=$W/store; S=${TUIFIG_SOCKET:-tuifig}
export S
mkdir -p $W
(cd "$(dirname "$0")/.." && go build -o $M .)
cleanup() {
  tmux -L $S kill-server 2>/dev/null || true
  $M --root $R rm -f lat >/dev/null 2>&1 || true
  $M --root $R rm -f big >/dev/null 2>&1 || true
  $M --root $R rm -f busy >/dev/null 2>&1 || true
}
trap cleanup EXIT
$M --root $R image create-base >/dev/null
$M --root $R rm -f lat >/dev/null 2>&1 || true
$M --root $R rm -f big >/dev/null 2>&1 || true
$M --root $R rm -f busy >/dev/null 2>&1 || true

# wait until the screen shows $1 (timeout 60 s)
waitfor() { for _ in $(seq 1 1200); do tmux -L $S capture-pane -p -t ui | grep -qF -- "$1" && return 0; sleep 0.05; done; echo "never saw $1" >&2; tmux -L $S capture-pane -p -t ui >&2; return 1; }

if on 1; then
echo "== 1. change-to-screen latency ($N samples)"
$M --root $R run -d -i -t --name lat base /bin/sh >/dev/null
tmux -L $S new-session -d -s ui -x 120 -y 40 "$M --root $R ui"
waitfor "● lat running"
tmux -L $S send-keys -t ui 2 Enter
waitfor "merged"
sleep 1
python3 - "$M" "$R" "$N" <<'PY'
import os,subprocess,sys,time,re,threading
M,R,N=sys.argv[1],sys.argv[2],int(sys.argv[3])
cap=["tmux","-L",os.environ["S"],"capture-pane","-p","-t","ui"]
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
fi

if on 2; then
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
fi

if on 3; then
echo "== 3. a busy container: 1,000 changes a second in a 10,000-entry /tmp"
$M --root $R run -d -i -t --name busy base /bin/sh >/dev/null
$M --root $R exec busy /bin/bash -c 'i=0; while [ $i -lt 10000 ]; do : > /tmp/f$i; i=$((i+1)); done'
tmux -L $S new-session -d -s ui -x 120 -y 40 "$M --root $R ui"
waitfor "● busy running"
P=$(tmux -L $S list-panes -t ui -F '#{pane_pid}')
[ "$(cat /proc/$P/comm)" = minidocker ] || P=$(pgrep -P "$P" -x minidocker)
tmux -L $S send-keys -t ui 2 Enter
waitfor "merged"
sleep 2
echo "TUI pid $P idle: $(grep -E 'VmHWM|VmRSS' /proc/$P/status | tr -s '\t ' ' ' | tr '\n' ' ')"
python3 - "$M" "$R" "$P" "$N" <<'PY'
import os,subprocess,sys,time,re,threading
M,R,P,N=sys.argv[1],sys.argv[2],int(sys.argv[3]),int(sys.argv[4])
cap=["tmux","-L",os.environ["S"],"capture-pane","-p","-t","ui"]
hz=os.sysconf("SC_CLK_TCK")
def cpu():  # utime+stime of the TUI, in seconds (proc(5))
    f=open(f"/proc/{P}/stat").read().rsplit(")",1)[1].split()
    return (int(f[11])+int(f[12]))/hz
def rss(): return " ".join(l.split(":")[0]+" "+l.split()[1]+" kB" for l in open(f"/proc/{P}/status") if l.startswith(("VmHWM","VmRSS")))
# The load, paced by bash's clock with builtins only (a fork costs ~25 ms
# in the container): each file made is appended to another and removed 300
# files later (one rm per round), ~1,000 changes a second while /tmp keeps
# ~10,000 entries; it prints how many changes it made.
T=20
load=f'''coproc TICK {{ exec sleep 1000; }}  # a pipe nobody writes to: read -t is a sleep without a fork
start=${{EPOCHREALTIME/./}}; end=$((start + {T}000000)); k=0; n=0
while :; do
  now=${{EPOCHREALTIME/./}}; [ $now -ge $end ] && break
  due=$(( (now-start)/1000 )); rmlist=""
  while [ $n -lt $due ]; do
    echo new > /tmp/n$k; echo more >> /tmp/f$(( (k*7) % 10000 )); n=$((n+2))
    if [ $k -ge 300 ]; then rmlist="$rmlist /tmp/n$((k-300))"; n=$((n+1)); fi
    k=$((k+1))
  done
  [ -n "$rmlist" ] && rm -f $rmlist
  read -t 0.05 -u ${{TICK[0]}} || true
done; kill $TICK_PID; echo $n'''
# TUIFIG_PERF=FILE records where the TUI spends its CPU meanwhile (perf record)
perf=os.environ.get("TUIFIG_PERF")
if perf: pp=subprocess.Popen(["perf","record","-q","-F","499","-g","-p",str(P),"-o",perf,"--","sleep",str(T)],stdout=subprocess.DEVNULL)
t0=time.time(); c0=cpu(); time.sleep(5)
print(f"TUI CPU idle, the layer view open: {(cpu()-c0)/(time.time()-t0)*100:.1f}% of a core")
t0=time.time(); c0=cpu()
lp=subprocess.Popen([M,"--root",R,"exec","busy","/bin/bash","-c",load],stdout=subprocess.PIPE,text=True)
# markers at the top of both trees (/aq sorts before /bin), one every 0.7 s
script=f'i=100; while [ $i -lt {100+N} ]; do t=$(date +%s%N); echo $t > /aq$i; echo "aq$i $t"; sleep 0.4; rm /aq$i; sleep 0.3; i=$((i+1)); done'
mp=subprocess.Popen([M,"--root",R,"exec","busy","sh","-c",script],stdout=subprocess.PIPE,text=True)
created={}
def rd():
    for l in mp.stdout:
        n,t=l.split(); created[n]=int(t)
threading.Thread(target=rd,daemon=True).start()
seen={}; pat=re.compile(r"\baq(\d{3})\b")
while lp.poll() is None:
    out=subprocess.run(cap,capture_output=True,text=True).stdout
    t=time.time_ns()
    for m in pat.finditer(out): seen.setdefault("aq"+m.group(1),t)
    time.sleep(0.02)
c1=cpu(); t1=time.time()
n=int(lp.stdout.read().strip() or 0)
mp.kill(); mp.wait()
if perf: pp.wait()
# a marker made in the last second may not have had its chance
created={k:v for k,v in created.items() if v < (t1-1)*1e9}
lat=sorted((seen[k]-created[k])/1e6 for k in created if k in seen)
def pct(q): return lat[min(len(lat)-1,int(round(q*(len(lat)-1))))] if lat else float("nan")
print(f"load: {n} changes in {t1-t0:.1f} s = {n/(t1-t0):.0f}/s")
print(f"TUI CPU: {(c1-c0)/(t1-t0)*100:.1f}% of a core")
print(f"marker latency under load: samples {len(lat)} (missed {len(created)-len(lat)})  p50 {pct(.5):.0f} ms  p95 {pct(.95):.0f} ms  max {lat[-1] if lat else 0:.0f} ms")
print("TUI memory after:", rss())
PY
tmux -L $S send-keys -t ui q
sleep 0.5
tmux -L $S kill-server 2>/dev/null || true
$M --root $R rm -f busy >/dev/null
fi
grep -c " $R" /proc/mounts || true
