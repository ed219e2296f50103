//go:build cgo

package engine

// A monitor's init is started by a C constructor, before the Go runtime of
// the monitor starts: the clone into new namespaces and the init's own
// start-up then overlap with the monitor's, which takes a few
// milliseconds, instead of following it. When the monitor is given
// _MINIDOCKER_EARLY_CGROUPS (the v1 hierarchies' minidocker directories,
// colon-separated), a thread of the constructor also makes the early
// cgroup pending-<monitor pid> in each and moves the init into it (see
// early.go), so that the grace period the move waits for starts as soon
// as possible. The thread blocks every signal, never calls Go, and
// reports on a pipe: a zero byte for done, else the errno.
//
// The init gets what spawnInit gives it: fd 3 a socket to the monitor
// (configFd), fd 4 a pipe for its start error (errorFd), stdio inherited
// (the monitor's /dev/null), and an environment of its own.

/*
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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
static int early_join_w = -1;

static int write_all(const char *path, const char *s) {
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	int rc = write(fd, s, strlen(s)) < 0 ? errno : 0;
	close(fd);
	return rc;
}

// early_join_thread makes pending-<monitor pid> under each directory and
// writes the init's pid to its cgroup.procs.
static void *early_join_thread(void *arg) {
	(void)arg;
	char path[4200], pid[16], me[16];
	snprintf(pid, sizeof pid, "%d", early_pid);
	snprintf(me, sizeof me, "%d", (int)getpid());
	unsigned char rc = 0;
	for (char *dir = early_dirs, *next; dir && *dir && rc == 0; dir = next) {
		next = strchr(dir, ':');
		if (next)
			*next++ = 0;
		snprintf(path, sizeof path, "%s/pending-%s", dir, me);
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
			snprintf(path + strlen(path), sizeof path - strlen(path), "/cgroup.procs");
			err = write_all(path, pid);
		}
		rc = err ? (err > 255 ? 255 : err) : 0;
	}
	while (write(early_join_w, &rc, 1) < 0 && errno == EINTR)
		;
	close(early_join_w);
	return NULL;
}

__attribute__((constructor)) static void minidocker_early_init(void) {
	const char *role = getenv("_MINIDOCKER_ROLE");
	if (role == NULL || strcmp(role, "monitor") != 0)
		return;
	int sp[2], ep[2];
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
	// clone(2) without CLONE_VM is a fork into new namespaces; the
	// child only rearranges its fds and executes.
	long pid = syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | SIGCHLD,
			   NULL, NULL, NULL, NULL);
	if (pid < 0) {
		early_errno = errno;
		close(sp[0]);
		close(sp[1]);
		close(ep[0]);
		close(ep[1]);
		return;
	}
	if (pid == 0) {
		if (dup2(sp[1], 3) < 0 || dup2(ep[1], 4) < 0)
			_exit(125);
		char *argv[] = {"minidocker-init", NULL};
		char *envp[] = {"_MINIDOCKER_ROLE=init", "GOMAXPROCS=1", "GOGC=off", NULL};
		execve("/proc/self/exe", argv, envp);
		_exit(125);
	}
	close(sp[1]);
	close(ep[1]);
	early_pid = pid;
	early_conn = sp[0];
	early_err = ep[0];

	const char *dirs = getenv("_MINIDOCKER_EARLY_CGROUPS");
	if (dirs == NULL || *dirs == 0 || strlen(dirs) >= sizeof early_dirs)
		return;
	strcpy(early_dirs, dirs);
	int jp[2];
	if (pipe2(jp, O_CLOEXEC) < 0)
		return;
	early_join_w = jp[1];
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, early_join_thread, NULL) == 0) {
		early_join = jp[0];
	} else {
		close(jp[0]);
		close(jp[1]);
	}
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
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
