/*
 * cmocka: the jail (sandbox/). The seccomp filter for real, in forked
 * children: a forbidden call kills the process with SIGSYS, an allowed one
 * works. jail_check's refusals, jail_close_fds, the crash pipe, the alive
 * pipe and the parent-death signal, without root. As root: a VMM-like child
 * enters the whole jail and is inspected from outside (/proc/PID).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/vfio.h>

#include "sandbox/jail.h"

#define TEST_UID	"4242"

/* ---- children ---- */

/*
 * Run @fn in a forked child (no core dumps); its wait status, or -1. No
 * cmocka asserts in here or in anything a child runs: a failed one would
 * longjmp into cmocka's copy in the child, which would run the rest.
 */
static int run_child(int (*fn)(void *), void *arg)
{
	struct rlimit none = { 0, 0 };
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		setrlimit(RLIMIT_CORE, &none);
		_exit(fn(arg));	/* never back into cmocka, never atexit (LSan would clone) */
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid ? status : -1;
}

static int in_child(int (*fn)(void *), void *arg)
{
	int status = run_child(fn, arg);

	assert_int_not_equal(status, -1);
	return status;
}

static void assert_sigsys(int status)
{
	if (!WIFSIGNALED(status))
		fail_msg("expected death by SIGSYS, got exit status %d", WEXITSTATUS(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void assert_exit(int status, int code)
{
	if (WIFSIGNALED(status))
		fail_msg("expected exit %d, got signal %d (%s)", code, WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	assert_int_equal(WEXITSTATUS(status), code);
}

/* ---- the filter: forbidden calls ---- */

#define NOT_LOADED 100	/* the child's exit when the filter did not load */
#define SURVIVED 0	/* ... when the forbidden call returned */

static int dev_null = -1;

static void call_openat(void) { syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY); }
static void call_open(void) { syscall(SYS_open, "/dev/null", O_RDONLY); }
static void call_socket(void) { syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0); }
static void call_ptrace(void) { syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0); }
static void call_fork(void) { syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0); }
static void call_kill_parent(void) { kill(getppid(), 0); }
static void call_tgkill_parent(void) { syscall(SYS_tgkill, getppid(), getppid(), 0); }
static void call_unshare(void) { syscall(SYS_unshare, 0); }
static void call_setresuid(void) { syscall(SYS_setresuid, -1, -1, -1); }
static void call_pipe(void) { int p[2]; syscall(SYS_pipe2, p, 0); }
/* Arguments that would fail harmlessly, were the call let through. */
static void call_mount(void) { syscall(SYS_mount, "none", "/nonexistent-sluice", "tmpfs", 0, NULL); }
static void call_chroot(void) { syscall(SYS_chroot, "/nonexistent-sluice"); }
static void call_bpf(void) { syscall(SYS_bpf, -1, NULL, 0); }
static void call_io_uring(void) { syscall(SYS_io_uring_setup, 0, NULL); }
static void call_userfaultfd(void) { syscall(SYS_userfaultfd, -1); }
static void call_getuid(void) { syscall(SYS_getuid); }
static void call_prctl_dumpable(void) { prctl(PR_SET_DUMPABLE, 1, 0, 0, 0); }
static void call_ioctl_create_vm(void) { ioctl(dev_null, KVM_CREATE_VM, 0); }

static void call_execve(void)
{
	static char arg0[] = "true";
	char *const argv[] = { arg0, NULL };

	syscall(SYS_execve, "/bin/true", argv, NULL);
}

static void call_mmap_exec(void)
{
	syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void call_mprotect_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED)
		mprotect(p, 4096, PROT_READ | PROT_EXEC);
}

/* A thread with a namespace flag; without CLONE_SIGHAND the kernel would say EINVAL, never run it. */
static void call_clone_thread_newnet(void)
{
	syscall(SYS_clone, CLONE_THREAD | CLONE_NEWNET, 0, 0, 0, 0);
}

static int forbidden_child(void *arg)
{
	void (*call)(void) = (void (*)(void))arg;

	if (jail_seccomp_apply())
		return NOT_LOADED;
	call();
	return SURVIVED;
}

static void forbidden(void (*call)(void), const char *what)
{
	int status = in_child(forbidden_child, (void *)call);

	if (WIFEXITED(status))
		fail_msg("%s: the child %s", what,
			 WEXITSTATUS(status) == NOT_LOADED ? "could not load the filter" : "survived");
	assert_sigsys(status);
}

static void forbidden_calls_kill(void **state)
{
	static const struct { void (*call)(void); const char *what; } calls[] = {
		{ call_openat, "openat" }, { call_open, "open" }, { call_execve, "execve" },
		{ call_socket, "socket" }, { call_ptrace, "ptrace" }, { call_fork, "clone (a process)" },
		{ call_clone_thread_newnet, "clone (thread + CLONE_NEWNET)" },
		{ call_mmap_exec, "mmap PROT_EXEC" }, { call_mprotect_exec, "mprotect PROT_EXEC" },
		{ call_ioctl_create_vm, "ioctl KVM_CREATE_VM" }, { call_kill_parent, "kill" },
		{ call_tgkill_parent, "tgkill to another process" }, { call_unshare, "unshare" },
		{ call_setresuid, "setresuid" }, { call_pipe, "pipe2" }, { call_mount, "mount" },
		{ call_chroot, "chroot" }, { call_bpf, "bpf" }, { call_io_uring, "io_uring_setup" },
		{ call_userfaultfd, "userfaultfd" }, { call_getuid, "getuid (nothing at run time asks)" },
		{ call_prctl_dumpable, "prctl other than PR_SET_NAME" },
	};
	unsigned i;

	(void)state;
	dev_null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(dev_null >= 0);
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		forbidden(calls[i].call, calls[i].what);
	close(dev_null);
}

/* ---- the filter: TSYNC, a thread that existed before the load is covered ---- */

static void *late_opener(void *arg)
{
	int *go = arg;
	char c;

	if (read(go[0], &c, 1) == 1)
		syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY);
	return NULL;
}

static int tsync_child(void *arg)
{
	int go[2];
	pthread_t t;

	(void)arg;
	if (pipe(go) || pthread_create(&t, NULL, late_opener, go))
		return NOT_LOADED;
	if (jail_seccomp_apply())
		return NOT_LOADED;
	if (write(go[1], "x", 1) != 1)
		return NOT_LOADED;
	pthread_join(t, NULL);
	return SURVIVED;
}

static void older_threads_filtered_too(void **state)
{
	(void)state;
	assert_sigsys(in_child(tsync_child, NULL));
}

/* ---- the filter: what the run needs still works ---- */

struct allowed_fx {
	int pipe[2];
	int dev_null;
};

static void *thread_writes(void *arg)
{
	struct allowed_fx *f = arg;
	void *p = malloc(1 << 20);	/* a thread arena: mmap, mprotect */

	free(p);
	return write(f->pipe[1], "t", 1) == 1 ? arg : NULL;
}

/* Each check returns its own number on failure, so the exit status names it. */
static int allowed_io(struct allowed_fx *f)
{
	uint64_t v = 1;
	char c;
	int efd;

	if (write(f->pipe[1], "x", 1) != 1 || read(f->pipe[0], &c, 1) != 1 || c != 'x')
		return 1;
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0 || write(efd, &v, 8) != 8 || read(efd, &v, 8) != 8 || close(efd))
		return 2;
	/* An allowed request on the wrong fd fails as the kernel says, and the high bits do not count. */
	if (ioctl(f->dev_null, KVM_RUN, 0) != -1 || errno != ENOTTY)
		return 3;
	if (syscall(SYS_ioctl, f->dev_null, (unsigned long)KVM_RUN | (1ul << 32), 0) != -1 || errno != ENOTTY)
		return 4;
	/* --viommu: the guest's MAP and UNMAP requests become these two at run time. */
	if (ioctl(f->dev_null, VFIO_IOMMU_MAP_DMA, NULL) != -1 || errno != ENOTTY)
		return 5;
	if (ioctl(f->dev_null, VFIO_IOMMU_UNMAP_DMA, NULL) != -1 || errno != ENOTTY)
		return 6;
	return 0;
}

static int allowed_memory_threads(struct allowed_fx *f)
{
	struct timespec ts = { 0, 1000 };
	pthread_t t;
	void *ret = NULL;
	char *p, *q, c;

	p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || (p[4096] = 1, munmap(p, 1 << 20)))
		return 10;
	p = malloc(256 << 10);
	q = p ? realloc(p, 1 << 20) : NULL;	/* a large realloc: mremap */
	if (!q)
		return 11;
	free(q);
	if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
		return 12;	/* so glibc falls back to clone, whose flags the filter reads */
	if (pthread_create(&t, NULL, thread_writes, f) || pthread_join(t, &ret) || ret != f)
		return 13;
	if (read(f->pipe[0], &c, 1) != 1 || c != 't')
		return 14;
	if (syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), 0) || nanosleep(&ts, NULL))
		return 15;
	if (pthread_setname_np(pthread_self(), "sluice-test"))	/* a worker names itself */
		return 16;
	return 0;
}

static int allowed_waiting(struct allowed_fx *f)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct pollfd p = { .fd = f->pipe[0], .events = POLLIN };
	struct timespec ts;
	struct stat st;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, f->pipe[0], &ev) || epoll_wait(ep, &ev, 1, 0) != 0)
		return 20;
	close(ep);
	if (poll(&p, 1, 0) != 0 || syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts))
		return 21;
	if (fstat(f->pipe[0], &st) || !S_ISFIFO(st.st_mode))
		return 22;
	fprintf(stderr, "%s", "");	/* stdio on stderr */
	return 0;
}

static int allowed_child(void *arg)
{
	struct allowed_fx *f = arg;
	int err;

	if (jail_seccomp_apply())
		return NOT_LOADED;
	if ((err = allowed_io(f)) || (err = allowed_memory_threads(f)) || (err = allowed_waiting(f)))
		return err;
	return 0;
}

static void allowed_calls_work(void **state)
{
	struct allowed_fx f;

	(void)state;
	assert_int_equal(pipe2(f.pipe, O_CLOEXEC), 0);
	f.dev_null = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_true(f.dev_null >= 0);
	assert_exit(in_child(allowed_child, &f), 0);
	close(f.pipe[0]);
	close(f.pipe[1]);
	close(f.dev_null);
}

/* ---- jail_check ---- */

struct dir_fx {
	char tmp[64];
	char path[128];
};

static int dir_setup(void **state)
{
	struct dir_fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->tmp, sizeof(f->tmp), "/tmp/sluice-test-jail-XXXXXX");
	if (!mkdtemp(f->tmp))
		return -1;
	*state = f;
	return 0;
}

static int dir_teardown(void **state)
{
	struct dir_fx *f = *state;
	char path[160];

	snprintf(path, sizeof(path), "%s/jail", f->tmp);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/file", f->tmp);
	unlink(path);
	rmdir(f->tmp);
	free(f);
	return 0;
}

static int check(struct jail *j, const char *user, const char *dir)
{
	const struct jail_config cfg = { .enabled = true, .user = user, .dir = dir };

	return jail_check(j, &cfg, "test-vm");
}

static void check_refuses_users(void **state)
{
	struct dir_fx *f = *state;
	struct jail j;

	assert_int_equal(check(&j, "sluice-no-such-user-test", f->tmp), -EINVAL);
	assert_int_equal(check(&j, "0", f->tmp), -EINVAL);
	assert_int_equal(check(&j, "root", f->tmp), -EINVAL);
	assert_int_equal(check(&j, "", f->tmp), -EINVAL);
}

static void check_resolves_users(void **state)
{
	struct dir_fx *f = *state;
	struct passwd *pw;
	struct jail j;

	/* A number without a passwd entry is that uid, with the same number as its group. */
	if (!getpwuid(4242)) {
		assert_int_equal(check(&j, TEST_UID, f->tmp), 0);
		assert_int_equal(j.uid, 4242);
		assert_int_equal(j.gid, 4242);
	}
	pw = getpwnam("nobody");
	if (pw) {
		assert_int_equal(check(&j, "nobody", f->tmp), 0);
		assert_int_equal(j.uid, pw->pw_uid);
		assert_int_equal(j.gid, pw->pw_gid);
	}
	/* The default: "sluice" if it exists, else "nobody", else a refusal. */
	pw = getpwnam(JAIL_DEFAULT_USER);
	if (!pw)
		pw = getpwnam(JAIL_FALLBACK_USER);
	if (!pw) {
		assert_int_equal(check(&j, NULL, f->tmp), -EINVAL);
		return;
	}
	assert_int_equal(check(&j, NULL, f->tmp), 0);
	assert_int_equal(j.uid, pw->pw_uid);
	assert_int_equal(j.gid, pw->pw_gid);
}

static void check_dirs(void **state)
{
	struct dir_fx *f = *state;
	struct stat st;
	struct jail j;
	int fd;

	/* Missing but makeable: accepted, and not made (phase 2 changes nothing). */
	snprintf(f->path, sizeof(f->path), "%s/jail", f->tmp);
	assert_int_equal(check(&j, TEST_UID, f->path), 0);
	assert_int_equal(j.dir_missing, 1);
	assert_int_equal(stat(f->path, &st), -1);
	assert_int_equal(check(&j, TEST_UID, f->tmp), 0);
	assert_int_equal(j.dir_missing, 0);
	/* Trailing slashes go: the parent is one cut away. */
	snprintf(f->path, sizeof(f->path), "%s/jail//", f->tmp);
	assert_int_equal(check(&j, TEST_UID, f->path), 0);
	snprintf(f->path, sizeof(f->path), "%s/jail", f->tmp);
	assert_string_equal(j.dir, f->path);
	/* The parent missing too. */
	snprintf(f->path, sizeof(f->path), "%s/missing/jail", f->tmp);
	assert_int_equal(check(&j, TEST_UID, f->path), -ENOENT);
	/* A regular file, itself or as the parent. */
	snprintf(f->path, sizeof(f->path), "%s/file", f->tmp);
	fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(check(&j, TEST_UID, f->path), -ENOTDIR);
	snprintf(f->path, sizeof(f->path), "%s/file/jail", f->tmp);
	assert_int_equal(check(&j, TEST_UID, f->path), -ENOTDIR);
	/* Relative, or the root itself. */
	assert_int_equal(check(&j, TEST_UID, "jail"), -EINVAL);
	assert_int_equal(check(&j, TEST_UID, "/"), -EINVAL);
}

static void check_disabled_checks_nothing(void **state)
{
	const struct jail_config cfg = { .enabled = false, .user = "0", .dir = "relative" };
	struct jail j;

	(void)state;
	assert_int_equal(jail_check(&j, &cfg, "test-vm"), 0);
	assert_int_equal(j.alive_rd, -1);
	assert_int_equal(j.crash_wr, -1);
	jail_release(&j);
}

/* ---- jail_prepare, the crash pipe, jail_release ---- */

static bool cloexec(int fd)
{
	return (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
}

static void prepare_makes_dir_and_pipes(void **state)
{
	struct dir_fx *f = *state;
	struct stat st;
	struct jail j;
	mode_t old = umask(077);

	snprintf(f->path, sizeof(f->path), "%s/jail", f->tmp);
	assert_int_equal(check(&j, TEST_UID, f->path), 0);
	assert_int_equal(jail_prepare(&j), 0);
	umask(old);
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_true(cloexec(j.alive_rd) && cloexec(j.alive_wr) && cloexec(j.crash_rd) && cloexec(j.crash_wr));
	/* Nothing reported: 0 at once (non-blocking); then the number the handler writes. */
	assert_int_equal(jail_crash_signal(&j), 0);
	assert_int_equal(write(j.crash_wr, "\x0b", 1), 1);
	assert_int_equal(jail_crash_signal(&j), SIGSEGV);
	jail_release(&j);
	assert_int_equal(j.alive_rd, -1);
	assert_int_equal(j.crash_rd, -1);
	jail_release(&j);
	assert_int_equal(jail_crash_signal(&j), 0);
}

/* ---- a VMM-like child: jail_spawn, a ready pipe to us, a go pipe from us ---- */

struct vmm_fx {
	struct jail j;
	int ready[2], go[2];
	pid_t pid;
};

/* 0 or -errno (no asserts: a child uses it too); the VMM-like child runs @child and exits with its result. */
static int vmm_start(struct vmm_fx *v, bool jailed, const char *dir, int (*child)(struct vmm_fx *))
{
	const struct jail_config cfg = { .enabled = jailed, .user = TEST_UID, .dir = dir };
	struct rlimit none = { 0, 0 };
	int err;

	if ((err = jail_check(&v->j, &cfg, "test-vm")) || (err = jail_prepare(&v->j)))
		return err;
	if (pipe2(v->ready, O_CLOEXEC) || pipe2(v->go, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	v->pid = jail_spawn(&v->j);
	if (v->pid == 0) {
		close(v->ready[0]);
		close(v->go[1]);
		setrlimit(RLIMIT_CORE, &none);
		_exit(child(v));
	}
	close(v->ready[1]);
	close(v->go[0]);
	if (v->pid < 0) {
		close(v->ready[0]);
		close(v->go[1]);
		jail_release(&v->j);
		return v->pid;
	}
	return 0;
}

/* Read exactly @len bytes the child sends when it is ready; false if it died first. */
static bool vmm_ready(struct vmm_fx *v, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len && (n = read(v->ready[0], (char *)buf + got, len - got)) > 0)
		got += (size_t)n;
	return got == len;
}

/* Let the child go on (EOF on its go pipe) and reap it; its wait status. */
static int vmm_wait(struct vmm_fx *v)
{
	int status;

	close(v->go[1]);
	assert_int_equal(waitpid(v->pid, &status, 0), v->pid);
	close(v->ready[0]);
	return status;
}

static int wait_go(struct vmm_fx *v)
{
	char c;

	return read(v->go[0], &c, 1) < 0 ? 95 : 0;
}

static int child_enter_ready_wait_once(struct vmm_fx *v)
{
	int keep[] = { v->ready[1], v->go[0] };

	if (jail_close_fds(&v->j, keep, 2))
		return 90;
	if (jail_enter(&v->j, "test-vm"))
		return 91;
	return write(v->ready[1], "r", 1) == 1 ? 0 : 92;
}

static int child_enter_ready_wait(struct vmm_fx *v)
{
	int err = child_enter_ready_wait_once(v);

	return err ? err : wait_go(v);
}

/* ---- jail_close_fds ---- */

static int child_close_fds(struct vmm_fx *v)
{
	int fds[5], keep[4], allowed[8], nallowed = 0, i, fd, seen = 0;
	struct dirent *e;
	DIR *d;

	for (i = 0; i < 5; i++)
		fds[i] = open("/dev/null", O_RDONLY);	/* not O_CLOEXEC: as a leak would be */
	keep[0] = fds[2];
	keep[1] = -1;
	keep[2] = fds[2];
	keep[3] = dup2(fds[0], 700);			/* far past a gap */
	if (dup2(fds[0], 650) != 650 || jail_close_fds(&v->j, keep, 4))
		return 1;
	allowed[nallowed++] = v->j.alive_rd;
	allowed[nallowed++] = v->j.crash_wr;
	allowed[nallowed++] = fds[2];
	allowed[nallowed++] = 700;
	d = opendir("/proc/self/fd");
	if (!d)
		return 2;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || (fd = atoi(e->d_name)) == dirfd(d) || fd <= 2)
			continue;
		for (i = 0; i < nallowed && allowed[i] != fd; i++)
			;
		if (i == nallowed)
			return 3;	/* an fd that should be closed */
		seen |= 1 << i;
	}
	closedir(d);
	return seen == (1 << nallowed) - 1 ? 0 : 4;	/* each kept one is still there */
}

static void close_fds_keeps_exactly(void **state)
{
	struct vmm_fx v;

	(void)state;
	assert_int_equal(vmm_start(&v, false, NULL, child_close_fds), 0);
	/* The parent's side holds the other ends. */
	assert_int_equal(v.j.alive_rd, -1);
	assert_int_equal(v.j.crash_wr, -1);
	assert_true(v.j.alive_wr >= 0 && v.j.crash_rd >= 0);
	assert_exit(vmm_wait(&v), 0);
	jail_release(&v.j);
}

/* ---- crash handlers, the alive pipe, the parent-death signal (no jail, no root) ---- */

static int child_aborts(struct vmm_fx *v)
{
	if (jail_enter(&v->j, "test-vm"))
		return 91;
	abort();
}

static void crash_reported(void **state)
{
	struct vmm_fx v;
	char c;

	(void)state;
	assert_int_equal(vmm_start(&v, false, NULL, child_enter_ready_wait), 0);
	assert_true(vmm_ready(&v, &c, 1));
	kill(v.pid, SIGSEGV);
	assert_exit(vmm_wait(&v), 128 + SIGSEGV);
	assert_int_equal(jail_crash_signal(&v.j), SIGSEGV);
	jail_release(&v.j);

	assert_int_equal(vmm_start(&v, false, NULL, child_aborts), 0);
	assert_exit(vmm_wait(&v), 128 + SIGABRT);
	assert_int_equal(jail_crash_signal(&v.j), SIGABRT);
	jail_release(&v.j);
}

static int child_enter_after_go(struct vmm_fx *v)
{
	if (wait_go(v))
		return 95;
	return jail_enter(&v->j, "test-vm") == -ESRCH ? 0 : 96;
}

static void monitor_gone_refused(void **state)
{
	struct vmm_fx v;

	(void)state;
	assert_int_equal(vmm_start(&v, false, NULL, child_enter_after_go), 0);
	close(v.j.alive_wr);	/* the monitor's end: as if it had died */
	v.j.alive_wr = -1;
	assert_exit(vmm_wait(&v), 0);
	jail_release(&v.j);
}

/* Only a signal ends it: the go pipe would see EOF when the monitor dies, too. */
static int child_enter_ready_pause(struct vmm_fx *v)
{
	int err = child_enter_ready_wait_once(v);

	if (err)
		return err;
	for (;;)
		poll(NULL, 0, -1);	/* pause(2) is not on the allowlist */
}

struct death_fx {
	int to_us[2];
	const char *dir;	/* NULL: no jail */
};

/* A monitor that spawns a VMM, tells us its pid and dies; we are the VMM's subreaper. */
static int monitor_dies(void *arg)
{
	struct death_fx *d = arg;
	struct vmm_fx v;
	char c;

	if (vmm_start(&v, d->dir != NULL, d->dir, child_enter_ready_pause) || !vmm_ready(&v, &c, 1))
		return 1;
	if (write(d->to_us[1], &v.pid, sizeof(v.pid)) != sizeof(v.pid))
		return 2;
	return 0;	/* and _exit */
}

static bool reap_within(pid_t pid, int ms, int *status)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };

	for (; ms > 0; ms -= 10) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return true;
		nanosleep(&tick, NULL);
	}
	return false;
}

static int pdeathsig_child(void *arg)
{
	struct death_fx *d = arg;
	int status;
	pid_t vmm;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1) || pipe(d->to_us))
		return 10;
	status = run_child(monitor_dies, d);
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) ||
	    read(d->to_us[0], &vmm, sizeof(vmm)) != sizeof(vmm))
		return 11;
	if (!reap_within(vmm, 5000, &status)) {
		kill(vmm, SIGKILL);	/* it outlived its monitor: the test fails, and ends */
		waitpid(vmm, &status, 0);
		return 13;
	}
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? 0 : 12;
}

static void dies_with_monitor(void **state)
{
	struct death_fx d = { .dir = NULL };

	(void)state;
	assert_exit(in_child(pdeathsig_child, &d), 0);
}

/* ---- as root: the whole jail, seen from inside and from outside ---- */

struct report {
	pid_t pid;
	int fds[6];
	char hostname[64];
	char status[3000];
};

static int child_reports(struct vmm_fx *v)
{
	static struct report r;
	int status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	int host_fd = open("/proc/sys/kernel/hostname", O_RDONLY | O_CLOEXEC);
	int keep[] = { v->ready[1], v->go[0], status_fd, host_fd };
	ssize_t n;

	if (status_fd < 0 || host_fd < 0 || jail_close_fds(&v->j, keep, 4))
		return 90;
	if (jail_enter(&v->j, "test-vm"))
		return 91;
	/* procfs answers for the reader at read time: the jailed, filtered process. */
	r = (struct report){ .pid = getpid(),
			     .fds = { v->j.alive_rd, v->j.crash_wr, v->ready[1], v->go[0], status_fd, host_fd } };
	n = pread(status_fd, r.status, sizeof(r.status) - 1, 0);
	if (n <= 0 || pread(host_fd, r.hostname, sizeof(r.hostname) - 1, 0) <= 0)
		return 93;
	if (write(v->ready[1], &r, sizeof(r)) != sizeof(r))
		return 94;
	return wait_go(v);
}

/* The value after "\nKEY:\t" in /proc/PID/status text. */
static void assert_status(const char *status, const char *key, const char *want)
{
	char pat[32], got[32] = "";
	const char *p;

	snprintf(pat, sizeof(pat), "\n%s:\t", key);
	p = strstr(status, pat);
	if (p)
		sscanf(p + strlen(pat), "%31[^\n]", got);
	assert_string_equal(got, want);
}

static void assert_inside(const struct report *r)
{
	static const char *const caps[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
	unsigned i;

	assert_int_equal(r->pid, 1);
	assert_string_equal(r->hostname, JAIL_HOSTNAME "\n");
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		assert_status(r->status, caps[i], "0000000000000000");
	assert_status(r->status, "NoNewPrivs", "1");
	assert_status(r->status, "Seccomp", "2");
	/* Real, effective, saved and filesystem ids alike (getuid is not on the allowlist). */
	assert_status(r->status, "Uid", TEST_UID "\t" TEST_UID "\t" TEST_UID "\t" TEST_UID);
	assert_status(r->status, "Gid", TEST_UID "\t" TEST_UID "\t" TEST_UID "\t" TEST_UID);
}

/* From the host: an empty root, a tmpfs one read-only, and only the fds it kept. */
static void assert_outside(pid_t pid, const struct report *r)
{
	char path[64], line[512];
	struct dirent *e;
	bool tmpfs_root = false;
	int entries = 0, fd, i;
	FILE *f;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	assert_non_null(d = opendir(path));
	while ((e = readdir(d)))
		entries += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	assert_int_equal(entries, 0);
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
	assert_non_null(f = fopen(path, "re"));
	while (fgets(line, sizeof(line), f))
		tmpfs_root |= strstr(line, " / / ro,") && strstr(line, " - tmpfs ");
	fclose(f);
	assert_true(tmpfs_root);
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	assert_non_null(d = opendir(path));
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || (fd = atoi(e->d_name)) <= 2)
			continue;
		for (i = 0; i < 6 && r->fds[i] != fd; i++)
			;
		if (i == 6)
			fail_msg("the jailed child holds fd %d, which it did not keep", fd);
	}
	closedir(d);
}

/* The jail's mount happened in the child's namespace only. */
static void assert_host_mounts_untouched(const char *dir)
{
	char line[1024];
	FILE *f = fopen("/proc/self/mountinfo", "re");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, dir))
			fail_msg("the host's mount table has the jail directory: %s", line);
	fclose(f);
}

static bool jailed_start(struct vmm_fx *v, struct dir_fx *f, int (*child)(struct vmm_fx *))
{
	int err;

	if (geteuid() != 0)
		return false;
	snprintf(f->path, sizeof(f->path), "%s/jail", f->tmp);
	err = vmm_start(v, true, f->path, child);
	if (err == -EPERM)
		return false;	/* root without CAP_SYS_ADMIN (a container): no namespaces to test */
	assert_int_equal(err, 0);
	return true;
}

static void jailed_from_inside_and_outside(void **state)
{
	struct dir_fx *f = *state;
	struct report r;
	struct vmm_fx v;

	if (!jailed_start(&v, f, child_reports))
		skip();
	if (!vmm_ready(&v, &r, sizeof(r)))
		assert_exit(vmm_wait(&v), 0);	/* says how it died */
	assert_inside(&r);
	assert_outside(v.pid, &r);
	assert_host_mounts_untouched(f->path);
	assert_exit(vmm_wait(&v), 0);
	assert_int_equal(jail_crash_signal(&v.j), 0);
	jail_release(&v.j);
}

/* PID 1 ignores a SIGSEGV it has no handler for; the crash handler makes it count. */
static void jailed_signals(void **state)
{
	struct dir_fx *f = *state;
	struct vmm_fx v;
	int status;
	char c;

	if (!jailed_start(&v, f, child_enter_ready_wait))
		skip();
	assert_true(vmm_ready(&v, &c, 1));
	kill(v.pid, SIGSEGV);
	assert_exit(vmm_wait(&v), 128 + SIGSEGV);
	assert_int_equal(jail_crash_signal(&v.j), SIGSEGV);
	jail_release(&v.j);

	assert_true(jailed_start(&v, f, child_enter_ready_wait));
	assert_true(vmm_ready(&v, &c, 1));
	kill(v.pid, SIGKILL);
	status = vmm_wait(&v);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_int_equal(jail_crash_signal(&v.j), 0);
	jail_release(&v.j);
}

static int child_ready_no_handlers(struct vmm_fx *v)
{
	signal(SIGSEGV, SIG_DFL);	/* cmocka's own handler came along with the fork */
	if (write(v->ready[1], "r", 1) != 1)
		return 92;
	return wait_go(v);
}

/* The control for jailed_signals: without jail_enter, PID 1 shrugs SIGSEGV off. */
static void pid1_ignores_unhandled(void **state)
{
	struct dir_fx *f = *state;
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	struct vmm_fx v;
	int status;
	char c;

	if (!jailed_start(&v, f, child_ready_no_handlers))
		skip();
	assert_true(vmm_ready(&v, &c, 1));
	kill(v.pid, SIGSEGV);
	nanosleep(&ts, NULL);
	assert_int_equal(waitpid(v.pid, &status, WNOHANG), 0);
	assert_exit(vmm_wait(&v), 0);
	jail_release(&v.j);
}

/* PID 1 too: the parent-death SIGKILL comes from an ancestor namespace, which PID 1 cannot ignore. */
static void jailed_dies_with_monitor(void **state)
{
	struct dir_fx *f = *state;
	struct death_fx d = { .dir = f->path };
	struct vmm_fx v;

	if (!jailed_start(&v, f, child_enter_ready_wait))
		skip();	/* the probe spawn, reaped at once: only to learn the jail works here */
	assert_exit(vmm_wait(&v), 0);
	jail_release(&v.j);
	assert_exit(in_child(pdeathsig_child, &d), 0);
}

static int child_opens_after_enter(struct vmm_fx *v)
{
	if (jail_enter(&v->j, "test-vm"))
		return 91;
	syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY);
	return 0;
}

static void jailed_forbidden_call_kills(void **state)
{
	struct dir_fx *f = *state;
	struct vmm_fx v;

	if (!jailed_start(&v, f, child_opens_after_enter))
		skip();
	assert_sigsys(vmm_wait(&v));
	assert_int_equal(jail_crash_signal(&v.j), 0);
	jail_release(&v.j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(forbidden_calls_kill),
		cmocka_unit_test(older_threads_filtered_too),
		cmocka_unit_test(allowed_calls_work),
		cmocka_unit_test_setup_teardown(check_refuses_users, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(check_resolves_users, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(check_dirs, dir_setup, dir_teardown),
		cmocka_unit_test(check_disabled_checks_nothing),
		cmocka_unit_test_setup_teardown(prepare_makes_dir_and_pipes, dir_setup, dir_teardown),
		cmocka_unit_test(close_fds_keeps_exactly),
		cmocka_unit_test(crash_reported),
		cmocka_unit_test(monitor_gone_refused),
		cmocka_unit_test(dies_with_monitor),
		cmocka_unit_test_setup_teardown(jailed_from_inside_and_outside, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(jailed_signals, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(pid1_ignores_unhandled, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(jailed_forbidden_call_kills, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(jailed_dies_with_monitor, dir_setup, dir_teardown),
	};

	return cmocka_run_group_tests_name("jail", tests, NULL, NULL);
}
