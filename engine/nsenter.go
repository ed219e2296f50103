//go:build cgo

package engine

// The exec helper must enter the container's mount namespace, and setns(2)
// refuses CLONE_NEWNS to a process with more than one thread: the Go
// runtime has started several before main runs, and re-executing with a
// locked thread does not help. So, as runc's nsexec does, a C constructor
// does it before the runtime starts: when _MINIDOCKER_NSENTER=PID,FD is
// set it waits for a byte on FD (the starter has put it in the container's
// cgroup by then), opens every namespace of PID, joins them, and forks,
// because joining a PID namespace only applies to children. The child goes
// on into Go (execMain) inside the container; the parent forwards signals
// and exits with the child's status. With a third field, PID,FD,1, the
// container was not entered by pivot_root (Spec.Root): joining its mount
// namespace leaves a process at the namespace's root, which is then the
// host's (chroot) or the mount moved over it (no-pivot), so the helper
// also takes the container's root as its own, the init's, opened before.

/*
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t nsenter_child;

static void nsenter_forward(int sig) {
	if (nsenter_child > 0)
		kill(nsenter_child, sig);
}

static void nsenter_fail(const char *what, const char *arg) {
	fprintf(stderr, "minidocker exec: %s %s: %s\n", what, arg, strerror(errno));
	_exit(125);
}

__attribute__((constructor)) static void minidocker_nsenter(void) {
	const char *env = getenv("_MINIDOCKER_NSENTER");
	if (env == NULL)
		return;
	int pid = 0, syncfd = -1, chrooted = 0;
	int fields = sscanf(env, "%d,%d,%d", &pid, &syncfd, &chrooted);
	if (fields < 2 || pid <= 0)
		nsenter_fail("parse", env);
	char c;
	if (read(syncfd, &c, 1) != 1)
		nsenter_fail("wait for the cgroup", "");
	close(syncfd);

	// Open every namespace first: once in the new mount namespace,
	// /proc is the container's and PID means another process.
	static const char *names[] = {"ipc", "uts", "net", "pid", "mnt"};
	static const int types[] = {CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWNS};
	int fds[5];
	char path[64];
	for (int i = 0; i < 5; i++) {
		snprintf(path, sizeof path, "/proc/%d/ns/%s", pid, names[i]);
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			nsenter_fail("open", path);
	}
	int rootfd = -1;
	if (chrooted) {
		snprintf(path, sizeof path, "/proc/%d/root", pid);
		rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0)
			nsenter_fail("open", path);
	}
	for (int i = 0; i < 5; i++) {
		if (setns(fds[i], types[i]) < 0)
			nsenter_fail("setns", names[i]);
		close(fds[i]);
	}
	// Only now: setns(2) of a mount namespace resets the root and the
	// working directory to the namespace's root.
	if (rootfd >= 0) {
		if (fchdir(rootfd) < 0 || chroot(".") < 0)
			nsenter_fail("chroot", path);
		close(rootfd);
	}

	nsenter_child = fork();
	if (nsenter_child < 0)
		nsenter_fail("fork", "");
	if (nsenter_child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		return;
	}
	// The parent keeps no end of the child's pipes, so that their readers
	// see EOF when the child's execve closes them.
	for (int fd = 3; fd < 16; fd++)
		close(fd);
	// The child shares our process group, so a terminal's ^C and ^\
	// reach it directly; the rest is forwarded.
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	int sigs[] = {SIGTERM, SIGHUP, SIGUSR1, SIGUSR2};
	for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		signal(sigs[i], nsenter_forward);
	int status;
	while (waitpid(nsenter_child, &status, 0) < 0) {
		if (errno != EINTR)
			nsenter_fail("wait", "");
	}
	if (WIFSIGNALED(status))
		_exit(128 + WTERMSIG(status));
	_exit(WEXITSTATUS(status));
}
*/
import "C"

// nsenterAvailable says the exec helper can be built into this binary.
const nsenterAvailable = true
