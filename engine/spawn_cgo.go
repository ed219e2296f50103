//go:build cgo

package engine

// A monitor's init is started by a C constructor, before the Go runtime of
// the monitor starts: the clone into new namespaces and the init's own
// start-up then overlap with the monitor's, which takes a few
// milliseconds, instead of following it. When the monitor is given
// _MINIDOCKER_EARLY_CGROUPS (the v1 hierarchies' minidocker directories,
// colon-separated), the init, still single-threaded between clone and
// execve, makes the early cgroup pending-<monitor pid> in each and moves
// itself into it (see early.go). It reports on a pipe: a zero byte for
// done, else the errno.
//
// Why the init moves itself, and through "tasks": on cgroup v1, writing a
// pid to cgroup.procs takes cgroup_threadgroup_rwsem for writing, which
// waits for an RCU grace period (7-13 ms measured here, the longest step of
// a start). Writing "0" to "tasks" moves only the calling thread, which
// needs no stable thread group and skips that lock (the kernel's
// cgroup_procs_write_start); for a process of one thread that is the whole
// process, and every thread the Go runtime starts after execve is born in
// the cgroup. Measured here: 0.2-0.3 ms for the four hierarchies.
//
// The init gets what spawnInit gives it: fd 3 a socket to the monitor
// (configFd), fd 4 a pipe for its start error (errorFd), stdio inherited
// (the monitor's /dev/null), and an environment of its own.

/*
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int early_pid = -1, early_conn = -1, early_err = -1, early_join = -1;
static int early_errno;
static char early_dirs[4096];

static int write_all(const char *path, const char *s) {
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	int rc = write(fd, s, strlen(s)) < 0 ? errno : 0;
	close(fd);
	return rc;
}

// early_join_self makes pending-<monitor> under each directory of dirs
// (colon-separated, changed in place) and moves the calling thread into
// it; it returns 0 or an errno. Only for a process of one thread.
static int early_join_self(char *dirs, int monitor) {
	char path[4200];
	for (char *dir = dirs, *next; dir && *dir; dir = next) {
		next = strchr(dir, ':');
		if (next)
			*next++ = 0;
		snprintf(path, sizeof path, "%s/pending-%d", dir, monitor);
		int err = 0;
		// A parent removed by a concurrent teardown is made again.
		for (int try = 0; try < 5; try++) {
			if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
				err = errno;
				break;
			}
			err = mkdir(path, 0755) < 0 ? errno : 0;
			if (err != ENOENT)
				break;
		}
		if (err == 0) {
			snprintf(path + strlen(path), sizeof path - strlen(path), "/tasks");
			err = write_all(path, "0");
		}
		if (err)
			return err;
	}
	return 0;
}

// spawn_init clones the init into new namespaces. Its early cgroup
// directories come from dirs, or, when dirs_fd is not -1, as one line read
// from that fd first (a preforked monitor's, see below); EOF there means
// there is no container after all, and the init exits.
static void spawn_init(const char *dirs, int dirs_fd) {
	int sp[2], ep[2], jp[2] = {-1, -1};
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		early_errno = errno;
		return;
	}
	if (pipe2(ep, O_CLOEXEC) < 0) {
		early_errno = errno;
		close(sp[0]);
		close(sp[1]);
		return;
	}
	if (dirs_fd >= 0 || (dirs != NULL && *dirs != 0 && strlen(dirs) < sizeof early_dirs)) {
		if (pipe2(jp, O_CLOEXEC) < 0)
			jp[0] = jp[1] = -1;
		else if (dirs_fd < 0)
			strcpy(early_dirs, dirs);
	}
	int monitor = getpid();
	// MINIDOCKER_TRACE goes on to the init (see trace.go).
	static char trace[4200];
	const char *tp = getenv("MINIDOCKER_TRACE");
	if (tp != NULL && strlen(tp) < sizeof trace - 20)
		snprintf(trace, sizeof trace, "MINIDOCKER_TRACE=%s", tp);
	char *trace_env = tp != NULL && trace[0] ? trace : NULL;
	// clone(2) without CLONE_VM is a fork into new namespaces; the
	// child joins its cgroups, rearranges its fds and executes.
	long pid = syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | SIGCHLD,
			   NULL, NULL, NULL, NULL);
	if (pid < 0) {
		early_errno = errno;
		close(sp[0]);
		close(sp[1]);
		close(ep[0]);
		close(ep[1]);
		if (jp[0] >= 0) {
			close(jp[0]);
			close(jp[1]);
		}
		return;
	}
	if (pid == 0) {
		if (dirs_fd >= 0) {
			size_t n = 0;
			for (;;) {
				ssize_t r = read(dirs_fd, early_dirs + n, 1);
				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0)
					_exit(0);
				if (early_dirs[n] == '\n' || n == sizeof early_dirs - 2)
					break;
				n++;
			}
			early_dirs[n] = 0;
		}
		if (jp[1] >= 0 && early_dirs[0] != 0) {
			int err = early_join_self(early_dirs, monitor);
			unsigned char rc = err > 255 ? 255 : err;
			while (write(jp[1], &rc, 1) < 0 && errno == EINTR)
				;
		}
		// fds 3 and 4 are the init's; nothing else of the monitor's
		// goes on into it.
		if (dup2(sp[1], 3) < 0 || dup2(ep[1], 4) < 0)
			_exit(125);
		if (syscall(SYS_close_range, 5, ~0U, 0) < 0)
			for (int fd = 5; fd < 1024; fd++)
				close(fd);
		char *argv[] = {"minidocker-init", NULL};
		char *envp[] = {"_MINIDOCKER_ROLE=init", "GOMAXPROCS=2", "GOGC=off", trace_env, NULL};
		execve("/proc/self/exe", argv, envp);
		_exit(125);
	}
	close(sp[1]);
	close(ep[1]);
	early_pid = pid;
	early_conn = sp[0];
	early_err = ep[0];
	if (jp[0] >= 0) {
		close(jp[1]);
		early_join = jp[0];
	}
}

__attribute__((constructor)) static void minidocker_early_init(void) {
	const char *role = getenv("_MINIDOCKER_ROLE");
	if (role == NULL || strcmp(role, "monitor") != 0)
		return;
	spawn_init(getenv("_MINIDOCKER_EARLY_CGROUPS"), -1);
}

// A preforked monitor: "minidocker [--root DIR] [container] run ..." run as
// root forks its monitor here, before its own Go runtime starts, and the
// monitor clones its init at once, so that the three start-ups overlap
// instead of following one another (see prefork.go). The monitor is a
// fork, not a new program: it goes on into the Go runtime as a monitor,
// with /dev/null for stdio, a session of its own and the fds of
// monitor.go (3 sync, 4 control, 5 client); its init waits on fd 6 for
// the early cgroup directories, which the CLI writes once it has opened
// the engine. The CLI keeps the other ends.
static int prefork_role;
static int prefork_pid = -1, prefork_sync = -1, prefork_ctl = -1, prefork_client = -1, prefork_dirs = -1;

// looks_like_run reports whether argv is a run: the global --root flag,
// then "run" or "container run". Anything else is left to cobra alone.
static int looks_like_run(int argc, char **argv) {
	int i = 1;
	while (i < argc) {
		if (strcmp(argv[i], "--root") == 0 && i + 1 < argc) {
			i += 2;
			continue;
		}
		if (strncmp(argv[i], "--root=", 7) == 0) {
			i++;
			continue;
		}
		break;
	}
	if (i < argc && strcmp(argv[i], "container") == 0)
		i++;
	return i < argc && strcmp(argv[i], "run") == 0;
}

// retitle makes ps show the monitor as what it is, not as the CLI's
// command line: it writes over the argv strings in place.
static void retitle(int argc, char **argv, const char *title) {
	if (argc < 1)
		return;
	char *end = argv[argc - 1] + strlen(argv[argc - 1]);
	size_t n = end - argv[0];
	memset(argv[0], 0, n);
	strncpy(argv[0], title, n);
}

__attribute__((constructor)) static void minidocker_prefork(int argc, char **argv, char **envp) {
	(void)envp;
	if (getenv("_MINIDOCKER_ROLE") != NULL || getenv("_MINIDOCKER_NSENTER") != NULL || geteuid() != 0 ||
	    !looks_like_run(argc, argv))
		return;
	// sync: the monitor writes; ctl: the CLI writes; cl: the client
	// socket pair; dirs: the CLI writes the early cgroup directories.
	int fds[8], ok = pipe2(fds, O_CLOEXEC) == 0;
	ok = ok && pipe2(fds + 2, O_CLOEXEC) == 0;
	ok = ok && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds + 4) == 0;
	ok = ok && pipe2(fds + 6, O_CLOEXEC) == 0;
	if (!ok)
		return; // a few fds lost; the CLI starts its monitor itself
	// Above 9, so that the child's dup2 onto 3 to 6 clobbers none of them.
	for (int i = 0; i < 8; i++) {
		int hi = fcntl(fds[i], F_DUPFD_CLOEXEC, 10);
		close(fds[i]);
		fds[i] = hi;
	}
	pid_t pid = fork();
	if (pid < 0) {
		for (int i = 0; i < 8; i++)
			close(fds[i]);
		return;
	}
	if (pid == 0) {
		setsid(); // as NewMonitor's: no terminal's hangup, no process group's signals
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
		    dup2(fds[1], 3) < 0 || dup2(fds[2], 4) < 0 || dup2(fds[5], 5) < 0 || dup2(fds[6], 6) < 0)
			_exit(125);
		if (syscall(SYS_close_range, 7, ~0U, 0) < 0)
			for (int fd = 7; fd < 1024; fd++)
				close(fd);
		prefork_role = 1;
		retitle(argc, argv, "minidocker-monitor");
		spawn_init(NULL, 6);
		close(6);
		return;
	}
	close(fds[1]);
	close(fds[2]);
	close(fds[5]);
	close(fds[6]);
	prefork_pid = pid;
	prefork_sync = fds[0];
	prefork_ctl = fds[3];
	prefork_client = fds[4];
	prefork_dirs = fds[7];
}

static int md_prefork_role(void) { return prefork_role; }
// md_prefork_take hands the CLI its ends of a preforked monitor, once.
static int md_prefork_take(int *sync, int *ctl, int *client, int *dirs) {
	int pid = prefork_pid;
	*sync = prefork_sync, *ctl = prefork_ctl, *client = prefork_client, *dirs = prefork_dirs;
	prefork_pid = -1;
	return pid;
}

static int md_early_pid(void) { return early_pid; }
static int md_early_conn(void) { return early_conn; }
static int md_early_err(void) { return early_err; }
static int md_early_join(void) { return early_join; }
static int md_early_errno(void) { return early_errno; }
*/
import "C"

import (
	"fmt"
	"os"
	"syscall"
)

// WithCgo reports whether this build has cgo, which exec and the early
// start of a run need.
const WithCgo = true

// earlyEnv carries the early cgroups' parent directories to a monitor.
const earlyEnv = "_MINIDOCKER_EARLY_CGROUPS"

// adoptInit returns the init the constructor started, with the file its
// cgroup join reports on (nil when it made none); ok is false when it
// started none, so that the caller starts one itself.
func adoptInit() (p *initProc, join *os.File, err error, ok bool) {
	pid := int(C.md_early_pid())
	if pid <= 0 {
		if e := C.md_early_errno(); e != 0 {
			return nil, nil, fmt.Errorf("start init: clone: %w", syscall.Errno(e)), true
		}
		return nil, nil, nil, false
	}
	p = &initProc{pid: pid,
		conn: os.NewFile(uintptr(C.md_early_conn()), "init-config"),
		errR: os.NewFile(uintptr(C.md_early_err()), "init-errors")}
	if fd := int(C.md_early_join()); fd >= 0 {
		join = os.NewFile(uintptr(fd), "early-cgroup")
	}
	return p, join, nil, true
}

// preforked reports whether this process is a monitor forked by the CLI's
// constructor (see minidocker_prefork).
func preforked() bool { return C.md_prefork_role() == 1 }

// takePrefork returns the CLI's ends of the monitor its constructor forked,
// once; pid is 0 when there is none.
func takePrefork() (pid int, sync, ctl, client, dirs *os.File) {
	var s, c, cl, d C.int
	p := int(C.md_prefork_take(&s, &c, &cl, &d))
	if p <= 0 {
		return 0, nil, nil, nil, nil
	}
	return p, os.NewFile(uintptr(s), "monitor-sync"), os.NewFile(uintptr(c), "monitor-control"),
		os.NewFile(uintptr(cl), "attach"), os.NewFile(uintptr(d), "early-cgroups")
}
