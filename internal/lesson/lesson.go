// Package lesson is the model of the guided lessons of `minidocker learn`:
// lesson files (Markdown with fenced blocks, parse.go reads them), their
// steps, and the checks that say whether a step is done, evaluated against
// what the kernel did to a container's upper directory, its lower layers,
// its merged view, its volumes and the layer a commit would make
// (eval.go). It knows nothing of the terminal UI, which shows a lesson and
// evaluates its checks on each change it sees, nor of the engine, which
// the application layer asks for the directories of an Env.
//
// A lesson file looks like this (the format is line-oriented: a heading,
// text, fenced blocks; every error names the file and the line):
//
//	# Whiteout on delete
//
//	Text shown before the first step.
//
//	```lesson
//	image: learn
//	volume: learn-data:/data
//	containers: 3
//	hint-after: 60s
//	hostname: lab
//	root: pivot_root
//	```
//
//	## Delete a file of the image
//
//	What to do, in a sentence or two.
//
//	```check
//	upper whiteout /app/cache/a.tmp
//	merged missing /app/cache/a.tmp
//	not upper exists /app/cache/b.tmp
//	```
//
//	```hint 30s
//	Shown when the step is not done after 30 seconds.
//	```
//
//	```solution
//	rm /app/cache/a.tmp
//	```
//
//	```wrong
//	rm /app/cache/b.tmp
//	```
//
// The lesson block's root says how the container enters its root file
// system: pivot_root (the default), no-pivot (runc's --no-pivot: MS_MOVE
// and chroot(2)) or chroot (chroot(2) alone, a jail ".." leaves); hostname
// names the container's host. A step runs on a container made otherwise
// with a container block after its heading, which holds root: as the
// lesson block does:
//
//	```container
//	root: chroot
//	```
//
// The lesson makes the container again when a step needs another than the
// one there is (the step's text should say so), and the panel names the
// way in when it is not pivot_root.
//
// A step's text and hint may name {{host-pid}}: the lesson view shows
// there the PID the host knows the container's first process (its PID 1)
// by, and "?" while there is no container.
//
// The solution and wrong blocks are commands for the shell: the first
// makes the step's checks pass, the second must leave at least one of
// them failing. The tests type both into a real container; a solution
// line "@reset" stands for the key that makes the container again, a line
// "@keys KEY…" for keys pressed in the UI (tmux's names: Tab, C-g, <).
//
// "containers: N" starts N-1 more containers of the image beside the
// student's (learn-NAME-2 …), made again and removed with it, so that the
// disk meter has N containers sharing the image's layers.
//
// A check is [not] WHERE WHAT [PATH] [ARGS]; a word in double quotes may
// hold spaces. WHERE is upper (the container's upper directory as the
// kernel keeps it), lower (the image's layers merged), merged (what the
// container sees, volumes included), volume (the host directory of the
// volume holding PATH), commit (the layer a commit would write),
// container, meter (the disk meter of the image's containers) or view
// (the layer view on screen). WHAT is one of
//
//	exists, missing, file, dir PATH          in upper, lower, merged, volume
//	symlink PATH [TARGET]
//	contains PATH TEXT                       a regular file holding TEXT
//	line PATH TEXT                           a regular file with a line that is TEXT, whole
//	                                         (contains finds 1 in 12; line does not)
//	mode PATH OCTAL, size PATH BYTES, nlink PATH COUNT
//	same-inode PATH OTHER                    two names of one file
//	entries PATH [NAME…]                     a directory holding exactly these
//	whiteout, opaque, redirect PATH          upper only: the kernel's marks
//	copied-up PATH                           upper holds it and the lower layers show it
//	new PATH                                 upper holds it and they show nothing
//	same-as-lower PATH                       upper's file has the lower one's bytes
//	entry TAR-NAME [KIND]                    commit: app/.wh.x whiteout, app/d/.wh..wh..opq opaque
//	wasted PATH                              commit: a lower layer keeps PATH's bytes, hidden
//	reset                                    container: made again since the step began
//	containers COUNT                         meter: the image has COUNT containers
//	saved-at-least PERCENT                   meter: sharing saves at least PERCENT of N copies
//	upper-at-least SIZE, upper-at-most SIZE  meter: this container's upper directory
//	others-at-most SIZE                      meter: the other containers' upper directories
//	layer N|all                              view: the lower layer shown alone (0 the bottom)
//	pane lower|upper|merged                  view: the pane with the cursor
//	selected PATH                            view: the path under the cursor
//	marker KIND                              view: its marker (whiteout, opaque, added…)
//
// A SIZE is a number of bytes or one with a unit (64KB, 20MB). The meter
// checks read the meter the lesson view draws (Env.Meter); wasted is what
// `minidocker analyze` says of the container (overlay's Efficiency); the
// view checks read what the UI shows (Env.View).
//
//	process NAME                             container: a live process of its PID namespace
//	                                         has the command name NAME (/proc/N/comm)
//
// Paths are taken as the place holds them: upper and lower never follow
// a symbolic link; merged and volume resolve one as the container would.
package lesson

import (
	"time"
)

// DefaultHintAfter is how long a step waits before showing its hint when
// neither the step nor the lesson says.
const DefaultHintAfter = 60 * time.Second

// Lesson is one lesson file.
type Lesson struct {
	// Name is the file's name without its order prefix and extension:
	// "03-whiteout.md" is "whiteout". `minidocker learn NAME` opens it.
	Name string
	// File is the file's path in the lesson set, for messages.
	File  string
	Title string
	// Intro is the text before the first step.
	Intro string
	// Image is the image the lesson's container runs. When the set holds
	// IMAGE.Dockerfile, Dockerfile is its text: the image is built from it
	// (with the build cache) before the lesson starts.
	Image      string
	Dockerfile string
	// Volumes are the container's volumes, as docker's -v gives them.
	Volumes []string
	// Containers is how many containers of the image the lesson runs,
	// the student's included: 1 unless the lesson says.
	Containers int
	// Hostname is the container's host name; "" leaves it to the engine.
	Hostname string
	// Root is how the container enters its root (one of Roots), for the
	// steps that do not say.
	Root  string
	Steps []Step
}

// Step is one thing to do and the checks that say it is done.
type Step struct {
	Title string
	// Text is the instruction, as written (Markdown).
	Text   string
	Checks []Check
	// Hint is shown once the step has gone HintAfter without being done.
	Hint      string
	HintAfter time.Duration
	// Solution are commands that make the checks pass; Wrong are commands
	// that leave at least one failing. Both are for the tests (and the
	// solution for a teacher who asks).
	Solution, Wrong []string
	// Line is the line of the step's heading.
	Line int
	// Root is how the step's container enters its root: the lesson's,
	// or what the step's container block says.
	Root string
}

// Where is what a check looks at.
type Where uint8

// The places a check looks at.
const (
	// Upper is the container's upper directory, as the kernel keeps it:
	// whiteouts are character devices 0:0, opaque directories carry
	// trusted.overlay.opaque=y.
	Upper Where = iota
	// Lower is the image's layers merged, read-only.
	Lower
	// Merged is what the container sees at its root, volumes included.
	Merged
	// Volume is the host directory of the volume mounted at the path.
	Volume
	// Commit is the layer a commit of the container would write, as
	// `minidocker commit --dry-run` lists it.
	Commit
	// Container is the container itself (was it made again).
	Container
	// Meter is the disk meter of the image's containers (Env.Meter).
	Meter
	// View is the layer view on screen (Env.View).
	View
)

var whereNames = [...]string{"upper", "lower", "merged", "volume", "commit", "container", "meter", "view"}

// String returns the place's name as lesson files write it.
func (w Where) String() string {
	if int(w) < len(whereNames) {
		return whereNames[w]
	}
	return "unknown"
}

// Check is one line of a check block: [not] WHERE WHAT [PATH] [ARGS…].
type Check struct {
	Not   bool
	Where Where
	What  string
	// Path is the in-container path ("/"-rooted, clean); for a commit
	// entry, the entry's name in the layer tar.
	Path string
	Args []string
	Line int
}
