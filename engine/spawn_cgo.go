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

__attribute__((constructor)) static void minidocker_early_init(void) {
	const char *role = getenv("_MINIDOCKER_ROLE");
	if (role == NULL || strcmp(role, "monitor") != 0)
		return;
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
	const char *dirs = getenv("_MINIDOCKER_EARLY_CGROUPS");
	if (dirs != NULL && *dirs != 0 && strlen(dirs) < sizeof early_dirs && pipe2(jp, O_CLOEXEC) == 0)
		strcpy(early_dirs, dirs);
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
		if (jp[1] >= 0) {
			int err = early_join_self(early_dirs, monitor);
			unsigned char rc = err > 255 ? 255 : err;
			while (write(jp[1], &rc, 1) < 0 && errno == EINTR)
				;
		}
		if (dup2(sp[1], 3) < 0 || dup2(ep[1], 4) < 0)
			_exit(125);
		char *argv[] = {"minidocker-init", NULL};
		char *envp[] = {"_MINIDOCKER_ROLE=init", "GOMAXPROCS=1", "GOGC=off", trace_env, NULL};
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
